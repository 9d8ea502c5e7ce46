"""One engine run on a QThread, and who owns what until it is gone.

``Run.execute()`` releases the GIL while the C engine works, so the GUI
thread keeps drawing.  The worker reports the outcome only (finished or
errored); the frame pump (gui.frame_pump) reads telemetry on its draw timer.

Ownership: the worker and the QThread object both live on the GUI thread
(nothing is moved to the run's thread), and the thread's ``run()`` simply
calls :meth:`RunWorker.execute`.  Signals emitted from the run's thread reach
GUI-thread receivers queued.  Once the thread has finished,
:meth:`RunThread.release` closes the :class:`engine.Run` (its C memory is
freed at once) and drops every reference, so the Run, the worker and the
QThread are freed on the GUI thread.  The old design moved the worker to the
run's thread and called ``deleteLater()`` after that thread had ended: the
deletion was never delivered and every run leaked its Run and worker.
"""

from __future__ import annotations

import itertools
import warnings
import weakref
from collections.abc import Callable

from PySide6.QtCore import QDeadlineTimer, QObject, QThread, Signal

from engine import EngineError, Run

#: Jobs whose thread could not be stopped in time: kept referenced so that Qt never
#: destroys a running QThread (that aborts the process); the Run frees itself at its end.
_UNSTOPPABLE: list[RunThread] = []
#: Every job not yet released, so tests (and shutdown paths) can stop them all.
_LIVE: weakref.WeakSet[RunThread] = weakref.WeakSet()
_SERIALS = itertools.count(1)


class RunWorker(QObject):
    """Executes one :class:`engine.Run` (on the thread that calls :meth:`execute`).

    Signals
    -------
    finished(RunResult)
        The run completed.
    errored(EngineError)
        The run failed or was cancelled (:class:`engine.RunCancelled`).
    """

    finished = Signal(object)
    errored = Signal(object)

    def __init__(self, run: Run):
        super().__init__()
        self.run: Run | None = run

    def execute(self) -> None:
        run = self.run
        if run is None:
            return
        try:
            result = run.execute()
        except EngineError as exc:
            # The traceback holds this frame (and so the Run): the GUI only needs the message.
            self.errored.emit(exc.with_traceback(None))
        except Exception as exc:  # never let a worker thread die silently
            self.errored.emit(EngineError(f"unexpected error: {exc}", -1))
        else:
            self.finished.emit(result)
        finally:
            del run


class _ExecThread(QThread):
    """A QThread whose body is one worker's execute() (no event loop needed)."""

    def __init__(self, worker: RunWorker):
        super().__init__()
        self.worker: RunWorker | None = worker

    def run(self) -> None:  # noqa: D401 (Qt override)
        worker = self.worker
        if worker is not None:
            worker.execute()


class RunThread:
    """A :class:`RunWorker` and its QThread, started together, stopped and freed together."""

    def __init__(self, run: Run, name: str = "run"):
        #: Unique per job: a queued signal still arrives after disconnect(), so
        #: receivers check that it comes from the job they are waiting for.
        self.serial = next(_SERIALS)
        self.run: Run | None = run
        self.worker: RunWorker | None = RunWorker(run)
        self.thread: _ExecThread | None = _ExecThread(self.worker)
        self.thread.setObjectName(f"heapscope-{name}")  # named in test failures
        _LIVE.add(self)

    def start(self) -> None:
        if self.thread is not None:
            self.thread.start()

    def cancel(self) -> None:
        if self.run is not None:
            self.run.cancel()

    def wait(self, wait_ms: int | None = None) -> bool:
        """Waits for the thread to end (forever with None); True when it has."""
        if self.thread is None:
            return True
        if wait_ms is None:
            return self.thread.wait(QDeadlineTimer(QDeadlineTimer.Forever))
        return self.thread.wait(wait_ms)

    def stop(self, wait_ms: int = 10000) -> bool:
        """Cancels the run and waits for its thread; True when the thread ended.

        Cancel wakes paused and slowed-down engine threads too, so this normally
        returns within a few milliseconds.
        """
        self.cancel()
        return self.wait(wait_ms)

    def is_running(self) -> bool:
        return self.thread is not None and self.thread.isRunning()

    def release(self) -> bool:
        """Closes the Run and drops the worker and thread; only once the thread has ended.

        Returns False (and keeps everything referenced) if the thread still runs:
        destroying a running QThread would abort the process.
        """
        if self.thread is None:
            return True
        if self.thread.isRunning():
            if self not in _UNSTOPPABLE:
                _UNSTOPPABLE.append(self)
            if self.run is not None:
                self.run.close()  # cancels; the engine frees itself when execute() returns
            return False
        self.thread.wait()
        run, self.run = self.run, None
        worker, self.worker = self.worker, None
        thread, self.thread = self.thread, None
        assert worker is not None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # "failed to disconnect": none were
            for signal in (worker.finished, worker.errored, thread.finished):
                try:
                    signal.disconnect()
                except (RuntimeError, TypeError):
                    pass
        worker.run = None
        thread.worker = None
        if run is not None:
            run.close()
        del run, worker, thread
        _LIVE.discard(self)
        trim_heap()
        return True


def _malloc_trim() -> Callable[[int], int] | None:
    try:
        import ctypes

        return ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):  # not glibc: nothing to do
        return None


_TRIM = _malloc_trim()


def trim_heap() -> None:
    """Gives the memory a finished run freed back to the system (glibc only, ~1-2 ms).

    Each run's heap is a few MiB that glibc keeps in its free lists once the
    charts' and the table's small allocations land above it; without this RSS
    grew by about 2 MiB per run kept in the table, though nothing was leaked.
    """
    if _TRIM is not None:
        _TRIM(0)


def live_jobs() -> list[RunThread]:
    """Every job started or created and not yet released (the tests' safety net)."""
    return [job for job in list(_LIVE) if job.thread is not None] + [
        job for job in _UNSTOPPABLE if job.thread is not None and job not in _LIVE
    ]


def stop_all(wait_ms: int = 10000) -> list[str]:
    """Cancels and waits for every live job; returns the names of those that did not end."""
    stuck = []
    for job in live_jobs():
        name = job.thread.objectName() if job.thread is not None else "?"
        if not job.stop(wait_ms):
            stuck.append(name)
            continue
        job.release()
    _UNSTOPPABLE[:] = [job for job in _UNSTOPPABLE if job.thread is not None]
    return stuck
