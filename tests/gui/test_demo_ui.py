"""The guided demo in the window: N / → through every stage with live runs, ← back."""

from PySide6.QtCore import Qt

from engine import Strategy
from gui.demo import STEPS, Stage, duration_text
from tests.conftest import EXPECTED
from tests.gui.helpers import open_vector


def test_guided_demo_walks_every_step_live(window, qtbot):
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    open_vector(window, "ramp.bin")
    exp = EXPECTED["ramp.bin"]
    assert not window.commands.demo_next.isEnabled()
    window.commands.demo.trigger()
    demo = window.demo.stepper
    assert window.demo.banner.isVisibleTo(window)
    assert window.demo.banner.text() == (
        f"Step 1 of {len(STEPS)}: One thread     (N / → next,  ← back)\n{STEPS[0].prompt}"
    )
    for i, step in enumerate(STEPS):
        assert (demo.index, demo.stage) == (i, Stage.PREDICT)
        with qtbot.waitSignal(window.sig_idle, timeout=30000):
            qtbot.keyClick(window, Qt.Key_N)
        assert (demo.index, demo.stage) == (i, Stage.REVEAL)
        assert window.results.rows[-1].result.strategy is step.strategy
        assert window.results.rows[-1].result.config.lock is step.lock
        if step.strategy is Strategy.POOLED:
            assert window.results.rows[-1].result.config.pool_size == step.pool_size
        assert demo.reveal_text(i) in window.demo.banner.text()
        if i < len(STEPS) - 1:
            qtbot.keyClick(window, Qt.Key_Right)
    assert demo.at_end
    rows = window.results.rows
    assert [r.result.signature for r in rows] == [exp["signature"]] * len(STEPS)
    assert rows[1].result.lock_acquisitions == exp["lock_acquisitions_baseline"]
    # The spinlock step: the same count as the mutex (WORKLOAD.md section 7).
    assert rows[2].result.lock_acquisitions == exp["lock_acquisitions_baseline"]
    assert rows[2].text("lock") == "spin"
    assert rows[3].result.lock_acquisitions == exp["lock_acquisitions_pooled"]
    # The user's lock setting was not touched by the spinlock step.
    assert window.settings_panel.lock.label == "mutex"
    assert window.demo.banner.text().split("\n")[1] == (
        f"{exp['lock_acquisitions_pooled']:,} lock acquisitions in "
        f"{duration_text(rows[-1].result.wall_s)}: only the coordinator's buffer and record, "
        "4 per block."
    )
    qtbot.keyClick(window, Qt.Key_Left)
    assert (demo.index, demo.stage) == (len(STEPS) - 1, Stage.PREDICT)
    qtbot.keyClick(window, Qt.Key_Left)
    assert (demo.index, demo.stage) == (len(STEPS) - 2, Stage.PREDICT)
    assert window.demo.banner.text().split("\n")[1] == STEPS[-2].prompt
    window.commands.demo.trigger()
    assert window.demo.stepper is None and not window.demo.banner.isVisibleTo(window)
    assert not window.commands.demo_next.isEnabled()


def test_guided_demo_from_recorded_sessions(window, qtbot, tmp_path):
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    open_vector(window, "ramp.bin")
    folder = tmp_path / "sessions"
    folder.mkdir()
    window.demo.start()
    assert window.demo.sessions == {}
    live = []
    for i in range(len(STEPS)):
        with qtbot.waitSignal(window.sig_idle, timeout=30000):
            qtbot.keyClick(window, Qt.Key_N)
        assert window.save_session_to(folder / f"{i}-step.session") is not None
        live.append(window.demo.stepper.reveal_text(i))
        qtbot.keyClick(window, Qt.Key_N)
    (folder / "junk.session").write_bytes(b"not a session")
    assert window.demo.stepper.over
    assert len(window.results.rows) == len(STEPS)

    window.demo.start(folder)  # a fresh comparison: the live runs' rows and curves go
    assert window.results.rows == [] and window.charts.traces == []
    demo = window.demo.stepper
    assert set(window.demo.sessions) == set(range(len(STEPS)))
    for i, step in enumerate(STEPS):
        assert (demo.index, demo.stage) == (i, Stage.PREDICT)
        qtbot.keyClick(window, Qt.Key_N)
        qtbot.waitUntil(lambda: not window.busy, timeout=30000)
        assert demo.stage is Stage.REVEAL
        assert window.replay.session is not None and window.replay.bar.isVisibleTo(window)
        row = window.results.rows[-1]
        assert row.result.strategy is step.strategy
        assert row.result.config.lock is step.lock  # the spinlock step replays its own
        # Same lock counts as the live run recorded for that step (wall times differ).
        assert demo.reveal_text(i).split(" in ")[0] == live[i].split(" in ")[0]
        if i < len(STEPS) - 1:
            qtbot.keyClick(window, Qt.Key_Right)
    assert demo.at_end
    assert [r.run_id for r in window.results.rows] == [t.run_id for t in window.charts.traces]
    assert len(window.results.rows) == len(STEPS)


def test_guided_demo_keeps_the_users_pool_size(qtbot):
    """The demo runs its steps with its own pool sizes; the saved setting stays the user's."""
    from gui.main_window import MainWindow, settings

    w = MainWindow()
    qtbot.addWidget(w)
    try:
        w.show()
        w.settings_panel.edits["pool_size"].setText("16K")
        open_vector(w, "ramp.bin")
        w.demo.start()
        pools = []
        for _step in STEPS:
            with qtbot.waitSignal(w.sig_idle, timeout=30000):
                w.demo.next()
            assert w.demo.stepper.stage is Stage.REVEAL, w.error_text()
            pools.append(w.results.rows[-1].result.config.pool_size)
            assert w.settings_panel.raw_values()["pool_size"] == "16K"
            w.demo.next()
        assert pools == [s.pool_size for s in STEPS]
        assert (
            w.results.rows[-1].result.lock_acquisitions
            == EXPECTED["ramp.bin"]["lock_acquisitions_pooled"]
        )
        w.demo.toggle()
        w.close()  # saves the settings
        assert settings().value("run/pool_size") == "16K"
        # A run after the demo uses the user's 16 KiB pools again.
        again = MainWindow()
        qtbot.addWidget(again)
        try:
            assert again.settings_panel.raw_values()["pool_size"] == "16K"
            open_vector(again, "ramp.bin")
            with qtbot.waitSignal(again.sig_idle, timeout=30000):
                assert again.start_run(Strategy.POOLED)
            assert again.results.rows[-1].result.config.pool_size == 16 * 1024
        finally:
            again.shutdown()
    finally:
        w.shutdown()


def test_the_demo_starts_on_clean_charts_and_ends_on_its_summary(window, qtbot):
    from gui.demo import OVER

    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    open_vector(window, "ramp.bin")
    with qtbot.waitSignal(window.sig_idle, timeout=30000):
        assert window.start_run(Strategy.BASELINE)
    assert len(window.results.rows) == 1 and len(window.charts.traces) == 1
    qtbot.keyClick(window, Qt.Key_D, Qt.ControlModifier)
    demo = window.demo.stepper
    assert demo is not None
    # Earlier runs are gone: the demo's comparison starts afresh.
    assert window.results.rows == [] and window.charts.traces == []
    for i in range(len(STEPS)):
        with qtbot.waitSignal(window.sig_idle, timeout=30000):
            qtbot.keyClick(window, Qt.Key_N)
        assert (demo.index, demo.stage) == (i, Stage.REVEAL)
        if i < len(STEPS) - 1:
            qtbot.keyClick(window, Qt.Key_N)
    assert window.demo.banner.text().startswith(
        f"Step {len(STEPS)} of {len(STEPS)}: Pools of 32 KiB     (N / → summary,  ← back)\n"
    )
    minimum_before = window.minimumSizeHint().height()
    qtbot.keyClick(window, Qt.Key_N)
    assert demo.over
    assert [r.run_id for r in window.results.rows] == list(range(2, 2 + len(STEPS)))
    banner = window.demo.banner.text()
    assert banner == "The demo is over: its summary (Ctrl+D closes it, ← back)"
    slide = window.demo.slide
    assert slide.isVisibleTo(window)
    # It covers the banner and the views, and never makes the window taller.
    assert slide.geometry().top() == window.demo.banner.geometry().top()
    assert slide.geometry().bottom() >= window.views.geometry().bottom() - 1
    assert window.minimumSizeHint().height() <= minimum_before  # not in the layout
    text = slide.text()
    for name, wall, locks, compared in demo.summary_rows():
        assert f"<b>{name}</b>" in text and f">{wall}<" in text and f">{locks}<" in text
        assert f">{compared}<" in text
    assert "<b>Remember:</b> One lock shared by twenty threads" in text
    assert f"{OVER}  (← back)" in text
    rows = window.results.rows
    assert demo.summary_lines()[1] == (
        f"2. Twenty threads, one heap lock: {duration_text(rows[1].result.wall_s)}, "
        f"{EXPECTED['ramp.bin']['lock_acquisitions_baseline']:,} locks "
        f"({_ratio_text(rows[0].result.wall_s, rows[1].result.wall_s, 'one thread')})"
    )
    # N says nothing more: no run starts, the banner stays.
    assert not window.commands.demo_next.isEnabled()
    qtbot.keyClick(window, Qt.Key_N)
    assert not window.busy and window.demo.banner.text() == banner
    assert len(window.results.rows) == len(STEPS)
    # Ctrl+D closes it (the runs stay); Ctrl+D again starts afresh on clean charts.
    qtbot.keyClick(window, Qt.Key_D, Qt.ControlModifier)
    assert window.demo.stepper is None and len(window.results.rows) == len(STEPS)
    assert not slide.isVisibleTo(window)
    qtbot.keyClick(window, Qt.Key_D, Qt.ControlModifier)
    assert window.demo.stepper.index == 0 and window.results.rows == []
    assert window.demo.banner.text() == (
        f"Step 1 of {len(STEPS)}: One thread     (N / → next,  ← back)\n{STEPS[0].prompt}"
    )
    assert window.commands.demo_next.isEnabled()


def _ratio_text(before: float, now: float, name: str) -> str:
    from gui.demo import ratio_words

    return ratio_words(before / now, name)
