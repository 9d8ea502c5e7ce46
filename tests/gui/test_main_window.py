"""The window end to end: runs, table, heap map, errors, stop, settings."""

import numpy as np
import pytest
from PySide6.QtCore import Qt

from engine import CellState, HeapExhausted, InputError, RunCancelled, RunConfig, Strategy
from gui import heap_map as hm
from gui.main_window import MainWindow, settings
from gui.results_table import KEYS
from tests.conftest import EXPECTED, VECTORS
from tests.gui.helpers import assert_baseline_then_pooled, open_vector, run_and_wait


def cell(row, key):
    return row.text(key), row.value(key)


def test_baseline_then_pooled_fill_the_table(window, qtbot):
    open_vector(window)
    exp = EXPECTED["random_64k.bin"]
    assert window.input_panel.name.text() == "Input: random_64k.bin"
    assert (
        "64 KiB" in window.input_panel.info.text()
        and "64 blocks of 1 KiB" in window.input_panel.info.text()
    )

    run_and_wait(qtbot, window, window.baseline_button)
    run_and_wait(qtbot, window, window.pooled_button)

    rows = window.results.rows
    assert_baseline_then_pooled(rows, exp)
    # The single-threaded reference was computed once and both rows match it.
    assert [r.reference for r in rows] == [exp["signature"]] * 2
    assert rows[0].text("signature") == f"{exp['signature']}  ✓"
    assert rows[0].text("locks") == "64,620"
    assert rows[1].text("locks") == "256"
    # Speedup against the baseline on the same input: filled, and consistent.
    speedup = rows[1].speedup
    assert speedup == pytest.approx(rows[0].result.wall_s / rows[1].result.wall_s)
    assert rows[1].text("speedup") == f"{speedup:.2f}× vs #1"
    assert rows[0].text("speedup") == "1.00× (baseline)"
    model = window.results
    assert model.rowCount() == 2
    assert model.data(model.index(1, KEYS.index("locks"))) == "256"
    assert model.data(model.index(1, KEYS.index("locks")), Qt.UserRole) == 256
    assert window.status.progress.value() == window.status.progress.maximum() == 64

    # Charts: one curve per run on each chart, ending at the run's lock count.
    for run_id, row in ((1, rows[0]), (2, rows[1])):
        x, y = window.charts.views["locks"].curve_data(run_id)
        assert y[-1] == row.result.lock_acquisitions
        assert x[-1] == pytest.approx(row.result.series["time_s"][-1])
    legend = [t.label for t in window.charts.traces]
    assert legend == ["#1 baseline (20 threads, 1 lock)", "#2 pooled (20 threads, 32 KiB pools)"]


def test_heap_map_shows_pools_during_and_after_a_pooled_run(window, qtbot):
    open_vector(window)
    used_seen = []

    def slow_down(_run_id):
        window.controller.current_run.set_speed(0.002)  # slow motion, so the test sees the run live

    window.sig_run_started.connect(slow_down)
    qtbot.mouseClick(window.pooled_button, Qt.LeftButton)

    def pool_cells_in_use():
        layout = window.heap_map.layout
        pixels = window.heap_map.pixels()
        hues = len(hm.palette.SLOT_COLOURS)
        used = (pixels >= 8 + hues) & (pixels < 8 + 2 * hues)
        assert used.any()
        # Pool-used pixels lie in the pool tiles only (the first 20 tiles).
        ys, xs = np.nonzero(used)
        cells = layout.pixel_cell[ys * layout.width + xs]
        assert cells.max() < 20 * layout.pool_cells
        used_seen.append(int(used.sum()))

    qtbot.waitUntil(pool_cells_in_use, timeout=20000)
    assert window.busy
    with qtbot.waitSignal(window.sig_idle, timeout=30000):
        window.controller.current_run.set_speed(1.0)
    assert used_seen and used_seen[0] > 0

    # After the run the pools are reserved, one pale hue per slot, tile by tile.
    layout = window.heap_map.layout
    assert (layout.width, layout.height, layout.pools) == (512, 256, 20)
    pixels = window.heap_map.pixels()
    for slot in range(20):
        r = layout.tile_rect(slot)
        tile = pixels[int(r.top()) : int(r.bottom()), int(r.left()) : int(r.right())]
        expected = hm.colour_indices(
            np.array([CellState.POOL_RESERVED], np.uint8), np.array([slot], np.uint8)
        )[0]
        assert (tile == expected).all(), slot
    assert len({tuple(hm.LUT[i][:3]) for i in np.unique(pixels)}) >= 20
    # The tooltip names offset, state and owner.
    text = window.heap_map.describe_cell(3 * layout.pool_cells + 5)
    assert text.splitlines() == [
        "offset 0x018050 = 96.1 KiB (pool of T3)",
        "pool, reserved but unused; owner: thread slot T3",
    ]


def test_stop_mid_run_keeps_the_app_usable(window, qtbot):
    open_vector(window)
    window.sig_run_started.connect(lambda _id: window.controller.current_run.set_speed(0.001))
    qtbot.mouseClick(window.baseline_button, Qt.LeftButton)
    qtbot.waitUntil(
        lambda: window.status.progress.value() > 0 or window.status.locks.text() != "",
        timeout=20000,
    )
    assert window.stop_button.isEnabled() and not window.baseline_button.isEnabled()
    with qtbot.waitSignal(window.sig_run_failed, timeout=5000) as failed:
        qtbot.mouseClick(window.stop_button, Qt.LeftButton)
    assert isinstance(failed.args[0], RunCancelled)
    qtbot.waitUntil(lambda: not window.busy, timeout=5000)
    assert window.results.rows == []
    assert window.error_text() == ""
    assert window.charts.traces[0].label.endswith("— stopped")
    assert window.baseline_button.isEnabled() and not window.stop_button.isEnabled()
    # The next run works.
    run_and_wait(qtbot, window, window.pooled_button)
    assert window.results.rows[0].result.signature == EXPECTED["random_64k.bin"]["signature"]


def test_heap_too_small_shows_the_engine_message_and_next_run_works(window, qtbot):
    open_vector(window)
    window.settings_panel.edits["heap_size"].setText("16K")
    # Pooled is refused inline: 20 pools of 32 KiB cannot fit in 16 KiB.
    expected_pooled = str(
        pytest.raises(InputError, RunConfig, strategy=Strategy.POOLED, heap_size=16384).value
    )
    assert window.settings_panel.general_error.text() == f"Pooled: {expected_pooled}"
    assert not window.pooled_button.isEnabled() and window.baseline_button.isEnabled()

    with qtbot.waitSignal(window.sig_run_failed, timeout=20000) as failed:
        qtbot.mouseClick(window.baseline_button, Qt.LeftButton)
    exc = failed.args[0]
    assert isinstance(exc, HeapExhausted)
    assert str(exc).startswith("heap exhausted: ")
    assert window.error_text() == f"Run #1 (baseline) failed: {exc}"
    qtbot.waitUntil(lambda: not window.busy, timeout=5000)
    assert window.results.rows == [] and window.charts.traces == []

    window.settings_panel.edits["heap_size"].setText("2M")
    assert window.pooled_button.isEnabled()
    run_and_wait(qtbot, window, window.baseline_button)
    assert window.error_text() == ""
    row = window.results.rows[0]
    assert row.result.lock_acquisitions == EXPECTED["random_64k.bin"]["lock_acquisitions_baseline"]


def test_settings_refuse_bad_values_inline_with_the_valid_range(window):
    panel = window.settings_panel
    panel.edits["pool_size"].setText("10")
    expected = str(pytest.raises(InputError, RunConfig, pool_size=10).value)
    assert expected == "pool size must be between 256 and 16777216 (got 10)"
    assert panel.errors["pool_size"].text() == expected
    assert not panel.errors["pool_size"].isHidden()
    assert not window.pooled_button.isEnabled() and not window.baseline_button.isEnabled()

    panel.edits["block_size"].setText("lots")
    assert panel.errors["block_size"].text() == (
        "'lots' is not a size: use bytes or a K/M suffix, e.g. 2M, 32K, 1024"
    )
    panel.edits["pool_size"].setText("8K")
    panel.edits["block_size"].setText("2K")
    assert panel.errors["pool_size"].isHidden() and panel.errors["block_size"].isHidden()
    assert window.pooled_button.isEnabled() and window.baseline_button.isEnabled()
    config = panel.config_for(Strategy.POOLED)
    assert (config.pool_size, config.block_size, config.heap_size) == (8192, 2048, 2097152)
    # The batch size cannot leave the engine's range at all.
    assert (panel.edits["batch_size"].minimum(), panel.edits["batch_size"].maximum()) == (1, 128)


def test_open_errors_are_shown_and_the_input_is_kept(window, tmp_path):
    open_vector(window, "words_20k.txt")
    missing = tmp_path / "missing.bin"
    assert not window.open_input(str(missing))
    assert window.error_text() == f"cannot open '{missing}': No such file or directory"
    assert not window.open_input(str(tmp_path))
    assert window.error_text() == f"cannot read '{tmp_path}': it is a directory, not a regular file"
    assert window.input_path == str(VECTORS / "words_20k.txt")
    assert window.baseline_button.isEnabled()
    open_vector(window, "ramp.bin")
    assert window.error_text() == ""


def test_generated_input_lands_in_the_user_data_folder(window, tmp_path):
    path = window.generate_input("text", 64 * 1024)
    assert path == tmp_path / "user-data" / "inputs" / "text_64KiB.txt"
    assert path.stat().st_size == 65536
    assert window.input_path == str(path)
    assert window.input_panel.info.text().startswith("64 KiB  ·  64 blocks of 1 KiB")


def test_settings_and_layout_persist(qtbot, tmp_path):
    first = MainWindow()
    qtbot.addWidget(first)
    first.show()
    first.settings_panel.edits["pool_size"].setText("8K")
    first.settings_panel.edits["batch_size"].setValue(8)
    first.charts.log_box.setChecked(True)
    first.resize(1500, 900)
    first.open_input(str(VECTORS / "words_20k.txt"))
    first.close()

    second = MainWindow()
    qtbot.addWidget(second)
    second.show()
    assert second.settings_panel.raw_values()["pool_size"] == "8K"
    assert second.settings_panel.raw_values()["batch_size"] == "8"
    assert second.charts.log_box.isChecked()
    # The offscreen screen is small, so compare what was stored, not the clamped size.
    stored = settings()
    assert stored.value("window/geometry") == first.saveGeometry()
    assert stored.value("window/main_split") == first.main_split.saveState()
    assert second.input_path == str(VECTORS / "words_20k.txt")
    second.close()


def test_closing_mid_run_stops_it_cleanly(qtbot):
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    open_vector(w)
    w.sig_run_started.connect(lambda _id: w.controller.current_run.set_speed(0.001))
    qtbot.mouseClick(w.baseline_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: w.busy and w.controller.current_job.runner.is_running(), timeout=5000)
    thread = w.controller.current_job.runner.thread
    w.close()
    assert not thread.isRunning()
    assert not w.busy


def test_keyboard_shortcuts_run_and_stop(window, qtbot):
    open_vector(window, "words_20k.txt")
    shortcuts = {a.text(): [s.toString() for s in a.shortcuts()] for a in window.actions()}
    assert shortcuts["Run &Baseline (global lock)"] == ["B", "Ctrl+B"]
    assert shortcuts["Run &Pooled (per-thread pools)"] == ["P", "Ctrl+P"]
    assert shortcuts["&Stop"][:2] == ["S", "Esc"]
    assert shortcuts["&Export PNGs and CSVs…"] == ["E", "Ctrl+E"]
    assert shortcuts["&Open input…"] == ["Ctrl+O"]
    with qtbot.waitSignal(window.sig_idle, timeout=20000):
        window.commands.pooled.trigger()
    assert window.results.rows[0].result.signature == EXPECTED["words_20k.txt"]["signature"]


def test_rate_and_log_toggles(window, qtbot):
    open_vector(window)
    run_and_wait(qtbot, window, window.baseline_button)
    view = window.charts.views["locks"]
    window.commands.rate.trigger()
    assert view.rate and view.title_text in (
        "Lock acquisitions per second",
        "Lock acquisitions / s",
    )
    x, y = view.curve_data(1)
    assert len(x) > 0 and np.all(y >= 0) and y.max() > 0
    window.commands.log.trigger()
    assert view.log and view.getPlotItem().getAxis("left").logMode
    window.commands.rate.trigger()
    window.commands.log.trigger()
    assert view.title_text in ("Lock acquisitions (cumulative)", "Lock acquisitions")


def test_clear_runs(window, qtbot):
    open_vector(window, "words_20k.txt")
    run_and_wait(qtbot, window, window.pooled_button)
    assert window.results.rowCount() == 1
    qtbot.mouseClick(window.clear_button, Qt.LeftButton)
    assert window.results.rowCount() == 0 and window.charts.traces == []


def test_samples_menu_opens_a_bundled_sample(window):
    actions = [a for a in window.input_panel.samples_menu.actions() if a.isEnabled()]
    assert [a.text() for a in actions] == [
        "random_1MiB.bin  (1 MiB)",
        "skewed_256KiB.bin  (256 KiB)",
        "text_256KiB.txt  (256 KiB)",
    ]
    actions[2].trigger()
    assert window.input_panel.name.text() == "Input: text_256KiB.txt"
    assert window.input_panel.info.text().startswith("256 KiB  ·  256 blocks of 1 KiB")


def test_generate_dialog_choice(qtbot):
    from gui.dialogs import GenerateDialog

    dialog = GenerateDialog()
    qtbot.addWidget(dialog)
    dialog.kind.setCurrentIndex(dialog.kind.findData("skewed"))
    dialog.amount.setValue(5)
    dialog.unit.setCurrentText("MiB")
    assert dialog.choice() == ("skewed", 5 * 1024 * 1024)
    dialog.unit.setCurrentText("KiB")
    assert dialog.choice() == ("skewed", 5 * 1024)


def test_after_the_signature_check_the_status_bar_shows_the_finished_run(window, qtbot):
    """The first run on an input is followed by a single-thread reference run; when it
    ends the status bar shows the finished run again (it read 'Idle', '1 / 1 blocks')."""
    open_vector(window)
    with qtbot.waitSignal(window.live.sig_reference_ready, timeout=30000):
        assert window.start_run(Strategy.BASELINE)
    qtbot.waitUntil(lambda: not window.busy, timeout=30000)
    status = window.status
    assert status.strategy.text() == "Finished #1 baseline"
    assert status.progress.maximum() == status.progress.value() == 64
    window.clear_runs()
    assert window.live._last_finished is None
