"""Issue 11: lock kinds (mutex, spin, adaptive) and long-lived workers give the
spec's signatures and the same lock counts (WORKLOAD.md sections 7 and 9)."""

from __future__ import annotations

import subprocess
import sys

import pytest

import engine
from engine import LockKind, RunConfig, Strategy
from tests.conftest import EXPECTED, VECTORS
from tests.engine.helpers import start_and_pause_after

NAMES = sorted(EXPECTED)
ARENA_STRATEGIES = (Strategy.BASELINE, Strategy.POOLED)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("lock", list(LockKind), ids=lambda k: k.label)
@pytest.mark.parametrize("workers", [0, 1, 2, 7])
@pytest.mark.parametrize("strategy", ARENA_STRATEGIES, ids=lambda s: s.label)
def test_every_lock_kind_and_worker_mode_gives_the_spec_numbers(name, lock, workers, strategy):
    result = engine.run(VECTORS / name, strategy=strategy, lock=lock, workers=workers)
    assert result.signature == EXPECTED[name]["signature"]
    assert result.lock_acquisitions == EXPECTED[name][f"lock_acquisitions_{strategy.label}"]
    assert result.blocks == EXPECTED[name]["blocks"]


@pytest.mark.parametrize("workers", [1, 2, 5])
def test_the_floor_and_single_take_workers_too(workers):
    name = "random_64k.bin"
    for strategy in (Strategy.FLOOR, Strategy.SINGLE):
        result = engine.run(VECTORS / name, strategy=strategy, workers=workers)
        assert result.signature == EXPECTED[name]["signature"]
        assert result.lock_acquisitions == 0


def test_workers_are_the_thread_slots():
    assert RunConfig(strategy=Strategy.POOLED, workers=2).threads == 2
    assert RunConfig(strategy=Strategy.POOLED, workers=0, batch_size=7).threads == 7
    assert RunConfig(strategy=Strategy.SINGLE, workers=4).threads == 1
    # pools are per worker: 2 workers fit pools that 20 threads would not
    RunConfig(strategy=Strategy.POOLED, workers=2, pool_size=512 * 1024)
    with pytest.raises(engine.InputError, match="20 pools of 524288 bytes"):
        RunConfig(strategy=Strategy.POOLED, pool_size=512 * 1024)


def test_a_long_lived_workers_queue_fits_a_quarter_of_the_shared_arena():
    # The default 2 MiB arena has room for full queues of 32 blocks (the cap).
    assert RunConfig(strategy=Strategy.POOLED, workers=2).queue_depth == 32
    assert RunConfig(strategy=Strategy.MIMALLOC, workers=2).queue_depth == 32
    # Below the cap: 256 KiB, 2 workers, a quarter is 64 KiB, 32 KiB per
    # worker: 29 blocks of 1,120 bytes, 28 of them queued.
    assert RunConfig(strategy=Strategy.BASELINE, workers=2, heap_size=262144).queue_depth == 28
    # A thread per block gets its one block, whatever the arena.
    assert RunConfig(strategy=Strategy.BASELINE).queue_depth == 1
    # 64 KiB, 4 workers: a quarter is 16 KiB, 4 KiB per worker, 1,120 bytes
    # per 1 KiB block (copy, record and headers): 3 blocks, 2 of them queued.
    assert RunConfig(strategy=Strategy.BASELINE, workers=4, heap_size=65536).queue_depth == 2
    # Pools leave 8 KiB shared: no room to queue more than the one block.
    small = RunConfig(strategy=Strategy.POOLED, workers=4, heap_size=65536, pool_size=14336)
    assert small.queue_depth == 1


# 24 KiB is the depth-1 case with room: three baseline workers' trees on a
# 16 KiB heap fragmented it past a 2 KiB array in 12 of 150 runs.
@pytest.mark.parametrize(("heap_size", "depth"), [(24576, 1), (65536, 3), (2097152, 32)])
def test_long_lived_workers_give_the_spec_numbers_at_every_queue_depth(heap_size, depth):
    config = RunConfig(strategy=Strategy.BASELINE, workers=3, heap_size=heap_size)
    assert config.queue_depth == depth
    result = engine.run(VECTORS / "words_20k.txt", config)
    assert result.signature == EXPECTED["words_20k.txt"]["signature"]
    assert result.lock_acquisitions == EXPECTED["words_20k.txt"]["lock_acquisitions_baseline"]


def test_long_lived_workers_keep_their_pools_between_blocks():
    """A long-lived worker resets its pool after each block, so its frees stay
    no-ops and the lock count stays at 4 per block (section 7)."""
    result = engine.run(VECTORS / "random_64k.bin", strategy=Strategy.POOLED, workers=2)
    assert result.lock_acquisitions == 4 * result.blocks
    assert result.counters["pool_allocs"] == result.counters["pool_frees"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("workers", 129, "workers must be between 0 and 128 (got 129)"),
        ("workers", -1, "workers must be between 0 and 128 (got -1)"),
        ("lock", "ticket", "unknown lock kind 'ticket': choose one of mutex, spin, adaptive"),
    ],
)
def test_bad_lock_kinds_and_worker_counts_are_refused(field, value, message):
    with pytest.raises(engine.InputError) as caught:
        RunConfig(**{field: value})
    assert str(caught.value) == message


@pytest.mark.parametrize("lock", list(LockKind), ids=lambda k: k.label)
def test_a_long_lived_run_pauses_and_cancels(lock):
    config = RunConfig(strategy=Strategy.BASELINE, workers=3, lock=lock)
    with engine.Run(VECTORS / "random_64k.bin", config) as handle:
        handle.set_speed(0.01)
        thread, outcome = start_and_pause_after(handle, blocks=2)
        frozen = handle.counters()
        assert handle.counters() == frozen
        handle.resume()
        handle.cancel()
        thread.join(30)
        assert not thread.is_alive()
        assert isinstance(outcome.get("error"), engine.RunCancelled)


def test_python_m_engine_takes_lock_and_workers():
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "engine",
            str(VECTORS / "random_64k.bin"),
            "--strategy",
            "pooled",
            "--lock",
            "spin",
            "--workers",
            "2",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert f"Final signature: {EXPECTED['random_64k.bin']['signature']}" in done.stdout
    assert "Lock acquisitions: 256\n" in done.stdout
    assert "2 long-lived worker(s), spin locks)" in done.stdout


def test_python_m_engine_lists_the_strategies():
    done = subprocess.run(
        [sys.executable, "-m", "engine", "--list-strategies"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0
    lines = done.stdout.splitlines()
    assert [line.split()[0] for line in lines] == [s.label for s in Strategy]
    assert "baseline   available" in lines
