"""The "where the time went" bars: exact segment sizes in seconds and in shares,
names, order, and a real run's bar adding up to (slots + 1) x its wall time."""

import pytest

import engine
from engine import TIME_STATES, RunConfig, Strategy
from gui.breakdown_chart import BreakdownChart, BreakdownItem
from tests.conftest import VECTORS

BASELINE = {
    "compute": 1.5,
    "lock_wait": 31.25,
    "in_allocator": 2.25,
    "thread_start_join": 2.75,
    "read": 0.25,
    "idle": 22.0,
}  # 60 s over 21 lanes
POOLED = {"compute": 0.25, "thread_start_join": 0.5, "read": 0.125, "idle": 3.125}  # 4 s


@pytest.fixture
def chart(qtbot):
    c = BreakdownChart()
    qtbot.addWidget(c)
    c.resize(700, 260)
    return c


def test_bars_in_seconds_equal_the_given_seconds(chart):
    chart.set_share(False)
    chart.set_runs([("#1 baseline", BASELINE), ("#2 pooled", POOLED)])
    segments = chart.segments()
    assert [s["lock_wait"] for s in segments] == [(1.5, 31.25), (0.25, 0.0)]
    assert segments[0]["idle"] == (1.5 + 31.25 + 2.25 + 2.75 + 0.25, 22.0)
    assert {k: w for k, (_, w) in segments[1].items()} == {
        "compute": 0.25,
        "lock_wait": 0.0,
        "in_allocator": 0.0,
        "thread_start_join": 0.5,
        "read": 0.125,
        "idle": 3.125,
    }
    ticks = chart.plot.getPlotItem().getAxis("left")._tickLevels[0]
    assert ticks == [(0, "#1 baseline"), (1, "#2 pooled")]
    axis = chart.plot.getPlotItem().getAxis("bottom").labelText
    assert axis == "seconds over all slots"


def test_bars_as_shares_of_the_run(chart):
    assert chart.share  # the default: both runs compare at a glance
    chart.set_runs([BreakdownItem("#1 baseline", BASELINE), BreakdownItem("#2 pooled", POOLED)])
    segments = chart.segments()
    assert segments[0]["lock_wait"][1] == pytest.approx(31.25 / 60 * 100)
    assert segments[0]["idle"] == (pytest.approx(100 - 22 / 60 * 100), pytest.approx(22 / 60 * 100))
    assert segments[1]["thread_start_join"] == (pytest.approx(6.25), pytest.approx(12.5))
    assert sum(w for _, w in segments[1].values()) == pytest.approx(100.0)
    texts = sorted(t.textItem.toPlainText() for t in chart._texts)
    # Segments of at least 4 % of the widest bar are numbered, from 25 % also named.
    assert texts == sorted(["lock_wait 52%", "idle 37%", "5%", "6%", "12%", "idle 78%"])
    chart.set_share(False)
    assert chart.segments()[0]["lock_wait"] == (1.5, 31.25)


def test_the_legend_shows_when_there_is_room(chart, qtbot):
    chart.show()
    chart.resize(700, 120)
    qtbot.waitUntil(lambda: not chart.legend.isVisible())
    chart.resize(700, 400)
    qtbot.waitUntil(chart.legend.isVisible)
    assert "lock_wait" in chart.legend.text() and "in_allocator" in chart.legend.text()


def test_clear_and_empty_runs(chart):
    chart.set_runs([("#1 baseline", BASELINE)])
    chart.clear()
    assert chart.items == [] and chart.segments() == [] and chart._texts == []
    chart.set_runs([("#3 nothing", {})])  # a run with no time at all: zero-width bar
    assert chart.segments() == [{state: (0.0, 0.0) for state in TIME_STATES}]


def test_a_real_runs_bar_adds_up_to_every_slots_wall_time(chart):
    result = engine.run(VECTORS / "random_64k.bin", RunConfig(strategy=Strategy.BASELINE))
    seconds = result.time_breakdown_s
    assert seconds is not None
    chart.set_share(False)
    chart.set_runs([("#1 baseline", seconds)])
    widths = {k: w for k, (_, w) in chart.segments()[0].items()}
    assert widths == pytest.approx(seconds)
    lanes = result.slot_times_ns.shape[0]  # the worker slots and the coordinator
    assert lanes == result.config.threads + 1
    assert sum(widths.values()) == pytest.approx(lanes * result.wall_s, rel=0.01)


def test_many_runs_in_a_short_chart_thin_their_names_and_drop_labels(qtbot):
    """Seven runs at 1280x720 in the everyday layout: the names and the
    percentages were stacked over each other."""
    c = BreakdownChart()
    qtbot.addWidget(c)
    names = [f"#{i} {'baseline' if i % 2 else 'pooled'}" for i in range(6, 13)]
    c.resize(500, 700)
    c.show()
    c.set_runs([(name, BASELINE if i % 2 else POOLED) for i, name in enumerate(names)])
    qtbot.waitUntil(lambda: c.run_ticks == names)
    assert "lock_wait 52%" in c.visible_labels()
    c.resize(500, 140)
    qtbot.waitUntil(lambda: c.run_ticks != names)
    shown = c.run_ticks
    assert shown[-1] == "#12 pooled" and 1 < len(shown) < len(names)
    assert c.visible_labels() == []
    # The names shown are far enough apart not to overlap.
    ticks = c.plot.getPlotItem().getAxis("left")._tickLevels[0]
    line = c.plot.getPlotItem().getAxis("left").style["tickFont"]
    from PySide6.QtGui import QFontMetricsF

    bar_px = c._bar_px()
    gaps = [b[0] - a[0] for a, b in zip(ticks, ticks[1:], strict=False)]
    assert min(gaps) * bar_px >= QFontMetricsF(line).height()
