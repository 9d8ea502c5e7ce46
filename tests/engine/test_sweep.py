"""Sweeps (issue 12): engine/sweep.py, engine/machine.py and ``python -m engine sweep``.

Small inputs and repeat 2 keep this quick; every figure compared is exact
(signatures and lock counts of tests/vectors, the pooled lock model).
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import os
import pathlib
import re
import signal
import struct
import subprocess
import sys
import threading
import zlib

import pytest

import engine
from engine import machine, sweep_cli
from engine.machine import load_warning
from engine.sweep import (
    CSV_COLUMNS,
    DETERMINISTIC_LOCKS,
    Sweep,
    SweepError,
    file_input,
    generated_bytes,
    generated_input,
    plan_sweep,
    write_csv,
)
from tests.conftest import EXPECTED, VECTORS
from tests.engine.helpers import wait_until
from tests.engine.test_sanitizers import pooled_locks_model

ROOT = pathlib.Path(__file__).resolve().parents[2]
RANDOM = VECTORS / "random_64k.bin"
POOLS = [2048, 8192, 32768]


def read_csv(path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        assert tuple(reader.fieldnames or ()) == CSV_COLUMNS
        return list(reader)


def pooled_plan(repeat=2, strategies=("pooled",)):
    return plan_sweep(
        [file_input(RANDOM)], {"strategy": list(strategies), "pool_size": POOLS}, repeat=repeat
    )


# -- rows equal single runs ---------------------------------------------------------------


def test_csv_rows_equal_individual_runs(tmp_path):
    order = []
    plan = pooled_plan(repeat=2, strategies=("baseline", "pooled"))
    result = Sweep(plan, on_progress=lambda done, total, row: order.append((done, total))).execute()
    assert result.complete and result.error is None
    assert order == [(n, 12) for n in range(1, 13)]
    out = tmp_path / "sweep.csv"
    write_csv(result.rows, out)
    rows = read_csv(out)
    assert len(rows) == 12
    data = RANDOM.read_bytes()
    want = EXPECTED["random_64k.bin"]
    model = {pool: pooled_locks_model(data, pool) for pool in POOLS}
    assert model == {2048: 56428, 8192: 39916, 32768: want["lock_acquisitions_pooled"]}
    for strategy in ("baseline", "pooled"):
        for pool in POOLS:
            single = engine.run(RANDOM, strategy=strategy, pool_size=pool)
            mine = [r for r in rows if r["strategy"] == strategy and r["pool_size"] == str(pool)]
            assert len(mine) == 2
            expected_locks = (
                want["lock_acquisitions_baseline"] if strategy == "baseline" else model[pool]
            )
            assert single.lock_acquisitions == expected_locks
            for row in mine:
                assert int(row["signature"]) == single.signature == want["signature"]
                assert int(row["expected_signature"]) == want["signature"]
                assert int(row["lock_acquisitions"]) == expected_locks
                assert int(row["blocks"]) == want["blocks"] == 64
                assert int(row["input_bytes"]) == want["bytes"]
                assert row["input"] == "random_64k.bin"
                assert (row["lock"], row["workers"], row["batch_size"]) == ("mutex", "0", "20")
                assert (row["heap_size"], row["block_size"]) == ("2097152", "1024")
                # The time breakdown sums over the 20 slots and the coordinator.
                states = sum(float(row[f"{s}_s"]) for s in engine.TIME_STATES)
                assert states == pytest.approx(21 * float(row["wall_s"]), rel=0.02)
                assert float(row["free_list_longest"]) >= 1
    summaries = {
        (s.point.config.strategy.label, s.point.config.pool_size): s for s in result.summaries()
    }
    for pool in POOLS:
        pooled = summaries[("pooled", pool)]
        assert pooled.lock_acquisitions == model[pool] and pooled.runs == 2
        assert pooled.min_s <= pooled.median_s <= pooled.max_s
        baseline = summaries[("baseline", pool)]
        assert pooled.speedup == pytest.approx(baseline.median_s / pooled.median_s)
        assert baseline.speedup == pytest.approx(1.0)


def test_repeats_are_interleaved():
    seen = []
    plan = plan_sweep([file_input(VECTORS / "ramp.bin")], {"batch_size": [1, 5, 20]}, repeat=3)
    result = Sweep(
        plan, on_progress=lambda d, t, row: seen.append((row.run, row.round, row.point.index))
    ).execute()
    assert seen == [(1 + r * 3 + p, r + 1, p + 1) for r in range(3) for p in range(3)]
    assert [r.run for r in result.rows] == list(range(1, 10))
    assert {r.lock_acquisitions for r in result.rows} == {4526}


def test_a_grid_of_locks_workers_and_batches_keeps_every_count():
    """12 points: every lock kind and worker shape reproduces the baseline's count."""
    name = "single_symbol.bin"
    plan = plan_sweep(
        [file_input(VECTORS / name)],
        {"lock": ["mutex", "spin", "adaptive"], "workers": [0, 2], "batch_size": [1, 20]},
        engine.RunConfig(strategy=engine.Strategy.BASELINE),
    )
    assert len(plan.points) == 12 and plan.swept == ("lock", "workers", "batch_size")
    assert plan.points[0].label == "mutex, workers 0, batch 1"
    result = Sweep(plan).execute()
    assert result.complete
    assert {r.lock_acquisitions for r in result.rows} == {
        EXPECTED[name]["lock_acquisitions_baseline"]
    }
    assert {r.signature for r in result.rows} == {EXPECTED[name]["signature"]}
    kinds = [(r.point.config.lock.label, r.point.config.workers) for r in result.rows]
    assert len(set(kinds)) == 6


# -- cancelling -----------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["cancel", "event", "callable"])
def test_a_cancelled_sweep_keeps_the_rows_it_finished(tmp_path, how):
    k = 3
    event = threading.Event()
    holder: dict = {}

    def progress(done, total, row):
        if done == k:
            if how == "cancel":
                holder["sweep"].cancel()
            else:
                event.set()

    should = {"cancel": None, "event": event, "callable": event.is_set}[how]
    sweep = Sweep(pooled_plan(repeat=2), on_progress=progress, should_cancel=should)
    holder["sweep"] = sweep
    result = sweep.execute()
    assert result.cancelled and not result.complete and result.error is None
    assert [r.run for r in result.rows] == [1, 2, 3]
    out = tmp_path / "cancelled.csv"
    write_csv(result.rows, out)
    rows = read_csv(out)
    assert [int(r["lock_acquisitions"]) for r in rows] == [56428, 39916, 256]
    assert [r["round"] for r in rows] == ["1", "1", "1"]


def test_cancel_stops_the_current_run(tmp_path):
    """sweep.cancel() from another thread cancels the run in progress: no row from it."""
    big = generated_input(1 << 20, tmp_path)
    plan = plan_sweep([big], {"strategy": ["baseline"]}, repeat=50)
    sweep = Sweep(plan)
    outcome: dict = {}
    thread = threading.Thread(target=lambda: outcome.update(result=sweep.execute()))
    thread.start()
    try:
        wait_until(lambda: sweep.busy, "a run started")
        sweep.cancel()
    finally:
        sweep.cancel()
        thread.join(60)
    assert not thread.is_alive()
    result = outcome["result"]
    assert result.cancelled and len(result.rows) < 50


# -- errors that name the point -------------------------------------------------------------


def test_a_wrong_signature_stops_the_sweep_and_names_the_point(monkeypatch):
    real = Sweep._execute_one

    def tampered(self, path, config):
        result = real(self, path, config)
        if config.pool_size == 8192:
            return dataclasses.replace(result, signature=result.signature + 1)
        return result

    monkeypatch.setattr(Sweep, "_execute_one", tampered)
    result = Sweep(pooled_plan(repeat=2)).execute()
    assert result.error == (
        "point 2 (random_64k.bin, pooled, pool 8 KiB, batch 20, mutex lock, 0 workers, "
        "heap 2 MiB): signature 1124439213 in round 1, but the single-threaded reference "
        "is 1124439212"
    )
    assert [r.signature_ok for r in result.rows] == [True, False]


def test_lock_counts_must_not_move_between_repeats(monkeypatch):
    real = Sweep._execute_one
    calls = []

    def drifting(self, path, config):
        result = real(self, path, config)
        calls.append(config.strategy)
        if len(calls) == 6:  # the reference run, then round 2's point 2
            counters = dict(result.counters, lock_acquisitions=39917)
            return dataclasses.replace(result, counters=counters)
        return result

    monkeypatch.setattr(Sweep, "_execute_one", drifting)
    result = Sweep(pooled_plan(repeat=2)).execute()
    assert result.error == (
        "point 2 (random_64k.bin, pooled, pool 8 KiB, batch 20, mutex lock, 0 workers, "
        "heap 2 MiB): 39,917 lock acquisitions in round 2 but 39,916 in round 1; pooled's "
        "count is fixed by the input and parameters"
    )
    assert len(result.rows) == 5


def test_a_failed_run_names_the_point_and_keeps_earlier_rows():
    plan = plan_sweep(
        [file_input(RANDOM)],
        {"strategy": ["pooled", "baseline"], "heap_size": [2 << 20, 64 << 10]},
        engine.RunConfig(pool_size=2048, batch_size=20),
    )
    result = Sweep(plan).execute()
    assert isinstance(result.exception, engine.HeapExhausted)
    assert result.error.startswith(
        "point 2 (random_64k.bin, pooled, pool 2 KiB, batch 20, mutex lock, 0 workers, "
        "heap 64 KiB): heap exhausted"
    )
    assert len(result.rows) == 1


def test_unavailable_strategies_are_skipped_with_their_reason(monkeypatch):
    everything = list(engine.Strategy)
    plan = plan_sweep([file_input(RANDOM)], {"strategy": everything})
    unavailable = [(s, s.unavailable_reason()) for s in everything if s.unavailable_reason()]
    assert list(plan.skipped) == unavailable
    assert [p.config.strategy for p in plan.points] == [
        s for s in everything if s.unavailable_reason() is None
    ]
    monkeypatch.setattr(engine.Strategy, "unavailable_reason", lambda self: "not on this box")
    with pytest.raises(SweepError) as caught:
        plan_sweep([file_input(RANDOM)], {"strategy": ["mimalloc", "pooled"]})
    assert str(caught.value) == (
        "none of the strategies can run on this machine (mimalloc: not on this box; "
        "pooled: not on this box)"
    )


def test_every_available_strategy_reproduces_the_signature():
    """Whatever strategies exist on this build: rows agree with single runs, and a
    strategy without an arena has no lock count (None, an empty CSV cell)."""
    runnable = [s for s in engine.Strategy if s.unavailable_reason() is None]
    plan = plan_sweep([file_input(RANDOM)], {"strategy": runnable})
    result = Sweep(plan).execute()
    assert result.complete
    for row in result.rows:
        strategy = row.point.config.strategy
        assert row.signature == EXPECTED["random_64k.bin"]["signature"]
        if strategy in DETERMINISTIC_LOCKS:
            assert row.lock_acquisitions == engine.run(RANDOM, strategy=strategy).lock_acquisitions
        elif strategy.uses_arena:
            assert row.lock_acquisitions is not None and row.walk_figures is not None
        else:
            assert row.lock_acquisitions is None and row.walk_figures is None
            assert row.csv_record()["lock_acquisitions"] == ""


@pytest.mark.parametrize(
    ("axes", "repeat", "message"),
    [
        ({"pool_size": [2048, 2048]}, 1, "pool size: 2 KiB is listed twice"),
        ({"strategy": ["pooled", "POOLED"]}, 1, "strategy: pooled is listed twice"),
        ({"pool_size": []}, 1, "pool size: the list of values is empty"),
        (
            {"threads": [1]},
            1,
            "cannot sweep 'threads': choose from strategy, lock, workers, "
            "batch_size, heap_size, pool_size",
        ),
        ({}, 0, "repeat must be a whole number from 1 to 1000 (got 0)"),
        ({}, True, "repeat must be a whole number from 1 to 1000 (got True)"),
        (
            {"strategy": ["fast"]},
            1,
            "unknown strategy 'fast': choose one of "
            + ", ".join(s.label for s in engine.USER_STRATEGIES),
        ),
        (
            {"batch_size": [0]},
            1,
            "random_64k.bin, strategy baseline, lock mutex, workers 0, "
            "batch_size 0, heap_size 2 MiB, pool_size 32 KiB: batch size must be between 1 and "
            "128 (got 0)",
        ),
        (
            {"pool_size": [2048] * 1, "batch_size": list(range(1, 101))},
            101,
            "the sweep would make 10,100 runs; at most 10,000 in one sweep",
        ),
    ],
)
def test_bad_plans_are_one_line(axes, repeat, message):
    with pytest.raises(SweepError) as caught:
        plan_sweep([file_input(RANDOM)], axes, repeat=repeat)
    assert str(caught.value) == message


# -- generated inputs ---------------------------------------------------------------------


def test_generated_inputs_are_deterministic_and_checked(tmp_path):
    first = generated_input(4096, tmp_path)
    assert first.path == tmp_path / "random_4096.bin" and first.label == "random 4 KiB"
    digest = "c2f9b9625fd4edc628dce6dd859f13af6d92e6ce78526702b73cbe9829aa33a9"
    assert hashlib.sha256(first.path.read_bytes()).hexdigest() == digest
    assert generated_bytes(4096) == first.path.read_bytes()
    assert first.path.stat().st_mode & 0o777 == 0o666 & ~machine_umask()
    first.path.write_bytes(b"\0" * 4096)  # edited by hand: regenerated, not trusted
    again = generated_input(4096, tmp_path)
    assert hashlib.sha256(again.path.read_bytes()).hexdigest() == digest
    assert engine.run(again.path, strategy="single").signature == 683913883
    with pytest.raises(
        SweepError,
        match=r"^a generated input must be between 1 byte and "
        r"256 MiB \(got 0 bytes\)$",
    ):
        generated_input(0, tmp_path)


def machine_umask() -> int:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1], 8) for line in f if line.startswith("Umask:"))


# -- machine stamp --------------------------------------------------------------------------


def test_machine_stamp_fields():
    stamp = machine.machine_stamp()
    assert stamp.cpu_count == os.cpu_count()
    assert stamp.affinity == len(os.sched_getaffinity(0))
    assert stamp.cores == stamp.affinity
    with open("/proc/cpuinfo") as f:
        names = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
    if names:
        assert stamp.cpu_model == " ".join(names[0].split())
    assert stamp.python == ".".join(map(str, sys.version_info[:3]))
    assert stamp.platform.startswith("Linux ")
    assert stamp.load_before is not None and len(stamp.load_before) == 3
    assert stamp.load_after is None and stamp.warning() is None
    done = stamp.finished()
    assert done.load_after is not None and len(done.load_after) == 3
    assert done.elapsed_s is not None and done.elapsed_s >= 0
    assert done.own_cores is not None and done.own_cores >= 0
    assert done.other_cores is not None and done.other_cores >= 0
    record = done.as_dict()
    assert set(record) >= {
        "cpu_count",
        "affinity",
        "cpu_model",
        "load_before",
        "load_after",
        "cores",
        "load_warning",
        "python",
        "platform",
        "started",
    }
    lines = done.lines()
    assert lines[0] == (
        f"Machine: {stamp.cpu_model}, {stamp.cpu_count} cores; Python {stamp.python}; "
        f"{stamp.platform}"
    )
    assert lines[1].startswith("Load average (1/5/15 min): ")


def test_cpu_model_falls_back_gracefully(tmp_path):
    arm = tmp_path / "cpuinfo"
    arm.write_text("processor\t: 0\nBogoMIPS\t: 48.00\nHardware\t: BCM2835\n")
    assert machine.cpu_model(str(arm)) == "BCM2835"
    spaced = tmp_path / "spaced"
    spaced.write_text("model name\t:  AMD   EPYC  7B13\n")
    assert machine.cpu_model(str(spaced)) == "AMD EPYC 7B13"
    fallback = machine.cpu_model(str(tmp_path / "missing"))
    assert fallback and fallback == (
        __import__("platform").processor() or __import__("platform").machine() or "unknown"
    )


@pytest.mark.parametrize(
    ("before", "after", "cores", "own", "elapsed", "warned"),
    [
        (0.2, 0.6, 2, 0.0, 0.0, False),  # moved 0.4 < 1.0, stays under 1
        (0.2, 1.3, 2, 0.0, 0.0, True),  # crossed 1 on 2 cores
        (1.3, 0.6, 2, 0.0, 0.0, True),  # crossed 1 downwards
        (1.2, 1.9, 2, 0.0, 0.0, False),  # moved 0.7 < 1.0, both above 1
        (1.2, 2.2, 2, 0.0, 0.0, True),  # moved 1.0 = 0.5 x 2 cores
        (0.5, 2.4, 8, 0.0, 0.0, False),  # 8 cores: 1.9 < 4, no crossing rule
        (0.5, 4.5, 8, 0.0, 0.0, True),  # 8 cores: moved 4.0
        (0.2, 1.6, 2, 2.0, 60.0, False),  # the sweep's own 2 cores x 0.632 explain it
        (0.2, 2.9, 2, 2.0, 60.0, True),  # 2.9 - 1.26 = 1.64: someone else came
    ],
)
def test_load_change_rule(before, after, cores, own, elapsed, warned):
    text = load_warning(before, after, cores, own_cores=own, elapsed_s=elapsed)
    assert (text is not None) == warned
    if warned:
        assert "\n" not in text and "during the sweep" in text


def test_load_warning_text():
    assert load_warning(0.2, 1.3, 2) == (
        "the 1-minute load rose from 0.20 to 1.30 on 2 cores during the sweep: another "
        "process started using the CPU, so these timings mix two machine states (the "
        "baseline is the most sensitive); rerun on a quiet machine to compare"
    )
    assert load_warning(0.2, 2.9, 2, own_cores=2.0, elapsed_s=60.0) == (
        "the 1-minute load rose from 0.20 to 1.64 after removing this sweep's own share "
        "(1.26) on 2 cores during the sweep: another process started using the CPU, so these "
        "timings mix two machine states (the baseline is the most sensitive); rerun on a "
        "quiet machine to compare"
    )
    stamp = _two_core_stamp((0.1, 0.1, 0.1), (1.5, 0.5, 0.2), own=0.0, elapsed=10.0)
    assert stamp.lines()[-1] == "Warning: " + load_warning(0.1, 1.5, 2)


def _two_core_stamp(before, after, *, own, elapsed, others=None) -> machine.MachineStamp:
    """This machine's stamp, as if a sweep had run on 2 cores with these loads."""
    return dataclasses.replace(
        machine.machine_stamp(),
        affinity=2,
        load_before=before,
        load_after=after,
        own_cores=own,
        other_cores=others,
        elapsed_s=elapsed,
    )


@pytest.mark.parametrize(("others", "warned"), [(0.05, False), (0.19, False), (0.8, True)])
def test_no_load_warning_when_nobody_else_used_the_cpu(others, warned):
    """The reproduced report on an idle machine warned "another process started
    using the CPU" while /proc/stat saw other processes use 0.05 cores: the
    load rose with its own baseline threads queueing for the 2 cores."""
    stamp = _two_core_stamp(
        (0.29, 0.68, 1.31), (3.90, 1.74, 1.62), own=1.22, elapsed=91.0, others=others
    )
    assert (stamp.warning() is not None) == warned
    assert (stamp.as_dict()["load_warning"] is not None) == warned


# -- the command line ------------------------------------------------------------------------


def run_cli(capsys, *args) -> tuple[int, str, str]:
    code = sweep_cli.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


BAD = [
    (
        ["--pool-size", "2K,,8K"],
        "--pool-size: empty item in '2K,,8K' (separate values with single commas)",
    ),
    (
        ["--pool-size", "2K,"],
        "--pool-size: empty item in '2K,' (separate values with single commas)",
    ),
    (["--pool-size", " "], "--pool-size: no values given"),
    (["--pool-size", "8K,8192"], "--pool-size: 8 KiB is listed twice"),
    (["--pool-size", "0"], "--pool-size: 0 is out of range (256 B to 16 MiB)"),
    (
        ["--pool-size=-2K"],
        "--pool-size: '-2K' is not a size: use bytes or a K/M suffix, e.g. 2M, 32K, 1024",
    ),
    (["--pool-size", "1G"], "--pool-size: 1G is out of range (256 B to 16 MiB)"),
    (["--pool-size", "2.1K"], "--pool-size: '2.1K' is not a whole number of bytes"),
    (["--heap-size", "100G"], "--heap-size: 100G is out of range (4 KiB to 256 MiB)"),
    (
        ["--strategy", "pooled,fast"],
        "--strategy: unknown strategy 'fast': choose from "
        + ", ".join(s.label for s in engine.Strategy)
        + " or all",
    ),
    (["--strategy", "pooled,Pooled"], "--strategy: pooled is listed twice"),
    (["--strategy", "all,pooled"], "--strategy: 'all' already names every strategy; give it alone"),
    (
        ["--lock", "mutex,futex"],
        "--lock: unknown lock kind 'futex': choose from mutex, spin, adaptive",
    ),
    (["--batch", "0"], "--batch: 0 is out of range (1 to 128)"),
    (["--batch", "99999999999999"], "--batch: '99999999999999' is not a whole number"),
    (["--batch", "٣"], "--batch: '٣' is not a whole number"),
    (["--workers=-1"], "--workers: -1 is out of range (0 to 128)"),
    (["--workers", "2,2"], "--workers: 2 is listed twice"),
    (["--repeat", "0"], "--repeat must be from 1 to 1000 (got 0)"),
    (["--repeat", "1001"], "--repeat must be from 1 to 1000 (got 1001)"),
    (["--repeat", "x"], "--repeat: 'x' is not a whole number"),
    (["--block-size", "0"], "--block-size: 0 is out of range (1 B to 1 MiB)"),
    (["--plot", "out.jpg"], "--plot writes PNG: give a name ending in .png (got 'out.jpg')"),
    (
        ["--csv", "/nonexistent-folder/out.csv"],
        "--csv: cannot write '/nonexistent-folder/out.csv': its folder does not exist",
    ),
    (["--csv", str(RANDOM)], f"--csv: '{RANDOM}' would overwrite the input"),
    (["--csv", str(VECTORS)], f"--csv: cannot write '{VECTORS}': it is not a regular file"),
    (["--input-size", "1K"], "give FILE or --input-size, not both"),
    (
        ["--strategy", "pooled", "--pool-size", "256K"],
        "random_64k.bin, strategy pooled, lock "
        "mutex, workers 0, batch_size 20, heap_size 2 MiB, pool_size 256 KiB: heap too small for "
        "the pools: 20 pools of 262144 bytes take 5242880 of the 2097152-byte heap, which must "
        "keep at least 4096 bytes for the shared region (pool size at most 104640 bytes with "
        "this heap and batch)",
    ),
]


@pytest.mark.parametrize(("args", "message"), BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_command_lines_are_one_line(capsys, args, message):
    before = RANDOM.read_bytes()
    code, out, err = run_cli(capsys, RANDOM, *args)
    assert (code, out, err) == (2, "", f"error: {message}\n")
    assert RANDOM.read_bytes() == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "error: give an input: FILE, or --input-size LIST for generated inputs"),
        (["--input-size", "0"], "error: --input-size: 0 is out of range (1 B to 256 MiB)"),
        (["--input-size", "1G"], "error: --input-size: 1G is out of range (1 B to 256 MiB)"),
        (
            ["--input-size", "1K", "--input-folder", str(RANDOM)],
            f"error: cannot keep generated inputs in '{RANDOM}': it is not a folder",
        ),
        (
            ["a\0b"],
            "error: a?b: the input path 'a?b' contains a NUL byte, which no file name can hold",
        ),
        (
            ["/nonexistent"],
            "error: nonexistent: cannot open '/nonexistent': No such file or directory",
        ),
        (
            ["/dev/null"],
            "error: null: cannot read '/dev/null': it is a character device, not a regular file",
        ),
    ],
)
def test_bad_inputs_are_one_line(capsys, args, message):
    code, out, err = run_cli(capsys, *args)
    assert (code, out, err) == (2, "", message + "\n")


def test_missing_matplotlib_is_one_line(capsys, monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib raises
    code, out, err = run_cli(capsys, RANDOM, "--plot", tmp_path / "out.png")
    assert (code, out) == (2, "")
    assert err == (
        "error: --plot needs matplotlib, which is not installed: pip install "
        "'heapscope[plot]' (or pip install matplotlib)\n"
    )
    assert not (tmp_path / "out.png").exists()


def test_cli_table_and_csv(capsys, tmp_path):
    out_csv = tmp_path / "pools.csv"
    code, out, err = run_cli(
        capsys,
        RANDOM,
        "--strategy",
        "baseline,pooled",
        "--pool-size",
        "2K,8K,32K",
        "--repeat",
        "2",
        "--csv",
        out_csv,
    )
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == "Sweep of random_64k.bin (65,536 bytes, reference signature 1124439212)"
    assert lines[1] == "6 points x 2 repeats = 12 runs, interleaved; 12 done"
    head = lines.index("") + 1
    assert lines[head].split() == [
        "#",
        "strategy",
        "pool",
        "runs",
        "median",
        "s",
        "min",
        "s",
        "max",
        "s",
        "locks",
        "speedup",
    ]
    table = [line.split() for line in lines[head + 1 : head + 7]]
    assert [(r[0], r[1], r[2] + r[3], r[4], r[8]) for r in table] == [
        ("1", "baseline", "2KiB", "2", "64,620"),
        ("2", "baseline", "8KiB", "2", "64,620"),
        ("3", "baseline", "32KiB", "2", "64,620"),
        ("4", "pooled", "2KiB", "2", "56,428"),
        ("5", "pooled", "8KiB", "2", "39,916"),
        ("6", "pooled", "32KiB", "2", "256"),
    ]
    assert [r[9] for r in table[:3]] == ["1.00x"] * 3
    assert "Every run's signature equals its input's single-threaded reference (12 runs)." in lines
    assert any(line.startswith("Machine: ") for line in lines)
    assert lines[-1] == f"CSV: {out_csv} (12 rows, {out_csv.stat().st_size:,} bytes)"
    rows = read_csv(out_csv)
    assert [(r["run"], r["round"], r["point"]) for r in rows] == [
        (str(1 + r * 6 + p), str(r + 1), str(p + 1)) for r in range(2) for p in range(6)
    ]
    assert out_csv.stat().st_mode & 0o777 == 0o666 & ~machine_umask()


def test_cli_generated_inputs(capsys, tmp_path):
    code, out, err = run_cli(
        capsys,
        "--input-size",
        "4K,16K",
        "--strategy",
        "pooled",
        "--input-folder",
        tmp_path,
        "--csv",
        tmp_path / "gen.csv",
    )
    assert (code, err) == (0, "")
    rows = read_csv(tmp_path / "gen.csv")
    assert [(r["input"], r["input_bytes"], r["signature"]) for r in rows] == [
        ("random 4 KiB", "4096", "683913883"),
        ("random 16 KiB", "16384", "998098941"),
    ]
    for row, size in zip(rows, (4096, 16384), strict=True):
        single = engine.run(tmp_path / f"random_{size}.bin", strategy="pooled")
        assert int(row["lock_acquisitions"]) == single.lock_acquisitions == 4 * (size // 1024)


def test_ctrl_c_cancels_the_run_and_keeps_the_finished_rows(capsys, monkeypatch, tmp_path):
    """SIGINT after 2 rows: exit 130, one line, and those 2 rows in the CSV."""
    cancelled = threading.Event()

    class Watched(sweep_cli.Sweep):
        def cancel(self):
            super().cancel()
            cancelled.set()

    def progress(stream):
        def on_row(done, total, row):
            if done == 2:
                os.kill(os.getpid(), signal.SIGINT)
                assert cancelled.wait(30)  # the handler has run: the next check stops

        return on_row

    monkeypatch.setattr(sweep_cli, "Sweep", Watched)
    monkeypatch.setattr(sweep_cli, "_progress", progress)
    out_csv = tmp_path / "partial.csv"
    code, out, err = run_cli(
        capsys,
        RANDOM,
        "--strategy",
        "pooled",
        "--pool-size",
        "2K,8K,32K",
        "--repeat",
        "2",
        "--csv",
        out_csv,
    )
    assert code == 130
    assert err == "interrupted (SIGINT): sweep cancelled after 2 of 6 runs\n"
    assert "3 points x 2 repeats = 6 runs, interleaved; 2 done" in out
    assert [r["lock_acquisitions"] for r in read_csv(out_csv)] == ["56428", "39916"]
    assert signal.getsignal(signal.SIGINT) is not None  # the handler was put back


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_plot_writes_a_png_from_the_real_command(tmp_path):
    out_png = tmp_path / "sweep.png"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "engine",
            "sweep",
            RANDOM,
            "--strategy",
            "baseline,pooled",
            "--pool-size",
            "2K,8K,32K",
            "--repeat",
            "2",
            "--plot",
            out_png,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert (proc.returncode, proc.stderr) == (0, "")  # no matplotlib warning either
    assert proc.stdout.splitlines()[-1] == f"Plot: {out_png} ({out_png.stat().st_size:,} bytes)"
    data = out_png.read_bytes()
    assert png_size(data) == (1500, 440)  # three panels: time, locks, speedup
    from matplotlib import image

    pixels = image.imread(io.BytesIO(data), format="png")
    assert pixels.shape[:2] == (440, 1500)
    rgb = pixels[..., :3]
    not_white = (rgb < 0.9).any(axis=-1).mean()
    assert 0.01 < not_white < 0.5  # lines, markers, text: drawn, not blank
    # matplotlib's first colours: blue (baseline) and orange (pooled) lines are there.
    blue = (abs(rgb[..., 0] - 0x1F / 255) < 0.05) & (abs(rgb[..., 2] - 0xB4 / 255) < 0.05)
    orange = (abs(rgb[..., 0] - 1.0) < 0.05) & (abs(rgb[..., 1] - 0x7F / 255) < 0.05)
    assert blue.sum() > 200 and orange.sum() > 200
    assert zlib.crc32(data) != 0


def test_the_readme_documents_every_csv_column():
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## Sweeps") :]
    section = section[: section.index("\n## ", 4)]
    for column in CSV_COLUMNS:
        assert re.search(rf"`{column}`", section), column
    assert "python -m engine sweep" in section
