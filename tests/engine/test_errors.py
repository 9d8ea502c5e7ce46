"""Bad input: each case gets its own error, with a message that says what to do."""

import os

import pytest

import engine
from engine import HeapExhausted, InputError, RunConfig, Strategy
from tests.conftest import VECTORS


def test_missing_file(tmp_path):
    path = tmp_path / "nope.bin"
    with pytest.raises(InputError) as info:
        engine.Run(path)
    assert str(info.value) == f"cannot open '{path}': No such file or directory"
    assert isinstance(info.value, ValueError)


def test_directory(tmp_path):
    with pytest.raises(InputError) as info:
        engine.Run(tmp_path)
    assert str(info.value) == f"cannot read '{tmp_path}': it is a directory, not a regular file"


def test_unreadable_file(tmp_path):
    path = tmp_path / "secret.bin"
    path.write_bytes(b"x" * 10)
    path.chmod(0)
    as_root = os.geteuid() == 0
    if as_root:
        os.seteuid(65534)  # root reads anything: look at it as nobody
    try:
        with pytest.raises(InputError) as info:
            engine.Run(path)
    finally:
        if as_root:
            os.seteuid(0)
    assert str(info.value) == f"cannot open '{path}': Permission denied"


def test_read_error_mid_file():
    # /proc/self/mem opens fine but reading its first page fails.
    with pytest.raises(InputError) as info:
        engine.run("/proc/self/mem", strategy=Strategy.BASELINE)
    assert str(info.value) == "cannot read '/proc/self/mem' at byte 0: Input/output error"


@pytest.mark.parametrize("strategy", [Strategy.SINGLE, Strategy.BASELINE, Strategy.POOLED])
def test_empty_file_is_valid_with_signature_zero(strategy):
    result = engine.run(VECTORS / "empty.bin", strategy=strategy)
    assert (result.signature, result.blocks, result.lock_acquisitions) == (0, 0, 0)


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("batch_size", 0, "batch size must be between 1 and 128 (got 0)"),
        ("batch_size", -3, "batch size must be between 1 and 128 (got -3)"),
        ("batch_size", 129, "batch size must be between 1 and 128 (got 129)"),
        ("heap_size", 0, "heap size must be between 4096 and 268435456 (got 0)"),
        ("heap_size", -1, "heap size must be between 4096 and 268435456 (got -1)"),
        ("heap_size", 2**40, "heap size must be between 4096 and 268435456 (got 1099511627776)"),
        ("heap_size", 4100, "heap size must be a multiple of 16 bytes (got 4100)"),
        ("pool_size", 0, "pool size must be between 256 and 16777216 (got 0)"),
        ("pool_size", 1000, "pool size must be a multiple of 16 bytes (got 1000)"),
        ("block_size", 0, "block size must be between 1 and 1048576 (got 0)"),
        ("block_size", 2**21, "block size must be between 1 and 1048576 (got 2097152)"),
        ("batch_size", 2.5, "batch size must be a whole number (got 2.5)"),
        (
            "strategy",
            "fast",
            "unknown strategy 'fast': choose one of single, baseline, pooled, sizeclass, batched, "
            "malloc, mimalloc, jemalloc, tcmalloc",
        ),
    ],
)
def test_parameters_out_of_range(field, value, message):
    with pytest.raises(InputError) as info:
        RunConfig(**{field: value})
    assert str(info.value) == message


def test_heap_too_small_for_the_pools():
    with pytest.raises(InputError) as info:
        RunConfig(strategy=Strategy.POOLED, heap_size=512 * 1024, pool_size=32768, batch_size=20)
    assert str(info.value) == (
        "heap too small for the pools: 20 pools of 32768 bytes take 655360 of the 524288-byte "
        "heap, which must keep at least 4096 bytes for the shared region (pool size at most "
        "26000 bytes with this heap and batch)"
    )
    # The same heap is fine for the baseline: it has no pools.
    RunConfig(strategy=Strategy.BASELINE, heap_size=512 * 1024)


@pytest.mark.parametrize("strategy", [Strategy.SINGLE, Strategy.BASELINE, Strategy.POOLED])
def test_heap_too_small_for_the_trees_is_heap_exhausted(strategy):
    config = RunConfig(strategy=strategy, heap_size=8192, pool_size=256, batch_size=3)
    with pytest.raises(HeapExhausted) as info:
        engine.run(VECTORS / "random_64k.bin", config)
    details = info.value.details
    assert details["block_index"] >= 0
    assert details["requested"] > details["largest_free"]
    assert str(info.value).startswith("heap exhausted: ")
    assert (
        f"asked for {details['requested']} bytes ({details['what']}) for block "
        f"{details['block_index']}" in str(info.value)
    )


def test_heap_exhausted_names_the_thread_slot():
    config = RunConfig(strategy=Strategy.SINGLE, heap_size=4096)
    with pytest.raises(HeapExhausted) as info:
        engine.run(VECTORS / "random_64k.bin", config)
    assert str(info.value) == (
        "heap exhausted: thread slot T0 asked for 32 bytes (tree node) for block 0; the shared "
        f"region has {info.value.details['arena_free_bytes']} bytes free in 1 chunks, the "
        f"largest {info.value.details['largest_free']} bytes (heap 4096 bytes, pools 0 bytes)"
    )
    # the process and the engine are fine afterwards
    assert engine.run(VECTORS / "ramp.bin").signature == 485850396


def test_heap_too_small_for_any_pool_says_what_heap_is_needed():
    with pytest.raises(InputError) as info:
        RunConfig(strategy=Strategy.POOLED, heap_size=8192, pool_size=32768, batch_size=20)
    assert str(info.value).endswith("(these pools need a heap of at least 659456 bytes)")
