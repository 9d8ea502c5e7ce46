"""Export: stamped PNGs of the asked size with real content, CSVs equal to the table."""

import csv
import os

import numpy as np
import pytest
from PySide6.QtGui import QImage

from engine import COUNTER_NAMES
from gui import export
from gui.main_window import settings
from gui.results_table import HEADERS
from tests.conftest import EXPECTED
from tests.gui.helpers import open_vector, run_and_wait


def pixels(path):
    image = QImage(str(path)).convertToFormat(QImage.Format_RGB32)
    ptr = image.constBits()
    data = np.frombuffer(ptr, dtype=np.uint32, count=image.width() * image.height())
    return image.width(), image.height(), data


@pytest.fixture
def two_runs(window, qtbot):
    open_vector(window)
    run_and_wait(qtbot, window, window.baseline_button)
    run_and_wait(qtbot, window, window.pooled_button)
    return window


def test_export_writes_every_file_at_the_asked_size(two_runs, tmp_path):
    window = two_runs
    out = tmp_path / "slides" / "week3"
    written = window.export_to(out, dashboard_size=(1280, 720), chart_size=(960, 540))
    assert sorted(p.name for p in written) == sorted(export.FILE_NAMES.values())
    assert sorted(os.listdir(out)) == sorted(export.FILE_NAMES.values())  # no temp files left
    for kind, name in export.FILE_NAMES.items():
        if not name.endswith(".png"):
            continue
        width, height, data = pixels(out / name)
        assert (width, height) == ((1280, 720) if kind == "dashboard" else (960, 540)), name
        colours = np.unique(data)
        assert len(colours) > 20, name  # not a single colour: real content
        # The stamp strip across the top is the dark header colour.
        top_left = QImage(str(out / name)).pixelColor(2, 2).name()
        assert top_left == "#1f2a36", name
    # Curves are drawn in the strategies' colours.
    _, _, locks = pixels(out / "heapscope_locks.png")
    assert (locks == 0xFFD55E00).any() and (locks == 0xFF0072B2).any()
    assert settings().value("export/last_dir") == str(out)


def test_default_dashboard_is_slide_sized(two_runs, tmp_path):
    image = export.render_dashboard(two_runs.files.export_source())
    assert (image.width(), image.height()) == (1920, 1080)


def test_results_csv_rows_equal_the_table(two_runs, tmp_path):
    window = two_runs
    window.export_to(tmp_path)
    with open(tmp_path / export.FILE_NAMES["results"], newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows[0] == list(HEADERS)
    table = [[str(v) for v in row] for row in window.results.table_values()]
    assert rows[1:] == table
    exp = EXPECTED["random_64k.bin"]
    by_header = [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]
    assert [r["Strategy"] for r in by_header] == ["baseline", "pooled"]
    assert [int(r["Lock acquisitions"]) for r in by_header] == [
        exp["lock_acquisitions_baseline"],
        exp["lock_acquisitions_pooled"],
    ]
    assert {int(r["Signature (✓ = reference)"]) for r in by_header} == {exp["signature"]}
    assert float(by_header[1]["Speedup (×)"]) > 0


def test_series_csv_has_every_sample_of_every_run(two_runs, tmp_path):
    window = two_runs
    window.export_to(tmp_path)
    with open(tmp_path / export.FILE_NAMES["series"], newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["run", "strategy", "label", "time_s", "mb_per_s", *COUNTER_NAMES]
    for trace in window.charts.traces:
        mine = [r for r in rows[1:] if r[0] == str(trace.run_id)]
        assert len(mine) == len(trace.series["time_s"])
        locks = [int(r[5 + COUNTER_NAMES.index("lock_acquisitions")]) for r in mine]
        assert locks == trace.series["lock_acquisitions"].tolist()
        assert {r[1] for r in mine} == {trace.strategy}


def test_atomic_write_replaces_and_leaves_no_temp(tmp_path):
    target = tmp_path / "a.csv"
    target.write_text("old")
    export.atomic_write_csv(target, ["x"], [[1], [2]])
    assert target.read_text() == "x\n1\n2\n"
    assert os.listdir(tmp_path) == ["a.csv"]


def test_export_to_an_unwritable_place_is_an_oserror(two_runs, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OSError):
        two_runs.export_to(blocker / "sub")
