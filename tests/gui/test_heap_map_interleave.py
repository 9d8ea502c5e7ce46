"""The heap map's zoom on interleaved trees: finding the busiest region, drawing it, showing it."""

import numpy as np
import pytest
from PySide6.QtCore import QPointF
from PySide6.QtGui import QColor

from engine import OWNER_COORDINATOR, OWNER_NONE, CellState, Strategy
from gui import heap_interleave as hi
from gui import heap_map as hm
from gui import palette
from gui.heap_zoom import COLOURS

HEAP, POOL = 2 * 1024 * 1024, 32 * 1024
CELLS = HEAP // 16


def empty(cells=CELLS):
    return (
        np.full(cells, CellState.FREE, dtype=np.uint8),
        np.full(cells, OWNER_NONE, dtype=np.uint8),
    )


def put_chunks(states, owners, start, owner_cycle, count, payload=2):
    """``count`` chunks (header + ``payload`` cells) from ``start``, owners taken in turn."""
    at = start
    for i in range(count):
        owner = owner_cycle[i % len(owner_cycle)]
        states[at] = CellState.HEADER
        states[at + 1 : at + 1 + payload] = CellState.GLOBAL
        owners[at : at + 1 + payload] = owner
        at += 1 + payload
    return at


def rgb(colour):
    c = QColor(colour)
    return (c.red(), c.green(), c.blue())


# -- finding the region --------------------------------------------------------


def test_an_empty_heap_zooms_on_its_start_and_says_so():
    states, owners = empty(8192)
    region = hi.busiest_region(states, owners)
    assert region == hi.Region(start_cell=0, cells=512, alternations=0, threads=0, free_holes=1)
    assert hi.describe(region) == "Zoom 0x00000–0x02000: nothing allocated here now, 1 free hole"


def test_the_window_with_both_edges_of_the_interleaved_stretch_wins():
    states, owners = empty(8192)
    # 100 chunks of 3 cells, threads 3 and 7 in turn, at cells 2048..2347.
    assert put_chunks(states, owners, 2048, (3, 7), 100) == 2348
    # A long run of one thread's chunks elsewhere: no owner change, no score.
    put_chunks(states, owners, 5000, (1,), 130)
    region = hi.busiest_region(states, owners)  # windows of 512 cells, 128 apart
    # The window at 1920 (cells 1920..2431) holds the free->chunk edge, the 99
    # owner changes and the chunk->free edge: 101; the one at 2048 misses the first edge.
    assert region == hi.Region(
        start_cell=1920, cells=512, alternations=101, threads=2, free_holes=2
    )
    assert region.offset == 0x7800 and region.size == 8192
    assert hi.describe(region) == (
        "Zoom 0x07800–0x09800: 2 threads' trees interleaved, 2 free holes"
    )
    # With windows at every 512 cells, 2048 is the best there is (100 changes).
    assert hi.busiest_region(states, owners, step=512).start_cell == 2048
    assert hi.busiest_region(states, owners, step=512).alternations == 100


def test_a_dozen_threads_side_by_side_beat_two_taking_turns():
    states, owners = empty(8192)
    put_chunks(states, owners, 512, (1, 2), 160)  # 160 changes, 2 threads: score 320
    put_chunks(states, owners, 4096, tuple(range(12)), 60)  # 60 changes, 12 threads: 720
    region = hi.busiest_region(states, owners, cells=512, step=512)
    assert (region.start_cell, region.alternations, region.threads) == (4096, 60, 12)
    assert region.score == 720


@pytest.mark.parametrize("cells,step", [(512, 128), (300, 128), (256, 100), (64, 64)])
def test_window_scores_match_a_plain_count(cells, step):
    rng = np.random.default_rng(cells + step)
    n = 5000
    states = rng.choice(
        [CellState.FREE, CellState.HEADER, CellState.GLOBAL, CellState.SLIVER], size=n
    ).astype(np.uint8)
    owners = rng.choice([0, 1, 2, 5, 19, OWNER_COORDINATOR], size=n).astype(np.uint8)
    owners[states == CellState.FREE] = OWNER_NONE
    labels = hi.cell_labels(states, owners)
    starts, scores = hi.window_scores(labels, hi._changes_sum(labels), cells, step)
    assert starts.tolist() == list(range(0, n - cells + 1, step))
    for start, score in zip(starts.tolist(), scores.tolist(), strict=True):
        seg = labels[start : start + cells]
        changes = sum(
            1
            for a, b in zip(seg[:-1].tolist(), seg[1:].tolist(), strict=True)
            if a != b and OWNER_COORDINATOR not in (a, b)
        )
        threads = len({x for x in seg.tolist() if 0 <= x < OWNER_COORDINATOR})
        assert score == changes * threads, start


def test_a_tie_goes_to_the_lowest_offset():
    states, owners = empty(8192)
    put_chunks(states, owners, 4096, (0, 1, 2), 30)
    put_chunks(states, owners, 1024, (5, 6, 7), 30)
    region = hi.busiest_region(states, owners, cells=256, step=256)
    assert (region.start_cell, region.alternations, region.threads) == (1024, 30, 3)


def test_free_holes_and_slivers_count_as_fragmentation_not_as_threads():
    states, owners = empty(1024)
    states[:] = CellState.GLOBAL
    owners[:] = 4
    # Ten 2-cell holes each followed by a sliver left by thread 9, at 100, 110, ... 190.
    for k in range(10):
        at = 100 + 10 * k
        states[at : at + 2] = CellState.FREE
        owners[at : at + 2] = OWNER_NONE
        states[at + 2] = CellState.SLIVER
        owners[at + 2] = 9
    region = hi.busiest_region(states, owners, cells=256, step=64)
    # Each hole: owner->free, free->sliver, sliver->owner = 3 changes.
    assert region == hi.Region(start_cell=0, cells=256, alternations=30, threads=1, free_holes=10)
    assert hi.describe(region) == "Zoom 0x00000–0x01000: one thread's chunks, 10 free holes"


def test_the_coordinators_copies_do_not_make_a_region_busy():
    states, owners = empty(4096)
    # Coordinator records between single chunks of one thread: nothing counts.
    put_chunks(states, owners, 0, (OWNER_COORDINATOR, 2), 200)
    # Two threads in turn, fewer chunks, further on: that is the interleaving.
    put_chunks(states, owners, 2048, (5, 6), 40)
    region = hi.busiest_region(states, owners, cells=512, step=512)
    assert (region.start_cell, region.alternations, region.threads) == (2048, 40, 2)


def test_the_zoom_stays_put_unless_another_region_is_clearly_busier():
    states, owners = empty(8192)
    put_chunks(states, owners, 1024, (1, 2), 40)  # 40 changes in window 1024
    tracker = hi.ZoomTracker(cells=512, step=512)
    assert tracker.update(states, owners).start_cell == 1024
    # Another region with 48 changes: 20% more, not enough to move.
    put_chunks(states, owners, 4096, (3, 4), 48)
    kept = tracker.update(states, owners)
    assert (kept.start_cell, kept.alternations) == (1024, 40)
    # 60 changes: 50% more, the zoom moves.
    put_chunks(states, owners, 4096, (3, 4), 60)
    moved = tracker.update(states, owners)
    assert (moved.start_cell, moved.alternations) == (4096, 60)
    tracker.reset()
    assert tracker.region is None


def test_the_zoom_keeps_its_place_when_the_heap_empties_past_it():
    states, owners = empty(8192)
    put_chunks(states, owners, 6144, (1, 2, 3), 100)
    tracker = hi.ZoomTracker(cells=512, step=512)
    assert tracker.update(states, owners).start_cell == 6144
    # Everything freed: no region beats another, so the zoom stays, and says so
    # (its cells lie past the last used one: the finder must still look at them).
    states, owners = empty(8192)
    kept = tracker.update(states, owners)
    assert kept == hi.Region(start_cell=6144, cells=512, alternations=0, threads=0, free_holes=1)
    assert hi.describe(kept) == "Zoom 0x18000–0x1A000: nothing allocated here now, 1 free hole"
    # One chunk somewhere is something to see (free -> chunk -> free): the zoom moves.
    put_chunks(states, owners, 10, (4,), 1)
    moved = tracker.update(states, owners)
    assert (moved.start_cell, moved.alternations, moved.threads) == (0, 2, 1)


def test_mismatched_arrays_are_refused():
    states, owners = empty(100)
    with pytest.raises(ValueError, match="100 cell states but 99 owners"):
        hi.busiest_region(states, owners[:99])


# -- drawing it ------------------------------------------------------------------


def test_the_zoom_image_paints_chunks_gaps_and_outlined_holes():
    states, owners = empty(1024)
    put_chunks(states, owners, 0, (3, 7), 2)  # cells 0..5: T3's chunk, then T7's
    states[6] = CellState.SLIVER
    owners[6] = 7
    # cells 7..9 free: a hole of 3 cells, closed by T3's next chunk at 10
    put_chunks(states, owners, 10, (3,), 1)
    region = hi.busiest_region(states, owners, cells=512, step=512)
    image = hi.zoom_image(states, owners, region, COLOURS)
    assert image.shape == (4 * 14 + 3 * 3, 128 * 5, 3)
    white, black = (255, 255, 255), (0, 0, 0)
    t3, t7 = rgb(palette.SLOT_COLOURS[3]), rgb(palette.SLOT_COLOURS[7])

    def at(cell, dx, dy):
        x, y = hi.cell_origin(cell)
        return tuple(int(v) for v in image[y + dy, x + dx])

    assert at(0, 0, 5) == white  # the gap that opens T3's chunk
    assert at(0, 2, 5) == t3 and at(1, 0, 5) == t3 and at(2, 4, 13) == t3
    assert at(3, 0, 5) == white and at(3, 2, 5) == t7 and at(5, 2, 5) == t7
    assert at(6, 2, 5) == rgb(palette.SLIVER)
    # The hole: black outline on its top, bottom and ends, white inside.
    assert at(7, 0, 5) == black and at(9, 4, 5) == black
    assert at(8, 2, 0) == black and at(8, 2, 13) == black
    assert at(8, 2, 5) == white
    # Rows of cells are 3 white pixels apart; the second row starts at cell 128.
    assert tuple(int(v) for v in image[14, 200]) == white
    assert hi.cell_origin(128) == (0, 17)


# -- showing it in the heap map -------------------------------------------------------


@pytest.fixture
def view(qtbot):
    v = hm.HeapMapView()
    qtbot.addWidget(v)
    v.resize(900, 700)
    v.show()
    yield v
    v.close()


def interleaved_heap():
    states, owners = empty()
    # The busiest stretch: 20 threads in turn, 150 chunks from cell 9000 (0x23280).
    put_chunks(states, owners, 9000, tuple(range(20)), 150)
    put_chunks(states, owners, 0, (2,), 100)  # one thread alone at the start
    return states, owners


def test_the_baseline_view_zooms_and_frames_the_busiest_region(view, qtbot):
    view.set_layout(HEAP, POOL, Strategy.BASELINE, 20, "Run #1 baseline")
    assert view.zoom_shown
    assert "zoom: free hole" in view.legend.text
    states, owners = interleaved_heap()
    view.show_cells(states, owners, 0.5)
    region = view.zoom.region
    # Windows of 512 cells, 128 apart: 8960..9471 holds the whole stretch (cells
    # 9000..9449): its free->chunk edge, 149 owner changes and its chunk->free edge.
    assert region == hi.Region(
        start_cell=8960, cells=512, alternations=151, threads=20, free_holes=2
    )
    assert view.zoom_title.text == (
        "Zoom 0x23000–0x25000: 20 threads' trees interleaved, 2 free holes"
    )
    # The frame on the map: cells 8960..9471 are rows 12..19 of tile 4 (x 256..319).
    xs, ys = view.zoom.frame_items[1].getData()
    assert (xs.min(), xs.max(), ys.min(), ys.max()) == (256.0, 320.0, 12.0, 20.0)
    # Hovering the strip describes the heap cell under the mouse.
    assert view.zoom_cell_at(5 * 40 + 2, 3) == 8960 + 40
    assert view.zoom_cell_at(2, 14 + 1) == -1  # the gap between rows
    assert view.describe_cell(9000) == (
        "offset 0x023280 = 140.6 KiB\nchunk header; owner: thread slot T0"
    )

    # On screen: a grabbed picture of the widget has each chunk in its thread's hue.
    qtbot.waitUntil(lambda: view.zoom.vb.width() > 400, timeout=5000)
    picture = view.grab().toImage()

    def shown(cell, dx=2.5, dy=7.0):
        x, y = hi.cell_origin(cell - region.start_cell)
        point = view.mapFromScene(view.zoom.image.mapToScene(QPointF(x + dx, y + dy)))
        c = picture.pixelColor(point)
        return (c.red(), c.green(), c.blue())

    for k in (0, 1, 2, 9, 19):  # chunk k of the stretch: thread k, cells 9000 + 3k ..
        assert shown(9000 + 3 * k + 1) == rgb(palette.SLOT_COLOURS[k]), k
        assert shown(9000 + 3 * k + 2) == rgb(palette.SLOT_COLOURS[k]), k
    assert shown(8990) == (255, 255, 255)  # inside the hole before the stretch


def test_the_pooled_view_keeps_its_tiles_and_has_no_zoom(view):
    view.set_layout(HEAP, POOL, Strategy.BASELINE, 20, "baseline first")
    assert view.zoom_shown
    view.set_layout(HEAP, POOL, Strategy.POOLED, 20, "Run #2 pooled")
    assert not view.zoom_shown
    assert view.zoom.plot.scene() is None
    assert not any(item.isVisible() for item in view.zoom.frame_items)
    assert "pale: pool reserved, unused" in view.legend.text
    assert [label.toPlainText() for label in view._labels] == [f"T{i}" for i in range(20)]
    states, owners = interleaved_heap()
    view.show_cells(states, owners)
    assert view.zoom.region is None and view.zoom_title.text == ""
    # One thread alone, or an idle map, has nothing to interleave either.
    view.set_layout(HEAP, POOL, Strategy.SINGLE, 1, "single")
    assert not view.zoom_shown
    view.set_layout(HEAP, POOL, None, 20, "")
    assert not view.zoom_shown


def test_a_short_panel_moves_the_zoom_title_into_a_one_line_legend(view, qtbot):
    view.set_layout(HEAP, POOL, Strategy.BASELINE, 20, "Run #1 baseline")
    states, owners = interleaved_heap()
    view.show_cells(states, owners)
    title = "Zoom 0x23000–0x25000: 20 threads' trees interleaved, 2 free holes"
    assert not view.compact and view.zoom_title.text == title
    assert view.zoom_title in view.ci.items and view.zoom.plot in view.ci.items
    view.resize(900, 260)
    qtbot.waitUntil(lambda: view.compact, timeout=5000)
    assert view.zoom_title not in view.ci.items and view.zoom.plot in view.ci.items
    assert view.legend.text.startswith(f"<b>{title}</b>")
    # A fifth of the panel for the strip, at least 32 px.
    assert view.zoom.plot.maximumHeight() == pytest.approx(52)
    view.resize(900, 700)
    qtbot.waitUntil(lambda: not view.compact, timeout=5000)
    assert view.zoom_title in view.ci.items and view.zoom_title.text == title
    assert "used by thread T0" in view.legend.text


def test_the_zoom_title_shortens_to_fit_its_width(qtbot):
    """Centred, a long title clipped both ends at 720p: it drops the range, then the holes."""
    from gui import palette
    from gui.heap_map import fitting_zoom_text

    text = "Zoom 0x0C800–0x1E800: 17 threads' trees interleaved, 3 free holes"
    font = palette.font(20, bold=True)
    assert fitting_zoom_text(text, font, 5000) == text
    middle = fitting_zoom_text(text, font, 700)
    assert middle == "17 threads' trees interleaved, 3 free holes"
    assert fitting_zoom_text(text, font, 420) == "17 threads' trees interleaved"
    assert fitting_zoom_text("Zoom 0x00000–0x02000: one thread's chunks", font, 10) == (
        "one thread's chunks"
    )


def test_the_legend_names_the_runs_own_threads(view):
    """Two long-lived workers are T0 and T1: the legend shows their two hues,
    not the default batch's twenty."""
    view.set_layout(HEAP, POOL, Strategy.POOLED, 2, "Run #1 pooled")
    assert "used by thread T0 … T1" in view.legend.text
    hues = [c for c in palette.SLOT_COLOURS if f"color:{c};" in view.legend.text]
    assert hues == list(palette.SLOT_COLOURS[:2])
    view.set_layout(HEAP, POOL, Strategy.SINGLE, 1, "single")
    assert view.legend.text.endswith("used by thread T0")
    view.set_layout(HEAP, POOL, Strategy.BASELINE, 40, "40 workers")
    assert "used by thread T0 … T39 (hues repeat after 20)" in view.legend.text
    view.set_layout(HEAP, POOL, Strategy.BATCHED, 2, "batched")
    assert "used by thread T0 … T1" in view.legend.text
    view.set_layout(HEAP, POOL, Strategy.SIZECLASS, 3, "sizeclass")
    assert "over 2048 B: by thread T0 … T2 (arena lock)" in view.legend.text
