"""Version 3 of the session format: what the threads did (no Qt, no file access).

``slot_states.npy``
    uint8 (frames, slot_count): each worker slot's SlotState at each heap-map frame
    (so a replay says how many threads compute, wait or hold the lock).
``timeline_time_s.npy``, ``timeline_busy_s.npy``
    float64 (rows,) and (rows, lanes * 5): :class:`engine.Timeline` (cumulative seconds
    per lane and busy state; lanes are the worker slots, then the coordinator),
    thinned to at most :data:`TIMELINE_ROWS` rows.  Both or neither.
``slot_times_ns`` in meta.json
    RunResult.slot_times_ns: a list per lane of the ns spent in each TIME_STATES.

All three are optional (a run without telemetry has no timeline).  A session file
is someone else's: every value is checked here before a replay uses it, and every
problem raises :class:`SessionError` with one line naming it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from engine import TIME_STATES, SlotState, Timeline, lane_names
from engine.timeline import BUSY_STATES
from gui.session_validate import INT_LIMIT, SessionError, Shapes

#: Rows of timeline a session keeps (and the most a loader accepts): a row per
#: millisecond for runs up to 4 s, coarser for longer ones (never less time).
TIMELINE_ROWS = 4000
SLOT_STATES = "slot_states.npy"
TIMELINE_TIME = "timeline_time_s.npy"
TIMELINE_BUSY = "timeline_busy_s.npy"
MEMBERS = (SLOT_STATES, TIMELINE_TIME, TIMELINE_BUSY)
#: Bytes each may expand to: frames x 128 slots; TIMELINE_ROWS x 129 lanes x 5 states.
MEMBER_LIMITS = {
    SLOT_STATES: 32 << 20,
    TIMELINE_TIME: TIMELINE_ROWS * 8 + 4096,
    TIMELINE_BUSY: TIMELINE_ROWS * 129 * len(BUSY_STATES) * 8 + 4096,
}
_LARGEST_SLOT_STATE = max(SlotState)


def _slack(seconds: float) -> float:
    """How far recorded times may exceed each other: clock reads take microseconds."""
    return 1e-3 + 0.01 * seconds


def check_version(present: list[str], shapes: Shapes, prefix: str) -> None:
    """The version 3 members: only in version 3 files, and the timeline's two together."""
    for name in present:
        if shapes.version < 3:
            raise SessionError(
                f"{prefix}its {name} needs format version 3 (the file says version "
                f"{shapes.version})"
            )
    timeline = [m for m in (TIMELINE_TIME, TIMELINE_BUSY) if m in present]
    if len(timeline) == 1:
        other = TIMELINE_BUSY if timeline[0] == TIMELINE_TIME else TIMELINE_TIME
        raise SessionError(f"{prefix}it is incomplete (missing {other})")


def slot_times_from_meta(meta: dict, shapes: Shapes, prefix: str) -> np.ndarray | None:
    """meta.json's ``slot_times_ns`` as uint64 (lanes, TIME_STATES), or None when absent."""
    if "slot_times_ns" not in meta:
        return None
    table = meta["slot_times_ns"]
    lanes, states = shapes.slot_count + 1, len(TIME_STATES)
    invalid = f"{prefix}its meta.json is invalid: slot_times_ns"
    if (
        not isinstance(table, list)
        or len(table) != lanes
        or not all(isinstance(row, list) and len(row) == states for row in table)
    ):
        raise SessionError(
            f"{invalid} must be {lanes} lists of {states} whole numbers "
            "(one per thread slot and the coordinator)"
        )
    names = lane_names(shapes.slot_count)
    for lane, row in enumerate(table):
        for value in row:
            if not isinstance(value, int) or isinstance(value, bool):
                raise SessionError(f"{invalid} holds {repr(value)[:40]}, not a whole number")
            if not 0 <= value < INT_LIMIT:
                raise SessionError(f"{invalid} holds {value} (valid 0-{INT_LIMIT - 1})")
        total_s = sum(row) / 1e9
        if total_s > shapes.wall_s + _slack(shapes.wall_s):
            raise SessionError(
                f"{invalid} gives {names[lane]} {total_s:.6f} s, more than the run's "
                f"wall time ({shapes.wall_s:.6f} s)"
            )
    return np.array(table, dtype=np.uint64)


def slot_states_shape(frames: int, slot_count: int) -> Callable[[tuple], str | None]:
    expected = (frames, slot_count)
    return lambda s: (
        None
        if s == expected
        else f"shape {s}, expected {expected}: {frames} frames of {slot_count} thread slots"
    )


def check_slot_states(states: np.ndarray, prefix: str) -> None:
    if states.size and int(states.max()) > _LARGEST_SLOT_STATE:
        raise SessionError(
            f"{prefix}its {SLOT_STATES} holds the value {int(states.max())} "
            f"(valid 0-{_LARGEST_SLOT_STATE})"
        )


def timeline_time_shape(s: tuple) -> str | None:
    if len(s) != 1:
        return f"shape {s}, expected (rows,)"
    if s[0] > TIMELINE_ROWS:
        return f"{s[0]} rows, more than the {TIMELINE_ROWS} a session keeps"
    return None


def timeline_busy_shape(rows: int, slot_count: int) -> Callable[[tuple], str | None]:
    lanes = slot_count + 1
    expected = (rows, lanes * len(BUSY_STATES))
    return lambda s: (
        None
        if s == expected
        else f"shape {s}, expected {expected}: {rows} rows of {lanes} lanes "
        f"x {len(BUSY_STATES)} states"
    )


def timeline_of(time_s: np.ndarray, busy: np.ndarray, shapes: Shapes, prefix: str) -> Timeline:
    """The checked timeline: times and cumulative values finite, not negative, never
    going back, within the run's wall time; no lane busier than the time passed."""
    if not np.isfinite(time_s).all() or (time_s < 0).any():
        raise SessionError(
            f"{prefix}its {TIMELINE_TIME} holds a time that is negative or not a finite number"
        )
    if len(time_s) > 1 and (np.diff(time_s) < 0).any():
        raise SessionError(f"{prefix}its {TIMELINE_TIME} has sample times that go backwards")
    if len(time_s) and time_s[-1] > shapes.wall_s + _slack(shapes.wall_s):
        raise SessionError(
            f"{prefix}its {TIMELINE_TIME} runs to {time_s[-1]:.6f} s, past the run's "
            f"wall time ({shapes.wall_s:.6f} s)"
        )
    if not np.isfinite(busy).all() or (busy < 0).any():
        raise SessionError(
            f"{prefix}its {TIMELINE_BUSY} holds a value that is negative or not a finite number"
        )
    lanes = shapes.slot_count + 1
    cube = busy.reshape(len(time_s), lanes, len(BUSY_STATES))
    names = lane_names(shapes.slot_count)
    if len(time_s) > 1:
        down = np.diff(cube, axis=0) < 0
        if down.any():
            row, lane, state = (int(i) for i in np.argwhere(down)[0])
            raise SessionError(
                f"{prefix}its {TIMELINE_BUSY} has {names[lane]}'s {BUSY_STATES[state]} "
                f"going down at sample {row + 2} of {len(time_s)} (cumulative times never do)"
            )
    sums = cube.sum(axis=2)
    over = sums > (time_s + 1e-3 + 0.01 * time_s)[:, None]  # the slack of _slack
    if over.any():
        row, lane = (int(i) for i in np.argwhere(over)[0])
        raise SessionError(
            f"{prefix}its {TIMELINE_BUSY} gives {names[lane]} {sums[row, lane]:.6f} s busy "
            f"by {time_s[row]:.6f} s, more than the time that had passed"
        )
    return Timeline(time_s, cube)


def timeline_columns(timeline: Timeline) -> tuple[np.ndarray, np.ndarray]:
    """The two arrays a session file stores for ``timeline``."""
    busy = np.ascontiguousarray(timeline.busy_s, dtype=np.float64)
    return (
        np.ascontiguousarray(timeline.time_s, dtype=np.float64),
        busy.reshape(timeline.rows, timeline.lanes * len(BUSY_STATES)),
    )
