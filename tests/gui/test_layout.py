"""Layout, legends and colours: readable from the back row of a 1280x720 hall.

The window-level checks run the real window on a screen of the exact size in a
separate process (:mod:`tests.gui.layout_probe`): the suite's own offscreen
screen is 800x800 and Qt fixes a screen's size when the application starts.
"""

from __future__ import annotations

import itertools
import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QFontMetricsF

import engine
from engine import Strategy
from gui import palette
from gui.charts import ChartView, Trace, arrangement_for, nice_spacing
from gui.layout import fitted_geometry, presentation_scale
from gui.text_fit import break_title, pack_lines
from tests.gui.helpers import VECTORS

ROOT = pathlib.Path(__file__).resolve().parents[2]
PAGES = ("all", "heap", "lanes", "charts", "results")


def probe(tmp_path_factory, width: int, height: int) -> dict:
    out = tmp_path_factory.mktemp(f"probe{width}x{height}") / "layout.json"
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
    done = subprocess.run(
        [sys.executable, "-m", "tests.gui.layout_probe", str(width), str(height), str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(out.read_text())
    assert result["rows"] == 2  # baseline and pooled both finished
    return result


@pytest.fixture(scope="module")
def at_720(tmp_path_factory):
    return probe(tmp_path_factory, 1280, 720)


@pytest.fixture(scope="module")
def at_1080(tmp_path_factory):
    return probe(tmp_path_factory, 1920, 1080)


@pytest.fixture(scope="module")
def at_768(tmp_path_factory):
    return probe(tmp_path_factory, 1366, 768)


def _overlap(a: list[float], b: list[float]) -> bool:
    return QRectF(*a).intersects(QRectF(*b))


def check_page(page: dict, presentation: bool) -> None:
    name = page["page"]
    assert page["off_screen"] == [], name
    assert not page["table_hscroll"], name
    for chart in page["charts"]:
        what = f"{name}/{chart['kind']}"
        # The done-when: every plot area at least a third of its chart's height.
        assert chart["plot_h"] >= chart["widget_h"] / 3, what
        # No legend item over a data point (points mapped to scene coordinates).
        assert chart["points"] > 0 and chart["legend_hits"] == 0, what
        if chart["legend_lines"]:
            assert not _overlap(chart["legend"], chart["plot"]), what
        for axis in ("left_ticks", "bottom_ticks"):
            ticks = chart[axis]
            assert len(ticks) >= 2, what + axis
            assert not any(_overlap(a, b) for a, b in itertools.combinations(ticks, 2)), what
        assert chart["title_text_w"] <= chart["title_w"] + 0.5, what  # never clipped
    for caption, sizes in page["captions"].items():
        assert sizes["height"] >= sizes["needed"], f"{name}/{caption} clipped"


def test_presentation_at_1280x720_gives_the_views_the_room(at_720):
    assert at_720["scale"] == pytest.approx(1.75) and at_720["full_screen"]
    for page_name in PAGES:
        page = at_720["presentation"][page_name]
        assert page["window"] == [0, 0, 1280, 720] == page["screen"]
        check_page(page, presentation=True)
        for caption in page["captions"].values():
            assert caption["pt"] == pytest.approx(24.5)  # 24 pt and more on a 720 p screen
        for chart in page["charts"]:
            assert chart["title_pt"] == "23pt" and chart["tick_pt"] == pytest.approx(19.25)
    charts = at_720["presentation"]["charts"]["charts"]
    assert [c["kind"] for c in charts] == ["locks", "throughput", "free_list"]  # side by side
    tops = [c["plot"][1] for c in charts]
    assert max(tops) - min(tops) <= 3  # their plots line up (rich text rounds lines)
    # One legend row over the three (the same runs), above them, not in each chart.
    page = at_720["presentation"]["charts"]
    assert page["panel_legend"] and not page["panel_legend_below_charts"]
    assert all(c["legend_lines"] == 0 for c in charts)
    assert at_720["presentation"]["heap"]["charts"] == []  # the heap map alone


def test_presentation_at_1920x1080_looks_the_same_larger(at_1080):
    assert at_1080["scale"] == pytest.approx(1.75 * 1.5)
    for page_name in PAGES:
        page = at_1080["presentation"][page_name]
        assert page["window"] == [0, 0, 1920, 1080]
        check_page(page, presentation=True)
        for caption in page["captions"].values():
            assert caption["pt"] == pytest.approx(36.75)


@pytest.mark.parametrize("fixture", ["at_720", "at_768"])
def test_everyday_layout_stays_on_small_screens(fixture, request):
    result = request.getfixturevalue(fixture)
    for page_name in PAGES:
        page = result["normal"][page_name]
        x, y, w, h = page["window"]
        sx, sy, sw, sh = page["screen"]
        assert sx <= x and sy <= y and x + w <= sx + sw and y + h <= sy + sh
        check_page(page, presentation=False)
    # Stop, Export and the charts are on screen (they fell off at 1280x720).
    assert "charts" not in result["normal"]["all"]["off_screen"]
    # Leaving presentation mode gives the everyday layout back on the screen (the
    # window came back 1532 px wide on a 1280 px screen, charts off its edge).
    after = result["after_presenting"]
    x, y, w, h = after["window"]
    sx, sy, sw, sh = after["screen"]
    assert sx <= x and sy <= y and x + w <= sx + sw and y + h <= sy + sh
    assert after["off_screen"] == []
    assert [c["kind"] for c in result["normal"]["charts"]["charts"]] == [
        "locks",
        "throughput",
        "free_list",
    ]


# --------------------------------------------------------------- colours


def _mixed_styles(n: int) -> list[tuple[str, palette.RunStyle]]:
    from gui.charts import ChartsPanel

    strategies = ["baseline", "pooled", "baseline", "pooled", "sizeclass", "batched"]
    strategies += ["malloc", "baseline", "jemalloc", "tcmalloc", "mimalloc", "pooled"]
    panel = ChartsPanel()
    try:
        for run_id, strategy in enumerate(strategies[:n], start=1):
            panel.add_trace(Trace(run_id, f"#{run_id} {strategy}", strategy, ""))
        return [(t.strategy, t.style) for t in panel.traces]
    finally:
        panel.close()


def test_ten_runs_of_mixed_strategies_are_never_drawn_alike(qtbot):
    styles = _mixed_styles(10)
    assert len(styles) == 10
    for (sa, a), (sb, b) in itertools.combinations(styles, 2):
        assert not palette.alike(a, b), (sa, a, sb, b)
        # Alike means: same dash and closer than 10 (CIE76) for some vision.
        assert a.dash != b.dash or palette.colour_distance(a.colour, b.colour) >= 10
    # Each run in its strategy's family: vermillion baselines, blue pooled.
    for strategy, style in styles:
        assert style.colour in palette.STRATEGY_FAMILIES[palette.family(strategy)]
    assert styles[0][1] == palette.RunStyle("#D55E00", "solid")
    assert styles[1][1] == palette.RunStyle("#0072B2", "solid")
    assert styles[2][1] == palette.RunStyle("#8E2400", "dash")


def test_every_strategy_has_a_family_and_no_low_contrast_shade():
    for strategy in Strategy:
        shades = palette.STRATEGY_FAMILIES[palette.family(strategy.label)]
        assert palette.button_colour(strategy.label) == shades[0]
        for nth in range(12):
            style = palette.colour_for(strategy.label, nth)
            assert style.colour in shades and style.dash in palette.DASHES
    for family, shades in palette.STRATEGY_FAMILIES.items():
        for shade in shades:
            assert palette.contrast_ratio(shade, "#ffffff") >= 3.0, (family, shade)
    # The first runs of the story's strategies stay apart for every vision type.
    firsts = [palette.colour_for(s).colour for s in ("baseline", "pooled", "sizeclass")]
    firsts += [palette.colour_for(s).colour for s in ("batched", "malloc", "single")]
    for a, b in itertools.combinations(firsts, 2):
        assert palette.colour_distance(a, b) >= 13, (a, b)
    # Successive runs of one strategy differ in shade and dash.
    runs = [palette.colour_for("pooled", n) for n in range(3)]
    assert len({r.colour for r in runs}) == 3 and len({r.dash for r in runs}) == 3


def test_status_text_in_a_run_colour_reads_on_the_bar():
    for shades in palette.STRATEGY_FAMILIES.values():
        for shade in shades:
            readable = palette.readable_on(shade, "#efefef")
            assert palette.contrast_ratio(readable, "#efefef") >= 4.5
    assert palette.readable_on("#0072B2", "#efefef") == "#0072b2"  # already fine: unchanged
    assert palette.readable_on("#F0E442", "#efefef") != "#f0e442"  # yellow on grey: darkened


def test_cvd_simulation_keeps_greys_and_merges_red_green_for_deuteranopes():
    grey = palette.simulate_cvd("#808080", "deuteranopia")
    assert grey == pytest.approx(palette.simulate_cvd("#808080", "normal"), abs=0.5)
    # Red and green differ a lot normally and much less for a deuteranope.
    normal = palette.colour_distance("#D55E00", "#009E73")
    assert normal >= 13
    assert palette.colour_distance("#ff0000", "#00aa00") < 40


# --------------------------------------------------------------- legends


def _series(t_end: float, top: float, n: int = 400) -> dict:
    t = np.linspace(0, t_end, n)
    return {
        "time_s": t,
        "lock_acquisitions": (np.linspace(0, top, n)).astype(np.int64),
        "bytes_done": np.linspace(0, 1e6, n).astype(np.int64),
        "free_list_length": (np.abs(np.sin(t * 20)) * 300).astype(np.int64),
    }


@pytest.mark.parametrize("runs", [2, 5])
@pytest.mark.parametrize("size", [(420, 300), (640, 480), (380, 160)])
def test_no_legend_item_is_over_a_data_point(qtbot, runs, size):
    view = ChartView("locks")
    qtbot.addWidget(view)
    view.resize(*size)
    view.show()
    strategies = ["baseline", "pooled", "baseline", "sizeclass", "pooled"]
    traces = []
    for i in range(runs):
        style = palette.style_for(strategies[i], [t.style for t in traces])
        trace = Trace(i + 1, f"#{i + 1} {strategies[i]} (20 threads, 1 lock)", strategies[i], "")
        trace.colour, trace.dash = style.colour, style.dash
        # Curves that run through the top-left corner, where the old legend sat.
        trace.series = _series(2.0 - 0.3 * i, 1e6 * (1 + i))
        trace.live = False
        traces.append(trace)
    view.set_traces(traces)
    # The layout gives the legend's row its lines' height (at the next layout pass).
    qtbot.waitUntil(lambda: view.legend_rect().bottom() <= view.plot_rect().top(), timeout=3000)
    legend = view.legend_rect()
    assert legend.height() >= view.legend_lines * 15
    for trace in traces:
        points = view.data_points_in_scene(trace.run_id)
        assert len(points) == 400
        assert not any(legend.contains(x, y) for x, y in points)
    # Every run is named (3+ runs never cut the legend): full names or short ones.
    text = view.legend.text.replace("&nbsp;", " ")
    assert all(t.short_label in text for t in traces)


def test_after_baseline_then_pooled_the_pooled_curve_is_in_the_open(qtbot):
    """The pooled run is short and low: it hid behind the legend's box."""
    view = ChartView("locks")
    qtbot.addWidget(view)
    view.resize(500, 320)
    view.show()
    base = Trace(1, "#1 baseline (20 threads, 1 lock)", "baseline", "#D55E00", dash="solid")
    pooled = Trace(2, "#2 pooled (20 threads, 32 KiB pools)", "pooled", "#0072B2", dash="solid")
    base.series, pooled.series = _series(1.9, 1_035_928), _series(0.09, 4096)
    base.live = pooled.live = False
    view.set_traces([base, pooled])
    legend = view.legend_rect()
    points = view.data_points_in_scene(2)
    plot = view.plot_rect()
    assert points and all(plot.adjusted(-1, -1, 1, 1).contains(x, y) for x, y in points)
    assert not any(legend.contains(x, y) for x, y in points)


def test_legend_shortens_names_before_taking_a_third_line(qtbot):
    view = ChartView("locks")
    qtbot.addWidget(view)
    view.resize(360, 400)
    view.show()
    traces = [
        Trace(i, f"#{i} pooled (20 threads, 32 KiB pools)", "pooled", "#0072B2", dash="solid")
        for i in range(1, 5)
    ]
    view.set_traces(traces)
    assert "(20 threads" not in view.legend.text
    assert [f"#{i}&nbsp;pooled" in view.legend.text for i in range(1, 5)] == [True] * 4


# ------------------------------------------------------- pure layout maths


def test_presentation_scale_grows_with_the_screen():
    assert presentation_scale(1.75, 720) == pytest.approx(1.75)
    assert presentation_scale(1.75, 1080) == pytest.approx(2.625)
    assert presentation_scale(1.5, 600) == pytest.approx(1.5)  # never below the zoom


def test_fitted_geometry_keeps_the_window_on_screen():
    from PySide6.QtCore import QRect

    screen = QRect(0, 0, 1280, 720)
    assert fitted_geometry(QRect(100, 50, 1600, 940), screen) == QRect(0, 0, 1280, 720)
    assert fitted_geometry(QRect(900, 600, 800, 400), screen) == QRect(480, 320, 800, 400)
    assert fitted_geometry(QRect(10, 10, 800, 400), screen) == QRect(10, 10, 800, 400)


def test_arrangement_follows_the_panel_shape():
    assert arrangement_for(1270, 560, 1.75) == "side_by_side"  # presentation, 1280x720
    assert arrangement_for(420, 380, 1.0) == "tabs"  # everyday, 1280x720
    assert arrangement_for(640, 760, 1.0) == "stacked"  # everyday, 1920x1080
    assert arrangement_for(500, 300, 1.0) == "tabs"


def test_nice_spacing_and_line_packing():
    assert nice_spacing(1.04e6, 3) == 500_000
    assert nice_spacing(10.5, 5) == 5
    assert nice_spacing(8.2, 10) == 1
    assert pack_lines([100, 100, 100], 250, 10) == [[0, 1], [2]]
    assert pack_lines([300, 50], 250, 10) == [[0], [1]]


def test_titles_break_at_their_pauses(qapp):
    from gui import palette as p

    font = p.font(20, bold=True)
    title = "Run #2 pooled: 20 thread slots, 20 pools of 32 KiB + shared region"
    assert break_title(title, font, 5000) == [title]
    for width in (900, 700, 380):
        lines = break_title(title, font, width)
        assert lines[0] == "Run #2 pooled:" and len(lines) >= 2
        assert " ".join(lines[1:]) == "20 thread slots, 20 pools of 32 KiB + shared region"
        metrics = QFontMetricsF(font)
        assert all(metrics.horizontalAdvance(line) <= width for line in lines)


# ------------------------------------------------------------------ heap map


@pytest.mark.parametrize("pool", [2048, 4096, 32768])
@pytest.mark.parametrize("size", [(520, 300), (1200, 700)])
def test_thread_labels_never_collide(qtbot, pool, size):
    from gui.heap_map import HeapMapView

    view = HeapMapView()
    qtbot.addWidget(view)
    view.resize(*size)
    view.show()
    view.set_layout(2 * 1024 * 1024, pool, Strategy.POOLED, 20, "Run #1 pooled")
    qtbot.waitUntil(lambda: view.vb.width() > 0)
    view._thin_labels()  # as on every resize
    shown = [label for label in view._labels if label.isVisible()]
    rects = [label.sceneBoundingRect() for label in shown]
    assert not any(a.intersects(b) for a, b in itertools.combinations(rects, 2))
    cols, rows = view.label_steps()
    if pool == 32768 and size == (1200, 700):
        assert (cols, rows) == (1, 1) and len(shown) == 20  # big tiles: every pool named
    if pool == 2048:
        assert len(shown) < 20  # tiles of a few pixels: every n-th pool, or none
    # Hovering still names the pool of any cell, labelled or not.
    assert view.describe_cell(19 * pool // 16).splitlines()[0].endswith("(pool of T19)")


# --------------------------------------------------------------- status bar


def test_a_long_status_message_wraps_instead_of_hiding_under_the_state(qtbot):
    from PySide6.QtWidgets import QMainWindow

    from gui.status_bar import StatusBar, StatusFields

    window = QMainWindow()
    qtbot.addWidget(window)
    window.setStatusBar(StatusBar())
    fields = StatusFields(window.statusBar())
    window.resize(1280, 300)
    window.show()
    fields.set_state("Finished #12 pooled", "#0072B2")
    message = "Exported 12 files to /home/lecturer/exports: " + ", ".join(
        f"heapscope_view_{i}.png" for i in range(12)
    )
    window.statusBar().showMessage(message)
    label = window.statusBar().message
    assert label.text() == message
    qtbot.waitUntil(lambda: label.height() >= label.heightForWidth(label.width()))
    assert label.geometry().right() < fields.strategy.geometry().left()
    assert fields.strategy.styleSheet() == "color: #0072b2; font-weight: bold;"
    window.statusBar().clearMessage()
    assert label.text() == ""


def test_a_long_status_message_shrinks_to_fit_the_presentation_bar(qtbot):
    """Presenting at 1280x720, a finished slowed run's summary took three lines
    of a bar that shows two: its signature was cut off."""
    from PySide6.QtWidgets import QMainWindow

    from gui.status_bar import MIN_MESSAGE_POINT_SIZE, StatusBar, StatusFields
    from gui.text_fit import break_words

    window = QMainWindow()
    qtbot.addWidget(window)
    window.setStatusBar(StatusBar())
    bar = window.statusBar()
    fields = StatusFields(bar)
    window.resize(1280, 720)
    window.show()
    fields.set_presentation(True, 2.0)
    fields.set_state("Finished #1 baseline", "#D55E00")
    label = bar.message

    def fits() -> bool:
        font = label.font()
        lines = break_words(label.text(), font, label.contentsRect().width())
        return len(lines) * QFontMetricsF(font).lineSpacing() <= label.contentsRect().height()

    presenting_size = round(0.75 * 11 * 2.0)
    bar.showMessage("Run #1 baseline: 0.094 s")  # one line: full size, once laid out
    qtbot.waitUntil(lambda: fits() and label.font().pointSizeF() == presenting_size)
    message = (
        "Run #1 baseline: 4.689 s (slowed 1/100: no speedup), 0.01 MB/s, 64,620 lock "
        "acquisitions, signature 1124439212 (the single-threaded reference's)"
    )
    bar.showMessage(message)
    qtbot.waitUntil(fits)
    assert label.text() == message
    assert MIN_MESSAGE_POINT_SIZE <= label.font().pointSizeF() < presenting_size
    assert len(break_words(message, label.font(), label.contentsRect().width())) >= 2
    fields.set_presentation(False, 1.0)
    bar.showMessage("Run #1 baseline: 0.094 s")
    qtbot.waitUntil(lambda: fits() and label.font().pointSizeF() == window.font().pointSizeF())


# ------------------------------------------------------------ results table


def test_many_runs_fit_the_table_without_a_horizontal_scroll_bar(qtbot):
    from gui.results_table import KEYS, OPTIONAL_COLUMNS, ResultsModel, ResultsTable

    result = engine.run(str(VECTORS / "random_64k.bin"), strategy="baseline")
    pooled = engine.run(str(VECTORS / "random_64k.bin"), strategy="pooled")
    model = ResultsModel()
    table = ResultsTable(model)
    qtbot.addWidget(table)
    table.resize(700, 300)
    table.show()
    for run_id in range(1, 13):
        model.add_result(run_id, result if run_id % 2 else pooled, None)
    qtbot.waitUntil(lambda: table.hidden_columns() != [])
    assert table.horizontalScrollBarPolicy() == Qt.ScrollBarPolicy.ScrollBarAlwaysOff
    header = table.horizontalHeader()
    shown = [c for c in range(header.count()) if not table.isColumnHidden(c)]
    assert sum(header.sectionSize(c) for c in shown) <= table.viewport().width() + 1
    assert "strategy" not in table.hidden_columns() and "speedup" not in table.hidden_columns()
    hidden = table.hidden_columns()  # the least important first, in OPTIONAL_COLUMNS order
    assert [KEYS.index(k) for k in hidden] == sorted(KEYS.index(k) for k in hidden)
    assert set(hidden) <= set(OPTIONAL_COLUMNS)
    assert [k for k in OPTIONAL_COLUMNS if k in hidden] == list(OPTIONAL_COLUMNS[: len(hidden)])
    # The newest run is scrolled into view.
    bar = table.verticalScrollBar()
    assert bar.maximum() > 0 and bar.value() == bar.maximum()
    # The strategy column shows the run's line: colour and dash.
    model.style_of = lambda run_id: palette.RunStyle("#8E2400", "dash") if run_id == 3 else None
    index = model.index(2, 2)
    assert model.data(index, Qt.ItemDataRole.ForegroundRole).color().name() == "#8e2400"
    assert not model.data(index, Qt.ItemDataRole.DecorationRole).isNull()
    index = model.index(1, 2)  # no curve: the strategy's first style
    assert model.data(index, Qt.ItemDataRole.ForegroundRole).color().name() == "#0072b2"


# ------------------------------------------------------------------ pages


def test_number_keys_switch_pages_and_the_toolbar_follows(window, qtbot):
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    expected = {
        Qt.Key_2: ("heap", [window.heap_map], [window.charts, window.timeline, window.table]),
        Qt.Key_3: ("lanes", [window.timeline, window.breakdown], [window.heap_map, window.charts]),
        Qt.Key_4: ("charts", [window.charts], [window.heap_map, window.table]),
        Qt.Key_5: ("results", [window.table, window.breakdown], [window.charts, window.heap_map]),
        Qt.Key_1: ("all", [window.heap_map, window.charts, window.table], []),
    }
    for key, (page, shown, hidden) in expected.items():
        qtbot.keyClick(window, key)
        assert window.view_layout.page == page
        assert window.view_layout.toolbar_pages.buttons[page].isChecked()
        assert all(w.isVisible() for w in shown), page
        assert all(w.isHidden() or not w.isVisible() for w in hidden), page
        orientation = window.views.table_split.orientation()
        # The results page puts the bars under the table: the table gets the width.
        vertical = Qt.Orientation.Vertical
        assert (orientation == vertical) == (page == "results"), page


def test_presentation_zoom_steps_from_the_keyboard(window, qtbot):
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    combo = window.toolbar.zoom_combo
    assert combo.currentText() == "175%"
    qtbot.keyClick(window, Qt.Key_F5)
    assert window.toolbar.isHidden()  # the combo is out of reach: the keys step it
    qtbot.keyClick(window, Qt.Key_Equal, Qt.KeyboardModifier.ControlModifier)
    assert combo.currentText() == "200%"
    fit = max(1.0, window.screen().geometry().height() / 720)
    assert window.charts.views["locks"].font_scale == pytest.approx(2.0 * fit)
    qtbot.keyClick(window, Qt.Key_Equal, Qt.KeyboardModifier.ControlModifier)
    assert combo.currentText() == "200%"  # the largest
    for text in ("175%", "150%", "150%"):
        qtbot.keyClick(window, Qt.Key_Minus, Qt.KeyboardModifier.ControlModifier)
        assert combo.currentText() == text
    qtbot.keyClick(window, Qt.Key_F5)
    assert window.charts.views["locks"].font_scale == 1.0


def test_the_bars_under_the_lanes_leave_the_state_legend_to_the_lanes(window, qtbot):
    window.resize(1200, 900)
    window.view_layout.set_page("lanes")
    assert not window.breakdown.legend_allowed and window.breakdown.legend.isHidden()
    window.view_layout.set_page("results")
    assert window.breakdown.legend_allowed
    qtbot.waitUntil(lambda: window.breakdown.height() > 0)
    tall = window.breakdown.height() >= 200
    assert window.breakdown.legend.isVisible() == tall
