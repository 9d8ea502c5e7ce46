"""A recorded run in memory: :class:`Session`, its heap-map frames and the
identity of its input (no Qt, no file format here: see gui/session_file.py)."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import pathlib

import numpy as np

from engine import CellState

# Downsampling keeps, for each group of cells, the cell with the highest CellState value,
# and its owner: any used, reserved-pool or sliver cell beats free space, and a header gives
# way to the block it heads.  (The numeric order costs no table look-up: a 256 MiB heap is
# 16 Mi cells per frame.)
assert max(CellState) < 256 and CellState.FREE == min(CellState) == 0


class CellFrames:
    """Heap-map frames stored at one value per ``group`` cells (big heaps).

    Indexing with a frame number gives the whole frame, ``cells`` long (each stored
    value repeated over its group), so a replay draws it like a full-resolution one.
    ``stored`` is the (frames, ceil(cells / group)) array as saved.
    """

    def __init__(self, stored: np.ndarray, group: int, cells: int):
        self.stored, self.group, self.cells = stored, int(group), int(cells)

    def __len__(self) -> int:
        return len(self.stored)

    @property
    def shape(self) -> tuple[int, int]:
        return (len(self.stored), self.cells)

    @property
    def dtype(self) -> np.dtype:
        return self.stored.dtype

    @property
    def nbytes(self) -> int:
        return self.stored.nbytes

    def __getitem__(self, index: int) -> np.ndarray:
        return np.repeat(self.stored[int(index)], self.group)[: self.cells]


@dataclasses.dataclass
class Session:
    """A recorded run, as saved and as loaded."""

    meta: dict
    series: dict[str, np.ndarray]  # "time_s" + every counter
    frame_times: np.ndarray  # float64 (frames,)
    heap_states: np.ndarray | CellFrames  # uint8 (frames, cells), plain (not XORed)
    heap_owners: np.ndarray | CellFrames  # uint8 (frames, cells)

    @property
    def result(self) -> dict:
        return self.meta["result"]

    @property
    def config(self) -> dict:
        return self.meta["config"]

    @property
    def input_name(self) -> str:
        return self.meta["input"]["name"]

    @property
    def duration_s(self) -> float:
        return float(self.meta["result"]["wall_s"])

    @property
    def thinned(self) -> bool:
        recording = self.meta.get("recording")
        return isinstance(recording, dict) and recording.get("thinned") is True

    @property
    def thinning_note(self) -> str:
        recording = self.meta.get("recording")
        note = recording.get("thinning_note", "") if isinstance(recording, dict) else ""
        return note if self.thinned and isinstance(note, str) else ""

    def frame_at(self, t: float) -> int:
        """Index of the last frame recorded at or before ``t`` seconds."""
        if len(self.frame_times) == 0:
            return -1
        return max(0, int(np.searchsorted(self.frame_times, t, side="right")) - 1)

    def series_until(self, t: float) -> dict[str, np.ndarray]:
        """The time series cut at ``t`` seconds (for scrubbing)."""
        n = int(np.searchsorted(self.series["time_s"], t, side="right"))
        return {k: v[:n] for k, v in self.series.items()}


def file_identity(path: str | os.PathLike) -> dict:
    """Name, size and SHA-256 of an input file, read in chunks."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
            size += len(chunk)
    return {"name": pathlib.Path(path).name, "bytes": size, "sha256": digest.hexdigest()}
