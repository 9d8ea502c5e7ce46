"""Where the time goes (issue 9, engine part): every slot's nanoseconds
accounted to one state, and the free-list walk and pile-up figures."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time

import numpy as np
import pytest

import engine
from engine import TIME_STATES, RunConfig, Strategy
from tests.conftest import EXPECTED, VECTORS

ROOT = VECTORS.parents[1]
STATE = {name: i for i, name in enumerate(TIME_STATES)}


@pytest.mark.parametrize("strategy", [Strategy.SINGLE, Strategy.BASELINE, Strategy.POOLED])
def test_every_slot_accounts_for_the_whole_wall_time(strategy):
    result = engine.run(VECTORS / "random_64k.bin", strategy=strategy)
    times = result.slot_times_ns
    assert times.shape == (result.config.threads + 1, len(TIME_STATES))
    wall_ns = result.wall_s * 1e9
    for row in times:
        assert row.sum() == pytest.approx(wall_ns, rel=0.01)
    coordinator = times[-1]
    assert coordinator[STATE["read"]] > 0
    assert coordinator[STATE["compute"]] == 0  # it reads, starts, joins and allocates
    breakdown = result.time_breakdown_s
    assert list(breakdown) == list(TIME_STATES)
    assert sum(breakdown.values()) == pytest.approx(result.wall_s * len(times), rel=0.01)


def test_the_single_threaded_reference_only_computes_and_reads():
    result = engine.run(VECTORS / "random_64k.bin", strategy=Strategy.SINGLE)
    worker, coordinator = result.slot_times_ns
    assert worker[STATE["compute"]] > 0
    for state in ("lock_wait", "in_allocator", "thread_start_join"):
        assert worker[STATE[state]] == coordinator[STATE[state]] == 0


@pytest.mark.parametrize("strategy", [Strategy.BASELINE, Strategy.POOLED])
def test_threaded_runs_start_and_join_threads_and_hold_the_lock(strategy):
    result = engine.run(VECTORS / "random_64k.bin", strategy=strategy)
    times = result.slot_times_ns
    assert times[-1, STATE["thread_start_join"]] > 0
    assert times[:-1, STATE["thread_start_join"]].sum() == 0
    assert times[:, STATE["in_allocator"]].sum() > 0  # the coordinator locks 2x per block
    assert (
        result.lock_acquisitions
        == EXPECTED["random_64k.bin"][f"lock_acquisitions_{strategy.label}"]
    )


def test_the_pile_up_and_the_walks_are_counted():
    result = engine.run(VECTORS / "random_64k.bin", strategy=Strategy.BASELINE)
    walks = result.walk_figures
    c = result.counters
    # A worker that takes the lock is itself mid-block, and workers take all but
    # two of every block's 2 x (2k + 3) acquisitions: the average is at least ~1.
    assert walks["workers_mid_block_per_acquisition"] > 0.9
    assert walks["free_list_visits_per_free"] == c["free_list_visits_free"] / c["global_frees"]
    assert walks["free_list_visits_per_alloc"] == c["free_list_visits_alloc"] / c["global_allocs"]
    assert 1 <= walks["free_list_longest"] == c["free_list_longest"]
    assert c["free_list_longest"] >= c["free_list_length"]
    single = engine.run(VECTORS / "random_64k.bin", strategy=Strategy.SINGLE)
    assert single.walk_figures["workers_mid_block_per_acquisition"] == 0.0


def test_the_live_breakdown_is_readable_during_a_run_and_after_close():
    handle = engine.Run(VECTORS / "ramp.bin", RunConfig(strategy=Strategy.BASELINE))
    before = handle.time_breakdown()
    assert before.shape == (21, len(TIME_STATES)) and not before.any()
    result = handle.execute()
    after = handle.time_breakdown()
    assert np.array_equal(after, result.slot_times_ns)
    handle.close()
    with pytest.raises(engine.EngineError, match="closed"):
        handle.time_breakdown()


def test_the_cli_json_has_the_breakdown_and_the_walk_figures():
    out = subprocess.run(
        [sys.executable, "-m", "engine", str(VECTORS / "random_64k.bin"), "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert list(data["time_breakdown_s"]) == list(TIME_STATES)
    assert sum(data["time_breakdown_s"].values()) == pytest.approx(21 * data["wall_s"], rel=0.01)
    for key in (
        "free_list_visits_per_alloc",
        "free_list_visits_per_free",
        "free_list_longest",
        "workers_mid_block_per_acquisition",
    ):
        assert data[key] >= 0
    assert data["lock_acquisitions"] == EXPECTED["random_64k.bin"]["lock_acquisitions_baseline"]


CLOCKSOURCE = "/sys/devices/system/clocksource/clocksource0/current_clocksource"


def _kernel_clocksource() -> str | None:
    try:
        with open(CLOCKSOURCE) as f:
            return f.read().strip()
    except OSError:
        return None


def test_the_clock_is_the_tsc_exactly_where_the_kernel_keeps_time_on_it():
    want = (
        "tsc"
        if platform.machine() == "x86_64" and _kernel_clocksource() == "tsc"
        else "clock_gettime"
    )
    assert engine.clock_source() == want


@pytest.mark.parametrize("forced", [None, "monotonic"])
def test_both_clocks_give_the_same_accounting(forced, tmp_path):
    """The CLI's JSON names the clock; with either one, the states of the
    breakdown add up to the wall time of every lane."""
    env = dict(os.environ)
    env.pop("HEAPSCOPE_CLOCK", None)
    if forced:
        env["HEAPSCOPE_CLOCK"] = forced
    proc = subprocess.run(
        [sys.executable, "-m", "engine", VECTORS / "random_64k.bin", "--strategy", "baseline"]
        + ["--json"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    if forced:
        assert out["clock"] == "clock_gettime"
    else:
        assert out["clock"] == engine.clock_source()
    assert out["signature"] == EXPECTED["random_64k.bin"]["signature"]
    lanes = out["batch_size"] + 1  # the worker slots and the coordinator
    total = sum(out["time_breakdown_s"].values())
    assert total == pytest.approx(out["wall_s"] * lanes, rel=0.01)


def test_the_wall_time_is_in_seconds_of_the_monotonic_clock(tmp_path):
    """A miscalibrated TSC scale would show here: the engine's wall time lies
    inside the monotonic interval around the call, and is most of it."""
    path = tmp_path / "random_256k.bin"
    path.write_bytes(np.random.default_rng(3).integers(0, 256, 256 * 1024, np.uint8).tobytes())
    before = time.monotonic_ns()
    result = engine.run(path, strategy=Strategy.SINGLE)
    outer_ns = time.monotonic_ns() - before
    wall_ns = result.wall_s * 1e9
    assert wall_ns <= outer_ns * 1.001
    assert wall_ns >= outer_ns * 0.5, (wall_ns, outer_ns)
