"""What the heap map says and draws for each strategy (no widgets here).

Baseline and pooled share the map's original words; size classes colour their
slabs by class (a ramp from the smallest class, dark, to the largest, yellow:
the legend reads as a scale); batched shows each thread's cached chunks in a
lighter shade of its hue; malloc and the production allocators allocate in
memory of their own, so their map says so instead of staying empty.
"""

from __future__ import annotations

from engine import CellState, Strategy
from gui.strategy_text import SIZE_CLASSES

#: Slab cells by size class index (16 B .. 2048 B): viridis in 9 steps, dark to light,
#: so a slab's colour reads as its size and never as a thread's hue.
CLASS_COLOURS = (
    "#440154",
    "#472d7b",
    "#3b528b",
    "#2c728e",
    "#21918c",
    "#28ae80",
    "#5ec962",
    "#addc30",
    "#fde725",
)
#: Cached chunks: the thread's hue at this share on white (pool reserve is 0.30).
CACHED_TINT = 0.55

STATE_NAMES = {
    CellState.FREE: "free",
    CellState.HEADER: "chunk header",
    CellState.GLOBAL: "allocated from the shared region (locked)",
    CellState.POOL_RESERVED: "pool, reserved but unused",
    CellState.POOL_USED: "pool, used (no lock)",
    CellState.SLIVER: "lost 16-byte sliver",
    CellState.SLAB: "slab",
    CellState.CACHED: "free chunk cached by a thread (reused without a lock)",
}

#: Cells that hold something (the fullest frame is the one with most of them).
IN_USE = (CellState.GLOBAL, CellState.POOL_USED, CellState.SLAB, CellState.CACHED)

_DESCRIPTION = {
    Strategy.SIZECLASS: "slabs carved per size class, one lock per class",
    Strategy.BATCHED: "one shared heap, free chunks cached per thread",
}

_REGION = {
    Strategy.SIZECLASS: "slabs come from one shared region (its own lock); "
    "each size class has its own lock and free list",
    Strategy.BATCHED: "one shared region, one lock: a thread's cached chunks "
    "are reused without taking it",
}


def has_map(strategy: Strategy | None) -> bool:
    """False for malloc and the production allocators: their memory is their own."""
    return strategy is None or strategy.uses_arena


def no_map_text(strategy: Strategy) -> str:
    """The message shown instead of the map ('no heap map: malloc's memory is its own')."""
    return f"no heap map: {strategy.label}'s memory is its own"


def no_map_hint(strategy: Strategy) -> str:
    """The big message over the empty map."""
    return f"No heap map:\n{strategy.label}'s memory is its own"


def no_map_legend(strategy: Strategy) -> list[str]:
    """The legend's entries (wrapped to the map's width, each kept whole)."""
    return [
        f"{strategy.label} allocates in memory of its own:",
        "its chunks are out of heapscope's sight;",
        "the lanes and charts still show the run",
    ]


def title_for(title: str, strategy: Strategy | None) -> str:
    """The map's title: the caller's, with what this strategy's map shows after its ': '
    for the strategies the caller does not describe."""
    if strategy is None or strategy in (Strategy.BASELINE, Strategy.POOLED, Strategy.SINGLE):
        return title
    head = title.split(": ", 1)[0]
    if not has_map(strategy):
        return f"{head}: {no_map_text(strategy)}"
    return f"{head}: {_DESCRIPTION[strategy]}"


def region_text(strategy: Strategy) -> str:
    """The label in the corner of a heap without pools."""
    return _REGION.get(strategy, "the whole heap is one shared region: one free list, one lock")


def describe(state: int, owner: int) -> str | None:
    """The tooltip's words for a cell whose owner is not a thread slot (a slab's
    owner is its size class), or None when the map's usual words apply."""
    if state == CellState.SLAB:
        if 0 <= owner < len(SIZE_CLASSES):
            return f"slab of size class {SIZE_CLASSES[owner]} B (its own lock)"
        return "slab"
    return None
