"""Runs a blocking job (a sweep, the report's experiments) on a QThread.

The engine calls its progress callback on the job's thread; Qt signals carry
each row to the GUI thread (a queued connection), where the charts are drawn.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QThread, Signal

from engine.sweep import Sweep, SweepPlan, SweepRow


class JobThread(QThread):
    """Runs ``job(progress)`` once; ``progress(done, total, item)`` may be called from it.

    ``row_done`` carries each progress call to the GUI thread, ``job_done`` the job's
    return value, ``job_failed`` one line when it raised.
    """

    row_done = Signal(int, int, object)
    job_done = Signal(object)
    job_failed = Signal(str)

    def __init__(self, job: Callable[[Callable[[int, int, object], None]], object], parent=None):
        super().__init__(parent)
        self.setObjectName("heapscope-experiments")
        self._job = job

    def run(self) -> None:  # the job's thread
        try:
            result = self._job(self.row_done.emit)
        except Exception as exc:  # noqa: BLE001 - shown as one line, never a crash
            self.job_failed.emit(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
            return
        self.job_done.emit(result)


class SweepThread(JobThread):
    """One sweep: ``row_done`` per finished run (a SweepRow), ``job_done`` the SweepResult."""

    def __init__(self, plan: SweepPlan, parent=None):
        self.plan = plan
        self.sweep: Sweep | None = None
        super().__init__(self._execute, parent)

    def _execute(self, progress: Callable[[int, int, SweepRow], None]):
        self.sweep = Sweep(self.plan, progress, should_cancel=self.isInterruptionRequested)
        return self.sweep.execute()

    def cancel(self) -> None:
        """Cancels the current run; the rows finished so far are kept."""
        self.requestInterruption()  # before the sweep exists: it looks here between runs
        if self.sweep is not None:
            self.sweep.cancel()


__all__ = ["JobThread", "SweepThread"]
