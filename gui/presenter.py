"""Presenting: presentation mode (full screen, zoom, big buttons), the toolbar, the ? overlay."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QComboBox, QLabel, QMainWindow, QToolBar

from engine import MIN_SPEED
from gui.actions import shortcut_rows
from gui.frame_pump import CaptionBoard
from gui.layout import ViewLayout, presentation_scale

#: Slow-motion choices: label and fraction of full speed (the engine goes down to MIN_SPEED).
SPEEDS = (("1×", 1.0), ("1/10", 0.1), ("1/100", 0.01), ("1/1000", MIN_SPEED))

#: Font zoom of presentation mode (the toolbar's zoom control changes it), at a
#: 720-pixel high screen; taller screens scale it up (gui.layout.presentation_scale):
#: 175% makes the captions 24.5 pt, the titles 23 pt, the tick labels 19 pt.
PRESENTATION_ZOOM = 1.75
ZOOMS = (("150%", 1.5), ("175%", 1.75), ("200%", 2.0))


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


OVERLAY_STYLE = (
    "QLabel#shortcutsOverlay {{ background: rgba(20, 20, 20, 225); color: white;"
    " font-size: {points}pt; border-radius: 12px; padding: 16px; }}"
)


class Presenter(QObject):
    """Presentation mode, full screen and the keyboard-shortcuts overlay of one window."""

    def __init__(
        self,
        window: QMainWindow,
        toolbar: PresenterToolbar,
        presentation_action: QAction,
        board: CaptionBoard,
        scaled: Sequence[FontScaled],
        layout: ViewLayout,
    ):
        super().__init__()
        self.window = window
        self.toolbar = toolbar
        self.presentation_action = presentation_action
        self.board = board
        self.scaled = tuple(scaled)  # the charts, lanes and bars: their fonts follow the zoom
        self.layout = layout  # pages, the compact top row, what hides
        self.active = False
        self._before: dict = {}
        self.overlay = QLabel(window)
        self.overlay.setObjectName("shortcutsOverlay")
        self.overlay.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.overlay.setStyleSheet(OVERLAY_STYLE.format(points=20))
        self.overlay.setVisible(False)
        toolbar.zoom_combo.currentIndexChanged.connect(self._on_zoom_changed)
        # The toolbar hides in presentation mode: the zoom steps from the keyboard too.
        self.zoom_in = QAction("Presentation zoom in", window)
        self.zoom_in.setShortcuts([QKeySequence("Ctrl++"), QKeySequence("Ctrl+=")])
        self.zoom_in.triggered.connect(lambda: self.step_zoom(1))
        self.zoom_out = QAction("Presentation zoom out", window)
        self.zoom_out.setShortcut(QKeySequence("Ctrl+-"))
        self.zoom_out.triggered.connect(lambda: self.step_zoom(-1))
        for action in (self.zoom_in, self.zoom_out):
            window.addAction(action)

    def step_zoom(self, step: int) -> None:
        """The next larger (1) or smaller (-1) presentation zoom."""
        combo = self.toolbar.zoom_combo
        combo.setCurrentIndex(max(0, min(combo.count() - 1, combo.currentIndex() + step)))

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
        # The window's own actions in menu order, then those of its parts (the
        # replay bar's keys, the strategy keys), each listed once.
        actions = [*self.window.actions(), *self.window.findChildren(QAction)]
        listed = list(dict.fromkeys(shortcut_rows(actions)))
        # Two columns: every key fits a 720p screen at the overlay's size.
        half = (len(listed) + 1) // 2
        cells = [
            f"<td align='right'>{keys}&nbsp;&nbsp;</td><td>{text}&nbsp;&nbsp;&nbsp;&nbsp;</td>"
            for keys, text in listed
        ]
        cells += [""] * (2 * half - len(cells))
        rows = "".join(f"<tr>{cells[i]}{cells[i + half]}</tr>" for i in range(half))
        overlay.setText(
            f"<h2>Keyboard shortcuts</h2><table>{rows}</table><p>Press ? again to close</p>"
        )
        window = self.window
        # As big as fits: 20 pt, smaller when the window (a 720p screen) has no room.
        for points in (20, 17, 14, 12, 10, 9, 8):
            overlay.setStyleSheet(OVERLAY_STYLE.format(points=points))
            overlay.adjustSize()
            if overlay.height() <= window.height() and overlay.width() <= window.width():
                break
        overlay.move(
            max(0, (window.width() - overlay.width()) // 2),
            max(0, (window.height() - overlay.height()) // 2),
        )
        overlay.raise_()
        overlay.show()

    def toggle_full_screen(self) -> None:
        self.window.setWindowState(self.window.windowState() ^ Qt.WindowState.WindowFullScreen)

    @property
    def font_scale(self) -> float:
        """The font scale presentation mode uses on this window's screen now."""
        screen = self.window.screen()
        height = screen.geometry().height() if screen is not None else 720
        return presentation_scale(self.zoom, height)

    def toggle(self) -> None:
        """Presentation mode: full screen, larger fonts, one view page at a time, the
        run buttons and the pages in one row; the settings, menus and toolbar hidden."""
        window = self.window
        if not self.active:
            self._before = {"state": window.windowState(), "font": window.font().pointSizeF()}
            self.active = True
            self._before["geometry"] = window.geometry()
            self._apply_zoom()  # first: the compact layout lets the window be screen-sized
            screen = window.screen()
            if screen is not None:
                # Without a window manager the full-screen state alone changes nothing;
                # before it, since a later setGeometry would take the window out of it.
                window.setGeometry(screen.geometry())
            window.setWindowState(window.windowState() | Qt.WindowState.WindowFullScreen)
        else:
            before = self._before
            self.active = False
            # Fonts and layout first: restored while the big fonts were still on,
            # the everyday layout asked for more than a 1280 px screen (1532 px).
            f = window.font()
            f.setPointSizeF(before.get("font", 12))
            window.setFont(f)
            self.board.set_zoom(1.0)
            for view in self.scaled:
                view.set_font_scale(1.0)
            self.layout.set_presentation(False, 1.0)
            window.setWindowState(before.get("state", Qt.WindowState.WindowNoState))
            if "geometry" in before and not window.isMaximized():
                window.setGeometry(before["geometry"])
            self._keep_on_screen()
            # Again once the layout has settled: the restyled widgets ask for
            # their sizes in later layout passes, and a 1366 px screen once got
            # a 1621 px window back.
            QTimer.singleShot(0, self._keep_on_screen)
        self.presentation_action.setChecked(self.active)

    def _keep_on_screen(self) -> None:
        """Without a window manager nothing else keeps the window on the screen."""
        window = self.window
        screen = window.screen()
        if self.active or screen is None:
            return
        # The layout's minimum size is still the presentation fonts' until it
        # is activated again, and setGeometry cannot go below it.
        layout = window.layout()
        if layout is not None:
            layout.invalidate()
            layout.activate()
        if not screen.availableGeometry().contains(window.geometry()):
            window.setGeometry(screen.availableGeometry())
            window.setWindowState(self._before.get("state", Qt.WindowState.WindowNoState))

    def _apply_zoom(self) -> None:
        scale = self.font_scale
        f = self.window.font()
        f.setPointSizeF(self._before["font"] * scale)
        self.window.setFont(f)
        self.board.set_zoom(scale)
        for view in self.scaled:
            view.set_font_scale(scale)
        self.layout.set_presentation(True, scale)

    def _on_zoom_changed(self, _index: int) -> None:
        if self.active:
            self._apply_zoom()
