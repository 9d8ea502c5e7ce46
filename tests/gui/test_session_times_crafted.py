"""Crafted version 3 sessions: hostile slot states, timelines and breakdowns.

Each case changes one thing in a good version 3 file (a real pooled run of
ramp.bin with telemetry: 20 slots, 21 lanes) and names the exact one-line
SessionError load_session must give.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable

import numpy as np
import pytest

from engine import Strategy
from gui.session_file import SessionError, load_session, save_session
from gui.session_times import TIMELINE_ROWS
from tests.gui import crafted
from tests.gui.crafted import load_npy, meta_of, npy, with_meta, write_zip
from tests.gui.test_session_times import record_with_times

LANES = 21
STATES = 5


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    session, _ = record_with_times("ramp.bin", Strategy.POOLED)
    return save_session(session, tmp_path_factory.mktemp("good3") / "good.session")


def wall_of(parts: dict[str, bytes]) -> float:
    return float(meta_of(parts)["result"]["wall_s"])


def timeline(parts, rows: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """A plausible timeline within the run's wall time: T0 computes half of every step."""
    w = wall_of(parts)
    time_s = np.linspace(w / rows, w, rows)
    busy = np.zeros((rows, LANES * STATES))
    busy[:, 0] = time_s / 2
    return time_s, busy


def with_timeline(change: Callable[[np.ndarray, np.ndarray], tuple | None], rows: int = 4):
    """A case whose timeline members are :func:`timeline` changed by ``change(t, busy)``
    (in place, or returning new (time, busy) arrays)."""

    def build(parts):
        t, busy = timeline(parts, rows)
        changed = change(t, busy)
        if changed is not None:
            t, busy = changed
        return {**parts, "timeline_time_s.npy": npy(t), "timeline_busy_s.npy": npy(busy)}

    return build


def member(name: str, data_of: Callable[[dict], bytes]):
    return lambda parts: {**parts, name: data_of(parts)}


def slots(change: Callable[[np.ndarray], np.ndarray | None]):
    def data_of(parts):
        states = load_npy(parts["slot_states.npy"]).copy()
        changed = change(states)
        return npy(states if changed is None else changed)

    return member("slot_states.npy", data_of)


def meta(edit: Callable[[dict], None]):
    return lambda parts: with_meta(parts, edit)


def set_times(value):
    def edit(m):
        m["slot_times_ns"] = value

    return edit


def set_times_at(lane: int, state: int, value):
    def edit(m):
        m["slot_times_ns"][lane][state] = value

    return edit


def without(*names: str, edit: Callable[[dict], None] | None = None):
    def build(parts):
        out = {k: v for k, v in parts.items() if k not in names}
        return with_meta(out, edit) if edit else out

    return build


def version(n: int, *drop_meta: str):
    def edit(m):
        m["version"] = n
        for key in drop_meta:
            m.pop(key, None)
        m["recording"].pop("timeline_rows_recorded", None)

    return edit


def set_item(t: np.ndarray, index, value) -> None:
    t[index] = value


def _down(t: np.ndarray, busy: np.ndarray) -> None:
    busy[:, 3 * STATES + 1] = [0.0, t[0] * 0.4, t[0] * 0.3, t[0] * 0.5]  # T3's lock_wait


def _overfull(t: np.ndarray, busy: np.ndarray) -> None:
    busy[2:, 7 * STATES + 2] = t[2] + 0.002  # T7 in_allocator 2 ms longer than the time passed


def _coordinator_down(t: np.ndarray, busy: np.ndarray) -> None:
    busy[:3, 20 * STATES + 4] = t[0] / 4  # the coordinator's read, then back to 0


WALL = "{wall:.6f}"

CASES: list[tuple[str, Callable, str]] = [
    # ---- slot states
    (
        "slot-state-9",
        slots(lambda s: s.__setitem__((0, 5), 9)),
        "its slot_states.npy holds the value 9 (valid 0-4)",
    ),
    (
        "slot-state-255",
        slots(lambda s: s.__setitem__((-1, 19), 255)),
        "its slot_states.npy holds the value 255 (valid 0-4)",
    ),
    (
        "slot-states-a-frame-too-many",
        slots(lambda s: np.concatenate([s, s[:1]])),
        "its slot_states.npy does not match its meta.json (shape ({frames1}, 20), expected "
        "({frames}, 20): {frames} frames of 20 thread slots)",
    ),
    (
        "slot-states-of-19-slots",
        slots(lambda s: s[:, :19].copy()),
        "its slot_states.npy does not match its meta.json (shape ({frames}, 19), expected "
        "({frames}, 20): {frames} frames of 20 thread slots)",
    ),
    (
        "slot-states-as-floats",
        slots(lambda s: s.astype(np.float64)),
        "its slot_states.npy is damaged (its values are float64, not uint8)",
    ),
    (
        "slot-states-as-int16",
        slots(lambda s: s.astype(np.int16)),
        "its slot_states.npy is damaged (not a plain uint8 array, or pickled objects)",
    ),
    (
        "slot-states-in-version-2",
        lambda p: with_meta(p, version(2, "slot_times_ns")),
        "its slot_states.npy needs format version 3 (the file says version 2)",
    ),
    (
        "timeline-in-version-1",
        lambda p: without("slot_states.npy", edit=version(1, "slot_times_ns"))(p),
        "its timeline_time_s.npy needs format version 3 (the file says version 1)",
    ),
    # ---- the timeline's arrays
    (
        "timeline-busy-missing",
        without("timeline_busy_s.npy"),
        "it is incomplete (missing timeline_busy_s.npy)",
    ),
    (
        "timeline-time-missing",
        without("timeline_time_s.npy"),
        "it is incomplete (missing timeline_time_s.npy)",
    ),
    (
        "timeline-time-nan",
        with_timeline(lambda t, b: set_item(t, 1, np.nan)),
        "its timeline_time_s.npy holds a time that is negative or not a finite number",
    ),
    (
        "timeline-time-inf",
        with_timeline(lambda t, b: set_item(t, 3, np.inf)),
        "its timeline_time_s.npy holds a time that is negative or not a finite number",
    ),
    (
        "timeline-time-negative",
        with_timeline(lambda t, b: set_item(t, 0, -1e-9)),
        "its timeline_time_s.npy holds a time that is negative or not a finite number",
    ),
    (
        "timeline-time-backwards",
        with_timeline(lambda t, b: set_item(t, 2, t[0] / 2)),
        "its timeline_time_s.npy has sample times that go backwards",
    ),
    (
        "timeline-past-the-wall-time",
        with_timeline(lambda t, b: set_item(t, 3, 100.0)),
        "its timeline_time_s.npy runs to 100.000000 s, past the run's wall time (" + WALL + " s)",
    ),
    (
        "timeline-busy-nan",
        with_timeline(lambda t, b: set_item(b, (1, 17), np.nan)),
        "its timeline_busy_s.npy holds a value that is negative or not a finite number",
    ),
    (
        "timeline-busy-negative",
        with_timeline(lambda t, b: set_item(b, (0, 0), -0.5)),
        "its timeline_busy_s.npy holds a value that is negative or not a finite number",
    ),
    (
        "timeline-busy-infinite",
        with_timeline(lambda t, b: set_item(b, (3, 104), -np.inf)),
        "its timeline_busy_s.npy holds a value that is negative or not a finite number",
    ),
    (
        "timeline-cumulative-goes-down",
        with_timeline(_down),
        "its timeline_busy_s.npy has T3's lock_wait going down at sample 3 of 4 "
        "(cumulative times never do)",
    ),
    (
        "timeline-coordinator-goes-down",
        with_timeline(_coordinator_down),
        "its timeline_busy_s.npy has coordinator's read going down at sample 4 of 4 "
        "(cumulative times never do)",
    ),
    (
        "timeline-busier-than-the-time",
        with_timeline(_overfull),
        "its timeline_busy_s.npy gives T7 {over:.6f} s busy by {t2:.6f} s, more than the "
        "time that had passed",
    ),
    (
        "timeline-100-lanes-x-1",
        with_timeline(lambda t, b: (t, b[:, :100].copy())),
        "its timeline_busy_s.npy does not match its meta.json (shape (4, 100), expected "
        "(4, 105): 4 rows of 21 lanes x 5 states)",
    ),
    (
        "timeline-22-lanes",
        with_timeline(lambda t, b: (t, np.zeros((4, 110)))),
        "its timeline_busy_s.npy does not match its meta.json (shape (4, 110), expected "
        "(4, 105): 4 rows of 21 lanes x 5 states)",
    ),
    (
        "timeline-rows-disagree",
        with_timeline(lambda t, b: (t, b[:3].copy())),
        "its timeline_busy_s.npy does not match its meta.json (shape (3, 105), expected "
        "(4, 105): 4 rows of 21 lanes x 5 states)",
    ),
    (
        "timeline-busy-3d",
        with_timeline(lambda t, b: (t, b.reshape(4, LANES, STATES))),
        "its timeline_busy_s.npy is damaged (not a plain float64 array, or pickled objects)",
    ),
    (
        "timeline-time-2d",
        with_timeline(lambda t, b: (t.reshape(4, 1), b)),
        "its timeline_time_s.npy has the wrong shape (shape (4, 1), expected (rows,))",
    ),
    (
        "timeline-time-as-uint8",
        with_timeline(lambda t, b: (np.arange(4, dtype=np.uint8), b)),
        "its timeline_time_s.npy is damaged (its values are uint8, not float64)",
    ),
    (
        "timeline-time-as-int64",
        with_timeline(lambda t, b: (np.arange(4, dtype=np.int64), b)),
        "its timeline_time_s.npy is damaged (not a plain float64 array, or pickled objects)",
    ),
    (
        "timeline-busy-as-float32",
        with_timeline(lambda t, b: (t, b.astype(np.float32))),
        "its timeline_busy_s.npy is damaged (not a plain float64 array, or pickled objects)",
    ),
    (
        "timeline-4001-rows",
        with_timeline(lambda t, b: None, rows=TIMELINE_ROWS + 1),
        "its timeline_time_s.npy has the wrong shape (4001 rows, more than the 4000 a "
        "session keeps)",
    ),
    (
        "timeline-a-million-rows",
        member("timeline_time_s.npy", lambda p: npy(np.zeros(1_000_000))),
        "its timeline_time_s.npy would expand to 8000128 bytes (the limit is 36096)",
    ),
    (
        "timeline-busy-huge",
        member("timeline_busy_s.npy", lambda p: npy(np.zeros((4000, 129 * 5 + 1)))),
        "its timeline_busy_s.npy would expand to 20672128 bytes (the limit is 20644096)",
    ),
    # ---- the breakdown in meta.json
    (
        "breakdown-not-a-list",
        meta(set_times("lots")),
        "its meta.json is invalid: slot_times_ns must be 21 lists of 6 whole numbers (one "
        "per thread slot and the coordinator)",
    ),
    (
        "breakdown-20-lanes",
        meta(set_times([[0] * 6] * 20)),
        "its meta.json is invalid: slot_times_ns must be 21 lists of 6 whole numbers (one "
        "per thread slot and the coordinator)",
    ),
    (
        "breakdown-7-states",
        meta(set_times([[0] * 6] * 20 + [[0] * 7])),
        "its meta.json is invalid: slot_times_ns must be 21 lists of 6 whole numbers (one "
        "per thread slot and the coordinator)",
    ),
    (
        "breakdown-negative",
        meta(set_times_at(4, 1, -1)),
        "its meta.json is invalid: slot_times_ns holds -1 (valid 0-9223372036854775807)",
    ),
    (
        "breakdown-float",
        meta(set_times_at(0, 0, 1.5)),
        "its meta.json is invalid: slot_times_ns holds 1.5, not a whole number",
    ),
    (
        "breakdown-bool",
        meta(set_times_at(0, 0, True)),
        "its meta.json is invalid: slot_times_ns holds True, not a whole number",
    ),
    (
        "breakdown-text",
        meta(set_times_at(20, 5, "9")),
        "its meta.json is invalid: slot_times_ns holds '9', not a whole number",
    ),
    (
        "breakdown-longer-than-the-run",
        meta(set_times_at(20, 5, 100 * 10**9)),
        "its meta.json is invalid: slot_times_ns gives coordinator {coord:.6f} s, more "
        "than the run's wall time (" + WALL + " s)",
    ),
    (
        "breakdown-in-version-2",
        meta(version(2)),
        "its meta.json is invalid: meta has an unknown field 'slot_times_ns'",
    ),
    (
        "timeline-rows-recorded-text",
        meta(lambda m: m["recording"].__setitem__("timeline_rows_recorded", "x")),
        "its meta.json is invalid: recording.timeline_rows_recorded must be a whole number "
        "(got 'x')",
    ),
]


def expected_text(template: str, parts: dict[str, bytes]) -> str:
    wall = wall_of(parts)
    frames = len(load_npy(parts["frame_times.npy"]))
    t, _ = timeline(parts)
    coord = (sum(meta_of(parts)["slot_times_ns"][20][:5]) + 100 * 10**9) / 1e9
    return template.format(
        wall=wall, frames=frames, frames1=frames + 1, t2=t[2], over=t[2] + 0.002, coord=coord
    )


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_crafted_version_3_file_gives_one_session_error_line(good, tmp_path, case):
    case_id, build, template = case
    parts = crafted.members(good)
    path = write_zip(tmp_path / f"{case_id}.session", build(parts))
    with pytest.raises(SessionError) as info:
        load_session(path)
    message = str(info.value)
    assert type(info.value) is SessionError and "\n" not in message
    prefix = f"cannot open session '{case_id}.session': "
    assert message == prefix + expected_text(template, parts)


def test_the_good_file_and_its_plausible_variants_load(good, tmp_path):
    parts = crafted.members(good)
    assert sorted(parts) == sorted(
        [
            "meta.json",
            "series.npy",
            "frame_times.npy",
            "heap_states.npy",
            "heap_owners.npy",
            "slot_states.npy",
            "timeline_time_s.npy",
            "timeline_busy_s.npy",
        ]
    )
    assert json.loads(parts["meta.json"])["version"] == 3
    session = load_session(good)
    assert session.timeline is not None and session.timeline.lanes == LANES
    # The synthetic timeline the cases start from is itself valid...
    ok = write_zip(tmp_path / "synthetic.session", with_timeline(lambda t, b: None)(parts))
    loaded = load_session(ok)
    assert loaded.timeline is not None and loaded.timeline.rows == 4
    assert np.array_equal(loaded.timeline.time_s, timeline(parts)[0])
    # ...and so are a 4000-row one, one without rows, and a file without slot states.
    for name, build in (
        ("rows-4000", with_timeline(lambda t, b: None, rows=TIMELINE_ROWS)),
        ("rows-0", with_timeline(lambda t, b: (t[:0], b[:0]))),
        ("no-slot-states", without("slot_states.npy")),
        ("no-timeline", without("timeline_time_s.npy", "timeline_busy_s.npy")),
        ("no-breakdown", meta(lambda m: m.pop("slot_times_ns"))),
    ):
        loaded = load_session(write_zip(tmp_path / f"{name}.session", build(parts)))
        assert loaded.meta["version"] == 3, name
    assert os.path.getsize(good) < 64 * 1024
    assert len({c[0] for c in CASES}) == len(CASES) >= 40


def test_fuzzed_version_3_members_load_or_give_one_session_error(good, tmp_path):
    """Random bytes flipped in the new members: a session or one SessionError line."""
    parts = crafted.members(good)
    rng = np.random.default_rng(9)
    outcomes = {"loaded": 0, "refused": 0}
    for case in range(150):
        name = ("slot_states.npy", "timeline_time_s.npy", "timeline_busy_s.npy")[case % 3]
        data = bytearray(parts[name])
        for _ in range(int(rng.integers(1, 4))):
            data[int(rng.integers(0, len(data)))] = int(rng.integers(0, 256))
        path = write_zip(tmp_path / f"fuzz{case}.session", {**parts, name: bytes(data)})
        try:
            load_session(path)
            outcomes["loaded"] += 1
        except SessionError as exc:
            assert type(exc) is SessionError and "\n" not in str(exc)
            assert str(exc).startswith(f"cannot open session 'fuzz{case}.session': its {name} ")
            outcomes["refused"] += 1
    assert outcomes["refused"] > 0 and sum(outcomes.values()) == 150
