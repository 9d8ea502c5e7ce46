"""Colours and fonts shared by every view, chosen to survive a projector.

One hue per thread slot (Kelly's colours of maximum contrast, re-ordered so
neighbouring slots differ), the same hue in the heap map and, for runs, one hue
family per strategy (:func:`colour_for`): the Run buttons, the curves, the
table's strategy column and the status line all draw a run the same way.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont

#: One hue per thread slot T0, T1, ... (cycled past 20).
SLOT_COLOURS = (
    "#e6194b",
    "#3cb44b",
    "#4363d8",
    "#f58231",
    "#911eb4",
    "#00a3a3",
    "#f032e6",
    "#9a6324",
    "#808000",
    "#000075",
    "#d4a000",
    "#1f9e89",
    "#800000",
    "#5a5ae6",
    "#aa6e28",
    "#00b5e2",
    "#b3446c",
    "#6a8a00",
    "#e25822",
    "#604e97",
)

FREE = "#efefef"  # free chunks: almost the background, so allocations pop out
HEADER = "#9b9b9b"  # 16-byte chunk headers: mid grey dots between chunks
SLIVER = "#000000"  # lost 16-byte slivers: black, the only pure black
COORDINATOR = "#5d6d7e"  # the coordinator's block copies and argument records
OUTSIDE = "#ffffff"  # padding past the end of the arena
RESERVED_TINT = 0.30  # reserved-but-unused pool cells: 30 % hue on white

#: Run colours: one hue family per strategy family, used for the Run buttons, the
#: curves, the table's strategy column and the status line. Shades are ordered
#: (canonical, darker, lighter); every shade keeps >= 3:1 contrast on white (WCAG's
#: floor for graphics), and the canonical shades stay apart under protanopia,
#: deuteranopia and tritanopia (see :func:`simulate_cvd`). The family hues are
#: Okabe-Ito's where one fits (vermillion baseline, blue pooled, bluish green
#: sizeclass), then Tol's wine for batched; the system and production allocators
#: share a dark brown family, told apart by their first shade and dash.
STRATEGY_FAMILIES = {
    "baseline": ("#D55E00", "#8E2400", "#E34A33"),
    "pooled": ("#0072B2", "#003C7A", "#3B8ED6"),
    "sizeclass": ("#009E73", "#00604A", "#2E8B57"),
    "batched": ("#882255", "#55102F", "#B0407A"),
    "allocator": ("#6B4C00", "#3F2D00", "#866A3A"),
    "single": ("#333333", "#000000", "#6B6B6B"),
}
#: Strategy -> family (any engine.Strategy label; floor, the benchmark's, and
#: unknown ones share the single-threaded greys, set apart by their dash).
FAMILY_OF = {
    "baseline": "baseline",
    "pooled": "pooled",
    "sizeclass": "sizeclass",
    "batched": "batched",
    "malloc": "allocator",
    "mimalloc": "allocator",
    "jemalloc": "allocator",
    "tcmalloc": "allocator",
    "single": "single",
    "floor": "single",
}
#: Where a strategy starts in its family's (shade, dash) sequence, so the
#: allocators sharing a family never draw their first runs alike.
_FAMILY_OFFSET = {"mimalloc": 1, "jemalloc": 2, "tcmalloc": 3, "floor": 1}
_UNKNOWN_OFFSET = 2
#: Dash styles (Qt.PenStyle names) cycled per run; with 3 shades that is 12
#: distinct styles per strategy before anything repeats.
DASHES = ("solid", "dash", "dot", "dashdot")


@dataclasses.dataclass(frozen=True)
class RunStyle:
    """How one run is drawn everywhere: its colour and its line's dash style."""

    colour: str
    dash: str

    @property
    def key(self) -> tuple[str, str]:
        return self.colour.lower(), self.dash


def family(strategy: str) -> str:
    """The hue family of a strategy label ("malloc" -> "allocator")."""
    return FAMILY_OF.get(str(strategy).lower(), "single")


def colour_for(strategy: str, nth: int = 0) -> RunStyle:
    """The style of the ``nth`` run (0-based) of ``strategy``: the family's shade
    ``k % 3`` with dash ``k % 4`` (k = nth + the strategy's offset in its family),
    so successive runs of one strategy differ in shade AND dash, and no two of
    its first 12 runs look alike."""
    shades = STRATEGY_FAMILIES[family(strategy)]
    name = str(strategy).lower()
    k = nth + _FAMILY_OFFSET.get(name, 0 if name in FAMILY_OF else _UNKNOWN_OFFSET)
    return RunStyle(shades[k % len(shades)], DASHES[k % len(DASHES)])


#: Two same-dash colours closer than this (CIE76, worst vision type) read alike.
MIN_DISTANCE = 10.0


def alike(a: RunStyle, b: RunStyle) -> bool:
    """Whether two runs would be hard to tell apart (same dash, close colours)."""
    return a.dash == b.dash and colour_distance(a.colour, b.colour) < MIN_DISTANCE


def style_for(strategy: str, taken: Iterable[RunStyle]) -> RunStyle:
    """The next run of ``strategy`` in a window already drawing ``taken``: the
    first of :func:`colour_for`'s styles for it that is not alike any taken one
    (so a removed run's style is reused, and allocators sharing a family, or a
    light vermillion next to a brown, never draw two runs alike)."""
    taken = list(taken)
    cycle = len(DASHES) * len(STRATEGY_FAMILIES[family(strategy)])
    for nth in range(cycle):
        style = colour_for(strategy, nth)
        if not any(alike(style, other) for other in taken):
            return style
    return colour_for(strategy, len(taken))  # more runs than styles: cycle


def strategy_colour(strategy: str, index: int = 0) -> QColor:
    """The colour of the ``index``-th run of ``strategy`` (see :func:`colour_for`)."""
    return QColor(colour_for(strategy, index).colour)


def button_colour(strategy: str) -> str:
    """A strategy's Run button: its family's canonical shade."""
    return STRATEGY_FAMILIES[family(strategy)][0]


def pen_style(dash: str) -> Qt.PenStyle:
    """A :data:`DASHES` name as a Qt pen style."""
    return {
        "solid": Qt.PenStyle.SolidLine,
        "dash": Qt.PenStyle.DashLine,
        "dot": Qt.PenStyle.DotLine,
        "dashdot": Qt.PenStyle.DashDotLine,
    }.get(dash, Qt.PenStyle.SolidLine)


#: Machado, Oliveira & Fernandes (2009) full-severity matrices, on linear RGB.
CVD_MATRICES = {
    "protanopia": (
        (0.152286, 1.052583, -0.204868),
        (0.114503, 0.786281, 0.099216),
        (-0.003882, -0.048116, 1.051998),
    ),
    "deuteranopia": (
        (0.367322, 0.860646, -0.227968),
        (0.280085, 0.672501, 0.047413),
        (-0.011820, 0.042940, 0.968881),
    ),
    "tritanopia": (
        (1.255528, -0.076749, -0.178779),
        (-0.078411, 0.930809, 0.147602),
        (0.004733, 0.691367, 0.303900),
    ),
}


def _linear(v: float) -> float:
    return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4


def _lab(lin: tuple[float, float, float]) -> tuple[float, float, float]:
    """CIELAB (D65) of a linear sRGB triple."""
    r, g, b = (min(1.0, max(0.0, c)) for c in lin)
    x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883

    def f(t: float) -> float:
        return t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116

    fx, fy, fz = f(x), f(y), f(z)
    return 116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)


def simulate_cvd(colour: str, kind: str) -> tuple[float, float, float]:
    """CIELAB of ``colour`` as seen with ``kind`` ("normal" or a CVD_MATRICES key)."""
    lin = tuple(_linear(v / 255) for v in rgb(colour))
    if kind != "normal":
        m = CVD_MATRICES[kind]
        lin = tuple(sum(m[i][j] * lin[j] for j in range(3)) for i in range(3))
    return _lab(lin)  # type: ignore[arg-type]


def colour_distance(a: str, b: str) -> float:
    """The smallest CIE76 distance of two colours over normal vision and the three
    dichromacies: how far apart they stay for everyone."""
    out = math.inf
    for kind in ("normal", *CVD_MATRICES):
        la, lb = simulate_cvd(a, kind), simulate_cvd(b, kind)
        out = min(out, math.dist(la, lb))
    return out


def tint(colour: str | QColor, amount: float) -> QColor:
    """``amount`` of ``colour`` mixed into white (0 = white, 1 = the colour)."""
    c = QColor(colour)
    return QColor(
        round(255 + (c.red() - 255) * amount),
        round(255 + (c.green() - 255) * amount),
        round(255 + (c.blue() - 255) * amount),
    )


def font(point_size: float = 12, bold: bool = False) -> QFont:
    f = QFont()
    f.setPointSizeF(point_size)
    f.setBold(bold)
    return f


#: Time states (engine.TIME_STATES order) in the timeline lanes and the breakdown
#: bars; Okabe-Ito hues, chosen so waiting reads from the back row and survives
#: colour blindness: lock_wait is vermillion (the baseline's colour), the lock's
#: holder black (the only near-zero luminance), compute blue (opposite hue to
#: vermillion on the blue-yellow axis every common colour blindness keeps),
#: idle almost the background so the busy states stand out.
TIME_STATE_COLOURS = {
    "compute": "#0072B2",
    "lock_wait": "#D55E00",
    "in_allocator": "#000000",
    "thread_start_join": "#CC79A7",
    "read": "#F0E442",
    "idle": "#E4E4E4",
}
#: What each state means, for tooltips (the state names stay as in the trace).
TIME_STATE_MEANINGS = {
    "compute": "counting, building and hashing the tree (pool bumps included)",
    "lock_wait": "waiting for the allocator lock",
    "in_allocator": "holding the lock inside umalloc/ufree: walking the free list",
    "thread_start_join": "the coordinator creating and joining worker threads",
    "read": "the coordinator reading the input",
    "idle": "no thread in this slot",
}
#: The legends' short gloss of the states that tell the story.
TIME_STATE_GLOSS = {"lock_wait": "waiting", "in_allocator": "holding the lock"}


def time_legend_html(point_size: float, title: str = "", glosses: bool = True) -> str:
    """A line of coloured swatches and state names for a QLabel (wraps when narrow)."""
    parts = [f"<b>{title}</b>"] if title else []
    for state, colour in TIME_STATE_COLOURS.items():
        gloss = TIME_STATE_GLOSS.get(state) if glosses else None
        parts.append(
            f'<span style="color:{colour}">&#9608;&#9608;</span>&nbsp;{state}'
            + (f" ({gloss})" if gloss else "")
        )
    return f'<span style="font-size:{point_size:.0f}pt">' + " &nbsp; ".join(parts) + "</span>"


def time_legend_tooltip() -> str:
    return "\n".join(f"{state}: {meaning}" for state, meaning in TIME_STATE_MEANINGS.items())


#: Lanes / bars whose state is unknown yet (the future of a live run).
NO_DATA = "#ffffff"


def rgb(colour: str) -> tuple[int, int, int]:
    """'#rrggbb' as (r, g, b)."""
    c = QColor(colour)
    return c.red(), c.green(), c.blue()


def relative_luminance(colour: str) -> float:
    """WCAG 2 relative luminance (0 black .. 1 white)."""

    def linear(v: int) -> float:
        s = v / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(v) for v in rgb(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a: str, b: str) -> float:
    """WCAG 2 contrast ratio of two colours (1 .. 21)."""
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def readable_on(colour: str, background: str, ratio: float = 4.5) -> str:
    """``colour``, darkened in steps until it has ``ratio`` contrast on ``background``
    (text in a run's colour must read: WCAG AA asks 4.5:1)."""
    c = QColor(colour)
    for _ in range(40):
        if contrast_ratio(c.name(), background) >= ratio:
            break
        c = QColor(round(c.red() * 0.92), round(c.green() * 0.92), round(c.blue() * 0.92))
    return c.name()
