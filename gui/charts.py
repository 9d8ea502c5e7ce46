"""The three time-series charts, one curve per run, runs overlaid on shared axes.

- lock acquisitions over time (cumulative, or as a rate per second; log axis option)
- throughput over time (MB/s)
- free-list length over time (chunks): why the baseline slows down on long runs

The curves are computed from the engine's sampled series (``Run.series()``)
by the pure functions below, so tests and the CSV export use the same numbers
as the screen.
"""

from __future__ import annotations

import dataclasses
import html
from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QFontMetricsF, QResizeEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QTabBar,
    QVBoxLayout,
    QWidget,
)

from engine import InputError, LockKind, RunConfig, Strategy, format_size
from gui import palette
from gui.text_fit import break_words, pack_lines

#: Width of the window over which rates are averaged (s): the sampler ticks
#: every 2 ms, far too fine to read as a rate.
RATE_WINDOW_S = 0.05

#: Caption font size (points) before any presentation zoom.
CAPTION_POINTS = 14.0
CHART_KINDS = ("locks", "throughput", "free_list")


def _rate(t: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rate of a cumulative counter, averaged over RATE_WINDOW_S (per second)."""
    if len(t) < 2:
        return t[:0].astype(float), y[:0].astype(float)
    dt_sample = max(float(np.median(np.diff(t))), 1e-6)
    # Short runs get a shorter window, so their curve still spans the run.
    window = min(RATE_WINDOW_S, float(t[-1] - t[0]) / 10)
    k = int(max(1, min(len(t) - 1, round(window / dt_sample))))
    dy = y[k:].astype(np.float64) - y[:-k].astype(np.float64)
    dt = t[k:] - t[:-k]
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(dt > 0, dy / dt, 0.0)
    return t[k:].astype(np.float64), rate


def lock_curve(series: dict, rate: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(time s, cumulative lock acquisitions) or (time s, acquisitions per second)."""
    t = np.asarray(series["time_s"], dtype=np.float64)
    y = np.asarray(series["lock_acquisitions"])
    if rate:
        return _rate(t, y)
    return t, y.astype(np.float64)


def throughput_curve(series: dict) -> tuple[np.ndarray, np.ndarray]:
    """(time s, MB/s of input hashed), averaged over RATE_WINDOW_S."""
    t, r = _rate(np.asarray(series["time_s"], dtype=np.float64), np.asarray(series["bytes_done"]))
    return t, r / 1e6


def free_list_curve(series: dict) -> tuple[np.ndarray, np.ndarray]:
    """(time s, free chunks on the shared free list)."""
    return (
        np.asarray(series["time_s"], dtype=np.float64),
        np.asarray(series["free_list_length"], dtype=np.float64),
    )


def curve(kind: str, series: dict, rate: bool = False) -> tuple[np.ndarray, np.ndarray]:
    if kind == "locks":
        return lock_curve(series, rate)
    if kind == "throughput":
        return throughput_curve(series)
    return free_list_curve(series)


def observable(kind: str, strategy_label: str) -> bool:
    """Whether a chart has a curve for a strategy: malloc and the production
    allocators' locks and free lists are their own (not observable, never a flat 0)."""
    if kind == "throughput":
        return True
    try:
        return Strategy.parse(strategy_label).uses_arena
    except InputError:
        return True


#: The locks each arena strategy takes (WORKLOAD.md section 9), for the legend.
_LOCKS_TEXT = {
    Strategy.BASELINE: "1 lock",
    Strategy.SIZECLASS: "a lock per size class",
    Strategy.BATCHED: "1 lock, per-thread caches",
}


def run_label(run_id: int, config: RunConfig) -> str:
    """The legend's name of a run: strategy, then a lock kind or worker mode that is
    not the default (kept in short legends), then the parameters that matter for it:
    '#3 baseline, spin locks, 2 workers (1 lock)'."""
    s = config.strategy
    mode = ""
    if s.uses_arena and s is not Strategy.SINGLE and config.lock is not LockKind.MUTEX:
        mode += f", {config.lock.label} locks"
    if config.workers and s is not Strategy.SINGLE:
        mode += f", {config.workers} workers"
    threads = [] if config.workers else [f"{config.batch_size} threads"]
    if s is Strategy.POOLED:
        params = [*threads, f"{format_size(config.pool_size)} pools"]
    elif s is Strategy.SINGLE:
        params = ["1 thread"]
    elif s.uses_arena:
        params = [*threads, _LOCKS_TEXT.get(s, "1 lock")]
    else:
        params = [*threads, "its own heap"]
    if config.heap_size != 2 * 1024 * 1024:
        params.append(f"{format_size(config.heap_size)} heap")
    if config.block_size != 1024:
        params.append(f"{format_size(config.block_size)} blocks")
    return f"#{run_id} {s.label}{mode} ({', '.join(params)})"


@dataclasses.dataclass
class Trace:
    """One run's curves: its name, colour, dash and the latest series from the engine.

    ``dash`` "" means "not styled yet": :meth:`ChartsPanel.add_trace` gives the
    trace its run style (:func:`gui.palette.style_for`), colour and dash together.
    """

    run_id: int
    label: str
    strategy: str
    colour: str
    series: dict | None = None
    live: bool = True
    dash: str = ""

    @property
    def style(self) -> palette.RunStyle:
        return palette.RunStyle(self.colour, self.dash or "solid")

    @property
    def short_label(self) -> str:
        """'#3 baseline' of '#3 baseline (20 threads, 1 lock)': for narrow legends."""
        return self.label.split(" (", 1)[0]


#: Legend line samples (text): one per dash style, drawn in the run's colour.
_DASH_GLYPHS = {"solid": "━━━", "dash": "╺━╸╺━╸", "dot": "• • •", "dashdot": "━ • ━"}


def legend_entry_html(trace: Trace, short: bool) -> str:
    glyph = _DASH_GLYPHS.get(trace.dash or "solid", _DASH_GLYPHS["solid"])
    name = trace.short_label if short else trace.label
    return (
        f'<span style="color:{trace.colour}; font-weight:bold">{glyph}</span>'
        f"&nbsp;{html.escape(name).replace(' ', '&nbsp;')}"
    )


def nice_spacing(span: float, max_ticks: int) -> float:
    """The smallest 1, 2 or 5 x 10^k step that cuts ``span`` into at most ``max_ticks``."""
    if span <= 0 or max_ticks < 1:
        return 1.0
    step = 10.0 ** np.floor(np.log10(span / max_ticks))
    for m in (1, 2, 5, 10):
        if span / (m * step) <= max_ticks:
            return float(m * step)
    return float(10 * step)


class FittedAxis(pg.AxisItem):
    """An axis with only as many major ticks as its labels have room for (big
    presentation fonts on a short chart piled 0, 100, 200, 300 on top of each
    other), and no minor tick labels: a label gets 1.4 times its height on a
    vertical axis, 1.6 times the width of "0.00" on a horizontal one."""

    def tickSpacing(self, min_val, max_val, size):  # noqa: N802 (pyqtgraph override)
        if self.logMode:
            return super().tickSpacing(min_val, max_val, size)
        metrics = QFontMetricsF(self.style.get("tickFont") or self.font())
        if self.orientation in ("left", "right"):
            per_label = metrics.height() * 1.4
        else:
            per_label = metrics.horizontalAdvance("0.00") * 1.6
        max_ticks = max(1, int(size // max(1.0, per_label)))
        return [(nice_spacing(abs(max_val - min_val), max_ticks), 0)]


class CompactAxis(FittedAxis):
    """Tick labels like 64k, 1.2M instead of a '(x1e+06)' in the axis label."""

    def tickStrings(self, values, scale, spacing):  # noqa: N802 (Qt-style override)
        if self.logMode:
            return [_compact(10**v) for v in values]
        return [_compact(v * scale, spacing * scale) for v in values]


def _compact(v: float, spacing: float | None = None) -> str:
    a = abs(v)
    for factor, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if a >= factor:
            digits = 0 if spacing is None or spacing >= factor else 1
            if spacing is not None and spacing < factor / 10:
                digits = 2
            return f"{v / factor:.{digits}f}{suffix}"
    if spacing is not None and spacing < 1 and v != 0:
        return f"{v:.{min(3, max(1, int(-np.floor(np.log10(spacing)))))}f}"
    return f"{v:.0f}" if float(v).is_integer() or a >= 10 else f"{v:.1f}"


class _LegendLabel(pg.LabelItem):
    """A title or legend row that never asks for more width than the chart has
    (the legend's lines are broken to fit by :meth:`ChartView._update_legend`,
    titles shortened by :meth:`ChartView._update_labels`)."""

    def updateMin(self):  # noqa: N802 (pyqtgraph override)
        super().updateMin()
        self.setMinimumWidth(0)
        for which in (Qt.SizeHint.MinimumSize, Qt.SizeHint.PreferredSize):
            self._sizeHint[which] = (0, self._sizeHint[which][1])
        self.updateGeometry()


#: Chart titles: they carry the unit, so the left axis needs no rotated label
#: (which overlapped the bottom axis's when a chart was short).
_TITLES = {
    ("locks", False): "Lock acquisitions (cumulative)",
    ("locks", True): "Lock acquisitions per second",
    ("throughput", False): "Throughput (MB/s of input hashed)",
    ("free_list", False): "Free-list length (free chunks, shared heap)",
}
#: Shorter titles for narrow charts (presentation mode's columns).
_SHORT_TITLES = {
    ("locks", False): "Lock acquisitions",
    ("locks", True): "Lock acquisitions / s",
    ("throughput", False): "Throughput (MB/s)",
    ("free_list", False): "Free-list length",
}


class ChartView(pg.PlotWidget):
    """One chart (``kind`` in CHART_KINDS) with one curve per trace.

    The legend is a row of line samples and run names between the title and
    the plot, never over the data: its lines are broken to the chart's width,
    and the names shortened ("#3 baseline") when the full ones would need more
    than two lines.
    """

    #: Full run names while the legend fits in this many lines.
    FULL_NAME_LINES = 2

    def __init__(self, kind: str, parent=None, font_scale: float = 1.0):
        self.title_text = ""  # first: Qt may resize the widget inside super().__init__
        left = CompactAxis("left")
        left.enableAutoSIPrefix(False)  # the tick labels carry k/M themselves
        axes = {"left": left, "bottom": FittedAxis("bottom")}
        super().__init__(parent, background="w", axisItems=axes)
        self.kind = kind
        self.rate = False
        self.log = False
        self.show_legend = True
        self.show_time_label = True
        self.time_axis_text = "time since the run started"
        self.title_lines = 1
        self.title_rows = 1  # the panel raises it so that side-by-side plots line up
        self.on_title_lines: Callable[[], None] | None = None
        self._curves: dict[int, pg.PlotDataItem] = {}
        self._traces: dict[int, Trace] = {}
        self._extent: dict[int, tuple[float, float, float]] = {}  # run -> (x max, y min, y max)
        self._range: tuple[float, float, float] | None = None
        self._legend_key: tuple = ()
        self.legend_lines = 0
        item = self.getPlotItem()
        # Ranges are set by _fit, in steps: re-ranging every frame would repaint
        # both axes every frame, which costs more than the curves themselves.
        item.disableAutoRange()
        item.setMenuEnabled(False)
        item.hideButtons()
        # A title that never asks for more width than the chart has (pyqtgraph's
        # made the text's width the chart's minimum: three titles in a row at
        # presentation sizes pushed the window past a 1280-pixel screen).
        item.layout.removeItem(item.titleLabel)
        item.titleLabel = _LegendLabel("", justify="center")
        item.layout.addItem(item.titleLabel, 0, 1)
        # The legend takes the (never shown) top axis's row: between title and plot.
        item.layout.removeItem(item.getAxis("top"))
        item.getAxis("top").hide()
        self.legend = _LegendLabel("", justify="left")
        item.layout.addItem(self.legend, 1, 1)
        # No grid: a grid is drawn by the axis items across the whole plot, so every
        # curve update would repaint both axes (~3-5 ms each in software rendering).
        for name in ("left", "bottom"):
            axis = item.getAxis(name)
            axis.setPen(pg.mkPen("#303030", width=1))
            axis.setTextPen(pg.mkPen("#202020"))
        self._font_scale = font_scale
        self.set_font_scale(font_scale)
        self.setXRange(0, 1, padding=0.02)
        self.setYRange(0, 1, padding=0.05)

    def set_font_scale(self, font_scale: float) -> None:
        """Fonts and line widths scaled (presentation mode's zoom)."""
        self._font_scale = font_scale
        item = self.getPlotItem()
        tick_font = palette.font(11 * font_scale)
        for name in ("left", "bottom"):
            axis = item.getAxis(name)
            axis.setTickFont(tick_font)
            # Room for the tick labels at this size, so big fonts never overlap them;
            # FittedAxis spaces the ticks, so the end labels (0 and the last) may
            # stick out of the axis by half a label instead of vanishing.
            axis.setStyle(
                tickTextOffset=max(3, int(4 * font_scale)),
                hideOverlappingLabels=name == "left",
            )
        metrics = QFontMetricsF(tick_font)
        item.getAxis("left").setWidth(int(metrics.horizontalAdvance("1.5M") + 14 * font_scale))
        self._update_time_label()
        self._update_labels()
        for run_id, curve_item in self._curves.items():
            curve_item.setPen(self._pen(self._traces[run_id]))

    @property
    def font_scale(self) -> float:
        return self._font_scale

    def set_time_label_visible(self, visible: bool) -> None:
        """Whether the time axis is named (stacked charts name it once, at the bottom)."""
        self.show_time_label = visible
        self._update_time_label()

    def set_time_axis_text(self, text: str) -> None:
        """The time axis's name: the recorded time, or full-speed time (View > T)."""
        self.time_axis_text = text
        self._update_time_label()

    def _update_time_label(self) -> None:
        item = self.getPlotItem()
        s = self._font_scale
        metrics = QFontMetricsF(palette.font(11 * s))
        axis = item.getAxis("bottom")
        if self.show_time_label:
            label_font = palette.font(12 * s)
            text = self.time_axis_text
            # With room to spare: pyqtgraph centres the label over the axis, not the plot.
            wide = QFontMetricsF(label_font).horizontalAdvance(text + " (s)")
            if wide > 0.8 * self._plot_width():
                # Narrow columns: "time (s)" is never cut off; full-speed time keeps its name.
                text = "full-speed time" if text.startswith("full-speed") else "time"
            item.setLabel(
                "bottom", text, units="s", **{"font-size": f"{12 * s:.0f}pt", "color": "#202020"}
            )
            axis.setHeight(
                int(metrics.height() + QFontMetricsF(palette.font(12 * s)).height() + 12 * s)
            )
        else:
            axis.showLabel(False)
            axis.setHeight(int(metrics.height() + 10 * s))

    def _pen(self, trace: Trace):
        pen = pg.mkPen(trace.colour, width=3 * self._font_scale)
        pen.setStyle(palette.pen_style(trace.dash))
        return pen

    def _update_labels(self) -> None:
        item = self.getPlotItem()
        kind = (self.kind, self.rate and self.kind == "locks")
        size = 13 * self._font_scale
        font = palette.font(size, bold=True)
        room = self._plot_width() - 10  # the text item's own margins
        title = _TITLES[kind]
        lines = [title]
        if QFontMetricsF(font).horizontalAdvance(title) > room:
            # Fewer words, then two lines: a title is never clipped.
            title = _SHORT_TITLES[kind]
            lines = break_words(title, font, room)
        self.title_text = title
        item.setTitle(
            "<br>".join(html.escape(line) for line in lines),
            size=f"{size:.0f}pt",
            color="#101010",
            bold=True,
        )
        self.title_lines = len(lines)
        self._set_title_height()
        if self.on_title_lines is not None:
            self.on_title_lines()

    def set_title_rows(self, rows: int) -> None:
        """Room for at least ``rows`` title lines (charts side by side line up)."""
        if rows != self.title_rows:
            self.title_rows = rows
            self._set_title_height()

    def _set_title_height(self) -> None:
        # pyqtgraph fixes the title row at 30 px: big fonts and two lines were cut.
        item = self.getPlotItem()
        text_h = float(item.titleLabel.item.boundingRect().height())
        line_h = QFontMetricsF(palette.font(13 * self._font_scale, bold=True)).lineSpacing()
        height = text_h + max(0, self.title_rows - self.title_lines) * line_h
        item.titleLabel.setMaximumHeight(height)
        item.layout.setRowFixedHeight(0, height)
        item.getAxis("left").setLabel("")
        item.getAxis("left").showLabel(False)
        self._legend_key = ()
        self._update_legend()

    def _update_legend(self) -> None:
        """Breaks the legend into lines that fit the chart (full names when they
        fit in FULL_NAME_LINES lines, short ones otherwise)."""
        traces = [self._traces[r] for r in self._curves] if self.show_legend else []
        width = self._plot_width()
        key = (tuple((t.label, t.colour, t.dash) for t in traces), int(width), self._font_scale)
        if key == self._legend_key:
            return
        self._legend_key = key
        if not traces:
            self.legend.setText("")
            self.legend.setVisible(False)
            self.legend_lines = 0
            return
        size = 11 * self._font_scale
        metrics = QFontMetricsF(palette.font(size, bold=False))
        gap = metrics.horizontalAdvance("    ")
        lines: list[list[int]] = []
        for short in (False, True):
            widths = [
                metrics.horizontalAdvance(
                    _DASH_GLYPHS.get(t.dash or "solid", "━━━")
                    + " "
                    + (t.short_label if short else t.label)
                )
                * 1.08  # bold glyphs run a little wider than the plain metrics
                for t in traces
            ]
            lines = pack_lines(widths, width, gap)
            if len(lines) <= self.FULL_NAME_LINES and max(widths) <= width:
                break
        text = "<br>".join(
            "&nbsp;&nbsp;&nbsp;&nbsp;".join(legend_entry_html(traces[i], short) for i in line)
            for line in lines
        )
        self.legend.setText(text, size=f"{size:.0f}pt", color="#202020")
        self.legend.setVisible(True)
        self.legend_lines = len(lines)

    def _plot_width(self) -> float:
        """The width the title, legend and time label have: the chart's, less the
        left axis (the rows sit over the plot only)."""
        axis = self.getPlotItem().getAxis("left")
        return max(80.0, float(self.width()) - float(axis.width()) - 16)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        # Qt resizes before __init__ is done, and again in close() (no plot item then).
        if (
            self.title_text
            and not getattr(self, "closed", False)
            and getattr(self, "plotItem", None) is not None
        ):
            self._update_time_label()
            self._update_labels()
            if self._range is not None:  # the end labels' room is in pixels
                self.setYRange(self._range[1], self._range[2], padding=self._y_padding())

    def legend_rect(self) -> QRectF:
        """The legend's rectangle in scene coordinates (empty when hidden)."""
        if not self.legend.isVisible() or not self.legend.text:
            return QRectF()
        # The text as drawn, and the row it sits in (the text may be wider).
        return self.legend.sceneBoundingRect().united(self.legend.item.sceneBoundingRect())

    def plot_rect(self) -> QRectF:
        """The plot area (the view box) in scene coordinates."""
        return self.getPlotItem().getViewBox().sceneBoundingRect()

    def data_points_in_scene(self, run_id: int) -> list[tuple[float, float]]:
        """Where the curve of ``run_id`` draws its points, in scene coordinates."""
        vb = self.getPlotItem().getViewBox()
        x, y = self._curves[run_id].getData()
        if x is None or y is None:
            return []
        out = []
        for xi, yi in zip(x, y, strict=True):
            if np.isfinite(xi) and np.isfinite(yi):
                p = vb.mapViewToScene(pg.Point(float(xi), float(yi)))
                out.append((p.x(), p.y()))
        return out

    def set_options(self, rate: bool | None = None, log: bool | None = None) -> None:
        if self.kind != "locks":
            return
        if rate is not None:
            self.rate = rate
        if log is not None and log != self.log:
            self.log = log
            # A linear range read as powers of ten overflows: start the new mode from (0, 1).
            self.setYRange(0, 1, padding=0)
        self.getPlotItem().setLogMode(y=self.log)
        self._update_labels()
        self._extent.clear()
        self._range = None

    def set_legend_visible(self, visible: bool) -> None:
        """Whether this chart shows the legend (a panel of charts shows it once)."""
        self.show_legend = visible
        self._legend_key = ()
        self._update_legend()

    def set_traces(self, traces: list[Trace]) -> None:
        """Shows exactly these traces (adding, updating and removing curves)."""
        keep = {t.run_id for t in traces}
        for run_id in list(self._curves):
            if run_id not in keep:
                item = self._curves.pop(run_id)
                self._traces.pop(run_id, None)
                self._extent.pop(run_id, None)
                self.removeItem(item)
        self._range = None
        for trace in traces:
            self.update_trace(trace)
        self._fit(live=False)
        self._update_legend()

    def update_trace(self, trace: Trace) -> None:
        item = self._curves.get(trace.run_id)
        self._traces[trace.run_id] = trace
        if item is None:
            item = self.plot([], [], pen=self._pen(trace))
            item.setDownsampling(auto=True, method="peak")
            item.setClipToView(True)
            self._curves[trace.run_id] = item
            self._update_legend()
        if trace.series is None:
            return
        if not observable(self.kind, trace.strategy):
            item.setData([], [])  # the legend keeps the run; no flat 0 drawn for it
            return
        x, y = curve(self.kind, trace.series, self.rate)
        if self.log:
            y = np.where(y > 0, y, np.nan)
            item.setData(x, y, connect="finite")
        else:
            item.setData(x, y, skipFiniteCheck=True)
        if len(x):
            finite = y[np.isfinite(y)]
            if self.log:
                finite = np.log10(finite)
            if len(finite):
                self._extent[trace.run_id] = (
                    float(x[-1]),
                    float(finite.min()),
                    float(finite.max()),
                )
        self._fit(live=trace.live)

    def _fit(self, live: bool) -> None:
        """Fits the axes to every curve; while live, grows them in 1.5x steps."""
        if not self._extent:
            return
        xmax = max(e[0] for e in self._extent.values()) or 1e-3
        ymin = min(e[1] for e in self._extent.values())
        ymax = max(e[2] for e in self._extent.values())
        if not self.log:
            ymin = min(ymin, 0.0)
        if ymax <= ymin:
            ymax = ymin + (1.0 if not self.log else 0.5)
        if live and self._range is not None:
            rx, rlo, rhi = self._range
            if xmax <= rx and ymax <= rhi and ymin >= rlo:
                return
            xmax = max(xmax * 1.5, rx)
            ymax = ymax + (ymax - ymin) * 0.5 if ymax > rhi else rhi
            ymin = min(ymin, rlo)
        self._range = (xmax, ymin, ymax)
        self.setXRange(0, xmax, padding=0.02)
        self.setYRange(ymin, ymax, padding=self._y_padding())

    def _y_padding(self) -> float:
        """Room above and below the data for half a tick label, so the labels at
        the ends (0, and the top one) are drawn rather than hidden."""
        vb_h = self.getPlotItem().getViewBox().height()
        margin = QFontMetricsF(palette.font(11 * self._font_scale)).height() / 2 + 2
        if vb_h <= 2 * margin:
            return 0.05
        # setYRange adds padding x span on each side: margin px = p / (1 + 2p) x height.
        return min(0.25, max(0.05, margin / (vb_h - 2 * margin)))

    def curve_data(self, run_id: int) -> tuple[np.ndarray, np.ndarray]:
        """What the curve of ``run_id`` now shows (for tests)."""
        return self._curves[run_id].getData()


#: The panel's arrangements (see :meth:`ChartsPanel.arrangement_for`).
ARRANGEMENTS = ("stacked", "side_by_side", "tabs")
#: Tab texts in the "tabs" arrangement.
TAB_TEXTS = {"locks": "Locks", "throughput": "Throughput", "free_list": "Free list"}


def arrangement_for(width: float, height: float, font_scale: float) -> str:
    """How three charts with their captions fit a ``width`` x ``height`` panel:
    side by side when it is wide (each column at least 220 px per unit of font
    scale), stacked when it is tall enough for three readable plots, otherwise
    one at a time behind tabs (a short panel stacked them into 30 px strips)."""
    chart_h = 240 * font_scale  # title, legend, plot, ticks, axis name and caption
    if width >= 1.5 * height and width / 3 >= 220 * font_scale and height >= chart_h:
        return "side_by_side"
    if height >= 3 * chart_h:
        return "stacked"
    return "tabs"


class ChartsPanel(QWidget):
    """The three charts with a caption under each, and the lock chart's rate and
    log toggles; arranged to fit (:func:`arrangement_for`): stacked, side by side,
    or one at a time behind tabs.

    Stacked, only the top chart shows the legend (the runs are the same in all
    three) and only the bottom one names the time axis; side by side, one legend
    row spans the three and each names its time axis, so the plots line up.
    """

    def __init__(self, parent=None):
        super().__init__(parent)
        self.traces: list[Trace] = []
        self.views = {kind: ChartView(kind) for kind in CHART_KINDS}
        self._font_scale = 1.0
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        self.toggles = QWidget()
        toggles = QHBoxLayout(self.toggles)
        toggles.setContentsMargins(0, 0, 0, 0)
        toggles.addWidget(QLabel("Lock chart:"))
        self.rate_box = QCheckBox("rate per second (R)")
        self.log_box = QCheckBox("log scale (L)")
        self.rate_box.setToolTip("Show lock acquisitions per second instead of the running total")
        self.log_box.setToolTip("Logarithmic lock axis: baseline and pooled differ ~250x")
        toggles.addWidget(self.rate_box)
        toggles.addWidget(self.log_box)
        toggles.addStretch(1)
        layout.addWidget(self.toggles)
        self.tabs = QTabBar()
        self.tabs.setObjectName("chartTabs")
        self.tabs.setDocumentMode(True)
        self.tabs.setExpanding(False)
        # Narrow: the tabs shrink and elide rather than hide behind scroll arrows.
        self.tabs.setUsesScrollButtons(False)
        self.tabs.setElideMode(Qt.TextElideMode.ElideRight)
        for kind in CHART_KINDS:
            self.tabs.addTab(TAB_TEXTS[kind])
        self.tabs.setVisible(False)
        layout.addWidget(self.tabs)
        #: Side by side, one legend row over the three charts (the runs are the same).
        self.legend = QLabel("")
        self.legend.setObjectName("chartsLegend")
        self.legend.setWordWrap(True)
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.legend.setVisible(False)
        layout.addWidget(self.legend)
        self.grid = QGridLayout()
        self.grid.setSpacing(4)
        self.grid.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self.grid, 1)
        #: One plain sentence under each chart (set by the window from gui.captions).
        self.captions: dict[str, QLabel] = {}
        for kind in CHART_KINDS:
            caption = QLabel("")
            caption.setObjectName("caption")
            caption.setWordWrap(True)
            f = caption.font()
            f.setPointSizeF(CAPTION_POINTS)
            f.setBold(True)
            caption.setFont(f)
            self.captions[kind] = caption
        self.arrangement = ""
        self.forced: str | None = None
        for view in self.views.values():
            view.on_title_lines = self._line_up_titles
        self._arrange("stacked")
        self.tabs.currentChanged.connect(lambda _i: self._arrange(self.arrangement, force=True))
        self.rate_box.toggled.connect(self._on_toggles_changed)
        self.log_box.toggled.connect(self._on_toggles_changed)

    def force_arrangement(self, arrangement: str | None) -> None:
        """Always this arrangement (None: the one that fits, see arrangement_for)."""
        self.forced = arrangement
        self._arrange(arrangement or self._fitting())

    def _fitting(self) -> str:
        return arrangement_for(self.width(), self.height(), self._font_scale)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self._arrange(self.forced or self._fitting())

    def _arrange(self, arrangement: str, force: bool = False) -> None:
        """Puts each chart with its caption under it into the grid."""
        if arrangement == self.arrangement and not force:
            return
        self.arrangement = arrangement
        grid = self.grid
        for kind in CHART_KINDS:
            grid.removeWidget(self.views[kind])
            grid.removeWidget(self.captions[kind])
        for i in range(6):
            grid.setRowStretch(i, 0)
            grid.setColumnStretch(i, 0)
        side = arrangement == "side_by_side"
        tabs = arrangement == "tabs"
        self.tabs.setVisible(tabs)
        shown = CHART_KINDS[self.tabs.currentIndex()] if tabs else None
        last = len(CHART_KINDS) - 1
        for i, kind in enumerate(CHART_KINDS):
            view, caption = self.views[kind], self.captions[kind]
            if side:
                grid.addWidget(view, 0, i)
                grid.addWidget(caption, 1, i, Qt.AlignmentFlag.AlignTop)
                grid.setColumnStretch(i, 1)
            else:
                grid.addWidget(view, 2 * i, 0)
                grid.addWidget(caption, 2 * i + 1, 0)
            visible = not tabs or kind == shown
            if not side and visible:
                grid.setRowStretch(2 * i, 1)  # a hidden chart's row must not keep room
            view.setVisible(visible)
            caption.setVisible(visible)
            view.set_legend_visible(tabs or (not side and i == 0))
            view.set_time_label_visible(side or tabs or i == last)
        if side:
            grid.setRowStretch(0, 1)
        self._line_up_titles()
        self._update_legend()

    def _update_legend(self) -> None:
        """The shared legend row (side by side only): a line sample and name per run."""
        shown = self.arrangement == "side_by_side" and bool(self.traces)
        self.legend.setVisible(shown)
        if shown:
            size = 11 * self._font_scale
            entries = " &nbsp;&nbsp;&nbsp; ".join(
                legend_entry_html(t, short=False) for t in self.traces
            )
            self.legend.setText(f'<span style="font-size:{size:.0f}pt">{entries}</span>')

    def _line_up_titles(self) -> None:
        """Side by side, every title gets as many lines as the longest: the plots
        start at the same height."""
        rows = 1
        if self.arrangement == "side_by_side":
            rows = max(v.title_lines for v in self.views.values())
        for view in self.views.values():
            view.set_title_rows(rows)

    def show_chart(self, kind: str) -> None:
        """The chart shown in the "tabs" arrangement."""
        self.tabs.setCurrentIndex(CHART_KINDS.index(kind))

    def visible_views(self) -> list[ChartView]:
        return [v for v in self.views.values() if not v.isHidden()]

    def set_font_scale(self, font_scale: float) -> None:
        self._font_scale = font_scale
        for view in self.views.values():
            view.set_font_scale(font_scale)
        f = self.tabs.font()
        f.setPointSizeF(12 * font_scale)
        self.tabs.setFont(f)
        self._update_legend()
        self._arrange(self.forced or self._fitting())

    def _on_toggles_changed(self, _checked: bool = False) -> None:
        self.views["locks"].set_options(
            rate=self.rate_box.isChecked(), log=self.log_box.isChecked()
        )
        self.views["locks"].set_traces(self.traces)

    def add_trace(self, trace: Trace) -> None:
        """Adds a run's curves; an unstyled trace (dash "") gets its run style here."""
        if not trace.dash:
            style = palette.style_for(trace.strategy, (t.style for t in self.traces))
            trace.colour, trace.dash = style.colour, style.dash
        self.traces.append(trace)
        for view in self.views.values():
            view.update_trace(trace)
        self._update_legend()

    def update_trace(self, trace: Trace) -> None:
        for view in self.views.values():
            view.update_trace(trace)

    def remove_trace(self, run_id: int) -> None:
        self.traces = [t for t in self.traces if t.run_id != run_id]
        for view in self.views.values():
            view.set_traces(self.traces)
        self._update_legend()

    def clear(self) -> None:
        self.traces = []
        for view in self.views.values():
            view.set_traces([])
        self._update_legend()

    def options(self) -> dict:
        return {"rate": self.rate_box.isChecked(), "log": self.log_box.isChecked()}

    def style_of_run(self, run_id: int) -> palette.RunStyle | None:
        """How run ``run_id`` is drawn (None when it has no curve)."""
        return next((t.style for t in self.traces if t.run_id == run_id), None)


def colour_for(strategy: str, traces: list[Trace]) -> str:
    """The colour the next run of ``strategy`` gets next to ``traces`` (the same
    one :meth:`ChartsPanel.add_trace` gives it: see :func:`gui.palette.style_for`)."""
    return palette.style_for(strategy, (t.style for t in traces)).colour


__all__ = [
    "CHART_KINDS",
    "ChartView",
    "ChartsPanel",
    "Trace",
    "colour_for",
    "curve",
    "free_list_curve",
    "lock_curve",
    "run_label",
    "throughput_curve",
]
