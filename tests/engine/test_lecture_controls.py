"""Pause, resume and slow motion act on the C workers themselves."""

import threading

import pytest

import engine
from engine import RunCancelled, RunConfig, RunPhase, SlotState, Strategy
from tests.conftest import EXPECTED, VECTORS
from tests.engine.helpers import start, wait_until

PARKED = (SlotState.PAUSED, SlotState.IDLE)


def observe_pause(handle, window_s=0.2):
    """Waits until the engine reports itself paused, then watches it for a while."""
    wait_until(lambda: handle.paused, "the engine reports every thread parked")
    assert all(s in PARKED for s in handle.snapshot(with_heap=False).slot_states)
    before = handle.snapshot()
    threading.Event().wait(window_s)  # an observation window, not synchronisation
    after = handle.snapshot()
    return before, after


@pytest.mark.parametrize("strategy", [Strategy.BASELINE, Strategy.POOLED, Strategy.SINGLE])
def test_pause_freezes_the_run_and_resume_finishes_it(strategy):
    name = "random_64k.bin"
    handle = engine.Run(VECTORS / name, RunConfig(strategy=strategy))
    handle.set_speed(0.01)
    thread, outcome = start(handle)
    wait_until(
        lambda: handle.counters()["global_allocs"] + handle.counters()["pool_allocs"] > 0,
        "the run started",
    )
    handle.pause()
    before, after = observe_pause(handle)
    assert after.counters == before.counters
    assert (after.heap_states == before.heap_states).all()
    assert SlotState.PAUSED in after.slot_states
    assert handle.phase is RunPhase.RUNNING
    assert after.counters["blocks_done"] < 64
    handle.set_speed(1.0)
    handle.resume()
    thread.join(timeout=60)
    result = outcome["result"]
    assert result.signature == EXPECTED[name]["signature"]
    if strategy is not Strategy.SINGLE:
        assert result.lock_acquisitions == EXPECTED[name][f"lock_acquisitions_{strategy.label}"]


def test_cancel_while_paused():
    handle = engine.Run(VECTORS / "random_64k.bin", RunConfig(strategy=Strategy.BASELINE))
    handle.set_speed(0.01)
    thread, outcome = start(handle)
    wait_until(lambda: handle.counters()["lock_acquisitions"] > 0, "the run started")
    handle.pause()
    wait_until(
        lambda: SlotState.PAUSED in handle.snapshot(with_heap=False).slot_states, "a thread parked"
    )
    handle.cancel()
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert isinstance(outcome["error"], RunCancelled)


@pytest.mark.parametrize("strategy", [Strategy.BASELINE, Strategy.POOLED])
def test_slow_motion_slows_the_workers_and_keeps_the_signature(strategy):
    name = "ramp.bin"
    full = engine.run(VECTORS / name, strategy=strategy)
    handle = engine.Run(VECTORS / name, RunConfig(strategy=strategy))
    handle.set_speed(0.02)
    slow = handle.execute()
    assert slow.signature == full.signature == EXPECTED[name]["signature"]
    assert slow.lock_acquisitions == full.lock_acquisitions
    full_rate = full.blocks / full.wall_s
    slow_rate = slow.blocks / slow.wall_s
    assert full_rate / slow_rate > 5
