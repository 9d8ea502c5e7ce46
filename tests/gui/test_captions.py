"""Captions follow the telemetry: same numbers in, same sentence out."""

import re

import numpy as np

import engine
from engine import RunConfig, RunPhase, SlotState, Strategy
from gui.captions import Frame, captions, heap_caption, locks_caption
from tests.conftest import VECTORS

COUNTERS = {name: 0 for name in engine.COUNTER_NAMES}


def frame(strategy, phase=RunPhase.RUNNING, states=(), t=1.0, **counters):
    return Frame(strategy, phase, t, {**COUNTERS, **counters}, np.array(states, dtype=np.uint8))


def test_baseline_with_threads_queueing():
    states = [SlotState.WAITING] * 19 + [SlotState.HOLDING]
    assert (
        heap_caption(frame(Strategy.BASELINE, states=states))
        == "19 of 20 threads are waiting for the one heap lock"
    )


def test_pooled_threads_in_their_pools():
    before = frame(Strategy.POOLED, states=[SlotState.COMPUTING] * 20, t=1.0, pool_allocs=100)
    now = frame(
        Strategy.POOLED,
        states=[SlotState.COMPUTING] * 20,
        t=1.05,
        pool_allocs=9000,
        global_allocs=8,
    )
    assert heap_caption(now, before) == "Each thread allocates from its own pool: no lock taken"


def test_pooled_with_full_pools_queues():
    before = frame(Strategy.POOLED, t=1.0, pool_allocs=100, global_allocs=10)
    now = frame(
        Strategy.POOLED,
        states=[SlotState.WAITING] * 3 + [SlotState.COMPUTING] * 5,
        t=1.05,
        pool_allocs=150,
        global_allocs=900,
    )
    assert (
        heap_caption(now, before) == "Pools are full: 3 of 8 threads queue for the shared heap lock"
    )


def test_paused_and_finished():
    assert (
        heap_caption(frame(Strategy.BASELINE, states=[SlotState.PAUSED] * 4))
        == "Paused: 4 threads parked where they stood"
    )
    done = frame(
        Strategy.POOLED, RunPhase.FINISHED, pool_allocs=32182, lock_acquisitions=256, blocks_done=64
    )
    assert heap_caption(done) == (
        "Done: the pools served 32,182 allocations without a lock; "
        "only 256 lock acquisitions in all"
    )
    assert locks_caption(done) == "256 lock acquisitions: 4.0 per block"


def test_captions_from_a_real_finished_run():
    handle = engine.Run(VECTORS / "random_64k.bin", RunConfig(strategy=Strategy.BASELINE))
    result = handle.execute()
    snap = handle.snapshot(with_heap=False)
    texts = captions(
        Frame(Strategy.BASELINE, snap.phase, snap.elapsed_s, snap.counters, snap.slot_states)
    )
    assert texts["heap"] == (
        "Done: all 64,620 allocations and frees took turns at the one heap lock"
    )
    assert texts["locks"] == "64,620 lock acquisitions: 1,009.7 per block"
    assert texts["throughput"].startswith("0.07 MB hashed at ")
    # Slivers depend on how the threads interleaved, so only the form is fixed.
    assert re.fullmatch(
        r"The free list has \d+ chunks?; each umalloc walked [\d.]+ of them on "
        r"average(; [\d,]+ bytes lost to slivers)?",
        texts["free_list"],
    )
    assert result.lock_acquisitions == 64620
    handle.close()
