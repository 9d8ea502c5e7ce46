"""The lanes: one row per thread slot and one for the coordinator, coloured by
what the slot's time went to (compute, waiting for the lock, holding it, ...).

A first row, "lock held", shades each moment by how much of it some thread
held the allocator lock: black when the lock never rests. Drawn as ONE image
(rows x time bins, a bin per screen pixel; see
:mod:`gui.timeline_image`), re-rendered for the visible window whenever the
data, the zoom or the size change: thousands of intervals cost one texture
upload. While a run is live the window scrolls with it; afterwards (or in a
replay) the time axis zooms with the mouse wheel or + / -, pans by dragging or
with the arrow keys, and Home shows the whole run. The legend is a row of
coloured labels above the lanes, never over them.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QCursor, QFontMetrics, QKeyEvent, QResizeEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolTip, QVBoxLayout, QWidget

from engine import TIME_STATES, Timeline
from gui import palette
from gui.timeline_image import (
    NO_DATA,
    ROWS_PER_LANE,
    lanes_rgb,
    lock_held,
    states_of,
    window_seconds,
)

#: While live, the lanes show at most the last LIVE_WINDOW_S seconds.
LIVE_WINDOW_S = 5.0
#: The narrowest window one can zoom into (the sampler's resolution is ~1 ms).
MIN_WINDOW_S = 0.002
_MIN_BINS, _MAX_BINS = 64, 4096
#: Lane label tick at the middle of a lane's coloured rows.
_LANE_MIDDLE = (ROWS_PER_LANE - 1) / ROWS_PER_LANE / 2
#: Narrower than this (px at font scale 1), the legend drops its glosses.
_GLOSS_MIN_WIDTH = 820
#: The lock row's label; lane i is drawn at y = 1 + i.
LOCK_ROW = "lock held"


def live_range(end_s: float, current: tuple[float, float] | None) -> tuple[float, float]:
    """The time window while live: grows from 0 in 1.5x steps up to LIVE_WINDOW_S,
    then scrolls a quarter window at a time (in steps: re-ranging repaints the axis)."""
    if current is not None and current[0] <= end_s <= current[1]:
        return current
    if end_s < LIVE_WINDOW_S:
        return 0.0, min(LIVE_WINDOW_S, max(0.05, end_s * 1.5))
    right = end_s + LIVE_WINDOW_S / 4
    return right - LIVE_WINDOW_S, right


class TimelineView(QWidget):
    """The lanes of one run.

    Signals
    -------
    sig_hovered(str)
        What is under the mouse ("T7 · lock_wait · 1.234 s"), "" when nothing.
    """

    sig_hovered = Signal(str)

    def __init__(self, parent: QWidget | None = None, font_scale: float = 1.0):
        super().__init__(parent)
        self.timeline: Timeline | None = None
        self.live = False
        self.edges = np.zeros(0)
        self.states = np.zeros((0, 0), np.uint8)
        self.shares = np.zeros((0, 0))
        self.held = np.zeros(0)
        self.hover_text = ""
        self._font_scale = font_scale
        self._window: tuple[float, float] | None = None
        self._setting_range = False
        self._lane_step = 0

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        head = QHBoxLayout()
        self.legend = QLabel()
        self.legend.setObjectName("timelineLegend")
        self.legend.setWordWrap(True)
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.legend.setToolTip(palette.time_legend_tooltip())
        self.readout = QLabel("")
        self.readout.setObjectName("timelineReadout")
        head.addWidget(self.legend, 1)
        head.addWidget(self.readout)
        layout.addLayout(head)

        self.plot = pg.PlotWidget(background="w")
        self.plot.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.plot.setToolTip("Wheel or + / - zoom, drag or arrows pan, Home shows the whole run")
        item = self.plot.getPlotItem()
        item.setMenuEnabled(False)
        item.hideButtons()
        self.vb = item.getViewBox()
        self.vb.invertY(True)
        self.vb.setMouseEnabled(x=True, y=False)
        self.vb.enableAutoRange(enable=False)
        self.image = pg.ImageItem(axisOrder="row-major")
        item.addItem(self.image)
        layout.addWidget(self.plot, 1)
        self._set_fonts()

        self._render_timer = QTimer(self)
        self._render_timer.setSingleShot(True)
        self._render_timer.setInterval(0)
        self._render_timer.timeout.connect(self._render)
        self.vb.sigXRangeChanged.connect(self._on_range_changed)
        self.vb.sigResized.connect(self._on_range_changed)
        self.plot.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.plot.installEventFilter(self)
        self.clear()

    # ------------------------------------------------------------ public API

    def show_timeline(self, timeline: Timeline, *, live: bool) -> None:
        """Shows ``timeline`` instead of what was shown; ``live`` follows its end."""
        lanes_changed = self.timeline is None or self.timeline.lanes != timeline.lanes
        self.timeline = timeline
        self.live = live
        if lanes_changed:
            self._set_lanes(timeline)
        end = float(timeline.time_s[-1]) if timeline.rows else 0.0
        self.vb.setMouseEnabled(x=not live, y=False)
        if live:
            self._window = live_range(end, self._window)
            self.vb.setLimits(xMin=None, xMax=None)
        else:
            whole = max(end, MIN_WINDOW_S)
            self._window = (0.0, whole)
            self.vb.setLimits(xMin=0.0, xMax=whole, minXRange=min(MIN_WINDOW_S, whole))
        self._apply_window()
        self._render()

    def clear(self) -> None:
        """Nothing shown (Clear runs)."""
        self.timeline = None
        self.live = False
        self._window = None
        self.edges = np.zeros(0)
        self.states = np.zeros((0, 0), np.uint8)
        self.shares = np.zeros((0, 0))
        self.held = np.zeros(0)
        self.image.clear()
        self.plot.getPlotItem().getAxis("left").setTicks([[]])
        self.vb.setLimits(xMin=None, xMax=None)
        self._setting_range = True
        try:
            self.vb.setRange(xRange=(0, 1), yRange=(0, 1), padding=0)
        finally:
            self._setting_range = False
        self._set_hover("")

    def set_font_scale(self, font_scale: float) -> None:
        """Fonts scaled (presentation mode's zoom)."""
        self._font_scale = font_scale
        self._set_fonts()
        if self.timeline is not None:
            self._set_lanes(self.timeline)

    def describe(self, time_s: float, lane: int) -> str:
        """What the lanes show at ``time_s`` in ``lane`` ("" outside the data);
        lane -1 is the lock row."""
        if self.timeline is None or len(self.edges) < 2 or not -1 <= lane < self.timeline.lanes:
            return ""
        b = int(np.searchsorted(self.edges, time_s, side="right")) - 1
        if not 0 <= b < self.states.shape[1]:
            return ""
        if lane == -1:
            if self.held[b] < 0:
                return ""
            return f"{LOCK_ROW} {100 * self.held[b]:.0f}% of the time · {self._time_text(time_s)}"
        state = int(self.states[lane, b])
        if state == NO_DATA:
            return ""
        return (
            f"{self.timeline.lane_names[lane]} · {TIME_STATES[state]} · {self._time_text(time_s)}"
        )

    def _time_text(self, time_s: float) -> str:
        """Seconds with 3 decimals, more when zoomed in (a 2 ms window shows 10 us)."""
        width = float(self.edges[-1] - self.edges[0])
        digits = max(3, min(6, math.ceil(-math.log10(width)) + 2)) if width > 0 else 3
        return f"{time_s:.{digits}f} s"

    def colour_at(self, lane: int, bin_index: int) -> tuple[int, int, int]:
        """The RGB of ``lane`` (-1: the lock row) in bin ``bin_index`` of the shown image."""
        image = self.image.image
        assert image is not None
        r, g, b = image[(lane + 1) * ROWS_PER_LANE, bin_index][:3]
        return int(r), int(g), int(b)

    def time_window(self) -> tuple[float, float]:
        """The visible time window (s)."""
        (x0, x1), _ = self.vb.viewRange()
        return float(x0), float(x1)

    def zoom(self, factor: float, centre_s: float | None = None) -> None:
        """Narrows (factor < 1) or widens the time window around ``centre_s``."""
        if self.live or self.timeline is None:
            return
        x0, x1 = self.time_window()
        c = (x0 + x1) / 2 if centre_s is None else centre_s
        self.vb.setXRange(c - (c - x0) * factor, c + (x1 - c) * factor, padding=0)

    def pan(self, fraction: float) -> None:
        """Moves the window by ``fraction`` of its width (negative: earlier)."""
        if self.live or self.timeline is None:
            return
        x0, x1 = self.time_window()
        d = (x1 - x0) * fraction
        self.vb.setXRange(x0 + d, x1 + d, padding=0)

    def show_all(self) -> None:
        if self.timeline is not None and not self.live and self._window is not None:
            self.vb.setXRange(*self._window, padding=0)

    # -------------------------------------------------------------- internals

    def _set_legend(self) -> None:
        """The legend on one line when it can be: the glosses go when narrow."""
        wide = self.width() >= _GLOSS_MIN_WIDTH * self._font_scale
        self.legend.setText(palette.time_legend_html(11 * self._font_scale, "Lanes:", wide))

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self._set_legend()

    def _set_fonts(self) -> None:
        s = self._font_scale
        self._set_legend()
        item = self.plot.getPlotItem()
        label_style = {"font-size": f"{11 * s:.0f}pt", "color": "#202020"}
        for name in ("left", "bottom"):
            axis = item.getAxis(name)
            axis.setStyle(hideOverlappingLabels=False)  # T0 and the coordinator sit at the ends
            axis.setTickFont(palette.font(11 * s))
            axis.setPen(pg.mkPen("#303030", width=1))
            axis.setTextPen(pg.mkPen("#202020"))
        item.getAxis("left").setWidth(int(100 * s))
        # Room for the "lock held" label, centred on the top lane, which is
        # thinner than the text at presentation sizes, and for the last time
        # tick's right half: without it both were cut off at the edges.
        text_px = QFontMetrics(palette.font(11 * s)).height()
        item.setContentsMargins(0, text_px / 2, text_px, 0)
        item.setLabel("bottom", "time since the run started", units="s", **label_style)
        f = self.readout.font()
        f.setPointSizeF(12 * s)
        f.setBold(True)
        self.readout.setFont(f)

    def _set_lanes(self, timeline: Timeline) -> None:
        """Lane labels, thinned so they never overlap."""
        lanes = timeline.lanes
        step = self._label_step(lanes)
        names = timeline.lane_names
        ticks = [(_LANE_MIDDLE, LOCK_ROW)] + [
            (1 + i + _LANE_MIDDLE, names[i])
            for i in range(lanes)
            # T0 sits against the lock row: labelled only when every lane is
            if (i % step == 0 and (i > 0 or step == 1)) or i == lanes - 1
        ]
        self.plot.getPlotItem().getAxis("left").setTicks([ticks, []])
        self._setting_range = True
        try:
            self.vb.setYRange(0, lanes + 1, padding=0)
        finally:
            self._setting_range = False
        self._lane_step = step

    def _label_step(self, lanes: int) -> int:
        """Label every n-th lane so labels (about 15 px at 11 pt) never overlap."""
        lane_px = max(1.0, self.vb.height() / (lanes + 1))
        return max(1, math.ceil(15 * self._font_scale / lane_px))

    def _apply_window(self) -> None:
        assert self._window is not None
        self._setting_range = True
        try:
            self.vb.setXRange(*self._window, padding=0)
        finally:
            self._setting_range = False

    def _on_range_changed(self, *_args: object) -> None:
        tl = self.timeline
        if tl is not None and self._label_step(tl.lanes) != self._lane_step:
            self._set_lanes(tl)
        if not self._setting_range:
            self._render_timer.start()

    def _bins(self) -> int:
        width = int(self.vb.width()) if self.vb.width() > 0 else 800
        return max(_MIN_BINS, min(_MAX_BINS, width))

    def _render(self) -> None:
        """The image of the visible window, a bin per pixel."""
        tl = self.timeline
        if tl is None or tl.lanes == 0:
            return
        x0, x1 = self._window if self.live and self._window else self.time_window()
        x0 = max(0.0, x0)
        if not x1 > x0:
            return
        self.edges, seconds = window_seconds(tl, x0, x1, self._bins())
        self.states, self.shares = states_of(tl, self.edges, seconds)
        self.held = lock_held(tl, self.edges, seconds)
        image = lanes_rgb(self.states, self.held)
        self.image.setImage(image, autoLevels=False, levels=(0, 255))
        self.image.setRect(QRectF(x0, 0.0, x1 - x0, float(tl.lanes + 1)))

    def _set_hover(self, text: str) -> None:
        if text != self.hover_text:
            self.hover_text = text
            self.readout.setText(text)
            self.sig_hovered.emit(text)

    def _on_mouse_moved(self, pos: QPointF) -> None:
        if self.timeline is None or not self.vb.sceneBoundingRect().contains(pos):
            self._set_hover("")
            return
        p = self.vb.mapSceneToView(pos)
        text = self.describe(p.x(), int(math.floor(p.y())) - 1)
        self._set_hover(text)
        if text:
            QToolTip.showText(QCursor.pos(), text, self.plot)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if watched is self.plot and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            return self._key(event)
        return super().eventFilter(watched, event)

    def _key(self, event: QKeyEvent) -> bool:
        key = event.key()
        actions = {
            Qt.Key.Key_Plus: lambda: self.zoom(0.5),
            Qt.Key.Key_Equal: lambda: self.zoom(0.5),
            Qt.Key.Key_Minus: lambda: self.zoom(2.0),
            Qt.Key.Key_Left: lambda: self.pan(-0.25),
            Qt.Key.Key_Right: lambda: self.pan(0.25),
            Qt.Key.Key_Home: self.show_all,
        }
        action = actions.get(Qt.Key(key))
        if action is None or self.live or self.timeline is None:
            return False
        action()
        return True


__all__ = ["LIVE_WINDOW_S", "LOCK_ROW", "TimelineView", "live_range"]
