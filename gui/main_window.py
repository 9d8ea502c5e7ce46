"""The main window: composes the input, settings, run buttons and views with their controllers.

Control flow: a button (or the command line) asks for a run; the window
checks the input and the settings, lays out the views, and hands the run to
the :class:`~gui.run_controller.RunController`, which runs it on a thread and
computes the input's single-threaded reference signature between runs.  The
:class:`~gui.frame_pump.FramePump` draws the live run; replay, the guided
demo and presentation mode each live in their own module.
"""

from __future__ import annotations

import os
import pathlib

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent, QIcon
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from engine import (
    EngineError,
    InputError,
    Run,
    RunCancelled,
    RunConfig,
    RunResult,
    Strategy,
    format_size,
)
from gui import inputs, replay_input, session_file
from gui.actions import Actions, Slots, connect
from gui.app_settings import AppSettings, settings
from gui.charts import ChartsPanel, Trace, colour_for, run_label
from gui.demo_controller import DemoController
from gui.dialogs import GenerateDialog
from gui.export import ExportSource, export_all
from gui.frame_pump import CaptionBoard, FramePump
from gui.heap_map import HeapMapView
from gui.input_panel import InputPanel, block_count, input_size
from gui.presenter import SPEEDS, Presenter, PresenterToolbar
from gui.recording import Recording
from gui.replay import ReplayController
from gui.results_table import ResultsModel, ResultsTable
from gui.run_controller import Job, JobKind, RunController
from gui.session_file import Session, save_session
from gui.settings_panel import SettingsPanel
from gui.status_bar import ErrorBanner, StatusFields
from gui.worker import trim_heap

__all__ = ["MainWindow", "settings"]


def _resource(name: str) -> str:
    import importlib.resources

    return str(importlib.resources.files("resources") / name)


def _load_style() -> str:
    try:
        with open(_resource("style.qss"), encoding="utf-8") as f:
            return f.read()
    except OSError:
        return ""


def _big_button(text: str, name: str, tip: str) -> QPushButton:
    b = QPushButton(text)
    b.setObjectName(name)
    b.setToolTip(tip)
    return b


class MainWindow(QMainWindow):
    """heapscope's window.

    Signals
    -------
    sig_run_started(int)
        A run (by id) started.
    sig_run_finished(RunResult)
        A run finished and its row is in the table.
    sig_run_failed(EngineError)
        A run failed or was stopped (:class:`engine.RunCancelled`).
    sig_reference_ready(int)
        The single-threaded reference signature of an input is known.
    sig_idle()
        Nothing is running and nothing is queued.
    """

    sig_run_started = Signal(int)
    sig_run_finished = Signal(object)
    sig_run_failed = Signal(object)
    sig_reference_ready = Signal(int)
    sig_idle = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("heapscope — one allocator lock vs per-thread pools")
        self.setObjectName("heapscopeMainWindow")
        self.setWindowIcon(QIcon(_resource("heapscope.svg")))
        f = self.font()
        f.setPointSizeF(12)
        self.setFont(f)
        self.setStyleSheet(_load_style())
        self.input_path: str | None = None
        self.status = StatusFields(self.statusBar())
        self.banner = ErrorBanner(self.statusBar())
        self.recording = Recording()
        # No Qt parents: a child QObject holding the window would keep it alive forever.
        self.controller = RunController(launch=self._launch_queued)
        self._build_views()
        self.frame_pump = FramePump(
            self.controller, self.heap_map, self.charts, self.captions, self.status,
            self.recording,
        )  # fmt: skip
        self.commands = Actions(self, self.input_panel.samples_menu)
        self.toolbar = PresenterToolbar(self.commands.presentation, self.commands.pause)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.toolbar)
        self.toolbar.speed_combo.currentIndexChanged.connect(self._on_speed_changed)
        self.presenter = Presenter(
            self, self.toolbar, self.commands.presentation, self.captions, self.charts,
            self.settings_panel, (self.baseline_button, self.pooled_button, self.stop_button),
        )  # fmt: skip
        self.replay = ReplayController(
            self.controller, self.charts, self.results, self.table, self.heap_map,
            self.captions, self.status, self.banner,
        )  # fmt: skip
        self.demo = DemoController(
            self.start_run, self.open_session, self.replay, self.controller,
            self.commands.demo, self.commands.demo_next, self.commands.demo_back,
        )  # fmt: skip
        self._layout.insertWidget(2, self.replay.bar)
        self._layout.insertWidget(3, self.demo.banner)
        connect(self.commands, self._slots())
        self._connect()
        self._restore_settings()
        self._update_buttons()
        self._show_idle_map()

    # ------------------------------------------------------------------ build

    def _build_views(self) -> None:
        central = QWidget()
        self._layout = outer = QVBoxLayout(central)
        outer.setContentsMargins(8, 6, 8, 4)
        outer.setSpacing(6)
        top = QHBoxLayout()
        self.input_panel = InputPanel()
        top.addLayout(self.input_panel, 1)
        self.baseline_button = _big_button(
            "▶  Run Baseline", "runBaseline", "Every thread allocates under ONE global lock (B)"
        )
        self.pooled_button = _big_button(
            "▶  Run Pooled", "runPooled", "Each thread bumps a pointer in its own pool, no lock (P)"
        )
        self.stop_button = _big_button("■  Stop", "stopButton", "Cancel the run (S or Esc)")
        self.export_button = _big_button(
            "Export…", "exportButton", "PNGs of the charts, heap map and dashboard, CSVs (E)"
        )
        for b in (self.baseline_button, self.pooled_button, self.stop_button):
            b.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)
            top.addWidget(b)
        top.addWidget(self.export_button)
        outer.addLayout(top)
        outer.addWidget(self.banner)

        self.settings_panel = SettingsPanel()
        self.settings_panel.setObjectName("settingsPanel")
        self.settings_panel.setMinimumWidth(230)
        self.settings_panel.setMaximumWidth(340)
        self.heap_map = HeapMapView()
        self.heap_map.setMinimumSize(400, 260)
        self.results = ResultsModel(self)
        self.table = ResultsTable(self.results)
        self.charts = ChartsPanel()
        self.charts.setMinimumWidth(380)

        table_box = QWidget()
        tl = QVBoxLayout(table_box)
        tl.setContentsMargins(0, 0, 0, 0)
        head = QHBoxLayout()
        title = QLabel("Results: one row per run")
        title.setObjectName("sectionTitle")
        self.clear_button = QPushButton("Clear runs")
        self.clear_button.setToolTip("Remove every row and curve (Ctrl+Delete)")
        head.addWidget(title)
        head.addStretch(1)
        head.addWidget(self.clear_button)
        tl.addLayout(head)
        tl.addWidget(self.table)

        # Settings | heap map | charts on top, the results table across the bottom.
        heap_box = QWidget()
        hl = QVBoxLayout(heap_box)
        hl.setContentsMargins(0, 0, 0, 0)
        hl.setSpacing(2)
        hl.addWidget(self.heap_map, 1)
        heap_caption = QLabel("")
        heap_caption.setObjectName("caption")
        heap_caption.setWordWrap(True)
        hl.addWidget(heap_caption)
        self.captions = CaptionBoard({"heap": heap_caption, **self.charts.captions})
        self.main_split = QSplitter(Qt.Orientation.Horizontal)
        self.main_split.setObjectName("mainSplit")
        for i, (widget, stretch) in enumerate(
            ((self.settings_panel, 0), (heap_box, 5), (self.charts, 4))
        ):
            self.main_split.addWidget(widget)
            self.main_split.setStretchFactor(i, stretch)
        self.center_split = QSplitter(Qt.Orientation.Vertical)
        self.center_split.setObjectName("centerSplit")
        self.center_split.addWidget(self.main_split)
        self.center_split.addWidget(table_box)
        self.center_split.setStretchFactor(0, 4)
        self.center_split.setStretchFactor(1, 1)
        outer.addWidget(self.center_split, 1)
        self.setCentralWidget(central)

    def _slots(self) -> Slots:
        return Slots(
            open_input=self._on_open_clicked,
            generate=self._on_generate_clicked,
            save_session=self._on_save_session_clicked,
            open_session=self._on_open_session_clicked,
            export=self.export_quick,
            quit=self.close,
            baseline=self._run_baseline,
            pooled=self._run_pooled,
            stop=self.stop,
            pause=self.toggle_pause,
            slower=self.toolbar.slower,
            faster=self.toolbar.faster,
            demo=self.demo.toggle,
            demo_sessions=self._on_demo_sessions_clicked,
            demo_next=self.demo.next,
            demo_back=self.demo.back,
            clear=self.clear_runs,
            rate=self.charts.rate_box.toggle,
            log=self.charts.log_box.toggle,
            presentation=self.presenter.toggle,
            full_screen=self.presenter.toggle_full_screen,
            shortcuts=self.presenter.toggle_shortcuts,
        )

    def _connect(self) -> None:
        panel = self.input_panel
        panel.open_button.clicked.connect(self._on_open_clicked)
        panel.generate_button.clicked.connect(self._on_generate_clicked)
        panel.fill_samples(self.open_input)
        self.baseline_button.clicked.connect(self._run_baseline)
        self.pooled_button.clicked.connect(self._run_pooled)
        self.stop_button.clicked.connect(self.stop)
        self.export_button.clicked.connect(self._on_export_clicked)
        self.clear_button.clicked.connect(self.clear_runs)
        self.settings_panel.sig_changed.connect(self._on_settings_changed)
        self.heap_map.sig_hovered.connect(self._on_heap_map_hovered)
        c = self.controller
        c.started.connect(self._on_job_started)
        c.finished.connect(self._on_job_finished)
        c.failed.connect(self._on_job_failed)
        c.reference_failed.connect(self._on_reference_failed)
        c.ended.connect(self._update_buttons)
        c.idle.connect(self.sig_idle)
        self.sig_run_finished.connect(self.demo.run_finished)
        self.sig_run_failed.connect(self.demo.run_failed)

    # --------------------------------------------------------------- settings

    def _restore_settings(self) -> None:
        s = AppSettings()
        geometry = s.geometry
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1600, 940)
        for name, splitter, sizes in (
            ("main_split", self.main_split, [250, 800, 580]),
            ("center_split", self.center_split, [660, 200]),
        ):
            state = s.splitter_state(name)
            if state is not None:
                splitter.restoreState(state)
            else:
                splitter.setSizes(sizes)
        self.settings_panel.set_values(s.run_values())
        self.charts.rate_box.setChecked(s.chart_rate)
        self.charts.log_box.setChecked(s.chart_log)
        last = s.last_input
        if last and os.path.isfile(last):
            self.open_input(last, remember=False)
        elif not last:
            samples = inputs.samples()
            if samples:
                self.open_input(str(samples[0]), remember=False)

    def save_settings(self) -> None:
        s = AppSettings()
        s.geometry = self.saveGeometry()
        s.set_splitter_state("main_split", self.main_split.saveState())
        s.set_splitter_state("center_split", self.center_split.saveState())
        s.set_run_values(self.settings_panel.raw_values())
        s.chart_rate = self.charts.rate_box.isChecked()
        s.chart_log = self.charts.log_box.isChecked()
        if self.input_path:
            s.last_input = self.input_path
        s.sync()

    # ------------------------------------------------------------------ input

    def open_input(self, path: str | os.PathLike[str], remember: bool = True) -> bool:
        """Makes ``path`` the current input; shows the engine's message if it can't be read."""
        path = os.fspath(path)
        reason = inputs.not_regular_reason(path)  # before the engine opens it: FIFOs block
        if reason:
            self.show_error(reason)
            return False
        try:
            probe = Run(path, RunConfig(telemetry=False))
        except InputError as exc:
            self.show_error(str(exc))
            return False
        probe.close()
        self.input_path = self.replay.input_path = path
        self.clear_error()
        self._update_input_labels()
        self._update_buttons()
        if remember:
            AppSettings().last_input = path
        self._show_idle_map()
        return True

    def input_text(self) -> str:
        if not self.input_path:
            return "no input"
        size = input_size(self.input_path)
        block = self.settings_panel.block_size() or 1024
        return (
            f"{os.path.basename(self.input_path)} ({format_size(size)}, "
            f"{block_count(size, block):,} blocks of {format_size(block)})"
        )

    def _update_input_labels(self) -> None:
        if not self.input_path:
            return
        block = self.settings_panel.block_size() or 1024
        self.input_panel.show_input(self.input_path, block)
        if not self.busy and not self.results.rows:
            self.status.progress.setRange(
                0, max(1, block_count(input_size(self.input_path), block))
            )
            self.status.progress.setValue(0)

    def generate_input(self, kind: str, size: int) -> pathlib.Path | None:
        """Generates an input in the user data folder and opens it."""
        try:
            path = inputs.generate(kind, size)
        except (ValueError, OSError) as exc:
            self.show_error(f"could not generate the input: {exc}")
            return None
        self.open_input(path)
        return path

    def _on_open_clicked(self) -> None:
        start = os.path.dirname(self.input_path) if self.input_path else str(inputs.data_dir())
        path, _ = QFileDialog.getOpenFileName(self, "Open an input file", start)
        if path:
            self.open_input(path)

    def _on_generate_clicked(self) -> None:
        dialog = GenerateDialog(self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.generate_input(*dialog.choice())

    # ------------------------------------------------------------------- runs

    @property
    def busy(self) -> bool:
        return self.controller.busy

    @property
    def speed(self) -> float:
        return self.controller.speed

    @property
    def paused(self) -> bool:
        return self.controller.paused

    def _run_baseline(self) -> None:
        self.start_run(Strategy.BASELINE)

    def _run_pooled(self) -> None:
        self.start_run(Strategy.POOLED)

    def run_sequence(self, strategies: list[Strategy]) -> None:
        """Runs the strategies one after the other (the command line's ``--run``)."""
        self.controller.queue(strategies)

    def _launch_queued(self, strategy: Strategy) -> str | None:
        return None if self.start_run(strategy) else self.banner.label.text()

    def start_run(self, strategy: Strategy, pool_size: int | None = None) -> bool:
        """Starts one run now; False (with a message) when it cannot start.

        ``pool_size`` overrides the settings panel's for this run only (the guided
        demo): the panel, and so the saved setting, stay as the user left them.
        """
        if self.busy:
            self.show_error("a run is already in progress: stop it first (Esc)")
            return False
        if not self.input_path:
            self.show_error("open an input file first (Ctrl+O), or pick one of the samples")
            return False
        config = self.settings_panel.config_for(strategy)
        if isinstance(config, str):
            self.show_error(f"cannot run {strategy.label}: {config}")
            return False
        reason = inputs.not_regular_reason(self.input_path)  # replaced since it was opened?
        if reason:
            self.show_error(reason)
            return False
        try:
            if pool_size is not None and pool_size != config.pool_size:
                config = config.replace(pool_size=pool_size)
            job = self.controller.new_run(self.input_path, config)
        except InputError as exc:
            self.show_error(
                str(exc)
                if pool_size is None
                else f"cannot run {strategy.label} with {format_size(pool_size)} pools: {exc}"
            )
            return False
        run = job.run
        assert run is not None
        self.clear_error()
        job.run_id = run_id = self.controller.next_run_id()
        job.trace = trace = Trace(
            run_id,
            run_label(run_id, config),
            strategy.label,
            colour_for(strategy.label, self.charts.traces),
        )
        self.charts.add_trace(trace)
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

    def set_speed(self, fraction: float) -> None:
        """Slow motion for the live run and the next ones (1.0 .. MIN_SPEED)."""
        index = self.toolbar.speed_index(fraction)
        if self.toolbar.speed_combo.currentIndex() != index:
            self.toolbar.speed_combo.setCurrentIndex(index)  # calls _on_speed_changed
        else:
            self._on_speed_changed(index)

    def _on_speed_changed(self, index: int) -> None:
        self.controller.set_speed(float(SPEEDS[index][1]))
        self.statusBar().showMessage(f"Speed {SPEEDS[index][0]}", 5000)

    def toggle_pause(self) -> None:
        """Pauses or resumes the live run (its threads park at safe points), or the replay."""
        job = self.controller.current_job
        if not self.controller.toggle_pause():
            if self.replay.session is not None:
                self.replay.toggle_play()  # Space plays / pauses a replay too
            return
        assert job is not None
        if self.paused:
            self.status.set_state(f"Paused #{job.run_id}")
            self.statusBar().showMessage("Paused")
        else:
            self.status.set_state(f"Running #{job.run_id}")
            self.statusBar().showMessage("Resumed", 3000)

    def _on_job_started(self, job: Job) -> None:
        if job.kind is JobKind.REFERENCE:
            self.status.set_state("Checking signature (single thread)…", "")
            self.status.progress.setRange(0, 0)
        self._update_buttons()
        if job.kind is JobKind.RUN:
            self.sig_run_started.emit(job.run_id)

    def _on_job_finished(self, job: Job, result: RunResult) -> None:
        if job.kind is JobKind.REFERENCE:
            self.results.set_reference(job.key, result.signature)
            self.status.progress.setRange(0, 1)
            self.status.progress.setValue(1)
            self.status.set_state("Idle")
            self.sig_reference_ready.emit(result.signature)
            return
        trace, run = job.trace, job.run
        assert trace is not None and run is not None
        self.frame_pump.draw(final=True)
        trace.series = result.series
        trace.live = False
        self.charts.update_trace(trace)
        self.recording.finish(run, result)
        references = self.controller.references
        reference = references.get(job.key)
        self.results.add_result(job.run_id, result, reference)
        if job.key in references and reference is None:
            self.results.set_reference_failed(job.key)
        self.table.scrollToBottom()
        self.status.progress.setValue(result.blocks)
        self.status.set_state(f"Finished #{job.run_id} {result.strategy.label}")
        self.status.elapsed.setText(f"wall {result.wall_s:.3f} s")
        thinned = replay_input.thinning_note(self.recording.last_recorder)
        self.statusBar().showMessage(
            f"Run #{job.run_id} {result.strategy.label}: {result.wall_s:.3f} s, "
            f"{result.mb_per_s:.2f} MB/s, {result.lock_acquisitions:,} lock acquisitions, "
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
            self.status.progress.setRange(0, 1)
            self.status.set_state("Idle")
            return
        self.frame_pump.draw(final=True)
        trace, run = job.trace, job.run
        assert trace is not None and run is not None
        self.charts.remove_trace(trace.run_id)
        if isinstance(exc, RunCancelled):
            self.status.set_state(f"Stopped #{job.run_id}")
            self.statusBar().showMessage(
                f"Run #{job.run_id} stopped after {run.elapsed_s:.2f} s; finished runs are kept",
                15000,
            )
            # Keep the partial curve, named as such: a stopped baseline is a lesson too.
            trace.label += " — stopped"
            trace.live = False
            self.charts.add_trace(trace)
        else:
            self.status.set_state(f"Failed #{job.run_id}")
            self.show_error(f"Run #{job.run_id} ({run.config.strategy.label}) failed: {exc}")
        self.sig_run_failed.emit(exc)

    def _on_reference_failed(self, key: tuple, message: str) -> None:
        self.results.set_reference_failed(key)
        self.show_error(f"could not compute the single-threaded reference: {message}")

    def clear_runs(self) -> None:
        """Removes every row and curve (a run in progress keeps going)."""
        self.results.clear()
        self.controller.forget_wanted()
        job = self.controller.current_job
        live = [t for t in self.charts.traces if t.live and job is not None and t is job.trace]
        self.charts.clear()
        for trace in live:
            self.charts.add_trace(trace)
        if not self.busy:
            self._show_idle_map()
        trim_heap()  # the rows' and curves' memory goes back to the system now

    def _show_idle_map(self) -> None:
        if self.busy or (self.heap_map.layout is not None and self.results.rows):
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

    def _on_heap_map_hovered(self, text: str) -> None:
        if text:
            self.statusBar().showMessage(text.replace("\n", "  ·  "))

    def _on_settings_changed(self) -> None:
        self._update_input_labels()
        self._update_buttons()
        if not self.busy and not self.results.rows:
            self._show_idle_map()

    def _update_buttons(self, *_job: object) -> None:
        idle = not self.busy
        has_input = self.input_path is not None
        commands = self.commands
        for button, action, strategy in (
            (self.baseline_button, commands.baseline, Strategy.BASELINE),
            (self.pooled_button, commands.pooled, Strategy.POOLED),
        ):
            ok = (
                idle and has_input and not isinstance(self.settings_panel.config_for(strategy), str)
            )
            button.setEnabled(ok)
            action.setEnabled(ok)
        self.stop_button.setEnabled(not idle)
        commands.stop.setEnabled(not idle)
        self.settings_panel.setEnabled(idle)
        self.input_panel.set_enabled(idle)
        commands.open_input.setEnabled(idle)
        commands.generate.setEnabled(idle)

    # ----------------------------------------------------------------- errors

    def show_error(self, message: str) -> None:
        """Shows a message in the banner above the views (the app stays usable)."""
        self.banner.show_error(message)

    def clear_error(self) -> None:
        self.banner.clear()

    def error_text(self) -> str:
        return self.banner.text()

    # --------------------------------------------------------------- sessions

    @property
    def last_session(self) -> Session | None:
        """The last finished live run, as a Session."""
        return self.recording.last_session

    @property
    def last_session_recorder(self) -> session_file.SessionRecorder | None:
        return self.recording.last_recorder

    def save_session_to(self, path: str | os.PathLike[str]) -> pathlib.Path | None:
        """Saves the last finished run as a session file; None (with a message) if none."""
        if self.last_session is None:
            self.show_error("no finished run to save yet: run baseline (B) or pooled (P) first")
            return None
        try:
            out = save_session(self.last_session, path)
        except OSError as exc:
            self.show_error(f"could not save the session: {exc}")
            return None
        self.statusBar().showMessage(f"Session saved to {out}", 15000)
        return out

    def open_session(self, path: str | os.PathLike[str]) -> bool:
        """Replays a recorded run (see :meth:`gui.replay.ReplayController.open`)."""
        return self.replay.open(path)

    def _ask_folder(self, title: str, start: str) -> str:
        return QFileDialog.getExistingDirectory(self, title, start or str(pathlib.Path.home()))

    def _on_save_session_clicked(self) -> None:
        if self.last_session is None:
            self.save_session_to("")
            return
        s = AppSettings()
        start = pathlib.Path(s.session_dir or pathlib.Path.home()) / f"run{session_file.SUFFIX}"
        path, _ = QFileDialog.getSaveFileName(
            self, "Save the last run as a session", str(start),
            f"heapscope sessions (*{session_file.SUFFIX})",
        )  # fmt: skip
        if path and self.save_session_to(path):
            s.session_dir = os.path.dirname(path)

    def _on_open_session_clicked(self) -> None:
        start = AppSettings().session_dir or str(pathlib.Path.home())
        path, _ = QFileDialog.getOpenFileName(
            self, "Open a recorded session", start, f"heapscope sessions (*{session_file.SUFFIX})"
        )
        if path:
            self.open_session(path)

    def _on_demo_sessions_clicked(self) -> None:
        folder = self._ask_folder("Folder of recorded sessions", AppSettings().session_dir)
        if folder:
            self.demo.start(folder)

    # ----------------------------------------------------------------- export

    def export_source(self) -> ExportSource:
        configs = {}
        for row in self.results.rows:
            c = row.result.config
            configs[(c.heap_size, c.block_size)] = c
        shared = (
            "; ".join(f"heap {format_size(h)}, blocks of {format_size(b)}" for h, b in configs)
            or "no runs yet"
        )
        runs = "  ".join(t.label for t in self.charts.traces)
        return ExportSource(
            traces=list(self.charts.traces),
            chart_options=self.charts.options(),
            heap_map=self.heap_map,
            results=self.results,
            input_text=self.input_text(),
            params_text=f"{shared}.  {runs}",
        )

    def export_to(
        self,
        folder: str | os.PathLike[str],
        dashboard_size: tuple[int, int] = (1920, 1080),
        chart_size: tuple[int, int] = (1600, 900),
    ) -> list[pathlib.Path]:
        """Exports every PNG and CSV into ``folder`` and remembers it.

        Raises
        ------
        OSError
            When the folder or a file cannot be written.
        """
        paths = export_all(folder, self.export_source(), dashboard_size, chart_size)
        AppSettings().export_dir = os.fspath(folder)
        self.statusBar().showMessage(f"Exported {len(paths)} files to {folder}", 15000)
        return paths

    def export_quick(self) -> None:
        """Exports to the remembered folder, or asks for one the first time."""
        folder = AppSettings().export_dir
        if not folder or not os.path.isdir(folder):
            self._on_export_clicked()
            return
        self._export_or_say(folder)

    def _on_export_clicked(self) -> None:
        folder = self._ask_folder("Export PNGs and CSVs to", AppSettings().export_dir)
        if folder:
            self._export_or_say(folder)

    def _export_or_say(self, folder: str) -> None:
        try:
            self.export_to(folder)
        except OSError as exc:
            self.show_error(f"export failed: {exc}")

    # -------------------------------------------------------------- lifecycle

    def shutdown(self) -> None:
        """Stops the run (if any) and waits for its thread: safe to call twice."""
        self.replay.timer.stop()
        self.frame_pump.stop()
        self.recording.drop()
        self.controller.shutdown()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_settings()
        self.shutdown()
        super().closeEvent(event)
