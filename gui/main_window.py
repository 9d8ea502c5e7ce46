"""The main window: input, settings, the two big run buttons, and every view.

Control flow: a button (or the command line) asks for a run; the window
builds a :class:`engine.Run`, hands it to a :class:`gui.worker.RunThread`,
and draws from the run's telemetry on one fixed-rate timer until the worker
reports the end.  Runs queued from the command line follow one another; the
single-threaded reference signature of an input is computed (once) between
them.
"""

from __future__ import annotations

import collections
import math
import os
import pathlib
import time

from PySide6.QtCore import QByteArray, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QIcon, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMenu,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSlider,
    QSplitter,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from engine import (
    COUNTER_NAMES,
    MIN_SPEED,
    EngineError,
    InputError,
    Run,
    RunCancelled,
    RunConfig,
    RunPhase,
    RunResult,
    Strategy,
    format_size,
)
from gui import inputs, replay_input, session_file
from gui.app_settings import settings
from gui.captions import Frame, captions
from gui.charts import CAPTION_POINTS, ChartsPanel, Trace, colour_for, run_label
from gui.demo import DemoStepper, Stage, sessions_for_steps
from gui.dialogs import GenerateDialog
from gui.export import ExportSource, export_all
from gui.heap_map import HeapMapView
from gui.results_table import ResultsModel, ResultsTable, input_key
from gui.session_file import SessionError, SessionRecorder, load_session, save_session
from gui.settings_panel import SettingsPanel
from gui.worker import RunThread, trim_heap

#: Memory a live run's recording may take (the recorder thins frames past it).
RECORDING_BUDGET = 256 * 1024 * 1024

#: Slow-motion choices: label and fraction of full speed (the engine goes down to MIN_SPEED).
SPEEDS = (("1×", 1.0), ("1/10", 0.1), ("1/100", 0.01), ("1/1000", MIN_SPEED))

#: Every presenter shortcut, as shown by the ? overlay.
SHORTCUTS = (
    ("B", "Run baseline (one global lock)"),
    ("P", "Run pooled (per-thread pools)"),
    ("Space", "Pause / resume the run (or the replay)"),
    ("S", "Stop the run"),
    ("[  ]", "Slower / faster (1×, 1/10, 1/100, 1/1000)"),
    ("E", "Export PNGs and CSVs (to the last folder)"),
    ("F5", "Presentation mode on / off"),
    ("F11", "Full screen on / off"),
    ("? or F1", "This list of shortcuts"),
    ("Ctrl+D", "Guided demo on / off"),
    ("N or →  /  ←", "Demo: next / back"),
    ("Ctrl+S", "Save the last run as a session"),
    ("Ctrl+Shift+O", "Open a recorded session"),
    ("Ctrl+O", "Open an input"),
    ("Ctrl+B / Ctrl+P", "Run baseline / pooled"),
    ("Esc", "Stop the run"),
    ("R / L", "Lock chart as a rate / on a log scale"),
)

#: Font zoom of presentation mode (the toolbar's zoom control changes it).
PRESENTATION_ZOOM = 1.5
ZOOMS = (("125%", 1.25), ("150%", 1.5), ("200%", 2.0))

#: Draw timer period: 30 frames/s keeps the map fluid and leaves the cores to the engine.
DRAW_INTERVAL_MS = 33


def _new_recorder(heap_cells: int) -> SessionRecorder:
    """A live run's recorder, capped in bytes (it thins frames and cells past the cap)."""
    return SessionRecorder(heap_cells, max_bytes=RECORDING_BUDGET)


def _resource_path(name: str) -> str:
    import importlib.resources

    return str(importlib.resources.files("resources") / name)


def _load_style() -> str:
    import importlib.resources

    try:
        return (importlib.resources.files("resources") / "style.qss").read_text(encoding="utf-8")
    except (FileNotFoundError, OSError):
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

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWindowTitle("heapscope — one allocator lock vs per-thread pools")
        self.setObjectName("heapscopeMainWindow")
        self.setWindowIcon(QIcon(_resource_path("heapscope.svg")))
        f = self.font()
        f.setPointSizeF(12)
        self.setFont(f)
        self.setStyleSheet(_load_style())
        self.input_path: str | None = None
        self._job: RunThread | None = None
        self._job_trace: Trace | None = None
        self._job_run_id = 0
        self._job_key: tuple | None = None
        self._stop_requested = False
        self._queue: list[Strategy] = []
        self._run_counter = 0
        self._references: dict[tuple, int | None] = {}
        #: Inputs whose reference may be computed: only paths the user chose (never a
        #: path named by a session file).
        self._reference_keys: set[tuple] = set()
        self._frame_times: collections.deque[float] = collections.deque(maxlen=120)
        self.draw_fps = 0.0
        self.frames_drawn = 0
        self.speed = 1.0
        self.demo: DemoStepper | None = None
        self.demo_sessions: dict = {}
        self._recorder: SessionRecorder | None = None
        self.last_session_recorder: SessionRecorder | None = None
        self.last_session = None  # the last finished live run, as a Session
        self.replay = None  # the session being replayed, if any
        self._replay_trace: Trace | None = None
        self._prev_frame: Frame | None = None
        self.paused = False
        self.presentation = False
        self._pre_presentation: dict | None = None

        self._build_views()
        self._build_actions()
        self._build_toolbar()
        self._build_overlay()
        self._build_status_bar()
        self.draw_timer = QTimer(self)
        self.draw_timer.setTimerType(Qt.PreciseTimer)
        self.draw_timer.setInterval(DRAW_INTERVAL_MS)
        self.draw_timer.timeout.connect(self._on_draw_timer_timeout)
        self._restore_settings()
        self._update_buttons()
        self._show_idle_map()

    # ------------------------------------------------------------------ build

    def _build_views(self) -> None:
        central = QWidget()
        outer = QVBoxLayout(central)
        outer.setContentsMargins(8, 6, 8, 4)
        outer.setSpacing(6)

        # Top bar: the input on the left, the big buttons on the right.
        top = QHBoxLayout()
        input_box = QVBoxLayout()
        self.input_name = QLabel("No input yet: open a file, generate one, or pick a sample")
        self.input_name.setObjectName("inputName")
        self.input_info = QLabel("")
        self.input_info.setObjectName("inputInfo")
        input_box.addWidget(self.input_name)
        input_box.addWidget(self.input_info)
        in_buttons = QHBoxLayout()
        self.open_button = QPushButton("Open…")
        self.generate_button = QPushButton("Generate…")
        self.samples_button = QToolButton()
        self.samples_button.setText("Samples")
        self.samples_button.setPopupMode(QToolButton.InstantPopup)
        self.samples_menu = QMenu(self)
        self.samples_button.setMenu(self.samples_menu)
        for b in (self.open_button, self.generate_button, self.samples_button):
            b.setObjectName("inputButton")
            in_buttons.addWidget(b)
        in_buttons.addStretch(1)
        input_box.addLayout(in_buttons)
        top.addLayout(input_box, 1)

        self.baseline_button = QPushButton("▶  Run Baseline")
        self.baseline_button.setObjectName("runBaseline")
        self.baseline_button.setToolTip("Every thread allocates under ONE global lock (B)")
        self.pooled_button = QPushButton("▶  Run Pooled")
        self.pooled_button.setObjectName("runPooled")
        self.pooled_button.setToolTip("Each thread bumps a pointer in its own pool, no lock (P)")
        self.stop_button = QPushButton("■  Stop")
        self.stop_button.setObjectName("stopButton")
        self.stop_button.setToolTip("Cancel the run (S or Esc)")
        self.export_button = QPushButton("Export…")
        self.export_button.setObjectName("exportButton")
        self.export_button.setToolTip("PNGs of the charts, heap map and dashboard, CSVs (E)")
        for b in (self.baseline_button, self.pooled_button, self.stop_button):
            b.setSizePolicy(QSizePolicy.Preferred, QSizePolicy.Expanding)
            top.addWidget(b)
        top.addWidget(self.export_button)
        outer.addLayout(top)

        # Error banner (inline, not modal: the app stays usable and scripts never block).
        self.banner = QFrame()
        self.banner.setObjectName("errorBanner")
        banner_layout = QHBoxLayout(self.banner)
        banner_layout.setContentsMargins(10, 6, 6, 6)
        self.banner_text = QLabel("")
        self.banner_text.setObjectName("errorText")
        self.banner_text.setWordWrap(True)
        self.banner_text.setTextInteractionFlags(Qt.TextSelectableByMouse)
        close = QToolButton()
        close.setText("✕")
        close.setToolTip("Dismiss")
        close.clicked.connect(self.clear_error)
        banner_layout.addWidget(self.banner_text, 1)
        banner_layout.addWidget(close)
        self.banner.setVisible(False)
        outer.addWidget(self.banner)
        self.replay_bar = self._build_replay_bar()
        outer.addWidget(self.replay_bar)
        self.demo_banner = QLabel("")
        self.demo_banner.setObjectName("demoBanner")
        self.demo_banner.setWordWrap(True)
        self.demo_banner.setStyleSheet(
            "QLabel#demoBanner { background: #fff4d6; color: #1a1a1a; padding: 8px;"
            " border: 2px solid #E69F00; border-radius: 6px; }"
        )
        f = self.demo_banner.font()
        f.setPointSizeF(CAPTION_POINTS * 1.3)
        f.setBold(True)
        self.demo_banner.setFont(f)
        self.demo_banner.setVisible(False)
        outer.addWidget(self.demo_banner)

        # Body: settings | heap map over table | charts.
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

        # Views: settings | heap map | charts on top, the results table across the bottom.
        self.main_split = QSplitter(Qt.Horizontal)
        self.main_split.setObjectName("mainSplit")
        self.main_split.addWidget(self.settings_panel)
        heap_box = QWidget()
        hl = QVBoxLayout(heap_box)
        hl.setContentsMargins(0, 0, 0, 0)
        hl.setSpacing(2)
        hl.addWidget(self.heap_map, 1)
        self.heap_caption = QLabel("")
        self.heap_caption.setObjectName("caption")
        self.heap_caption.setWordWrap(True)
        hl.addWidget(self.heap_caption)
        self.caption_labels = {"heap": self.heap_caption, **self.charts.captions}
        self._set_caption_zoom(1.0)
        self.main_split.addWidget(heap_box)
        self.main_split.addWidget(self.charts)
        self.main_split.setStretchFactor(0, 0)
        self.main_split.setStretchFactor(1, 5)
        self.main_split.setStretchFactor(2, 4)
        self.center_split = QSplitter(Qt.Vertical)
        self.center_split.setObjectName("centerSplit")
        self.center_split.addWidget(self.main_split)
        self.center_split.addWidget(table_box)
        self.center_split.setStretchFactor(0, 4)
        self.center_split.setStretchFactor(1, 1)
        outer.addWidget(self.center_split, 1)
        self.setCentralWidget(central)

        self.open_button.clicked.connect(self._on_open_clicked)
        self.generate_button.clicked.connect(self._on_generate_clicked)
        self.baseline_button.clicked.connect(self._on_baseline_clicked)
        self.pooled_button.clicked.connect(self._on_pooled_clicked)
        self.stop_button.clicked.connect(self.stop)
        self.export_button.clicked.connect(self._on_export_clicked)
        self.clear_button.clicked.connect(self.clear_runs)
        self.settings_panel.sig_changed.connect(self._on_settings_changed)
        self.heap_map.sig_hovered.connect(self._on_heap_map_hovered)
        self._fill_samples_menu()

    def _build_actions(self) -> None:
        def action(text, shortcut, slot, menu, checkable=False):
            a = QAction(text, self)
            if shortcut:
                a.setShortcuts(
                    [
                        QKeySequence(s)
                        for s in (shortcut if isinstance(shortcut, tuple) else (shortcut,))
                    ]
                )
            a.setCheckable(checkable)
            a.triggered.connect(slot)
            menu.addAction(a)
            self.addAction(a)
            return a

        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        self.open_action = action(
            "&Open input…", QKeySequence.Open, self._on_open_clicked, file_menu
        )
        self.generate_action = action(
            "&Generate input…", "Ctrl+G", self._on_generate_clicked, file_menu
        )
        file_menu.addMenu(self.samples_menu).setText("&Samples")
        file_menu.addSeparator()
        self.save_session_action = action(
            "&Save session…", "Ctrl+S", self._on_save_session_clicked, file_menu
        )
        self.open_session_action = action(
            "Open s&ession…", "Ctrl+Shift+O", self._on_open_session_clicked, file_menu
        )
        file_menu.addSeparator()
        self.export_action = action(
            "&Export PNGs and CSVs…", ("E", "Ctrl+E"), self.export_quick, file_menu
        )
        file_menu.addSeparator()
        action("&Quit", QKeySequence.Quit, self.close, file_menu)

        run_menu = bar.addMenu("&Run")
        self.baseline_action = action(
            "Run &Baseline (global lock)", ("B", "Ctrl+B"), self._on_baseline_clicked, run_menu
        )
        self.pooled_action = action(
            "Run &Pooled (per-thread pools)", ("P", "Ctrl+P"), self._on_pooled_clicked, run_menu
        )
        self.stop_action = action("&Stop", ("S", "Esc", "Ctrl+."), self.stop, run_menu)
        self.pause_action = action("P&ause / resume", "Space", self.toggle_pause, run_menu)
        self.slower_action = action("S&lower", "[", self.slower, run_menu)
        self.faster_action = action("&Faster", "]", self.faster, run_menu)
        run_menu.addSeparator()
        self.demo_action = action(
            "Guided &demo", "Ctrl+D", self.toggle_demo, run_menu, checkable=True
        )
        self.demo_sessions_action = action(
            "Guided demo from recorded &sessions…", None, self._on_demo_sessions_clicked, run_menu
        )
        self.demo_next_action = action("Demo: &next", ("N", "Right"), self.demo_next, run_menu)
        self.demo_back_action = action(
            "Demo: &back", ("Backspace", "Left"), self.demo_back, run_menu
        )
        self.demo_next_action.setEnabled(False)
        self.demo_back_action.setEnabled(False)
        run_menu.addSeparator()
        self.clear_action = action("&Clear runs", "Ctrl+Delete", self.clear_runs, run_menu)

        view_menu = bar.addMenu("&View")
        self.rate_action = action(
            "Lock chart as &rate per second", "R", self.charts.rate_box.toggle, view_menu
        )
        self.log_action = action(
            "Lock chart on a &log scale", "L", self.charts.log_box.toggle, view_menu
        )
        view_menu.addSeparator()
        self.presentation_action = action(
            "&Presentation mode", "F5", self.toggle_presentation, view_menu, checkable=True
        )
        self.fullscreen_action = action("F&ull screen", "F11", self.toggle_full_screen, view_menu)
        self.shortcuts_action = action(
            "&Keyboard shortcuts", ("?", "F1"), self.toggle_shortcuts, view_menu
        )

    def _build_toolbar(self) -> None:
        bar = QToolBar("Presenter")
        bar.setObjectName("presenterToolbar")
        bar.addAction(self.presentation_action)
        bar.addAction(self.pause_action)
        bar.addWidget(QLabel(" Speed "))
        self.speed_combo = QComboBox()
        self.speed_combo.setObjectName("speedCombo")
        self.speed_combo.setToolTip("Slow motion: the engine's threads really slow down ([ and ])")
        for label, fraction in SPEEDS:
            self.speed_combo.addItem(label, fraction)
        self.speed_combo.setFocusPolicy(Qt.NoFocus)
        self.speed_combo.currentIndexChanged.connect(self._on_speed_changed)
        bar.addWidget(self.speed_combo)
        bar.addWidget(QLabel("  Presentation zoom "))
        self.zoom_combo = QComboBox()
        self.zoom_combo.setObjectName("zoomCombo")
        self.zoom_combo.setToolTip("How much larger fonts and lines are in presentation mode")
        for label, zoom in ZOOMS:
            self.zoom_combo.addItem(label, zoom)
        self.zoom_combo.setCurrentIndex([z for _, z in ZOOMS].index(PRESENTATION_ZOOM))
        self.zoom_combo.setFocusPolicy(Qt.NoFocus)
        self.zoom_combo.currentIndexChanged.connect(self._on_zoom_changed)
        bar.addWidget(self.zoom_combo)
        self.addToolBar(Qt.TopToolBarArea, bar)
        self.toolbar = bar

    def _build_overlay(self) -> None:
        self.shortcuts_overlay = QLabel(self)
        self.shortcuts_overlay.setObjectName("shortcutsOverlay")
        rows = "".join(
            f"<tr><td align='right'><b>{k}</b>&nbsp;&nbsp;</td><td>{v}</td></tr>"
            for k, v in SHORTCUTS
        )
        self.shortcuts_overlay.setText(
            f"<h2>Keyboard shortcuts</h2><table>{rows}</table><p>Press ? again to close</p>"
        )
        self.shortcuts_overlay.setAlignment(Qt.AlignCenter)
        self.shortcuts_overlay.setStyleSheet(
            "QLabel#shortcutsOverlay { background: rgba(20, 20, 20, 225); color: white;"
            " font-size: 20pt; border-radius: 12px; padding: 24px; }"
        )
        self.shortcuts_overlay.setVisible(False)

    # ------------------------------------------------------------- presenter

    def toggle_shortcuts(self) -> None:
        overlay = self.shortcuts_overlay
        if overlay.isVisible():
            overlay.hide()
            return
        overlay.adjustSize()
        overlay.move(
            max(0, (self.width() - overlay.width()) // 2),
            max(0, (self.height() - overlay.height()) // 2),
        )
        overlay.raise_()
        overlay.show()

    def toggle_full_screen(self) -> None:
        self.setWindowState(self.windowState() ^ Qt.WindowFullScreen)

    def toggle_presentation(self) -> None:
        """Presentation mode: full screen, larger fonts, settings hidden, big Run buttons."""
        if not self.presentation:
            self._pre_presentation = {
                "state": self.windowState(),
                "font": self.font().pointSizeF(),
                "settings": self.settings_panel.isVisibleTo(self),
                "heights": [b.minimumHeight() for b in self._run_buttons()],
            }
            self.presentation = True
            self.setWindowState(self.windowState() | Qt.WindowFullScreen)
            self.settings_panel.setVisible(False)
            self._apply_zoom(self.zoom)
            for b in self._run_buttons():
                b.setMinimumHeight(90)
        else:
            pre = self._pre_presentation or {}
            self.presentation = False
            self.setWindowState(pre.get("state", Qt.WindowNoState))
            f = self.font()
            f.setPointSizeF(pre.get("font", 12))
            self.setFont(f)
            self.settings_panel.setVisible(pre.get("settings", True))
            self._set_caption_zoom(1.0)
            self.charts.set_font_scale(1.0)
            for b, h in zip(self._run_buttons(), pre.get("heights", []), strict=False):
                b.setMinimumHeight(h)
        self.presentation_action.setChecked(self.presentation)

    @property
    def zoom(self) -> float:
        """Presentation mode's zoom factor."""
        return float(self.zoom_combo.currentData())

    def _apply_zoom(self, zoom: float) -> None:
        f = self.font()
        f.setPointSizeF(self._pre_presentation["font"] * zoom)
        self.setFont(f)
        self._set_caption_zoom(zoom)
        self.charts.set_font_scale(zoom)

    def _on_zoom_changed(self, _index: int) -> None:
        if self.presentation:
            self._apply_zoom(self.zoom)

    def _set_caption_zoom(self, zoom: float) -> None:
        for label in self.caption_labels.values():
            f = label.font()
            f.setPointSizeF(CAPTION_POINTS * zoom)
            f.setBold(True)
            label.setFont(f)

    def _update_captions(self, frame: Frame) -> None:
        for view, text in captions(frame, self._prev_frame).items():
            self.caption_labels[view].setText(text)
        self._prev_frame = frame

    # ------------------------------------------------------------ guided demo

    def _on_demo_sessions_clicked(self) -> None:
        start = settings().value("session/last_dir", "") or str(pathlib.Path.home())
        folder = QFileDialog.getExistingDirectory(self, "Folder of recorded sessions", start)
        if folder:
            self.start_demo(folder)

    def start_demo(self, sessions_folder: str | os.PathLike | None = None) -> None:
        """Starts the guided demo; steps with a matching session in the folder are replayed."""
        if self.demo is not None:
            self.toggle_demo()
        self.demo_sessions = sessions_for_steps(sessions_folder) if sessions_folder else {}
        self.toggle_demo()

    def toggle_demo(self) -> None:
        """Starts the guided demo (predict, then run, then reveal), or ends it."""
        if self.demo is None:
            self.demo = DemoStepper()
            self.sig_run_finished.connect(self._on_demo_run_finished)
            self.sig_run_failed.connect(self._on_demo_run_failed)
        else:
            self.sig_run_finished.disconnect(self._on_demo_run_finished)
            self.sig_run_failed.disconnect(self._on_demo_run_failed)
            self.demo = None
            self.demo_sessions = {}
        on = self.demo is not None
        self.demo_action.setChecked(on)
        self.demo_next_action.setEnabled(on)
        self.demo_back_action.setEnabled(on)
        self.demo_banner.setVisible(on)
        self._update_demo_banner()

    def _update_demo_banner(self) -> None:
        demo = self.demo
        if demo is None:
            self.demo_banner.setText("")
            return
        keys = "N / → next,  ← back" if demo.stage is not Stage.RUNNING else "running…"
        self.demo_banner.setText(
            f"Step {demo.index + 1} of {len(demo.steps)}: "
            f"{demo.step.title}\n{demo.text()}\n({keys})"
        )

    def demo_next(self) -> None:
        demo = self.demo
        if demo is None or self.busy:
            return
        step = demo.next()
        recorded = self.demo_sessions.get(demo.index)
        if step is not None and recorded is not None:
            if self.open_session(recorded):
                demo.run_finished(self.replay.result)
            else:
                demo.run_failed()
        # The step's pool size for this run only: the user's setting is not touched.
        elif step is not None and not self.start_run(step.strategy, pool_size=step.pool_size):
            demo.run_failed()
        self._update_demo_banner()

    def demo_back(self) -> None:
        if self.demo is None or self.busy:
            return
        self.demo.back()
        self._update_demo_banner()

    def _on_demo_run_finished(self, result: RunResult) -> None:
        if self.demo is not None and self.demo.stage is Stage.RUNNING:
            self.demo.run_finished(result.as_dict())
            self._update_demo_banner()

    def _on_demo_run_failed(self, _exc) -> None:
        if self.demo is not None and self.demo.stage is Stage.RUNNING:
            self.demo.run_failed()
            self._update_demo_banner()

    # --------------------------------------------------------------- sessions

    def _finish_recording(self, result: RunResult) -> None:
        run, recorder = self._job.run, self._recorder
        self._recorder = None
        self.last_session_recorder = recorder  # says whether it was thinned
        if recorder is None:
            return
        heap = run.heap_map_copy()
        recorder.add_frame(result.wall_s, *(heap or (None, None)))
        c = result.config
        try:
            # Never blocks: the input may have been replaced by a FIFO since the run.
            identity = inputs.file_identity(result.path)
        except OSError:
            identity = {"name": os.path.basename(result.path)}
        self.last_session = recorder.finish(
            input_identity=identity,
            config={
                "strategy": c.strategy.label,
                "heap_size": c.heap_size,
                "pool_size": c.pool_size,
                "batch_size": c.batch_size,
                "block_size": c.block_size,
            },
            result=result.as_dict(),
            series=result.series,
            slot_count=run.slot_count,
            pool_reserved=run.pool_reserved,
        )

    def save_session_to(self, path: str | os.PathLike) -> pathlib.Path | None:
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

    def _on_save_session_clicked(self) -> None:
        if self.last_session is None:
            self.save_session_to("")
            return
        start = str(
            pathlib.Path(settings().value("session/last_dir", "") or pathlib.Path.home())
            / f"run{session_file.SUFFIX}"
        )
        path, _ = QFileDialog.getSaveFileName(
            self,
            "Save the last run as a session",
            start,
            f"heapscope sessions (*{session_file.SUFFIX})",
        )
        if path and self.save_session_to(path):
            settings().setValue("session/last_dir", os.path.dirname(path))

    def _on_open_session_clicked(self) -> None:
        start = settings().value("session/last_dir", "") or str(pathlib.Path.home())
        path, _ = QFileDialog.getOpenFileName(
            self, "Open a recorded session", start, f"heapscope sessions (*{session_file.SUFFIX})"
        )
        if path:
            self.open_session(path)

    def open_session(self, path: str | os.PathLike) -> bool:
        """Replays a recorded run: its row, curves and heap map, with a time slider.

        Never starts a run on a path the session names: its signature is checked
        only when the input the user has open is the recorded one (same size and
        SHA-256), and then against a reference computed from the user's path.
        """
        if self.busy:
            self.show_error("a run is in progress: stop it first (S)")
            return False
        reason = inputs.not_regular_reason(path)  # a FIFO would block the loader's open()
        if reason:
            self.show_error(reason.replace("cannot read", "cannot open session", 1))
            return False
        try:
            session = load_session(path)
        except SessionError as exc:
            self.show_error(str(exc))
            return False
        meta = session.meta
        try:
            r, cfg = session.result, session.config
            strategy = (
                Strategy.from_label(cfg["strategy"])
                if hasattr(Strategy, "from_label")
                else next(s for s in Strategy if s.label == cfg["strategy"])
            )
            config = RunConfig(
                strategy=strategy,
                heap_size=cfg["heap_size"],
                pool_size=cfg["pool_size"],
                batch_size=cfg["batch_size"],
                block_size=cfg["block_size"],
                telemetry=False,
            )
            counters = {k: int(r[k]) for k in COUNTER_NAMES if k in r}
            same_input = replay_input.matches_open_input(meta, self.input_path)
            recorded_path = r.get("path", session.input_name)
            result = RunResult(
                path=self.input_path if same_input else str(recorded_path),
                config=config,
                signature=int(r["signature"]),
                blocks=int(r["blocks"]),
                bytes=int(r["bytes"]),
                wall_s=float(r["wall_s"]),
                counters=counters,
                series=session.series,
            )
        except (KeyError, TypeError, ValueError, StopIteration, InputError) as exc:
            self.show_error(f"cannot replay '{path}': incomplete session ({exc})")
            return False
        self.clear_error()
        self.stop_replay()  # the previous replay keeps its row and its whole curve
        self._run_counter += 1
        run_id = self._run_counter
        trace = Trace(
            run_id,
            run_label(run_id, config) + " — replay",
            strategy.label,
            colour_for(strategy.label, self.charts.traces),
            live=False,
        )
        trace.series = session.series
        self.charts.add_trace(trace)
        if same_input:
            key = input_key(result.path, config.block_size)
            self._reference_keys.add(key)
            self.results.add_result(run_id, result, self._references.get(key))
            if self._references.get(key, 0) is None:
                self.results.set_reference_failed(key)
            note = ""
        else:
            # Keyed by the recorded identity, so no path here (live runs included) ever
            # lends it a reference: it gets "? (no reference)" and says why.
            key = replay_input.session_key(meta, config.block_size)
            row = self.results.add_result(run_id, result, None)
            replay_input.rekey_row(self.results, row, key)
            self.results.set_reference_failed(key)
            note = replay_input.not_checked_note(meta)
        thinned = replay_input.thinning_note(session)
        if thinned:
            note = (
                f"{note}; recording thinned: {thinned}" if note else f"recording thinned: {thinned}"
            )
        self.replay_note.setText(note)
        self.replay_note.setToolTip(note)
        self.replay_note.setVisible(bool(note))
        self.table.scrollToBottom()
        self.heap_map.set_layout(
            config.heap_size,
            config.pool_size,
            strategy,
            int(meta.get("slot_count", config.batch_size)),
            f"Replay #{run_id} {strategy.label}: {session.input_name}",
        )
        self.heap_map.set_hint("")
        self.replay = session
        self._replay_trace = trace
        self._replay_result = result
        self.replay_slider.setRange(0, 1000)
        self.replay_bar.setVisible(True)
        self.replay_slider.setValue(1000)
        self.show_replay_at(session.duration_s)
        self.statusBar().showMessage(
            f"Replaying {inputs.shown_path(path)}" + (f"  ·  {note}" if note else ""), 15000
        )
        if same_input and key not in self._references:
            self._next_step()  # the reference of the user's own input
        return True

    def show_replay_at(self, t: float) -> None:
        """Heap map, curves and captions of the replayed run at ``t`` seconds."""
        session = self.replay
        if session is None:
            return
        t = min(max(t, 0.0), session.duration_s)
        self.replay_time = t
        i = session.frame_at(t)
        if i >= 0:
            self.heap_map.show_cells(session.heap_states[i], session.heap_owners[i], t)
        end = t >= session.duration_s
        series = session.series if end else session.series_until(t)
        trace = self._replay_trace
        trace.series = series
        self.charts.update_trace(trace)
        counters = {k: int(v[-1]) if len(v) else 0 for k, v in series.items() if k != "time_s"}
        for k in COUNTER_NAMES:
            counters.setdefault(k, 0)
        if end:
            counters.update(self._replay_result.counters)
        phase = RunPhase.FINISHED if end else RunPhase.RUNNING
        self._prev_frame = None
        self._update_captions(Frame(self._replay_result.strategy, phase, t, counters, None))
        self.replay_label.setText(f"{t:.3f} / {session.duration_s:.3f} s")

    def stop_replay(self) -> None:
        if self.replay is None:
            return
        self.replay_timer.stop()
        if self._replay_trace is not None:
            self._replay_trace.series = self.replay.series
            self.charts.update_trace(self._replay_trace)
        self.replay = None
        self._replay_trace = None
        self.replay_bar.setVisible(False)

    def _on_replay_slider(self, value: int) -> None:
        if self.replay is not None and not self._replay_stepping:
            self.show_replay_at(self.replay.duration_s * value / 1000)

    def toggle_replay_play(self) -> None:
        if self.replay is None:
            return
        if self.replay_timer.isActive():
            self.replay_timer.stop()
            self.replay_play.setText("▶ Play")
            return
        if self.replay_slider.value() >= 1000:
            self.replay_slider.setValue(0)
        self._replay_clock = time.perf_counter()
        self.replay_timer.start()
        self.replay_play.setText("❚❚ Pause")

    def _on_replay_tick(self) -> None:
        session = self.replay
        if session is None:
            self.replay_timer.stop()
            return
        now = time.perf_counter()
        step = (now - self._replay_clock) * float(self.replay_speed.currentData())
        self._replay_clock = now
        t = min(self.replay_time + step, session.duration_s)
        self._replay_stepping = True
        self.replay_slider.setValue(
            round(1000 * t / session.duration_s) if session.duration_s > 0 else 1000
        )
        self._replay_stepping = False
        self.show_replay_at(t)
        if t >= session.duration_s:
            self.replay_timer.stop()
            self.replay_play.setText("▶ Play")

    def _build_replay_bar(self) -> QWidget:
        bar = QFrame()
        bar.setObjectName("replayBar")
        row = QHBoxLayout(bar)
        row.setContentsMargins(4, 2, 4, 2)
        row.addWidget(QLabel("Replay"))
        self.replay_play = QPushButton("▶ Play")
        self.replay_play.clicked.connect(self.toggle_replay_play)
        self.replay_slider = QSlider(Qt.Horizontal)
        self.replay_slider.setObjectName("replaySlider")
        self.replay_slider.valueChanged.connect(self._on_replay_slider)
        self.replay_speed = QComboBox()
        for label, fraction in (("1×", 1.0), ("1/10", 0.1), ("1/100", 0.01), ("1/1000", 0.001)):
            self.replay_speed.addItem(label, fraction)
        self.replay_label = QLabel("")
        self.replay_note = QLabel("")
        self.replay_note.setObjectName("replayNote")
        self.replay_note.setVisible(False)
        close = QToolButton()
        close.setText("✕")
        close.setToolTip("Close the replay (the row and curves stay)")
        close.clicked.connect(self.stop_replay)
        row.addWidget(self.replay_play)
        row.addWidget(self.replay_slider, 1)
        row.addWidget(self.replay_label)
        row.addWidget(QLabel("speed"))
        row.addWidget(self.replay_speed)
        row.addWidget(self.replay_note)
        row.addWidget(close)
        bar.setVisible(False)
        self._replay_stepping = False
        self.replay_time = 0.0
        self.replay_timer = QTimer(self)
        self.replay_timer.setInterval(DRAW_INTERVAL_MS)
        self.replay_timer.timeout.connect(self._on_replay_tick)
        return bar

    def _run_buttons(self) -> tuple:
        return (self.baseline_button, self.pooled_button, self.stop_button)

    def set_speed(self, fraction: float) -> None:
        """Slow motion for the live run and the next ones (1.0 .. MIN_SPEED)."""
        index = min(range(len(SPEEDS)), key=lambda i: abs(SPEEDS[i][1] - fraction))
        if self.speed_combo.currentIndex() != index:
            self.speed_combo.setCurrentIndex(index)  # calls _on_speed_changed
        else:
            self._on_speed_changed(index)

    def _on_speed_changed(self, index: int) -> None:
        self.speed = float(SPEEDS[index][1])
        job = self._job
        if job is not None and job.kind == "run":
            job.run.set_speed(self.speed)
        self.statusBar().showMessage(f"Speed {SPEEDS[index][0]}", 5000)

    def slower(self) -> None:
        self.speed_combo.setCurrentIndex(min(self.speed_combo.currentIndex() + 1, len(SPEEDS) - 1))

    def faster(self) -> None:
        self.speed_combo.setCurrentIndex(max(self.speed_combo.currentIndex() - 1, 0))

    def toggle_pause(self) -> None:
        """Pauses or resumes the live run (its threads park at safe points)."""
        job = self._job
        if (job is None or job.kind != "run") and self.replay is not None:
            self.toggle_replay_play()  # Space plays / pauses a replay too
            return
        if job is None or job.kind != "run":
            return
        if self.paused:
            job.run.resume()
            self.paused = False
            self.status_strategy.setText(f"Running #{self._job_run_id}")
            self.statusBar().showMessage("Resumed", 3000)
        else:
            job.run.pause()
            self.paused = True
            self.status_strategy.setText(f"Paused #{self._job_run_id}")
            self.statusBar().showMessage("Paused")

    def export_quick(self) -> None:
        """Exports to the remembered folder, or asks for one the first time."""
        folder = settings().value("export/last_dir", "")
        if not folder or not os.path.isdir(folder):
            self._on_export_clicked()
            return
        try:
            self.export_to(folder)
        except OSError as exc:
            self.show_error(f"export failed: {exc}")

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.status_strategy = QLabel("Idle")
        self.status_strategy.setObjectName("statusStrategy")
        self.progress = QProgressBar()
        self.progress.setMinimumWidth(280)
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("%v / %m blocks")
        self.status_elapsed = QLabel("elapsed —")
        self.status_locks = QLabel("")
        self.status_fps = QLabel("")
        self.status_fps.setToolTip("How often the views are redrawn during a run")
        bar.addPermanentWidget(self.status_strategy)
        bar.addPermanentWidget(self.progress)
        bar.addPermanentWidget(self.status_elapsed)
        bar.addPermanentWidget(self.status_locks)
        bar.addPermanentWidget(self.status_fps)

    # --------------------------------------------------------------- settings

    def _restore_settings(self) -> None:
        s = settings()
        geometry = s.value("window/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(1600, 940)
        for key, splitter in (
            ("window/main_split", self.main_split),
            ("window/center_split", self.center_split),
        ):
            state = s.value(key)
            if isinstance(state, QByteArray) and not state.isEmpty():
                splitter.restoreState(state)
            elif splitter is self.main_split:
                splitter.setSizes([250, 800, 580])
            else:
                splitter.setSizes([660, 200])
        self.settings_panel.set_values(
            {name: s.value(f"run/{name}") for name in self.settings_panel.edits}
        )
        self.charts.rate_box.setChecked(s.value("charts/rate", False, type=bool))
        self.charts.log_box.setChecked(s.value("charts/log", False, type=bool))
        last = s.value("input/last_path", "")
        if last and os.path.isfile(last):
            self.open_input(last, remember=False)
        elif not last:
            samples = inputs.samples()
            if samples:
                self.open_input(str(samples[0]), remember=False)

    def save_settings(self) -> None:
        s = settings()
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/main_split", self.main_split.saveState())
        s.setValue("window/center_split", self.center_split.saveState())
        for name, value in self.settings_panel.raw_values().items():
            s.setValue(f"run/{name}", value)
        s.setValue("charts/rate", self.charts.rate_box.isChecked())
        s.setValue("charts/log", self.charts.log_box.isChecked())
        if self.input_path:
            s.setValue("input/last_path", self.input_path)
        s.sync()

    # ------------------------------------------------------------------ input

    def _fill_samples_menu(self) -> None:
        self.samples_menu.clear()
        samples = inputs.samples()
        for path in samples:
            a = self.samples_menu.addAction(f"{path.name}  ({format_size(path.stat().st_size)})")
            a.triggered.connect(lambda _checked=False, p=str(path): self.open_input(p))
        if not samples:
            self.samples_menu.addAction("(no bundled samples found)").setEnabled(False)

    def open_input(self, path: str | os.PathLike, remember: bool = True) -> bool:
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
        self.input_path = path
        self.clear_error()
        self._update_input_labels()
        self._update_buttons()
        if remember:
            settings().setValue("input/last_path", path)
        self._show_idle_map()
        return True

    def input_text(self) -> str:
        if not self.input_path:
            return "no input"
        size = self._input_size()
        block = self.settings_panel.block_size() or 1024
        blocks = math.ceil(size / block) if size else 0
        return (
            f"{os.path.basename(self.input_path)} ({format_size(size)}, "
            f"{blocks:,} blocks of {format_size(block)})"
        )

    def _input_size(self) -> int:
        try:
            return os.path.getsize(self.input_path) if self.input_path else 0
        except OSError:
            return 0

    def _update_input_labels(self) -> None:
        if not self.input_path:
            return
        size = self._input_size()
        block = self.settings_panel.block_size() or 1024
        blocks = math.ceil(size / block) if size else 0
        self.input_name.setText(f"Input: {os.path.basename(self.input_path)}")
        self.input_name.setToolTip(self.input_path)
        self.input_info.setText(
            f"{format_size(size)}  ·  {blocks:,} blocks of "
            f"{format_size(block)}  ·  {os.path.dirname(self.input_path)}"
        )
        if not self.busy and not self.results.rows:
            self.progress.setRange(0, max(1, blocks))
            self.progress.setValue(0)

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
        if dialog.exec() == QDialog.Accepted:
            self.generate_input(*dialog.choice())

    # ------------------------------------------------------------------- runs

    @property
    def busy(self) -> bool:
        return self._job is not None

    def _on_baseline_clicked(self) -> None:
        self.start_run(Strategy.BASELINE)

    def _on_pooled_clicked(self) -> None:
        self.start_run(Strategy.POOLED)

    def run_sequence(self, strategies: list[Strategy]) -> None:
        """Runs the strategies one after the other (the command line's ``--run``)."""
        self._queue.extend(strategies)
        if not self.busy:
            self._next_step()

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
            run = Run(self.input_path, config)
        except InputError as exc:
            self.show_error(
                str(exc)
                if pool_size is None
                else f"cannot run {strategy.label} with {format_size(pool_size)} pools: {exc}"
            )
            return False
        self.clear_error()
        self._run_counter += 1
        run_id = self._run_counter
        trace = Trace(
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
        run.set_speed(self.speed)
        self._recorder = _new_recorder(run.heap_cells)
        self._recorder.add_frame(0.0, *(run.heap_map_copy() or (None, None)))
        self.stop_replay()
        self.paused = False
        self._prev_frame = None
        self._job = RunThread(run, "run")
        self._job_trace = trace
        self._job_run_id = run_id
        self._job_key = input_key(self.input_path, config.block_size)
        self._reference_keys.add(self._job_key)
        self._stop_requested = False
        self._connect_job(self._job, self._on_run_finished, self._on_run_errored)
        self.progress.setRange(0, max(1, run.total_blocks))
        self.progress.setValue(0)
        self.status_strategy.setText(f"Running #{run_id} {strategy.label}")
        self.status_strategy.setStyleSheet(f"color: {trace.colour}; font-weight: bold;")
        self._frame_times.clear()
        self.frames_drawn = 0
        self._update_buttons()
        self.draw_timer.start()
        self._job.start()
        self.sig_run_started.emit(run_id)
        return True

    def _connect_job(self, job: RunThread, on_finished, on_errored) -> None:
        # Qt still delivers a queued signal after disconnect(): each call says which job
        # it comes from, and only the current job's are acted on.
        serial = job.serial
        job.worker.finished.connect(lambda r, s=serial: self._from_job(s, on_finished, r))
        job.worker.errored.connect(lambda e, s=serial: self._from_job(s, on_errored, e))
        job.thread.finished.connect(
            lambda s=serial: self._from_job(s, self._on_job_thread_finished)
        )

    def _from_job(self, serial: int, slot, *args) -> None:
        if self._job is not None and self._job.serial == serial:
            slot(*args)

    def stop(self) -> None:
        """Cancels the current run (and anything queued); the engine stops within ~10 ms."""
        self._queue.clear()
        if self._job is not None:
            self._stop_requested = True
            self._job.run.cancel()
            self.status_strategy.setText("Stopping…")

    @Slot(object)
    def _on_run_finished(self, result: RunResult) -> None:
        if self._job is None or self._job.kind != "run":
            return  # shut down while the signal was queued
        trace = self._job_trace
        self._draw_frame(final=True)
        trace.series = result.series
        trace.live = False
        self.charts.update_trace(trace)
        self._finish_recording(result)
        reference = self._references.get(self._job_key)
        self.results.add_result(self._job_run_id, result, reference)
        if self._job_key in self._references and reference is None:
            self.results.set_reference_failed(self._job_key)
        self.table.scrollToBottom()
        self.progress.setValue(result.blocks)
        self.status_strategy.setText(f"Finished #{self._job_run_id} {result.strategy.label}")
        self.status_elapsed.setText(f"wall {result.wall_s:.3f} s")
        thinned = replay_input.thinning_note(self.last_session_recorder)
        self.statusBar().showMessage(
            f"Run #{self._job_run_id} {result.strategy.label}: {result.wall_s:.3f} s, "
            f"{result.mb_per_s:.2f} MB/s, {result.lock_acquisitions:,} lock acquisitions, "
            f"signature {result.signature}"
            + (f"  ·  recording thinned: {thinned}" if thinned else ""),
            15000,
        )
        self.sig_run_finished.emit(result)

    @Slot(object)
    def _on_run_errored(self, exc: EngineError) -> None:
        if self._job is None or self._job.kind != "run":
            return
        self._draw_frame(final=True)
        self._queue.clear()
        trace = self._job_trace
        if isinstance(exc, RunCancelled):
            elapsed = self._job.run.elapsed_s if self._job.run is not None else 0.0
            self.status_strategy.setText(f"Stopped #{self._job_run_id}")
            self.statusBar().showMessage(
                f"Run #{self._job_run_id} stopped after {elapsed:.2f} s; finished runs are kept",
                15000,
            )
            # Keep the partial curve, named as such: a stopped baseline is a lesson too.
            self.charts.remove_trace(trace.run_id)
            trace.label += " — stopped"
            trace.live = False
            self.charts.add_trace(trace)
        else:
            self.charts.remove_trace(trace.run_id)
            self.status_strategy.setText(f"Failed #{self._job_run_id}")
            self.show_error(
                f"Run #{self._job_run_id} ({self._job.run.config.strategy.label}) failed: {exc}"
            )
        self.sig_run_failed.emit(exc)

    def _on_job_thread_finished(self) -> None:
        job, self._job = self._job, None
        if job is None:
            return
        self.draw_timer.stop()
        self.paused = False
        job.release()  # closes the Run (C memory freed now) and drops worker and thread
        self._update_buttons()
        self._next_step()

    def _next_step(self) -> None:
        """After a job: the missing reference signature first, then the next queued run."""
        pending = [
            row.key
            for row in self.results.rows
            if row.key in self._reference_keys and row.key not in self._references
        ]
        if pending and not self._stop_requested and self._start_reference(pending[0]):
            return
        if self._queue:
            strategy = self._queue.pop(0)
            if not self.start_run(strategy):
                self._queue.clear()
                self.sig_run_failed.emit(EngineError(self.banner_text.text(), -1))
                self.sig_idle.emit()
            return
        self._stop_requested = False
        self.sig_idle.emit()

    def _start_reference(self, key: tuple) -> bool:
        """The single-threaded signature of an input, on the worker thread (once per input)."""
        path, _size, _mtime, block_size = key
        row = next(r for r in self.results.rows if r.key == key)
        config = RunConfig(
            strategy=Strategy.SINGLE,
            heap_size=row.result.config.heap_size,
            block_size=block_size,
            telemetry=False,
        )
        try:
            reason = inputs.not_regular_reason(path)
            if reason or input_key(path, block_size) != key:
                raise InputError(reason or f"'{inputs.shown_path(path)}' changed since the run", -1)
            run = Run(path, config)
        except InputError as exc:
            self._references[key] = None
            self.results.set_reference_failed(key)
            self.show_error(f"could not compute the single-threaded reference: {exc}")
            return False
        self._job = RunThread(run, "reference")
        self._job_key = key
        self._connect_job(self._job, self._on_reference_finished, self._on_reference_errored)
        self.status_strategy.setText("Checking signature (single thread)…")
        self.status_strategy.setStyleSheet("")
        self.progress.setRange(0, 0)
        self._update_buttons()
        self._job.start()
        return True

    @Slot(object)
    def _on_reference_finished(self, result: RunResult) -> None:
        if self._job is None or self._job.kind != "reference":
            return
        self._references[self._job_key] = result.signature
        self.results.set_reference(self._job_key, result.signature)
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        self.status_strategy.setText("Idle")
        self.sig_reference_ready.emit(result.signature)

    @Slot(object)
    def _on_reference_errored(self, exc: EngineError) -> None:
        if self._job is None or self._job.kind != "reference":
            return
        self.progress.setRange(0, 1)
        self.status_strategy.setText("Idle")
        if isinstance(exc, RunCancelled):
            return  # asked again after the next run
        self._references[self._job_key] = None
        self.results.set_reference_failed(self._job_key)
        self.show_error(f"could not compute the single-threaded reference: {exc}")

    def clear_runs(self) -> None:
        """Removes every row and curve (a run in progress keeps going)."""
        self.results.clear()
        live = [
            t
            for t in self.charts.traces
            if t.live and self._job is not None and self._job.kind == "run" and t is self._job_trace
        ]
        self.charts.clear()
        for trace in live:
            self.charts.add_trace(trace)
        if not self.busy:
            self._show_idle_map()
        trim_heap()  # the rows' and curves' memory goes back to the system now

    # ---------------------------------------------------------------- drawing

    def _on_draw_timer_timeout(self) -> None:
        self._draw_frame()

    def _draw_frame(self, final: bool = False) -> None:
        job = self._job
        if job is None or job.kind != "run" or job.run is None:
            return
        run = job.run
        if run.heap_states is None:
            return
        now = time.perf_counter()
        self._frame_times.append(now)
        self.frames_drawn += 1
        # One race-free copy per frame (the workers write the heap map meanwhile),
        # fanned out to the map, the recorder and the captions.
        snap = run.snapshot()
        counters = snap.counters
        self.heap_map.show_cells(snap.heap_states, snap.heap_owners, snap.elapsed_s)
        if self._recorder is not None:
            self._recorder.add_frame(snap.elapsed_s, snap.heap_states, snap.heap_owners)
        self._update_captions(
            Frame(run.config.strategy, snap.phase, snap.elapsed_s, counters, snap.slot_states)
        )
        trace = self._job_trace
        # Charts at half the frame rate: the curves move slowly, the CPU is the engine's.
        if final or self.frames_drawn % 2 == 1:
            trace.series = run.series()
            self.charts.update_trace(trace)
        self.progress.setValue(min(counters["blocks_done"], self.progress.maximum()))
        self.status_elapsed.setText(f"elapsed {snap.elapsed_s:.2f} s")
        self.status_locks.setText(f"{counters['lock_acquisitions']:,} lock acquisitions")
        if len(self._frame_times) >= 2:
            span = self._frame_times[-1] - self._frame_times[0]
            if span > 0:
                self.draw_fps = (len(self._frame_times) - 1) / span
                self.status_fps.setText(f"view {self.draw_fps:.0f} frames/s")

    def _show_idle_map(self) -> None:
        if self.busy:
            return
        cfg = self.settings_panel.config_for(Strategy.POOLED)
        if isinstance(cfg, str):
            cfg = self.settings_panel.config_for(Strategy.BASELINE)
        if isinstance(cfg, str):
            cfg = RunConfig()
        if self.heap_map.layout is not None and self.results.rows:
            return  # keep the last run's final state on screen
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

    def _update_buttons(self) -> None:
        idle = not self.busy
        has_input = self.input_path is not None
        for button, action, strategy in (
            (self.baseline_button, self.baseline_action, Strategy.BASELINE),
            (self.pooled_button, self.pooled_action, Strategy.POOLED),
        ):
            config = self.settings_panel.config_for(strategy)
            ok = idle and has_input and not isinstance(config, str)
            button.setEnabled(ok)
            action.setEnabled(ok)
        self.stop_button.setEnabled(not idle)
        self.stop_action.setEnabled(not idle)
        self.settings_panel.setEnabled(idle)
        for w in (
            self.open_button,
            self.generate_button,
            self.samples_button,
            self.open_action,
            self.generate_action,
        ):
            w.setEnabled(idle)

    # ----------------------------------------------------------------- errors

    def show_error(self, message: str) -> None:
        """Shows a message in the banner above the views (the app stays usable)."""
        self.banner_text.setText(message)
        self.banner.setVisible(True)
        self.statusBar().showMessage(message.splitlines()[0] if message else "", 15000)

    def clear_error(self) -> None:
        self.banner_text.setText("")
        self.banner.setVisible(False)

    def error_text(self) -> str:
        return self.banner_text.text() if self.banner.isVisible() else ""

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
        self, folder: str | os.PathLike, dashboard_size=(1920, 1080), chart_size=(1600, 900)
    ) -> list[pathlib.Path]:
        """Exports every PNG and CSV into ``folder`` and remembers it.

        Raises
        ------
        OSError
            When the folder or a file cannot be written.
        """
        paths = export_all(folder, self.export_source(), dashboard_size, chart_size)
        settings().setValue("export/last_dir", os.fspath(folder))
        self.statusBar().showMessage(f"Exported {len(paths)} files to {folder}", 15000)
        return paths

    def _on_export_clicked(self) -> None:
        start = settings().value("export/last_dir", "") or str(pathlib.Path.home())
        folder = QFileDialog.getExistingDirectory(self, "Export PNGs and CSVs to", start)
        if not folder:
            return
        try:
            self.export_to(folder)
        except OSError as exc:
            self.show_error(f"export failed: {exc}")

    # -------------------------------------------------------------- lifecycle

    def shutdown(self) -> None:
        """Stops the run (if any) and waits for its thread: safe to call twice."""
        self._queue.clear()
        self.replay_timer.stop()
        self.draw_timer.stop()
        self._recorder = None
        job, self._job = self._job, None
        if job is not None:
            # Cancel wakes paused and slowed-down engine threads; a job that still has not
            # ended is kept referenced by gui.worker (a running QThread must not be destroyed).
            if not job.stop():
                job.stop(60000)
            job.release()

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        self.save_settings()
        self.shutdown()
        super().closeEvent(event)


__all__ = ["GenerateDialog", "MainWindow", "SettingsPanel", "settings"]
