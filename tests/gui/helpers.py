"""Small helpers shared by the GUI tests."""
from PySide6.QtCore import Qt

from tests.conftest import VECTORS


def run_and_wait(qtbot, window, button, timeout=30000):
    """Clicks a run button and waits until nothing runs (reference included)."""
    with qtbot.waitSignal(window.sig_idle, timeout=timeout):
        qtbot.mouseClick(button, Qt.LeftButton)


def open_vector(window, name="random_64k.bin"):
    assert window.open_input(str(VECTORS / name)), window.error_text()


def assert_baseline_then_pooled(rows, expected):
    """Two result rows, baseline then pooled, with the vector's signature and lock counts."""
    from engine import Strategy

    assert [r.result.strategy for r in rows] == [Strategy.BASELINE, Strategy.POOLED]
    assert [r.result.signature for r in rows] == [expected["signature"]] * 2
    assert rows[0].result.lock_acquisitions == expected["lock_acquisitions_baseline"]
    assert rows[1].result.lock_acquisitions == expected["lock_acquisitions_pooled"]
