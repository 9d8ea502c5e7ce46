"""The run controller, headless: no window, no widget, only its signals."""

from __future__ import annotations

import pytest

from engine import MIN_SPEED, EngineError, RunCancelled, RunConfig, Strategy
from gui import inputs
from gui.results_table import input_key
from gui.run_controller import JobKind, RunController
from tests.conftest import EXPECTED, VECTORS

RAMP = str(VECTORS / "ramp.bin")


class Recorder:
    """A controller that runs RAMP with default settings, and what it reported."""

    def __init__(self, path: str = RAMP):
        self.path = path
        self.controller = RunController(launch=self.launch)
        self.started: list[tuple[JobKind, bool]] = []
        self.finished: list[tuple[JobKind, object]] = []
        self.failed: list[tuple[JobKind | None, EngineError]] = []
        c = self.controller
        c.started.connect(lambda job: self.started.append((job.kind, c.current_run is job.run)))
        c.finished.connect(lambda job, result: self.finished.append((job.kind, result)))
        c.failed.connect(lambda job, exc: self.failed.append((job and job.kind, exc)))

    def launch(self, strategy: Strategy) -> str | None:
        try:
            job = self.controller.new_run(self.path, RunConfig(strategy=strategy))
        except EngineError as exc:
            return str(exc)
        job.run_id = self.controller.next_run_id()
        self.controller.start(job)
        return None


@pytest.fixture
def rec():
    recorder = Recorder()
    try:
        yield recorder
    finally:
        recorder.controller.shutdown()  # no run outlives its test, pass or fail


def test_queued_baseline_then_pooled_with_the_reference_between(rec, qtbot):
    exp = EXPECTED["ramp.bin"]
    with qtbot.waitSignal(rec.controller.idle, timeout=30000):
        rec.controller.queue([Strategy.BASELINE, Strategy.POOLED])
    # The reference of the input runs once, after the first run: current_run is only a RUN's.
    assert rec.started == [(JobKind.RUN, True), (JobKind.REFERENCE, False), (JobKind.RUN, True)]
    assert [kind for kind, _ in rec.finished] == [JobKind.RUN, JobKind.REFERENCE, JobKind.RUN]
    baseline, reference, pooled = (result for _, result in rec.finished)
    assert [r.strategy for r in (baseline, reference, pooled)] == [
        Strategy.BASELINE,
        Strategy.SINGLE,
        Strategy.POOLED,
    ]
    assert {baseline.signature, reference.signature, pooled.signature} == {exp["signature"]}
    assert baseline.lock_acquisitions == exp["lock_acquisitions_baseline"]
    assert pooled.lock_acquisitions == exp["lock_acquisitions_pooled"]
    assert rec.controller.references == {input_key(RAMP, 1024): exp["signature"]}
    assert rec.failed == []
    assert not rec.controller.busy and rec.controller.current_run is None


def test_stop_cancels_the_run_and_the_queue_and_skips_the_reference(rec, qtbot):
    rec.controller.set_speed(MIN_SPEED)  # applies to the runs to come
    rec.controller.queue([Strategy.BASELINE, Strategy.POOLED])
    run = rec.controller.current_run
    assert run is not None and rec.controller.busy
    qtbot.waitUntil(lambda: run.counters()["lock_acquisitions"] > 0, timeout=20000)
    with qtbot.waitSignal(rec.controller.idle, timeout=20000):
        assert rec.controller.stop()
    assert [kind for kind, _ in rec.failed] == [JobKind.RUN]
    assert isinstance(rec.failed[0][1], RunCancelled)
    assert rec.started == [(JobKind.RUN, True)] and rec.finished == []
    assert rec.controller.references == {} and not rec.controller.busy
    assert not rec.controller.stop()  # nothing left to stop


def test_pause_and_resume_only_apply_to_a_live_run(rec, qtbot):
    assert not rec.controller.toggle_pause() and not rec.controller.paused
    rec.controller.set_speed(MIN_SPEED)
    rec.controller.queue([Strategy.BASELINE])
    assert rec.controller.toggle_pause() and rec.controller.paused
    assert rec.controller.toggle_pause() and not rec.controller.paused
    with qtbot.waitSignal(rec.controller.idle, timeout=20000):
        rec.controller.stop()
    assert not rec.controller.paused


def test_a_queued_run_that_cannot_start_fails_with_the_reason_and_goes_idle(qtbot, tmp_path):
    rec = Recorder(str(tmp_path / "missing.bin"))
    try:
        with qtbot.waitSignal(rec.controller.idle, timeout=5000):
            rec.controller.queue([Strategy.BASELINE, Strategy.POOLED])
        assert len(rec.failed) == 1 and rec.failed[0][0] is None
        assert str(rec.failed[0][1]) == f"cannot open '{rec.path}': No such file or directory"
        assert rec.started == [] and not rec.controller.busy
    finally:
        rec.controller.shutdown()


def test_a_reference_that_cannot_be_computed_is_reported_once(rec, qtbot, tmp_path):
    gone = tmp_path / "gone.bin"
    gone.write_bytes(b"x" * 100)
    key = input_key(str(gone), 1024)
    gone.unlink()
    reasons = []
    rec.controller.reference_failed.connect(lambda k, message: reasons.append((k, message)))
    rec.controller.want_reference(key, 2 * 1024 * 1024)
    with qtbot.waitSignal(rec.controller.idle, timeout=5000):
        rec.controller.step()
    assert reasons == [(key, f"'{inputs.shown_path(str(gone))}' changed since the run")]
    assert rec.controller.references == {key: None}
    with qtbot.waitSignal(rec.controller.idle, timeout=5000):
        rec.controller.step()  # known to be impossible: not tried again
    assert len(reasons) == 1 and rec.started == []
