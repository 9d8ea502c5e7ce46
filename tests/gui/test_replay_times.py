"""Replays of version 3 sessions: the captions count the recorded threads, the lanes
grow with the replay's time, the replayed row has its time breakdown."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from engine import TIME_STATES, SlotState, Strategy, Timeline
from gui import captions
from gui.session_file import save_session
from gui.time_feed import run_name
from tests.gui.helpers import record
from tests.gui.test_session_times import record_with_times


@pytest.fixture(scope="module")
def slowed_baseline(tmp_path_factory):
    """A real baseline run of random_64k.bin at 1/5 speed, recorded with its timeline."""
    session, result = record_with_times("random_64k.bin", Strategy.BASELINE, speed=0.2)
    path = save_session(session, tmp_path_factory.mktemp("replay3") / "baseline.session")
    return path, session, result


def lanes_follow(window) -> list[tuple[int, bool]]:
    """Connects the replay to the window's lanes (what main_window should do) and
    returns the (rows, live) of every timeline the replay emits from now on."""
    window.replay.attach_lanes(window.timeline)
    seen: list[tuple[int, bool]] = []
    window.replay.sig_timeline.connect(
        lambda timeline, live: seen.append((-1 if timeline is None else timeline.rows, live))
    )
    return seen


def heap_caption_for(states: np.ndarray) -> str:
    """What the heap caption says live for a baseline run's slot states (counters at 0)."""
    waiting = int(np.count_nonzero(states == SlotState.WAITING))
    holding = int(np.count_nonzero(states == SlotState.HOLDING))
    active = int(np.count_nonzero(states != SlotState.IDLE))
    if waiting:
        return f"{waiting} of {active} threads are waiting for the one heap lock"
    if holding:
        return "One thread holds the heap lock; the others must wait their turn"
    return f"{active} thread{'s' if active != 1 else ''} computing their Huffman trees"


def test_a_replay_counts_the_threads_the_recording_saw(window, slowed_baseline):
    path, session, _result = slowed_baseline
    assert window.open_session(path), window.error_text()
    checked = 0
    for i, t in enumerate(session.frame_times[:-1]):
        states = session.slot_states[i]
        if session.frame_times[i + 1] == t or not np.count_nonzero(states):
            continue
        window.replay.show_at(float(t))
        text = window.captions.labels["heap"].text()
        assert text.startswith(heap_caption_for(states)), (i, text)
        assert not text.startswith("0 threads")
        checked += 1
    assert checked >= 1  # the slowed recording caught threads at work


def test_crafted_slot_states_give_the_exact_counts(window, tmp_path, slowed_baseline):
    _path, session, _result = slowed_baseline
    times = session.frame_times
    shown = [i for i in range(len(times) - 1) if times[i + 1] > times[i]]  # frames a time shows
    first, second = shown[0], shown[1]
    states = session.slot_states.copy()
    states[first] = (
        [SlotState.COMPUTING] * 12
        + [SlotState.WAITING] * 5
        + [SlotState.HOLDING]
        + [SlotState.IDLE] * 2
    )
    states[second] = SlotState.COMPUTING
    crafted = dataclasses.replace(session, slot_states=states)
    path = save_session(crafted, tmp_path / "crafted.session")
    assert window.open_session(path), window.error_text()
    window.replay.show_at(float(times[first]))
    assert window.captions.labels["heap"].text() == (
        "5 of 18 threads are waiting for the one heap lock"
    )
    window.replay.show_at(float(times[second]))
    assert window.captions.labels["heap"].text() == "20 threads computing their Huffman trees"


def test_the_lanes_grow_with_the_replay_and_the_row_has_its_breakdown(
    window, qtbot, slowed_baseline
):
    path, session, result = slowed_baseline
    seen = lanes_follow(window)
    assert window.open_session(path), window.error_text()
    timeline = session.timeline
    assert timeline is not None and timeline.rows >= 10
    # Opened at its end: the whole timeline, zoomable.
    assert seen[-1] == (timeline.rows, False)
    shown = window.timeline.timeline
    assert np.array_equal(shown.time_s, timeline.time_s) and not window.timeline.live
    assert np.array_equal(shown.busy_s, timeline.busy_s)
    # Half way: the rows sampled up to then.
    window.replay.bar.slider.setValue(500)
    t = window.replay.time
    k = int(np.count_nonzero(timeline.time_s <= t))
    assert 0 < k < timeline.rows
    assert window.timeline.timeline.rows == k
    assert np.array_equal(window.timeline.timeline.busy_s, timeline.busy_s[:k])
    # The breakdown at that time feeds the lock's busy share to the captions.
    at_t = session.slot_times_at(t)
    assert at_t is not None and at_t.shape == (21, len(TIME_STATES))
    frame = captions.Frame(
        Strategy.BASELINE,
        captions.RunPhase.RUNNING,
        t,
        {k: 0 for k in result.counters},
        slot_times_ns=at_t,
    )
    lock = captions.lock_time(frame)
    assert lock is not None and lock.busy > 0
    assert (
        window.captions.labels["locks"]
        .text()
        .startswith(f"The lock is busy {captions._percent(lock.busy)} of the time: ")
    )
    # At 0 nothing was sampled yet: the lanes are empty.
    window.replay.bar.slider.setValue(0)
    assert window.timeline.timeline is None
    # Playing: the lanes grow, follow the end, and end whole and zoomable.
    seen.clear()
    window.replay.bar.speed.setCurrentIndex(1)  # 1/10: many frames whatever the load
    window.replay.toggle_play()
    qtbot.waitUntil(lambda: not window.replay.timer.isActive(), timeout=20000)
    rows = [r for r, _ in seen]
    assert rows == sorted(rows) and rows[-1] == timeline.rows
    assert seen[-1] == (timeline.rows, False)
    assert any(live for _, live in seen[:-1]), seen
    assert window.timeline.timeline is window.replay.session.timeline
    # The replayed row carries the run's breakdown: its bar is there.
    row = window.results.rows[-1]
    assert np.array_equal(row.result.slot_times_ns, result.slot_times_ns)
    assert row.result.time_breakdown_s == result.time_breakdown_s
    labels = [item.label for item in window.breakdown.items]
    assert labels == [run_name(row.run_id, "baseline")]
    assert window.breakdown.items[0].seconds == result.time_breakdown_s
    assert "; the lock was busy " in window.captions.labels["locks"].text()


def test_an_older_session_empties_the_lanes(window, tmp_path):
    seen = lanes_follow(window)
    lanes = Timeline(np.array([0.001]), np.zeros((1, 21, 5)))
    window.timeline.show_timeline(lanes, live=False)  # some earlier run's lanes
    session, _result, _ = record("random_64k.bin")  # recorded as before version 3
    path = save_session(session, tmp_path / "v1.session")
    assert window.open_session(path), window.error_text()
    assert seen == [(-1, False)]
    assert window.timeline.timeline is None
    assert window.results.rows[-1].result.time_breakdown_s is None
    assert window.breakdown.items == []


def test_a_live_run_saved_from_the_window_keeps_its_threads_and_timeline(window, qtbot, tmp_path):
    from gui.session_file import load_session
    from gui.session_times import TIMELINE_ROWS
    from tests.gui.helpers import open_vector, run_and_wait

    open_vector(window)
    run_and_wait(qtbot, window, window.baseline_button)
    live = window.results.rows[0].result
    assert live.timeline is not None and live.slot_times_ns is not None
    loaded = load_session(window.save_session_to(tmp_path / "live.session"))
    assert loaded.meta["version"] == 3
    assert loaded.slot_states is not None
    assert loaded.slot_states.shape == (len(loaded.frame_times), 20)
    assert loaded.timeline is not None
    assert np.array_equal(loaded.timeline.time_s, live.timeline.thinned(TIMELINE_ROWS).time_s)
    assert np.array_equal(loaded.slot_times_ns, live.slot_times_ns)
    window.clear_runs()
    assert window.open_session(tmp_path / "live.session"), window.error_text()
    assert window.results.rows[0].result.time_breakdown_s == live.time_breakdown_s


def test_lanes_cleared_by_clear_runs_come_back_when_the_replay_moves(window, slowed_baseline):
    path, session, _result = slowed_baseline
    lanes_follow(window)
    assert window.open_session(path), window.error_text()
    window.replay.bar.slider.setValue(500)
    rows = window.timeline.timeline.rows
    window.timeline.clear()  # what Clear runs does to the lanes
    window.replay.show_at(window.replay.time)
    assert window.timeline.timeline is not None and window.timeline.timeline.rows == rows
