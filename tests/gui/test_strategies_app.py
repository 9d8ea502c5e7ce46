"""Issue 11 in the app: every strategy, lock kind and worker mode one click or key away,
with their heap maps, captions and rows."""

import dataclasses

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

import engine
from engine import (
    USER_STRATEGIES,
    CellState,
    LockKind,
    RunConfig,
    RunPhase,
    SlotState,
    Strategy,
)
from gui import heap_map as hm
from gui import heap_strategies, palette, strategy_picker
from gui.captions import Frame, captions, heap_caption, locks_caption
from gui.results_table import KEYS, OPTIONAL_COLUMNS, ResultsModel, ResultsTable, optional_columns
from tests.conftest import EXPECTED, VECTORS
from tests.gui.helpers import open_vector

COUNTERS = {name: 0 for name in engine.COUNTER_NAMES}
WORDS = EXPECTED["words_20k.txt"]


def frame(strategy, phase=RunPhase.RUNNING, states=(), lock=LockKind.MUTEX, workers=0, **c):
    return Frame(
        strategy,
        phase,
        1.0,
        {**COUNTERS, **c},
        np.array(states, dtype=np.uint8),
        lock=lock,
        workers=workers,
    )


# ------------------------------------------------------------------ picker, keys


def test_picker_lists_every_strategy_and_greys_out_the_unavailable(qtbot, monkeypatch):
    reasons = {Strategy.TCMALLOC: "libtcmalloc_minimal.so.4 is not installed"}
    monkeypatch.setattr(strategy_picker, "unavailable_reason", lambda s: reasons.get(s))
    picker = strategy_picker.StrategyPicker()
    qtbot.addWidget(picker)
    combo = picker.combo
    assert [combo.itemData(i) for i in range(combo.count())] == list(USER_STRATEGIES)
    assert [combo.itemText(i) for i in range(combo.count())] == [
        "single",
        "baseline",
        "pooled",
        "sizeclass",
        "batched",
        "malloc",
        "mimalloc",
        "jemalloc",
        "tcmalloc",
    ]
    assert [picker.is_available(s) for s in USER_STRATEGIES] == [True] * 8 + [False]
    assert picker.tooltip_of(Strategy.TCMALLOC) == (
        "tcmalloc cannot run here: libtcmalloc_minimal.so.4 is not installed"
    )
    assert picker.tooltip_of(Strategy.BATCHED) == (
        "batched — C: per-thread caches, trylock batches (Ctrl+5)"
    )
    assert picker.strategy is Strategy.SIZECLASS  # the first the big buttons do not run
    picker.set_run_enabled(True)
    assert picker.run_button.isEnabled()
    picker.pick(Strategy.TCMALLOC)  # only by code: the item itself cannot be chosen
    picker.set_run_enabled(True)
    assert not picker.run_button.isEnabled()
    picked = []
    picker.sig_run.connect(picked.append)
    picker.pick(Strategy.MALLOC)
    picker.set_run_enabled(True)
    qtbot.mouseClick(picker.run_button, Qt.MouseButton.LeftButton)
    assert picked == [Strategy.MALLOC]


def test_the_real_machine_greys_out_exactly_what_the_engine_refuses(window):
    picker = window.picker
    for strategy in USER_STRATEGIES:
        reason = strategy.unavailable_reason()
        assert picker.is_available(strategy) is (reason is None), strategy
        if reason:
            assert picker.tooltip_of(strategy) == f"{strategy.label} cannot run here: {reason}"
            assert window.settings_panel.config_for(strategy) == reason


def test_keys_are_listed_and_free(window):
    keys = {a.text(): [s.toString() for s in a.shortcuts()] for a in window.actions()}
    assert keys["Run sizeclass (B: a lock per size class)"] == ["Ctrl+4"]
    assert keys["Run batched (C: per-thread caches, trylock batches)"] == ["Ctrl+5"]
    assert keys["Run malloc (the C library's malloc)"] == ["Ctrl+6"]
    assert keys["Lock kind: mutex → spin → adaptive"] == ["M"]
    assert keys["Threads: per block → 2 → 4 long-lived workers"] == ["W"]
    every = [k for a in window.actions() for k in (s.toString() for s in a.shortcuts())]
    mine = [f"Ctrl+{i}" for i in range(1, 10)] + ["M", "W"]
    assert all(every.count(k) == 1 for k in mine), "a key of the strategy picker is taken twice"
    window.presenter.toggle_shortcuts()  # the ? overlay lists them
    text = window.presenter.overlay.text()
    window.presenter.toggle_shortcuts()
    assert "<b>Ctrl+4</b>&nbsp;&nbsp;</td><td>Run sizeclass (B: a lock per size class)" in text
    assert "<b>M</b>&nbsp;&nbsp;</td><td>Lock kind: mutex → spin → adaptive" in text


def test_m_and_w_step_the_lock_kind_and_the_workers(window):
    panel, keys = window.settings_panel, window.strategy_keys
    assert (panel.lock, panel.workers) == (LockKind.MUTEX, 0)
    assert window.picker.mode_label.text() == ""
    assert not window.picker.mode_label.isVisible()  # the default needs no mention
    keys.next_lock.trigger()
    assert panel.lock is LockKind.SPIN
    assert window.statusBar().currentMessage() == "Next runs: spin: a waiting thread keeps its core"
    assert window.picker.mode_label.text() == "<b>spin lock</b>"
    assert window.picker.mode_label.isVisible()
    keys.next_workers.trigger()
    assert window.statusBar().currentMessage() == "Next runs: 2 long-lived workers"
    config = panel.config_for(Strategy.BATCHED)
    assert isinstance(config, RunConfig)
    assert (config.lock, config.workers) == (LockKind.SPIN, 2)
    assert window.picker.mode_label.text() == "<b>spin lock</b><br><b>2 workers</b>"
    assert window.picker.run_button.toolTip() == (
        "Run sizeclass — B: a lock per size class (spin lock, 2 workers)"
    )
    steps = []
    for _ in range(3):
        keys.next_lock.trigger()
        keys.next_workers.trigger()
        steps.append((panel.lock.label, panel.workers))
    assert steps == [("adaptive", 4), ("mutex", 0), ("spin", 2)]
    panel.reset()
    assert (panel.lock, panel.workers) == (LockKind.MUTEX, 0)


def test_ctrl_4_runs_sizeclass(window, qtbot):
    open_vector(window, "words_20k.txt")
    with qtbot.waitSignal(window.sig_idle, timeout=30000):
        window.strategy_keys.runs[Strategy.SIZECLASS].trigger()
    rows = window.results.rows
    assert [r.result.strategy for r in rows] == [Strategy.SIZECLASS]
    assert rows[0].result.signature == WORDS["signature"]
    sizeclass = rows[0]
    refills = sizeclass.result.counters["slab_refills"]
    assert refills >= 1
    # WORKLOAD.md section 7: the baseline's count plus one per slab refill.
    assert sizeclass.result.lock_acquisitions == WORDS["lock_acquisitions_baseline"] + refills
    assert sizeclass.text("locks") == f"{1800 + refills:,}"
    assert window.heap_map.title_text == (
        "Run #1 sizeclass: slabs carved per size class, one lock per class"
    )
    slabs = window.heap_map.cell_states() == CellState.SLAB
    assert np.count_nonzero(slabs) == refills * 16384 // 16  # whole 16 KiB slabs, drawn


def test_ctrl_6_runs_malloc_and_says_what_is_not_observable(window, qtbot):
    open_vector(window, "words_20k.txt")
    with qtbot.waitSignal(window.sig_idle, timeout=30000):
        window.strategy_keys.runs[Strategy.MALLOC].trigger()
    rows = window.results.rows
    assert [r.result.strategy for r in rows] == [Strategy.MALLOC]
    assert rows[0].result.signature == WORDS["signature"]
    malloc = rows[0]
    assert malloc.text("locks") == "not observable"
    assert malloc.value("locks") == ""
    assert [malloc.text("contended_pct"), malloc.text("mean_wait_us")] == ["—", "—"]
    # The heap map says why it is empty, the caption names the mechanism.
    assert window.heap_map.title_text == "Run #1 malloc: no heap map: malloc's memory is its own"
    assert window.heap_map.hint.textItem.toPlainText() == (
        "No heap map:\nmalloc's memory is its own"
    )
    assert window.captions.labels["locks"].text() == (
        "Locks: not observable (malloc's locks are its own; not 0)"
    )
    # The status bar says so too (never "0 lock acquisitions").
    message = window.statusBar().currentMessage()
    assert message.startswith("Run #1 malloc: ")
    assert ", lock acquisitions not observable, signature " in message
    assert window.status.locks.text() == "lock acquisitions not observable"


def test_an_unavailable_strategy_says_why_instead_of_running(window, monkeypatch):
    open_vector(window, "words_20k.txt")
    reason = "libmimalloc.so.2 is not installed"
    monkeypatch.setattr(
        "gui.settings_panel.unavailable_reason",
        lambda s: reason if s is Strategy.MIMALLOC else None,
    )
    window.settings_panel.validate()
    window.strategy_keys.runs[Strategy.MIMALLOC].trigger()
    assert not window.busy and window.results.rows == []
    assert window.error_text() == f"cannot run mimalloc: {reason}"


def test_a_sequence_with_spin_locks_and_workers_fills_the_table(window, qtbot):
    """What `heapscope FILE --run baseline,sizeclass,batched --lock spin --workers 2` does."""
    open_vector(window, "words_20k.txt")
    window.settings_panel.set_lock("spin")
    window.settings_panel.set_workers(2)
    with qtbot.waitSignal(window.sig_idle, timeout=60000):
        window.run_sequence([Strategy.BASELINE, Strategy.SIZECLASS, Strategy.BATCHED])
    rows = window.results.rows
    assert [r.text("strategy") for r in rows] == ["baseline", "sizeclass", "batched"]
    assert [r.text("lock") for r in rows] == ["spin"] * 3
    assert [r.text("workers") for r in rows] == ["2"] * 3
    assert [r.result.signature for r in rows] == [WORDS["signature"]] * 3
    # Section 7: the baseline's count does not depend on the lock kind or workers.
    assert rows[0].result.lock_acquisitions == WORDS["lock_acquisitions_baseline"]
    assert rows[0].text("speedup") == "1.00× (baseline)"
    # The last run's caption names the lock kind and the workers (frame_pump passes them).
    assert (
        window.captions.labels["heap"].text().endswith("(spin: waiters keep their core; 2 workers)")
    )
    batched = rows[2].result
    assert batched.lock_acquisitions < WORDS["lock_acquisitions_baseline"] / 3
    assert batched.counters["cache_refills"] > 0 and batched.counters["cache_flushes"] > 0
    # Not the defaults: the lock and workers columns are the last to go.
    assert optional_columns(rows)[-2:] == ("workers", "lock")


# ------------------------------------------------------------------- the table


def _result(strategy, wall_s, lock="mutex", workers=0):
    base = engine.run(str(VECTORS / "words_20k.txt"), strategy=strategy.label)
    config = base.config.replace(lock=LockKind.parse(lock), workers=workers)
    return dataclasses.replace(base, wall_s=wall_s, config=config)


def test_table_cells_for_any_set_of_runs(qtbot):
    model = ResultsModel()
    model.add_result(1, _result(Strategy.POOLED, 0.05), None)
    model.add_result(2, _result(Strategy.BASELINE, 0.70), None)
    model.add_result(3, _result(Strategy.BASELINE, 0.10, lock="spin"), None)
    model.add_result(4, _result(Strategy.SIZECLASS, 0.35, workers=2), None)
    model.add_result(5, _result(Strategy.MALLOC, 0.14, lock="adaptive"), None)

    def column(key):
        return [model.data(model.index(r, KEYS.index(key))) for r in range(5)]

    assert column("strategy") == ["pooled", "baseline", "baseline", "sizeclass", "malloc"]
    assert column("lock") == ["mutex", "mutex", "spin", "mutex", "adaptive"]
    assert column("workers") == ["per block", "per block", "per block", "2", "per block"]
    # The speedup is against the first baseline (#2): the spin baseline's gain shows.
    assert column("speedup") == [
        "— (no baseline)",
        "1.00× (baseline)",
        "7.00× vs #2",
        "2.00× vs #2",
        "5.00× vs #2",
    ]
    assert column("locks")[1:] == [
        "1,800",
        "1,800",
        f"{model.rows[3].result.lock_acquisitions:,}",
        "not observable",
    ]
    malloc_locks = model.index(4, KEYS.index("locks"))
    assert model.data(malloc_locks, Qt.ItemDataRole.UserRole) == ""
    assert model.data(malloc_locks, Qt.ItemDataRole.ToolTipRole) == (
        "not observable (malloc's locks are its own)"
    )
    csv = model.table_values()
    assert [row[KEYS.index("lock")] for row in csv] == [
        "mutex",
        "mutex",
        "spin",
        "mutex",
        "adaptive",
    ]
    assert [row[KEYS.index("workers")] for row in csv] == [0, 0, 0, 2, 0]
    assert [row[KEYS.index("speedup")] for row in csv] == ["", 1.0, 7.0, 2.0, 5.0]


def test_default_lock_and_workers_columns_hide_first(qtbot):
    model = ResultsModel()
    table = ResultsTable(model)
    qtbot.addWidget(table)
    for run_id in range(1, 4):
        model.add_result(run_id, _result(Strategy.BASELINE, 0.5), None)
    table.resize(900, 300)
    table.show()
    qtbot.waitUntil(lambda: table.hidden_columns() != [])
    assert optional_columns(model.rows) == OPTIONAL_COLUMNS
    hidden = table.hidden_columns()
    assert [k for k in OPTIONAL_COLUMNS if k in hidden] == list(OPTIONAL_COLUMNS[: len(hidden)])
    assert {"lock", "workers"} <= set(hidden)
    model.add_result(4, _result(Strategy.BASELINE, 0.1, lock="spin"), None)
    table._fit_columns()
    hidden = table.hidden_columns()
    assert "lock" not in hidden and "strategy" not in hidden and "speedup" not in hidden


# ------------------------------------------------------------------- captions


def test_sizeclass_captions():
    running = frame(
        Strategy.SIZECLASS,
        states=[SlotState.WAITING] * 3 + [SlotState.COMPUTING] * 5,
        slab_refills=12,
        lock_acquisitions=900,
    )
    assert heap_caption(running) == (
        "A lock per size class: 3 of 8 threads wait; 12 slab refills so far"
    )
    calm = frame(Strategy.SIZECLASS, states=[SlotState.COMPUTING] * 8, slab_refills=1)
    assert heap_caption(calm) == ("A lock and a free list per size class; 1 slab refill so far")
    done = frame(
        Strategy.SIZECLASS,
        RunPhase.FINISHED,
        slab_refills=4,
        lock_acquisitions=1804,
        blocks_done=20,
    )
    assert heap_caption(done) == (
        "Done: 1,804 lock acquisitions over 9 size-class locks; 4 slab refills"
    )


def test_batched_captions():
    counters = dict(cache_refills=100, cache_flushes=80, trylock_fails=12, blocks_done=20)
    assert heap_caption(frame(Strategy.BATCHED, **counters)) == (
        "Per-thread caches: one lock per refill or flush; 12 failed trylocks"
    )
    done = frame(Strategy.BATCHED, RunPhase.FINISHED, lock_acquisitions=221, **counters)
    assert heap_caption(done) == (
        "Done: per block, 5.0 cache refills and 4.0 flushes; 12 failed trylocks"
    )
    assert locks_caption(done) == "221 lock acquisitions: 11.1 per block"
    one = frame(Strategy.BATCHED, RunPhase.FINISHED, trylock_fails=1, blocks_done=0)
    assert heap_caption(one) == "Done: per block, 0 cache refills and 0 flushes; 1 failed trylock"


@pytest.mark.parametrize("strategy", [Strategy.MALLOC, Strategy.MIMALLOC, Strategy.TCMALLOC])
def test_malloc_family_captions_never_say_zero_locks(strategy):
    name = strategy.label
    running = captions(frame(strategy, states=[SlotState.COMPUTING] * 4, blocks_done=3))
    assert running["heap"] == (
        f"{name}: a production allocator's per-thread caches; locks not observable"
    )
    assert running["locks"] == (f"Locks: not observable ({name}'s locks are its own; not 0)")
    assert running["free_list"] == f"No free list to show: {name} keeps its memory to itself"
    done = captions(frame(strategy, RunPhase.FINISHED, blocks_done=20))
    assert done["heap"] == (f"Done: {name}'s per-thread caches served it all; locks not observable")
    assert " 0 lock" not in " ".join(done.values())


def test_lock_kind_and_workers_are_named_when_not_default():
    states = [SlotState.WAITING] * 19 + [SlotState.HOLDING]
    spin = frame(Strategy.BASELINE, states=states, lock=LockKind.SPIN)
    assert heap_caption(spin) == (
        "19 of 20 threads are waiting for the one heap lock (spin: waiters keep their core)"
    )
    both = frame(
        Strategy.BASELINE, RunPhase.FINISHED, lock=LockKind.ADAPTIVE, workers=2,
        lock_acquisitions=1800,
    )  # fmt: skip
    assert heap_caption(both) == (
        "Done: all 1,800 allocations and frees took turns at the one heap lock "
        "(adaptive: waiters spin, then sleep; 2 workers)"
    )
    # malloc's family has no lock of ours: only the workers are named.
    assert heap_caption(frame(Strategy.MALLOC, lock=LockKind.SPIN, workers=1)).endswith(
        "; locks not observable (1 worker)"
    )
    # The defaults add nothing.
    assert heap_caption(frame(Strategy.BASELINE, states=states)) == (
        "19 of 20 threads are waiting for the one heap lock"
    )


# ------------------------------------------------------------------- heap map


@pytest.fixture
def heap_view(qtbot):
    view = hm.HeapMapView()
    qtbot.addWidget(view)
    view.resize(900, 700)
    view.show()
    return view


def _rgb(index: int) -> str:
    return QColor(*hm.LUT[index][:3].tolist()).name()


def test_heap_map_draws_slabs_by_class_and_cached_chunks_by_thread(heap_view):
    cells = (2 << 20) // 16
    states = np.zeros(cells, np.uint8)
    owners = np.full(cells, engine.OWNER_NONE, np.uint8)
    for k in range(9):  # a slab of each class, 64 cells each, from cell 0
        states[k * 64 : (k + 1) * 64] = CellState.SLAB
        owners[k * 64 : (k + 1) * 64] = k
    states[2048:2112] = CellState.CACHED
    owners[2048:2112] = 3
    states[2112:2176] = CellState.GLOBAL
    owners[2112:2176] = 3
    heap_view.set_layout(2 << 20, 32 << 10, Strategy.SIZECLASS, 20, "Run #4 sizeclass: x")
    heap_view.show_cells(states, owners, 0.5)
    layout = heap_view.layout
    pixels = heap_view.pixels()

    def colour_of(cell):
        y, x = np.argwhere(layout.pixel_cell.reshape(layout.height, layout.width) == cell)[0]
        return _rgb(pixels[y, x])

    assert [colour_of(k * 64) for k in range(9)] == list(heap_strategies.CLASS_COLOURS)
    cached = palette.tint(palette.SLOT_COLOURS[3], heap_strategies.CACHED_TINT).name()
    assert colour_of(2048) == cached
    assert colour_of(2112) == QColor(palette.SLOT_COLOURS[3]).name()
    assert cached != colour_of(2112)
    assert heap_view.describe_cell(64 * 8) == (
        "offset 0x002000 = 8 KiB\nslab of size class 2048 B (its own lock)"
    )
    assert heap_view.describe_cell(2048).endswith(
        "free chunk cached by a thread (reused without a lock); owner: thread slot T3"
    )
    assert heap_view.peak is not None and heap_view.peak[3] == 9 * 64 + 128
    assert (
        heap_view.title_text == "Run #4 sizeclass: slabs carved per size class, one lock per class"
    )
    legend = heap_view.legend.text
    assert "slabs by size class: 16 B (dark) … 2048 B (light)" in legend
    assert all(c in legend for c in heap_strategies.CLASS_COLOURS)
    heap_view.set_layout(2 << 20, 32 << 10, Strategy.BATCHED, 20, "Run #5 batched: x")
    assert "lighter: cached, no lock" in heap_view.legend.text


@pytest.mark.parametrize("strategy", [Strategy.MALLOC, Strategy.JEMALLOC])
def test_malloc_family_map_says_it_has_none(heap_view, strategy):
    name = strategy.label
    heap_view.set_layout(2 << 20, 32 << 10, strategy, 20, f"Run #6 {name}: 20 thread slots")
    heap_view.set_hint("")  # what the live run does after laying out: the message stays
    assert heap_view.title_text == f"Run #6 {name}: no heap map: {name}'s memory is its own"
    assert heap_view.hint.isVisible()
    assert heap_view.hint.textItem.toPlainText() == f"No heap map:\n{name}'s memory is its own"
    # Wrapped to the map's width: presenting, its big words never run off the panel.
    assert 0 < heap_view.hint.textItem.textWidth() <= heap_view.vb.width()
    legend = heap_view.legend.text
    for entry in heap_strategies.no_map_legend(strategy):
        assert entry in legend
    assert legend.startswith(f"{name} allocates in memory of its own:")
    cells = (2 << 20) // 16
    heap_view.show_cells(np.zeros(cells, np.uint8), np.full(cells, 255, np.uint8), 0.2)
    assert np.unique(heap_view.pixels()).tolist() == [hm.IDX_OUTSIDE]
    assert heap_view.describe_cell(0) == ""
    # Back to a strategy with a map: the message goes.
    heap_view.set_layout(2 << 20, 32 << 10, Strategy.BASELINE, 20, "Run #7 baseline: x")
    assert not heap_view.hint.isVisible()
    assert heap_view.hint.textItem.textWidth() == -1


def test_presenting_the_picker_is_one_button_named_after_the_strategy(window, qtbot):
    open_vector(window, "words_20k.txt")
    picker = window.picker
    assert picker.run_button.text() == "▶  Run" and picker.combo.isVisible()
    window.presenter.toggle()
    try:
        assert not picker.combo.isVisible()
        assert picker.run_button.text() == "▶ sizeclass"
        window.strategy_keys.next_lock.trigger()
        window.strategy_keys.next_workers.trigger()
        assert picker.run_button.text() == "▶ sizeclass\nspin lock\n2 workers"
        assert not picker.mode_label.isVisible()  # in the button instead
        with qtbot.waitSignal(window.sig_idle, timeout=30000):
            window.strategy_keys.runs[Strategy.BATCHED].trigger()  # runs it, and picks it
        assert picker.run_button.text() == "▶ batched\nspin lock\n2 workers"
        row = window.results.rows[-1]
        assert [row.text(k) for k in ("strategy", "lock", "workers")] == ["batched", "spin", "2"]
        assert row.result.signature == WORDS["signature"]
    finally:
        window.presenter.toggle()
    assert picker.combo.isVisible() and picker.run_button.text() == "▶  Run"
    assert picker.mode_label.isVisible() and picker.strategy is Strategy.BATCHED
