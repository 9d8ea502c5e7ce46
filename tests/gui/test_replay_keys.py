"""Replay from the keyboard, the status bar during a replay, Clear runs and the
replay's fullest moment, on a crafted recording with known frame times."""

import numpy as np
import pytest
from PySide6.QtCore import Qt

from engine import OWNER_COORDINATOR, CellState, Strategy
from gui.export import _heap_copy
from gui.session_file import Session, save_session
from tests.gui.helpers import open_vector, record

#: Frame times of the crafted recording (seconds), and its duration.
TIMES = [0.0, 0.5, 1.0, 2.5, 4.0]
DURATION = 4.0
#: Cells in use per frame: the fullest is frame 4 (t = 2.5 s), the last is empty.
USED = [0, 100, 200, 300, 0]


@pytest.fixture
def crafted(tmp_path):
    """A baseline recording of 5 frames at TIMES, USED[i] cells in use at frame i."""
    session, _result, _final = record("ramp.bin", Strategy.BASELINE)
    cells = session.heap_states.shape[1]
    states = np.zeros((len(TIMES), cells), dtype=np.uint8)
    owners = np.full((len(TIMES), cells), 255, dtype=np.uint8)
    for i, used in enumerate(USED):
        states[i, :used] = CellState.GLOBAL
        owners[i, :used] = OWNER_COORDINATOR
    meta = dict(session.meta)
    meta["result"] = {**meta["result"], "wall_s": DURATION}
    series = dict(session.series)
    series["time_s"] = np.linspace(0.0, DURATION, len(series["time_s"]))
    crafted = Session(meta, series, np.array(TIMES), states, owners)
    return save_session(crafted, tmp_path / "crafted.session")


def _open(window, qtbot, path):
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    open_vector(window, "ramp.bin")
    with qtbot.waitSignal(window.sig_idle, timeout=30000):
        assert window.open_session(path), window.error_text()  # and the input's reference
    return window.replay


def test_keys_move_the_replay_to_exact_frames_and_times(window, qtbot, crafted):
    replay = _open(window, qtbot, crafted)
    assert replay.time == DURATION  # a replay opens at its end
    seen = []
    for key, modifier in (
        (Qt.Key_Home, Qt.NoModifier),
        (Qt.Key_Period, Qt.NoModifier),
        (Qt.Key_Period, Qt.NoModifier),
        (Qt.Key_Comma, Qt.NoModifier),
        (Qt.Key_Right, Qt.ShiftModifier),
        (Qt.Key_PageDown, Qt.NoModifier),
        (Qt.Key_Right, Qt.NoModifier),
        (Qt.Key_Right, Qt.NoModifier),
        (Qt.Key_Left, Qt.NoModifier),
        (Qt.Key_PageUp, Qt.NoModifier),
        (Qt.Key_Left, Qt.ShiftModifier),
        (Qt.Key_Left, Qt.ShiftModifier),
        (Qt.Key_End, Qt.NoModifier),
        (Qt.Key_Period, Qt.NoModifier),
    ):
        qtbot.keyClick(window, key, modifier)
        seen.append((replay.time, replay.bar.frame_label.text()))
    assert seen == [
        (0.0, "frame 1 of 5"),
        (0.5, "frame 2 of 5"),
        (1.0, "frame 3 of 5"),
        (0.5, "frame 2 of 5"),
        (1.5, "frame 3 of 5"),
        (2.5, "frame 4 of 5"),
        (4.0, "frame 5 of 5"),
        (4.0, "frame 5 of 5"),
        (2.5, "frame 4 of 5"),
        (1.5, "frame 3 of 5"),
        (0.5, "frame 2 of 5"),
        (0.0, "frame 1 of 5"),
        (4.0, "frame 5 of 5"),
        (4.0, "frame 5 of 5"),
    ]
    # The slider follows the keys; the heap map shows the frame at that time.
    qtbot.keyClick(window, Qt.Key_Home)
    qtbot.keyClick(window, Qt.Key_PageDown)
    assert replay.bar.slider.value() == 250
    assert replay.bar.time_label.text() == "1.000 / 4.000 s"
    assert int(np.count_nonzero(window.heap_map.cell_states() == CellState.GLOBAL)) == 200
    # K plays and pauses (so does Space: the window's pause key).
    qtbot.keyClick(window, Qt.Key_K)
    assert replay.timer.isActive() and replay.bar.play.text() == "❚❚ Pause"
    qtbot.keyClick(window, Qt.Key_K)
    assert not replay.timer.isActive() and replay.bar.play.text() == "▶ Play"
    qtbot.keyClick(window, Qt.Key_Space)
    assert replay.timer.isActive()
    qtbot.keyClick(window, Qt.Key_Period)  # a step pauses
    assert not replay.timer.isActive()


def test_the_status_bar_shows_the_replays_time_and_frame(window, qtbot, crafted):
    replay = _open(window, qtbot, crafted)
    run_id = window.results.rows[-1].run_id
    status = window.status
    assert status.strategy.text() == f"Replay #{run_id} baseline"
    assert status.elapsed.text() == "replay 4.000 / 4.000 s, frame 5 of 5"
    assert status.progress.maximum() == window.results.rows[-1].result.blocks
    assert status.progress.value() == window.results.rows[-1].result.blocks
    replay.show_at(1.2)
    assert status.elapsed.text() == "replay 1.200 / 4.000 s, frame 3 of 5"
    series = replay.session.series
    k = int(np.searchsorted(series["time_s"], 1.2, side="right"))
    assert status.progress.value() == int(series["blocks_done"][k - 1])
    assert status.locks.text() == f"{int(series['lock_acquisitions'][k - 1]):,} lock acquisitions"
    replay.bar.close_button.click()
    assert status.strategy.text() == "Idle"


def test_clear_runs_clears_the_replay_its_lanes_and_captions(window, qtbot, tmp_path):
    open_vector(window, "ramp.bin")
    window.set_speed(0.1)  # telemetry and slot states: a version 3 recording with lanes
    with qtbot.waitSignal(window.sig_idle, timeout=30000):
        assert window.start_run(Strategy.BASELINE)
    window.set_speed(1.0)
    path = window.save_session_to(tmp_path / "b.session")
    window.clear_runs()
    assert window.open_session(path), window.error_text()
    replay = window.replay
    replay.show_at(replay.session.duration_s / 2)
    assert window.timeline.timeline is not None and window.timeline.timeline.rows > 0
    assert window.captions.labels["heap"].text() != ""
    window.clear_runs()
    assert replay.session is None and replay.runs == []
    assert not replay.bar.isVisibleTo(window)
    assert window.results.rows == [] and window.charts.traces == []
    assert window.timeline.timeline is None
    assert {name: label.text() for name, label in window.captions.labels.items()} == {
        name: "" for name in window.captions.labels
    }
    assert window.status.strategy.text() == "Idle"
    assert window.status.elapsed.text() == "elapsed —"
    # Keys do nothing now (the bar is hidden), and a new replay opens as usual.
    qtbot.keyClick(window, Qt.Key_Home)
    assert replay.session is None
    assert window.open_session(path), window.error_text()
    assert len(window.results.rows) == 1


def test_the_exported_fullest_moment_of_a_replay_is_its_fullest_frame(window, qtbot, crafted):
    replay = _open(window, qtbot, crafted)
    states, _owners, when, used = window.heap_map.peak
    assert (when, used) == (2.5, 300)
    assert int(np.count_nonzero(states == CellState.GLOBAL)) == 300
    # Scrubbing to an emptier frame keeps it; the export draws it.
    replay.show_at(0.6)
    assert window.heap_map.peak[2:] == (2.5, 300)
    view = _heap_copy(window.files.export_source(), peak=True)
    try:
        assert view.title_text.endswith(": fullest moment, t = 2.500 s")
        assert int(np.count_nonzero(view.cell_states() == CellState.GLOBAL)) == 300
    finally:
        view.close()
        view.deleteLater()


def test_the_replay_bar_follows_the_windows_font(window, qtbot, crafted):
    _open(window, qtbot, crafted)
    bar = window.replay.bar
    assert bar.styleSheet() == ""  # 12 pt: the window's own size
    f = window.font()
    f.setPointSizeF(24.0)  # what presentation mode does, scaled to the screen
    window.setFont(f)
    assert bar.styleSheet() == "QFrame#replayBar, QFrame#replayBar * { font-size: 18pt; }"
    f.setPointSizeF(12.0)
    window.setFont(f)
    assert bar.styleSheet() == ""
