"""Every command of the window as a QAction, its menus, and the shortcuts list drawn from them."""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass, fields

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu

Slot = Callable[[], object]
Keys = str | QKeySequence.StandardKey | tuple[str, ...] | None


@dataclass(frozen=True)
class Slots:
    """What each command does (the window's methods, or its parts')."""

    open_input: Slot
    generate: Slot
    save_session: Slot
    open_session: Slot
    export: Slot
    quit: Slot
    baseline: Slot
    pooled: Slot
    stop: Slot
    pause: Slot
    slower: Slot
    faster: Slot
    demo: Slot
    demo_sessions: Slot
    demo_next: Slot
    demo_back: Slot
    clear: Slot
    rate: Slot
    log: Slot
    presentation: Slot
    full_screen: Slot
    shortcuts: Slot
    #: File > Export handout (PDF)...: the window's FileCommands.ask_handout.  None
    #: leaves the menu entry disabled.
    handout: Slot | None = None
    #: File > Save lecture...: the window's FileCommands.ask_save_lecture (None: disabled).
    save_lecture: Slot | None = None
    #: View > Time axis in full-speed time: the window's LiveRun.full_speed.toggle.
    full_speed: Slot | None = None


class Actions:
    """The window's QActions (menus File, Run and View), created once; see :func:`connect`."""

    def __init__(self, window: QMainWindow, samples_menu: QMenu):
        self._window = window
        bar = window.menuBar()
        file_menu = bar.addMenu("&File")
        self.open_input = self._add(file_menu, "&Open input…", QKeySequence.StandardKey.Open)
        self.generate = self._add(file_menu, "&Generate input…", "Ctrl+G")
        file_menu.addMenu(samples_menu).setText("&Samples")
        file_menu.addSeparator()
        self.save_session = self._add(file_menu, "&Save session…", "Ctrl+S")
        self.open_session = self._add(file_menu, "Open s&ession…", "Ctrl+Shift+O")
        self.save_lecture = self._add(file_menu, "Save &lecture (every run)…", "Ctrl+Shift+S")
        self.save_lecture.setToolTip(
            "Every run on screen with its recording, in one file: open it to replay them all"
        )
        file_menu.addSeparator()
        # (tests/gui/test_main_window.py names this entry; the set includes the handout)
        self.export = self._add(file_menu, "&Export PNGs and CSVs…", ("E", "Ctrl+E"))
        self.export.setToolTip("A new numbered set each time: nothing earlier is replaced")
        self.handout = self._add(file_menu, "Export &handout (PDF)…", "Ctrl+Shift+E")
        file_menu.addSeparator()
        self.quit = self._add(file_menu, "&Quit", QKeySequence.StandardKey.Quit)

        run_menu = bar.addMenu("&Run")
        self.baseline = self._add(run_menu, "Run &Baseline (global lock)", ("B", "Ctrl+B"))
        self.pooled = self._add(run_menu, "Run &Pooled (per-thread pools)", ("P", "Ctrl+P"))
        self.stop = self._add(run_menu, "&Stop", ("S", "Esc", "Ctrl+."))
        self.pause = self._add(run_menu, "P&ause / resume", "Space")
        self.slower = self._add(run_menu, "S&lower", "[")
        self.faster = self._add(run_menu, "&Faster", "]")
        run_menu.addSeparator()
        self.demo = self._add(run_menu, "Guided &demo", "Ctrl+D", checkable=True)
        self.demo_sessions = self._add(run_menu, "Guided demo from recorded &sessions…", None)
        self.demo_next = self._add(run_menu, "Demo: &next", ("N", "Right"))
        self.demo_back = self._add(run_menu, "Demo: &back", ("Backspace", "Left"))
        self.demo_next.setEnabled(False)
        self.demo_back.setEnabled(False)
        run_menu.addSeparator()
        self.clear = self._add(run_menu, "&Clear runs", "Ctrl+Delete")
        run_menu.addSeparator()
        # Issue 12: windows of their own, opened over this one (no Slots entry needed).
        self.experiments = self._add(run_menu, "E&xperiments (sweeps)…", None)
        self.experiments.triggered.connect(lambda: _open_experiments(window))
        self.reproduce_report = self._add(run_menu, "Reproduce the &report…", None)
        self.reproduce_report.triggered.connect(lambda: _open_report(window))

        view_menu = bar.addMenu("&View")
        self.rate = self._add(view_menu, "Lock chart as &rate per second", "R")
        self.log = self._add(view_menu, "Lock chart on a &log scale", "L")
        self.full_speed = self._add(
            view_menu, "Time axis in full-speed &time (slowed runs)", "T", checkable=True
        )
        view_menu.addSeparator()
        self.presentation = self._add(view_menu, "&Presentation mode", "F5", checkable=True)
        self.full_screen = self._add(view_menu, "F&ull screen", "F11")
        self.shortcuts = self._add(view_menu, "&Keyboard shortcuts", ("?", "F1"))

    def _add(self, menu: QMenu, text: str, keys: Keys, checkable: bool = False) -> QAction:
        a = QAction(text, self._window)
        if keys is not None:
            a.setShortcuts(
                [QKeySequence(k) for k in (keys if isinstance(keys, tuple) else (keys,))]
            )
        a.setCheckable(checkable)
        menu.addAction(a)
        self._window.addAction(a)  # shortcuts work with the menu bar hidden too
        return a


def _open_experiments(window: QMainWindow) -> None:
    from gui.experiments import open_experiments  # pyqtgraph charts: loaded when asked for

    open_experiments(window)


def _open_report(window: QMainWindow) -> None:
    from gui.report import open_report_dialog

    open_report_dialog(window)


def connect(actions: Actions, slots: Slots) -> None:
    """Each action to its slot (by name): after every part of the window exists."""
    for f in fields(slots):
        slot = getattr(slots, f.name)
        action = getattr(actions, f.name)
        if slot is None:
            action.setEnabled(False)
        else:
            action.triggered.connect(slot)


def shortcut_rows(actions: list[QAction]) -> list[tuple[str, str]]:
    """(keys, what they do) for every action with a shortcut, in menu order."""
    rows = []
    for a in actions:
        keys = [s.toString().replace("Right", "→").replace("Left", "←") for s in a.shortcuts()]
        if keys:
            rows.append((keys, a.text().replace("&", "").rstrip("…")))
    return [
        (" or ".join(f"<b>{html.escape(k)}</b>" for k in keys), html.escape(text))
        for keys, text in rows
    ]
