"""The status bar's permanent fields and the inline error banner."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFont, QFontMetrics, QFontMetricsF, QPaintEvent, QResizeEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QSizePolicy,
    QStatusBar,
    QToolButton,
)

from engine import Telemetry
from gui import palette
from gui.strategy_text import lock_text
from gui.text_fit import break_words

#: The status bar's background (Fusion's window colour): state colours are
#: darkened until they read on it.
STATUS_BACKGROUND = "#efefef"
#: The smallest the status message shrinks to, to fit the bar.
MIN_MESSAGE_POINT_SIZE = 8.0


class MessageLabel(QLabel):
    """A label that says when its size changed."""

    resized = Signal()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self.resized.emit()


class StatusBar(QStatusBar):
    """A status bar whose messages wrap in their own label instead of being
    painted under the permanent fields (where long ones were cut off).

    ``showMessage`` and its timeout work as usual (other modules call them); the
    bar only stops painting the message itself and shows it in :attr:`message`.
    """

    def __init__(self) -> None:
        super().__init__()
        self.setSizeGripEnabled(False)
        self.message = MessageLabel("")
        self.message.setObjectName("statusMessage")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.addPermanentWidget(self.message, 1)
        #: The message's size before fitting (None: the style's).
        self.message_point_size: float | None = None
        self.messageChanged.connect(self._show_message)
        # Its width changes with the fields beside it, not only the bar's; the
        # fit waits for the layout to settle, so it never restyles the label
        # in the middle of a layout pass.
        self._fit_timer = QTimer(self)
        self._fit_timer.setSingleShot(True)
        self._fit_timer.setInterval(0)
        self._fit_timer.timeout.connect(self._fit_message)
        self.message.resized.connect(self._fit_timer.start)

    def set_message_point_size(self, point_size: float | None) -> None:
        self.message_point_size = point_size
        self._fit_message()

    def _show_message(self, text: str) -> None:
        self.message.setText(text)
        self._fit_message()

    def _fit_message(self) -> None:
        """The message's font, smaller until its lines fit the bar's height
        (at 1280x720 presenting, a finished slowed run's summary took three
        lines and the bar shows two: the signature was cut off)."""
        label = self.message
        base = self.message_point_size or self.font().pointSizeF()
        width, height = label.contentsRect().width(), label.contentsRect().height()
        size = base
        if width > 0 and height > 0 and label.text():
            font = QFont(self.font())
            while size > MIN_MESSAGE_POINT_SIZE:
                font.setPointSizeF(size)
                lines = len(break_words(label.text(), font, width))
                if lines * QFontMetricsF(font).lineSpacing() <= height:
                    break
                size -= 0.5
        style = f"font-size: {size:.1f}pt;" if size != self.font().pointSizeF() else ""
        if label.styleSheet() != style:  # restyling relays the bar out: only on a change
            label.setStyleSheet(style)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        # QStatusBar paints the temporary message under the permanent widgets;
        # the message label shows it instead, so paint nothing but the background.
        del event


class StatusFields:
    """What runs, its progress, elapsed time, lock count and draw rate, in a status bar."""

    def __init__(self, bar: QStatusBar):
        self.bar = bar
        self.strategy = QLabel("Idle")
        self.strategy.setObjectName("statusStrategy")
        self.progress = QProgressBar()
        self.progress.setMinimumWidth(180)
        self.progress.setMaximumWidth(320)
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("%v / %m blocks")
        self.elapsed = QLabel("elapsed —")
        self.locks = QLabel("")
        self.fps = QLabel("")
        self.fps.setToolTip("How often the views are redrawn during a run")
        for widget in (self.strategy, self.progress, self.elapsed, self.locks, self.fps):
            bar.addPermanentWidget(widget)

    def set_presentation(self, on: bool, font_scale: float) -> None:
        """Presentation mode: the state and the progress large, for the audience;
        elapsed time, lock count and draw rate hidden (the captions tell them)."""
        for widget in (self.elapsed, self.locks, self.fps):
            widget.setVisible(not on)
        size = 11 * font_scale if on else 12
        self.bar.setStyleSheet(
            f"QLabel#statusStrategy, QProgressBar {{ font-size: {size:.0f}pt; }}"
            f" QLabel#statusMessage {{ font-size: {round(0.75 * size)}pt; }}"
            if on
            else ""
        )
        metrics = QFontMetrics(self.progress.font())
        if on:
            f = self.progress.font()
            f.setPointSizeF(size)
            metrics = QFontMetrics(f)
        self.progress.setMinimumWidth(
            max(180, metrics.horizontalAdvance("00000 / 00000 blocks") + 24)
        )
        self.progress.setMaximumWidth(max(320, self.progress.minimumWidth()))
        if isinstance(self.bar, StatusBar):
            self.bar.set_message_point_size(round(0.75 * size) if on else None)
            # QStatusBar lays out lazily: its stale minimum width (the hidden fields at
            # the new font size) kept the full-screen window wider than the screen.
            self.bar.reformat()

    def say(self, message: str, timeout_ms: int = 0) -> None:
        self.bar.showMessage(message, timeout_ms)

    def set_state(self, text: str, colour: str | None = None) -> None:
        """The run's state (Running #3 pooled, Paused, Idle…), in its curve's colour
        (darkened when needed so it reads on the bar: 4.5:1 at least)."""
        self.strategy.setText(text)
        if colour is not None:
            readable = palette.readable_on(colour, STATUS_BACKGROUND) if colour else ""
            self.strategy.setStyleSheet(f"color: {readable}; font-weight: bold;" if colour else "")

    def show_snapshot(
        self, snap: Telemetry, draw_fps: float | None, locks_observable: bool = True
    ) -> None:
        """``locks_observable``: False for malloc and the production allocators,
        whose locks are their own (their count reads "not observable", never 0)."""
        counters = snap.counters
        self.progress.setValue(min(counters["blocks_done"], self.progress.maximum()))
        self.elapsed.setText(f"elapsed {snap.elapsed_s:.2f} s")
        self.locks.setText(lock_text(counters["lock_acquisitions"] if locks_observable else None))
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
