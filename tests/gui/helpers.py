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


def rewrite_session(src, dst, edit):
    """Copies a session file with its meta.json changed by ``edit(meta)`` (crafted sessions)."""
    import json
    import zipfile

    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "meta.json":
                meta = json.loads(data)
                edit(meta)
                data = json.dumps(meta).encode()
            zout.writestr(info.filename, data)
    return dst


def count_thread_starts(monkeypatch):
    """A list that gets every QThread started from now on."""
    from PySide6.QtCore import QThread

    started = []
    original = QThread.start

    def start(self, *args, **kwargs):
        started.append(self.objectName())
        return original(self, *args, **kwargs)

    monkeypatch.setattr(QThread, "start", start)
    return started
