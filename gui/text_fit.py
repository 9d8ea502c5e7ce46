"""Fitting labels into a width: greedy line breaking of legend entries, and
titles broken at their natural pauses (": " then ", "), so nothing is clipped
at presentation sizes."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtGui import QFont, QFontMetricsF, QTextDocument


def pack_lines(widths: Sequence[float], available: float, gap: float) -> list[list[int]]:
    """Greedy line breaking: indices of items per line, each line at most
    ``available`` wide (an item wider than the line gets a line of its own)."""
    lines: list[list[int]] = []
    used = 0.0
    for i, w in enumerate(widths):
        if lines and used + gap + w <= available:
            lines[-1].append(i)
            used += gap + w
        else:
            lines.append([i])
            used = w
    return lines


def html_width(html: str, point_size: float) -> float:
    """How wide a line of rich text is drawn at ``point_size`` (its default size)."""
    doc = QTextDocument()
    font = QFont()
    font.setPointSizeF(point_size)
    doc.setDefaultFont(font)
    doc.setDocumentMargin(0)
    doc.setHtml(html)
    return float(doc.idealWidth())


def wrap_html(entries: Sequence[str], available: float, point_size: float) -> str:
    """Rich-text entries joined into lines that each fit ``available`` pixels."""
    gap = html_width("&nbsp;&nbsp;&nbsp;", point_size)
    widths = [html_width(e, point_size) for e in entries]
    lines = pack_lines(widths, available, gap)
    return "<br>".join("&nbsp;&nbsp;&nbsp;".join(entries[i] for i in line) for line in lines)


def break_title(title: str, font: QFont, available: float) -> list[str]:
    """``title`` as one line if it fits, else broken after its first ": ", then
    at ", " inside the parts still too wide, then at spaces (only a single word
    wider than the line can still be wider)."""
    metrics = QFontMetricsF(font)
    if metrics.horizontalAdvance(title) <= available:
        return [title]
    head, sep, tail = title.partition(": ")
    parts = [head + sep.rstrip(), tail] if sep else [title]
    out: list[str] = []
    for part in parts:
        if metrics.horizontalAdvance(part) <= available or ", " not in part:
            out += break_words(part, font, available)
            continue
        words = part.split(", ")
        widths = [metrics.horizontalAdvance(w + ",") for w in words]
        for line in pack_lines(widths, available, metrics.horizontalAdvance(" ")):
            text = ", ".join(words[i] for i in line) + ("," if line[-1] < len(words) - 1 else "")
            out += break_words(text, font, available)  # a clause still too wide: at spaces
    return out


def break_words(text: str, font: QFont, available: float) -> list[str]:
    """``text`` broken at spaces into lines at most ``available`` wide (a single
    word wider than that keeps a line of its own)."""
    metrics = QFontMetricsF(font)
    words = text.split(" ")
    widths = [metrics.horizontalAdvance(w) for w in words]
    lines = pack_lines(widths, available, metrics.horizontalAdvance(" "))
    return [" ".join(words[i] for i in line) for line in lines]


__all__ = ["break_title", "break_words", "html_width", "pack_lines", "wrap_html"]
