"""The guided demo's summary slide: every run, its speedup, the sentence to remember.

It lies over the banner and the views (a child of their parent, outside its
layout), so a long summary never makes the window taller than a 1280x720
projector; its type scales with the space it covers.  Backspace (the demo's
back) or Ctrl+D (the demo's end) take it away.
"""

from __future__ import annotations

import html

from PySide6.QtCore import QEvent, QObject, QRect, Qt
from PySide6.QtWidgets import QLabel, QWidget

from gui.demo import OVER, TAKEAWAY, DemoStepper

BACKGROUND = "#fff4d6"
BORDER = "#E69F00"
TEXT = "#1a1a1a"


def slide_html(demo: DemoStepper, width: int, height: int) -> str:
    """The slide as rich text, its type sized to fill ``width`` x ``height`` pixels
    (about 20 body lines high, and the widest row of the table across)."""
    unit = max(11.0, min(height / 20, width / 52))  # px: 1280x720 gets about 25 px
    cells = []
    for name, wall, locks, compared in demo.summary_rows():
        cells.append(
            "<tr>"
            f'<td style="padding-right:{unit:.0f}px"><b>{html.escape(name)}</b></td>'
            f'<td align="right" style="padding-right:{unit:.0f}px">{html.escape(wall)}</td>'
            f'<td align="right" style="padding-right:{unit:.0f}px">{html.escape(locks)}</td>'
            f"<td>{html.escape(compared)}</td>"
            "</tr>"
        )
    return (
        f'<div style="color:{TEXT}">'
        f'<p style="font-size:{unit * 1.5:.0f}px"><b>What we saw</b></p>'
        f'<table style="font-size:{unit:.0f}px" cellspacing="{unit * 0.25:.0f}">'
        + "".join(cells)
        + "</table>"
        f'<p style="font-size:{unit * 1.2:.0f}px"><b>Remember:</b> {html.escape(TAKEAWAY)}</p>'
        f'<p style="font-size:{unit * 0.8:.0f}px">{html.escape(OVER)}  (← back)</p>'
        "</div>"
    )


class SummarySlide(QLabel):
    """The summary over ``cover``'s parent from ``cover``'s top down (see module)."""

    def __init__(self, cover: QWidget):
        parent = cover.parentWidget()
        assert parent is not None, "the banner must be in the window first"
        super().__init__(parent)
        self.setObjectName("demoSummary")
        self.cover = cover
        self.demo: DemoStepper | None = None
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setWordWrap(True)
        self.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.setAutoFillBackground(True)
        self.setStyleSheet(
            f"QLabel#demoSummary {{ background: {BACKGROUND}; border: 3px solid {BORDER};"
            " border-radius: 8px; padding: 16px; }"
        )
        parent.installEventFilter(self)
        self.setVisible(False)

    def show_summary(self, demo: DemoStepper) -> None:
        self.demo = demo
        self._place()
        self.setVisible(True)
        self.raise_()

    def hide_summary(self) -> None:
        self.demo = None
        self.setVisible(False)

    def _place(self) -> None:
        parent = self.parentWidget()
        if parent is None:
            return
        top = self.cover.geometry().top()
        margins = parent.contentsMargins()
        bottom = parent.height() - margins.bottom()
        rect = QRect(margins.left(), top, parent.width() - margins.left() - margins.right(), 0)
        rect.setBottom(max(top + 100, bottom - 1))
        self.setGeometry(rect)
        if self.demo is not None:
            self.setText(slide_html(self.demo, rect.width(), rect.height()))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if (
            watched is self.parentWidget()
            and event.type()
            in (
                QEvent.Type.Resize,
                QEvent.Type.LayoutRequest,
            )
            and self.isVisible()
        ):
            self._place()
        return False
