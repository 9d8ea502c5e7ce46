"""Recorded runs: save the last live run, reopen it, scrub it; bad files stay harmless."""

import numpy as np
import pytest
from PySide6.QtCore import Qt

from gui.results_table import KEYS
from gui.session_file import load_session
from tests.conftest import EXPECTED
from tests.gui.helpers import open_vector, run_and_wait


def test_save_then_reopen_gives_the_same_row_and_final_heap_map(window, qtbot, tmp_path):
    open_vector(window)
    assert window.save_session_to(tmp_path / "none.session") is None
    assert window.error_text().startswith("no finished run to save yet")
    run_and_wait(qtbot, window, window.pooled_button)
    live = window.results.rows[0]
    live_pixels = window.heap_map.pixels()
    live_curve = window.charts.views["locks"].curve_data(1)[1].tolist()
    path = window.save_session_to(tmp_path / "pooled.session")
    assert path == tmp_path / "pooled.session" and path.is_file()
    session = load_session(path)
    assert len(session.frame_times) >= 2
    assert session.result["signature"] == EXPECTED["random_64k.bin"]["signature"]

    window.clear_runs()
    assert window.open_session(path), window.error_text()
    assert window.replay.bar.isVisibleTo(window)
    row = window.results.rows[0]
    for key in KEYS:
        if key not in ("run", "speedup"):
            assert row.text(key) == live.text(key), key
    assert row.result.signature == live.result.signature
    assert row.result.lock_acquisitions == live.result.lock_acquisitions
    assert row.result.counters == live.result.counters
    assert row.result.wall_s == live.result.wall_s
    # The slider's end shows the final heap map and the whole curve.
    assert window.replay.bar.slider.value() == window.replay.bar.slider.maximum()
    assert np.array_equal(window.heap_map.pixels(), live_pixels)
    assert window.charts.views["locks"].curve_data(row.run_id)[1].tolist() == live_curve
    assert window.captions.labels["heap"].text().startswith("Done: the pools served ")
    # The start shows the first frame and an empty curve.
    window.replay.bar.slider.setValue(0)
    assert window.replay.time == 0.0
    y = window.charts.views["locks"].curve_data(row.run_id)[1]
    assert y is None or len(y) <= 1
    assert window.captions.labels["heap"].text() == (
        "Each thread allocates from its own pool: no lock taken"
    )
    assert window.replay.bar.time_label.text() == f"0.000 / {session.duration_s:.3f} s"
    # Playing at full speed reaches the end again.
    window.replay.bar.speed.setCurrentIndex(0)
    window.replay.toggle_play()
    qtbot.waitUntil(lambda: window.replay.bar.slider.value() == 1000, timeout=20000)
    qtbot.waitUntil(lambda: not window.replay.timer.isActive(), timeout=5000)
    assert np.array_equal(window.heap_map.pixels(), live_pixels)


@pytest.mark.parametrize("content", [b"", b"PK\x03\x04 truncated", b"hello, not a session"])
def test_a_bad_session_file_shows_its_message_and_the_app_stays_usable(
    window, qtbot, tmp_path, content
):
    from gui.session_file import SessionError

    bad = tmp_path / "bad.session"
    bad.write_bytes(content)
    with pytest.raises(SessionError) as expected:
        load_session(bad)
    open_vector(window)
    assert not window.open_session(bad)
    assert window.error_text() == str(expected.value)
    assert "\n" not in window.error_text()
    assert window.replay.session is None and window.results.rows == []
    run_and_wait(qtbot, window, window.baseline_button)
    assert window.results.rows[0].result.signature == EXPECTED["random_64k.bin"]["signature"]


def test_ctrl_s_and_ctrl_shift_o_are_bound(window):
    shortcuts = {a.text(): [s.toString() for s in a.shortcuts()] for a in window.actions()}
    assert shortcuts["&Save session…"] == ["Ctrl+S"]
    assert shortcuts["Open s&ession…"] == ["Ctrl+Shift+O"]


def test_several_sessions_side_by_side(window, qtbot, tmp_path):
    open_vector(window)
    run_and_wait(qtbot, window, window.baseline_button)
    base = window.save_session_to(tmp_path / "baseline.session")
    run_and_wait(qtbot, window, window.pooled_button)
    pooled = window.save_session_to(tmp_path / "pooled.session")
    live_curves = {i: window.charts.views["locks"].curve_data(i)[1].tolist() for i in (1, 2)}
    window.clear_runs()
    assert window.open_session(base) and window.open_session(pooled)
    window.replay.bar.slider.setValue(0)  # scrubbing the second one...
    rows = window.results.rows
    exp = EXPECTED["random_64k.bin"]
    assert [r.result.lock_acquisitions for r in rows] == [
        exp["lock_acquisitions_baseline"],
        exp["lock_acquisitions_pooled"],
    ]
    assert rows[1].text("speedup") == f"{rows[1].speedup:.2f}× vs #{rows[0].run_id}"
    # ...leaves the first one's whole curve on the chart.
    first = window.charts.views["locks"].curve_data(rows[0].run_id)[1].tolist()
    assert first == live_curves[1]
    assert [t.label.endswith("— replay") for t in window.charts.traces] == [True, True]


def test_space_plays_and_pauses_a_replay(window, qtbot, tmp_path):
    open_vector(window)
    run_and_wait(qtbot, window, window.baseline_button)
    path = window.save_session_to(tmp_path / "baseline.session")
    assert window.open_session(path)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    qtbot.keyClick(window, Qt.Key_Space)
    assert window.replay.timer.isActive() and window.replay.bar.play.text() == "❚❚ Pause"
    qtbot.keyClick(window, Qt.Key_Space)
    assert not window.replay.timer.isActive() and window.replay.bar.play.text() == "▶ Play"
    qtbot.keyClick(window, Qt.Key_Space)
    qtbot.waitUntil(lambda: not window.replay.timer.isActive(), timeout=20000)
    assert window.replay.bar.slider.value() == 1000
    assert window.captions.labels["heap"].text().startswith("Done: all ")


def test_a_spin_lock_two_worker_run_saves_and_reopens_as_itself(window, qtbot, tmp_path):
    """Session format 5 keeps the lock kind and the workers: a run with 2 long-lived
    workers has 2 slots, not 20, and reopens with its lock, workers and caption."""
    open_vector(window)
    window.settings_panel.set_lock("spin")
    window.settings_panel.set_workers(2)
    run_and_wait(qtbot, window, window.baseline_button)
    live = window.results.rows[0]
    path = window.save_session_to(tmp_path / "spin2.session")
    session = load_session(path)
    assert session.meta["version"] == 5
    assert (session.config["lock"], session.config["workers"]) == ("spin", 2)
    assert session.meta["slot_count"] == 2

    window.clear_runs()
    assert window.open_session(path), window.error_text()
    row = window.results.rows[0]
    assert [row.text("lock"), row.text("workers")] == ["spin", "2"]
    assert row.result.lock_acquisitions == live.result.lock_acquisitions
    assert row.result.lock_acquisitions == EXPECTED["random_64k.bin"]["lock_acquisitions_baseline"]
    assert (
        window.captions.labels["heap"].text().endswith("(spin: waiters keep their core; 2 workers)")
    )
