"""The live heap map: every 16-byte cell of the arena as one pixel.

The arena is cut into tiles of one pool each (the pool size of the run, or of
the settings when idle) and the tiles are laid out left to right, top to
bottom; inside a tile the cells also run left to right, top to bottom.  With
the defaults (2 MiB heap, 32 KiB pools) that is 64 tiles of 64 x 32 cells in
an 8 x 8 grid: a 512 x 256 image whose first 20 tiles are exactly the 20
pools of a pooled run.  Baseline and pooled runs use the same geometry, so the
same place on the screen is the same address in both.

When the whole heap is shared by several threads (the baseline), a zoom strip
under the map (``gui.heap_zoom``) shows the 16 KiB where the threads' chunks
alternate most, large enough to see the interleaving from the back of a hall,
and a black-and-white frame on the map marks where it is.

Colour = state and owner, folded into one byte per pixel and mapped through a
fixed lookup table (``levels=(0, 255)``), so a frame costs two ``np.take``
calls and one texture upload.
"""

from __future__ import annotations

import dataclasses
import html
import math

import numpy as np
import pyqtgraph as pg
import shiboken6
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFontMetricsF
from PySide6.QtWidgets import QToolTip

from engine import CELL_BYTES, OWNER_COORDINATOR, OWNER_NONE, CellState, Strategy, format_size
from gui import heap_strategies, palette, text_fit
from gui.heap_interleave import CELL_H, CELL_W, ROW_CELLS, ROW_GAP
from gui.heap_strategies import CACHED_TINT, CLASS_COLOURS, IN_USE
from gui.heap_zoom import ZoomStrip

# Fixed colour indices (one byte per pixel); slot hues follow from index 8.
IDX_FREE, IDX_HEADER, IDX_SLIVER, IDX_COORDINATOR, IDX_OUTSIDE, IDX_RESERVED_ANY = range(6)

_STATE_NAMES = heap_strategies.STATE_NAMES


def _colour_index_table() -> tuple[np.ndarray, np.ndarray]:
    """(index table over state*256 + owner, RGBA lookup table).

    Index layout: 0..7 fixed colours; 8..27 shared-region allocations by slot
    hue; 28..47 pool used by slot hue (same hue: the place tells them apart);
    48..67 pool reserved, pale slot hue; 68..87 cached chunks (batched), lighter
    slot hue; 88..96 slabs by size class (sizeclass).  Slots wrap every 20 hues.
    """
    hues = len(palette.SLOT_COLOURS)
    g0, u0, r0, k0 = 8, 8 + hues, 8 + 2 * hues, 8 + 3 * hues
    c0 = k0 + hues
    lut = np.zeros((256, 4), dtype=np.uint8)
    lut[:, 3] = 255

    def put(i: int, colour) -> None:
        c = QColor(colour)
        lut[i, :3] = (c.red(), c.green(), c.blue())

    put(IDX_FREE, palette.FREE)
    put(IDX_HEADER, palette.HEADER)
    put(IDX_SLIVER, palette.SLIVER)
    put(IDX_COORDINATOR, palette.COORDINATOR)
    put(IDX_OUTSIDE, palette.OUTSIDE)
    put(IDX_RESERVED_ANY, palette.tint("#888888", palette.RESERVED_TINT))
    for s in range(hues):
        put(g0 + s, palette.SLOT_COLOURS[s])
        put(u0 + s, palette.SLOT_COLOURS[s])
        put(r0 + s, palette.tint(palette.SLOT_COLOURS[s], palette.RESERVED_TINT))
        put(k0 + s, palette.tint(palette.SLOT_COLOURS[s], CACHED_TINT))
    for k, colour in enumerate(CLASS_COLOURS):
        put(c0 + k, colour)

    owners = np.arange(256)
    slot_hue = owners % hues
    is_slot = owners < OWNER_COORDINATOR
    table = np.full((8, 256), IDX_FREE, dtype=np.uint8)  # 8 rows: room for unknown states
    table[CellState.HEADER] = IDX_HEADER
    table[CellState.SLIVER] = IDX_SLIVER
    table[CellState.GLOBAL] = np.where(is_slot, g0 + slot_hue, IDX_COORDINATOR)
    table[CellState.POOL_USED] = np.where(is_slot, u0 + slot_hue, IDX_COORDINATOR)
    table[CellState.POOL_RESERVED] = np.where(is_slot, r0 + slot_hue, IDX_RESERVED_ANY)
    table[CellState.CACHED] = np.where(is_slot, k0 + slot_hue, IDX_COORDINATOR)
    classes = len(CLASS_COLOURS)
    table[CellState.SLAB] = np.where(
        owners < classes, c0 + np.minimum(owners, classes - 1), IDX_HEADER
    )
    return table.reshape(-1), lut


COLOUR_INDEX, LUT = _colour_index_table()


class _Label(pg.LabelItem):
    """A label that never asks for more width than the view has (it clips instead).

    pyqtgraph's LabelItem makes its text width the layout's minimum width, so a
    long title would push the image past the right edge of the widget.
    """

    def updateMin(self):  # noqa: N802 (pyqtgraph override)
        super().updateMin()
        self.setMinimumWidth(0)
        self._sizeHint[Qt.SizeHint.MinimumSize] = (0, self._sizeHint[Qt.SizeHint.MinimumSize][1])
        self._sizeHint[Qt.SizeHint.PreferredSize] = (
            0,
            self._sizeHint[Qt.SizeHint.PreferredSize][1],
        )
        self.updateGeometry()


def fitting_zoom_text(text: str, font, width: float) -> str:
    """The zoom's title as long as fits ``width`` pixels: whole, then without
    its address range, then without the free holes (a centred label clips both
    ends: at 720p the range ran off the left edge)."""
    what = text.split(": ", 1)[-1]
    candidates = (text, what, what.split(", ", 1)[0])
    metrics = QFontMetricsF(font)
    return next((c for c in candidates if metrics.horizontalAdvance(c) <= width), candidates[-1])


def colour_indices(
    states: np.ndarray, owners: np.ndarray, out: np.ndarray | None = None
) -> np.ndarray:
    """Folds per-cell (state, owner) bytes into colour indices."""
    key = (states.astype(np.uint16) << 8) | owners
    return np.take(COLOUR_INDEX, key, out=out)


@dataclasses.dataclass(frozen=True)
class Layout:
    """Where every cell of the arena goes in the image.

    Attributes
    ----------
    width, height : int
        Image size in pixels (one pixel per cell).
    tile_w, tile_h, tile_cols : int
        Tile geometry: one tile per ``tile_cells`` cells.
    pixel_cell : np.ndarray
        int64, row-major over the image: the cell shown by each pixel, or -1.
    """

    heap_cells: int
    tile_cells: int
    tile_w: int
    tile_h: int
    tile_cols: int
    tile_rows: int
    width: int
    height: int
    pixel_cell: np.ndarray
    pools: int  # tiles that are pools (0 outside pooled runs)
    pool_cells: int

    @classmethod
    def build(cls, heap_size: int, pool_size: int, pools: int = 0) -> Layout:
        heap_cells = max(1, heap_size // CELL_BYTES)
        tile_cells = max(1, pool_size // CELL_BYTES)
        if heap_cells // tile_cells > 4096:
            # Tiny pools in a big heap: tiles would be specks, use bands of rows.
            tile_cells = math.ceil(heap_cells / 4096)
        # Tiles twice as wide as tall (or square), whole rows of cells.
        tile_w = 1 << math.ceil(math.log2(math.sqrt(tile_cells * 2)))
        tile_w = min(tile_w, tile_cells)
        tile_h = math.ceil(tile_cells / tile_w)
        tiles = math.ceil(heap_cells / tile_cells)
        # Pick the number of tile columns that makes the whole image closest to 2:1.
        # Ties go to the fewest columns (the tuples compare by score, then columns).
        candidates = []
        for cols in range(1, tiles + 1):
            rows = math.ceil(tiles / cols)
            aspect = (cols * tile_w) / (rows * tile_h)
            score = abs(math.log(aspect / 2.0)) + 0.02 * (cols * rows - tiles)
            candidates.append((score, cols, rows))
        _, cols, rows = min(candidates)
        width, height = cols * tile_w, rows * tile_h

        cell = np.arange(heap_cells, dtype=np.int64)
        tile, within = np.divmod(cell, tile_cells)
        ty, tx = np.divmod(tile, cols)
        wy, wx = np.divmod(within, tile_w)
        pixel = (ty * tile_h + wy) * width + tx * tile_w + wx
        pixel_cell = np.full(width * height, -1, dtype=np.int64)
        pixel_cell[pixel] = cell
        return cls(
            heap_cells,
            tile_cells,
            tile_w,
            tile_h,
            cols,
            rows,
            width,
            height,
            pixel_cell,
            pools if tile_cells == pool_size // CELL_BYTES else 0,
            pool_size // CELL_BYTES,
        )

    def tile_rect(self, tile: int) -> QRectF:
        ty, tx = divmod(tile, self.tile_cols)
        return QRectF(tx * self.tile_w, ty * self.tile_h, self.tile_w, self.tile_h)

    def cell_xy(self, cells: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(x, y, tile) of each cell in the image (the inverse of :attr:`pixel_cell`)."""
        tile, within = np.divmod(np.asarray(cells, dtype=np.int64), self.tile_cells)
        ty, tx = np.divmod(tile, self.tile_cols)
        wy, wx = np.divmod(within, self.tile_w)
        return tx * self.tile_w + wx, ty * self.tile_h + wy, tile

    def cell_at(self, x: int, y: int) -> int:
        """The cell under image pixel (x, y), or -1 outside the arena."""
        if not (0 <= x < self.width and 0 <= y < self.height):
            return -1
        return int(self.pixel_cell[y * self.width + x])


class HeapMapView(pg.GraphicsLayoutWidget):
    """The arena as an image, with pool tiles labelled T0..Tn, a legend and a tooltip.

    Call :meth:`set_layout` when a run starts (or the settings change), then
    :meth:`show_cells` with the engine's live views on every frame; the last
    frame stays on screen after the run.
    """

    sig_hovered = Signal(str)  # the description of the cell under the mouse ('' when off)

    def __init__(self, parent=None, font_scale: float = 1.0):
        super().__init__(parent)
        self.font_scale = font_scale
        self.setBackground("w")
        self.ci.setContentsMargins(4, 4, 4, 4)
        self.title = _Label("", size=f"{15 * font_scale:.0f}pt", bold=True, color="#202020")
        self.addItem(self.title, row=0, col=0)
        self.plot = self.addPlot(row=1, col=0)
        self.plot.hideAxis("left")
        self.plot.hideAxis("bottom")
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.setMouseEnabled(False, False)
        self.vb = self.plot.getViewBox()
        self.vb.setAspectLocked(True)
        self.vb.invertY(True)
        self.vb.setDefaultPadding(0.0)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setLookupTable(LUT)
        self.image.setLevels((0, 255))
        self.plot.addItem(self.image)
        self.outline = pg.PlotCurveItem(pen=pg.mkPen("#202020", width=2), connect="pairs")
        self.border = pg.PlotCurveItem(pen=pg.mkPen("#606060", width=1))
        self.plot.addItem(self.outline)
        self.plot.addItem(self.border)
        # Rows 2 and 3: the zoom strip's title and image, only while a shared heap is shown.
        self.zoom = ZoomStrip(font_scale)
        self.zoom_title = _Label("", size=f"{13 * font_scale:.0f}pt", bold=True, color="#202020")
        self.zoom_shown = False
        self.compact = False  # a short panel showing the zoom: see _fit
        self.short = False  # a short panel (zoom or not): title and legend shortened
        self.zoom_text = ""
        for item in self.zoom.frame_items:
            self.plot.addItem(item)
        self.legend = _Label("", size=f"{12 * font_scale:.0f}pt", color="#202020")
        self.addItem(self.legend, row=4, col=0)
        self.hint = pg.TextItem(
            "", color="#303030", anchor=(0.5, 0.5), fill=pg.mkBrush(255, 255, 255, 220)
        )
        self.hint.setFont(palette.font(20 * font_scale, bold=True))
        self.plot.addItem(self.hint)
        self._labels: list[pg.TextItem] = []
        self._region_labels: list[pg.TextItem] = []
        self.layout: Layout | None = None
        self.layout_args: dict = {}
        # The fullest frame so far: (states, owners, time, cells in use).
        self.peak: tuple[np.ndarray, np.ndarray, float, int] | None = None
        self.title_text = ""
        self.strategy: Strategy | None = None
        self.slot_count = 0
        self._pixels: np.ndarray | None = None  # colour index per image pixel
        self.has_map = True  # False for malloc's family: its memory is its own
        self._states: np.ndarray | None = None  # last frame, per cell (for the tooltip)
        self._owners: np.ndarray | None = None
        self.plot.scene().sigMouseMoved.connect(self._on_scene_mouse_moved)
        self._set_legend()

    # -- layout ------------------------------------------------------------

    def set_layout(
        self,
        heap_size: int,
        pool_size: int,
        strategy: Strategy | None,
        slot_count: int,
        title: str = "",
    ) -> None:
        """Prepares an empty arena of ``heap_size`` bytes tiled by ``pool_size``."""
        pools = slot_count if strategy is Strategy.POOLED else 0
        self.layout = layout = Layout.build(heap_size, pool_size, pools)
        self.layout_args = {"heap_size": heap_size, "pool_size": pool_size}
        self.title_text = heap_strategies.title_for(title, strategy)
        self.strategy = strategy
        self.slot_count = slot_count
        self.has_map = heap_strategies.has_map(strategy)
        self._pixels = np.full(layout.width * layout.height, IDX_OUTSIDE, dtype=np.uint8)
        if self.has_map:  # else white: nothing of malloc's memory is drawn
            self._pixels[layout.pixel_cell >= 0] = IDX_FREE
        self._states = np.zeros(layout.heap_cells, dtype=np.uint8)
        self._owners = np.full(layout.heap_cells, OWNER_NONE, dtype=np.uint8)
        self.peak = None
        self._valid = layout.pixel_cell >= 0
        self._take_index = np.where(self._valid, layout.pixel_cell, 0)
        self.image.setImage(self._image(), levels=(0, 255), autoLevels=False)
        self.image.setRect(QRectF(0, 0, layout.width, layout.height))
        self.vb.setRange(QRectF(0, 0, layout.width, layout.height), padding=0.0)
        self._set_title()
        self._draw_regions(layout)
        self.zoom.reset()
        self._show_zoom(strategy is Strategy.BASELINE and slot_count > 1)
        self._set_legend()  # the run's threads
        self.set_hint("")  # the no-map message for malloc's family (see set_hint)

    def _show_zoom(self, shown: bool) -> None:
        """Puts the zoom strip into the layout (or takes it out, giving the map its room)."""
        self.zoom_text = ""
        self.zoom_title.setText("")
        self.zoom_shown = shown
        for item in self.zoom.frame_items:
            item.setVisible(shown)
        self._fit(force=True)

    #: Below this height (at font scale 1) a panel with the zoom is compact: no
    #: title row over the strip, and a one-line legend that carries the title.
    COMPACT_BELOW = 480

    def _fit(self, force: bool = False) -> None:
        """Shares a short panel between the map and the zoom (see :meth:`ZoomStrip.fit`)."""
        self.zoom.fit(self.height())
        short = self.height() < self.COMPACT_BELOW * self.font_scale
        if short != self.short:
            # A short panel without the zoom: a one-line title and a shorter legend.
            self.short = short
            self._set_title()
            self._set_legend()
        compact = self.zoom_shown and short
        if compact == self.compact and not force:
            return
        self.compact = compact
        shown = self.zoom_shown
        rows = ((self.zoom_title, 2, shown and not compact), (self.zoom.plot, 3, shown))
        for item, row, wanted in rows:
            if wanted and item not in self.ci.items:
                self.addItem(item, row=row, col=0)
            elif not wanted and item in self.ci.items:
                self.ci.removeItem(item)
        self._set_legend()
        self._set_zoom_text(self.zoom_text)

    def _set_zoom_text(self, text: str) -> None:
        """The zoom's title: over the strip, or in the legend line when compact."""
        changed = text != self.zoom_text
        self.zoom_text = text
        if self.compact:
            if changed:
                self._set_legend()
        else:
            points = round(13 * self.font_scale)
            shown = fitting_zoom_text(text, palette.font(points, bold=True), self.width() - 16)
            if changed or self.zoom_title.text != shown:
                self.zoom_title.setText(shown, size=f"{points}pt", bold=True, color="#202020")

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        # Qt resizes before __init__ has built the zoom, and again after close()
        # has deleted the scene's items: an exception here would crash Qt.
        # pyqtgraph's close() sets `closed` before the resize that follows it.
        zoom = getattr(self, "zoom", None)
        vb = getattr(self, "vb", None)
        if getattr(self, "closed", False) or vb is None or not shiboken6.isValid(vb):
            return
        if zoom is not None and shiboken6.isValid(zoom.plot):
            self._fit()
            self._thin_labels()
            self._set_title()
            self._set_legend()
            self._fit_hint()
            if hasattr(self, "zoom_text"):
                self._set_zoom_text(self.zoom_text)  # the width changed: refit it

    def _image(self) -> np.ndarray:
        if self.layout is None or self._pixels is None:
            raise RuntimeError("the heap map has no layout yet: call set_layout first")
        return self._pixels.reshape(self.layout.height, self.layout.width)

    def _draw_regions(self, layout: Layout) -> None:
        for item in self._labels + self._region_labels:
            self.plot.removeItem(item)
        self._labels, self._region_labels = [], []
        xs: list[float] = []
        ys: list[float] = []
        if layout.pools:
            big = layout.pools <= 128  # which ones show: _thin_labels, by on-screen size
            for t in range(layout.pools):
                r = layout.tile_rect(t)
                for x0, y0, x1, y1 in (
                    (r.left(), r.top(), r.right(), r.top()),
                    (r.right(), r.top(), r.right(), r.bottom()),
                    (r.right(), r.bottom(), r.left(), r.bottom()),
                    (r.left(), r.bottom(), r.left(), r.top()),
                ):
                    xs += [x0, x1]
                    ys += [y0, y1]
                if big:
                    label = pg.TextItem(
                        f"T{t}", color="#000000", anchor=(0, 0), fill=pg.mkBrush(255, 255, 255, 200)
                    )
                    label.setFont(palette.font(11 * self.font_scale, bold=True))
                    label.setPos(r.left() + 0.5, r.top() + 0.5)
                    self.plot.addItem(label)
                    self._labels.append(label)
            if layout.pools < layout.tile_cols * layout.tile_rows:
                # Bottom-left, like the baseline's: the shared region fills from its top.
                self._add_region_label(
                    "after the pools: the shared region, one free list, one lock",
                    1,
                    layout.height - 1,
                    anchor=(0, 1),
                )
        elif self.strategy is not None and self.has_map:
            # Bottom-left: the heap fills from the top, so the label never hides the action.
            self._add_region_label(
                heap_strategies.region_text(self.strategy),
                1,
                layout.height - 1,
                anchor=(0, 1),
            )
        self.outline.setData(np.array(xs, dtype=float), np.array(ys, dtype=float))
        w, h = layout.width, layout.height
        if self.has_map:
            self.border.setData([0, w, w, 0, 0], [0, 0, h, h, 0])
        else:
            self.border.setData([], [])
        self._thin_labels()  # which T labels show, and the region labels' wrap width

    def label_steps(self) -> tuple[int, int]:
        """(every k-th tile column, every m-th tile row) whose pools are labelled, so
        the T labels never overlap each other (2 KiB pools make tiles of a few
        screen pixels: hovering a pool still names it); (0, 0) when none are."""
        layout = self.layout
        if layout is None or not self._labels:
            return 0, 0
        scale = self.vb.width() / layout.width if layout.width else 0.0
        scale = min(scale, self.vb.height() / layout.height if layout.height else 0.0)
        if scale <= 0:
            return 1, 1
        metrics = QFontMetricsF(self._labels[0].textItem.font())
        label_w = metrics.horizontalAdvance(f"T{layout.pools - 1}") + 6
        label_h = metrics.height() + 2
        cols = max(1, math.ceil(label_w / (layout.tile_w * scale)))
        rows = max(1, math.ceil(label_h / (layout.tile_h * scale)))
        # A label over a few tiles still says which pool is where; past that it is noise.
        return (cols, rows) if cols * rows <= 8 else (0, 0)

    def _thin_labels(self) -> None:
        layout = self.layout
        if layout is None:
            return
        if self._region_labels:
            # Wrapped to the map's width on screen: never past its right edge.
            scale = min(
                self.vb.width() / max(1, layout.width), self.vb.height() / max(1, layout.height)
            )
            for label in self._region_labels:
                label.setTextWidth(max(60.0, layout.width * scale - 8))
                # On a map too small for it, the label would hide the heap: the
                # hover text and the legend still say what is where.
                label.setVisible(
                    label.textItem.boundingRect().height() <= 0.4 * layout.height * scale
                )
        cols, rows = self.label_steps()
        for t, label in enumerate(self._labels):
            ty, tx = divmod(t, layout.tile_cols)
            label.setVisible(cols > 0 and tx % cols == 0 and ty % rows == 0)

    def visible_labels(self) -> list[str]:
        """The T labels shown now (for tests)."""
        return [label.textItem.toPlainText() for label in self._labels if label.isVisible()]

    def set_font_scale(self, font_scale: float) -> None:
        """Every label's font scaled (presentation mode's zoom)."""
        self.font_scale = font_scale
        self.zoom.set_font_scale(font_scale)
        self.hint.setFont(palette.font(20 * font_scale, bold=True))
        self.legend.setText(self.legend.text, size=f"{12 * font_scale:.0f}pt", color="#202020")
        self._set_title()
        if self.layout is not None:
            self._draw_regions(self.layout)
        self._set_legend()
        self._fit(force=True)

    def _set_title(self) -> None:
        """The title, broken into lines at its ': ' and ', ' when the map is narrow."""
        size = 15 * self.font_scale
        available = max(100.0, float(self.width()) - 16)
        title = self.title_text
        if self.short:
            title = title.split(": ", 1)[0]  # "Run #2 pooled": the rest is on the map
        lines = text_fit.break_title(title, palette.font(size, bold=True), available)
        text = "<br>".join(html.escape(line) for line in lines)
        if text != self.title.text:
            self.title.setText(text, size=f"{size:.0f}pt", bold=True, color="#202020")

    def _add_region_label(self, text: str, x: float, y: float, anchor=(0, 0)) -> None:
        label = pg.TextItem(
            text, color="#000000", anchor=anchor, fill=pg.mkBrush(255, 255, 255, 215)
        )
        label.setFont(palette.font(12 * self.font_scale, bold=True))
        label.setPos(x, y)
        self.plot.addItem(label)
        self._region_labels.append(label)

    def set_hint(self, text: str) -> None:
        """A big centred message over the map (empty to hide; for malloc's family,
        empty shows that there is no map, the only thing to say about it)."""
        if not text and not self.has_map and self.strategy is not None:
            text = heap_strategies.no_map_hint(self.strategy)
        self.hint.setText(text)
        self._fit_hint()
        self.hint.setVisible(bool(text))
        if self.layout is not None:
            self.hint.setPos(self.layout.width / 2, self.layout.height / 2)

    def _fit_hint(self) -> None:
        """The no-map message wraps to the map's width (presenting, its words are big)."""
        width = self.vb.width() if shiboken6.isValid(self.vb) else 0.0
        self.hint.setTextWidth(max(150.0, width - 24) if not self.has_map and width > 0 else -1)

    def _set_legend(self) -> None:
        big = f"{18 * self.font_scale:.0f}pt"

        def swatch(colour, text: str) -> str:
            c = QColor(colour).name()
            return f'<span style="color:{c}; font-size:{big}">&#9632;</span>&nbsp;{text}'

        available = max(100.0, float(self.width()) - 16)
        # The run's own threads: two long-lived workers are T0 and T1, not twenty.
        hues = palette.SLOT_COLOURS[: min(self.slot_count, len(palette.SLOT_COLOURS))]
        hues = hues or palette.SLOT_COLOURS  # before any run: the default batch of 20
        slots = "".join(f'<span style="color:{c}; font-size:{big}">&#9632;</span>' for c in hues)
        if text_fit.html_width(slots, 12 * self.font_scale) > available:
            # Twenty big swatches are wider than a narrow map: smaller ones, never clipped.
            small = f"{12 * self.font_scale:.0f}pt"
            slots = "".join(
                f'<span style="color:{c}; font-size:{small}">&#9632;</span>' for c in hues
            )
        extra = self._strategy_legend(swatch, slots)
        if extra is not None:
            text = text_fit.wrap_html(extra, available, 12 * self.font_scale)
            if text != self.legend.text:
                self.legend.setText(text)
            return
        if self.compact:
            # A short panel with the zoom: one line, the map and the zoom need the
            # room; the zoom's title says what matters (how many threads interleave).
            self.legend.setText(
                f"<b>{self.zoom_text}</b>&nbsp;&nbsp;"
                f'<span style="color:#000000; font-size:{big}">&#9633;</span>&nbsp;free hole'
            )
            return
        if self.short and not self.zoom_shown:
            # A short panel: the threads' hues and the pale reserve, the map needs the room.
            entries = [
                slots,
                self._threads_text(),
                swatch(
                    palette.tint(palette.SLOT_COLOURS[0], palette.RESERVED_TINT),
                    "pale: pool reserved, unused",
                ),
            ]
            text = text_fit.wrap_html(
                entries, max(100.0, float(self.width()) - 16), 12 * self.font_scale
            )
            if text != self.legend.text:
                self.legend.setText(text)
            return
        # Entries broken into lines that fit the map's width: never clipped.
        entries = [
            swatch(palette.FREE, "free"),
            swatch(palette.HEADER, "chunk header"),
            swatch(palette.SLIVER, "lost 16-byte sliver"),
            swatch(palette.COORDINATOR, "coordinator's block copies"),
            # The zoom's holes are white boxes with a black outline (a hollow square).
            '<span style="color:#000000; font-size:' + big + '">&#9633;</span>&nbsp;zoom: free hole'
            if self.zoom_shown
            else swatch(
                palette.tint(palette.SLOT_COLOURS[0], palette.RESERVED_TINT),
                "pale: pool reserved, unused",
            ),
            slots,
            self._threads_text(),
        ]
        size = 12 * self.font_scale
        available = max(100.0, float(self.width()) - 16)
        text = text_fit.wrap_html(entries, available, size)
        if text != self.legend.text:
            self.legend.setText(text)

    def _threads_text(self, verb: str = "used by") -> str:
        """Which threads the hues stand for: the run's slots (20 before any run)."""
        count = self.slot_count or len(palette.SLOT_COLOURS)
        if count == 1:
            return f"{verb} thread T0"
        text = f"{verb} thread T0 … T{count - 1}"
        if count > len(palette.SLOT_COLOURS):
            text += f" (hues repeat after {len(palette.SLOT_COLOURS)})"
        return text

    def _strategy_legend(self, swatch, slots: str) -> list[str] | None:
        """The legend entries of sizeclass, batched and malloc's family (None: the usual)."""
        strategy = self.strategy
        if strategy is None:
            return None
        if not self.has_map:
            return heap_strategies.no_map_legend(strategy)
        if strategy is Strategy.SIZECLASS:
            big = f"{18 * self.font_scale:.0f}pt"
            ramp = "".join(
                f'<span style="color:{c}; font-size:{big}">&#9632;</span>' for c in CLASS_COLOURS
            )
            entries = [
                ramp,
                "slabs by size class: 16 B (dark) … 2048 B (light)",
                swatch(palette.FREE, "free"),
                swatch(palette.HEADER, "chunk header"),
            ]
            if not self.short:
                entries += [slots, f"over 2048 B: {self._threads_text('by')} (arena lock)"]
            return entries
        if strategy is Strategy.BATCHED:
            light = "".join(
                f'<span style="color:{palette.tint(c, CACHED_TINT).name()}; '
                f'font-size:{12 * self.font_scale:.0f}pt">&#9632;</span>'
                for c in palette.SLOT_COLOURS[: min(10, self.slot_count or 10)]
            )
            entries = [slots, self._threads_text(), f"{light}&nbsp;lighter: cached, no lock"]
            if not self.short:
                entries += [
                    swatch(palette.FREE, "free"),
                    swatch(palette.HEADER, "chunk header"),
                    swatch(palette.COORDINATOR, "coordinator's block copies"),
                ]
            return entries
        return None

    # -- frames ------------------------------------------------------------

    def show_cells(
        self, states: np.ndarray | None, owners: np.ndarray | None, elapsed_s: float | None = None
    ) -> None:
        """Draws one frame from per-cell states and owners (live views are fine).

        With ``elapsed_s``, the frame with the most cells in use is also kept
        as :attr:`peak` (states, owners, time, cells in use): a run's final
        state is mostly empty, its fullest moment makes the better slide.
        """
        if self.layout is None or states is None or owners is None or not self.has_map:
            return
        # set_layout fills these together with the layout.
        cells, who, pixels = self._states, self._owners, self._pixels
        if cells is None or who is None or pixels is None:
            return
        n = self.layout.heap_cells
        if len(states) != n:
            return
        np.copyto(cells, states)
        np.copyto(who, owners)
        if elapsed_s is not None:
            in_use = int(np.count_nonzero(np.isin(cells, IN_USE)))
            if self.peak is None or in_use > self.peak[3]:
                self.peak = (cells.copy(), who.copy(), elapsed_s, in_use)
        index = colour_indices(cells, who)
        np.take(index, self._take_index, out=pixels)
        if not self._valid.all():
            pixels[~self._valid] = IDX_OUTSIDE
        self.image.updateImage(self._image())
        if self.zoom_shown:
            self._set_zoom_text(self.zoom.show(cells, who, self.layout.cell_xy))

    def cell_states(self) -> np.ndarray | None:
        """The last frame's state per cell (a copy)."""
        return None if self._states is None else self._states.copy()

    def cell_owners(self) -> np.ndarray | None:
        return None if self._owners is None else self._owners.copy()

    def pixels(self) -> np.ndarray:
        """The colour-index image now shown (height x width, a copy)."""
        return self._image().copy()

    # -- hover -------------------------------------------------------------

    def describe_cell(self, cell: int) -> str:
        """Offset, state and owner of one cell, as shown in the tooltip."""
        if self.layout is None or not 0 <= cell < self.layout.heap_cells:
            return ""
        if self._states is None or self._owners is None or not self.has_map:
            return ""
        offset = cell * CELL_BYTES
        state = int(self._states[cell])
        owner = int(self._owners[cell])
        try:
            state_name = _STATE_NAMES[CellState(state)]
        except ValueError:
            state_name = f"state {state}"
        special = heap_strategies.describe(state, owner)
        if special is not None:
            return f"offset {offset:#08x} = {format_size(offset) if offset else '0 B'}\n{special}"
        if owner == OWNER_NONE:
            who = "no owner"
        elif owner == OWNER_COORDINATOR:
            who = "owner: coordinator thread"
        else:
            who = f"owner: thread slot T{owner}"
        where = ""
        if self.layout.pools and offset < self.layout.pools * self.layout.pool_cells * CELL_BYTES:
            where = f" (pool of T{cell // self.layout.pool_cells})"
        return (
            f"offset {offset:#08x} = {format_size(offset) if offset else '0 B'}{where}\n"
            f"{state_name}; {who}"
        )

    def zoom_cell_at(self, x: float, y: float) -> int:
        """The heap cell under point (x, y) of the zoom image, or -1 (gaps, off the strip)."""
        region = self.zoom.region
        if region is None or x < 0 or y < 0:
            return -1
        row, within = divmod(int(y), CELL_H + ROW_GAP)
        col = int(x) // CELL_W
        if within >= CELL_H or col >= ROW_CELLS:
            return -1
        index = row * ROW_CELLS + col
        return region.start_cell + index if index < region.cells else -1

    def _on_scene_mouse_moved(self, pos: QPointF) -> None:
        if self.layout is None:
            self.sig_hovered.emit("")
            return
        if self.zoom_shown and self.zoom.vb.sceneBoundingRect().contains(pos):
            p = self.zoom.vb.mapSceneToView(pos)
            cell = self.zoom_cell_at(p.x(), p.y())
        elif self.vb.sceneBoundingRect().contains(pos):
            p = self.vb.mapSceneToView(pos)
            cell = self.layout.cell_at(int(math.floor(p.x())), int(math.floor(p.y())))
        else:
            self.sig_hovered.emit("")
            return
        text = self.describe_cell(cell)
        self.sig_hovered.emit(text)
        if text:
            QToolTip.showText(self.mapToGlobal(self.mapFromScene(pos)), text, self)
        else:
            QToolTip.hideText()
