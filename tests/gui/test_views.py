"""The pieces under the window: heap-map layout and colours, chart curves, inputs."""

import dataclasses

import numpy as np
import pytest
from PySide6.QtCore import Qt

import engine
from engine import (
    OWNER_COORDINATOR,
    OWNER_NONE,
    CellState,
    LockKind,
    RunCancelled,
    RunConfig,
    Strategy,
)
from gui import charts, inputs
from gui import heap_map as hm
from tests.conftest import EXPECTED, VECTORS
from tests.gui.helpers import open_vector, run_and_wait


def test_default_layout_is_8_by_8_pool_tiles():
    layout = hm.Layout.build(2 * 1024 * 1024, 32 * 1024, pools=20)
    assert (layout.width, layout.height) == (512, 256)
    assert (layout.tile_w, layout.tile_h, layout.tile_cols, layout.tile_rows) == (64, 32, 8, 8)
    assert sorted(layout.pixel_cell.tolist()) == list(range(131072))
    # Tile 3 (pool of T3) is the 4th tile of the top row and holds cells 6144..8191.
    assert layout.cell_at(3 * 64, 0) == 3 * 2048
    assert layout.cell_at(3 * 64 + 63, 31) == 4 * 2048 - 1
    assert layout.cell_at(0, 32) == 8 * 2048
    assert layout.cell_at(512, 0) == -1


@pytest.mark.parametrize(
    "heap,pool",
    [(4096, 256), (2 * 1024 * 1024, 2048), (3 * 1000 * 16, 32768), (64 * 1024 * 1024, 256)],
)
def test_every_cell_appears_once_in_any_layout(heap, pool):
    layout = hm.Layout.build(heap, pool)
    shown = layout.pixel_cell[layout.pixel_cell >= 0]
    assert len(shown) == heap // 16 and len(np.unique(shown)) == heap // 16
    assert 0.5 <= layout.width / layout.height <= 8


def test_colours_tell_states_and_slots_apart():
    states = np.array(
        [
            CellState.FREE,
            CellState.HEADER,
            CellState.SLIVER,
            CellState.GLOBAL,
            CellState.GLOBAL,
            CellState.POOL_USED,
            CellState.POOL_RESERVED,
            CellState.GLOBAL,
        ],
        np.uint8,
    )
    owners = np.array([OWNER_NONE, 3, 3, 3, 4, 3, 3, OWNER_COORDINATOR], np.uint8)
    idx = hm.colour_indices(states, owners)
    rgb = [tuple(hm.LUT[i][:3]) for i in idx]
    assert len({rgb[0], rgb[1], rgb[2], rgb[3], rgb[4], rgb[6], rgb[7]}) == 7
    assert rgb[3] == rgb[5]  # slot 3's hue, in the shared region or in its pool
    assert len({tuple(hm.LUT[8 + s][:3]) for s in range(20)}) == 20


def test_heap_map_draws_a_real_run(qtbot):
    view = hm.HeapMapView()
    qtbot.addWidget(view)
    with engine.Run(VECTORS / "random_64k.bin", RunConfig(strategy=Strategy.POOLED)) as run:
        view.set_layout(run.config.heap_size, run.config.pool_size, Strategy.POOLED, run.slot_count)
        run.execute()
        view.show_cells(run.heap_states, run.heap_owners)
        expected = hm.colour_indices(run.heap_states, run.heap_owners)
    pixels = view.pixels()
    layout = view.layout
    assert (pixels.reshape(-1) == expected[layout.pixel_cell]).all()
    assert len(view._labels) == 20 and view._labels[19].textItem.toPlainText() == "T19"


def test_curves_from_a_series():
    result = engine.run(VECTORS / "random_64k.bin", RunConfig(strategy=Strategy.BASELINE))
    t, y = charts.lock_curve(result.series)
    assert y[-1] == EXPECTED["random_64k.bin"]["lock_acquisitions_baseline"]
    assert np.all(np.diff(y) >= 0)
    rt, rate = charts.lock_curve(result.series, rate=True)
    assert len(rt) == len(rate) > 0 and np.all(rate >= 0)
    mt, mb = charts.throughput_curve(result.series)
    assert len(mt) > 0 and mb.max() > 0
    ft, fl = charts.free_list_curve(result.series)
    assert len(ft) == len(t)
    assert charts.run_label(7, result.config) == "#7 baseline (20 threads, 1 lock)"
    assert charts.run_label(
        8, RunConfig(strategy=Strategy.POOLED, pool_size=8192, block_size=2048)
    ) == ("#8 pooled (20 threads, 8 KiB pools, 2 KiB blocks)")
    # Every strategy's legend says what it locks, with its workers and lock kind.
    labels = {
        Strategy.SIZECLASS: "#9 sizeclass, spin locks, 2 workers (a lock per size class)",
        Strategy.BATCHED: "#9 batched, spin locks, 2 workers (1 lock, per-thread caches)",
        Strategy.MALLOC: "#9 malloc, 2 workers (its own heap)",
        Strategy.BASELINE: "#9 baseline, spin locks, 2 workers (1 lock)",
        Strategy.SINGLE: "#9 single (1 thread)",
    }
    for strategy, label in labels.items():
        config = RunConfig(strategy=strategy, workers=2, lock=LockKind.SPIN)
        assert charts.run_label(9, config) == label
    # Short legends keep the mode: two baselines on screen stay told apart.
    spin = charts.run_label(8, RunConfig(strategy=Strategy.BASELINE, lock=LockKind.SPIN))
    assert spin == "#8 baseline, spin locks (20 threads, 1 lock)"
    assert charts.Trace(8, spin, "baseline", "").short_label == "#8 baseline, spin locks"


def test_malloc_family_runs_draw_no_lock_or_free_list_curve(qtbot):
    """Their locks and free lists are their own: no flat 0 drawn, throughput drawn."""
    panel = charts.ChartsPanel()
    qtbot.addWidget(panel)
    series = {
        "time_s": np.array([0.0, 0.1, 0.2]),
        "lock_acquisitions": np.zeros(3, dtype=np.int64),
        "bytes_done": np.array([0, 50000, 100000]),
        "free_list_length": np.zeros(3, dtype=np.int64),
    }
    trace = charts.Trace(1, "#1 malloc (20 threads, its own heap)", "malloc", "", series=series)
    panel.add_trace(trace)
    panel.update_trace(trace)
    for kind in ("locks", "free_list"):
        x, _ = panel.views[kind].curve_data(1)
        assert x is None or len(x) == 0, kind
    x, y = panel.views["throughput"].curve_data(1)
    assert len(x) > 0 and np.nanmax(y) > 0
    assert not charts.observable("locks", "jemalloc") and charts.observable("locks", "batched")


@pytest.mark.parametrize("kind", inputs.KINDS)
def test_generated_inputs(kind, tmp_path):
    path = inputs.generate(kind, 5000, tmp_path, seed=3)
    data = path.read_bytes()
    assert len(data) == 5000 and data == inputs.generate_bytes(kind, 5000, seed=3)
    distinct = len(set(data[:1024]))
    assert {
        "random": distinct > 200,
        "zeros": distinct == 1,
        "skewed": 5 < distinct < 120,
        "text": 10 < distinct < 60,
    }[kind]


def test_generator_refuses_bad_requests():
    with pytest.raises(ValueError, match="unknown input kind 'noise'"):
        inputs.generate_bytes("noise", 10)
    with pytest.raises(ValueError, match=r"between 1 byte and 256 MiB \(got 0 bytes\)"):
        inputs.generate_bytes("random", 0)


def test_bundled_samples_run():
    names = [p.name for p in inputs.samples()]
    assert names == ["random_1MiB.bin", "skewed_256KiB.bin", "text_256KiB.txt"]


def test_hovering_a_cell_describes_it(qtbot):
    view = hm.HeapMapView()
    qtbot.addWidget(view)
    view.resize(1024, 600)
    view.show()
    view.set_layout(2 * 1024 * 1024, 32 * 1024, Strategy.POOLED, 20)
    states = np.zeros(131072, np.uint8)
    owners = np.full(131072, OWNER_NONE, np.uint8)
    states[2048 : 2048 + 10] = CellState.POOL_USED
    owners[2048 : 2048 + 10] = 1
    view.show_cells(states, owners)
    # Pixel (64 + 3, 0) is cell 2048 + 3: the 4th cell of T1's pool.
    scene_pos = view.vb.mapViewToScene(pg_point(64 + 3.5, 0.5))
    with qtbot.waitSignal(view.sig_hovered) as hovered:
        view._on_scene_mouse_moved(scene_pos)
    assert hovered.args[0] == (
        "offset 0x008030 = 32.0 KiB (pool of T1)\npool, used (no lock); owner: thread slot T1"
    )


def pg_point(x, y):
    from PySide6.QtCore import QPointF

    return QPointF(x, y)


# -- lanes and time breakdown in the window ----------------------------------


def test_lanes_and_bars_follow_finished_runs_and_clear(window, qtbot):
    open_vector(window)
    run_and_wait(qtbot, window, window.baseline_button)
    baseline = window.results.rows[-1].result
    assert baseline.timeline is not None and baseline.time_breakdown_s is not None
    assert window.timeline.timeline is baseline.timeline and not window.timeline.live
    assert window.timeline.vb.state["mouseEnabled"] == [True, False]  # zoom and pan now
    run_and_wait(qtbot, window, window.pooled_button)
    pooled = window.results.rows[-1].result
    assert window.timeline.timeline is pooled.timeline
    assert [(i.label, dict(i.seconds)) for i in window.breakdown.items] == [
        ("#1 baseline", baseline.time_breakdown_s),
        ("#2 pooled", pooled.time_breakdown_s),
    ]
    window.breakdown.set_share(False)
    widths = [{k: w for k, (_, w) in bar.items()} for bar in window.breakdown.segments()]
    assert widths == [baseline.time_breakdown_s, pooled.time_breakdown_s]
    # The bars follow the table: a row added by anyone (a replay) gets its bar,
    # a result without a breakdown (an old session) none.
    window.results.add_result(9, baseline, None)
    window.results.add_result(10, dataclasses.replace(pooled, slot_times_ns=None), None)
    assert [i.label for i in window.breakdown.items] == ["#1 baseline", "#2 pooled", "#9 baseline"]
    qtbot.mouseClick(window.clear_button, Qt.LeftButton)
    assert window.breakdown.items == [] and window.breakdown.segments() == []
    assert window.timeline.timeline is None


def test_lanes_scroll_live_and_a_stopped_run_keeps_its_lanes_and_bar(window, qtbot):
    open_vector(window)
    window.set_speed(0.01)  # slow motion: the test sees the lanes live
    assert window.start_run(Strategy.BASELINE)
    lanes = window.timeline

    def live_with_rows():
        assert lanes.live and lanes.timeline is not None and lanes.timeline.rows >= 20
        assert lanes.timeline.lanes == 21
        assert [i.label for i in window.breakdown.items] == ["#1 baseline …"]

    qtbot.waitUntil(live_with_rows, timeout=20000)
    assert lanes.vb.state["mouseEnabled"] == [False, False]
    seen = lanes.timeline.time_s[-1]
    qtbot.waitUntil(lambda: lanes.timeline.time_s[-1] > seen, timeout=10000)  # it moves
    with qtbot.waitSignal(window.sig_run_failed, timeout=20000) as failed:
        window.stop()
    assert isinstance(failed.args[0], RunCancelled)
    assert not lanes.live and lanes.timeline is not None and lanes.timeline.rows >= 20
    assert [i.label for i in window.breakdown.items] == ["#1 baseline — stopped"]
    kept = window.breakdown.items[0].seconds
    # The stopped bar is the lanes' own total: every lane's time adds up to the last sample.
    assert sum(kept.values()) == pytest.approx(21 * float(lanes.timeline.time_s[-1]), rel=1e-6)
