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

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from engine import RunConfig, Strategy, format_size
from gui import palette

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


def run_label(run_id: int, config: RunConfig) -> str:
    """The legend's name of a run: strategy and the parameters that matter for it."""
    s = config.strategy
    if s is Strategy.POOLED:
        params = f"{config.batch_size} threads, {format_size(config.pool_size)} pools"
    elif s is Strategy.SINGLE:
        params = "1 thread"
    else:
        params = f"{config.batch_size} threads, 1 lock"
    extra = ""
    if config.heap_size != 2 * 1024 * 1024:
        extra += f", {format_size(config.heap_size)} heap"
    if config.block_size != 1024:
        extra += f", {format_size(config.block_size)} blocks"
    return f"#{run_id} {s.label} ({params}{extra})"


@dataclasses.dataclass
class Trace:
    """One run's curves: its name, colour and the latest series from the engine."""

    run_id: int
    label: str
    strategy: str
    colour: str
    series: dict | None = None
    live: bool = True


class CompactAxis(pg.AxisItem):
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


class ChartView(pg.PlotWidget):
    """One chart (``kind`` in CHART_KINDS) with one curve per trace."""

    def __init__(self, kind: str, parent=None, font_scale: float = 1.0):
        left = CompactAxis("left")
        left.enableAutoSIPrefix(False)  # the tick labels carry k/M themselves
        axes = {"left": left, "bottom": pg.AxisItem("bottom")}
        super().__init__(parent, background="w", axisItems=axes)
        self.kind = kind
        self.rate = False
        self.log = False
        self._curves: dict[int, pg.PlotDataItem] = {}
        self._extent: dict[int, tuple[float, float, float]] = {}  # run -> (x max, y min, y max)
        self._range: tuple[float, float, float] | None = None
        item = self.getPlotItem()
        # Ranges are set by _fit, in steps: re-ranging every frame would repaint
        # both axes every frame, which costs more than the curves themselves.
        item.disableAutoRange()
        item.setMenuEnabled(False)
        item.hideButtons()
        # No grid: a grid is drawn by the axis items across the whole plot, so every
        # curve update would repaint both axes (~3-5 ms each in software rendering).
        tick_font = palette.font(11 * font_scale)
        label_style = {"font-size": f"{12 * font_scale:.0f}pt", "color": "#202020"}
        for name in ("left", "bottom"):
            axis = item.getAxis(name)
            axis.setTickFont(tick_font)
            axis.setPen(pg.mkPen("#303030", width=1))
            axis.setTextPen(pg.mkPen("#202020"))
        item.getAxis("left").setWidth(int(64 * font_scale))
        item.setLabel("bottom", "time since the run started", units="s", **label_style)
        self._label_style = label_style
        self._font_scale = font_scale
        self.legend = item.addLegend(
            offset=(8, 8),
            labelTextSize=f"{11 * font_scale:.0f}pt",
            labelTextColor="#202020",
            brush=pg.mkBrush(255, 255, 255, 230),
            pen=pg.mkPen("#909090"),
        )
        self._update_labels()
        self.legend.setVisible(False)
        self.setXRange(0, 1, padding=0.02)
        self.setYRange(0, 1, padding=0.05)

    def set_font_scale(self, font_scale: float) -> None:
        """Fonts and line widths scaled (presentation mode's zoom)."""
        self._font_scale = font_scale
        item = self.getPlotItem()
        for name in ("left", "bottom"):
            item.getAxis(name).setTickFont(palette.font(11 * font_scale))
        item.getAxis("left").setWidth(int(64 * font_scale))
        self._label_style = {"font-size": f"{12 * font_scale:.0f}pt", "color": "#202020"}
        item.setLabel("bottom", "time since the run started", units="s", **self._label_style)
        self._update_labels()
        for curve in self._curves.values():
            pen = curve.opts["pen"]
            curve.setPen(pg.mkPen(pen.color(), width=3 * font_scale))

    @property
    def font_scale(self) -> float:
        return self._font_scale

    def _update_labels(self) -> None:
        item = self.getPlotItem()
        if self.kind == "locks":
            title = (
                "Lock acquisitions per second" if self.rate else "Lock acquisitions (cumulative)"
            )
            left = "acquisitions / s" if self.rate else "acquisitions"
        elif self.kind == "throughput":
            title, left = "Throughput (MB/s of input hashed)", "MB/s"
        else:
            title, left = "Free-list length (shared heap)", "free chunks"
        item.setTitle(title, size=f"{13 * self._font_scale:.0f}pt", color="#101010", bold=True)
        item.setLabel("left", left, **self._label_style)

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

    def set_traces(self, traces: list[Trace]) -> None:
        """Shows exactly these traces (adding, updating and removing curves)."""
        keep = {t.run_id for t in traces}
        for run_id in list(self._curves):
            if run_id not in keep:
                item = self._curves.pop(run_id)
                self._extent.pop(run_id, None)
                self.removeItem(item)
                self.legend.removeItem(item)
        self._range = None
        for trace in traces:
            self.update_trace(trace)
        self._fit(live=False)
        self.legend.setVisible(bool(self._curves))

    def update_trace(self, trace: Trace) -> None:
        item = self._curves.get(trace.run_id)
        if item is None:
            pen = pg.mkPen(trace.colour, width=3 * self._font_scale)
            item = self.plot([], [], pen=pen, name=trace.label)
            item.setDownsampling(auto=True, method="peak")
            item.setClipToView(True)
            self._curves[trace.run_id] = item
            self.legend.setVisible(True)
        if trace.series is None:
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
        self.setYRange(ymin, ymax, padding=0.05)

    def curve_data(self, run_id: int) -> tuple[np.ndarray, np.ndarray]:
        """What the curve of ``run_id`` now shows (for tests)."""
        return self._curves[run_id].getData()


class ChartsPanel(QWidget):
    """The three charts stacked, with the lock chart's rate and log toggles."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.traces: list[Trace] = []
        self.views = {kind: ChartView(kind) for kind in CHART_KINDS}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        toggles = QHBoxLayout()
        toggles.addWidget(QLabel("Lock chart:"))
        self.rate_box = QCheckBox("rate per second (R)")
        self.log_box = QCheckBox("log scale (L)")
        self.rate_box.setToolTip("Show lock acquisitions per second instead of the running total")
        self.log_box.setToolTip("Logarithmic lock axis: baseline and pooled differ ~250x")
        toggles.addWidget(self.rate_box)
        toggles.addWidget(self.log_box)
        toggles.addStretch(1)
        layout.addLayout(toggles)
        #: One plain sentence under each chart (set by the window from gui.captions).
        self.captions: dict[str, QLabel] = {}
        for kind, view in self.views.items():
            layout.addWidget(view, 1)
            caption = QLabel("")
            caption.setObjectName("caption")
            caption.setWordWrap(True)
            f = caption.font()
            f.setPointSizeF(CAPTION_POINTS)
            f.setBold(True)
            caption.setFont(f)
            self.captions[kind] = caption
            layout.addWidget(caption)
        self.rate_box.toggled.connect(self._on_toggles_changed)
        self.log_box.toggled.connect(self._on_toggles_changed)

    def set_font_scale(self, font_scale: float) -> None:
        for view in self.views.values():
            view.set_font_scale(font_scale)

    def _on_toggles_changed(self, _checked: bool = False) -> None:
        self.views["locks"].set_options(
            rate=self.rate_box.isChecked(), log=self.log_box.isChecked()
        )
        self.views["locks"].set_traces(self.traces)

    def add_trace(self, trace: Trace) -> None:
        self.traces.append(trace)
        for view in self.views.values():
            view.update_trace(trace)

    def update_trace(self, trace: Trace) -> None:
        for view in self.views.values():
            view.update_trace(trace)

    def remove_trace(self, run_id: int) -> None:
        self.traces = [t for t in self.traces if t.run_id != run_id]
        for view in self.views.values():
            view.set_traces(self.traces)

    def clear(self) -> None:
        self.traces = []
        for view in self.views.values():
            view.set_traces([])

    def options(self) -> dict:
        return {"rate": self.rate_box.isChecked(), "log": self.log_box.isChecked()}


def colour_for(strategy: str, traces: list[Trace]) -> str:
    """The next colour of ``strategy``'s family, so repeated runs stay apart."""
    n = sum(1 for t in traces if t.strategy == strategy)
    return palette.strategy_colour(strategy, n).name()


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
