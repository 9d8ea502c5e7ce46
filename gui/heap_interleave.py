"""Where the threads' trees interleave: the busiest stretch of the heap, zoomed (no Qt).

At one pixel per 16-byte cell a contended baseline's heap is a speckled strip:
its Huffman nodes are 3-cell chunks (header + 32 bytes), and when a dozen
workers are mid-block at once, neighbouring chunks belong to different threads
and the freed ones leave holes that cannot coalesce.  This module finds the
stretch with the most alternation -- owner changes between neighbouring chunks
plus edges of free holes -- and paints it large: each cell a block in its
thread's hue, a white gap at the start of every chunk, free holes light with a
black outline (so holes read without relying on hue).

Everything here is numpy on the per-cell state and owner arrays the engine
reports (``engine.CellState``, owners = slot number, ``OWNER_COORDINATOR``,
``OWNER_NONE``); colours come in as RGB arrays, so the module stays Qt-free.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from engine import CELL_BYTES, OWNER_COORDINATOR, CellState

#: The zoom shows 8 KiB: 512 cells in 4 rows of 128 (a 3-cell chunk is then
#: 15 image pixels wide, visible from the back of a hall, and the strip leaves
#: the map most of the height).
ZOOM_CELLS = 512
ROW_CELLS = 128
CELL_W = 5  # image pixels per cell, across
CELL_H = 14  # image pixels per cell, down
ROW_GAP = 3  # white pixels between rows
#: A new region must beat the one on screen by this factor before the zoom moves
#: (the busiest window changes almost every frame; a jumping zoom is unreadable).
STICKY = 1.25

_FREE = -1  # label of a free cell
_SLIVER = -2  # label of a lost sliver


@dataclasses.dataclass(frozen=True)
class Region:
    """A stretch of the heap and what interleaves in it."""

    start_cell: int
    cells: int
    alternations: int  # owner changes between neighbouring worker / free cells
    threads: int  # distinct worker slots owning cells in it
    free_holes: int  # runs of free cells that start inside it

    @property
    def score(self) -> int:
        """How much interleaving there is to see: owner changes x threads present."""
        return self.alternations * self.threads

    @property
    def offset(self) -> int:
        return self.start_cell * CELL_BYTES

    @property
    def size(self) -> int:
        return self.cells * CELL_BYTES


def cell_labels(states: np.ndarray, owners: np.ndarray) -> np.ndarray:
    """One int per cell: the owner of used cells, _FREE for free ones and
    _SLIVER for lost slivers (they keep an owner, but hold nobody's tree)."""
    labels = owners.astype(np.int16)
    labels[states == CellState.FREE] = _FREE
    labels[states == CellState.SLIVER] = _SLIVER
    return labels


def _changes_sum(labels: np.ndarray) -> np.ndarray:
    """csum[i]: label changes between neighbouring cells among cells 0..i.

    The coordinator's block copies and argument records sit between the
    workers' chunks too, but the story is the workers' trees: a change that
    touches a coordinator cell does not count.
    """
    a, b = labels[:-1], labels[1:]
    counted = (a != b) & (a != OWNER_COORDINATOR) & (b != OWNER_COORDINATOR)
    csum = np.zeros(len(labels), dtype=np.int64)
    np.cumsum(counted, out=csum[1:])
    return csum


def _region(labels: np.ndarray, csum: np.ndarray, start: int, cells: int) -> Region:
    end = min(start + cells, len(labels))
    seg = labels[start:end]
    used = seg[(seg >= 0) & (seg < OWNER_COORDINATOR)]
    free = seg == _FREE
    # A hole starts where a free cell follows a non-free one (or opens the window).
    holes = int(np.count_nonzero(free[1:] & ~free[:-1])) + int(bool(len(free) and free[0]))
    return Region(
        start_cell=start,
        cells=cells,
        alternations=int(csum[end - 1] - csum[start]) if end > start else 0,
        threads=len(np.unique(used)),
        free_holes=holes,
    )


def window_threads(labels: np.ndarray, starts: np.ndarray, cells: int) -> np.ndarray:
    """Distinct worker slots owning cells in each window (slivers and free cells aside)."""
    block = math.gcd(cells, int(starts[1] - starts[0])) if len(starts) > 1 else cells
    blocks = -(-len(labels) // block)
    slot = (labels >= 0) & (labels < OWNER_COORDINATOR)
    where = np.flatnonzero(slot)
    # present[b, owner]: some cell of block b belongs to that worker slot.
    owners = labels[where]
    width = int(owners.max()) + 1 if len(owners) else 1  # slots in use, not all 254
    present = np.zeros((blocks + 1, width), dtype=np.int32)
    present[where // block, owners] = 1
    # Windows are whole blocks: a cumulative sum over blocks counts each slot's blocks.
    csum = np.zeros_like(present)
    np.cumsum(present[:-1], axis=0, out=csum[1:])
    first = starts // block
    last = np.minimum(first + cells // block, blocks)
    return np.count_nonzero(csum[last] - csum[first], axis=1)


def window_scores(
    labels: np.ndarray, csum: np.ndarray, cells: int, step: int
) -> tuple[np.ndarray, np.ndarray]:
    """(starts, scores) of every window of ``cells`` cells, ``step`` apart.

    Score: owner changes times the threads present, so that a dozen threads'
    chunks side by side beat two threads taking turns (both alternate; the
    first is the pile-up the zoom is for)."""
    last = max(len(csum) - cells, 0)
    starts = np.arange(0, last + 1, step, dtype=np.int64)
    ends = np.minimum(starts + cells - 1, len(csum) - 1)
    return starts, (csum[ends] - csum[starts]) * window_threads(labels, starts, cells)


def _best(
    states: np.ndarray, owners: np.ndarray, cells: int, step: int | None, until: int = 0
) -> tuple[Region, np.ndarray, np.ndarray]:
    """The best region, and the labels and change sums of the cells looked at:
    the heap up to one window past its last used cell (the rest is free, it
    scores nothing) and at least up to cell ``until``."""
    if len(states) != len(owners):
        raise ValueError(f"{len(states)} cell states but {len(owners)} owners")
    if len(states) == 0:
        raise ValueError("an empty heap has no region to zoom on")
    cells = max(1, min(cells, len(states)))
    step = max(1, step if step is not None else cells // 4)
    # A baseline heap fills from its start: skipping the free tail makes a
    # frame several times cheaper (the engine shares the cores with the GUI).
    used = np.flatnonzero(states != CellState.FREE)
    end = (int(used[-1]) + 1 if len(used) else 0) + cells
    end = min(len(states), max(end, until, cells))
    states, owners = states[:end], owners[:end]
    labels = cell_labels(states, owners)
    csum = _changes_sum(labels)
    starts, scores = window_scores(labels, csum, cells, step)
    best = int(starts[int(np.argmax(scores))])  # argmax: the first (lowest) of equals
    return _region(labels, csum, best, cells), labels, csum


def busiest_region(
    states: np.ndarray, owners: np.ndarray, cells: int = ZOOM_CELLS, step: int | None = None
) -> Region:
    """The window of ``cells`` cells (starting at a multiple of ``step``, a
    quarter window by default) with the highest :attr:`Region.score`; the
    lowest offset wins a tie, and an empty heap gives the first window."""
    return _best(states, owners, cells, step)[0]


class ZoomTracker:
    """Picks the region to zoom on frame after frame, moving only for a clearly busier one."""

    def __init__(self, cells: int = ZOOM_CELLS, step: int | None = None):
        self.cells = cells
        self.step = step
        self.region: Region | None = None

    def reset(self) -> None:
        self.region = None

    def update(self, states: np.ndarray, owners: np.ndarray) -> Region:
        current = self.region
        until = current.start_cell + current.cells if current is not None else 0
        best, labels, csum = _best(states, owners, self.cells, self.step, until)
        if current is not None and current.cells == best.cells:
            now = _region(labels, csum, current.start_cell, current.cells)
            if best.score <= now.score * STICKY:
                self.region = now
                return now
        self.region = best
        return best


def describe(region: Region) -> str:
    """The zoom's title: where it is and what interleaves there."""
    end = region.offset + region.size
    where = f"Zoom 0x{region.offset:05X}–0x{end:05X}"
    if region.threads >= 2:
        what = f"{region.threads} threads' trees interleaved"
    elif region.threads == 1:
        what = "one thread's chunks"
    else:
        what = "nothing allocated here now"
    holes = region.free_holes
    if holes:
        what += f", {holes:,} free {'hole' if holes == 1 else 'holes'}"
    return f"{where}: {what}"


@dataclasses.dataclass(frozen=True)
class ZoomColours:
    """RGB (uint8) colours of the zoom."""

    slots: np.ndarray  # (hues, 3): one per thread slot, cycled
    coordinator: np.ndarray  # (3,)
    free: np.ndarray  # (3,) inside a hole
    outline: np.ndarray  # (3,) the hole's outline
    sliver: np.ndarray  # (3,)
    gap: np.ndarray  # (3,) between chunks and rows
    reserved_tint: float = 0.3  # pools reserved but unused: this much hue on white


def zoom_geometry(cells: int = ZOOM_CELLS) -> tuple[int, int]:
    """(width, height) of the zoom image in pixels."""
    rows = -(-cells // ROW_CELLS)
    return ROW_CELLS * CELL_W, rows * CELL_H + (rows - 1) * ROW_GAP


def cell_origin(index: int) -> tuple[int, int]:
    """Top-left image pixel (x, y) of the ``index``-th cell of the zoom."""
    row, col = divmod(index, ROW_CELLS)
    return col * CELL_W, row * (CELL_H + ROW_GAP)


def zoom_image(
    states: np.ndarray, owners: np.ndarray, region: Region, colours: ZoomColours
) -> np.ndarray:
    """The region as an RGB image (height, width, 3), rows of ROW_CELLS cells."""
    width, height = zoom_geometry(region.cells)
    rows = -(-region.cells // ROW_CELLS)
    n = rows * ROW_CELLS
    st = np.full(n, 255, dtype=np.int16)  # 255: past the arena's end
    ow = np.zeros(n, dtype=np.int16)
    seg = slice(region.start_cell, min(region.start_cell + region.cells, len(states)))
    got = seg.stop - seg.start
    st[:got] = states[seg]
    ow[:got] = owners[seg]

    hue = colours.slots[ow % len(colours.slots)].astype(np.float64)
    is_slot = ow < OWNER_COORDINATOR
    rgb = np.empty((n, 3), dtype=np.float64)
    rgb[:] = colours.gap
    used = (st == CellState.HEADER) | (st == CellState.GLOBAL) | (st == CellState.POOL_USED)
    rgb[used] = np.where(is_slot[used, None], hue[used], colours.coordinator)
    reserved = st == CellState.POOL_RESERVED
    rgb[reserved] = 255 + (hue[reserved] - 255) * colours.reserved_tint
    rgb[st == CellState.SLIVER] = colours.sliver
    free = st == CellState.FREE
    rgb[free] = colours.free

    # A white gap opens every chunk: its header cell, or a change of owner.
    labels = np.where(free, _FREE, ow)
    prev_label = np.concatenate([[-3], labels[:-1]])
    opens = (st == CellState.HEADER) | (used & (labels != prev_label))
    # Holes: a black outline around each run of free cells (hue-free, so
    # colour-blind viewers see them too); a row's ends close its holes.
    col = np.arange(n) % ROW_CELLS
    prev_free = np.concatenate([[False], free[:-1]]) & (col > 0)
    next_free = np.concatenate([free[1:], [False]]) & (col < ROW_CELLS - 1)

    def big(mask: np.ndarray) -> np.ndarray:
        """A per-cell mask as per-pixel blocks (rows * CELL_H, width)."""
        grid = mask.reshape(rows, ROW_CELLS)
        return np.repeat(np.repeat(grid, CELL_H, axis=0), CELL_W, axis=1)

    px = np.arange(width) % CELL_W
    py = np.arange(rows * CELL_H) % CELL_H
    left, right = px == 0, px == CELL_W - 1
    edge_y = ((py == 0) | (py == CELL_H - 1))[:, None]
    blocks = np.repeat(
        np.repeat(rgb.reshape(rows, ROW_CELLS, 3).astype(np.uint8), CELL_H, axis=0), CELL_W, axis=1
    )
    blocks[big(opens) & left] = colours.gap
    hole = big(free)
    outline = hole & (edge_y | (big(~prev_free) & left) | (big(~next_free) & right))
    blocks[outline] = colours.outline

    # Rows of cells are ROW_GAP pixels apart.
    image = np.empty((height, width, 3), dtype=np.uint8)
    image[:] = colours.gap
    for r in range(rows):
        y = r * (CELL_H + ROW_GAP)
        image[y : y + CELL_H] = blocks[r * CELL_H : (r + 1) * CELL_H]
    return image
