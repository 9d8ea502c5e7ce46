"""A recorded run in memory: :class:`Session`, its heap-map frames and the
identity of its input (no Qt, no file format here: see gui/session_file.py)."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import pathlib

import numpy as np

from engine import TIME_STATES, CellState, Timeline
from gui.slow_motion import SpeedLog

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
    #: SlotState per heap-map frame and worker slot, uint8 (frames, slot_count); None in
    #: sessions recorded before version 3 (their replays know no thread states).
    slot_states: np.ndarray | None = None
    #: The run's timeline, thinned for the file; None without telemetry or before version 3.
    timeline: Timeline | None = None
    #: RunResult.slot_times_ns: ns per lane (worker slots, then the coordinator) and
    #: TIME_STATES, uint64; None without telemetry or before version 3.
    slot_times_ns: np.ndarray | None = None

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
    def speeds(self) -> SpeedLog:
        """The speeds the run ran at (version 4 ``slow_motion``; full speed before)."""
        pairs = self.meta.get("slow_motion")
        return SpeedLog.from_meta(pairs) if isinstance(pairs, list) else SpeedLog()

    def fullest_frame(self) -> int:
        """The heap-map frame with the most cells in use (the first of equals; -1
        without frames): a run ends with its heap mostly free again."""
        stored = (
            self.heap_states.stored
            if isinstance(self.heap_states, CellFrames)
            else (self.heap_states)
        )
        if len(stored) == 0:
            return -1
        used = np.array([CellState.GLOBAL, CellState.POOL_USED], dtype=np.uint8)
        counts = [int(np.count_nonzero(np.isin(frame, used))) for frame in stored]
        return int(np.argmax(counts))

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

    def slot_states_at(self, t: float) -> np.ndarray | None:
        """What each worker slot was doing at the heap-map frame shown at ``t``."""
        i = self.frame_at(t)
        if self.slot_states is None or i < 0 or i >= len(self.slot_states):
            return None
        return self.slot_states[i]

    def timeline_until(self, t: float) -> Timeline | None:
        """The timeline's rows sampled at or before ``t`` seconds (the lanes of a replay
        grow as it plays); None when the session has no timeline."""
        timeline = self.timeline
        if timeline is None:
            return None
        k = int(np.searchsorted(timeline.time_s, t, side="right"))
        if k == timeline.rows:
            return timeline
        return Timeline(timeline.time_s[:k], timeline.busy_s[:k])

    def slot_times_at(self, t: float) -> np.ndarray | None:
        """ns per lane and TIME_STATES spent by ``t`` (what ``Run.time_breakdown()``
        said live): the recorded breakdown at the end, else the timeline interpolated."""
        if self.slot_times_ns is not None and t >= self.duration_s:
            return self.slot_times_ns
        if self.timeline is None or self.timeline.rows == 0:
            return None
        ns = self.timeline.cumulative_at(np.array([t]))[0] * 1e9
        assert ns.shape[1] == len(TIME_STATES)
        return np.maximum(ns, 0.0).round().astype(np.uint64)

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
