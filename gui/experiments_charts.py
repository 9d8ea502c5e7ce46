"""A sweep's three charts side by side: time (median, min-max bars), locks, speedup.

One pyqtgraph layout, so the window and the exported PNG are the same picture:
the three plots on the top row, their legend on its own row underneath (never
over the data).  One colour per strategy, from gui.palette; an axis turns
logarithmic when its values span 10x or more (a baseline's million locks next
to pooled's four thousand).  The charts are redrawn from the summaries after
every finished run, so the points arrive live.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
import pyqtgraph.exporters  # noqa: F401  (registers ImageExporter)
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage, QResizeEvent
from PySide6.QtWidgets import QApplication, QWidget

from engine import Strategy
from engine.sweep import PointSummary
from gui.experiments_setup import AXIS_TITLES, Series, series_of, spans_decade, x_label
from gui.palette import colour_for
from gui.text_fit import wrap_html

_DASHES = {
    "solid": Qt.PenStyle.SolidLine,
    "dash": Qt.PenStyle.DashLine,
    "dot": Qt.PenStyle.DotLine,
    "dashdot": Qt.PenStyle.DashDotLine,
}
LEGEND_POINT_SIZE = 11.0
TITLES = ("wall time (s)", "lock acquisitions", "speedup vs baseline (x faster)")


def _log(values: Sequence[float]) -> list[float]:
    return [math.log10(v) for v in values]


class SweepCharts(pg.GraphicsLayoutWidget):
    """Time, locks and speedup against the swept parameter, one series per strategy."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setBackground("w")
        self.plots = [self.addPlot(row=0, col=i) for i in range(3)]
        for plot, title in zip(self.plots, TITLES, strict=True):
            plot.setTitle(title)
            plot.showGrid(x=True, y=True, alpha=0.3)
            plot.setMenuEnabled(False)
            # Fixed room for the tick labels: pyqtgraph widens an axis only after a
            # paint, so a fresh export would clip its labels.
            plot.getAxis("left").setWidth(72)
            plot.getAxis("bottom").setHeight(48)
        # The legend is a line of coloured names in its own row: never over the data.
        self.ci.setContentsMargins(6, 6, 24, 6)  # the last tick label needs room on the right
        self.legend = pg.LabelItem("", justify="center")
        self.addItem(self.legend, row=1, col=0, colspan=3)
        #: What the last draw showed, for tests and the export's caption.
        self.log_axes: dict[str, bool] = {}
        self.series: list[Series] = []
        self.horizontal = False
        self.speedup_shown = True
        self._legend_args: tuple[list[Series], bool, bool] | None = None

    def _set_legend(self) -> None:
        """The legend in as many lines as the width needs (nine strategies ran
        off both edges of a 1200 px export in one line)."""
        args = getattr(self, "_legend_args", None)  # resized before __init__ ends
        # close() clears the scene (the legend too), then resizes the view
        if args is None or getattr(self, "closed", False):
            return
        series, log_locks, lines = args
        width = max(200.0, self.width() - 48.0)
        text = legend_html(series, log_locks, lines, width=width)
        self.legend.setText(text, size=f"{LEGEND_POINT_SIZE:.0f}pt")

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self._set_legend()

    def clear_points(self) -> None:
        for plot in self.plots:
            plot.clear()
        self._legend_args = None
        self.legend.setText("")
        self.series = []

    def show_summaries(
        self, summaries: Sequence[PointSummary], parameter: str | None, repeat: int
    ) -> None:
        """Redraws every chart from the points finished so far."""
        self.clear_points()
        series, categories = series_of(summaries, parameter)
        self.series = series
        numeric = parameter not in (None, "lock")
        xs = [x for line in series for x in line.x]
        log_x = numeric and spans_decade(xs)
        times = [v for line in series for v in line.low + line.high]
        locks = [n for line in series for n in line.locks if n is not None]
        speedups = [
            v
            for line in series
            if line.strategy is not Strategy.BASELINE
            for v in line.speedup
            if v is not None
        ]
        log_t, log_l, log_s = spans_decade(times), spans_decade(locks), spans_decade(speedups)
        self.log_axes = {"x": log_x, "time": log_t, "locks": log_l, "speedup": log_s}
        time_plot, lock_plot, speed_plot = self.plots
        # Categories (strategies, lock kinds) go down the left axis, where their names
        # fit side by side; the values run along the bottom.
        self.horizontal = not numeric
        runs = f"median of {repeat}, bars min-max" if repeat > 1 else "1 run"
        time_plot.setTitle(f"wall time (s): {runs}")
        for plot, log_v in zip(self.plots, (log_t, log_l, log_s), strict=True):
            # A range valid on both scales first: a log axis reads the previous linear
            # range (millions of locks) as powers of ten, and overflows.
            plot.setRange(xRange=(0.0, 1.0), yRange=(0.0, 1.0), padding=0)
            plot.invertY(self.horizontal)
            if self.horizontal:
                plot.setLogMode(x=log_v, y=False)
                plot.setLabel("bottom", "")
                plot.setLabel("left", "")
            else:
                plot.setLogMode(x=log_x, y=log_v)
                plot.setLabel("bottom", AXIS_TITLES.get(parameter, ""))
        nth: dict[Strategy, int] = {}
        value_axis = "bottom" if self.horizontal else "left"
        per_plot: list[Sequence[float]] = [times, [float(n) for n in locks], speedups]
        for plot, log_v, values in zip(self.plots, (log_t, log_l, log_s), per_plot, strict=True):
            # pyqtgraph labels every 2x ... 9x of a short log axis, piled up: our own
            # 1-2-5 labels instead (the other multiples keep their grid lines).
            plot.getAxis(value_axis).setTicks(log_ticks(values) if log_v else None)
        for line in series:  # a strategy's second line gets its family's next shade and dash
            k = nth[line.strategy] = nth.get(line.strategy, -1) + 1
            self._draw(line, k, log_x, log_t, log_l, log_s)
        self._legend_args = (list(series), log_l, not self.horizontal)
        self._set_legend()
        one = 0.0 if log_s else 1.0
        speed_plot.addItem(
            pg.InfiniteLine(pos=one, angle=90 if self.horizontal else 0, pen=pg.mkPen("#888888"))
        )
        # Without a baseline there is no speedup: the panel goes, the others widen.
        self._show_speedup(bool(speedups) or not series)
        if not locks and series:
            lock_plot.setTitle("lock acquisitions: not observable")
        else:
            lock_plot.setTitle(TITLES[1])
        ticks = self._ticks(series, parameter, categories, log_x)
        for plot in self.plots:
            category_axis = plot.getAxis("left" if self.horizontal else "bottom")
            category_axis.setTicks([ticks])
            plot.enableAutoRange()
            if ticks:  # a half step of room: the end points' bars and markers show whole
                positions = [p for p, _ in ticks]
                pad = 0.5 if len(positions) == 1 else 0.1 * (max(positions) - min(positions))
                if self.horizontal:
                    pad = 0.6
                    plot.setYRange(min(positions) - pad, max(positions) + pad, padding=0)
                else:
                    plot.setXRange(min(positions) - pad, max(positions) + pad, padding=0)

    def _show_speedup(self, shown: bool) -> None:
        speed_plot = self.plots[2]
        if shown == self.speedup_shown:
            return
        self.speedup_shown = shown
        if shown:
            self.addItem(speed_plot, row=0, col=2)
        else:
            self.removeItem(speed_plot)
        self.removeItem(self.legend)  # the legend spans the plots shown
        self.addItem(self.legend, row=1, col=0, colspan=3 if shown else 2)

    @staticmethod
    def _ticks(series, parameter, categories, log_x) -> list[tuple[float, str]]:
        if parameter in (None, "lock"):
            return [(float(i), x_label(parameter, c)) for i, c in enumerate(categories)]
        values = sorted({x for line in series for x in line.x})
        return [(math.log10(v) if log_x else v, x_label(parameter, v)) for v in values]

    def _pair(self, xs: Sequence[float], vs: Sequence[float]) -> tuple[list, list]:
        """(x, y) data for a plot: swapped when the categories run down the left axis."""
        return (list(vs), list(xs)) if self.horizontal else (list(xs), list(vs))

    def _draw(
        self, line: Series, nth: int, log_x: bool, log_t: bool, log_l: bool, log_s: bool
    ) -> None:
        time_plot, lock_plot, speed_plot = self.plots
        look = colour_for(line.strategy.label, nth)
        colour = QColor(look.colour)
        pen = pg.mkPen(colour, width=2, style=_DASHES[look.dash])
        style = {"pen": pen, "symbolBrush": colour, "symbolPen": colour, "symbolSize": 9}
        if self.horizontal:  # a category axis is not a scale: no line between categories
            style["pen"] = None
        time_plot.plot(*self._pair(line.x, line.median), symbol="o", **style)
        ex = _log(line.x) if log_x else line.x
        if log_t:  # the view's coordinates are log10 on a log axis: the bars' too
            centre = _log(line.median)
            above = [h - c for h, c in zip(_log(line.high), centre, strict=True)]
            below = [c - lo for c, lo in zip(centre, _log(line.low), strict=True)]
        else:
            centre = line.median
            above = [h - c for h, c in zip(line.high, centre, strict=True)]
            below = [c - lo for c, lo in zip(centre, line.low, strict=True)]
        x, y = self._pair(ex, centre)
        if self.horizontal:
            bars = {"left": np.array(below), "right": np.array(above)}
        else:
            bars = {"bottom": np.array(below), "top": np.array(above)}
        time_plot.addItem(
            pg.ErrorBarItem(
                x=np.array(x), y=np.array(y), beam=0.0, pen=pg.mkPen(colour, width=2), **bars
            )
        )
        # A log axis has no 0: single's zero locks stay off it (the legend says so).
        locked = [
            (x, n)
            for x, n in zip(line.x, line.locks, strict=True)
            if n is not None and (n > 0 or not log_l)
        ]
        if locked:
            lock_plot.plot(
                *self._pair([x for x, _ in locked], [n for _, n in locked]), symbol="s", **style
            )
        sped = [
            (x, v)
            for x, v in zip(line.x, line.speedup, strict=True)
            if v is not None and line.strategy is not Strategy.BASELINE
        ]
        if sped:
            speed_plot.plot(
                *self._pair([x for x, _ in sped], [v for _, v in sped]), symbol="t", **style
            )

    def image(self, width: int, height: int) -> QImage:
        """The three charts and the legend as one picture, through ImageExporter."""
        if self.width() != width or self.height() != height:
            self.resize(width, height)
        # Always: a legend that just took a second line has its row grown by
        # the next layout pass (it was cut off at the bottom of the export).
        QApplication.processEvents()
        self.ci.layout.activate()
        exporter = pg.exporters.ImageExporter(self.scene())
        exporter.parameters()["width"] = width
        exporter.parameters()["height"] = height
        image = exporter.export(toBytes=True)
        assert isinstance(image, QImage)
        return image


def _tick_text(value: float) -> str:
    """0.05, 0.2, 1, 20, 500, 2e4, 1e6: short, and never 1e+06."""
    if value >= 1e4:
        exponent = math.floor(math.log10(value) + 1e-9)
        mantissa = round(value / 10**exponent)
        return f"{mantissa}e{exponent}"
    return f"{value:g}"


def log_ticks(values: Sequence[float]) -> list[list[tuple[float, str]]]:
    """Tick levels for a log axis (positions in log10): labelled 1-2-5 steps (only the
    powers of ten when those would be more than 8), and unlabelled 1..9 multiples."""
    positive = [v for v in values if v > 0 and math.isfinite(v)]
    if not positive:
        return []
    low, high = min(positive) / 1.6, max(positive) * 1.6  # the axis's padding, about
    first, last = math.floor(math.log10(low)), math.ceil(math.log10(high))
    steps = [m * 10.0**k for k in range(first, last + 1) for m in (1, 2, 5)]
    labelled = [v for v in steps if low <= v <= high]
    if len(labelled) > 8:
        labelled = [v for v in labelled if _tick_text(v)[0] == "1"]
    minor = [
        m * 10.0**k
        for k in range(first, last + 1)
        for m in range(1, 10)
        if low <= m * 10.0**k <= high and m * 10.0**k not in labelled
    ]
    return [
        [(math.log10(v), _tick_text(v)) for v in labelled],
        [(math.log10(v), "") for v in minor],
    ]


#: A line's dash as text, for the legend: the four allocators share one hue
#: family, and malloc and tcmalloc share its first shade (their dashes differ).
DASH_SAMPLES = {
    "solid": "━━━",
    "dash": "━&nbsp;━",
    "dot": "·&nbsp;·&nbsp;·",
    "dashdot": "━&nbsp;·&nbsp;━",
}


def legend_html(
    series: Sequence[Series], log_locks: bool, lines: bool = True, width: float | None = None
) -> str:
    """The legend: each strategy's name in its colour, after its marker, and
    after a sample of its line's dash when the points are joined (``lines``);
    broken into lines of at most ``width`` pixels when given."""
    parts = []
    nth: dict[Strategy, int] = {}
    for line in series:
        k = nth[line.strategy] = nth.get(line.strategy, -1) + 1
        look = colour_for(line.strategy.label, k)
        colour = look.colour
        sample = f"{DASH_SAMPLES[look.dash]}&#9679;" if lines else "&#9679;"
        note = ""
        if log_locks and any(n == 0 for n in line.locks):
            note = " (0 locks: off the log axis)"
        parts.append(
            f'<span style="color:{colour}">{sample}&nbsp;{html.escape(line.name)}{note}</span>'
        )
    if width is not None:
        return wrap_html(parts, width, LEGEND_POINT_SIZE)
    return "&nbsp;&nbsp;&nbsp;&nbsp;".join(parts)


def offscreen_charts(width: int, height: int) -> SweepCharts:
    """Charts laid out at an exact size without a window (the report's and the export's)."""
    charts = SweepCharts()
    charts.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
    charts.resize(width, height)
    charts.show()
    QApplication.processEvents()
    return charts


__all__ = ["TITLES", "SweepCharts", "offscreen_charts"]
