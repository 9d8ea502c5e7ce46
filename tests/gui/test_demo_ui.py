"""The guided demo in the window: N / → through every stage with live runs, ← back."""
from PySide6.QtCore import Qt

from engine import Strategy
from gui.demo import STEPS, Stage
from tests.conftest import EXPECTED
from tests.gui.helpers import open_vector


def test_guided_demo_walks_every_step_live(window, qtbot):
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    open_vector(window, "ramp.bin")
    exp = EXPECTED["ramp.bin"]
    assert not window.demo_next_action.isEnabled()
    window.demo_action.trigger()
    demo = window.demo
    assert window.demo_banner.isVisibleTo(window)
    assert window.demo_banner.text().startswith(f"Step 1 of {len(STEPS)}: One thread\n"
                                                f"{STEPS[0].prompt}")
    for i, step in enumerate(STEPS):
        assert (demo.index, demo.stage) == (i, Stage.PREDICT)
        with qtbot.waitSignal(window.sig_idle, timeout=30000):
            qtbot.keyClick(window, Qt.Key_N)
        assert (demo.index, demo.stage) == (i, Stage.REVEAL)
        assert window.results.rows[-1].result.strategy is step.strategy
        if step.strategy is Strategy.POOLED:
            assert window.results.rows[-1].result.config.pool_size == step.pool_size
        assert demo.reveal_text(i) in window.demo_banner.text()
        if i < len(STEPS) - 1:
            qtbot.keyClick(window, Qt.Key_Right)
    assert demo.at_end
    rows = window.results.rows
    assert [r.result.signature for r in rows] == [exp["signature"]] * len(STEPS)
    assert rows[1].result.lock_acquisitions == exp["lock_acquisitions_baseline"]
    assert rows[2].result.lock_acquisitions == exp["lock_acquisitions_pooled"]
    assert window.demo_banner.text().split("\n")[1] == (
        f"{exp['lock_acquisitions_pooled']:,} lock acquisitions in "
        f"{rows[-1].result.wall_s:.3f} s: only the coordinator's buffer and record, 4 per block.")
    qtbot.keyClick(window, Qt.Key_Left)
    assert (demo.index, demo.stage) == (len(STEPS) - 1, Stage.PREDICT)
    qtbot.keyClick(window, Qt.Key_Left)
    assert (demo.index, demo.stage) == (len(STEPS) - 2, Stage.PREDICT)
    assert window.demo_banner.text().split("\n")[1] == STEPS[-2].prompt
    window.demo_action.trigger()
    assert window.demo is None and not window.demo_banner.isVisibleTo(window)
    assert not window.demo_next_action.isEnabled()
