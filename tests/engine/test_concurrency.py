"""Runs read, cancelled and repeated from other Python threads."""

import numpy as np
import pytest

import engine
from engine import GAUGES, RunCancelled, RunConfig, RunPhase, Strategy
from tests.conftest import EXPECTED, VECTORS
from tests.engine.helpers import start, wait_until  # noqa: F401 (wait_until: re-exported)


@pytest.fixture(scope="module")
def random_512k(tmp_path_factory):
    path = tmp_path_factory.mktemp("inputs") / "random_512k.bin"
    path.write_bytes(
        np.random.default_rng(7).integers(0, 256, 512 * 1024, dtype=np.uint8).tobytes()
    )
    return path


@pytest.mark.parametrize("strategy", [Strategy.BASELINE, Strategy.POOLED, Strategy.SINGLE])
def test_snapshots_read_during_a_run_stay_consistent(random_512k, strategy):
    handle = engine.Run(random_512k, RunConfig(strategy=strategy, sample_interval_us=500))
    thread, outcome = start(handle)
    previous, snapshots = None, 0
    while True:
        phase = handle.phase
        snap = handle.snapshot()
        snapshots += 1
        if previous is not None:
            for name, value in snap.counters.items():
                if name not in GAUGES:
                    assert value >= previous.counters[name], name
        assert snap.heap_states.shape == (handle.heap_cells,)
        previous = snap
        if phase not in (RunPhase.READY, RunPhase.RUNNING):
            break
    thread.join()
    result = outcome["result"]
    assert snapshots > 1
    assert previous.counters["blocks_done"] == handle.total_blocks == 512
    assert result.blocks == 512
    single = engine.run(random_512k, strategy=Strategy.SINGLE, telemetry=False)
    assert result.signature == single.signature
    series = result.series
    assert len(series["time_s"]) >= 2
    assert series["blocks_done"][-1] == 512  # the last row is the final state
    assert np.all(np.diff(series["time_s"]) > 0)
    assert np.all(np.diff(series["lock_acquisitions"].astype(np.int64)) >= 0)
    handle.close()


def test_cancel_mid_run_stops_the_run(random_512k):
    handle = engine.Run(random_512k, RunConfig(strategy=Strategy.BASELINE))
    handle.set_speed(engine.MIN_SPEED)  # slow enough to be surely mid-run
    thread, outcome = start(handle)
    wait_until(lambda: handle.counters()["lock_acquisitions"] > 0, "the run started")
    handle.cancel()
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert isinstance(outcome["error"], RunCancelled)
    assert str(outcome["error"]) == "run cancelled"
    assert handle.phase is RunPhase.CANCELLED
    assert handle.counters()["blocks_done"] < 512
    handle.close()


def test_close_during_a_run_cancels_then_frees(random_512k):
    handle = engine.Run(random_512k, RunConfig(strategy=Strategy.BASELINE))
    handle.set_speed(engine.MIN_SPEED)
    thread, outcome = start(handle)
    wait_until(lambda: handle.counters()["lock_acquisitions"] > 0, "the run started")
    handle.close()
    thread.join(timeout=30)
    assert isinstance(outcome["error"], RunCancelled)
    with pytest.raises(engine.EngineError, match="this run has been closed"):
        handle.counters()


def test_twenty_runs_in_a_row_in_one_process():
    want = EXPECTED["random_64k.bin"]
    strategies = [Strategy.SINGLE, Strategy.BASELINE, Strategy.POOLED, Strategy.FLOOR] * 5
    for strategy in strategies:
        result = engine.run(VECTORS / "random_64k.bin", strategy=strategy)
        assert result.signature == want["signature"]
        if strategy is Strategy.BASELINE:
            assert result.lock_acquisitions == want["lock_acquisitions_baseline"]
        if strategy is Strategy.POOLED:
            assert result.lock_acquisitions == want["lock_acquisitions_pooled"]


def test_a_run_executes_only_once():
    handle = engine.Run(VECTORS / "ramp.bin")
    handle.execute()
    with pytest.raises(engine.EngineError, match="already been started"):
        handle.execute()


def test_long_runs_keep_their_start_when_the_series_is_downsampled(random_512k):
    config = RunConfig(strategy=Strategy.BASELINE, sample_interval_us=100, sample_capacity=16)
    result = engine.run(random_512k, config)
    series = result.series
    assert 2 <= len(series["time_s"]) <= 16
    # Row 0 is the sampler's first row, taken as the run began: compaction keeps it.
    assert series["time_s"][0] < 0.1 * series["time_s"][-1]
    assert series["blocks_done"][-1] == 512


def test_a_fifo_is_refused_at_once_instead_of_blocking(tmp_path):
    """A FIFO has no size and may never end (nor even open, with no writer):
    only regular files are hashed, and opening one never waits."""
    import os

    fifo = tmp_path / "stream"
    os.mkfifo(fifo)
    with pytest.raises(engine.InputError) as info:
        engine.Run(fifo)
    assert str(info.value) == f"cannot read '{fifo}': it is a FIFO (named pipe), not a regular file"
