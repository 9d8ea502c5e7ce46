"""The Experiments window: set up a sweep, run it with a progress bar, watch the points arrive.

Non-modal, openable on its own (:func:`open_experiments`).  The sweep runs on a
QThread (gui.experiments_worker); each finished run comes back through a Qt
signal and the charts are redrawn from every row so far.  Cancel stops the
current run and keeps the finished rows (the charts, the export and the CSV
show them).  The machine stamp of the sweep is shown when it ends, with the
engine's warning when the load changed enough to matter.
"""

from __future__ import annotations

import os
import pathlib

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from engine import Strategy
from engine.machine import MachineStamp, machine_stamp
from engine.sweep import SweepPlan, SweepResult, SweepRow, write_csv
from gui.experiments_charts import SweepCharts
from gui.experiments_setup import (
    DEFAULT_VALUES,
    PARAMETERS,
    Setup,
    SetupError,
    available_strategies,
    build_plan,
    x_parameter,
)
from gui.experiments_worker import SweepThread
from gui.export import atomic_save_image
from gui.export_names import set_names, written_message

EXPORT_NAMES = {"png": "heapscope_sweep.png", "csv": "heapscope_sweep.csv"}
EXPORT_SIZE = (1800, 620)
TICKED = (Strategy.BASELINE, Strategy.POOLED)


class ExperimentsWindow(QMainWindow):
    """Set-up on the left, charts on the right, progress and the machine underneath."""

    #: The sweep ended (complete, cancelled or failed): its SweepResult.
    sig_finished = Signal(object)

    def __init__(self, parent: QWidget | None = None, input_path: str | None = None):
        super().__init__(parent)
        self.setWindowTitle("heapscope: experiments")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)
        self.worker: SweepThread | None = None
        self.rows: list[SweepRow] = []
        self.result: SweepResult | None = None
        self._plan: SweepPlan | None = None
        self._stamp: MachineStamp | None = None
        central = QWidget()
        grid = QGridLayout(central)
        grid.addWidget(self._form(input_path), 0, 0)
        self.charts = SweepCharts()
        self.charts.setMinimumSize(900, 380)
        grid.addWidget(self.charts, 0, 1)
        grid.setColumnStretch(1, 1)
        bottom = QVBoxLayout()
        line = QHBoxLayout()
        self.progress = QProgressBar()
        self.progress.setFormat("%v of %m runs")
        self.progress.setValue(0)
        self.status = QLabel("Set up a sweep and press Run.")
        self.status.setWordWrap(True)
        line.addWidget(self.progress, 1)
        line.addWidget(self.status, 2)
        bottom.addLayout(line)
        self.machine = QLabel("")
        self.machine.setWordWrap(True)
        self.machine.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.warning = QLabel("")
        self.warning.setWordWrap(True)
        self.warning.setStyleSheet("color: #8E2400; font-weight: bold")
        self.warning.hide()
        bottom.addWidget(self.machine)
        bottom.addWidget(self.warning)
        grid.addLayout(bottom, 1, 0, 1, 2)
        self.setCentralWidget(central)
        self.resize(1400, 640)
        self._update_buttons()

    # -- the form --------------------------------------------------------------

    def _form(self, input_path: str | None) -> QWidget:
        box = QWidget()
        box.setMaximumWidth(380)
        form = QFormLayout(box)
        self.use_file = QRadioButton("File")
        self.use_generated = QRadioButton("Generated, size")
        self.file_edit = QLineEdit(input_path or "")
        self.file_edit.setPlaceholderText("an input file")
        browse = QPushButton("…")
        browse.setToolTip("Choose the input file")
        browse.clicked.connect(self._browse)
        file_row = QHBoxLayout()
        file_row.addWidget(self.use_file)
        file_row.addWidget(self.file_edit, 1)
        file_row.addWidget(browse)
        self.size_edit = QLineEdit("1M")
        gen_row = QHBoxLayout()
        gen_row.addWidget(self.use_generated)
        gen_row.addWidget(self.size_edit, 1)
        (self.use_file if input_path else self.use_generated).setChecked(True)
        form.addRow("Input", file_row)
        form.addRow("", gen_row)
        strategies = QGridLayout()
        self.strategy_boxes: dict[Strategy, QCheckBox] = {}
        for i, (strategy, why) in enumerate(available_strategies()):
            check = QCheckBox(strategy.label)
            check.setChecked(strategy in TICKED and why is None)
            check.setEnabled(why is None)
            if why:
                check.setToolTip(why)
            self.strategy_boxes[strategy] = check
            strategies.addWidget(check, i // 3, i % 3)
        form.addRow("Strategies", strategies)
        self.parameter = QComboBox()
        for name, axis in PARAMETERS.items():
            self.parameter.addItem(name, axis)
        self.values_edit = QLineEdit("")
        self.values_edit.setPlaceholderText("comma list, e.g. 2K,8K,32K")
        self.parameter.currentIndexChanged.connect(self._parameter_changed)
        form.addRow("Swept parameter", self.parameter)
        form.addRow("Values", self.values_edit)
        self.repeat = QSpinBox()
        self.repeat.setRange(1, 1000)
        self.repeat.setValue(3)
        self.repeat.setToolTip("Each point runs this many times, interleaved: median, min, max")
        form.addRow("Repeat", self.repeat)
        self.run_button = QPushButton("&Run sweep")
        self.run_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("&Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.export_button = QPushButton("&Export PNG and CSV…")
        self.export_button.clicked.connect(self._ask_export)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.cancel_button)
        form.addRow(buttons)
        form.addRow(self.export_button)
        self._parameter_changed()
        return box

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Input file", self.file_edit.text())
        if path:
            self.file_edit.setText(path)
            self.use_file.setChecked(True)

    def _parameter_changed(self, *_args) -> None:
        axis = self.parameter.currentData()
        self.values_edit.setText(DEFAULT_VALUES[axis])
        self.values_edit.setEnabled(axis is not None)

    def setup(self) -> Setup:
        """What the form says now."""
        return Setup(
            strategies=tuple(s for s, box in self.strategy_boxes.items() if box.isChecked()),
            parameter=self.parameter.currentData(),
            values_text=self.values_edit.text(),
            repeat_text=str(self.repeat.value()),
            input_path=self.file_edit.text() if self.use_file.isChecked() else None,
            generated_text=self.size_edit.text(),
        )

    # -- running -----------------------------------------------------------------

    @property
    def busy(self) -> bool:
        return self.worker is not None

    def start(self) -> bool:
        """Plans the form's sweep and starts it; False (and the reason shown) if it cannot."""
        if self.busy:
            return False
        setup = self.setup()
        if setup.input_path is not None and not setup.input_path.strip():
            self._show_error("choose an input file, or a generated input")
            return False
        try:
            plan = build_plan(setup)
        except SetupError as exc:
            self._show_error(str(exc))
            return False
        self._plan, self._stamp = plan, machine_stamp()
        self.rows, self.result = [], None
        self.charts.clear_points()
        self.machine.setText("")
        self.warning.hide()
        self.progress.setRange(0, plan.total_runs)
        self.progress.setValue(0)
        skipped = "; ".join(f"skipped {s.label}: {why}" for s, why in plan.skipped)
        self.status.setText(
            f"Running {len(plan.points)} points x {plan.repeat} = {plan.total_runs} runs"
            + (f" ({skipped})" if skipped else "")
        )
        self.worker = SweepThread(plan, self)
        self.worker.row_done.connect(self._on_row)
        self.worker.job_done.connect(self._on_done)
        self.worker.job_failed.connect(self._on_failed)
        self.worker.start()
        self._update_buttons()
        return True

    def cancel(self) -> None:
        """Stops the sweep after cancelling the current run; the finished rows stay."""
        if self.worker is not None:
            self.status.setText("Cancelling: the finished runs are kept")
            self.worker.cancel()

    def _on_row(self, done: int, total: int, row: SweepRow) -> None:
        if self._plan is None or self._stamp is None:
            return
        self.rows.append(row)
        self.progress.setValue(done)
        self._redraw(SweepResult(self._plan, tuple(self.rows), {}, self._stamp))

    def _redraw(self, result: SweepResult) -> None:
        parameter = self.parameter_of(result)
        self.charts.show_summaries(result.summaries(), parameter, result.plan.repeat)

    @staticmethod
    def parameter_of(result: SweepResult) -> str | None:
        """The x axis: a swept parameter other than the strategy (None: strategies)."""
        return x_parameter(result.plan.swept)

    def _on_done(self, result: SweepResult) -> None:
        self._finish_thread()
        self.result = result
        self.rows = list(result.rows)
        self._redraw(result)
        total = result.plan.total_runs
        if result.error:
            self.status.setText(f"Stopped: {result.error}")
        elif result.cancelled:
            self.status.setText(f"Cancelled: {len(result.rows)} of {total} runs kept")
        else:
            self.status.setText(
                f"Done: {total} runs; every signature equals the single-threaded reference"
            )
        lines = result.machine.lines()
        self.machine.setText("\n".join(line for line in lines if not line.startswith("Warning")))
        warning = result.machine.warning()
        self.warning.setText(f"Warning: {warning}" if warning else "")
        self.warning.setVisible(bool(warning))
        self.sig_finished.emit(result)

    def _on_failed(self, message: str) -> None:
        self._finish_thread()
        self._show_error(message)
        self.sig_finished.emit(None)

    def _finish_thread(self) -> None:
        thread, self.worker = self.worker, None
        if thread is not None:
            thread.wait()
            thread.deleteLater()
        self._update_buttons()

    def _show_error(self, message: str) -> None:
        self.status.setText(f"Cannot run: {message}")

    def _update_buttons(self) -> None:
        self.run_button.setEnabled(not self.busy)
        self.cancel_button.setEnabled(self.busy)
        self.export_button.setEnabled(not self.busy and bool(self.rows))

    def shutdown(self) -> None:
        """Cancels a running sweep and waits for its thread (the window is closing)."""
        thread = self.worker
        if thread is not None:
            thread.cancel()
            thread.wait()
            self._finish_thread()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        self.shutdown()
        super().closeEvent(event)

    # -- export ----------------------------------------------------------------------

    def _ask_export(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export the sweep to")
        if folder:
            try:
                paths = self.export_to(folder)
            except OSError as exc:
                self.status.setText(f"Cannot export to '{folder}': {exc.strerror or exc}")
                return
            self.status.setText(written_message(folder, paths))

    def export_to(self, folder: str | os.PathLike[str]) -> list[pathlib.Path]:
        """The charts (PNG) and every finished run (CSV); an earlier export is kept
        (the new pair is numbered: heapscope_sweep-2.png, ...)."""
        if not self.rows:
            raise OSError("no run has finished yet: nothing to export")
        names = set_names(folder, EXPORT_NAMES)
        png = atomic_save_image(
            pathlib.Path(folder) / names["png"], self.charts.image(*EXPORT_SIZE)
        )
        csv_path = pathlib.Path(folder) / names["csv"]
        write_csv(self.rows, csv_path)
        return [png, csv_path]


class _CloseWith(QObject):
    """Closes the Experiments window (cancelling its sweep, waiting for its thread)
    when the window that opened it closes: no engine thread outlives the app."""

    def __init__(self, window: ExperimentsWindow, parent: QWidget):
        super().__init__(parent)
        self._window = window

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.Close:
            self._window.close()
        return False


def open_experiments(parent: QWidget | None = None, input_path: str | None = None):
    """Shows the Experiments window (one per parent: shown again if already open).

    ``input_path`` defaults to the parent's current input (``parent.input_path``).
    """
    window = getattr(parent, "_experiments_window", None) if parent is not None else None
    if window is None:
        if input_path is None:
            input_path = getattr(parent, "input_path", None)
        window = ExperimentsWindow(parent, input_path)
        window.setWindowFlag(Qt.WindowType.Window, True)  # its own window, not a panel
        if parent is not None:
            parent._experiments_window = window  # type: ignore[attr-defined]
            parent.installEventFilter(_CloseWith(window, parent))
    window.show()
    window.raise_()
    window.activateWindow()
    return window


__all__ = ["EXPORT_NAMES", "ExperimentsWindow", "open_experiments"]
