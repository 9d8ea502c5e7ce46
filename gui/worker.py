"""One engine run on a QThread: a worker QObject moved to its own thread.

The worker only reports lifecycle (started, finished, errored); the window
reads telemetry itself on its draw timer.  ``Run.execute()`` releases the GIL
while the C engine works, so the GUI thread keeps drawing.
"""
from __future__ import annotations

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from engine import EngineError, Run


class RunWorker(QObject):
    """Executes one :class:`engine.Run` when its thread starts.

    Signals
    -------
    started()
        The run is about to execute.
    finished(RunResult)
        The run completed.
    errored(EngineError)
        The run failed or was cancelled (:class:`engine.RunCancelled`).
    """

    started = Signal()
    finished = Signal(object)
    errored = Signal(object)

    def __init__(self, run: Run):
        super().__init__()
        self.run = run

    @Slot()
    def execute(self) -> None:
        self.started.emit()
        try:
            result = self.run.execute()
        except EngineError as exc:
            self.errored.emit(exc)
        except Exception as exc:  # never let a worker thread die silently
            self.errored.emit(EngineError(f"unexpected error: {exc}", -1))
        else:
            self.finished.emit(result)


class RunThread:
    """A :class:`RunWorker` and its QThread, started together and stopped together."""

    def __init__(self, run: Run, kind: str = "run"):
        self.kind = kind
        self.run = run
        self.thread = QThread()
        self.thread.setObjectName(f"heapscope-{kind}")
        self.worker = RunWorker(run)
        self.worker.moveToThread(self.thread)
        self.thread.started.connect(self.worker.execute)
        # The thread's event loop ends as soon as the run does, whatever the outcome.
        # Direct: quit() is thread-safe and must not wait for the GUI's event loop.
        self.worker.finished.connect(self.thread.quit, Qt.DirectConnection)
        self.worker.errored.connect(self.thread.quit, Qt.DirectConnection)

    def start(self) -> None:
        self.thread.start()

    def stop(self, wait_ms: int = 5000) -> bool:
        """Cancels the run and waits for its thread; True when the thread ended."""
        self.run.cancel()
        self.thread.quit()
        return self.thread.wait(wait_ms)

    def is_running(self) -> bool:
        return self.thread.isRunning()
