"""Small helpers shared by the GUI tests."""
from PySide6.QtCore import Qt

from tests.conftest import VECTORS


def run_and_wait(qtbot, window, button, timeout=30000):
    """Clicks a run button and waits until nothing runs (reference included)."""
    with qtbot.waitSignal(window.sig_idle, timeout=timeout):
        qtbot.mouseClick(button, Qt.LeftButton)


def open_vector(window, name="random_64k.bin"):
    assert window.open_input(str(VECTORS / name)), window.error_text()
