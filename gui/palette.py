"""Colours and fonts shared by every view, chosen to survive a projector.

One hue per thread slot (Kelly's colours of maximum contrast, re-ordered so
neighbouring slots differ), the same hue in the heap map and, for runs, warm
colours for the baseline and cool ones for the pooled strategy in the charts,
the buttons and the table.
"""

from __future__ import annotations

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

#: Chart / button colours by strategy; later runs of the same strategy step through.
STRATEGY_COLOURS = {
    # Okabe-Ito colour-blind-safe set (Okabe & Ito 2008): warm for baseline, cool for pooled.
    "baseline": ("#D55E00", "#E69F00", "#CC79A7", "#F0E442"),
    "pooled": ("#0072B2", "#009E73", "#56B4E9", "#000000"),
    "single": ("#404040", "#7f7f7f"),
    "floor": ("#bcbd22",),
}


def tint(colour: str | QColor, amount: float) -> QColor:
    """``amount`` of ``colour`` mixed into white (0 = white, 1 = the colour)."""
    c = QColor(colour)
    return QColor(
        round(255 + (c.red() - 255) * amount),
        round(255 + (c.green() - 255) * amount),
        round(255 + (c.blue() - 255) * amount),
    )


def strategy_colour(strategy: str, index: int = 0) -> QColor:
    options = STRATEGY_COLOURS.get(strategy, ("#333333",))
    return QColor(options[index % len(options)])


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
