"""Presenting: presentation mode (full screen, zoom, big buttons), the toolbar, the ? overlay."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QComboBox, QLabel, QMainWindow, QToolBar, QWidget

from engine import MIN_SPEED
from gui.actions import shortcut_rows
from gui.frame_pump import CaptionBoard

#: Slow-motion choices: label and fraction of full speed (the engine goes down to MIN_SPEED).
SPEEDS = (("1×", 1.0), ("1/10", 0.1), ("1/100", 0.01), ("1/1000", MIN_SPEED))

#: Font zoom of presentation mode (the toolbar's zoom control changes it).
PRESENTATION_ZOOM = 1.5
ZOOMS = (("125%", 1.25), ("150%", 1.5), ("200%", 2.0))


class PresenterToolbar(QToolBar):
    """Presentation mode, pause, slow motion and presentation zoom, always at hand."""

    def __init__(self, presentation: QAction, pause: QAction):
        super().__init__("Presenter")
        self.setObjectName("presenterToolbar")
        self.addAction(presentation)
        self.addAction(pause)
        self.addWidget(QLabel(" Speed "))
        self.speed_combo = QComboBox()
        self.speed_combo.setObjectName("speedCombo")
        self.speed_combo.setToolTip("Slow motion: the engine's threads really slow down ([ and ])")
        for label, fraction in SPEEDS:
            self.speed_combo.addItem(label, fraction)
        self.speed_combo.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.addWidget(self.speed_combo)
        self.addWidget(QLabel("  Presentation zoom "))
        self.zoom_combo = QComboBox()
        self.zoom_combo.setObjectName("zoomCombo")
        self.zoom_combo.setToolTip("How much larger fonts and lines are in presentation mode")
        for label, zoom in ZOOMS:
            self.zoom_combo.addItem(label, zoom)
        self.zoom_combo.setCurrentIndex([z for _, z in ZOOMS].index(PRESENTATION_ZOOM))
        self.zoom_combo.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.addWidget(self.zoom_combo)

    def speed_index(self, fraction: float) -> int:
        return min(range(len(SPEEDS)), key=lambda i: abs(SPEEDS[i][1] - fraction))

    def slower(self) -> None:
        combo = self.speed_combo
        combo.setCurrentIndex(min(combo.currentIndex() + 1, len(SPEEDS) - 1))

    def faster(self) -> None:
        self.speed_combo.setCurrentIndex(max(self.speed_combo.currentIndex() - 1, 0))


class FontScaled(Protocol):
    def set_font_scale(self, font_scale: float) -> None: ...


class Presenter(QObject):
    """Presentation mode, full screen and the keyboard-shortcuts overlay of one window."""

    def __init__(
        self,
        window: QMainWindow,
        toolbar: PresenterToolbar,
        presentation_action: QAction,
        board: CaptionBoard,
        scaled: Sequence[FontScaled],
        hidden: QWidget,
        big_buttons: Sequence[QWidget],
    ):
        super().__init__()
        self.window = window
        self.toolbar = toolbar
        self.presentation_action = presentation_action
        self.board = board
        self.scaled = tuple(scaled)  # the charts, lanes and bars: their fonts follow the zoom
        self.hidden = hidden  # the settings panel: not for the audience
        self.big_buttons = tuple(big_buttons)
        self.active = False
        self._before: dict = {}
        self.overlay = QLabel(window)
        self.overlay.setObjectName("shortcutsOverlay")
        self.overlay.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.overlay.setStyleSheet(
            "QLabel#shortcutsOverlay { background: rgba(20, 20, 20, 225); color: white;"
            " font-size: 20pt; border-radius: 12px; padding: 24px; }"
        )
        self.overlay.setVisible(False)
        toolbar.zoom_combo.currentIndexChanged.connect(self._on_zoom_changed)

    @property
    def zoom(self) -> float:
        """Presentation mode's zoom factor."""
        return float(self.toolbar.zoom_combo.currentData())

    def toggle_shortcuts(self) -> None:
        """Shows the shortcuts of every action of the window (or hides them)."""
        overlay = self.overlay
        if overlay.isVisible():
            overlay.hide()
            return
        rows = "".join(
            f"<tr><td align='right'>{keys}&nbsp;&nbsp;</td><td>{text}</td></tr>"
            for keys, text in shortcut_rows(self.window.actions())
        )
        overlay.setText(
            f"<h2>Keyboard shortcuts</h2><table>{rows}</table><p>Press ? again to close</p>"
        )
        overlay.adjustSize()
        window = self.window
        overlay.move(
            max(0, (window.width() - overlay.width()) // 2),
            max(0, (window.height() - overlay.height()) // 2),
        )
        overlay.raise_()
        overlay.show()

    def toggle_full_screen(self) -> None:
        self.window.setWindowState(self.window.windowState() ^ Qt.WindowState.WindowFullScreen)

    def toggle(self) -> None:
        """Presentation mode: full screen, larger fonts, settings hidden, big Run buttons."""
        window = self.window
        if not self.active:
            self._before = {
                "state": window.windowState(),
                "font": window.font().pointSizeF(),
                "settings": self.hidden.isVisibleTo(window),
                "heights": [b.minimumHeight() for b in self.big_buttons],
            }
            self.active = True
            window.setWindowState(window.windowState() | Qt.WindowState.WindowFullScreen)
            self.hidden.setVisible(False)
            self._apply_zoom(self.zoom)
            for b in self.big_buttons:
                b.setMinimumHeight(90)
        else:
            before = self._before
            self.active = False
            window.setWindowState(before.get("state", Qt.WindowState.WindowNoState))
            f = window.font()
            f.setPointSizeF(before.get("font", 12))
            window.setFont(f)
            self.hidden.setVisible(before.get("settings", True))
            self.board.set_zoom(1.0)
            for view in self.scaled:
                view.set_font_scale(1.0)
            for b, h in zip(self.big_buttons, before.get("heights", []), strict=False):
                b.setMinimumHeight(h)
        self.presentation_action.setChecked(self.active)

    def _apply_zoom(self, zoom: float) -> None:
        f = self.window.font()
        f.setPointSizeF(self._before["font"] * zoom)
        self.window.setFont(f)
        self.board.set_zoom(zoom)
        for view in self.scaled:
            view.set_font_scale(zoom)

    def _on_zoom_changed(self, _index: int) -> None:
        if self.active:
            self._apply_zoom(self.zoom)
