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
from PySide6.QtGui import QCloseEvent, QIcon, QShowEvent
from PySide6.QtWidgets import QMainWindow, QVBoxLayout, QWidget

from engine import LockKind, Strategy
from gui import inputs
from gui.actions import Actions, Slots, connect
from gui.app_settings import AppSettings, settings
from gui.demo_controller import DemoController
from gui.file_commands import FileCommands
from gui.frame_pump import FramePump
from gui.input_panel import block_count, input_size
from gui.layout import ViewLayout, fit_to_screen, menu_named
from gui.live_run import LiveRun
from gui.presenter import SPEEDS, Presenter, PresenterToolbar
from gui.recording import Recording
from gui.replay import ReplayController
from gui.report import ReportDialog
from gui.results_table import ResultsModel
from gui.run_controller import RunController
from gui.session_file import Session, SessionRecorder
from gui.status_bar import ErrorBanner, StatusBar, StatusFields
from gui.strategy_picker import StrategyKeys
from gui.time_feed import TimeFeed
from gui.views import TopBar, ViewArea

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
        self.setStatusBar(StatusBar())
        self.status = StatusFields(self.statusBar())
        self.banner = ErrorBanner(self.statusBar())
        self.recording = Recording()
        # No Qt parents: a child QObject holding the window would keep it alive forever.
        self.controller = RunController(launch=self._launch_queued)
        self.controller.started.connect(self._update_buttons)  # before the views hear of it
        self.controller.ended.connect(self._update_buttons)
        self._build_views()
        self.time_feed = TimeFeed(self.timeline, self.breakdown, self.results)
        self.frame_pump = FramePump(
            self.controller, self.heap_map, self.charts, self.captions, self.status,
            self.recording, self.time_feed,
        )  # fmt: skip
        self.commands = Actions(self, self.input_panel.samples_menu)
        self.toolbar = PresenterToolbar(self.commands.presentation, self.commands.pause)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.toolbar)
        self.toolbar.speed_combo.currentIndexChanged.connect(self._on_speed_changed)
        self.strategy_keys = StrategyKeys(
            self, menu_named(self, "&Run"), self.start_run, self.settings_panel, self.status.say,
            self.picker,
        )  # fmt: skip
        self.view_layout = ViewLayout(
            self, self.views, self.top_bar, self.toolbar, self.status, menu_named(self, "&View")
        )
        self.presenter = Presenter(
            self, self.toolbar, self.commands.presentation, self.captions,
            (self.charts, self.timeline, self.breakdown, self.picker), self.view_layout,
        )  # fmt: skip
        self.replay = ReplayController(
            self.controller, self.charts, self.results, self.table, self.heap_map,
            self.captions, self.status, self.banner,
        )  # fmt: skip
        self.replay.attach_lanes(self.timeline)
        self.demo = DemoController(
            self.start_run, self.open_session, self.replay, self.controller,
            self.commands.demo, self.commands.demo_next, self.commands.demo_back,
        )  # fmt: skip
        self.live = LiveRun(
            self.controller, self.settings_panel, self.charts, self.results, self.table,
            self.heap_map, self.status, self.banner, self.recording, self.frame_pump, self.replay,
            self.time_feed,
        )  # fmt: skip
        for mine, theirs in (
            (self.sig_run_started, self.live.sig_run_started),
            (self.sig_run_finished, self.live.sig_run_finished),
            (self.sig_run_failed, self.live.sig_run_failed),
            (self.sig_reference_ready, self.live.sig_reference_ready),
        ):
            theirs.connect(mine)
        self.files = FileCommands(
            self, self.recording, self.charts, self.heap_map, self.results, self.status,
            self.banner, self.input_text,
        )  # fmt: skip
        self._layout.insertWidget(2, self.replay.bar)
        self._layout.insertWidget(3, self.demo.banner)
        connect(self.commands, self._slots())
        self._connect()
        self._restore_settings()
        self._update_buttons()
        self.live.show_idle_map()

    # ------------------------------------------------------------------ build

    def _build_views(self) -> None:
        central = QWidget()
        self._layout = outer = QVBoxLayout(central)
        outer.setContentsMargins(8, 6, 8, 4)
        outer.setSpacing(6)
        self.top_bar = top = TopBar(self.banner)
        outer.addLayout(top)
        outer.addWidget(self.banner)
        self.input_panel = top.input_panel
        self.baseline_button, self.pooled_button = top.baseline, top.pooled
        self.picker = top.picker
        self.stop_button, self.export_button = top.stop, top.export
        self.results = ResultsModel(self)
        self.center_split = self.views = views = ViewArea(self.results)
        self.results.style_of = views.charts.style_of_run
        outer.addWidget(views, 1)
        self.setCentralWidget(central)
        self.main_split, self.settings_panel = views.main_split, views.settings_panel
        self.heap_map, self.charts, self.table = views.heap_map, views.charts, views.table
        self.captions, self.clear_button = views.captions, views.clear_button
        self.timeline, self.breakdown = views.timeline, views.breakdown

    def _slots(self) -> Slots:
        return Slots(
            open_input=self.input_panel.ask_open,
            generate=self.input_panel.ask_generate,
            save_session=self.files.ask_save_session,
            save_lecture=self.files.ask_save_lecture,
            handout=self.files.ask_handout,
            full_speed=self.live.full_speed.toggle,
            open_session=self._on_open_session_clicked,
            export=self.files.export_quick,
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
        self.input_panel.opened.connect(self._on_input_opened)
        self.baseline_button.clicked.connect(self._run_baseline)
        self.pooled_button.clicked.connect(self._run_pooled)
        self.picker.sig_run.connect(self.start_run)
        self.stop_button.clicked.connect(self.stop)
        self.export_button.clicked.connect(self.files.ask_export)
        self.clear_button.clicked.connect(self.clear_runs)
        self.settings_panel.sig_changed.connect(self._on_settings_changed)
        self.heap_map.sig_hovered.connect(self._on_heap_map_hovered)
        self.timeline.sig_hovered.connect(self._on_heap_map_hovered)
        self.controller.idle.connect(self.sig_idle)
        self.sig_run_finished.connect(self.demo.run_finished)
        self.sig_run_failed.connect(self.demo.run_failed)

    # --------------------------------------------------------------- settings

    def _restore_settings(self) -> None:
        s = AppSettings()
        s.restore_window(
            self,
            {
                "main_split": (self.main_split, [250, 800, 580]),
                "center_split": (self.center_split, [660, 200]),
                "heap_split": (self.views.heap_split, [430, 240]),
                "table_split": (self.views.table_split, [900, 600]),
            },
        )
        fit_to_screen(self)  # a window saved on a bigger screen must not overflow this one
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
        s.save_window(
            self,
            {
                "main_split": self.main_split,
                "center_split": self.center_split,
                "heap_split": self.views.heap_split,
                "table_split": self.views.table_split,
            },
        )
        s.set_run_values(self.settings_panel.raw_values())
        s.chart_rate = self.charts.rate_box.isChecked()
        s.chart_log = self.charts.log_box.isChecked()
        if self.input_path:
            s.last_input = self.input_path
        s.sync()

    # ------------------------------------------------------------------ input

    @property
    def input_path(self) -> str | None:
        return self.input_panel.path

    def open_input(self, path: str | os.PathLike[str], remember: bool = True) -> bool:
        """Makes ``path`` the current input; shows the engine's message if it can't be read."""
        return self.input_panel.open(path, remember)

    def generate_input(self, kind: str, size: int) -> pathlib.Path | None:
        """Generates an input in the user data folder and opens it."""
        return self.input_panel.generate(kind, size)

    def input_text(self) -> str:
        return self.input_panel.text(self.settings_panel.block_size() or 1024)

    def _on_input_opened(self, path: str) -> None:
        self.replay.input_path = self.live.input_path = path
        self._update_input_labels()
        self._update_buttons()
        self.live.show_idle_map()

    def _update_input_labels(self) -> None:
        if not self.input_path:
            return
        block = self.settings_panel.block_size() or 1024
        self.input_panel.show_input(self.input_path, block)
        if not self.busy and not self.results.rows:
            blocks = block_count(input_size(self.input_path), block)
            self.status.progress.setRange(0, max(1, blocks))
            self.status.progress.setValue(0)

    # ------------------------------------------------------------------- runs

    @property
    def busy(self) -> bool:
        return self.controller.busy

    def _run_baseline(self) -> None:
        self.start_run(Strategy.BASELINE)

    def _run_pooled(self) -> None:
        self.start_run(Strategy.POOLED)

    def run_sequence(self, strategies: list[Strategy]) -> None:
        """Runs the strategies one after the other (the command line's ``--run``)."""
        self.controller.queue(strategies)

    def _launch_queued(self, strategy: Strategy) -> str | None:
        return None if self.start_run(strategy) else self.banner.label.text()

    def start_run(
        self, strategy: Strategy, pool_size: int | None = None, lock: LockKind | None = None
    ) -> bool:
        """Starts one run now; False (with a message) when it cannot start (see LiveRun)."""
        return self.live.start_run(strategy, pool_size, lock)

    def stop(self) -> None:
        """Cancels the current run (and anything queued); the engine stops within ~10 ms."""
        self.live.stop()

    def toggle_pause(self) -> None:
        """Pauses or resumes the live run, or plays / pauses the replay."""
        self.live.toggle_pause()

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

    def clear_runs(self) -> None:
        """Removes every row and curve (a run in progress keeps going)."""
        self.live.clear_runs()

    def _on_heap_map_hovered(self, text: str) -> None:
        if text:
            self.statusBar().showMessage(text.replace("\n", "  ·  "))

    def _on_settings_changed(self) -> None:
        self.picker.set_mode(self.settings_panel.lock, self.settings_panel.workers)
        self._update_input_labels()
        self._update_buttons()
        if not self.busy and not self.results.rows:
            self.live.show_idle_map()

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
        self.picker.set_run_enabled(idle and has_input)
        self.stop_button.setEnabled(not idle)
        commands.stop.setEnabled(not idle)
        self.settings_panel.setEnabled(idle)
        self.input_panel.set_enabled(idle)
        commands.open_input.setEnabled(idle)
        commands.generate.setEnabled(idle)

    def error_text(self) -> str:
        """The error banner's message ("" when none is shown)."""
        return self.banner.text()

    # ------------------------------------------------------- sessions, export

    @property
    def last_session(self) -> Session | None:
        """The last finished live run, as a Session."""
        return self.recording.last_session

    @property
    def last_session_recorder(self) -> SessionRecorder | None:
        return self.recording.last_recorder

    def save_session_to(self, path: str | os.PathLike[str]) -> pathlib.Path | None:
        """Saves the last finished run as a session file; None (with a message) if none."""
        return self.files.save_session_to(path)

    def open_session(self, path: str | os.PathLike[str]) -> bool:
        """Replays a recorded run (see :meth:`gui.replay.ReplayController.open`)."""
        return self.replay.open(path)

    def _on_open_session_clicked(self) -> None:
        path = self.files.ask_session()
        if path:
            self.open_session(path)

    def _on_demo_sessions_clicked(self) -> None:
        folder = self.files.ask_sessions_folder()
        if folder:
            self.demo.start(folder)

    def export_to(
        self,
        folder: str | os.PathLike[str],
        dashboard_size: tuple[int, int] = (1920, 1080),
        chart_size: tuple[int, int] = (1600, 900),
    ) -> list[pathlib.Path]:
        """Exports every PNG and CSV into ``folder`` and remembers it (OSError if it can't)."""
        return self.files.export_to(folder, dashboard_size, chart_size)

    # -------------------------------------------------------------- lifecycle

    def shutdown(self) -> None:
        """Stops the run (if any) and waits for its thread: safe to call twice."""
        self.replay.timer.stop()
        self.frame_pump.stop()
        self.recording.drop()
        self.controller.shutdown()
        for dialog in self.findChildren(ReportDialog):  # a report still running
            dialog.shutdown()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        if not self.presenter.active:
            fit_to_screen(self)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_settings()
        self.shutdown()
        super().closeEvent(event)
