"""Issue 11: sizeclass (Strategy B) and batched (Strategy C), WORKLOAD.md section 9.

Signatures for every vector, lock kind and worker mode; lock counts from
Python models of the allocation sequence (sections 3 and 7):

- sizeclass takes one class lock per allocation and per free, the
  coordinator's included, so its count is the baseline's plus one arena lock
  per slab refill.  The refills follow from the peak number of live slots per
  class, which is exact when one block is in flight at a time (batches of 1)
  and depends on how blocks overlap otherwise: then it is bounded.
- batched's caches only ever see their own thread's sequence and are emptied
  after every block, so its count is exact in every mode.
"""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest

import engine
from engine import LockKind, RunConfig, Strategy
from engine._ffi import lib
from tests.conftest import EXPECTED, VECTORS
from tests.engine.helpers import start, start_and_pause_after, wait_until

NAMES = sorted(EXPECTED)
CLASSES = (16, 32, 48, 64, 128, 256, 512, 1024, 2048)
NODE, HEAP_RECORD, HEAP_ARRAY, ARG_RECORD = 32, 16, 2048, 32
REFILL_BYTES = 16384  # batched: payload bytes one cache refill takes at most


def round16(size: int) -> int:
    return (size + 15) // 16 * 16


def class_index(size: int) -> int | None:
    """The smallest class that holds the request, None when larger than all."""
    want = round16(size)
    return next((c for c, b in enumerate(CLASSES) if want <= b), None)


def blocks_of(data: bytes, block_size: int = 1024) -> list[bytes]:
    return [data[i : i + block_size] for i in range(0, len(data), block_size)]


def block_events(block: bytes) -> list[tuple[str, int]]:
    """One block's allocations and frees in order (section 3): the
    coordinator's copy and argument record, then the worker's tree."""
    nodes = 2 * len(set(block)) - 1
    return (
        [("alloc", len(block)), ("alloc", ARG_RECORD)]
        + [("alloc", HEAP_RECORD), ("alloc", HEAP_ARRAY)]
        + [("alloc", NODE)] * nodes
        + [("free", HEAP_ARRAY), ("free", HEAP_RECORD)]
        + [("free", NODE)] * nodes
        + [("free", len(block)), ("free", ARG_RECORD)]
    )


def baseline_locks(data: bytes, block_size: int = 1024) -> int:
    """2 x (2k + 3) per block (section 7)."""
    return sum(2 * (2 * len(set(b)) + 3) for b in blocks_of(data, block_size))


def class_peaks(block: bytes) -> list[int]:
    """Most slots of each class live at once while this block is hashed."""
    live, peak = [0] * len(CLASSES), [0] * len(CLASSES)
    for kind, size in block_events(block):
        c = class_index(size)
        if c is None:
            continue
        live[c] += 1 if kind == "alloc" else -1
        peak[c] = max(peak[c], live[c])
    return peak


def sizeclass_refills_model(
    data: bytes, slab_size: int = 16384, in_flight: int = 1, block_size: int = 1024
) -> int:
    """Slab refills of a sizeclass run with at most in_flight blocks live at once.

    A class takes a slab exactly when all its slots are live, so it takes
    ceil(peak / slots per slab) slabs over a run.  One block at a time: the
    peak is the largest block's.  With in_flight blocks overlapping, at most
    the in_flight largest blocks' peaks add up: an upper bound.
    """
    peaks = [class_peaks(b) for b in blocks_of(data, block_size)]
    refills = 0
    for c, size in enumerate(CLASSES):
        top = sorted((p[c] for p in peaks), reverse=True)[:in_flight]
        refills += math.ceil(sum(top) / (slab_size // size))
    return refills


def batched_model(data: bytes, cache_size: int = 16, block_size: int = 1024) -> dict[str, int]:
    """Lock acquisitions, cache refills and flushes of a batched run.

    Per block: the coordinator's two allocations take the locked baseline
    path; the worker's allocations pop from its caches, an empty cache taking
    one hold to refill cache_size chunks but at most 16 KiB of them (at least
    one); a free into a full cache first
    flushes it in one hold; a freed chunk whose size is no class's (a short
    last block's copy) takes the baseline path.  Once the tree is freed
    (block_done) every cache is flushed in one hold, and again after the
    block's copy and argument record are freed (batch_done).
    """
    locks = refills = flushes = 0
    for block in blocks_of(data, block_size):
        cache = [0] * len(CLASSES)
        events = block_events(block)
        locks += 2  # the coordinator's copy and argument record
        for i, (kind, size) in enumerate(events[2:], start=2):
            if i == len(events) - 2 and any(cache):  # block_done
                cache = [0] * len(CLASSES)
                locks, flushes = locks + 1, flushes + 1
            c = class_index(size)
            if kind == "alloc":
                if c is None:
                    locks += 1
                    continue
                if cache[c] == 0:
                    chunks = min(cache_size, max(1, REFILL_BYTES // CLASSES[c]))
                    locks, refills, cache[c] = locks + 1, refills + 1, chunks
                cache[c] -= 1
            else:
                if c is None or CLASSES[c] != round16(size):
                    locks += 1  # not a class's chunk: ufree under the lock
                    continue
                if cache[c] == cache_size:
                    locks, flushes, cache[c] = locks + 1, flushes + 1, 0
                cache[c] += 1
        if any(cache):
            locks, flushes = locks + 1, flushes + 1
    return {"locks": locks, "cache_refills": refills, "cache_flushes": flushes}


# ---------------------------------------------------------------- signatures

WORKER_MODES = [
    pytest.param({"batch_size": 1}, id="batch1"),
    pytest.param({"batch_size": 3}, id="batch3"),
    pytest.param({"batch_size": 20}, id="batch20"),
    pytest.param({"workers": 1}, id="workers1"),
    pytest.param({"workers": 2}, id="workers2"),
]


def in_flight(mode: dict, strategy: Strategy) -> int:
    """Blocks whose allocations can be live at once: a batch, or per
    long-lived worker the block it hashes and those waiting in its queue."""
    if "workers" not in mode:
        return mode["batch_size"]
    depth = RunConfig(strategy=strategy, **mode).queue_depth
    assert depth == 32  # the default arena has room for full queues (the cap)
    return mode["workers"] * (depth + 1)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("lock", list(LockKind), ids=lambda k: k.label)
@pytest.mark.parametrize("mode", WORKER_MODES)
def test_sizeclass_signature_and_locks(name, lock, mode):
    data = (VECTORS / name).read_bytes()
    result = engine.run(VECTORS / name, strategy=Strategy.SIZECLASS, lock=lock, **mode)
    want = EXPECTED[name]
    assert result.signature == want["signature"]
    assert result.blocks == want["blocks"]
    refills = result.counters["slab_refills"]
    # one class lock per allocation and per free, plus the arena lock per slab
    assert result.lock_acquisitions == want["lock_acquisitions_baseline"] + refills
    assert result.counters["lock_acquisitions_alloc"] == (
        result.counters["lock_acquisitions_free"] + refills
    )
    low = sizeclass_refills_model(data)
    if in_flight(mode, Strategy.SIZECLASS) == 1:
        assert refills == low
    else:
        assert (
            low
            <= refills
            <= sizeclass_refills_model(data, in_flight=in_flight(mode, Strategy.SIZECLASS))
        )
    assert result.counters["cache_refills"] == result.counters["trylock_fails"] == 0


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("lock", list(LockKind), ids=lambda k: k.label)
@pytest.mark.parametrize("mode", WORKER_MODES)
def test_batched_signature_and_exact_locks(name, lock, mode):
    data = (VECTORS / name).read_bytes()
    result = engine.run(VECTORS / name, strategy=Strategy.BATCHED, lock=lock, **mode)
    want = EXPECTED[name]
    assert result.signature == want["signature"]
    assert result.blocks == want["blocks"]
    model = batched_model(data)
    assert result.lock_acquisitions == model["locks"]
    assert result.counters["cache_refills"] == model["cache_refills"]
    assert result.counters["cache_flushes"] == model["cache_flushes"]
    assert result.counters["slab_refills"] == 0
    # every chunk a cache took went back: the arena's books balance
    assert result.counters["global_allocs"] == result.counters["global_frees"]
    if mode == {"batch_size": 1}:
        # one thread at a time (the coordinator waits in join): never busy
        assert result.counters["trylock_fails"] == 0


def test_models_match_the_spec_numbers():
    """The models' shared part is the spec's baseline count (expected.json)."""
    for name in NAMES:
        data = (VECTORS / name).read_bytes()
        assert baseline_locks(data) == EXPECTED[name]["lock_acquisitions_baseline"]
    # random_64k: 64 blocks of 1 KiB
    data = (VECTORS / "random_64k.bin").read_bytes()
    assert batched_model(data)["locks"] == 4392
    assert sizeclass_refills_model(data) == 4  # one slab each for 16, 32, 1024, 2048


# Blocks with a real tree.  single_symbol.bin's one-leaf trees make 5
# allocations a block, 4 of them in different classes: a cache cannot batch
# what comes one at a time (22 locks against the baseline's 30; exact above).
TREE_VECTORS = [n for n in NAMES if n not in ("empty.bin", "single_symbol.bin")]


@pytest.mark.parametrize("name", TREE_VECTORS)
def test_batched_takes_well_under_a_third_of_the_baselines_locks(name):
    """Issue 11's done-when, at the default cache size (16)."""
    data = (VECTORS / name).read_bytes()
    assert min(len(set(b)) for b in blocks_of(data)) >= 16
    result = engine.run(VECTORS / name, strategy=Strategy.BATCHED)
    baseline = EXPECTED[name]["lock_acquisitions_baseline"]
    assert result.lock_acquisitions * 3 < baseline
    if EXPECTED[name]["blocks"] >= 64:
        assert result.lock_acquisitions * 10 < baseline  # 6.8 % on random data


@pytest.mark.parametrize("cache_size", [1, 2, 7, 100, 1024])
def test_batched_cache_size_follows_the_model(cache_size):
    data = (VECTORS / "random_64k.bin").read_bytes()
    result = engine.run(
        VECTORS / "random_64k.bin", strategy=Strategy.BATCHED, cache_size=cache_size
    )
    assert result.signature == EXPECTED["random_64k.bin"]["signature"]
    model = batched_model(data, cache_size)
    assert result.lock_acquisitions == model["locks"]
    assert result.counters["cache_refills"] == model["cache_refills"]
    assert result.counters["cache_flushes"] == model["cache_flushes"]


@pytest.mark.parametrize("slab_size", [2048, 4096, 65536])
def test_sizeclass_slab_size_follows_the_model(slab_size):
    """Batches of 1: one block at a time, so the refills are exact."""
    data = (VECTORS / "random_64k.bin").read_bytes()
    result = engine.run(
        VECTORS / "random_64k.bin", strategy=Strategy.SIZECLASS, slab_size=slab_size, batch_size=1
    )
    assert result.signature == EXPECTED["random_64k.bin"]["signature"]
    refills = sizeclass_refills_model(data, slab_size)
    assert result.counters["slab_refills"] == refills
    assert result.lock_acquisitions == EXPECTED["random_64k.bin"]["lock_acquisitions_baseline"] + (
        refills
    )


def test_block_size_over_the_biggest_class_takes_the_baseline_path(tmp_path):
    """4 KiB blocks: the copies (4096 bytes) are not a class's size."""
    data = (VECTORS / "random_64k.bin").read_bytes()
    for strategy in (Strategy.SIZECLASS, Strategy.BATCHED):
        result = engine.run(
            VECTORS / "random_64k.bin", strategy=strategy, block_size=4096, batch_size=1
        )
        single = engine.run(VECTORS / "random_64k.bin", strategy=Strategy.SINGLE, block_size=4096)
        assert result.signature == single.signature
        if strategy is Strategy.BATCHED:
            assert result.lock_acquisitions == batched_model(data, block_size=4096)["locks"]
        else:
            refills = sizeclass_refills_model(data, block_size=4096)
            assert result.counters["slab_refills"] == refills
            assert result.lock_acquisitions == baseline_locks(data, 4096) + refills


# ---------------------------------------------------------------- heap map


def test_sizeclass_slabs_show_their_class_on_the_heap_map():
    data = (VECTORS / "random_64k.bin").read_bytes()
    config = RunConfig(strategy=Strategy.SIZECLASS, batch_size=1)
    with engine.Run(VECTORS / "random_64k.bin", config) as handle:
        result = handle.execute()
        states, owners = handle.heap_map_copy()
    slab_cells = states == lib.ENGINE_CELL_SLAB
    refills = result.counters["slab_refills"]
    assert refills == sizeclass_refills_model(data)
    # slabs never go back: every slab's cells, and only those, after the run
    assert int(slab_cells.sum()) == refills * 16384 // 16
    used = {CLASSES.index(b) for b in (HEAP_RECORD, NODE, 1024, HEAP_ARRAY)}
    assert set(np.unique(owners[slab_cells]).tolist()) == used
    assert not (states == lib.ENGINE_CELL_CACHED).any()


def test_batched_caches_show_on_the_heap_map_while_running_and_are_empty_after():
    config = RunConfig(strategy=Strategy.BATCHED, batch_size=4)
    with engine.Run(VECTORS / "random_64k.bin", config) as handle:
        handle.set_speed(0.02)
        thread, outcome = start(handle)
        seen = None
        for _ in range(50):  # a pause may land between two batches: try again
            wait_until(lambda: handle.counters()["cache_refills"] > 0, "a cache refilled")
            handle.pause()
            wait_until(lambda: handle.paused, "every thread parked")
            states, owners = handle.heap_map_copy()
            cached = states == lib.ENGINE_CELL_CACHED
            if cached.any():
                seen = owners[cached]
                break
            handle.resume()
        assert seen is not None, "no cached chunk on the heap map in 50 pauses"
        assert set(np.unique(seen).tolist()) <= set(range(4))  # owner = the thread slot
        handle.set_speed(1.0)
        handle.resume()
        thread.join(60)
        assert not thread.is_alive()
        assert outcome["result"].signature == EXPECTED["random_64k.bin"]["signature"]
        states, _ = handle.heap_map_copy()
    assert not (states == lib.ENGINE_CELL_CACHED).any()  # every cache flushed
    assert not (states == lib.ENGINE_CELL_SLAB).any()


# ---------------------------------------------------------------- failures


@pytest.mark.parametrize("mode", [{"batch_size": 20}, {"workers": 2}], ids=["batch20", "workers2"])
def test_sizeclass_on_a_small_heap_fails_cleanly(mode):
    """Slabs never go back to the arena: a 64 KiB heap holds three 16 KiB slabs."""
    with pytest.raises(engine.EngineError) as caught:
        engine.run(VECTORS / "random_64k.bin", strategy=Strategy.SIZECLASS, heap_size=65536, **mode)
    assert caught.value.code == lib.ENGINE_E_HEAP_EXHAUSTED
    message = str(caught.value)
    assert "heap exhausted" in message
    assert "16384-byte slab for size class" in message
    assert "never give them back" in message


@pytest.mark.parametrize("mode", [{"batch_size": 20}, {"workers": 2}], ids=["batch20", "workers2"])
def test_batched_on_a_small_heap_fails_cleanly(mode):
    with pytest.raises(engine.EngineError) as caught:
        engine.run(VECTORS / "random_64k.bin", strategy=Strategy.BATCHED, heap_size=16384, **mode)
    assert caught.value.code == lib.ENGINE_E_HEAP_EXHAUSTED
    assert "heap exhausted" in str(caught.value)


# ---------------------------------------------------------------- control


@pytest.mark.parametrize("strategy", [Strategy.SIZECLASS, Strategy.BATCHED], ids=lambda s: s.label)
@pytest.mark.parametrize("mode", [{"batch_size": 5}, {"workers": 2}], ids=["batch5", "workers2"])
def test_pause_freezes_everything_and_cancel_stops(strategy, mode):
    config = RunConfig(strategy=strategy, **mode)
    with engine.Run(VECTORS / "random_64k.bin", config) as handle:
        handle.set_speed(0.01)
        thread, outcome = start_and_pause_after(handle, blocks=1)
        frozen = handle.snapshot()
        again = handle.snapshot()
        assert again.counters == frozen.counters
        assert np.array_equal(again.heap_states, frozen.heap_states)
        assert np.array_equal(again.heap_owners, frozen.heap_owners)
        # parked threads hold no lock: nobody is shown holding or waiting
        assert not np.isin(
            frozen.slot_states, [lib.ENGINE_SLOT_HOLDING, lib.ENGINE_SLOT_WAITING]
        ).any()
        handle.resume()
        handle.cancel()
        thread.join(30)
        assert not thread.is_alive()
        assert isinstance(outcome.get("error"), engine.RunCancelled)


@pytest.mark.parametrize("strategy", ["sizeclass", "batched"])
def test_python_m_engine_runs_them(strategy):
    done = subprocess.run(
        [sys.executable, "-m", "engine", str(VECTORS / "random_64k.bin"), "--strategy", strategy],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert f"Final signature: {EXPECTED['random_64k.bin']['signature']}" in done.stdout
    assert Strategy.parse(strategy) in engine.USER_STRATEGIES
