"""Run control without widgets: the run queue, reference runs, start / stop / pause / speed.

One job at a time runs on its own thread (:class:`gui.worker.RunThread`): a
user's run (:attr:`JobKind.RUN`) or the single-threaded reference run that
gives an input's expected signature (:attr:`JobKind.REFERENCE`, computed once
per input, between runs).  The window creates a run with :meth:`new_run`,
prepares its views, then :meth:`start` s it; everything else arrives as
signals.  Nothing here draws, so the controller runs headless in tests.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from engine import EngineError, InputError, Run, RunCancelled, RunConfig, RunResult, Strategy
from gui import inputs
from gui.results_table import input_key
from gui.slow_motion import SpeedLog
from gui.worker import RunThread

if TYPE_CHECKING:
    from gui.charts import Trace

#: An input's identity for its reference signature: (path, size, mtime, block size).
InputKey = tuple[Any, ...]


class JobKind(enum.Enum):
    RUN = "run"
    REFERENCE = "reference"


@dataclass(eq=False)
class Job:
    """What runs now: the thread, and what its result is for."""

    kind: JobKind
    runner: RunThread
    key: InputKey
    run_id: int = 0
    #: The run's curve in the charts (the window sets it; None for references).
    trace: Trace | None = field(default=None)
    #: The speeds the run ran at (slow motion), from its start.
    speeds: SpeedLog = field(default_factory=SpeedLog)

    @property
    def run(self) -> Run | None:
        return self.runner.run


class RunController(QObject):
    """Queue, reference runs and the one job running now.

    ``launch(strategy)`` starts a queued run and returns None, or returns why it
    could not (the window's start_run with its settings and error banner).

    Signals
    -------
    started(Job)
        A job's thread started.
    finished(Job, RunResult)
        A job completed (a reference's signature is stored before this).
    failed(Job | None, EngineError)
        A job failed or was stopped (:class:`engine.RunCancelled`); None when a
        queued run could not even start.
    reference_failed(key, str)
        An input's reference signature cannot be computed (the reason).
    ended(Job)
        A job's thread ended and its run was freed.
    idle()
        Nothing runs and nothing is queued.
    """

    started = Signal(object)
    finished = Signal(object, object)
    failed = Signal(object, object)
    reference_failed = Signal(object, str)
    ended = Signal(object)
    idle = Signal()

    def __init__(
        self,
        launch: Callable[[Strategy], str | None] | None = None,
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self._launch = launch
        self._job: Job | None = None
        self._queue: list[Strategy] = []
        self._run_counter = 0
        self._stop_requested = False
        #: Signature of each input's single-threaded run (None: it cannot be computed).
        self.references: dict[InputKey, int | None] = {}
        #: Inputs that need a reference, with the heap size to compute it with: only
        #: inputs the user chose (never a path named by a session file).
        self._wanted: dict[InputKey, int] = {}
        self.speed = 1.0
        self.paused = False

    # -- state ----------------------------------------------------------------

    @property
    def busy(self) -> bool:
        return self._job is not None

    @property
    def current_job(self) -> Job | None:
        return self._job

    @property
    def current_run(self) -> Run | None:
        """The user's run now executing (None when idle or computing a reference)."""
        job = self._job
        return job.run if job is not None and job.kind is JobKind.RUN else None

    def next_run_id(self) -> int:
        """A new run number (live runs and replays share the numbering)."""
        self._run_counter += 1
        return self._run_counter

    # -- runs -----------------------------------------------------------------

    def queue(self, strategies: list[Strategy]) -> None:
        """Runs the strategies one after the other."""
        self._queue.extend(strategies)
        if not self.busy:
            self.step()

    def new_run(self, path: str, config: RunConfig) -> Job:
        """A run of ``path``, not started yet (raises InputError when it cannot run)."""
        run = Run(path, config)
        run.set_speed(self.speed)
        return Job(
            JobKind.RUN, RunThread(run, JobKind.RUN.value), input_key(path, config.block_size)
        )

    def start(self, job: Job) -> None:
        """Starts a job made by :meth:`new_run` (the window has laid out its views)."""
        if self.busy:
            raise RuntimeError("a job is already running")
        self.paused = False
        self._stop_requested = False
        self._job = job
        job.speeds = SpeedLog.at(self.speed)
        self._connect(job)
        job.runner.start()
        self.started.emit(job)

    def stop(self) -> bool:
        """Cancels the current job and the queue; True when a job was running."""
        self._queue.clear()
        if self._job is None:
            return False
        self._stop_requested = True
        self._job.runner.cancel()
        return True

    def set_speed(self, fraction: float) -> None:
        """Slow motion for the live run and the next ones (1.0 .. MIN_SPEED)."""
        self.speed = fraction
        run = self.current_run
        job = self._job
        if run is not None and job is not None:
            run.set_speed(fraction)
            job.speeds = job.speeds.changed(run.elapsed_s, fraction)

    def toggle_pause(self) -> bool:
        """Pauses or resumes the live run (its threads park at safe points); False if none."""
        run = self.current_run
        if run is None:
            return False
        if self.paused:
            run.resume()
        else:
            run.pause()
        self.paused = not self.paused
        return True

    def shutdown(self) -> None:
        """Cancels the job (if any) and waits for its thread: safe to call twice."""
        self._queue.clear()
        job, self._job = self._job, None
        if job is not None:
            # Cancel wakes paused and slowed-down engine threads; a job that still has not
            # ended is kept referenced by gui.worker (a running QThread must not be destroyed).
            if not job.runner.stop():
                job.runner.stop(60000)
            job.runner.release()

    # -- references -----------------------------------------------------------

    def want_reference(self, key: InputKey, heap_size: int) -> None:
        """Asks for the reference signature of an input the user chose (once)."""
        self._wanted.setdefault(key, heap_size)

    def forget_wanted(self) -> None:
        """The rows that wanted references are gone: compute none for them."""
        self._wanted.clear()

    def step(self) -> None:
        """After a job: the missing reference signature first, then the next queued run."""
        pending = [key for key in self._wanted if key not in self.references]
        if pending and not self._stop_requested and self._start_reference(pending[0]):
            return
        if self._queue:
            strategy = self._queue.pop(0)
            reason = self._launch(strategy) if self._launch is not None else "nothing can start it"
            if reason is not None:
                self._queue.clear()
                self.failed.emit(None, EngineError(reason, -1))
                self.idle.emit()
            return
        self._stop_requested = False
        self.idle.emit()

    def _start_reference(self, key: InputKey) -> bool:
        """The single-threaded signature of an input, on the worker thread (once per input)."""
        path, _size, _mtime, block_size = key
        config = RunConfig(
            strategy=Strategy.SINGLE,
            heap_size=self._wanted[key],
            block_size=block_size,
            telemetry=False,
        )
        try:
            reason = inputs.not_regular_reason(path)
            if reason or input_key(path, block_size) != key:
                raise InputError(reason or f"'{inputs.shown_path(path)}' changed since the run", -1)
            run = Run(path, config)
        except InputError as exc:
            self.references[key] = None
            self.reference_failed.emit(key, str(exc))
            return False
        job = Job(JobKind.REFERENCE, RunThread(run, JobKind.REFERENCE.value), key)
        self._job = job
        self._connect(job)
        job.runner.start()
        self.started.emit(job)
        return True

    # -- the job's signals ----------------------------------------------------

    def _connect(self, job: Job) -> None:
        # Qt still delivers a queued signal after disconnect(): each call says which job
        # it comes from, and only the current job's are acted on.
        runner = job.runner
        serial = runner.serial
        assert runner.worker is not None and runner.thread is not None
        runner.worker.finished.connect(lambda r, s=serial: self._on_finished(s, r))
        runner.worker.errored.connect(lambda e, s=serial: self._on_errored(s, e))
        runner.thread.finished.connect(lambda s=serial: self.thread_finished(s))

    def _current(self, serial: int) -> Job | None:
        job = self._job
        return job if job is not None and job.runner.serial == serial else None

    def _on_finished(self, serial: int, result: RunResult) -> None:
        job = self._current(serial)
        if job is None:
            return  # shut down while the signal was queued
        if job.kind is JobKind.REFERENCE:
            self.references[job.key] = result.signature
        else:
            self._wanted.setdefault(job.key, result.config.heap_size)
        self.finished.emit(job, result)

    def _on_errored(self, serial: int, exc: EngineError) -> None:
        job = self._current(serial)
        if job is None:
            return
        if job.kind is JobKind.RUN:
            self._queue.clear()
        elif not isinstance(exc, RunCancelled):  # a cancelled one is asked again later
            self.references[job.key] = None
        self.failed.emit(job, exc)
        if job.kind is JobKind.REFERENCE and not isinstance(exc, RunCancelled):
            self.reference_failed.emit(job.key, str(exc))

    def thread_finished(self, serial: int) -> None:
        """Job ``serial``'s thread ended: free it and go on (a stale serial is ignored)."""
        job = self._current(serial)
        if job is None:
            return
        self._job = None
        self.paused = False
        job.runner.release()  # closes the Run (C memory freed now) and drops worker and thread
        self.ended.emit(job)
        self.step()
