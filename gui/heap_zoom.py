"""The heap map's zoom strip: the busiest 8 KiB of a shared heap, drawn large.

The heap map gives every 16-byte cell one pixel; in a contended baseline run
that is a speckle of 3-cell chunks from a dozen threads.  This strip, under the
map, shows the stretch where owners alternate most (``gui.heap_interleave``)
at about 5 x 14 screen pixels per cell, and a black-and-white frame on the map
shows where it is.  The heap map shows it for runs with one shared heap and
several threads; pooled runs keep their tiles.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor

from gui import heap_interleave, palette
from gui.heap_interleave import Region, ZoomColours, ZoomTracker


def _rgb(colour) -> np.ndarray:
    c = QColor(colour)
    return np.array([c.red(), c.green(), c.blue()], dtype=np.uint8)


#: Free holes: white inside, a black outline (not a hue: colour-blind safe).
COLOURS = ZoomColours(
    slots=np.array([_rgb(c) for c in palette.SLOT_COLOURS]),
    coordinator=_rgb(palette.COORDINATOR),
    free=_rgb("#ffffff"),
    outline=_rgb("#000000"),
    sliver=_rgb(palette.SLIVER),
    gap=_rgb("#ffffff"),
    reserved_tint=palette.RESERVED_TINT,
)


class ZoomStrip:
    """The zoomed image (a plot of its own) and its frame on the heap map.

    ``plot`` goes into the heap map's layout; ``frame_items`` into the map's
    plot.  :meth:`show` picks the region (staying put unless another is
    clearly busier), redraws and returns the strip's title.
    """

    def __init__(self, font_scale: float = 1.0):
        self.tracker = ZoomTracker()
        self.plot = pg.PlotItem()
        self.plot.hideAxis("left")
        self.plot.hideAxis("bottom")
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.setMouseEnabled(False, False)
        self.vb = self.plot.getViewBox()
        self.vb.invertY(True)
        self.vb.setDefaultPadding(0.0)
        width, height = heap_interleave.zoom_geometry()
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        self.image.setImage(np.full((height, width, 3), 255, dtype=np.uint8), autoLevels=False)
        self.image.setLevels((0, 255))
        self.image.setRect(QRectF(0, 0, width, height))
        self.vb.setRange(QRectF(0, 0, width, height), padding=0.0)
        self.set_font_scale(font_scale)
        # A white halo under a black line reads on any colour of the map.
        self.frame_items = (
            pg.PlotCurveItem(pen=pg.mkPen("#ffffff", width=6), connect="pairs"),
            pg.PlotCurveItem(pen=pg.mkPen("#000000", width=3), connect="pairs"),
        )
        self.region: Region | None = None
        self.rgb: np.ndarray | None = None  # the image now shown (height, width, 3)

    def set_font_scale(self, font_scale: float) -> None:
        self.font_scale = font_scale
        self.fit(10_000)

    def fit(self, widget_height: float) -> None:
        """Sizes the strip for a heap map ``widget_height`` pixels tall: the
        image's own height (4 rows of 14 px: big enough for the back row) when
        there is room, never more than a fifth of the widget, so the map keeps
        most of a short panel."""
        _, natural = heap_interleave.zoom_geometry()
        height = max(32.0, min(natural * self.font_scale, widget_height * 0.2))
        self.plot.setMinimumHeight(height)
        self.plot.setMaximumHeight(height)
        self.plot.setPreferredHeight(height)

    def reset(self) -> None:
        self.tracker.reset()
        self.region = None
        self.rgb = None
        for item in self.frame_items:
            item.setData([], [])

    def show(self, states: np.ndarray, owners: np.ndarray, cell_xy) -> str:
        """Zooms on the busiest region of this frame; ``cell_xy(cells) -> (xs, ys)``
        places cells on the heap map (for the frame). Returns the title."""
        region = self.tracker.update(states, owners)
        self.rgb = heap_interleave.zoom_image(states, owners, region, COLOURS)
        self.image.updateImage(self.rgb, autoLevels=False)
        if region != self.region:
            self._frame(region, cell_xy)
        self.region = region
        return heap_interleave.describe(region)

    def _frame(self, region: Region, cell_xy) -> None:
        """Rectangles around the region's cells on the map, one per tile it spans."""
        cells = np.arange(region.start_cell, region.start_cell + region.cells)
        xs, ys, tiles = cell_xy(cells)
        px: list[float] = []
        py: list[float] = []
        for tile in np.unique(tiles):
            mine = tiles == tile
            x0, x1 = float(xs[mine].min()), float(xs[mine].max()) + 1
            y0, y1 = float(ys[mine].min()), float(ys[mine].max()) + 1
            for a, b, c, d in (
                (x0, y0, x1, y0),
                (x1, y0, x1, y1),
                (x1, y1, x0, y1),
                (x0, y1, x0, y0),
            ):
                px += [a, c]
                py += [b, d]
        for item in self.frame_items:
            item.setData(np.array(px), np.array(py))
