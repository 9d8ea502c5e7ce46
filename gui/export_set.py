"""One export: every PNG, CSV, the trace and the handout PDF into a folder, as a set.

The set never replaces earlier files silently: see gui.export_names for the rule
(the next free number, the same for every file of the set, unless ``overwrite``).
"""

from __future__ import annotations

import os
import pathlib

from gui.charts import CHART_KINDS
from gui.export import (
    CHART_SIZE,
    DASHBOARD_SIZE,
    FILE_NAMES,
    SERIES_HEADER,
    ExportSource,
    atomic_save_image,
    atomic_write_bytes,
    atomic_write_csv,
    last_timed_row,
    render_breakdown,
    render_chart,
    render_dashboard,
    render_heap_map,
    render_timeline,
    series_rows,
    trace_bytes,
)
from gui.export_names import set_names
from gui.handout_render import handout_bytes
from gui.results_table import HEADERS


def export_all(
    folder: str | os.PathLike,
    source: ExportSource,
    dashboard_size=DASHBOARD_SIZE,
    chart_size=CHART_SIZE,
    overwrite: bool = False,
) -> list[pathlib.Path]:
    """Writes the handout, every PNG and CSV and the trace of the last finished run that
    has a timeline (an empty trace when none has) into ``folder`` (created if missing);
    returns the paths, the handout and the dashboard first.

    Raises
    ------
    OSError
        When the folder cannot be created or a file cannot be written.
    """
    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    names = {kind: folder / name for kind, name in set_names(folder, FILE_NAMES, overwrite).items()}
    written = [
        atomic_write_bytes(names["handout"], handout_bytes(source)),
        atomic_save_image(names["dashboard"], render_dashboard(source, dashboard_size)),
    ]
    for kind in CHART_KINDS:
        written.append(atomic_save_image(names[kind], render_chart(kind, source, chart_size)))
    written.append(atomic_save_image(names["heap_map"], render_heap_map(source, chart_size)))
    written.append(
        atomic_save_image(names["heap_map_peak"], render_heap_map(source, chart_size, peak=True))
    )
    written.append(atomic_save_image(names["timeline"], render_timeline(source, chart_size)))
    written.append(atomic_save_image(names["breakdown"], render_breakdown(source, chart_size)))
    timed = last_timed_row(source.results)
    written.append(
        atomic_write_bytes(names["trace"], trace_bytes(None if timed is None else timed.result))
    )
    written.append(atomic_write_csv(names["series"], SERIES_HEADER, series_rows(source.traces)))
    written.append(atomic_write_csv(names["results"], list(HEADERS), source.results.table_values()))
    return written


__all__ = ["export_all"]
