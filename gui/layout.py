"""The window's layout: which views show (pages), presentation mode's layout, and
a window that fits its screen.

A page shows some of the views and gives them the whole centre: "All" is the
everyday layout (settings | heap map over the lanes | charts, over the table |
the time breakdown); "Heap map", "Lanes", "Charts" and "Results" show one story
each, large enough to read from the back of a lecture hall on a 1280x720
projector. Keys 1..5 switch pages (they are window actions, so they work with
the menu bar hidden).

Presentation mode (F5) hides the menu bar, the toolbar, the input and the
settings, puts the run buttons and the page buttons in one compact row, lays
the charts side by side, and scales every font by :func:`presentation_scale`
(the same look at 1280x720 and 1920x1080).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QRect, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QButtonGroup,
    QHBoxLayout,
    QMainWindow,
    QMenu,
    QPushButton,
    QToolBar,
    QWidget,
)

from gui import palette
from gui.status_bar import StatusFields
from gui.views import TopBar, ViewArea

#: (name, button text, menu text), in key order: key 1 is the first.
PAGES = (
    ("all", "All", "&All views"),
    ("heap", "Heap map", "&Heap map"),
    ("lanes", "Lanes", "&Lanes and where the time went"),
    ("charts", "Charts", "&Charts"),
    ("results", "Results", "&Results table"),
)
PAGE_NAMES = tuple(name for name, _, _ in PAGES)

#: The screen height presentation mode's fonts are designed for: at 1920x1080
#: they grow by 1080 / 720, so a slide looks the same on both projectors.
DESIGN_HEIGHT = 720

#: The Run buttons' texts: normal, and presentation mode's shorter ones.
BUTTON_TEXTS = {
    "baseline": ("▶  Run Baseline", "▶ Baseline"),
    "pooled": ("▶  Run Pooled", "▶ Pooled"),
    "stop": ("■  Stop", "■ Stop"),
}


def menu_named(window: QMainWindow, text: str) -> QMenu | None:
    """The menu bar's menu called ``text`` ("&View"), if any."""
    for menu in window.menuBar().findChildren(QMenu):
        if menu.title() == text:
            return menu
    return None


def presentation_scale(zoom: float, screen_height: int) -> float:
    """Presentation mode's font scale: the zoom chosen, designed for a 720-pixel
    high screen and grown with taller ones (never shrunk below the zoom)."""
    return zoom * max(1.0, screen_height / DESIGN_HEIGHT)


def fitted_geometry(window: QRect, available: QRect) -> QRect:
    """``window`` moved and shrunk so that all of it is inside ``available``."""
    w = min(window.width(), available.width())
    h = min(window.height(), available.height())
    x = min(max(window.x(), available.x()), available.x() + available.width() - w)
    y = min(max(window.y(), available.y()), available.y() + available.height() - h)
    return QRect(x, y, w, h)


def fit_to_screen(window: QWidget) -> None:
    """Keeps the whole window on its screen (a saved 1600x940 window on a 1280x720
    projector put Stop, Export and the charts off screen). The frame (title bar)
    counts when a window manager draws one."""
    screen = window.screen()
    if screen is None:
        return
    available = screen.availableGeometry()
    frame = window.frameGeometry()
    extra_w = frame.width() - window.width()
    extra_h = frame.height() - window.height()
    inner = QRect(
        available.x(),
        available.y(),
        max(200, available.width() - extra_w),
        max(200, available.height() - extra_h),
    )
    target = fitted_geometry(window.geometry(), inner)
    if target != window.geometry():
        window.resize(target.size())
        window.move(target.topLeft())


def button_style(strategy: str, point_size: float, padding: str) -> str:
    """A Run button in its strategy's family colour (white text, >= 3:1: large bold)."""
    shades = palette.STRATEGY_FAMILIES[palette.family(strategy)]
    return (
        f"QPushButton {{ background: {shades[0]}; color: white; font-size: {point_size:.0f}pt;"
        f" font-weight: bold; border: none; border-radius: 8px; padding: {padding}; }}"
        f" QPushButton:hover {{ background: {shades[1]}; }}"
        " QPushButton:disabled { background: #c8c8c8; color: #505050; }"
        " QPushButton:focus { border: 3px solid #000000; }"
    )


def stop_style(point_size: float, padding: str) -> str:
    return (
        f"QPushButton {{ background: #444444; color: white; font-size: {point_size:.0f}pt;"
        f" font-weight: bold; border: none; border-radius: 8px; padding: {padding}; }}"
        " QPushButton:hover { background: #5a5a5a; }"
        " QPushButton:disabled { background: #c8c8c8; color: #505050; }"
        " QPushButton:focus { border: 3px solid #000000; }"
    )


class PageBar(QWidget):
    """A row of exclusive page buttons ("1 Heap map" ...).

    Signals
    -------
    picked(str)
        The user clicked a page.
    """

    picked = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("pageBar")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        self.group = QButtonGroup(self)
        self.group.setExclusive(True)
        self.buttons: dict[str, QPushButton] = {}
        for i, (name, text, _menu) in enumerate(PAGES, start=1):
            b = QPushButton(f"{i} {text}")
            b.setObjectName(f"page_{name}")
            b.setCheckable(True)
            b.setToolTip(f"Show {text.lower()} ({i})")
            b.clicked.connect(lambda _checked=False, n=name: self.picked.emit(n))
            self.group.addButton(b)
            self.buttons[name] = b
            layout.addWidget(b)
        self.set_font_size(11)

    def set_current(self, name: str) -> None:
        self.buttons[name].setChecked(True)

    def set_compact(self, compact: bool) -> None:
        """Digits only ("1" .. "5"), for a narrow screen; the tooltips keep the names."""
        for i, (name, text, _menu) in enumerate(PAGES, start=1):
            self.buttons[name].setText(str(i) if compact else f"{i} {text}")

    def set_font_size(self, point_size: float) -> None:
        # Bold in both states: a checked button never grows past its text.
        self.setStyleSheet(
            f"QPushButton {{ font-size: {point_size:.0f}pt; font-weight: bold; padding: 2px 8px; }}"
            " QPushButton:checked { background: #202020; color: white; }"
        )


class ViewLayout(QObject):
    """Pages and presentation mode's layout for one window's views.

    Signals
    -------
    page_changed(str)
        The page shown now.
    """

    page_changed = Signal(str)

    def __init__(
        self,
        window: QMainWindow,
        views: ViewArea,
        top: TopBar,
        toolbar: QToolBar,
        status: StatusFields,
        view_menu: QMenu | None = None,
    ):
        super().__init__()
        self.status = status
        self.window = window
        self.views = views
        self.top = top
        self.toolbar = toolbar
        self.page = "all"
        self.presenting = False
        # One bar in the toolbar (everyday), one in the top row (presentation mode).
        self.toolbar_pages = PageBar()
        toolbar.addSeparator()
        toolbar.addWidget(self.toolbar_pages)
        self.top_pages = PageBar()
        self.top_pages.setVisible(False)
        top.insertWidget(top.indexOf(top.export), self.top_pages)
        for bar in (self.toolbar_pages, self.top_pages):
            bar.picked.connect(self.set_page)
        self.actions: dict[str, QAction] = {}
        menu = view_menu.addMenu("Show &page") if view_menu is not None else None
        for i, (name, _text, menu_text) in enumerate(PAGES, start=1):
            a = QAction(menu_text, window)
            a.setShortcut(QKeySequence(str(i)))
            a.triggered.connect(lambda _checked=False, n=name: self.set_page(n))
            window.addAction(a)  # works with the menu bar hidden
            if menu is not None:
                menu.addAction(a)
            self.actions[name] = a
        self._style_buttons(1.0)
        self.set_page("all")
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if watched is self.window and event.type() == QEvent.Type.Resize and self.presenting:
            self._fit_top_row()
        return False

    def _fit_top_row(self) -> None:
        """Presentation mode's row of buttons never makes the window wider than the
        screen: on a narrow one the page buttons keep only their digits."""
        self.top_pages.set_compact(False)
        room = self.window.width() - 24
        if self.top.sizeHint().width() > room:
            self.top_pages.set_compact(True)

    # ----------------------------------------------------------------- pages

    def set_page(self, name: str) -> None:
        """Shows one page (see PAGES); unknown names are ignored."""
        if name not in PAGE_NAMES:
            return
        self.page = name
        v = self.views
        # Presenting, "all" is the overview a hall can read: the heap map beside the
        # charts; the lanes, the table and the bars have their own pages.
        everything = name == "all" and not self.presenting
        show = {
            "heap_box": name in ("all", "heap"),
            "timeline": everything or name == "lanes",
            "charts": name in ("all", "charts"),
            "table_box": everything or name == "results",
            "breakdown": everything or name in ("lanes", "results"),
        }
        v.heap_box.setVisible(show["heap_box"])
        v.timeline.setVisible(show["timeline"])
        v.heap_split.setVisible(show["heap_box"] or show["timeline"])
        v.charts.setVisible(show["charts"])
        v.table_box.setVisible(show["table_box"])
        v.breakdown.setVisible(show["breakdown"])
        v.table_split.setVisible(show["table_box"] or show["breakdown"])
        v.main_split.setVisible(show["heap_box"] or show["timeline"] or show["charts"])
        v.settings_panel.setVisible(not self.presenting and name in ("all", "heap"))
        # The results page puts the bars under the table: the table gets the width.
        v.table_split.setOrientation(
            Qt.Orientation.Vertical if name == "results" else Qt.Orientation.Horizontal
        )
        # Under the lanes, the bars need no state legend: the lanes' is just above.
        v.breakdown.set_legend_allowed(name != "lanes")
        if name == "lanes":
            # The lanes get the room; the bars (one per run) need less.
            v.setSizes([2 * max(1, v.height()) // 3, max(1, v.height()) // 3])
        for bar in (self.toolbar_pages, self.top_pages):
            bar.set_current(name)
        self.page_changed.emit(name)

    # ---------------------------------------------------------- presentation

    def set_presentation(self, on: bool, font_scale: float) -> None:
        """Presentation mode's layout (on) or the everyday one (off)."""
        self.presenting = on
        window = self.window
        window.menuBar().setVisible(not on)
        self.toolbar.setVisible(not on)
        self.top.input_panel.set_shown(not on)
        self.top.export.setVisible(not on)
        self.top_pages.setVisible(on)
        self.top_pages.set_font_size(9 * font_scale if on else 11)
        self.views.charts.toggles.setVisible(not on)
        # Like the charts' toggles, the bars' "in seconds" is a desk control;
        # Clear runs stays (a lecturer clears between demos) at the hall's size.
        self.views.breakdown.seconds_box.setVisible(not on)
        self.views.clear_button.setStyleSheet(f"font-size: {11 * font_scale:.0f}pt;" if on else "")
        self.views.table.set_font_scale(font_scale if on else 1.0)
        self.views.table_title.setStyleSheet(
            f"font-size: {13 * font_scale:.0f}pt; font-weight: bold;" if on else ""
        )
        self.views.heap_map.set_font_scale(font_scale if on else 1.0)
        self.status.set_presentation(on, font_scale)
        self._style_buttons(font_scale if on else 1.0)
        self.top_pages.set_compact(False)
        if on:
            screen = window.screen()
            if screen is not None and self.top.sizeHint().width() > screen.geometry().width() - 24:
                self.top_pages.set_compact(True)
        # The page stays: presenting, "all" is the overview (heap map beside the charts).
        self.set_page(self.page)

    def _style_buttons(self, scale: float) -> None:
        present = self.presenting
        size = (11 if present else 18) * scale
        padding = "4px 14px" if present else "12px 26px"
        top = self.top
        top.baseline.setStyleSheet(button_style("baseline", size, padding))
        top.pooled.setStyleSheet(button_style("pooled", size, padding))
        top.stop.setStyleSheet(stop_style(size, padding))
        for name, button in (
            ("baseline", top.baseline),
            ("pooled", top.pooled),
            ("stop", top.stop),
        ):
            button.setText(BUTTON_TEXTS[name][1 if present else 0])


__all__ = [
    "PAGES",
    "PAGE_NAMES",
    "PageBar",
    "ViewLayout",
    "fit_to_screen",
    "fitted_geometry",
    "presentation_scale",
]
