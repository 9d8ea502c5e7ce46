"""Reproduce the report: run the exercise's experiments and write report.html,
report.pdf, the CSVs and the PNGs into one folder.

The experiments run on a QThread (gui.report_runs, Qt-free); the charts are
then drawn off screen with the Experiments window's charts, embedded in the
HTML as data: URIs (one file that opens anywhere), and the same page is laid
out as the PDF.  A report never replaces an earlier one: when any of the names
is taken, the whole set is numbered (report-2.html, report-2.pdf, ...), as the
app's exports are (gui.export_names).

From the command line: ``heapscope --reproduce-report DIR [--input FILE]
[--repeat N] --quit-when-done`` (gui.app); from the window: :func:`open_report_dialog`.
"""

from __future__ import annotations

import base64
import os
import pathlib
import sys

from PySide6.QtCore import QBuffer, QByteArray, QEventLoop, QIODevice, Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from engine.sweep import write_csv
from gui.experiments_charts import offscreen_charts
from gui.experiments_setup import x_parameter
from gui.experiments_worker import JobThread
from gui.export import atomic_write_bytes
from gui.export_names import set_names
from gui.report_html import report_html
from gui.report_pdf import report_pdf
from gui.report_runs import (
    DEFAULT_REPEAT,
    ReportCancelled,
    ReportData,
    ReportFailed,
    ReportRunner,
    report_inputs,
)

#: One report's files, numbered together (report-2.html, ...) when any name is taken.
FILE_NAMES = {
    "html": "report.html",
    "pdf": "report.pdf",
    "strategies_csv": "report_strategies.csv",
    "pools_csv": "report_pools.csv",
    "strategies_png": "report_strategies.png",
    "pools_png": "report_pools.png",
}
#: The charts' size: small files, still readable in the page and on paper.
CHART_SIZE = (1200, 420)
PDF_IMAGE_WIDTH = 640  # the picture's width on the A4 page, in the document's pixels


def png_bytes(image: QImage) -> bytes:
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, "PNG"):  # type: ignore[call-overload]
        raise OSError("could not encode a chart as PNG")
    buffer.close()
    return bytes(data.data())


def render_charts(data: ReportData) -> dict[str, QImage]:
    """The two charts: strategies (against the input size when there are several), pools."""
    charts = offscreen_charts(*CHART_SIZE)
    try:
        out = {}
        for kind, result, parameter in (
            ("strategies", data.strategies, x_parameter(data.strategies.plan.swept)),
            ("pools", data.pools, "pool_size"),
        ):
            charts.show_summaries(result.summaries(), parameter, result.plan.repeat)
            out[kind] = charts.image(*CHART_SIZE)
        return out
    finally:
        charts.close()
        charts.deleteLater()


def write_report(
    folder: str | os.PathLike[str], data: ReportData, command: str | None = None
) -> list[pathlib.Path]:
    """Writes the report's files into ``folder`` (created if missing); returns their paths,
    the HTML first."""
    where = pathlib.Path(folder)
    where.mkdir(parents=True, exist_ok=True)
    names = set_names(where, FILE_NAMES)
    images = render_charts(data)
    pngs = {kind: png_bytes(image) for kind, image in images.items()}
    embedded = {
        kind: "data:image/png;base64," + base64.b64encode(png).decode("ascii")
        for kind, png in pngs.items()
    }
    page = report_html(data, embedded, names, command)
    # The PDF's layout engine takes images as named resources, sized to the page.
    printable = report_html(
        data, {k: f"{k}.png" for k in images}, names, command, for_print=True
    ).replace('.png" alt=', f'.png" width="{PDF_IMAGE_WIDTH}" alt=')
    pdf = report_pdf(
        printable, {f"{k}.png": image for k, image in images.items()}, "heapscope report"
    )
    written = [atomic_write_bytes(where / names["html"], page.encode("utf-8"))]
    written.append(atomic_write_bytes(where / names["pdf"], pdf))
    for kind, result in (("strategies", data.strategies), ("pools", data.pools)):
        csv_path = where / names[f"{kind}_csv"]
        write_csv(result.rows, csv_path)
        written.append(csv_path)
    for kind, png in pngs.items():
        written.append(atomic_write_bytes(where / names[f"{kind}_png"], png))
    return written


# -- the command line ------------------------------------------------------------


def run_with_events(runner: ReportRunner, progress=None) -> ReportData:
    """Runs the experiments on a QThread while this thread's event loop keeps serving
    (signals, the Ctrl+C relay); raises ReportCancelled or ReportFailed."""
    outcome: dict[str, object] = {}
    loop = QEventLoop()
    thread = JobThread(lambda emit: runner.execute(emit))
    if progress is not None:
        thread.row_done.connect(progress)
    thread.job_done.connect(lambda data: outcome.setdefault("data", data))
    thread.job_failed.connect(lambda message: outcome.setdefault("error", message))
    thread.finished.connect(loop.quit)
    thread.start()
    try:
        if not thread.isFinished():
            loop.exec()
    finally:  # an exception in the loop (none expected) must not leave the runs going
        if thread.isRunning():
            runner.cancel()
        thread.wait()
    if "data" in outcome:
        return outcome["data"]  # type: ignore[return-value]
    message = str(outcome.get("error", "the report was cancelled: nothing was written"))
    if "cancelled" in message:
        raise ReportCancelled(message)
    raise ReportFailed(message)


def command_line(folder: str, input_path: str | None, repeat: int) -> str:
    parts = ["heapscope", "--reproduce-report", folder]
    if input_path:
        parts += ["--input", input_path]
    if repeat != DEFAULT_REPEAT:
        parts += ["--repeat", str(repeat)]
    return " ".join(parts + ["--quit-when-done"])


def _stderr_progress(done: int, total: int, what: str) -> None:
    if sys.stderr.isatty():
        print(f"\rheapscope: run {done} of {total} ({what})\033[K", end="", file=sys.stderr)


# -- the window's action --------------------------------------------------------------


class ReportDialog(QDialog):
    """Choose a folder and a repeat count, run, watch the progress, cancel."""

    def __init__(self, parent: QWidget | None = None, input_path: str | None = None):
        super().__init__(parent)
        self.setWindowTitle("Reproduce the report")
        self.setModal(False)
        self.input_path = input_path
        self.runner: ReportRunner | None = None
        self.worker: JobThread | None = None
        self.written: list[pathlib.Path] = []
        layout = QVBoxLayout(self)
        what = input_path or "generated 1 MiB and 5 MiB inputs"
        self.intro = QLabel(
            f"Runs every strategy and the 2/8/32 KiB pools on {what}, with repeats, and "
            "writes report.html, report.pdf, the CSVs and the PNGs to a folder."
        )
        self.intro.setWordWrap(True)
        layout.addWidget(self.intro)
        row = QHBoxLayout()
        row.addWidget(QLabel("Repeat"))
        self.repeat = QSpinBox()
        self.repeat.setRange(1, 20)
        self.repeat.setValue(DEFAULT_REPEAT)
        row.addWidget(self.repeat)
        row.addStretch(1)
        self.run_button = QPushButton("Choose folder and &run…")
        self.run_button.clicked.connect(self._ask_folder)
        self.cancel_button = QPushButton("&Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        row.addWidget(self.run_button)
        row.addWidget(self.cancel_button)
        layout.addLayout(row)
        self.progress = QProgressBar()
        self.progress.setFormat("%v of %m runs")
        layout.addWidget(self.progress)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.status.setOpenExternalLinks(True)
        layout.addWidget(self.status)
        self.resize(560, 180)

    def _ask_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Write the report to")
        if folder:
            self.start(folder)

    def start(self, folder: str) -> bool:
        if self.worker is not None:
            return False
        try:
            runner = ReportRunner(report_inputs(self.input_path), self.repeat.value())
        except (ValueError, OSError) as exc:
            self.status.setText(f"Cannot run: {exc}")
            return False
        self.runner, self.folder = runner, folder
        self.progress.setRange(0, runner.total_runs)
        self.progress.setValue(0)
        self.status.setText("Running the report's experiments…")
        self.worker = JobThread(lambda emit: runner.execute(emit), self)
        self.worker.row_done.connect(lambda done, _total, _what: self.progress.setValue(done))
        self.worker.job_done.connect(self._on_done)
        self.worker.job_failed.connect(self._on_failed)
        self.worker.start()
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        return True

    def cancel(self) -> None:
        if self.runner is not None:
            self.runner.cancel()

    def _end_thread(self) -> None:
        thread, self.worker = self.worker, None
        if thread is not None:
            thread.wait()
            thread.deleteLater()
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)

    def _on_done(self, data: ReportData) -> None:
        self._end_thread()
        try:
            self.written = write_report(self.folder, data)
        except OSError as exc:
            self.status.setText(f"Cannot write the report in '{self.folder}': {exc}")
            return
        html_path = self.written[0]
        self.status.setText(
            f'Written: <a href="{html_path.as_uri()}">{html_path.name}</a> and '
            f"{len(self.written) - 1} more files in {self.folder}"
        )

    def _on_failed(self, message: str) -> None:
        self._end_thread()
        self.status.setText(message if "cancelled" in message else f"Stopped: {message}")

    def shutdown(self) -> None:
        self.cancel()
        if self.worker is not None:
            self.worker.wait()
            self._end_thread()

    def done(self, code: int) -> None:  # closing the dialog cancels the experiments
        self.shutdown()
        super().done(code)


def open_report_dialog(
    parent: QWidget | None = None, input_path: str | None = None
) -> ReportDialog:
    """Shows the Reproduce-the-report dialog (non-modal).  ``input_path`` None: the
    generated 1 MiB and 5 MiB inputs, as the exercise's report has."""
    dialog = ReportDialog(parent, input_path)
    dialog.show()
    return dialog


__all__ = [
    "CHART_SIZE",
    "FILE_NAMES",
    "ReportDialog",
    "command_line",
    "open_report_dialog",
    "render_charts",
    "run_with_events",
    "write_report",
]
