"""The status bar's permanent fields and the inline error banner."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QProgressBar, QStatusBar, QToolButton

from engine import Telemetry


class StatusFields:
    """What runs, its progress, elapsed time, lock count and draw rate, in a status bar."""

    def __init__(self, bar: QStatusBar):
        self.bar = bar
        self.strategy = QLabel("Idle")
        self.strategy.setObjectName("statusStrategy")
        self.progress = QProgressBar()
        self.progress.setMinimumWidth(280)
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("%v / %m blocks")
        self.elapsed = QLabel("elapsed —")
        self.locks = QLabel("")
        self.fps = QLabel("")
        self.fps.setToolTip("How often the views are redrawn during a run")
        for widget in (self.strategy, self.progress, self.elapsed, self.locks, self.fps):
            bar.addPermanentWidget(widget)

    def say(self, message: str, timeout_ms: int = 0) -> None:
        self.bar.showMessage(message, timeout_ms)

    def set_state(self, text: str, colour: str | None = None) -> None:
        """The run's state (Running #3 pooled, Paused, Idle…), in its curve's colour."""
        self.strategy.setText(text)
        if colour is not None:
            self.strategy.setStyleSheet(f"color: {colour}; font-weight: bold;" if colour else "")

    def show_snapshot(self, snap: Telemetry, draw_fps: float | None) -> None:
        counters = snap.counters
        self.progress.setValue(min(counters["blocks_done"], self.progress.maximum()))
        self.elapsed.setText(f"elapsed {snap.elapsed_s:.2f} s")
        self.locks.setText(f"{counters['lock_acquisitions']:,} lock acquisitions")
        if draw_fps is not None:
            self.fps.setText(f"view {draw_fps:.0f} frames/s")


class ErrorBanner(QFrame):
    """A message above the views: inline, not modal, so the app stays usable and
    scripts never block."""

    def __init__(self, status: QStatusBar):
        super().__init__()
        self._status = status
        self.setObjectName("errorBanner")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 6)
        self.label = QLabel("")
        self.label.setObjectName("errorText")
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        close = QToolButton()
        close.setText("✕")
        close.setToolTip("Dismiss")
        close.clicked.connect(self.clear)
        layout.addWidget(self.label, 1)
        layout.addWidget(close)
        self.setVisible(False)

    def show_error(self, message: str) -> None:
        self.label.setText(message)
        self.setVisible(True)
        self._status.showMessage(message.splitlines()[0] if message else "", 15000)

    def clear(self) -> None:
        self.label.setText("")
        self.setVisible(False)

    def text(self) -> str:
        """The message shown now ("" when the banner is hidden)."""
        return self.label.text() if self.isVisible() else ""
