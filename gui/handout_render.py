"""The handout of an export: its pages' pictures rendered from the export's views.

Every picture is drawn fresh, off screen, at the shape the page leaves for it
(gui.handout) from the same :class:`gui.export.ExportSource` as the PNGs, so the
handout shows what the PNGs show.
"""

from __future__ import annotations

from PySide6.QtGui import QImage

from gui import handout_text
from gui.charts import CHART_KINDS
from gui.export import (
    ExportSource,
    breakdown_body,
    chart_body,
    heap_body,
    render_dashboard,
    render_table,
    timeline_body,
)
from gui.handout import Stamp, handout_pdf

#: The views' fonts on paper (a picture's pixel is gui.handout.SCALE page dots).
FONT_SCALE = 1.3
TABLE_POINTS = 15.0


def _results_picture(source: ExportSource, width: int, height: int) -> QImage:
    """The results table, as tall as its rows (at most ``height``)."""
    rows = len(source.results.rows)
    table_h = min(height, 60 + 44 * max(1, rows))
    return render_table(source.results, width, table_h, point_size=TABLE_POINTS)


def render_view(source: ExportSource, kind: str, width: int, height: int) -> QImage:
    """One handout picture (``kind``: a :class:`gui.handout_text.Page` kind)."""
    if kind == "dashboard":
        return render_dashboard(source, (width, height), stamped=False)
    if kind in CHART_KINDS:
        return chart_body(kind, source, width, height, FONT_SCALE)
    if kind == "heap_map":
        return heap_body(source, width, height, FONT_SCALE * 0.9, peak=True)
    if kind.startswith("timeline#"):
        run_id = int(kind.partition("#")[2])
        row = next(r for r in source.results.rows if r.run_id == run_id)
        return timeline_body(source, width, height, FONT_SCALE, row)
    if kind == "breakdown":
        return breakdown_body(source, width, height, FONT_SCALE)
    if kind == "results":
        return _results_picture(source, width, height)
    raise ValueError(f"no handout view named '{kind}'")


def handout_pages(source: ExportSource) -> list[handout_text.Page]:
    """The pages of this export's handout: the lanes and the bars only when a run has them."""
    return handout_text.pages(source.results.rows)


def handout_bytes(
    source: ExportSource, machine: str | None = None, date: str | None = None
) -> bytes:
    """The whole handout PDF of ``source``."""
    stamp = Stamp(
        input_text=source.input_text,
        params_text=source.params_text,
        machine=machine if machine is not None else handout_text.machine_text(),
        date=date if date is not None else handout_text.date_text(),
    )
    return handout_pdf(
        handout_pages(source), lambda kind, w, h: render_view(source, kind, w, h), stamp
    )


__all__ = ["FONT_SCALE", "handout_bytes", "handout_pages", "render_view"]
