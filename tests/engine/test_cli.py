"""``python -m engine``: the exercise's lines, JSON, and one-line errors."""

import json
import subprocess
import sys

import pytest

from tests.conftest import EXPECTED, VECTORS


def cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "engine", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("name", sorted(EXPECTED))
@pytest.mark.parametrize("strategy", ["baseline", "pooled"])
def test_prints_the_exercise_lines(name, strategy):
    proc = cli(VECTORS / name, "--strategy", strategy)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    want = EXPECTED[name]
    assert lines[0] == f"Final signature: {want['signature']}"
    assert lines[1] == f"Lock acquisitions: {want['lock_acquisitions_' + strategy]}"
    assert lines[3].startswith("Wall time: ")


def test_json_output_and_size_suffixes():
    proc = cli(
        VECTORS / "random_64k.bin",
        "--strategy",
        "pooled",
        "--heap-size",
        "4M",
        "--pool-size",
        "8K",
        "--batch",
        "3",
        "--json",
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["signature"] == EXPECTED["random_64k.bin"]["signature"]
    assert (out["strategy"], out["heap_size"], out["pool_size"], out["batch_size"]) == (
        "pooled",
        4 * 1024 * 1024,
        8192,
        3,
    )
    assert out["blocks"] == 64 and out["bytes"] == 65536
    assert out["wall_s"] > 0 and out["lock_acquisitions"] > 256


@pytest.mark.parametrize(
    "args, code, message",
    [
        (["missing.bin"], 2, "error: cannot open 'missing.bin': No such file or directory"),
        ([VECTORS], 2, f"error: cannot read '{VECTORS}': it is a directory, not a regular file"),
        (
            [VECTORS / "ramp.bin", "--batch", "0"],
            2,
            "error: batch size must be between 1 and 128 (got 0)",
        ),
        (
            [VECTORS / "ramp.bin", "--heap-size", "2Q"],
            2,
            "python -m engine: error: argument --heap-size: '2Q' is not a size: use bytes or a K/M "
            "suffix, e.g. 2M, 32K, 1024",
        ),
        (
            [VECTORS / "ramp.bin", "--strategy", "pooled", "--heap-size", "64K"],
            2,
            "error: heap too small for the pools: 20 pools of 32768 bytes take 655360 of the "
            "65536-byte heap, which must keep at least 4096 bytes for the shared region (pool size "
            "at most 3072 bytes with this heap and batch)",
        ),
        (
            [VECTORS / "random_64k.bin", "--strategy", "single", "--heap-size", "4K"],
            3,
            "error: heap exhausted: thread slot T0 asked for 32 bytes (tree node) for block 0;",
        ),
    ],
)
def test_errors_are_one_line_with_distinct_exit_codes(args, code, message):
    proc = cli(*args)
    assert proc.returncode == code
    assert proc.stdout == ""
    assert len(proc.stderr.splitlines()) == 1
    assert proc.stderr.startswith(message)
    assert "Traceback" not in proc.stderr
