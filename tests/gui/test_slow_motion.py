"""Slow motion told honestly: slowed runs are marked in the row, the curve, the
session and its replay; they get no speedup and are never a baseline; the time
axis can show full-speed time."""

import numpy as np
import pytest

from engine import Strategy
from gui.charts import curve
from gui.results_table import KEYS
from gui.session_file import load_session
from gui.slow_motion import SpeedLog, full_speed_series, speed_text
from tests.conftest import EXPECTED
from tests.gui.helpers import open_vector

RAMP = EXPECTED["ramp.bin"]


SAID = []


def _run(window, qtbot, strategy, speed):
    window.set_speed(speed)
    with qtbot.waitSignal(window.sig_run_finished, timeout=60000):
        assert window.start_run(strategy), window.error_text()
    SAID.append(window.statusBar().currentMessage())
    qtbot.waitUntil(lambda: not window.busy, timeout=60000)
    window.set_speed(1.0)
    return window.results.rows[-1]


def test_speed_log_labels_and_full_speed_time():
    assert [speed_text(f) for f in (1.0, 0.1, 0.01, 0.001)] == ["1×", "1/10", "1/100", "1/1000"]
    assert SpeedLog().label == "" and not SpeedLog().slowed
    assert SpeedLog.at(0.01).label == "slowed 1/100"
    log = SpeedLog.at(0.1).changed(2.0, 0.01)
    assert log.changes == ((0.0, 0.1), (2.0, 0.01))
    assert log.label == "slowed 1/10 to 1/100"
    assert SpeedLog.at(1.0).changed(1.0, 0.01).label == "partly slowed, 1× to 1/100"
    assert SpeedLog.at(0.1).changed(1.0, 0.1) == SpeedLog.at(0.1)  # no change, no entry
    # Each second at speed s counts s seconds.
    assert log.full_speed_time(np.array([0.0, 1.0, 2.0, 3.0, 12.0])).tolist() == pytest.approx(
        [0.0, 0.1, 0.2, 0.21, 0.3]
    )
    series = {"time_s": np.array([0.0, 2.0, 4.0]), "lock_acquisitions": np.array([0, 5, 9])}
    out = full_speed_series(series, log)
    assert out["time_s"].tolist() == pytest.approx([0.0, 0.2, 0.22])
    assert out["lock_acquisitions"] is series["lock_acquisitions"]


def test_a_slowed_run_is_marked_everywhere_and_gets_no_speedup(window, qtbot, tmp_path):
    open_vector(window, "ramp.bin")
    slow = _run(window, qtbot, Strategy.BASELINE, 0.01)
    assert slow.result.lock_acquisitions == RAMP["lock_acquisitions_baseline"]
    assert slow.text("speedup") == "slowed 1/100: no speedup"
    assert slow.value("speedup") == "slowed 1/100"
    assert slow.speedup is None and slow.baseline_run is None
    trace = window.charts.traces[0]
    assert trace.label == "#1 baseline — slowed 1/100 (20 threads, 1 lock)"
    assert trace.short_label == "#1 baseline — slowed 1/100"
    assert SAID[-1].startswith(f"Run #1 baseline: {slow.result.wall_s:.3f} s (slowed 1/100: ")
    # A pooled run after it has no baseline at full speed to compare with.
    pooled = _run(window, qtbot, Strategy.POOLED, 1.0)
    assert pooled.text("speedup") == "— (no baseline)" and pooled.speedup is None
    # A baseline at full speed is the one later runs compare with.
    fast = _run(window, qtbot, Strategy.BASELINE, 1.0)
    assert fast.text("speedup") == "1.00× (baseline)"
    pooled2 = _run(window, qtbot, Strategy.POOLED, 1.0)
    assert pooled2.baseline_run == fast.run_id
    assert pooled2.speedup == fast.result.wall_s / pooled2.result.wall_s
    assert pooled2.text("speedup") == f"{pooled2.speedup:.2f}× vs #{fast.run_id}"
    # The CSV values (the export) say it too.
    values = window.results.table_values()
    assert [row[KEYS.index("speedup")] for row in values] == [
        "slowed 1/100",
        "",
        1.0,
        round(pooled2.speedup, 2),
    ]

    # The session records the speeds; its replay is marked the same way.
    window.save_session_to(tmp_path / "pooled.session")  # the last run: full speed
    assert "slow_motion" not in load_session(tmp_path / "pooled.session").meta
    window.clear_runs()
    slow = _run(window, qtbot, Strategy.BASELINE, 0.01)
    path = window.save_session_to(tmp_path / "slow.session")
    session = load_session(path)
    assert session.meta["version"] == 4
    assert session.meta["slow_motion"] == [[0.0, 0.01]]
    assert session.speeds == SpeedLog.at(0.01)
    assert window.open_session(path), window.error_text()
    row = window.results.rows[-1]
    assert row.text("speedup") == "slowed 1/100: no speedup"
    assert window.charts.traces[-1].label == (
        f"#{row.run_id} baseline — slowed 1/100 (20 threads, 1 lock) — replay"
    )


def test_the_time_axis_can_show_full_speed_time(window, qtbot):
    open_vector(window, "ramp.bin")
    slow = _run(window, qtbot, Strategy.BASELINE, 0.01)
    fast = _run(window, qtbot, Strategy.POOLED, 1.0)
    view = window.charts.views["locks"]
    recorded = slow.result.series
    assert np.array_equal(view.curve_data(slow.run_id)[0], curve("locks", recorded)[0])
    window.live.full_speed.set_on(True)
    x, y = view.curve_data(slow.run_id)
    expected = curve("locks", full_speed_series(recorded, SpeedLog.at(0.01)))
    assert np.array_equal(x, expected[0]) and np.array_equal(y, expected[1])
    assert x[-1] == pytest.approx(recorded["time_s"][-1] * 0.01)
    # A run at full speed is drawn as recorded.
    assert np.array_equal(view.curve_data(fast.run_id)[0], curve("locks", fast.result.series)[0])
    # The axis says which time it shows (the bottom chart names the axis).
    named = [v for v in window.charts.views.values() if v.show_time_label]
    assert named
    for v in named:
        label = v.getPlotItem().getAxis("bottom").labelText
        assert label in ("full-speed time (slowed runs: time × speed)", "full-speed time")
    window.live.full_speed.set_on(False)
    assert np.array_equal(view.curve_data(slow.run_id)[0], curve("locks", recorded)[0])
    for v in named:
        label = v.getPlotItem().getAxis("bottom").labelText
        assert label in ("time since the run started", "time")


def test_a_speed_change_during_a_run_is_recorded_and_named(window, qtbot):
    open_vector(window, "ramp.bin")
    window.set_speed(0.001)
    with qtbot.waitSignal(window.sig_run_started, timeout=30000):
        assert window.start_run(Strategy.BASELINE), window.error_text()
    job = window.controller.current_job
    assert window.charts.traces[0].label == "#1 baseline — slowed 1/1000 (20 threads, 1 lock)"
    with qtbot.waitSignal(window.sig_idle, timeout=60000):
        window.set_speed(1.0)  # the rest of the run at full speed
    changes = job.speeds.changes
    assert [f for _t, f in changes] == [0.001, 1.0] and changes[0][0] == 0.0
    assert 0.0 <= changes[1][0] <= window.results.rows[0].result.wall_s + 0.01
    row = window.results.rows[0]
    assert row.text("speedup") == "partly slowed, 1× to 1/1000: no speedup"
    assert window.charts.traces[0].label == (
        "#1 baseline — partly slowed, 1× to 1/1000 (20 threads, 1 lock)"
    )
    assert window.recording.last_session.meta["slow_motion"] == [list(c) for c in changes]


def test_save_lecture_asks_where_and_remembers_the_folder(window, qtbot, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    from gui.app_settings import AppSettings
    from gui.lecture_file import load_lecture

    assert [s.toString() for s in window.commands.save_lecture.shortcuts()] == ["Ctrl+Shift+S"]
    assert [s.toString() for s in window.commands.full_speed.shortcuts()] == ["T"]
    asked = []
    monkeypatch.setattr(
        QFileDialog,
        "getSaveFileName",
        lambda *a, **k: (asked.append(a[1]), (str(tmp_path / "talk.session"), ""))[1],
    )
    window.files.ask_save_lecture()  # nothing on screen: no dialog, a message
    assert asked == [] and window.error_text() == (
        "no finished run to save yet: run baseline (B) or pooled (P) first"
    )
    open_vector(window, "ramp.bin")
    _run(window, qtbot, Strategy.POOLED, 1.0)
    window.files.ask_save_lecture()
    assert asked == ["Save every run as a lecture file"]
    assert load_lecture(tmp_path / "talk.session").numbers == [1]
    assert AppSettings().session_dir == str(tmp_path)


def test_speedups_are_against_the_first_full_speed_baseline(window, qtbot):
    open_vector(window, "ramp.bin")
    slow = _run(window, qtbot, Strategy.BASELINE, 0.1)
    first = _run(window, qtbot, Strategy.BASELINE, 1.0)
    second = _run(window, qtbot, Strategy.BASELINE, 1.0)
    pooled = _run(window, qtbot, Strategy.POOLED, 1.0)
    assert slow.text("speedup") == "slowed 1/10: no speedup"
    assert (first.speedup, first.baseline_run) == (1.0, first.run_id)
    assert first.text("speedup") == "1.00× (baseline)"
    assert second.baseline_run == first.run_id
    assert second.speedup == first.result.wall_s / second.result.wall_s
    assert pooled.baseline_run == first.run_id
    assert pooled.speedup == first.result.wall_s / pooled.result.wall_s
