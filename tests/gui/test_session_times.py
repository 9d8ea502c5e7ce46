"""Sessions of format version 3: slot states per frame, the timeline, the time breakdown.

A real baseline run is recorded with telemetry (slowed down, so several frames
catch threads computing, waiting and holding the lock), saved and loaded back:
every recorded value must come back exactly.  Files of versions 1 and 2 still load.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

import engine
from engine import TIME_STATES, RunConfig, SlotState, Strategy, Timeline
from engine.timeline import BUSY_STATES
from gui import session_file
from gui.session_file import SessionRecorder, load_session, save_session
from gui.session_times import TIMELINE_ROWS
from tests.conftest import EXPECTED, VECTORS
from tests.gui.helpers import record


def config_of(handle: engine.Run) -> dict:
    c = handle.config
    return {
        "strategy": c.strategy.label,
        "heap_size": c.heap_size,
        "pool_size": c.pool_size,
        "batch_size": c.batch_size,
        "block_size": c.block_size,
    }


def record_with_times(name: str, strategy: Strategy, speed: float = 1.0, every_s: float = 0.002):
    """A real run with telemetry recorded like the GUI does: a frame (heap map and slot
    states from one snapshot) every ``every_s`` while it runs, then the result's timeline
    and breakdown.  Returns (session, result)."""
    path = VECTORS / name
    handle = engine.Run(path, RunConfig(strategy=strategy, telemetry=True))
    recorder = SessionRecorder(handle.heap_cells, slot_count=handle.slot_count)
    out: dict = {}
    runner = threading.Thread(target=lambda: out.setdefault("result", handle.execute()))
    try:
        handle.set_speed(speed)
        recorder.add_frame(0.0, handle.heap_states, handle.heap_owners, handle.slot_states)
        runner.start()
        while runner.is_alive():
            snap = handle.snapshot()
            recorder.add_frame(snap.elapsed_s, snap.heap_states, snap.heap_owners, snap.slot_states)
            runner.join(every_s)  # the pace of the frames, not a synchronisation
        result = out["result"]
        final = (handle.heap_states, handle.heap_owners, handle.slot_states)
        recorder.add_frame(result.wall_s, *final)
        session = recorder.finish(
            input_identity=session_file.file_identity(path),
            config=config_of(handle),
            result=result.as_dict(),
            series=result.series,
            slot_count=handle.slot_count,
            pool_reserved=handle.pool_reserved,
            timeline=result.timeline,
            slot_times_ns=result.slot_times_ns,
        )
    finally:
        if runner.is_alive():
            handle.cancel()
            runner.join()
        handle.close()
    return session, result


@pytest.fixture(scope="module")
def baseline():
    """A slowed-down baseline run of random_64k.bin, recorded and saved (module-wide)."""
    return record_with_times("random_64k.bin", Strategy.BASELINE, speed=0.2)


def test_a_real_baseline_run_round_trips_its_slot_states_timeline_and_breakdown(baseline, tmp_path):
    session, result = baseline
    exp = EXPECTED["random_64k.bin"]
    assert result.signature == exp["signature"]
    assert result.lock_acquisitions == exp["lock_acquisitions_baseline"]
    assert session.meta["version"] == 3
    frames = len(session.frame_times)
    assert session.slot_states is not None and session.slot_states.shape == (frames, 20)
    # Slowed down (the holder sleeps inside the lock), the recording caught threads
    # waiting for it.  (Threads computing are a sampling lottery under load: the full
    # suite on 2 busy cores missed them once, so they are not asserted.)
    counts = [np.bincount(f, minlength=len(SlotState)) for f in session.slot_states]
    assert max(c[SlotState.WAITING] for c in counts) > 0
    assert int(session.slot_states.max()) <= max(SlotState)
    assert result.timeline is not None and result.slot_times_ns is not None

    loaded = load_session(save_session(session, tmp_path / "baseline.session"))
    assert loaded.meta["version"] == 3
    assert loaded.slot_states is not None and loaded.slot_states.dtype == np.uint8
    assert np.array_equal(loaded.slot_states, session.slot_states)
    assert np.array_equal(loaded.frame_times, session.frame_times)
    thinned = result.timeline.thinned(TIMELINE_ROWS)
    assert loaded.timeline is not None
    assert loaded.timeline.rows == thinned.rows == min(result.timeline.rows, TIMELINE_ROWS)
    assert np.array_equal(loaded.timeline.time_s, thinned.time_s)
    assert np.array_equal(loaded.timeline.busy_s, thinned.busy_s)
    assert loaded.timeline.lanes == 21
    assert loaded.meta["recording"]["timeline_rows_recorded"] == result.timeline.rows
    assert loaded.slot_times_ns is not None and loaded.slot_times_ns.dtype == np.uint64
    assert np.array_equal(loaded.slot_times_ns, result.slot_times_ns)
    assert "slot_times_ns" not in loaded.meta  # kept once, as the array
    # The replay's result gets the breakdown the run had.
    replayed = engine.RunResult(
        path=result.path,
        config=result.config,
        signature=result.signature,
        blocks=result.blocks,
        bytes=result.bytes,
        wall_s=result.wall_s,
        counters=result.counters,
        series=loaded.series,
        slot_times_ns=loaded.slot_times_ns,
        timeline=loaded.timeline,
    )
    assert replayed.time_breakdown_s == result.time_breakdown_s
    assert set(replayed.time_breakdown_s or {}) == set(TIME_STATES)


def test_slot_states_at_a_time_are_those_of_the_frame_shown(baseline):
    session, _ = baseline
    for i, t in enumerate(session.frame_times):
        if i + 1 < len(session.frame_times) and session.frame_times[i + 1] == t:
            continue  # a later frame at the same time is the one shown
        states = session.slot_states_at(float(t))
        assert states is not None
        assert np.array_equal(states, session.slot_states[i])


def test_timeline_until_keeps_the_rows_up_to_t_and_the_breakdown_at_t(baseline):
    session, result = baseline
    timeline = session.timeline
    assert timeline is not None and timeline.rows >= 3
    t = float(timeline.time_s[timeline.rows // 2])
    cut = session.timeline_until(t)
    assert cut is not None and cut.rows == timeline.rows // 2 + 1
    assert np.array_equal(cut.time_s, timeline.time_s[: cut.rows])
    assert np.array_equal(cut.busy_s, timeline.busy_s[: cut.rows])
    assert session.timeline_until(-1.0).rows == 0
    assert session.timeline_until(session.duration_s) is timeline
    # At a sample time the breakdown is that row's (ns, idle included); at the end, the run's.
    at_t = session.slot_times_at(t)
    expected = np.round(timeline.cumulative_s[timeline.rows // 2] * 1e9)
    assert at_t is not None and np.abs(at_t.astype(np.float64) - expected).max() <= 1
    assert session.slot_times_at(session.duration_s) is session.slot_times_ns
    assert np.array_equal(session.slot_times_at(session.duration_s), result.slot_times_ns)


def synthetic(rows: int, lanes: int = 21, step_s: float = 0.001) -> Timeline:
    """Lane i spends a share (i+1)/(2*lanes) of each step computing, the rest idle."""
    time_s = np.arange(1, rows + 1) * step_s
    busy = np.zeros((rows, lanes, len(BUSY_STATES)))
    busy[:, :, 0] = time_s[:, None] * (np.arange(lanes) + 1) / (2 * lanes)
    return Timeline(time_s, busy)


def test_a_long_timeline_is_thinned_to_4000_rows_losing_no_time(tmp_path):
    session, result, _ = record("random_64k.bin")  # the run itself: any will do
    long = synthetic(10_000)
    slot_times = (long.totals_s() * 1e9).round().astype(np.uint64)
    recorder = SessionRecorder(4, slot_count=20)
    recorder.add_frame(0.0, np.zeros(4, np.uint8), np.zeros(4, np.uint8))
    with pytest.raises(ValueError, match="slot states of 20 slots for a run of 1"):
        recorder.finish(
            input_identity={"name": "x"},
            config=session.config,
            result=session.result,
            series=session.series,
            slot_count=1,
            pool_reserved=0,
        )
    # The long timeline goes into a real session (20 slots: 21 lanes), wall time 10 s.
    meta = {**session.meta, "result": {**session.result, "wall_s": 10.0}}
    session.meta = meta
    session.timeline, session.slot_times_ns = long, slot_times
    loaded = load_session(save_session(session, tmp_path / "long.session"))
    assert loaded.meta["version"] == 3
    assert loaded.timeline is not None and loaded.timeline.rows == TIMELINE_ROWS
    assert loaded.timeline.time_s[0] == long.time_s[0]
    assert loaded.timeline.time_s[-1] == long.time_s[-1] == 10.0
    assert np.array_equal(loaded.timeline.totals_s(), long.totals_s())  # no time lost
    assert np.array_equal(loaded.slot_times_ns, slot_times)
    assert loaded.slot_states is None  # recorded without them
    assert loaded.result["signature"] == result.signature


def test_the_recorder_thins_the_timeline_and_records_idle_without_slot_states():
    recorder = SessionRecorder(4, slot_count=3)
    cells = np.zeros(4, np.uint8)
    recorder.add_frame(0.0, cells, cells)  # no slot states: idle
    recorder.add_frame(0.5, cells, cells, np.array([1, 2, 3], np.uint8))
    recorder.add_frame(1.0, cells, cells, np.array([1, 2], np.uint8))  # wrong length: idle
    assert recorder.nbytes == 3 * (4 + 4 + 3 + 8)
    long = synthetic(9_001, lanes=4)
    session = recorder.finish(
        input_identity={"name": "x"},
        config={},
        result={"wall_s": 9.001},
        series={"time_s": np.zeros(0)},
        slot_count=3,
        pool_reserved=0,
        timeline=long,
        slot_times_ns=np.ones((4, 6), np.uint64),
    )
    assert session.meta["version"] == 3
    assert session.meta["recording"]["timeline_rows_recorded"] == 9_001
    assert session.slot_states is not None
    assert session.slot_states.tolist() == [[0, 0, 0], [1, 2, 3], [0, 0, 0]]
    assert session.timeline is not None and session.timeline.rows == TIMELINE_ROWS
    assert session.timeline.time_s[-1] == long.time_s[-1]
    assert np.array_equal(session.timeline.totals_s(), long.totals_s())
    with pytest.raises(ValueError, match="a timeline of 4 lanes for 3 lanes"):
        SessionRecorder(4, slot_count=2).finish(
            input_identity={},
            config={},
            result={},
            series={"time_s": np.zeros(0)},
            slot_count=2,
            pool_reserved=0,
            timeline=long,
        )


def test_older_sessions_load_without_slot_states_timeline_or_breakdown(tmp_path):
    session, result, _ = record("random_64k.bin")  # recorded as before version 3
    assert session.meta["version"] == 1
    path = save_session(session, tmp_path / "v1.session")
    import zipfile

    with zipfile.ZipFile(path) as zf:  # exactly the five members of versions 1 and 2
        assert zf.namelist() == [
            "meta.json",
            "series.npy",
            "frame_times.npy",
            "heap_states.npy",
            "heap_owners.npy",
        ]
    loaded = load_session(path)
    assert loaded.meta["version"] == 1
    assert loaded.slot_states is None and loaded.timeline is None and loaded.slot_times_ns is None
    assert loaded.slot_states_at(0.0) is None
    assert loaded.timeline_until(result.wall_s) is None
    assert loaded.slot_times_at(result.wall_s) is None
    assert loaded.result["signature"] == EXPECTED["random_64k.bin"]["signature"]


def test_recording_a_live_run_keeps_its_slot_states_and_timeline():
    """gui.recording.Recording, as the window uses it (frames without slot states read
    the run's live view)."""
    from gui.recording import Recording

    handle = engine.Run(
        VECTORS / "random_64k.bin", RunConfig(strategy=Strategy.BASELINE, telemetry=True)
    )
    recording = Recording()
    try:
        recording.begin(handle)
        result = handle.execute()
        recording.add_frame(result.wall_s / 2, *handle.heap_map_copy())
        recording.finish(handle, result)
    finally:
        handle.close()
    session = recording.last_session
    assert session is not None and session.meta["version"] == 3
    assert session.slot_states is not None and session.slot_states.shape == (3, 20)
    assert session.timeline is not None and result.timeline is not None
    assert np.array_equal(session.timeline.time_s, result.timeline.thinned(TIMELINE_ROWS).time_s)
    assert np.array_equal(session.slot_times_ns, result.slot_times_ns)
