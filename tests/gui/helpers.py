"""Small helpers shared by the GUI tests."""

from PySide6.QtCore import Qt

import engine
from engine import RunConfig, Strategy
from gui import session_file
from gui.session_file import SessionRecorder
from tests.conftest import VECTORS


def run_and_wait(qtbot, window, button, timeout=30000):
    """Clicks a run button and waits until nothing runs (reference included)."""
    with qtbot.waitSignal(window.sig_idle, timeout=timeout):
        qtbot.mouseClick(button, Qt.LeftButton)


def open_vector(window, name="random_64k.bin"):
    assert window.open_input(str(VECTORS / name)), window.error_text()


def assert_baseline_then_pooled(rows, expected):
    """Two result rows, baseline then pooled, with the vector's signature and lock counts."""

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


def record(name="random_64k.bin", strategy=Strategy.POOLED):
    """A real run recorded as a session: (session, result, final heap states),
    with a heap-map frame before the run and one after."""
    path = VECTORS / name
    handle = engine.Run(path, RunConfig(strategy=strategy))
    recorder = SessionRecorder(handle.heap_cells)
    recorder.add_frame(0.0, handle.heap_states, handle.heap_owners)
    result = handle.execute()
    recorder.add_frame(result.wall_s, handle.heap_states, handle.heap_owners)
    session = recorder.finish(
        input_identity=session_file.file_identity(path),
        config={
            "strategy": strategy.label,
            "heap_size": handle.config.heap_size,
            "pool_size": handle.config.pool_size,
            "batch_size": handle.config.batch_size,
            "block_size": handle.config.block_size,
        },
        result=result.as_dict(),
        series=result.series,
        slot_count=handle.slot_count,
        pool_reserved=handle.pool_reserved,
    )
    final_states = handle.heap_states.copy()
    handle.close()
    return session, result, final_states
