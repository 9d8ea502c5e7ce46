"""A live run on screen: what the views do when a run starts, finishes, fails or is stopped.

The :class:`~gui.run_controller.RunController` runs jobs and knows no widget;
this class lays out the views for a new run (its curve, heap-map layout,
progress and recording) and puts each outcome where it belongs: the results
table, the charts, the status bar or the error banner.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QTableView

from engine import (
    EngineError,
    InputError,
    LockKind,
    RunCancelled,
    RunConfig,
    RunResult,
    Strategy,
    format_size,
)
from gui import inputs, replay_input
from gui.charts import ChartsPanel, Trace, colour_for, run_label
from gui.frame_pump import FramePump
from gui.full_speed_axis import FullSpeedAxis, slowed_label
from gui.heap_map import HeapMapView
from gui.recording import Recording
from gui.replay import ReplayController
from gui.results_table import ResultsModel
from gui.run_controller import InputKey, Job, JobKind, RunController
from gui.settings_panel import SettingsPanel
from gui.slow_motion import SpeedLog
from gui.slowed_rows import add_row
from gui.status_bar import ErrorBanner, StatusFields
from gui.strategy_text import lock_text
from gui.time_feed import TimeFeed, run_name
from gui.worker import trim_heap


class LiveRun(QObject):
    """Starts runs from the settings and shows their outcome.

    Signals
    -------
    sig_run_started(int), sig_run_finished(RunResult), sig_run_failed(EngineError),
    sig_reference_ready(int)
        As :class:`gui.main_window.MainWindow`'s, which relays them.
    """

    sig_run_started = Signal(int)
    sig_run_finished = Signal(object)
    sig_run_failed = Signal(object)
    sig_reference_ready = Signal(int)

    def __init__(
        self,
        controller: RunController,
        settings_panel: SettingsPanel,
        charts: ChartsPanel,
        results: ResultsModel,
        table: QTableView,
        heap_map: HeapMapView,
        status: StatusFields,
        banner: ErrorBanner,
        recording: Recording,
        frame_pump: FramePump,
        replay: ReplayController,
        time_feed: TimeFeed,
    ):
        super().__init__()
        self.controller = controller
        self.settings_panel = settings_panel
        self.charts = charts
        self.results = results
        self.table = table
        self.heap_map = heap_map
        self.status = status
        self.banner = banner
        self.recording = recording
        #: The status bar of the last finished run (state, progress maximum, blocks):
        #: shown again once a signature check after it ends.
        self._last_finished: tuple[str, int, int] | None = None
        self.frame_pump = frame_pump
        self.replay = replay
        self.time_feed = time_feed
        #: The input the user has open (runs read it).
        self.input_path: str | None = None
        #: The charts' time axis in full-speed time (slowed runs), shared with replays.
        self.full_speed = FullSpeedAxis(charts)
        replay.full_speed = self.full_speed
        replay.recording = recording
        replay.clear_runs = self.clear_runs
        replay.attach_lanes(time_feed.lanes)
        controller.started.connect(self._on_job_started)
        controller.finished.connect(self._on_job_finished)
        controller.failed.connect(self._on_job_failed)
        controller.reference_failed.connect(self._on_reference_failed)

    def start_run(
        self, strategy: Strategy, pool_size: int | None = None, lock: LockKind | None = None
    ) -> bool:
        """Starts one run now; False (with a message) when it cannot start.

        ``pool_size`` and ``lock`` override the settings panel's for this run only
        (the guided demo): the panel, and so the saved settings, stay as the user
        left them.
        """
        if self.controller.busy:
            self.banner.show_error("a run is already in progress: stop it first (Esc)")
            return False
        if not self.input_path:
            self.banner.show_error("open an input file first (Ctrl+O), or pick one of the samples")
            return False
        config = self.settings_panel.config_for(strategy)
        if isinstance(config, str):
            self.banner.show_error(f"cannot run {strategy.label}: {config}")
            return False
        reason = inputs.not_regular_reason(self.input_path)  # replaced since it was opened?
        if reason:
            self.banner.show_error(reason)
            return False
        try:
            if pool_size is not None and pool_size != config.pool_size:
                config = config.replace(pool_size=pool_size)
            if lock is not None and lock is not config.lock:
                config = config.replace(lock=lock)
            job = self.controller.new_run(self.input_path, config)
        except InputError as exc:
            self.banner.show_error(
                str(exc)
                if pool_size is None
                else f"cannot run {strategy.label} with {format_size(pool_size)} pools: {exc}"
            )
            return False
        run = job.run
        assert run is not None
        self.banner.clear()
        job.run_id = run_id = self.controller.next_run_id()
        job.trace = trace = Trace(
            run_id,
            slowed_label(run_label(run_id, config), SpeedLog.at(self.controller.speed)),
            strategy.label,
            colour_for(strategy.label, self.charts.traces),
        )
        self.charts.add_trace(trace)
        self.time_feed.begin(run_id, strategy.label)
        title = f"Run #{run_id} {strategy.label}: {run.slot_count} thread slots, " + (
            f"{run.slot_count} pools of {format_size(config.pool_size)} + shared region"
            if strategy is Strategy.POOLED
            else "one shared heap under one lock"
        )
        self.heap_map.set_layout(
            config.heap_size, config.pool_size, strategy, run.slot_count, title
        )
        self.heap_map.set_hint("")
        self.recording.begin(run)
        self.replay.stop()
        self.status.progress.setRange(0, max(1, run.total_blocks))
        self.status.progress.setValue(0)
        self.status.set_state(f"Running #{run_id} {strategy.label}", trace.colour)
        self.controller.start(job)
        return True

    def stop(self) -> None:
        """Cancels the current run (and anything queued); the engine stops within ~10 ms."""
        if self.controller.stop():
            self.status.set_state("Stopping…")

    def toggle_pause(self) -> None:
        """Pauses or resumes the live run (its threads park at safe points), or the replay."""
        job = self.controller.current_job
        if not self.controller.toggle_pause():
            if self.replay.session is not None:
                self.replay.toggle_play()  # Space plays / pauses a replay too
            return
        assert job is not None
        if self.controller.paused:
            self.status.set_state(f"Paused #{job.run_id}")
            self.status.say("Paused")
        else:
            self.status.set_state(f"Running #{job.run_id}")
            self.status.say("Resumed", 3000)

    def _show_last_finished(self) -> None:
        """After the signature check (a reference run after the first run on an
        input): the status bar shows the last finished run again, not 'Idle 1 / 1'."""
        last = self._last_finished
        if last is None:
            self.status.progress.setRange(0, 1)
            self.status.progress.setValue(1)
            self.status.set_state("Idle")
            return
        text, maximum, blocks = last
        self.status.progress.setRange(0, maximum)
        self.status.progress.setValue(blocks)
        self.status.set_state(text)

    def _on_job_started(self, job: Job) -> None:
        if job.kind is JobKind.REFERENCE:
            self.status.set_state("Checking signature (single thread)…", "")
            self.status.progress.setRange(0, 0)
        if job.kind is JobKind.RUN:
            self.sig_run_started.emit(job.run_id)

    def _on_job_finished(self, job: Job, result: RunResult) -> None:
        if job.kind is JobKind.REFERENCE:
            self.results.set_reference(job.key, result.signature)
            self._show_last_finished()
            self.replay.refresh_status()  # an open replay's moment, not "Idle"
            self.sig_reference_ready.emit(result.signature)
            return
        trace, run = job.trace, job.run
        assert trace is not None and run is not None
        self.frame_pump.draw(final=True)
        speeds = job.speeds
        self.full_speed.register(job.run_id, speeds)
        trace.series = self.full_speed.shown(job.run_id, result.series)
        trace.live = False
        relabelled = slowed_label(trace.label, speeds)
        if relabelled != trace.label:  # the speed changed during the run
            trace.label = relabelled
            self.charts.remove_trace(trace.run_id)
            self.charts.add_trace(trace)
        else:
            self.charts.update_trace(trace)
        self.time_feed.finish(result)
        self.recording.finish(run, result, speeds, job.run_id)
        references = self.controller.references
        reference = references.get(job.key)
        add_row(self.results, job.run_id, result, reference, speeds)
        if job.key in references and reference is None:
            self.results.set_reference_failed(job.key)
        self.table.scrollToBottom()
        self.status.progress.setValue(result.blocks)
        self.status.set_state(f"Finished #{job.run_id} {result.strategy.label}")
        self._last_finished = (
            f"Finished #{job.run_id} {result.strategy.label}",
            self.status.progress.maximum(),
            result.blocks,
        )
        self.status.elapsed.setText(f"wall {result.wall_s:.3f} s")
        thinned = replay_input.thinning_note(self.recording.last_recorder)
        slowed = f" ({speeds.label}: no speedup)" if speeds.slowed else ""
        self.status.say(
            f"Run #{job.run_id} {result.strategy.label}: {result.wall_s:.3f} s{slowed}, "
            f"{result.mb_per_s:.2f} MB/s, {lock_text(result.lock_acquisitions)}, "
            f"signature {result.signature}"
            + (f"  ·  recording thinned: {thinned}" if thinned else ""),
            15000,
        )
        self.sig_run_finished.emit(result)

    def _on_job_failed(self, job: Job | None, exc: EngineError) -> None:
        if job is None:  # a queued run could not start
            self.sig_run_failed.emit(exc)
            return
        if job.kind is JobKind.REFERENCE:
            self._show_last_finished()
            self.replay.refresh_status()
            return
        self.frame_pump.draw(final=True)
        trace, run = job.trace, job.run
        assert trace is not None and run is not None
        self.charts.remove_trace(trace.run_id)
        stopped = isinstance(exc, RunCancelled)
        name = run_name(job.run_id, run.config.strategy.label)
        self.time_feed.end(f"{name} — stopped" if stopped else None)
        if stopped:
            self.status.set_state(f"Stopped #{job.run_id}")
            self.status.say(
                f"Run #{job.run_id} stopped after {run.elapsed_s:.2f} s; finished runs are kept",
                15000,
            )
            # Keep the partial curve, named as such: a stopped baseline is a lesson too.
            trace.label += " — stopped"
            trace.live = False
            self.charts.add_trace(trace)
        else:
            self.status.set_state(f"Failed #{job.run_id}")
            self.banner.show_error(f"Run #{job.run_id} ({run.config.strategy.label}) failed: {exc}")
        self.sig_run_failed.emit(exc)

    def _on_reference_failed(self, key: InputKey, message: str) -> None:
        self.results.set_reference_failed(key)
        self.banner.show_error(f"could not compute the single-threaded reference: {message}")

    def clear_runs(self) -> None:
        """Removes every row and curve, and the replay (a run in progress keeps going)."""
        self.replay.clear()
        self.results.clear()
        self._last_finished = None
        self.recording.forget_runs()
        self.controller.forget_wanted()
        job = self.controller.current_job
        live = [t for t in self.charts.traces if t.live and job is not None and t is job.trace]
        self.charts.clear()
        for trace in live:
            self.charts.add_trace(trace)
        self.full_speed.forget({t.run_id for t in live})
        self.time_feed.clear()
        if not self.controller.busy:
            self.show_idle_map()
        trim_heap()  # the rows' and curves' memory goes back to the system now

    def show_idle_map(self) -> None:
        """The empty heap of the current settings, and what to press (while nothing runs)."""
        if self.controller.busy or (self.heap_map.layout is not None and self.results.rows):
            return  # keep the last run's final state on screen
        cfg = self.settings_panel.config_for(Strategy.POOLED)
        if isinstance(cfg, str):
            cfg = self.settings_panel.config_for(Strategy.BASELINE)
        if isinstance(cfg, str):
            cfg = RunConfig()
        self.heap_map.set_layout(
            cfg.heap_size,
            cfg.pool_size,
            None,
            cfg.batch_size,
            f"Heap: {format_size(cfg.heap_size)} = "
            f"{cfg.heap_size // 16:,} cells of 16 bytes, one pixel each",
        )
        self.heap_map.set_hint(
            "Press  B  Run Baseline   or   P  Run Pooled"
            if self.input_path
            else "Open an input first  (Ctrl+O)"
        )
