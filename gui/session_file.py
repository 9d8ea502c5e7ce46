"""Recorded runs: the ``.session`` file format (no Qt here).

A session file is a ZIP archive (deflate-compressed) holding exactly:

``meta.json``
    ``{"format": "heapscope-session", "version": 1 or 2, "created": ISO time,
    "input": {"name", "bytes", "sha256"}, "config": {strategy, heap_size, pool_size,
    batch_size, block_size}, "result": {...RunResult.as_dict()...}, "counter_names": [...],
    "heap_cells": int, "slot_count": int, "pool_reserved": int,
    "recording": {"thinned", "thinning_note", "frame_stride", "cell_group", "max_bytes"}}``
``series.npy``
    float64, one row per sample: ``time_s`` then every counter in
    ``counter_names`` order.
``frame_times.npy``
    float64 seconds since the run started, one per heap-map frame, in order.
``heap_states.npy``, ``heap_owners.npy``
    uint8, (frames, ceil(heap_cells / cell_group)); frame 0 as recorded, every later
    frame XORed with the one before it (a run changes few cells between frames, so the
    differences compress to almost nothing).  ``cell_group`` is 1 (version 1 files)
    unless the heap was too big to record in full: then each stored value stands for
    ``cell_group`` cells (version 2, see :class:`SessionRecorder`).

A session file comes from someone else.  Reading never unpickles and never
executes anything, and checks everything before using it (see
:mod:`gui.session_read` and :mod:`gui.session_validate`): a damaged, truncated,
foreign, oversized or newer file raises :class:`SessionError` -- and nothing
else -- with a one-line message.
"""

from __future__ import annotations

import dataclasses
import datetime
import errno
import hashlib
import io
import json
import math
import os
import pathlib
import tempfile
import zipfile

import numpy as np

from engine import OWNER_COORDINATOR, OWNER_NONE, CellState
from gui import session_read as read
from gui.file_modes import shared_file_mode
from gui.inputs import shown_path
from gui.session_validate import (
    FORMAT_NAME,
    FORMAT_VERSION,
    SessionError,
    check_frame_times,
    check_header,
    check_meta,
    check_series,
    decode_frames,
    owner_ok_table,
    parse_meta,
)

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "MAX_FRAMES",
    "RECORDING_BYTES",
    "SUFFIX",
    "CellFrames",
    "Session",
    "SessionError",
    "SessionRecorder",
    "file_identity",
    "load_session",
    "save_session",
]

SUFFIX = ".session"
#: Frames kept per run; past this the recorder keeps every other frame (time resolution,
#: not memory: this alone does not mark a recording as thinned).
MAX_FRAMES = 1200
#: Default byte cap of a recorder's heap-map frames (states, owners and times).
RECORDING_BYTES = 256 << 20
#: A recorder stores frames of at most max_bytes / (2 * MIN_FULL_FRAMES) cells, so at
#: least this many frames fit in its budget before any is dropped.
MIN_FULL_FRAMES = 64
_MEMBERS = read.MEMBERS

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


def _mib(n: int) -> str:
    return f"{n / (1 << 20):g} MiB"


class SessionRecorder:
    """Collects heap-map frames during a run; :meth:`finish` makes the Session.

    Memory is capped in bytes: the frames (states, owners, times) never take more
    than ``max_bytes`` (:attr:`nbytes`).  Two things keep them there:

    * a heap bigger than ``max_bytes / (2 * MIN_FULL_FRAMES)`` cells is recorded at one
      value per group of cells (the group's highest CellState, with its owner): with
      the default 256 MiB budget a 256 MiB heap (16 Mi cells) keeps 1 value per 8 cells
      (2 Mi values, 4 MiB a frame, 63 frames) and a 64 MiB heap 1 per 2;
    * when the next frame would not fit, every other frame is dropped (the first and
      the newest are kept) and later frames closer together than the kept spacing
      replace the newest instead of being added.

    Either sets :attr:`thinned`, and :attr:`thinning_note` says what was kept (one line,
    for the UI); both also go into the session's ``meta["recording"]``.  Past
    :data:`MAX_FRAMES` frames the recorder thins the same way to bound time resolution,
    which is not reported.
    """

    def __init__(self, heap_cells: int, max_bytes: int = RECORDING_BYTES):
        if max_bytes < 4096:
            raise ValueError(f"a recording needs at least 4096 bytes (got {max_bytes})")
        self.heap_cells = int(heap_cells)
        self.max_bytes = int(max_bytes)
        cells_cap = max(1, self.max_bytes // (2 * MIN_FULL_FRAMES))
        self.cell_group = max(1, math.ceil(self.heap_cells / cells_cap))
        self.stored_cells = math.ceil(self.heap_cells / self.cell_group)
        self._frame_bytes = 2 * self.stored_cells + 8
        by_bytes = self.max_bytes // self._frame_bytes
        self._capacity = max(2, min(MAX_FRAMES, by_bytes))
        self._bytes_bound = by_bytes < MAX_FRAMES
        self._starts = np.arange(0, self.heap_cells, self.cell_group, dtype=np.intp)
        self.frames_seen = 0  # frames offered to add_frame
        self._frames_dropped = False  # by the byte cap (not just MAX_FRAMES)
        self._times: list[float] = []
        self._states: list[np.ndarray] = []
        self._owners: list[np.ndarray] = []
        self._min_gap = 0.0
        self._update_note()

    def _update_note(self) -> None:
        # Plain attributes, not properties: the UI reads them (and its tests set them).
        kept = []
        if self.cell_group > 1:
            kept.append(f"1 heap-map value per {self.cell_group} cells")
        if self._frames_dropped:
            kept.append(f"{len(self._times)} of {self.frames_seen} frames")
        self.thinned: bool = bool(kept)
        self.thinning_note: str = (
            f"kept {' and '.join(kept)} to stay within {_mib(self.max_bytes)}" if kept else ""
        )

    @property
    def nbytes(self) -> int:
        """Bytes the recorded frames take (never more than ``max_bytes``)."""
        return (
            sum(a.nbytes for a in self._states)
            + sum(a.nbytes for a in self._owners)
            + 8 * len(self._times)
        )

    @property
    def frame_count(self) -> int:
        return len(self._times)

    def add_frame(self, t: float, states: np.ndarray | None, owners: np.ndarray | None) -> None:
        if (
            states is None
            or owners is None
            or len(states) != self.heap_cells
            or len(owners) != self.heap_cells
            or not math.isfinite(t)
        ):
            return
        # Times only go forward: the final frame's wall_s may be a hair before the
        # last timer frame's elapsed time.
        t = max(float(t), self._times[-1]) if self._times else max(float(t), 0.0)
        self.frames_seen += 1
        if len(self._times) >= 2 and t - self._times[-2] < self._min_gap:
            self._store(t, states, owners, replace=True)  # the newest frame is always kept
            return
        if len(self._times) >= self._capacity:
            self._thin()
        self._store(t, states, owners, replace=False)

    def _thin(self) -> None:
        n = len(self._times)
        keep = list(range(0, n - 1, 2)) + [n - 1]
        self._times = [self._times[i] for i in keep]
        self._states = [self._states[i] for i in keep]
        self._owners = [self._owners[i] for i in keep]
        self._min_gap = (self._times[-1] - self._times[0]) / (self._capacity / 2)
        self._frames_dropped = self._frames_dropped or self._bytes_bound

    def _store(self, t: float, states, owners, replace: bool) -> None:
        s, o = self._reduce(states, owners)
        if replace:
            self._times[-1], self._states[-1], self._owners[-1] = t, s, o
        else:
            self._times.append(t)
            self._states.append(s)
            self._owners.append(o)
        if self._frames_dropped:
            self._update_note()  # "kept N of M frames" changes with every frame

    def _reduce(self, states, owners) -> tuple[np.ndarray, np.ndarray]:
        if self.cell_group == 1:
            return (
                np.array(states, dtype=np.uint8, copy=True),
                np.array(owners, dtype=np.uint8, copy=True),
            )
        states = np.asarray(states, dtype=np.uint8)
        owners = np.asarray(owners, dtype=np.uint8)
        out_s = np.empty(self.stored_cells, dtype=np.uint8)
        out_o = np.empty(self.stored_cells, dtype=np.uint8)
        # In slices of whole groups, so the uint16 keys stay a few MB whatever the heap.
        step = max(1, (1 << 20) // self.cell_group)
        for first in range(0, self.stored_cells, step):
            starts = self._starts[first : first + step]
            a = int(starts[0])
            b = min(self.heap_cells, int(starts[-1]) + self.cell_group)
            key = states[a:b].astype(np.uint16)
            key <<= 8
            key |= owners[a:b]
            best = np.maximum.reduceat(key, starts - a)
            out_o[first : first + len(starts)] = best  # the low byte: the owner
            best >>= 8
            out_s[first : first + len(starts)] = best
        return out_s, out_o

    def finish(
        self,
        *,
        input_identity: dict,
        config: dict,
        result: dict,
        series: dict[str, np.ndarray],
        slot_count: int,
        pool_reserved: int,
    ) -> Session:
        names = [k for k in series if k != "time_s"]
        downsampled = self.cell_group > 1
        meta = {
            "format": FORMAT_NAME,
            "version": 2 if downsampled else 1,  # version 1 readers read the rest
            "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "input": input_identity,
            "config": config,
            "result": result,
            "counter_names": names,
            "heap_cells": self.heap_cells,
            "slot_count": slot_count,
            "pool_reserved": pool_reserved,
            "recording": {
                "thinned": self.thinned,
                "thinning_note": self.thinning_note,
                "frames_seen": self.frames_seen,
                "max_bytes": self.max_bytes,
                **({"cell_group": self.cell_group} if downsampled else {}),
            },
        }
        shape = (0, self.stored_cells)
        stored_states = np.stack(self._states) if self._states else np.zeros(shape, np.uint8)
        stored_owners = np.stack(self._owners) if self._owners else np.zeros(shape, np.uint8)
        states: np.ndarray | CellFrames = stored_states
        owners: np.ndarray | CellFrames = stored_owners
        if downsampled:
            states = CellFrames(stored_states, self.cell_group, self.heap_cells)
            owners = CellFrames(stored_owners, self.cell_group, self.heap_cells)
        return Session(
            meta=meta,
            series={k: np.asarray(v) for k, v in series.items()},
            frame_times=np.array(self._times, dtype=np.float64),
            heap_states=states,
            heap_owners=owners,
        )


# ------------------------------------------------------------------ saving


def _delta_encode(frames: np.ndarray) -> np.ndarray:
    out = frames.copy()
    out[1:] ^= frames[:-1]
    return out


def _npy_bytes(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=False)
    return buf.getvalue()


def _stored(frames) -> np.ndarray:
    return frames.stored if isinstance(frames, CellFrames) else np.asarray(frames, np.uint8)


def save_session(session: Session, path: str | os.PathLike) -> pathlib.Path:
    """Writes ``session`` atomically (temporary file in the same folder, then rename).

    The file gets mode 0666 minus the umask (0644 usually): sessions are made to be
    shared.  A path no file can have raises OSError with a one-line reason.
    """
    text = os.fsdecode(os.fspath(path))
    if not text:
        raise OSError(errno.ENOENT, "no file name given")
    if "\0" in text:
        raise OSError(
            errno.EINVAL,
            "the path contains a NUL byte, which no file name can hold",
            shown_path(text.replace("\0", "?")),
        )
    path = pathlib.Path(text)
    names = session.meta["counter_names"]
    columns = [session.series["time_s"]] + [session.series[n] for n in names]
    series = (
        np.column_stack([np.asarray(c, dtype=np.float64) for c in columns])
        if len(columns[0])
        else np.zeros((0, 1 + len(names)))
    )
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, shared_file_mode())  # mkstemp makes it 0600
        with os.fdopen(fd, "wb") as raw, zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("meta.json", json.dumps(session.meta, indent=1, allow_nan=False))
            zf.writestr("series.npy", _npy_bytes(series))
            zf.writestr("frame_times.npy", _npy_bytes(session.frame_times.astype(np.float64)))
            zf.writestr("heap_states.npy", _npy_bytes(_delta_encode(_stored(session.heap_states))))
            zf.writestr("heap_owners.npy", _npy_bytes(_delta_encode(_stored(session.heap_owners))))
        os.replace(tmp, path)
    except BaseException:
        pathlib.Path(tmp).unlink(missing_ok=True)
        raise
    return path


# ------------------------------------------------------------------ loading


def _prefix(path) -> tuple[str, str]:
    """The path as text, and the start of every message about it (one line, whatever it holds)."""
    try:
        text = os.fsdecode(os.fspath(path))
    except TypeError:
        raise SessionError(
            f"cannot open session: the path must be text or path-like (got {type(path).__name__})"
        ) from None
    if not text:
        raise SessionError("cannot open session: no file given (the path is empty)")
    name = text.rstrip("/").rsplit("/", 1)[-1] or text
    shown = shown_path(name.replace("\0", "?"), 120)
    if "\0" in text:
        raise SessionError(
            f"cannot open session '{shown}': the path contains a NUL byte, "
            "which no file name can hold"
        )
    return text, f"cannot open session '{shown}': "


def load_session(path: str | os.PathLike) -> Session:
    """Reads a session file someone else may have crafted.

    Raises
    ------
    SessionError
        Only this, with a one-line reason: missing, not a regular file, truncated or
        damaged, not a session, too big, inconsistent, or a newer version.
    """
    text, prefix = _prefix(path)
    try:
        return _load(text, prefix)
    except SessionError:
        raise
    except MemoryError:
        raise SessionError(f"{prefix}there is not enough memory to load it") from None
    except Exception as exc:  # noqa: BLE001 -- the promise is SessionError and nothing else
        raise SessionError(f"{prefix}the file is damaged ({type(exc).__name__})") from None


def _load(path: str, prefix: str) -> Session:
    with os.fdopen(read.open_regular(path, prefix), "rb") as f:
        read.check_end_record(f, os.fstat(f.fileno()).st_size, prefix)
        try:
            zf = zipfile.ZipFile(f)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError):
            raise SessionError(
                f"{prefix}not a heapscope session, or the file is truncated"
            ) from None
        with zf:
            infos = read.check_names(zf, prefix)
            read.check_member(infos["meta.json"], prefix)
            meta = parse_meta(bytes(read.read_member(zf, infos["meta.json"], prefix)), prefix)
            check_header(meta, prefix)
            missing = [m for m in _MEMBERS if m not in infos]
            if missing:
                raise SessionError(f"{prefix}it is incomplete (missing {', '.join(missing)})")
            for info in infos.values():
                read.check_member(info, prefix)
            read.check_budget(infos, prefix)
            shapes = check_meta(meta, prefix)
            cols = 1 + len(shapes.counter_names)
            series_rows = read.read_npy(
                zf,
                infos["series.npy"],
                prefix,
                "<f8",
                lambda s: (
                    None
                    if len(s) == 2 and s[1] == cols
                    else f"shape {s}, expected (samples, {cols}) for {cols - 1} counters"
                ),
            )
            frame_times = read.read_npy(
                zf,
                infos["frame_times.npy"],
                prefix,
                "<f8",
                lambda s: None if len(s) == 1 else f"shape {s}, expected (frames,)",
            )
            frames = (len(frame_times), shapes.stored_cells)
            heap = {}
            for member in ("heap_states.npy", "heap_owners.npy"):
                heap[member] = read.read_npy(
                    zf,
                    infos[member],
                    prefix,
                    "|u1",
                    lambda s: (
                        None
                        if s == frames
                        else f"shape {s}, expected {frames}: "
                        f"{frames[0]} frames of {frames[1]} cells"
                    ),
                )
    check_series(series_rows, prefix)
    check_frame_times(frame_times, prefix)
    states_ok = np.zeros(256, dtype=bool)
    states_ok[[int(s) for s in CellState]] = True
    decode_frames(
        heap["heap_states.npy"], states_ok, "heap_states.npy", f"0-{max(CellState)}", prefix
    )
    decode_frames(
        heap["heap_owners.npy"],
        owner_ok_table(shapes.slot_count),
        "heap_owners.npy",
        f"0-{shapes.slot_count - 1}, {OWNER_COORDINATOR} or {OWNER_NONE}",
        prefix,
    )
    series = {"time_s": series_rows[:, 0]}
    for i, counter in enumerate(shapes.counter_names):
        series[counter] = series_rows[:, 1 + i]
    stored_states, stored_owners = heap["heap_states.npy"], heap["heap_owners.npy"]
    states: np.ndarray | CellFrames = stored_states
    owners: np.ndarray | CellFrames = stored_owners
    if shapes.cell_group > 1:
        states = CellFrames(stored_states, shapes.cell_group, shapes.heap_cells)
        owners = CellFrames(stored_owners, shapes.cell_group, shapes.heap_cells)
    return Session(
        meta=meta, series=series, frame_times=frame_times, heap_states=states, heap_owners=owners
    )
