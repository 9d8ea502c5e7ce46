"""A run's timeline: where every thread slot's time went, sampled about every millisecond.

The engine's sampler stores, at each sample, every lane's *cumulative* time per
state (lanes: the worker slots T0..Tn-1, then the coordinator). Cumulative rows
make the timeline exact however it is thinned: dropping rows merges intervals
without losing a nanosecond, and the last row equals the run's breakdown.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from engine._ffi import lib

#: Time states, in the engine's order (WORKLOAD.md section 10).
TIME_STATES: tuple[str, ...] = (
    "compute",
    "lock_wait",
    "in_allocator",
    "thread_start_join",
    "read",
    "idle",
)
assert len(TIME_STATES) == lib.ENGINE_TIME_STATE_COUNT
#: States the engine accumulates; idle is the rest of the wall time.
BUSY_STATES = TIME_STATES[:-1]
IDLE = TIME_STATES.index("idle")


def lane_names(worker_slots: int) -> tuple[str, ...]:
    """T0..Tn-1 for the worker slots, then the coordinator."""
    return (*(f"T{i}" for i in range(worker_slots)), "coordinator")


@dataclasses.dataclass(frozen=True, eq=False)
class Timeline:
    """Cumulative seconds per lane and state at each sample time.

    ``time_s``: shape (rows,), increasing, seconds since the run started.
    ``busy_s``: shape (rows, lanes, 5): cumulative seconds in each of
    BUSY_STATES; idle is derived (time minus busy).
    """

    time_s: np.ndarray
    busy_s: np.ndarray

    def __post_init__(self) -> None:
        if self.time_s.ndim != 1 or self.busy_s.ndim != 3:
            raise ValueError("a timeline needs time_s (rows,) and busy_s (rows, lanes, states)")
        if self.busy_s.shape[0] != self.time_s.shape[0] or self.busy_s.shape[2] != len(BUSY_STATES):
            raise ValueError(
                f"timeline shapes disagree: time_s {self.time_s.shape}, busy_s {self.busy_s.shape}"
            )

    @classmethod
    def empty(cls, lanes: int) -> Timeline:
        return cls(np.zeros(0), np.zeros((0, lanes, len(BUSY_STATES))))

    @classmethod
    def from_engine_rows(cls, rows: np.ndarray, lanes: int) -> Timeline:
        """From the engine's uint64 rows: [t_ns, lane0 x 5 states, lane1 x 5, ...]."""
        time_s = rows[:, 0].astype(np.float64) / 1e9
        busy = rows[:, 1:].astype(np.float64).reshape(len(rows), lanes, len(BUSY_STATES)) / 1e9
        return cls(time_s, busy)

    @property
    def rows(self) -> int:
        return int(self.time_s.shape[0])

    @property
    def lanes(self) -> int:
        return int(self.busy_s.shape[1])

    @property
    def worker_slots(self) -> int:
        return self.lanes - 1

    @property
    def lane_names(self) -> tuple[str, ...]:
        return lane_names(self.worker_slots)

    @property
    def cumulative_s(self) -> np.ndarray:
        """(rows, lanes, 6): cumulative seconds per TIME_STATES, idle included."""
        idle = self.time_s[:, None] - self.busy_s.sum(axis=2)
        return np.concatenate([self.busy_s, idle[:, :, None]], axis=2)

    def totals_s(self) -> np.ndarray:
        """(lanes, 6): seconds per state at the last sample (zeros when empty)."""
        if self.rows == 0:
            return np.zeros((self.lanes, len(TIME_STATES)))
        return self.cumulative_s[-1]

    def intervals(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(starts, ends, seconds): the intervals between samples and, per
        interval, lane and state, the seconds spent. The first interval starts
        at 0 (the run's start), where every lane is idle. Busy states never go
        down; idle may dip by the microseconds a sample takes to read, so that
        every state adds up exactly to its total."""
        if self.rows == 0:
            return np.zeros(0), np.zeros(0), np.zeros((0, self.lanes, len(TIME_STATES)))
        cumulative = self.cumulative_s
        starts = np.concatenate([[0.0], self.time_s[:-1]])
        previous = np.concatenate([np.zeros((1, *cumulative.shape[1:])), cumulative[:-1]])
        return starts, self.time_s.copy(), cumulative - previous

    def resampled(self, bin_s: float, end_s: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(edges, seconds): uniform bins of ``bin_s`` from 0 to ``end_s`` (the last
        sample by default) and the seconds per bin, lane and state. Cumulative
        values are interpolated at the edges, so every state's sum over the bins
        equals its total at ``end_s``."""
        if not bin_s > 0:
            raise ValueError(f"a bin must be longer than 0 s, not {bin_s!r}")
        end = float(self.time_s[-1]) if end_s is None and self.rows else float(end_s or 0.0)
        count = max(1, int(np.ceil(end / bin_s - 1e-9)))
        edges = np.minimum(np.arange(count + 1) * bin_s, end)
        at_edges = self.cumulative_at(edges)
        return edges, np.diff(at_edges, axis=0)

    def cumulative_at(self, times_s: np.ndarray) -> np.ndarray:
        """(len(times_s), lanes, 6): cumulative seconds interpolated at the given
        times (0 before the run, the last sample's values after it)."""
        times = np.asarray(times_s, dtype=np.float64)
        if self.rows == 0:
            return np.zeros((len(times), self.lanes, len(TIME_STATES)))
        xs = np.concatenate([[0.0], self.time_s])
        cumulative = self.cumulative_s
        ys = np.concatenate([np.zeros((1, *cumulative.shape[1:])), cumulative])
        flat = ys.reshape(len(xs), -1)
        out = np.empty((len(times), flat.shape[1]))
        for column in range(flat.shape[1]):
            out[:, column] = np.interp(times, xs, flat[:, column])
        return out.reshape(len(times), self.lanes, len(TIME_STATES))

    def dominant_states(
        self, bin_s: float, end_s: float | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(edges, states): per bin and lane, the index in TIME_STATES of the state
        that took most of the bin (what a lane shows at that zoom)."""
        edges, seconds = self.resampled(bin_s, end_s)
        return edges, np.argmax(seconds, axis=2).astype(np.uint8)

    def after(self, time_s: float) -> Timeline:
        """The rows sampled after ``time_s`` (for incremental readers)."""
        keep = self.time_s > time_s
        return Timeline(self.time_s[keep], self.busy_s[keep])

    def extended(self, newer: Timeline) -> Timeline:
        """This timeline followed by ``newer``'s rows that come after its end."""
        if self.rows == 0:
            return newer
        if newer.lanes != self.lanes:
            raise ValueError(f"cannot join timelines of {self.lanes} and {newer.lanes} lanes")
        tail = newer.after(float(self.time_s[-1]))
        return Timeline(
            np.concatenate([self.time_s, tail.time_s]),
            np.concatenate([self.busy_s, tail.busy_s]),
        )

    def thinned(self, max_rows: int) -> Timeline:
        """At most ``max_rows`` rows, the last one kept: cumulative rows lose
        resolution, never time (for session files)."""
        if max_rows < 2:
            raise ValueError("a thinned timeline keeps at least 2 rows")
        if self.rows <= max_rows:
            return self
        keep = np.unique(np.linspace(0, self.rows - 1, max_rows).round().astype(np.int64))
        return Timeline(self.time_s[keep], self.busy_s[keep])
