"""Recording a live run for a session, within a byte budget (no Qt here).

The recorder keeps heap-map frames as the run goes; big heaps are stored
downsampled and long runs thinned so that a recording never exceeds its
``max_bytes`` (see :class:`SessionRecorder`).
"""

from __future__ import annotations

import datetime
import math

import numpy as np

from engine import TIME_STATES, SlotState, Timeline
from gui.session_model import CellFrames, Session
from gui.session_times import TIMELINE_ROWS
from gui.session_validate import FORMAT_NAME

#: Frames kept per run; past this the recorder keeps every other frame (time resolution,
#: not memory: this alone does not mark a recording as thinned).
MAX_FRAMES = 1200
#: Default byte cap of a recorder's heap-map frames (states, owners and times).
RECORDING_BYTES = 256 << 20
#: A recorder stores frames of at most max_bytes / (2 * MIN_FULL_FRAMES) cells, so at
#: least this many frames fit in its budget before any is dropped.
MIN_FULL_FRAMES = 64


def _mib(n: int) -> str:
    return f"{n / (1 << 20):g} MiB"


class SessionRecorder:
    """Collects heap-map frames during a run; :meth:`finish` makes the Session.

    With ``slot_count`` > 0 each frame also keeps what every worker slot was doing
    (SlotState, a byte per slot), so a replay tells how many threads compute, wait or
    hold the lock; frames offered without slot states record them as idle.

    Memory is capped in bytes: the frames (states, owners, slot states, times) never take more
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

    def __init__(self, heap_cells: int, max_bytes: int = RECORDING_BYTES, slot_count: int = 0):
        if max_bytes < 4096:
            raise ValueError(f"a recording needs at least 4096 bytes (got {max_bytes})")
        self.heap_cells = int(heap_cells)
        self.slot_count = max(0, int(slot_count))
        self.max_bytes = int(max_bytes)
        cells_cap = max(1, self.max_bytes // (2 * MIN_FULL_FRAMES))
        self.cell_group = max(1, math.ceil(self.heap_cells / cells_cap))
        self.stored_cells = math.ceil(self.heap_cells / self.cell_group)
        self._frame_bytes = 2 * self.stored_cells + self.slot_count + 8
        by_bytes = self.max_bytes // self._frame_bytes
        self._capacity = max(2, min(MAX_FRAMES, by_bytes))
        self._bytes_bound = by_bytes < MAX_FRAMES
        self._starts = np.arange(0, self.heap_cells, self.cell_group, dtype=np.intp)
        self.frames_seen = 0  # frames offered to add_frame
        self._frames_dropped = False  # by the byte cap (not just MAX_FRAMES)
        self._times: list[float] = []
        self._states: list[np.ndarray] = []
        self._owners: list[np.ndarray] = []
        self._slots: list[np.ndarray] = []
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
            + sum(a.nbytes for a in self._slots)
            + 8 * len(self._times)
        )

    @property
    def frame_count(self) -> int:
        return len(self._times)

    def add_frame(
        self,
        t: float,
        states: np.ndarray | None,
        owners: np.ndarray | None,
        slot_states: np.ndarray | None = None,
    ) -> None:
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
        slots = self._slot_bytes(slot_states)
        if len(self._times) >= 2 and t - self._times[-2] < self._min_gap:
            self._store(t, states, owners, slots, replace=True)  # the newest is always kept
            return
        if len(self._times) >= self._capacity:
            self._thin()
        self._store(t, states, owners, slots, replace=False)

    def _slot_bytes(self, slot_states: np.ndarray | None) -> np.ndarray:
        """A copy of the slot states (the live view changes under us); idle when unknown."""
        if slot_states is None or len(slot_states) != self.slot_count:
            return np.full(self.slot_count, SlotState.IDLE, dtype=np.uint8)
        return np.array(slot_states, dtype=np.uint8, copy=True)

    def _thin(self) -> None:
        n = len(self._times)
        keep = list(range(0, n - 1, 2)) + [n - 1]
        self._times = [self._times[i] for i in keep]
        self._states = [self._states[i] for i in keep]
        self._owners = [self._owners[i] for i in keep]
        self._slots = [self._slots[i] for i in keep]
        self._min_gap = (self._times[-1] - self._times[0]) / (self._capacity / 2)
        self._frames_dropped = self._frames_dropped or self._bytes_bound

    def _store(self, t: float, states, owners, slots: np.ndarray, replace: bool) -> None:
        s, o = self._reduce(states, owners)
        if replace:
            self._times[-1], self._states[-1], self._owners[-1] = t, s, o
            self._slots[-1] = slots
        else:
            self._times.append(t)
            self._states.append(s)
            self._owners.append(o)
            self._slots.append(slots)
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
        timeline: Timeline | None = None,
        slot_times_ns: np.ndarray | None = None,
    ) -> Session:
        """The recorded run.  ``timeline`` (RunResult.timeline) is kept thinned to at
        most TIMELINE_ROWS rows; ``slot_times_ns`` (RunResult.slot_times_ns) as it is.
        Both need ``slot_count`` + 1 lanes, and slot states need the recorder's
        ``slot_count`` to be the run's: a mismatch is a programming error (ValueError)."""
        names = [k for k in series if k != "time_s"]
        downsampled = self.cell_group > 1
        recorded_slots = self.slot_count > 0
        if recorded_slots and self.slot_count != slot_count:
            raise ValueError(f"slot states of {self.slot_count} slots for a run of {slot_count}")
        lanes = slot_count + 1
        if timeline is not None and timeline.lanes != lanes:
            raise ValueError(f"a timeline of {timeline.lanes} lanes for {lanes} lanes")
        if slot_times_ns is not None:
            slot_times_ns = np.array(slot_times_ns, dtype=np.uint64, copy=True)
            if slot_times_ns.shape != (lanes, len(TIME_STATES)):
                raise ValueError(f"slot_times_ns of shape {slot_times_ns.shape} for {lanes} lanes")
        thinned = timeline.thinned(TIMELINE_ROWS) if timeline is not None else None
        if recorded_slots or timeline is not None or slot_times_ns is not None:
            version = 3  # slot states, timeline, breakdown
        else:
            version = 2 if downsampled else 1  # older readers read the rest
        extra: dict = {}
        if timeline is not None:
            extra["timeline_rows_recorded"] = timeline.rows
        meta = {
            "format": FORMAT_NAME,
            "version": version,
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
                **extra,
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
        slot_frames = None
        if recorded_slots:
            slot_frames = (
                np.stack(self._slots) if self._slots else np.zeros((0, slot_count), np.uint8)
            )
        return Session(
            meta=meta,
            series={k: np.asarray(v) for k, v in series.items()},
            frame_times=np.array(self._times, dtype=np.float64),
            heap_states=states,
            heap_owners=owners,
            slot_states=slot_frames,
            timeline=thinned,
            slot_times_ns=slot_times_ns,
        )


# ------------------------------------------------------------------ saving
