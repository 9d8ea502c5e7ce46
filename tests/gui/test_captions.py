"""Captions follow the telemetry: same numbers in, same sentence out."""

import dataclasses
import re

import numpy as np

import engine
from engine import TIME_STATES, RunConfig, RunPhase, SlotState, Strategy
from gui.captions import Frame, captions, heap_caption, lock_time, locks_caption
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
    # Walks and slivers depend on how the threads interleaved, so only the form is fixed;
    # the ufree walk (the long one) comes first.
    assert re.fullmatch(
        r"The free list has [\d,]+ chunks? left( \([\d,]+ at most\))?; each free walked "
        r"[\d,.]+ of them under the lock \(each umalloc [\d,.]+\)"
        r"(; [\d,]+ bytes lost to slivers)?",
        texts["free_list"],
    )
    assert result.lock_acquisitions == 64620
    handle.close()


# -- the real cause, with numbers -------------------------------------------------

_IN_ALLOCATOR = TIME_STATES.index("in_allocator")
_LOCK_WAIT = TIME_STATES.index("lock_wait")


def times(slots, in_allocator_s, lock_wait_s):
    """A time breakdown (ns per slot and state, coordinator last) with these sums."""
    table = np.zeros((slots + 1, len(TIME_STATES)), dtype=np.uint64)
    table[:slots, _IN_ALLOCATOR] = round(in_allocator_s * 1e9 / slots)
    table[:slots, _LOCK_WAIT] = round(lock_wait_s * 1e9 / slots)
    return table


# Figures of a real 1 MiB baseline run on an idle 2-core machine (2.62 s).
CONTENDED = dict(
    lock_acquisitions=1_035_928,
    global_allocs=517_964,
    global_frees=517_964,
    blocks_done=1024,
    bytes_done=1_048_576,
    free_list_length=1_512,
    free_list_longest=1_794,
    free_list_visits_alloc=13_923_569,
    free_list_visits_free=537_067_782,
    mid_block_at_acquisitions=13_961_992,
)
QUEUE = [SlotState.WAITING] * 18 + [SlotState.HOLDING, SlotState.COMPUTING]


def cause(strategy, phase, t, states=(), slot_times=None, **counters):
    f = frame(strategy, phase, states, t, **counters)
    return captions(Frame(f.strategy, f.phase, f.elapsed_s, f.counters, f.slot_states, slot_times))


def test_a_slowed_run_says_its_rates_are_slowed():
    f = frame(Strategy.BASELINE, RunPhase.RUNNING, QUEUE, 2.0, **CONTENDED)
    slowed = dataclasses.replace(f, speed=0.01)
    texts = captions(slowed)
    assert texts["locks"] == (
        "517,964 lock acquisitions per second at 1/100 speed (1,035,928 so far)"
    )
    assert texts["throughput"].endswith("MB/s right now at 1/100 speed")
    assert "slowed" not in captions(f)["locks"] and "slowed" not in captions(f)["throughput"]


def test_contended_baseline_live_tells_the_walk_and_the_queue():
    texts = cause(
        Strategy.BASELINE, RunPhase.RUNNING, 2.0, QUEUE, times(20, 1.68, 21.0), **CONTENDED
    )
    assert texts["heap"] == (
        "18 of 20 threads are waiting for the one heap lock; "
        "13 unfinished trees interleave in the heap"
    )
    assert texts["locks"] == (
        "The lock is busy 84% of the time: 517,964 lock acquisitions per second (1,035,928 so far)"
    )
    assert texts["free_list"] == (
        "The free list has 1,512 chunks; each free walks 1,037 of them under the lock "
        "(each umalloc 27) while 18 threads wait"
    )


def test_contended_baseline_finished_sums_it_up():
    counters = {**CONTENDED, "free_list_length": 78, "sliver_bytes": 2336}
    texts = cause(
        Strategy.BASELINE, RunPhase.FINISHED, 2.62, (), times(20, 2.2008, 28.0), **counters
    )
    assert texts["heap"] == (
        "Done: all 1,035,928 allocations and frees took turns at the one heap lock"
    )
    assert texts["locks"] == (
        "1,035,928 lock acquisitions: 1,011.6 per block; the lock was busy 84% of the run"
    )
    assert texts["free_list"] == (
        "The free list has 78 chunks left (1,794 at most); each free walked 1,037 of them "
        "under the lock (each umalloc 27) while 11 threads waited on average; "
        "2,336 bytes lost to slivers"
    )


def test_one_core_busy_baseline_says_shorter_walks_and_fewer_trees():
    # A real 1 MiB baseline run while another process kept one core busy (0.94 s).
    counters = dict(
        CONTENDED,
        free_list_length=4,
        free_list_longest=1_286,
        free_list_visits_alloc=12_210_175,
        free_list_visits_free=178_585_280,
        mid_block_at_acquisitions=7_967_000,
    )
    states = [SlotState.WAITING] * 3 + [SlotState.HOLDING] + [SlotState.COMPUTING] * 4
    live = cause(Strategy.BASELINE, RunPhase.RUNNING, 0.5, states, times(20, 0.35, 3.3), **counters)
    assert live["heap"] == (
        "3 of 8 threads are waiting for the one heap lock; 7.7 unfinished trees interleave "
        "in the heap"
    )
    assert live["locks"].startswith("The lock is busy 70% of the time: ")
    assert live["free_list"] == (
        "The free list has 4 chunks; each free walks 345 of them under the lock "
        "(each umalloc 24) while 3 threads wait"
    )
    done = cause(
        Strategy.BASELINE, RunPhase.FINISHED, 0.94, (), times(20, 0.6564, 6.195), **counters
    )
    assert done["locks"] == (
        "1,035,928 lock acquisitions: 1,011.6 per block; the lock was busy 70% of the run"
    )
    assert done["free_list"] == (
        "The free list has 4 chunks left (1,286 at most); each free walked 345 of them "
        "under the lock (each umalloc 24) while 6.6 threads waited on average"
    )


def test_pooled_says_the_opposite_with_numbers():
    counters = dict(
        lock_acquisitions=4096,
        global_allocs=1024,
        global_frees=1024,
        pool_allocs=516_940,
        blocks_done=1024,
        bytes_done=1_048_576,
        free_list_length=1,
        free_list_longest=5,
        free_list_visits_alloc=1025,
        free_list_visits_free=4670,
        mid_block_at_acquisitions=2156,
    )
    slot_times = times(20, 0.000238, 0.0000015)
    live_states = [SlotState.COMPUTING] * 20
    live = cause(Strategy.POOLED, RunPhase.RUNNING, 0.04, live_states, slot_times, **counters)
    assert live["heap"] == "Each thread allocates from its own pool: no lock taken"
    assert live["locks"] == (
        "The lock is busy 0.6% of the time: 102,400 lock acquisitions per second (4,096 so far)"
    )
    assert live["free_list"] == (
        "The free list has 1 chunk; the pools served 516,940 allocations with a pointer bump, "
        "no walk"
    )
    done = cause(Strategy.POOLED, RunPhase.FINISHED, 0.08, (), slot_times, **counters)
    assert done["locks"] == (
        "4,096 lock acquisitions: 4.0 per block; the lock was busy 0.3% of the run"
    )
    assert done["free_list"] == (
        "The free list has 1 chunk left (5 at most); the pools served 516,940 allocations "
        "with a pointer bump, no walk"
    )
    tiny = cause(Strategy.POOLED, RunPhase.FINISHED, 0.08, (), times(20, 0.00002, 0.0), **counters)
    assert tiny["locks"].endswith("; the lock was busy under 0.1% of the run")


def test_single_has_no_lock_to_speak_of():
    counters = dict(
        global_allocs=517_964,
        global_frees=517_964,
        blocks_done=1024,
        bytes_done=1_048_576,
        free_list_length=2,
        free_list_longest=230,
        free_list_visits_alloc=1_553_892,
        free_list_visits_free=56_458_076,
    )
    done = cause(Strategy.SINGLE, RunPhase.FINISHED, 0.17, (), times(1, 0.0, 0.0), **counters)
    assert done["heap"] == "Done: one thread built every tree alone, with no lock at all"
    assert done["locks"] == "0 lock acquisitions: 0.0 per block"
    assert done["free_list"] == (
        "The free list has 2 chunks left (230 at most); each free walked 109 of them "
        "(each umalloc 3.0)"
    )


def test_without_a_time_breakdown_nothing_is_guessed():
    texts = cause(Strategy.BASELINE, RunPhase.FINISHED, 2.62, (), None, **CONTENDED)
    assert texts["locks"] == "1,035,928 lock acquisitions: 1,011.6 per block"
    assert texts["free_list"] == (
        "The free list has 1,512 chunks left (1,794 at most); each free walked 1,037 of them "
        "under the lock (each umalloc 27)"
    )
    base = frame(Strategy.BASELINE, t=2.0)
    assert lock_time(base) is None
    wrong_shape = Frame(base.strategy, base.phase, 2.0, base.counters, None, np.zeros((21, 3)))
    assert lock_time(wrong_shape) is None
    at_start = Frame(base.strategy, base.phase, 0.0, base.counters, None, times(20, 0.0, 0.0))
    assert lock_time(at_start) is None
    # One lock cannot be busy more than all the time: clock rounding is shown as 100%.
    over = cause(Strategy.BASELINE, RunPhase.FINISHED, 1.0, (), times(20, 1.004, 0), **CONTENDED)
    assert over["locks"].endswith("; the lock was busy 100% of the run")


def test_captions_from_a_real_run_with_its_time_breakdown():
    with engine.Run(VECTORS / "random_64k.bin", RunConfig(strategy=Strategy.BASELINE)) as handle:
        result = handle.execute()
        snap = handle.snapshot(with_heap=False)
        slot_times = handle.time_breakdown()
    assert result.slot_times_ns is not None
    assert np.array_equal(slot_times, result.slot_times_ns)
    texts = captions(
        Frame(
            Strategy.BASELINE, snap.phase, result.wall_s, snap.counters, None, result.slot_times_ns
        )
    )
    breakdown = result.time_breakdown_s
    assert breakdown is not None
    held = breakdown["in_allocator"] / result.wall_s
    figures = result.walk_figures
    assert 0 < held <= 1.01
    busy = f"{min(held, 1) * 100:.0f}%" if held >= 0.0995 else f"{held * 100:.1f}%"
    assert texts["locks"] == (
        f"64,620 lock acquisitions: 1,009.7 per block; the lock was busy {busy} of the run"
    )
    per_free = figures["free_list_visits_per_free"]
    assert f"each free walked {per_free:,.0f} of them" in texts["free_list"] or (
        f"each free walked {per_free:,.1f} of them" in texts["free_list"]
    )
