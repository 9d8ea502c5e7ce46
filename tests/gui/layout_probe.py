"""Measures the real window's layout on a screen of a given size (run as a script).

    python -m tests.gui.layout_probe WIDTH HEIGHT OUT.json

Qt's offscreen platform takes its screen size from a config file, fixed when
the QApplication starts: one probe per screen size, in its own process (the
test suite's own QApplication has an 800x800 screen). It runs baseline then
pooled on a test vector, then measures every page in the everyday layout and
in presentation mode, and writes what it measured as JSON: the tests assert.
"""

from __future__ import annotations

import json
import os
import pathlib
import sys
import tempfile

VECTOR = pathlib.Path(__file__).resolve().parents[1] / "vectors" / "random_64k.bin"


def _rect(r) -> list[float]:
    return [r.x(), r.y(), r.width(), r.height()]


def _axis_text_rects(axis) -> list[list[float]]:
    """The tick labels' rectangles as the axis draws them."""
    from PySide6.QtGui import QImage, QPainter

    image = QImage(8, 8, QImage.Format.Format_RGB32)
    painter = QPainter(image)
    try:
        specs = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    if specs is None:
        return []
    return [_rect(r) for r, _flags, _text in specs[2]]


def measure_charts(window) -> list[dict]:
    out = []
    for kind, view in window.charts.views.items():
        if not view.isVisible():
            continue
        item = view.getPlotItem()
        plot = view.plot_rect()
        legend = view.legend_rect()
        hits = 0
        points = 0
        for trace in window.charts.traces:
            for x, y in view.data_points_in_scene(trace.run_id):
                points += 1
                if not legend.isEmpty() and legend.contains(x, y):
                    hits += 1
        title = item.titleLabel
        out.append(
            {
                "kind": kind,
                "widget_h": view.height(),
                "plot_h": plot.height(),
                "legend": _rect(legend),
                "plot": _rect(plot),
                "legend_hits": hits,
                "points": points,
                "legend_lines": view.legend_lines,
                "left_ticks": _axis_text_rects(item.getAxis("left")),
                "bottom_ticks": _axis_text_rects(item.getAxis("bottom")),
                "title_text_w": title.item.boundingRect().width(),
                "title_w": title.boundingRect().width(),
                "title_pt": title.opts.get("size"),
                "tick_pt": item.getAxis("left").style["tickFont"].pointSizeF(),
            }
        )
    return out


def measure_page(window) -> dict:
    screen = window.screen().geometry()

    def on_screen(widget) -> bool:
        if not widget.isVisible():
            return True
        top_left = widget.mapToGlobal(widget.rect().topLeft())
        bottom_right = widget.mapToGlobal(widget.rect().bottomRight())
        return screen.contains(top_left) and screen.contains(bottom_right)

    captions = {}
    for name, label in window.captions.labels.items():
        if label.isVisible() and label.text():
            captions[name] = {
                "pt": label.font().pointSizeF(),
                "height": label.height(),
                "needed": label.heightForWidth(label.width()),
            }
    return {
        "page": window.view_layout.page,
        "window": _rect(window.geometry()),
        "screen": _rect(screen),
        "off_screen": [
            name
            for name, widget in (
                ("baseline", window.baseline_button),
                ("pooled", window.pooled_button),
                ("stop", window.stop_button),
                ("export", window.export_button),
                ("charts", window.charts),
                ("heap_map", window.heap_map),
                ("timeline", window.timeline),
                ("table", window.table),
                ("breakdown", window.breakdown),
                ("status", window.statusBar()),
            )
            if not on_screen(widget)
        ],
        "charts": measure_charts(window),
        "panel_legend": window.charts.legend.isVisible(),
        "panel_legend_below_charts": any(
            window.charts.legend.geometry().bottom() > v.geometry().top()
            for v in window.charts.views.values()
            if v.isVisible() and window.charts.legend.isVisible()
        ),
        "captions": captions,
        "heap_title_lines": window.heap_map.title.text.count("<br>") + 1,
        "table_hidden_columns": window.table.hidden_columns(),
        "table_hscroll": window.table.horizontalScrollBar().isVisible(),
        "button_pt": window.baseline_button.font().pointSizeF(),
    }


def main(width: int, height: int, out: str) -> None:
    tmp = tempfile.mkdtemp(prefix="heapscope-layout-")
    config = pathlib.Path(tmp, "screen.json")
    config.write_text(
        json.dumps(
            {
                "synchronousWindowSystemEvents": False,
                "windowFrameMargins": False,
                "screens": [
                    {
                        "name": "projector",
                        "x": 0,
                        "y": 0,
                        "width": width,
                        "height": height,
                        "logicalDpi": 96,
                        "logicalBaseDpi": 96,
                        "dpr": 1,
                    }
                ],
            }
        )
    )
    os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={config}"
    os.environ["HEAPSCOPE_DATA_DIR"] = str(pathlib.Path(tmp, "data"))
    import pyqtgraph as pg
    from PySide6.QtCore import QEventLoop, QSettings, Qt, QTimer
    from PySide6.QtWidgets import QApplication

    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp))
    app = QApplication([sys.argv[0]])
    app.setStyle("Fusion")
    pg.setConfigOptions(antialias=True, background="w", foreground="k")
    from engine import Strategy
    from gui.main_window import MainWindow

    window = MainWindow()
    window.show()
    result: dict = {"normal": {}, "presentation": {}}
    try:
        assert window.open_input(str(VECTOR)), window.error_text()
        loop = QEventLoop()
        window.sig_idle.connect(loop.quit)
        QTimer.singleShot(90_000, loop.quit)  # a hung run fails the test, never the suite
        window.run_sequence([Strategy.BASELINE, Strategy.POOLED])
        loop.exec()
        result["rows"] = len(window.results.rows)

        def settle() -> None:
            for _ in range(5):
                app.processEvents()

        for mode in ("normal", "presentation"):
            if mode == "presentation":
                window.presenter.toggle()
            for page in ("all", "heap", "lanes", "charts", "results"):
                window.view_layout.set_page(page)
                settle()
                result[mode][page] = measure_page(window)
        result["scale"] = window.presenter.font_scale
        result["full_screen"] = bool(window.windowState() & Qt.WindowState.WindowFullScreen)
        # Back to the everyday layout: the window must fit the screen again.
        window.presenter.toggle()
        window.view_layout.set_page("all")
        settle()
        result["after_presenting"] = measure_page(window)
        geometry = window.geometry()
        result["after_presenting_window"] = [geometry.width(), geometry.height()]
    finally:
        window.shutdown()
        window.close()
    pathlib.Path(out).write_text(json.dumps(result))


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3])
