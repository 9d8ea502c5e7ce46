"""Export: stamped PNGs of the asked size with real content, CSVs equal to the table."""

import csv
import os

import numpy as np
import pytest
from PySide6.QtGui import QImage

from engine import COUNTER_NAMES
from gui import export, export_names
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


# -- lanes, time breakdown, trace ----------------------------------------------


def baseline_like(result):
    """``result`` with a crafted timeline of 20 workers and the coordinator over 1 s:
    every worker waits for the lock, but T7 holds it (in_allocator) from 0.2 s on;
    the coordinator starts and joins threads."""
    import dataclasses

    from engine import Timeline
    from engine.timeline import BUSY_STATES

    t = np.arange(1, 101) * 0.01
    busy = np.zeros((100, 21, len(BUSY_STATES)))
    wait, hold, start_join = (
        BUSY_STATES.index(s) for s in ("lock_wait", "in_allocator", "thread_start_join")
    )
    busy[:, :20, wait] = t[:, None]
    busy[:, 7, wait] = np.minimum(t, 0.2)
    busy[:, 7, hold] = np.maximum(t - 0.2, 0.0)
    busy[:, 20, start_join] = t
    timeline = Timeline(t, busy)
    slot_ns = np.rint(timeline.totals_s() * 1e9).astype(np.uint64)
    return dataclasses.replace(result, timeline=timeline, slot_times_ns=slot_ns, wall_s=1.0)


@pytest.fixture
def crafted_source(qtbot):
    import engine
    from engine import RunConfig, Strategy
    from gui.heap_map import HeapMapView
    from gui.results_table import ResultsModel
    from tests.conftest import VECTORS

    real = engine.run(VECTORS / "random_64k.bin", RunConfig(strategy=Strategy.BASELINE))
    results = ResultsModel()
    results.add_result(1, baseline_like(real), None)
    heap = HeapMapView()
    qtbot.addWidget(heap)
    return export.ExportSource([], {}, heap, results, "crafted.bin", "crafted")


def colour_count(image: QImage, rgb: int) -> int:
    image = image.convertToFormat(QImage.Format_RGB32)
    data = np.frombuffer(image.constBits(), dtype=np.uint32, count=image.width() * image.height())
    return int((data == (0xFF000000 | rgb)).sum())


def test_lanes_png_of_a_baseline_like_run_is_mostly_waiting(crafted_source):
    image = export.render_timeline(crafted_source, (960, 540))
    assert (image.width(), image.height()) == (960, 540)
    body = 960 * (540 - export.stamp_height(540))
    waiting = colour_count(image, 0xD55E00)
    holding = colour_count(image, 0x000000)
    # 19.2 of 21 lanes wait; lanes fill most of the body (axes, legend, gaps aside).
    assert waiting > 0.4 * body
    assert 0 < holding < waiting / 10  # T7 alone holds the lock
    assert colour_count(image, 0xCC79A7) > 0  # the coordinator starting threads


def test_breakdown_png_shows_the_run_s_states(crafted_source):
    image = export.render_breakdown(crafted_source, (960, 540))
    assert (image.width(), image.height()) == (960, 540)
    assert colour_count(image, 0xD55E00) > colour_count(image, 0xCC79A7) > 0
    items = export.breakdown_items(crafted_source.results)
    assert [i.label for i in items] == ["#1 baseline"]
    assert items[0].seconds["lock_wait"] == pytest.approx(19 * 1.0 + 0.2)
    assert items[0].seconds["in_allocator"] == pytest.approx(0.8)


def test_trace_json_of_the_last_finished_run(two_runs, tmp_path):
    import json

    window = two_runs
    written = window.export_to(tmp_path)
    assert tmp_path / export.FILE_NAMES["trace"] in written
    with open(tmp_path / export.FILE_NAMES["trace"], encoding="utf-8") as f:
        document = json.load(f)
    events = document["traceEvents"]
    assert isinstance(events, list)
    names = {e["tid"]: e["args"]["name"] for e in events if e.get("name") == "thread_name"}
    last = window.results.rows[-1].result
    assert last.timeline is not None
    assert [names[i] for i in sorted(names)] == list(last.timeline.lane_names)
    assert names[20] == "coordinator" and names[0] == "T0"
    states = {e["name"] for e in events if e.get("ph") == "X"}
    assert "compute" in states and states <= {
        "compute",
        "lock_wait",
        "in_allocator",
        "thread_start_join",
        "read",
    }


def test_no_finished_run_writes_an_empty_trace(window, tmp_path):
    import json

    written = window.export_to(tmp_path / "out")
    assert sorted(p.name for p in written) == sorted(export.FILE_NAMES.values())
    with open(tmp_path / "out" / export.FILE_NAMES["trace"], encoding="utf-8") as f:
        assert json.load(f) == {
            "traceEvents": [],
            "otherData": {"note": "no finished run with a timeline (run one, then export again)"},
        }


# -- a set never replaces an earlier one; the status bar says what was written -------

#: The files of one export, in the order they are written (and listed).
WRITE_ORDER = [
    "heapscope_handout.pdf",
    "heapscope_dashboard.png",
    "heapscope_locks.png",
    "heapscope_throughput.png",
    "heapscope_free_list.png",
    "heapscope_heap_map.png",
    "heapscope_heap_map_fullest.png",
    "heapscope_timeline.png",
    "heapscope_time_breakdown.png",
    "heapscope_trace.json",
    "heapscope_series.csv",
    "heapscope_results.csv",
]


def test_a_second_export_is_numbered_and_keeps_the_first(two_runs, tmp_path):
    window = two_runs
    out = tmp_path / "slides"
    first = window.export_to(out, dashboard_size=(640, 360), chart_size=(480, 270))
    assert [p.name for p in first] == WRITE_ORDER
    assert window.statusBar().currentMessage() == (
        f"Exported 12 files to {out}: {', '.join(WRITE_ORDER)}"
    )
    assert window.statusBar().toolTip() == "\n".join(str(out / n) for n in WRITE_ORDER)
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in out.iterdir()}

    second = window.export_to(out, dashboard_size=(640, 360), chart_size=(480, 270))
    numbered = [export_names.numbered(n, 2) for n in WRITE_ORDER]
    assert numbered[:3] == [
        "heapscope_handout-2.pdf",
        "heapscope_dashboard-2.png",
        "heapscope_locks-2.png",
    ]
    assert [p.name for p in second] == numbered
    assert window.statusBar().currentMessage() == (
        f"Exported 12 files to {out} (numbered -2: the earlier export is kept): "
        f"{', '.join(numbered)}"
    )
    assert sorted(os.listdir(out)) == sorted(WRITE_ORDER + numbered)
    assert {n: (out / n).read_bytes() for n in WRITE_ORDER} == {
        n: data for n, (data, _) in before.items()
    }
    assert {n: (out / n).stat().st_mtime_ns for n in WRITE_ORDER} == {
        n: mtime for n, (_, mtime) in before.items()
    }
    third = window.export_to(out, dashboard_size=(640, 360), chart_size=(480, 270))
    assert third[0].name == "heapscope_handout-3.pdf" and len(os.listdir(out)) == 36


def test_overwrite_replaces_the_plain_names(two_runs, tmp_path):
    window = two_runs
    (tmp_path / "heapscope_locks.png").write_bytes(b"old")
    written = window.files.export_to(
        tmp_path, dashboard_size=(640, 360), chart_size=(480, 270), overwrite=True
    )
    assert [p.name for p in written] == WRITE_ORDER
    assert (tmp_path / "heapscope_locks.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(os.listdir(tmp_path)) == sorted([*WRITE_ORDER, "settings"])


def test_export_names_rule(tmp_path):
    assert export_names.numbered("heapscope_trace.json", 1) == "heapscope_trace.json"
    assert export_names.numbered("heapscope_trace.json", 12) == "heapscope_trace-12.json"
    assert export_names.numbered("README", 2) == "README-2"
    assert export_names.numbered(".hidden", 2) == ".hidden-2"
    names = {"a": "x.png", "b": "y.csv"}
    assert export_names.set_names(tmp_path, names) == names  # a new folder: plain names
    (tmp_path / "y.csv").mkdir()  # anything taking one name moves the whole set on
    assert export_names.set_names(tmp_path, names) == {"a": "x-2.png", "b": "y-2.csv"}
    (tmp_path / "x-2.png").symlink_to(tmp_path / "nowhere")  # dangling: still taken
    assert export_names.set_number(tmp_path, names.values()) == 3
    assert export_names.set_names(tmp_path, names, overwrite=True) == names
    assert export_names.written_message("/s", ["/s/x-3.png", "/s/y-3.csv"]) == (
        "Exported 2 files to /s (numbered -3: the earlier export is kept): x-3.png, y-3.csv"
    )
    assert export_names.written_message("/s", ["/s/x-3.png", "/s/y.csv"]) == (
        "Exported 2 files to /s: x-3.png, y.csv"
    )
    assert export_names.written_message("/s", ["/s/h.pdf"]) == "Exported 1 file to /s: h.pdf"


def test_too_many_sets_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setattr(export_names, "MAX_SETS", 3)
    for name in ("x.png", "x-2.png", "x-3.png"):
        (tmp_path / name).write_bytes(b"")
    with pytest.raises(OSError) as info:
        export_names.set_number(tmp_path, ["x.png"])
    assert str(info.value) == f"'{tmp_path}' already holds 3 exports: choose another folder"


def test_chart_options_given_replace_the_window_s(two_runs):
    window = two_runs
    window.charts.rate_box.setChecked(True)
    window.charts.log_box.setChecked(True)
    assert window.files.export_source().chart_options == {"rate": True, "log": True}
    defaults = {"rate": False, "log": False}
    assert window.files.export_source(defaults).chart_options == defaults
    # The lock chart's title says which it drew.
    assert export.view_title("locks", window.files.export_source()) == (
        "Lock acquisitions per second"
    )
    assert export.view_title("locks", window.files.export_source(defaults)) == (
        "Lock acquisitions over time"
    )
