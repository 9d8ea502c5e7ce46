#!/usr/bin/env python3
"""RSS of the GUI after 1 run and after N runs (not part of the test suite).

Opens a MainWindow offscreen (settings and data folder in a temporary
directory, so the user's own settings are never touched), opens
tests/vectors/random_64k.bin and runs pooled N times through the window's
public API (``start_run`` + ``sig_idle``), in two modes:

- ``clear``: Clear runs after every run (rows and curves dropped);
- ``keep``: every row and curve stays (each row keeps a copy of its series
  and each curve its chart items, so RSS grows with what is shown), then one
  Clear runs at the end.

It prints VmRSS after the 1st run, after the Nth and after a final Clear
runs, and how many ``engine.Run`` / ``gui.worker.RunWorker`` objects are
still alive after the Nth run.

    .venv/bin/python bench/gui_memory.py [--runs 100] [--strategy pooled]
"""

from __future__ import annotations

import argparse
import gc
import os
import pathlib
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def rss_mib() -> float:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def alive(cls) -> int:
    return sum(1 for o in gc.get_objects() if isinstance(o, cls))


def run_once(app, window, strategy) -> None:
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    window.sig_idle.connect(loop.quit)
    guard = QTimer()
    guard.setSingleShot(True)
    guard.timeout.connect(loop.quit)
    guard.start(60_000)
    try:
        if not window.start_run(strategy):
            raise SystemExit(f"run did not start: {window.error_text()}")
        loop.exec()
    finally:
        window.sig_idle.disconnect(loop.quit)
        guard.stop()
    if window.busy:
        raise SystemExit("a run took longer than 60 s")
    if window.error_text():
        raise SystemExit(f"run failed: {window.error_text()}")


def measure(app, runs: int, clear: bool, strategy) -> dict:
    from engine import Run
    from gui.main_window import MainWindow
    from gui.worker import RunWorker

    window = MainWindow()
    window.show()
    if not window.open_input(str(ROOT / "tests" / "vectors" / "random_64k.bin")):
        raise SystemExit(window.error_text())
    after: dict[int | str, float] = {}  # by run number, and 'cleared'
    try:
        for i in range(1, runs + 1):
            run_once(app, window, strategy)
            if clear:
                window.clear_runs()
            app.processEvents()
            if i in (1, runs):
                gc.collect()
                after[i] = rss_mib()
        gc.collect()
        objects = {"Run": alive(Run), "RunWorker": alive(RunWorker)}
        window.clear_runs()  # what is left once the table and the charts are emptied
        for _ in range(3):  # deleteLater()s of the removed chart items
            app.processEvents()
        gc.collect()
        after["cleared"] = rss_mib()
    finally:
        window.shutdown()
        window.close()
        window.deleteLater()
        app.processEvents()
    return {"first": after[1], "last": after[runs], "cleared": after["cleared"], "objects": objects}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--strategy", default="pooled", choices=("pooled", "baseline"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["HEAPSCOPE_DATA_DIR"] = os.path.join(tmp, "data")
        from PySide6.QtCore import QSettings
        from PySide6.QtWidgets import QApplication

        QSettings.setPath(
            QSettings.Format.IniFormat, QSettings.Scope.UserScope, os.path.join(tmp, "settings")
        )
        app = QApplication.instance() or QApplication([sys.argv[0]])
        from engine import Strategy

        strategy = Strategy.POOLED if args.strategy == "pooled" else Strategy.BASELINE
        for mode, clear in (("clear", True), ("keep", False)):
            m = measure(app, args.runs, clear, strategy)
            print(
                f"{mode:5s}: RSS after run 1 {m['first']:.1f} MiB, after run {args.runs} "
                f"{m['last']:.1f} MiB ({m['last'] - m['first']:+.1f} MiB), after a final "
                f"Clear runs {m['cleared']:.1f} MiB ({m['cleared'] - m['first']:+.1f} MiB); "
                "alive afterwards: "
                f"{m['objects']['Run']} Run, {m['objects']['RunWorker']} RunWorker"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
