"""GUI runs free everything they own when they end, and nothing a run starts can outlive
the window (or a failing test)."""

import gc
import weakref

import pytest

from engine import MIN_SPEED, Run, RunConfig, SlotState, Strategy
from gui import worker
from gui.main_window import MainWindow
from gui.run_controller import JobKind
from tests.conftest import EXPECTED, VECTORS
from tests.gui.helpers import open_vector


@pytest.fixture
def tracked(monkeypatch):
    """Weak references to every Run, RunWorker and QThread a RunThread is built with."""
    refs = []
    original = worker.RunThread.__init__

    def init(self, run, kind="run"):
        original(self, run, kind)
        refs.append((kind, weakref.ref(run), weakref.ref(self.worker), weakref.ref(self.thread)))

    monkeypatch.setattr(worker.RunThread, "__init__", init)
    return refs


def _alive(cls):
    gc.collect()
    return [o for o in gc.get_objects() if isinstance(o, cls)]


def test_thirty_runs_leave_no_run_worker_or_thread_alive(window, qtbot, tracked):
    open_vector(window, "ramp.bin")
    exp = EXPECTED["ramp.bin"]
    for i in range(30):
        strategy = Strategy.POOLED if i % 2 else Strategy.BASELINE
        with qtbot.waitSignal(window.sig_idle, timeout=30000):
            assert window.start_run(strategy), window.error_text()
        if i == 14:
            window.clear_runs()
    rows = window.results.rows
    assert len(rows) == 15
    assert [r.text("signature") for r in rows] == [f"{exp['signature']}  ✓"] * 15
    assert [r.result.lock_acquisitions for r in rows] == [
        exp["lock_acquisitions_pooled"]
        if r.result.strategy is Strategy.POOLED
        else exp["lock_acquisitions_baseline"]
        for r in rows
    ]
    # 30 runs and one reference (ramp.bin's, computed once).
    assert [k for k, *_ in tracked].count("run") == 30
    assert [k for k, *_ in tracked].count("reference") == 1
    gc.collect()
    alive = [
        (kind, what)
        for kind, *refs in tracked
        for what, ref in zip(("Run", "RunWorker", "QThread"), refs, strict=True)
        if ref() is not None
    ]
    assert alive == []
    assert _alive(Run) == [] and _alive(worker.RunWorker) == []
    assert worker.live_jobs() == []
    # What the window keeps (rows, curves, the last session) are copies: they still read.
    assert window.last_session.result["signature"] == exp["signature"]
    assert window.last_session.heap_states.shape[1] == 2 * 1024 * 1024 // 16


def test_shutdown_stops_a_paused_slowed_down_run(qtbot):
    w = MainWindow()
    qtbot.addWidget(w)
    try:
        w.show()
        open_vector(w, "random_64k.bin")
        w.set_speed(MIN_SPEED)
        assert w.start_run(Strategy.BASELINE)
        qtbot.waitUntil(
            lambda: w.busy and w.controller.current_job.runner.is_running(), timeout=5000
        )
        w.toggle_pause()
        qtbot.waitUntil(
            lambda: (
                w.controller.current_run.phase.name == "RUNNING"
                and set(w.controller.current_run.slot_states.tolist())
                <= {SlotState.PAUSED, SlotState.IDLE}
            ),
            timeout=10000,
        )
        thread = w.controller.current_job.runner.thread
        w.shutdown()
        assert not w.busy and thread is not None
        assert worker.live_jobs() == []
        assert _alive(worker.RunWorker) == []
    finally:
        w.shutdown()


def test_shutdown_stops_a_reference_run(qtbot, tmp_path):
    w = MainWindow()
    qtbot.addWidget(w)
    try:
        w.show()
        path = w.generate_input("random", 4 * 1024 * 1024)  # its reference takes ~0.5 s
        assert w.input_path == str(path)
        references = []
        w.sig_reference_ready.connect(references.append)
        assert w.start_run(Strategy.POOLED)
        qtbot.waitUntil(
            lambda: (
                w.controller.current_job is not None
                and w.controller.current_job.kind is JobKind.REFERENCE
            ),
            timeout=30000,
        )
        w.shutdown()
        assert not w.busy and worker.live_jobs() == [] and references == []
        # The window is still usable after a shutdown: a new run starts and finishes.
        open_vector(w, "ramp.bin")
        with qtbot.waitSignal(w.sig_idle, timeout=30000):
            assert w.start_run(Strategy.POOLED)
        assert w.results.rows[-1].result.signature == EXPECTED["ramp.bin"]["signature"]
    finally:
        w.shutdown()


def test_the_safety_net_stops_a_paused_run_nobody_cleaned_up(qtbot):
    """What tests/gui/conftest.py does after every test, failing or not."""
    run = Run(str(VECTORS / "random_64k.bin"), RunConfig(strategy=Strategy.BASELINE))
    run.set_speed(MIN_SPEED)
    job = worker.RunThread(run, "abandoned")
    job.start()
    run.pause()
    qtbot.waitUntil(job.is_running, timeout=5000)
    del run
    assert [j.thread.objectName() for j in worker.live_jobs()] == ["heapscope-abandoned"]
    assert worker.stop_all() == []
    assert worker.live_jobs() == [] and job.thread is None and job.run is None


def test_a_stale_signal_from_a_finished_job_does_not_touch_the_next_one(window, qtbot):
    """Qt delivers a queued signal even after disconnect(): it must not end a newer job."""
    open_vector(window, "random_64k.bin")
    window.set_speed(MIN_SPEED)
    assert window.start_run(Strategy.BASELINE)
    controller = window.controller
    old_serial = controller.current_job.runner.serial
    window.shutdown()
    assert window.start_run(Strategy.BASELINE)
    job = controller.current_job
    controller.thread_finished(old_serial)  # what a late event does
    assert controller.current_job is job and job.runner.is_running()
    window.stop()
    qtbot.waitUntil(lambda: not window.busy, timeout=10000)
