"""Export's pictures and files: PNGs of each chart, the heap map, the lanes and the
time breakdown, a slide-sized dashboard, CSVs, and the last run's trace (Chrome
Trace Event JSON).  gui.export_set writes them all (with the handout) as one set.

Every picture is rendered from a fresh, off-screen copy of the view at exactly
the requested size (so exports never depend on the window's size), and is
stamped with the input and the run parameters.  Every file is written to a
temporary name in the target folder and renamed into place, so a reader never
sees half a file.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime
import errno
import io
import json
import os
import pathlib
import stat
import tempfile

import numpy as np
import pyqtgraph as pg
import pyqtgraph.exporters  # noqa: F401  (registers ImageExporter)
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter
from PySide6.QtWidgets import QApplication, QWidget

from engine import COUNTER_NAMES, RunResult
from engine.trace import trace_document
from gui.breakdown_chart import BreakdownChart, BreakdownItem
from gui.charts import CHART_KINDS, ChartView, Trace, throughput_curve
from gui.file_modes import shared_file_mode
from gui.heap_map import HeapMapView
from gui.results_table import ResultRow, ResultsModel, ResultsTable
from gui.time_feed import run_name
from gui.timeline_view import TimelineView

DASHBOARD_SIZE = (1920, 1080)
CHART_SIZE = (1600, 900)
HEAP_MAP_SIZE = (1600, 900)
FILE_NAMES = {
    "locks": "heapscope_locks.png",
    "throughput": "heapscope_throughput.png",
    "free_list": "heapscope_free_list.png",
    "heap_map": "heapscope_heap_map.png",
    "heap_map_peak": "heapscope_heap_map_fullest.png",
    "dashboard": "heapscope_dashboard.png",
    "timeline": "heapscope_timeline.png",
    "breakdown": "heapscope_time_breakdown.png",
    "trace": "heapscope_trace.json",
    "series": "heapscope_series.csv",
    "results": "heapscope_results.csv",
    "handout": "heapscope_handout.pdf",
}


@dataclasses.dataclass
class ExportSource:
    """Everything an export needs from the window (no widgets are resized)."""

    traces: list[Trace]
    chart_options: dict
    heap_map: HeapMapView
    results: ResultsModel
    input_text: str  # e.g. "random_64k.bin (64 KiB, 64 blocks)"
    params_text: str  # e.g. "heap 2 MiB, block 1 KiB; #1 baseline (...) ..."


# -- atomic writes -----------------------------------------------------------


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> pathlib.Path:
    """Writes ``data`` to a temporary file next to ``path`` and renames it into place.

    The file gets mode 0666 minus the umask, as ``open()`` would give it.
    """
    path = pathlib.Path(path)
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        mode = None
    if mode is not None and not (stat.S_ISREG(mode) or stat.S_ISLNK(mode)):
        # The rename would replace a directory's entry for a FIFO or a device (as root,
        # even /dev/null): refuse instead.
        raise OSError(
            errno.EEXIST if not stat.S_ISDIR(mode) else errno.EISDIR,
            "it is a directory" if stat.S_ISDIR(mode) else "it is not a regular file",
            os.fspath(path),
        )
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        os.fchmod(fd, shared_file_mode())  # mkstemp's 0600 hides slides from a web folder
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def atomic_save_image(path: str | os.PathLike, image: QImage) -> pathlib.Path:
    """Saves a QImage as PNG atomically."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice

    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    # The stubs type format as bytes, but PySide6 6.10 only accepts str at runtime.
    if not image.save(buffer, "PNG"):  # type: ignore[call-overload]
        raise OSError(f"could not encode {pathlib.Path(path).name} as PNG")
    buffer.close()
    return atomic_write_bytes(path, bytes(data.data()))


def atomic_write_csv(path: str | os.PathLike, header: list[str], rows: list[list]) -> pathlib.Path:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return atomic_write_bytes(path, text.getvalue().encode("utf-8"))


# -- rendering ---------------------------------------------------------------


def _offscreen(widget: QWidget, width: int, height: int) -> None:
    """Lays a widget out at an exact size without showing a window."""
    widget.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
    widget.resize(width, height)
    widget.show()
    QApplication.processEvents()


def _render_scene(view: pg.GraphicsView, width: int, height: int) -> QImage:
    """Renders a pyqtgraph view to an image through pyqtgraph's ImageExporter."""
    exporter = pg.exporters.ImageExporter(view.scene())
    exporter.parameters()["width"] = width
    exporter.parameters()["height"] = height
    image = exporter.export(toBytes=True)
    if image.width() != width or image.height() != height:
        image = image.scaled(
            width,
            height,
            Qt.AspectRatioMode.IgnoreAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
    return image


def _stamp(
    painter: QPainter, rect: QRect, title: str, source: ExportSource, scale: float = 1.0
) -> None:
    """Title, input and parameters across the top of an exported picture."""
    painter.fillRect(rect, QColor("#1f2a36"))
    pad = int(14 * scale)
    inner = rect.adjusted(pad, int(6 * scale), -pad, -int(6 * scale))
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    painter.setPen(QColor("#ffffff"))
    f = QFont()
    f.setPixelSize(max(10, int(26 * scale)))
    f.setBold(True)
    painter.setFont(f)
    painter.drawText(
        inner, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop, f"heapscope — {title}"
    )
    f2 = QFont()
    f2.setPixelSize(max(9, int(17 * scale)))
    painter.setFont(f2)
    painter.setPen(QColor("#dfe6ee"))
    painter.drawText(inner, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop, when)
    text = f"input: {source.input_text}    ·    {source.params_text}"
    painter.drawText(
        inner,
        Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom | Qt.TextFlag.TextWordWrap,
        text,
    )


def stamp_height(height: int) -> int:
    return max(48, int(round(height * 0.085)))


def chart_body(
    kind: str, source: ExportSource, width: int, height: int, font_scale: float
) -> QImage:
    """One chart, unstamped, at exactly width x height."""
    view = ChartView(kind, font_scale=font_scale)
    try:
        view.set_options(
            rate=source.chart_options.get("rate", False), log=source.chart_options.get("log", False)
        )
        view.set_traces(source.traces)
        _offscreen(view, width, height)
        return _render_scene(view, width, height)
    finally:
        view.close()
        view.deleteLater()


def render_chart(kind: str, source: ExportSource, size=CHART_SIZE) -> QImage:
    """One chart at ``size`` pixels, stamped."""
    width, height = size
    scale = min(width / 1600, height / 900) * 1.35
    head = stamp_height(height)
    body = chart_body(kind, source, width, height - head, max(0.6, scale))
    return _compose(body, width, height, head, view_title(kind, source), source)


def view_title(kind: str, source: ExportSource) -> str:
    if kind == "locks":
        return (
            "Lock acquisitions per second"
            if source.chart_options.get("rate")
            else "Lock acquisitions over time"
        )
    return {
        "throughput": "Throughput over time",
        "free_list": "Free-list length over time",
        "heap_map": "Heap map (one pixel per 16-byte cell)",
    }.get(kind, kind)


def _compose(
    body: QImage, width: int, height: int, head: int, title: str, source: ExportSource
) -> QImage:
    image = QImage(width, height, QImage.Format.Format_RGB32)
    image.fill(QColor("#ffffff"))
    painter = QPainter(image)
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        _stamp(painter, QRect(0, 0, width, head), title, source, scale=head / 92)
        painter.drawImage(QRect(0, head, width, height - head), body)
    finally:
        painter.end()
    return image


def _heap_copy(source: ExportSource, font_scale: float = 1.0, peak: bool = False) -> HeapMapView:
    """An off-screen copy of the heap map: its last frame, or its fullest one."""
    original = source.heap_map
    view = HeapMapView(font_scale=font_scale)
    if original.layout is not None:
        title = original.title_text
        states, owners = original.cell_states(), original.cell_owners()
        if peak and original.peak is not None:
            states, owners, when, _ = original.peak
            title = f"{title}: fullest moment, t = {when:.3f} s"
        elif original.strategy is not None:
            title = f"{title}: final state"
        view.set_layout(
            original.layout_args["heap_size"],
            original.layout_args["pool_size"],
            original.strategy,
            original.slot_count,
            title,
        )
        view.show_cells(states, owners)
    view.set_hint("")
    return view


def heap_body(
    source: ExportSource, width: int, height: int, font_scale: float, peak: bool = False
) -> QImage:
    """The heap map's last (or fullest) frame with its labels and legend, unstamped."""
    view = _heap_copy(source, font_scale=font_scale, peak=peak)
    try:
        _offscreen(view, width, height)
        return _render_scene(view, width, height)
    finally:
        view.close()
        view.deleteLater()


def render_heap_map(source: ExportSource, size=HEAP_MAP_SIZE, peak: bool = False) -> QImage:
    """The heap map's last (or fullest) frame, with its labels and legend, stamped."""
    width, height = size
    head = stamp_height(height)
    scale = max(0.6, min(width / 1600, height / 900) * 1.2)
    body = heap_body(source, width, height - head, scale, peak=peak)
    return _compose(body, width, height, head, view_title("heap_map", source), source)


def render_table(model: ResultsModel, width: int, height: int, point_size: float = 11) -> QImage:
    """The results table at exactly width x height.

    Rendered at its natural width (every column whole: a slide cannot scroll),
    then scaled down to fit when it is wider than ``width``.
    """
    table = ResultsTable(model)
    try:
        f = table.font()
        f.setPointSizeF(point_size)
        table.setFont(f)
        table.horizontalHeader().setFont(f)
        _offscreen(table, width, height)
        table._fit_columns()
        natural = table.horizontalHeader().length() + 2 * table.frameWidth() + 2
        scale = min(1.0, width / natural)
        w, h = max(width, natural), int(round(height / scale))
        table.resize(w, h)
        QApplication.processEvents()
        full = QImage(w, h, QImage.Format.Format_RGB32)
        full.fill(QColor("#ffffff"))
        table.render(full)
    finally:
        table.close()
        table.deleteLater()
    if (w, h) == (width, height):
        return full
    return full.scaled(
        width,
        height,
        Qt.AspectRatioMode.IgnoreAspectRatio,
        Qt.TransformationMode.SmoothTransformation,
    )


def render_dashboard(source: ExportSource, size=DASHBOARD_SIZE, stamped: bool = True) -> QImage:
    """Heap map, the three charts and the results table on one slide (``stamped``: with
    the title, input and parameters across the top; the handout has its own)."""
    width, height = size
    s = min(width / 1920, height / 1080)
    head = stamp_height(height) if stamped else 0
    gap = max(2, int(8 * s))
    left_w = int(width * 0.55)
    right_w = width - left_w - 3 * gap
    body_h = height - head - 2 * gap
    table_h = int(body_h * 0.24)
    heap_h = body_h - table_h - gap
    chart_h = (body_h - 2 * gap) // 3

    image = QImage(width, height, QImage.Format.Format_RGB32)
    image.fill(QColor("#ffffff"))
    painter = QPainter(image)
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if stamped:
            _stamp(
                painter,
                QRect(0, 0, width, head),
                "allocator lock vs per-thread pools",
                source,
                scale=head / 92,
            )
        heap = _heap_copy(source, font_scale=max(0.55, s * 0.95), peak=True)
        try:
            _offscreen(heap, left_w, heap_h)
            painter.drawImage(
                QRect(gap, head + gap, left_w, heap_h), _render_scene(heap, left_w, heap_h)
            )
        finally:
            heap.close()
            heap.deleteLater()
        table = render_table(source.results, left_w, table_h, point_size=max(7.0, 10.5 * s))
        painter.drawImage(QRect(gap, head + 2 * gap + heap_h, left_w, table_h), table)
        for i, kind in enumerate(CHART_KINDS):
            view = ChartView(kind, font_scale=max(0.6, s * 0.95))
            try:
                view.set_options(
                    rate=source.chart_options.get("rate", False),
                    log=source.chart_options.get("log", False),
                )
                view.set_traces(source.traces)
                _offscreen(view, right_w, chart_h)
                top = head + gap + i * (chart_h + gap)
                painter.drawImage(
                    QRect(left_w + 2 * gap, top, right_w, chart_h),
                    _render_scene(view, right_w, chart_h),
                )
            finally:
                view.close()
                view.deleteLater()
    finally:
        painter.end()
    return image


def last_timed_row(results: ResultsModel) -> ResultRow | None:
    """The last finished run that has a timeline (a run without telemetry has none)."""
    for row in reversed(results.rows):
        if row.result.timeline is not None and row.result.timeline.rows:
            return row
    return None


def _grab(widget: QWidget, width: int, height: int) -> QImage:
    """A laid-out off-screen widget (labels included) as an image of exactly that size."""
    QApplication.processEvents()  # the lanes re-render for their laid-out width
    image = widget.grab().toImage()
    if image.width() != width or image.height() != height:
        image = image.scaled(
            width,
            height,
            Qt.AspectRatioMode.IgnoreAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
    return image


def timeline_body(
    source: ExportSource,
    width: int,
    height: int,
    font_scale: float,
    row: ResultRow | None = None,
) -> QImage:
    """The lanes of ``row`` (default: the last finished run that has a timeline; empty
    when none has)."""
    row = row if row is not None else last_timed_row(source.results)
    view = TimelineView(font_scale=font_scale)
    try:
        _offscreen(view, width, height)
        if row is not None and row.result.timeline is not None:
            view.show_timeline(row.result.timeline, live=False)
        return _grab(view, width, height)
    finally:
        view.close()
        view.deleteLater()


def render_timeline(source: ExportSource, size=CHART_SIZE) -> QImage:
    """The lanes of the last finished run (empty when none has a timeline), stamped."""
    width, height = size
    head = stamp_height(height)
    scale = max(0.6, min(width / 1600, height / 900) * 1.35)
    body = timeline_body(source, width, height - head, scale)
    row = last_timed_row(source.results)
    title = "Lanes: where each thread's time went"
    if row is not None:
        title += f", run {run_name(row.run_id, row.result.strategy.label)}"
    return _compose(body, width, height, head, title, source)


def breakdown_items(results: ResultsModel) -> list[BreakdownItem]:
    """One bar per finished run that has a time breakdown, in the table's order."""
    items = []
    for row in results.rows:
        seconds = row.result.time_breakdown_s
        if seconds is not None:
            items.append(BreakdownItem(run_name(row.run_id, row.result.strategy.label), seconds))
    return items


def breakdown_body(source: ExportSource, width: int, height: int, font_scale: float) -> QImage:
    """The "where the time went" bars, one per finished run, unstamped."""
    view = BreakdownChart(font_scale=font_scale)
    try:
        view.set_runs(breakdown_items(source.results))
        view.set_controls_visible(False)
        _offscreen(view, width, height)
        return _grab(view, width, height)
    finally:
        view.close()
        view.deleteLater()


def render_breakdown(source: ExportSource, size=CHART_SIZE) -> QImage:
    """The "where the time went" bars, one per finished run, stamped."""
    width, height = size
    head = stamp_height(height)
    scale = max(0.6, min(width / 1600, height / 900) * 1.35)
    body = breakdown_body(source, width, height - head, scale)
    return _compose(body, width, height, head, "Where the time went (all threads)", source)


#: The trace written when no finished run has a timeline (none yet, or a replay of a
#: session recorded without one): a valid, empty trace, so every export writes the
#: same files.
EMPTY_TRACE = {
    "traceEvents": [],
    "otherData": {"note": "no finished run with a timeline (run one, then export again)"},
}


def trace_bytes(result: RunResult | None) -> bytes:
    """The run's Chrome Trace Event JSON (opens in Perfetto's UI and chrome://tracing)."""
    document = EMPTY_TRACE if result is None else trace_document(result)
    return json.dumps(document, separators=(",", ":")).encode("utf-8")


# -- CSV ---------------------------------------------------------------------

SERIES_HEADER = ["run", "strategy", "label", "time_s", "mb_per_s", *COUNTER_NAMES]


def series_rows(traces: list[Trace]) -> list[list]:
    """One row per sample of every run: run id, strategy, time, MB/s, every counter."""
    rows = []
    for trace in traces:
        series = trace.series
        if not series or len(series["time_s"]) == 0:
            continue
        t = np.asarray(series["time_s"], dtype=np.float64)
        mb_t, mb = throughput_curve(series)
        mb_by_row = [""] * len(t)
        offset = len(t) - len(mb_t)
        for i, v in enumerate(mb):
            mb_by_row[offset + i] = f"{v:.4f}"
        columns = [np.asarray(series[name]).tolist() for name in COUNTER_NAMES]
        for i in range(len(t)):
            rows.append(
                [
                    trace.run_id,
                    trace.strategy,
                    trace.label,
                    f"{t[i]:.6f}",
                    mb_by_row[i],
                    *(c[i] for c in columns),
                ]
            )
    return rows


__all__ = [
    "CHART_SIZE",
    "DASHBOARD_SIZE",
    "ExportSource",
    "FILE_NAMES",
    "atomic_save_image",
    "atomic_write_bytes",
    "atomic_write_csv",
    "breakdown_body",
    "breakdown_items",
    "chart_body",
    "heap_body",
    "last_timed_row",
    "render_chart",
    "render_dashboard",
    "render_breakdown",
    "render_heap_map",
    "render_table",
    "render_timeline",
    "stamp_height",
    "timeline_body",
    "series_rows",
    "trace_bytes",
]
