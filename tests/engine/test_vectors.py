"""Every vector, every strategy, several batch and pool sizes: the spec's numbers."""

import hashlib

import pytest

import engine
from engine import RunConfig, Strategy
from tests.conftest import EXPECTED, VECTORS

NAMES = sorted(EXPECTED)


@pytest.mark.parametrize("name", NAMES)
def test_vector_file_is_the_spec_copy(name):
    data = (VECTORS / name).read_bytes()
    assert len(data) == EXPECTED[name]["bytes"]
    assert hashlib.sha256(data).hexdigest() == EXPECTED[name]["sha256"]


@pytest.mark.parametrize("name", NAMES)
def test_first_block_hashes(name):
    data = (VECTORS / name).read_bytes()
    blocks = [data[i : i + 1024] for i in range(0, len(data), 1024)]
    want = EXPECTED[name]["first_block_hashes"]
    assert [engine.block_hash(b) for b in blocks[: len(want)]] == want


# Pool size only matters to the pooled strategy.
COMBINATIONS = [
    (strategy, batch, pool)
    for strategy in (Strategy.SINGLE, Strategy.BASELINE, Strategy.POOLED)
    for batch in (1, 3, 20)
    for pool in ((2048, 8192, 32768) if strategy is Strategy.POOLED else (32768,))
]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("strategy, batch, pool", COMBINATIONS)
def test_signature_for_every_strategy_batch_and_pool(name, strategy, batch, pool):
    result = engine.run(
        VECTORS / name, RunConfig(strategy=strategy, batch_size=batch, pool_size=pool)
    )
    want = EXPECTED[name]
    assert result.signature == want["signature"]
    assert result.blocks == want["blocks"]
    assert result.bytes == want["bytes"]
    if strategy is Strategy.SINGLE:
        assert result.lock_acquisitions == 0


@pytest.mark.parametrize("name", NAMES)
def test_lock_acquisitions_at_default_settings(name):
    want = EXPECTED[name]
    baseline = engine.run(VECTORS / name, strategy=Strategy.BASELINE)
    pooled = engine.run(VECTORS / name, strategy=Strategy.POOLED)
    assert baseline.lock_acquisitions == want["lock_acquisitions_baseline"]
    assert pooled.lock_acquisitions == want["lock_acquisitions_pooled"]
    # Every lock taken by umalloc is matched by one taken by ufree.
    assert (
        baseline.counters["lock_acquisitions_alloc"] == baseline.counters["lock_acquisitions_free"]
    )
    # Pooled: only the coordinator's two allocations and the worker's two frees.
    assert pooled.counters["global_allocs"] == 2 * want["blocks"]


def test_floor_strategy_keeps_the_signature():
    result = engine.run(VECTORS / "random_64k.bin", strategy=Strategy.FLOOR)
    assert result.signature == EXPECTED["random_64k.bin"]["signature"]
    assert result.lock_acquisitions == 0


@pytest.mark.parametrize("pool", [2048, 8192])
def test_small_pools_fall_back_to_the_lock_per_workload_rule(pool):
    """ramp.bin's full blocks have all 256 symbols: 515 allocations each.

    A 2 KiB pool holds the heap record and 63 nodes (the 2 KiB array never
    fits); an 8 KiB pool holds the record, the array and 191 nodes.  Every
    other allocation and its free take the lock, plus the coordinator's 4.
    """
    in_pool = {2048: 64, 8192: 193}[pool]
    full_blocks_locks = 4 * (4 + 2 * (515 - 2 - in_pool))  # 4 full blocks, 2k+1 = 513 worker allocs
    result = engine.run(VECTORS / "ramp.bin", strategy=Strategy.POOLED, pool_size=pool)
    # the last block has 100 distinct bytes: 2*100+1 = 201 worker allocations
    last_in_pool = in_pool  # 201 allocations overflow both pool sizes too
    last_block_locks = 4 + 2 * (201 - last_in_pool)
    assert result.lock_acquisitions == full_blocks_locks + last_block_locks


def test_block_size_changes_blocks_not_the_workload_rules(tmp_path):
    data = bytes(range(256)) * 16  # 4096 bytes
    path = tmp_path / "ramp4k.bin"
    path.write_bytes(data)
    result = engine.run(path, strategy=Strategy.BASELINE, block_size=512)
    assert result.blocks == 8
    single = engine.run(path, strategy=Strategy.SINGLE, block_size=512)
    assert single.signature == result.signature
    assert single.signature == (8 * engine.block_hash(data[:512])) % engine.HASH_MODULUS


# Issue 11: sizeclass (B) and batched (C).  Every lock kind and worker mode is
# in test_strategies_b_c.py; here the default settings and other slab and
# cache sizes against the spec's numbers.
@pytest.mark.parametrize("name", NAMES)
def test_sizeclass_and_batched_at_default_settings(name):
    from tests.engine.test_strategies_b_c import batched_model

    want = EXPECTED[name]
    data = (VECTORS / name).read_bytes()
    sizeclass = engine.run(VECTORS / name, strategy=Strategy.SIZECLASS)
    batched = engine.run(VECTORS / name, strategy=Strategy.BATCHED)
    assert sizeclass.signature == batched.signature == want["signature"]
    # a class lock per umalloc and ufree, the arena lock per slab
    assert sizeclass.lock_acquisitions == (
        want["lock_acquisitions_baseline"] + sizeclass.counters["slab_refills"]
    )
    assert batched.lock_acquisitions == batched_model(data)["locks"]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(
    ("strategy", "overrides"),
    [
        (Strategy.SIZECLASS, {"slab_size": 2048, "batch_size": 3}),
        (Strategy.SIZECLASS, {"slab_size": 1 << 20, "heap_size": 8 << 20}),
        (Strategy.BATCHED, {"cache_size": 1, "batch_size": 3}),
        (Strategy.BATCHED, {"cache_size": 1024}),
    ],
    ids=["slab2k", "slab1m", "cache1", "cache1024"],
)
def test_sizeclass_and_batched_signatures_with_other_slabs_and_caches(name, strategy, overrides):
    result = engine.run(VECTORS / name, strategy=strategy, **overrides)
    assert result.signature == EXPECTED[name]["signature"]
    assert result.blocks == EXPECTED[name]["blocks"]
