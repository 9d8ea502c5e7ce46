"""Replay from the keyboard: a frame, a second, the start or the end, play / pause.

The keys are actions of the replay bar, so they work exactly while a replay is
open (Qt ignores the shortcuts of a hidden widget) and never take a key from the
window's own commands otherwise.  Space stays the window's pause key (it plays /
pauses a replay too: gui.live_run); the arrow keys step frames unless the guided
demo uses them for its steps (:meth:`ReplayKeys.use_arrows`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QWidget

#: Seconds of recording a jump key moves.
JUMP_S = 1.0


class Replayer(Protocol):
    def step_frame(self, frames: int) -> None: ...
    def jump(self, seconds: float) -> None: ...
    def home(self) -> None: ...
    def end(self) -> None: ...
    def toggle_play(self) -> None: ...


class ReplayKeys:
    """The replay bar's key actions (see the module docstring)."""

    def __init__(self, bar: QWidget, replay: Replayer):
        self.bar = bar
        self.previous = self._add("Replay: previous frame", (",",), lambda: replay.step_frame(-1))
        self.next = self._add("Replay: next frame", (".",), lambda: replay.step_frame(1))
        self.back = self._add(
            f"Replay: back {JUMP_S:g} s", ("Shift+Left", "PgUp"), lambda: replay.jump(-JUMP_S)
        )
        self.forward = self._add(
            f"Replay: forward {JUMP_S:g} s", ("Shift+Right", "PgDown"), lambda: replay.jump(JUMP_S)
        )
        self.start = self._add("Replay: start", ("Home",), replay.home)
        self.finish = self._add("Replay: end", ("End",), replay.end)
        self.play = self._add("Replay: play / pause", ("K",), replay.toggle_play)
        self.use_arrows(True)

    def _add(self, text: str, keys: tuple[str, ...], slot: Callable[[], object]) -> QAction:
        action = QAction(text, self.bar)
        action.setShortcuts([QKeySequence(k) for k in keys])
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.triggered.connect(slot)
        self.bar.addAction(action)
        return action

    @property
    def actions(self) -> list[QAction]:
        return [
            self.previous,
            self.next,
            self.back,
            self.forward,
            self.start,
            self.finish,
            self.play,
        ]

    def use_arrows(self, on: bool) -> None:
        """← and → step frames too (off while the guided demo uses them)."""
        for action, key, arrow in ((self.previous, ",", "Left"), (self.next, ".", "Right")):
            keys = [key, arrow] if on else [key]
            action.setShortcuts([QKeySequence(k) for k in keys])
