"""The report's PDF: the same HTML laid out by QTextDocument on A4 pages (QPdfWriter)."""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMarginsF, QUrl
from PySide6.QtGui import QFont, QImage, QPageLayout, QPageSize, QPdfWriter, QTextDocument

DPI = 150
MARGIN_MM = 12.0
POINTS = 8.0  # the tables' widest rows fit an A4 page's width


def report_pdf(page_html: str, images: Mapping[str, QImage], title: str) -> bytes:
    """The PDF's bytes.  ``images``: each img src in ``page_html`` -> its picture.

    Raises
    ------
    OSError
        When Qt cannot lay out the PDF.
    """
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    writer = QPdfWriter(buffer)
    writer.setResolution(DPI)
    writer.setTitle(title)
    writer.setCreator("heapscope")
    writer.setPageLayout(
        QPageLayout(
            QPageSize(QPageSize.PageSizeId.A4),
            QPageLayout.Orientation.Portrait,
            QMarginsF(MARGIN_MM, MARGIN_MM, MARGIN_MM, MARGIN_MM),
            QPageLayout.Unit.Millimeter,
        )
    )
    document = QTextDocument()
    for name, image in images.items():
        document.addResource(QTextDocument.ResourceType.ImageResource, QUrl(name), image)
    font = QFont("DejaVu Sans")
    font.setStyleHint(QFont.StyleHint.SansSerif)
    font.setPointSizeF(POINTS)
    document.setDefaultFont(font)
    document.setHtml(page_html)
    document.print_(writer)
    buffer.close()
    pdf = bytes(data.data())
    if not pdf.startswith(b"%PDF"):
        raise OSError("Qt produced no PDF")
    return pdf


__all__ = ["report_pdf"]
