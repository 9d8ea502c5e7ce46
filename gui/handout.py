"""The handout: one A4 landscape PDF page per view, to print or take home.

Each page has the view's title in large type, the view itself (rendered to the
shape of the space left for it, so nothing is squashed), the sentences that say
what it shows, and a footer stamped with the input, the runs' parameters, the
machine (cores, CPU model, system) and the date.  Written with Qt's own
QPdfWriter into memory; the caller writes the bytes atomically like every export.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMarginsF, QRect, QRectF, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QImage,
    QPageLayout,
    QPageSize,
    QPainter,
    QPdfWriter,
    QPen,
)

from gui.handout_text import Page

#: Dots per inch of the page's coordinates (pictures are placed, not resampled, at this).
DPI = 300
MARGIN_MM = 12.0
TITLE_PT = 26.0
TEXT_PT = 14.0
FOOTER_PT = 10.0
INK = QColor("#101820")
MUTED = QColor("#4a5663")
RULE = QColor("#1f2a36")
FRAME = QColor("#c5ccd3")
#: Page dots per picture pixel: a picture's pixel is 1/143 inch on paper.
SCALE = 2.1

#: Renders one view (Page.kind) at exactly width x height pixels.
Renderer = Callable[[str, int, int], QImage]


@dataclasses.dataclass(frozen=True)
class Stamp:
    """What every page's footer says."""

    input_text: str
    params_text: str
    machine: str
    date: str


def _font(points: float, bold: bool = False) -> QFont:
    f = QFont()
    f.setPointSizeF(points)
    f.setBold(bold)
    return f


def _px(mm: float) -> int:
    return int(round(mm / 25.4 * DPI))


def _text_height(painter: QPainter, font: QFont, width: float, text: str) -> float:
    metrics = QFontMetricsF(font, painter.device())
    flags = int(Qt.TextFlag.TextWordWrap)
    return metrics.boundingRect(QRectF(0, 0, width, 1e6), flags, text).height()


def _draw_text(painter: QPainter, rect: QRectF, font: QFont, colour: QColor, text: str) -> None:
    painter.setFont(font)
    painter.setPen(colour)
    painter.drawText(rect, int(Qt.AlignmentFlag.AlignLeft | Qt.TextFlag.TextWordWrap), text)


def _draw_page(
    painter: QPainter,
    area: QRect,
    page: Page,
    number: int,
    count: int,
    render: Renderer,
    stamp: Stamp,
) -> None:
    """One page inside ``area`` (the printable rectangle, in device pixels)."""
    gap = _px(4)
    left, top, width = float(area.left()), float(area.top()), float(area.width())

    # Title, with "heapscope handout · page n of N" on the right.
    title_font, small = _font(TITLE_PT, bold=True), _font(FOOTER_PT)
    title_h = QFontMetricsF(title_font, painter.device()).height()
    corner = f"heapscope handout · page {number} of {count}"
    corner_w = QFontMetricsF(small, painter.device()).horizontalAdvance(corner)
    title_w = width - corner_w - gap
    painter.setFont(title_font)
    painter.setPen(INK)
    painter.drawText(
        QRectF(left, top, title_w, title_h),
        int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
        QFontMetricsF(title_font, painter.device()).elidedText(
            page.title, Qt.TextElideMode.ElideRight, title_w
        ),
    )
    painter.setFont(small)
    painter.setPen(MUTED)
    painter.drawText(
        QRectF(left, top, width, title_h),
        int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
        corner,
    )
    y = top + title_h + gap / 2
    painter.setPen(QPen(RULE, _px(0.6)))
    painter.drawLine(int(left), int(y), int(left + width), int(y))
    y += gap

    # Footer: input and runs, then machine and date.
    footer = (
        f"Input: {stamp.input_text}.  {stamp.params_text}\nMachine: {stamp.machine}.  {stamp.date}"
    )
    footer_h = _text_height(painter, small, width, footer)
    bottom = area.bottom() - footer_h
    _draw_text(painter, QRectF(left, bottom, width, footer_h), small, MUTED, footer)
    bottom -= gap

    # The sentences go right under the view; the view gets the rest of the page,
    # rendered to that shape at 1/SCALE of the page's dots (its fonts come out near
    # 10-12 pt on paper).
    text_font = _font(TEXT_PT)
    text = "\n".join(page.lines)
    text_h = _text_height(painter, text_font, width, text) if text else 0.0
    box_w, box_h = int(width), int(bottom - y - (text_h + gap if text else 0))
    if box_h >= _px(20):
        image = render(page.kind, max(1, int(box_w / SCALE)), max(1, int(box_h / SCALE)))
        shown_w = min(box_w, int(image.width() * SCALE))
        shown_h = min(box_h, int(image.height() * SCALE))
        target = QRect(int(left + (box_w - shown_w) / 2), int(y), shown_w, shown_h)
        painter.drawImage(target, image)
        painter.setPen(QPen(FRAME, _px(0.3)))
        painter.drawRect(target)
        y += shown_h + gap
    if text:
        _draw_text(painter, QRectF(left, y, width, text_h), text_font, INK, text)


def handout_pdf(pages: Sequence[Page], render: Renderer, stamp: Stamp) -> bytes:
    """The PDF document's bytes: one page per ``Page``, in order.

    Raises
    ------
    OSError
        When Qt cannot start painting the PDF.
    """
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    writer = QPdfWriter(buffer)
    writer.setResolution(DPI)
    writer.setTitle("heapscope handout")
    writer.setCreator("heapscope")
    writer.setPageLayout(
        QPageLayout(
            QPageSize(QPageSize.PageSizeId.A4),
            QPageLayout.Orientation.Landscape,
            QMarginsF(MARGIN_MM, MARGIN_MM, MARGIN_MM, MARGIN_MM),
            QPageLayout.Unit.Millimeter,
        )
    )
    painter = QPainter()
    if not painter.begin(writer):
        raise OSError("could not start the handout PDF")
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        area = writer.pageLayout().paintRectPixels(DPI)
        area.moveTo(0, 0)  # the painter's origin is the printable area's corner
        for i, page in enumerate(pages):
            if i:
                writer.newPage()
            _draw_page(painter, area, page, i + 1, len(pages), render, stamp)
    finally:
        painter.end()
    buffer.close()
    return bytes(data.data())


__all__ = ["DPI", "Renderer", "Stamp", "handout_pdf"]
