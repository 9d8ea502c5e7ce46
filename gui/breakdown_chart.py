"""The "where the time went" chart: one stacked bar per run, runs one under the other.

Each bar splits the run's time, summed over every thread slot and the
coordinator, into the time states (same colours as the lanes). By default a
bar is the share of (lanes x wall time), so a 0.05 s pooled run and a 2 s
baseline compare at a glance (the baseline's bar is mostly vermillion:
waiting for the lock); "in seconds" shows the summed seconds instead. Idle
goes last and almost in the background colour, so the busy states lead.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetricsF, QResizeEvent
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from engine import TIME_STATES
from gui import palette

#: Segments narrower than this share of the widest bar get no number.
_MIN_LABELLED = 0.04
#: Segments at least this share of the widest bar also name their state, so the
#: bars read without the legend (hidden when the chart is short).
_MIN_NAMED = 0.25
_LEGEND_MIN_HEIGHT = 200
_BAR_HEIGHT = 0.64


@dataclasses.dataclass(frozen=True)
class BreakdownItem:
    """One run's bar: its name ("#1 baseline") and seconds per state (summed over slots)."""

    label: str
    seconds: Mapping[str, float]

    def values(self, share: bool) -> np.ndarray:
        """Per TIME_STATES: seconds, or percent of the run's total."""
        s = np.array([max(0.0, float(self.seconds.get(k, 0.0))) for k in TIME_STATES])
        if not share:
            return s
        total = s.sum()
        return s * (100.0 / total) if total > 0 else s


def _items(items: Iterable[BreakdownItem | tuple[str, Mapping[str, float]]]) -> list[BreakdownItem]:
    return [i if isinstance(i, BreakdownItem) else BreakdownItem(i[0], i[1]) for i in items]


class BreakdownChart(QWidget):
    """Stacked horizontal bars, the first run on top."""

    def __init__(self, parent: QWidget | None = None, font_scale: float = 1.0):
        super().__init__(parent)
        self.items: list[BreakdownItem] = []
        self._font_scale = font_scale
        self._bars: list[pg.BarGraphItem] = []
        self._texts: list[pg.TextItem] = []
        self._label_fits: list[tuple[pg.TextItem, str, float]] = []
        #: The run names the left axis shows now (thinned when bars are thin).
        self.run_ticks: list[str] = []
        self.legend_allowed = True
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        head = QHBoxLayout()
        self.title = QLabel("Where the time went (all threads)")
        self.title.setObjectName("sectionTitle")
        self.seconds_box = QCheckBox("in seconds")
        self.seconds_box.setToolTip(
            "Seconds summed over every thread slot instead of the share of the run"
        )
        head.addWidget(self.title)
        head.addStretch(1)
        head.addWidget(self.seconds_box)
        layout.addLayout(head)
        self.legend = QLabel()
        self.legend.setWordWrap(True)
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.legend.setToolTip(palette.time_legend_tooltip())
        layout.addWidget(self.legend)
        self.plot = pg.PlotWidget(background="w")
        item = self.plot.getPlotItem()
        item.setMenuEnabled(False)
        item.hideButtons()
        item.setMouseEnabled(x=False, y=False)
        item.getViewBox().invertY(True)
        layout.addWidget(self.plot, 1)
        self.seconds_box.toggled.connect(self._draw)
        self._set_fonts()
        self._draw()

    # ------------------------------------------------------------ public API

    def set_runs(self, items: Iterable[BreakdownItem | tuple[str, Mapping[str, float]]]) -> None:
        """One bar per item, in order: (label, {state: seconds}) or BreakdownItem."""
        self.items = _items(items)
        self._draw()

    def clear(self) -> None:
        self.set_runs([])

    @property
    def share(self) -> bool:
        return not self.seconds_box.isChecked()

    def set_share(self, share: bool) -> None:
        self.seconds_box.setChecked(not share)

    def segments(self) -> list[dict[str, tuple[float, float]]]:
        """Per bar, per state: (start, width) as drawn (for tests and exports)."""
        out: list[dict[str, tuple[float, float]]] = [{} for _ in self.items]
        for k, bar in enumerate(self._bars):
            x0, widths = bar.opts["x0"], bar.opts["width"]
            for i in range(len(self.items)):
                out[i][TIME_STATES[k]] = (float(x0[i]), float(widths[i]))
        return out

    def set_font_scale(self, font_scale: float) -> None:
        self._font_scale = font_scale
        self._set_fonts()
        self._draw()
        self._show_legend()

    # -------------------------------------------------------------- internals

    def set_controls_visible(self, visible: bool) -> None:
        """The title and the seconds toggle (an export's stamp says what it is)."""
        self.title.setVisible(visible)
        self.seconds_box.setVisible(visible)

    def _set_fonts(self) -> None:
        item = self.plot.getPlotItem()
        s = self._font_scale
        self.legend.setText(palette.time_legend_html(11 * s))
        for name in ("left", "bottom"):
            axis = item.getAxis(name)
            axis.setTickFont(palette.font(11 * s))
            axis.setPen(pg.mkPen("#303030", width=1))
            axis.setTextPen(pg.mkPen("#202020"))
        item.getAxis("left").setWidth(int(130 * s))
        self.title.setStyleSheet(f"font-size: {13 * s:.0f}pt; font-weight: bold;")

    def _draw(self) -> None:
        item = self.plot.getPlotItem()
        for graphic in (*self._bars, *self._texts):
            item.removeItem(graphic)
        self._bars, self._texts = [], []
        self._label_fits = []
        share = self.share
        n = len(self.items)
        style = {"font-size": f"{11 * self._font_scale:.0f}pt", "color": "#202020"}
        axis = "share of every thread slot's time (%)" if share else "seconds over all slots"
        item.setLabel("bottom", axis, **style)
        if n == 0:
            self._set_run_ticks()  # none; with runs, _fit_labels below sets them
            item.setRange(xRange=(0, 100 if share else 1), yRange=(-0.5, 0.5), padding=0)
            return
        values = np.array([it.values(share) for it in self.items])  # (runs, states)
        starts = np.concatenate([np.zeros((n, 1)), np.cumsum(values, axis=1)[:, :-1]], axis=1)
        ys = np.arange(n, dtype=float)
        widest = float(values.sum(axis=1).max()) or 1.0
        for k, state in enumerate(TIME_STATES):
            colour = palette.TIME_STATE_COLOURS[state]
            bar = pg.BarGraphItem(
                x0=starts[:, k],
                y=ys,
                width=values[:, k],
                height=_BAR_HEIGHT,
                brush=pg.mkBrush(colour),
                pen=pg.mkPen("#ffffff", width=1),
            )
            item.addItem(bar)
            self._bars.append(bar)
            for i in range(n):
                if values[i, k] >= _MIN_LABELLED * widest:
                    named = values[i, k] >= _MIN_NAMED * widest
                    self._label(state, values[i, k], starts[i, k], ys[i], share, named)
        item.setRange(xRange=(0, widest * 1.02), yRange=(-0.5, n - 0.5), padding=0)
        self._fit_labels()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self._show_legend()
        self._fit_labels()

    def set_legend_allowed(self, allowed: bool) -> None:
        """Whether the state legend may show (not under the lanes, which have one)."""
        self.legend_allowed = allowed
        self._show_legend()

    def _show_legend(self) -> None:
        # Big presentation fonts need more room before the legend fits beside the bars.
        tall = self.height() >= _LEGEND_MIN_HEIGHT * max(1.0, self._font_scale)
        self.legend.setVisible(self.legend_allowed and tall)

    def _label(
        self, state: str, value: float, start: float, y: float, share: bool, named: bool
    ) -> None:
        text = f"{value:.0f}%" if share else f"{value:.3g} s"
        if named:
            text = f"{state} {text}"
        dark = palette.relative_luminance(palette.TIME_STATE_COLOURS[state]) < 0.3
        label = pg.TextItem(text, color="#ffffff" if dark else "#101010", anchor=(0.5, 0.5))
        label.setFont(palette.font(11 * self._font_scale, bold=True))
        label.setPos(start + value / 2, y)
        self.plot.getPlotItem().addItem(label)
        self._texts.append(label)
        self._label_fits.append((label, text, value))

    def _fit_labels(self) -> None:
        """Each segment's label as drawn fits its segment on screen: the full text,
        else the number alone, else none (big fonts spilled "lock_wait 63%" over
        the neighbouring segments)."""
        self._set_run_ticks()
        vb = self.plot.getPlotItem().getViewBox()
        (x0, x1), _ = vb.viewRange()
        px_per_unit = vb.width() / (x1 - x0) if x1 > x0 and vb.width() > 0 else 0.0
        if px_per_unit <= 0:
            return
        metrics = QFontMetricsF(palette.font(11 * self._font_scale, bold=True))
        # Bars thinner than a line of text get no labels at all (seven runs at
        # 1280x720 stacked their percentages over each other).
        tall_enough = self._bar_px() * _BAR_HEIGHT >= metrics.height()
        for label, text, value in self._label_fits:
            room = value * px_per_unit - 4 if tall_enough else 0.0
            number = (
                text.rsplit(" ", 1)[-1] if not text.endswith(" s") else text.split(" ")[-2] + " s"
            )
            for candidate in (text, number):
                if metrics.horizontalAdvance(candidate) <= room:
                    label.setText(candidate)
                    label.setVisible(True)
                    break
            else:
                label.setVisible(False)

    def _bar_px(self) -> float:
        """Pixels from one bar's centre to the next (0 before the first layout)."""
        vb = self.plot.getPlotItem().getViewBox()
        return vb.height() / max(1, len(self.items)) if vb.height() > 0 else 0.0

    def _set_run_ticks(self) -> None:
        """Every run's name on the left while they fit, else every n-th and the
        last (the names overlapped with seven runs at 1280x720)."""
        n = len(self.items)
        line = QFontMetricsF(palette.font(11 * self._font_scale)).height()
        bar_px = self._bar_px()
        step = max(1, math.ceil(line / bar_px)) if bar_px > 0 else 1
        ticks = [(i, it.label) for i, it in enumerate(self.items) if i % step == 0 or i == n - 1]
        if step > 1 and n > 1 and (n - 1) % step:
            # the last name would collide with the one labelled before it
            ticks = [t for t in ticks if t[0] == n - 1 or n - 1 - t[0] >= step]
        self.run_ticks = [label for _, label in ticks]
        self.plot.getPlotItem().getAxis("left").setTicks([ticks, []])

    def visible_labels(self) -> list[str]:
        """The segment labels shown now (for tests)."""
        return [t.textItem.toPlainText() for t in self._texts if t.isVisible()]


__all__ = ["BreakdownChart", "BreakdownItem"]
