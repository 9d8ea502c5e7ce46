"""The lanes: exact colours per lane and bin of a crafted timeline, hover text,
live scrolling, zoom and pan, and the bounded live copy."""

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt

from engine import TIME_STATES, Timeline
from engine.timeline import BUSY_STATES
from gui import palette
from gui.time_feed import bounded, seconds_by_state
from gui.timeline_image import (
    NO_DATA,
    ROWS_PER_LANE,
    lanes_rgb,
    lock_held,
    lock_rgb,
    state_rgb,
    window_seconds,
    window_states,
)
from gui.timeline_view import LIVE_WINDOW_S, TimelineView, live_range

LOCK_WAIT = (0xD5, 0x5E, 0x00)
IN_ALLOCATOR = (0, 0, 0)
COMPUTE = (0x00, 0x72, 0xB2)
IDLE = (0xE4, 0xE4, 0xE4)
READ = (0xF0, 0xE4, 0x42)
START_JOIN = (0xCC, 0x79, 0xA7)
WHITE = (255, 255, 255)


def crafted(end_s: float = 1.0, step_s: float = 0.01) -> Timeline:
    """4 worker slots and the coordinator, sampled every 10 ms for 1 s:
    T0 computes throughout, T1 is idle, T2 computes until 0.3 s then idles,
    T3 waits for the lock until 0.5 s then holds it, the coordinator reads
    until 0.1 s then starts and joins threads."""
    t = np.arange(1, round(end_s / step_s) + 1) * step_s
    busy = np.zeros((len(t), 5, len(BUSY_STATES)))
    c, w, a, j, r = (
        BUSY_STATES.index(s)
        for s in ("compute", "lock_wait", "in_allocator", "thread_start_join", "read")
    )
    busy[:, 0, c] = t
    busy[:, 2, c] = np.minimum(t, 0.3)
    busy[:, 3, w] = np.minimum(t, 0.5)
    busy[:, 3, a] = np.maximum(t - 0.5, 0.0)
    busy[:, 4, r] = np.minimum(t, 0.1)
    busy[:, 4, j] = np.maximum(t - 0.1, 0.0)
    return Timeline(t, busy)


@pytest.fixture
def view(qtbot):
    v = TimelineView()
    qtbot.addWidget(v)
    v.resize(900, 400)
    v.show()
    qtbot.waitExposed(v)
    return v


def bin_at(view: TimelineView, time_s: float) -> int:
    return int(np.searchsorted(view.edges, time_s, side="right")) - 1


def test_state_colours_are_the_okabe_ito_hues_and_tell_waiting_apart_by_luminance():
    assert state_rgb("lock_wait") == LOCK_WAIT
    assert state_rgb("in_allocator") == IN_ALLOCATOR
    assert state_rgb("compute") == COMPUTE
    assert state_rgb("idle") == IDLE
    colours = palette.TIME_STATE_COLOURS
    assert len(set(colours.values())) == len(TIME_STATES) == 6
    # Waiting and holding must read from the back row: WCAG ratios.
    assert palette.contrast_ratio(colours["lock_wait"], colours["idle"]) >= 3.0
    assert palette.contrast_ratio(colours["lock_wait"], colours["in_allocator"]) >= 5.0
    assert palette.contrast_ratio(colours["compute"], colours["idle"]) >= 4.0
    assert palette.contrast_ratio(colours["in_allocator"], colours["idle"]) >= 15.0
    assert round(palette.contrast_ratio("#000000", "#ffffff"), 6) == 21.0


def test_window_states_pick_each_bins_state_and_mark_the_future_unknown():
    tl = crafted()
    edges, states, shares = window_states(tl, 0.0, 1.2, 120)  # 10 ms bins, past the end
    assert states.shape == (5, 120) and len(edges) == 121
    assert states[0, :100].tolist() == [TIME_STATES.index("compute")] * 100
    assert states[1, :100].tolist() == [TIME_STATES.index("idle")] * 100
    assert states[2, 29] == TIME_STATES.index("compute")
    assert states[2, 30] == TIME_STATES.index("idle")
    assert states[3, 49] == TIME_STATES.index("lock_wait")
    assert states[3, 50] == TIME_STATES.index("in_allocator")
    assert states[4, 5] == TIME_STATES.index("read")
    assert states[4, 10] == TIME_STATES.index("thread_start_join")
    assert (states[:, 100:] == NO_DATA).all() and (shares[:, 100:] == 0).all()
    # A bin half compute and half idle (T2 at 0.295..0.305 s) says 50 %.
    _, states2, shares2 = window_states(tl, 0.295, 0.305, 1)
    assert shares2[2, 0] == pytest.approx(0.5)
    rgb = lanes_rgb(states)
    assert rgb.shape == (5 * ROWS_PER_LANE, 120, 3)
    assert tuple(rgb[3 * ROWS_PER_LANE, 10]) == LOCK_WAIT
    assert tuple(rgb[3 * ROWS_PER_LANE + ROWS_PER_LANE - 1, 10]) == WHITE  # gap between lanes
    assert tuple(rgb[0, 110]) == WHITE  # the future: background, not idle


def test_the_lock_row_is_the_share_of_each_bin_someone_held_the_lock():
    tl = crafted()
    edges, seconds = window_seconds(tl, 0.4, 1.2, 8)  # 0.1 s bins; T3 holds from 0.5 s
    held = lock_held(tl, edges, seconds)
    assert held[:6].tolist() == pytest.approx([0.0, 1.0, 1.0, 1.0, 1.0, 1.0])
    assert held[6:].tolist() == [-1.0, -1.0]  # after the last sample
    edges, seconds = window_seconds(tl, 0.45, 0.55, 1)
    assert lock_held(tl, edges, seconds).tolist() == pytest.approx([0.5])
    assert lock_rgb(np.array([0.0, 0.5, 1.0, -1.0])).tolist() == [
        [255, 255, 255],
        [128, 128, 128],
        [0, 0, 0],
        [255, 255, 255],
    ]
    rgb = lanes_rgb(np.zeros((2, 3), np.uint8), np.array([1.0, 0.0, -1.0]))
    assert rgb.shape == (3 * ROWS_PER_LANE, 3, 3)
    assert tuple(rgb[0, 0]) == (0, 0, 0) and tuple(rgb[ROWS_PER_LANE, 0]) == COMPUTE


def test_lanes_show_each_state_colour_at_known_lanes_and_bins(view):
    view.show_timeline(crafted(), live=False)
    assert view.time_window() == pytest.approx((0.0, 1.0))
    bins = view.states.shape[1]
    assert bins >= 64 and view.edges[0] == 0.0 and view.edges[-1] == pytest.approx(1.0)
    assert view.colour_at(3, 10) == LOCK_WAIT
    assert view.colour_at(3, bin_at(view, 0.75)) == IN_ALLOCATOR
    assert view.colour_at(0, 10) == COMPUTE
    assert view.colour_at(1, 10) == IDLE
    assert view.colour_at(2, bin_at(view, 0.2)) == COMPUTE
    assert view.colour_at(2, bin_at(view, 0.4)) == IDLE
    assert view.colour_at(4, bin_at(view, 0.05)) == READ
    assert view.colour_at(4, bin_at(view, 0.5)) == START_JOIN
    ticks = view.plot.getPlotItem().getAxis("left")._tickLevels[0]
    assert [name for _, name in ticks] == ["lock held", "T0", "T1", "T2", "T3", "coordinator"]
    # The lock row: free (white) while T3 waits, black once it holds the lock.
    assert view.colour_at(-1, bin_at(view, 0.25)) == WHITE
    assert view.colour_at(-1, bin_at(view, 0.75)) == IN_ALLOCATOR


def test_the_grabbed_widget_shows_the_lock_wait_colour(view, qtbot):
    view.show_timeline(crafted(), live=False)
    qtbot.wait(1)  # let the render timer of the laid-out size run once
    image = view.grab().toImage()
    seen = {
        image.pixelColor(x, y).getRgb()[:3]
        for x in range(0, image.width(), 3)
        for y in range(0, image.height(), 3)
    }
    assert {LOCK_WAIT, IN_ALLOCATOR, COMPUTE, READ, START_JOIN} <= seen


def test_hover_names_the_thread_the_state_and_the_time(view, qtbot):
    view.show_timeline(crafted(), live=False)
    assert view.describe(0.25, 3) == "T3 · lock_wait · 0.250 s"
    assert view.describe(0.75, 3) == "T3 · in_allocator · 0.750 s"
    assert view.describe(0.05, 4) == "coordinator · read · 0.050 s"
    assert view.describe(0.5, 1) == "T1 · idle · 0.500 s"
    assert view.describe(1.5, 0) == ""  # after the run
    assert view.describe(0.5, 5) == "" and view.describe(0.5, -2) == ""
    assert view.describe(0.75, -1) == "lock held 100% of the time · 0.750 s"
    assert view.describe(0.25, -1) == "lock held 0% of the time · 0.250 s"
    scene_pos = view.vb.mapViewToScene(QPointF(0.25, 4.4))  # the lock row is y 0..1
    with qtbot.waitSignal(view.sig_hovered) as hovered:
        view.plot.scene().sigMouseMoved.emit(scene_pos)
    assert hovered.args == ["T3 · lock_wait · 0.250 s"]
    assert view.readout.text() == "T3 · lock_wait · 0.250 s"
    with qtbot.waitSignal(view.sig_hovered) as left:
        view.plot.scene().sigMouseMoved.emit(QPointF(-50, -50))
    assert left.args == [""] and view.readout.text() == ""


def test_live_lanes_scroll_and_leave_the_future_blank(view):
    tl = crafted()
    view.show_timeline(Timeline(tl.time_s[:30], tl.busy_s[:30]), live=True)  # 0.3 s
    assert view.live and view.time_window() == pytest.approx((0.0, 0.45))
    assert view.colour_at(3, bin_at(view, 0.2)) == LOCK_WAIT
    assert view.colour_at(3, bin_at(view, 0.4)) == WHITE
    assert view.vb.state["mouseEnabled"] == [False, False]
    view.zoom(0.5)  # no zoom while live: the window follows the run
    assert view.time_window() == pytest.approx((0.0, 0.45))
    view.show_timeline(tl, live=True)  # 1.0 s: the window grows 1.5x
    assert view.time_window() == pytest.approx((0.0, 1.5))
    view.show_timeline(tl, live=False)
    assert view.vb.state["mouseEnabled"] == [True, False]


def test_live_range_grows_then_scrolls_in_steps():
    assert live_range(0.3, None) == pytest.approx((0.0, 0.45))
    assert live_range(0.01, None) == pytest.approx((0.0, 0.05))
    assert live_range(0.4, (0.0, 0.45)) == (0.0, 0.45)  # still inside: no re-range
    assert live_range(4.0, (0.0, 3.0)) == pytest.approx((0.0, LIVE_WINDOW_S))
    assert live_range(6.0, (0.0, 5.0)) == pytest.approx((2.25, 7.25))
    assert live_range(7.0, (2.25, 7.25)) == (2.25, 7.25)


def test_zoom_pan_and_keys_when_stopped(view, qtbot):
    view.show_timeline(crafted(), live=False)
    view.zoom(0.5)
    assert view.time_window() == pytest.approx((0.25, 0.75))
    view.pan(0.25)
    assert view.time_window() == pytest.approx((0.375, 0.875))
    qtbot.keyClick(view.plot, Qt.Key.Key_Home)
    assert view.time_window() == pytest.approx((0.0, 1.0))
    qtbot.keyClick(view.plot, Qt.Key.Key_Plus)
    assert view.time_window() == pytest.approx((0.25, 0.75))
    qtbot.keyClick(view.plot, Qt.Key.Key_Right)
    assert view.time_window() == pytest.approx((0.375, 0.875))
    qtbot.keyClick(view.plot, Qt.Key.Key_Minus)  # wider than the run: held at its ends
    x0, x1 = view.time_window()
    assert x0 >= -1e-9 and x1 <= 1.0 + 1e-9
    qtbot.waitUntil(lambda: view.edges[0] == pytest.approx(max(0.0, x0)))
    # The zoomed image is re-rendered for the window, a bin per pixel.
    view.zoom(0.02, centre_s=0.5)
    qtbot.waitUntil(lambda: view.edges[-1] - view.edges[0] < 0.05)
    assert view.describe(0.4987, 3) == "T3 · lock_wait · 0.4987 s"  # finer when zoomed
    assert view.colour_at(3, 0) == LOCK_WAIT and view.colour_at(3, len(view.edges) - 2) == (
        IN_ALLOCATOR
    )


def test_clear_shows_nothing(view):
    view.show_timeline(crafted(), live=False)
    view.clear()
    assert view.timeline is None and view.states.shape == (0, 0)
    assert view.describe(0.25, 3) == "" and view.image.image is None


def test_the_live_copy_stays_bounded_without_losing_time():
    tl = crafted(end_s=3.0, step_s=0.001)  # 3,000 rows
    kept = bounded(tl, max_rows=1000)
    assert kept.rows <= 1000
    assert kept.time_s[-1] == tl.time_s[-1]
    np.testing.assert_array_equal(kept.time_s[-500:], tl.time_s[-500:])  # the newest, whole
    assert np.all(np.diff(kept.time_s) > 0)
    np.testing.assert_array_equal(kept.totals_s(), tl.totals_s())
    assert bounded(tl, max_rows=5000) is tl
    assert seconds_by_state(tl) == pytest.approx(
        {
            "compute": 3.0 + 0.3,
            "lock_wait": 0.5,
            "in_allocator": 2.5,
            "thread_start_join": 2.9,
            "read": 0.1,
            "idle": 5 * 3.0 - (3.3 + 0.5 + 2.5 + 2.9 + 0.1),
        }
    )


def test_the_legend_sits_above_the_lanes_and_drops_its_glosses_when_narrow(view, qtbot):
    view.show_timeline(crafted(), live=False)
    assert view.legend.geometry().bottom() < view.plot.geometry().top()  # never over the data
    text = view.legend.text()
    assert "lock_wait (waiting)" in text and "in_allocator (holding the lock)" in text
    for state in TIME_STATES:
        assert f"color:{palette.TIME_STATE_COLOURS[state]}" in text and state in text
    view.resize(500, 400)
    qtbot.waitUntil(lambda: "(waiting)" not in view.legend.text())
    assert "lock_wait" in view.legend.text()
