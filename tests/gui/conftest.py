"""GUI test fixtures: offscreen Qt, isolated settings and data folder, no stray threads."""

import os
import weakref

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def pytest_collection_modifyitems(items):
    # The offscreen platform warns when a window is shown or raised (tooltips): not a failure.
    for item in items:
        if "tests/gui" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(
                pytest.mark.qt_log_ignore(
                    r"This plugin does not support (propagateSizeHints|raise)"
                )
            )


@pytest.fixture(autouse=True)
def isolated_state(tmp_path, monkeypatch):
    """Each test gets its own QSettings store and generated-inputs folder."""
    monkeypatch.setenv("HEAPSCOPE_DATA_DIR", str(tmp_path / "user-data"))
    from PySide6.QtCore import QSettings

    QSettings.setPath(QSettings.IniFormat, QSettings.UserScope, str(tmp_path / "settings"))
    yield


@pytest.fixture(autouse=True)
def no_dangling_qthreads(monkeypatch):
    """Fails a test that leaves a QThread running (napari does the same).

    Whatever the test did (and even when it failed half-way), every engine run
    it started is cancelled and waited for here, so a paused or slowed-down run
    can never outlive its test and hang the suite.
    """
    from PySide6.QtCore import QThread

    from gui import worker

    started = []
    original = QThread.start

    def start(self, *args, **kwargs):
        started.append(weakref.ref(self))  # weak: a finished run's thread must be freed
        return original(self, *args, **kwargs)

    monkeypatch.setattr(QThread, "start", start)
    yield
    started = [t for t in (ref() for ref in started) if t is not None]
    running = []
    for thread in started:
        try:
            if thread.isRunning():
                running.append(thread.objectName() or repr(thread))
        except RuntimeError:  # already deleted by Qt: it had finished
            pass
    stuck = worker.stop_all()
    for thread in started:
        try:
            thread.quit()
            thread.wait(5000)
        except RuntimeError:
            pass
    if stuck:
        pytest.fail(f"engine run(s) did not stop within 10 s of cancel: {', '.join(stuck)}")
    if running:
        pytest.fail(f"test left QThread(s) running: {', '.join(running)}")


@pytest.fixture
def window(qtbot):
    """A shown main window; closed (and its run stopped) after the test."""
    from gui.main_window import MainWindow

    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    yield w
    w.shutdown()
