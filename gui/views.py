"""The window's two areas: the top bar (input and the big run buttons) and the views
(settings | heap map over the lanes | charts, over the results table | the time breakdown)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from gui.breakdown_chart import BreakdownChart
from gui.charts import ChartsPanel
from gui.frame_pump import CaptionBoard
from gui.heap_map import HeapMapView
from gui.input_panel import InputPanel
from gui.results_table import ResultsModel, ResultsTable
from gui.settings_panel import SettingsPanel
from gui.status_bar import ErrorBanner
from gui.strategy_picker import StrategyPicker
from gui.timeline_view import TimelineView


def _big_button(text: str, name: str, tip: str) -> QPushButton:
    b = QPushButton(text)
    b.setObjectName(name)
    b.setToolTip(tip)
    return b


class TopBar(QHBoxLayout):
    """The input on the left, Run Baseline / Run Pooled, the strategy picker (every other
    strategy), Stop and Export on the right."""

    def __init__(self, banner: ErrorBanner):
        super().__init__()
        self.input_panel = InputPanel(banner)
        self.addLayout(self.input_panel, 1)
        self.baseline = _big_button(
            "▶  Run Baseline", "runBaseline", "Every thread allocates under ONE global lock (B)"
        )
        self.pooled = _big_button(
            "▶  Run Pooled", "runPooled", "Each thread bumps a pointer in its own pool, no lock (P)"
        )
        self.stop = _big_button("■  Stop", "stopButton", "Cancel the run (S or Esc)")
        self.export = _big_button(
            "Export…", "exportButton", "PNGs of the charts, heap map and dashboard, CSVs (E)"
        )
        self.picker = StrategyPicker()
        for b in (self.baseline, self.pooled, self.stop):
            b.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)
        self.addWidget(self.baseline)
        self.addWidget(self.pooled)
        self.addWidget(self.picker)
        # Export under Stop: with the picker, the row still fits 1280 pixels (presentation
        # mode hides Export and gui.layout adds its page buttons at the row's end).
        column = QVBoxLayout()
        column.setSpacing(3)
        column.addWidget(self.stop, 1)
        column.addWidget(self.export)
        self.addLayout(column)


def _split(orientation: Qt.Orientation, name: str, *parts: tuple[QWidget, int]) -> QSplitter:
    """A splitter of ``parts`` (widget, stretch)."""
    split = QSplitter(orientation)
    split.setObjectName(name)
    for i, (widget, stretch) in enumerate(parts):
        split.addWidget(widget)
        split.setStretchFactor(i, stretch)
    return split


class ViewArea(QSplitter):
    """Settings | heap map (with its caption) over the lanes | charts on top; the results
    table and the time breakdown (one bar per row's run) below."""

    def __init__(self, results: ResultsModel):
        super().__init__(Qt.Orientation.Vertical)
        self.setObjectName("centerSplit")
        self.settings_panel = SettingsPanel()
        self.settings_panel.setObjectName("settingsPanel")
        self.settings_panel.setMinimumWidth(230)
        self.settings_panel.setMaximumWidth(340)
        self.heap_map = HeapMapView()
        self.heap_map.setMinimumSize(360, 200)  # with its caption and the lanes: fits 720 p
        self.table = ResultsTable(results)
        self.charts = ChartsPanel()
        self.charts.setMinimumWidth(380)
        self.timeline = TimelineView()
        self.timeline.setMinimumHeight(100)  # the window still fits 1280x720
        self.breakdown = BreakdownChart()
        self.breakdown.setMinimumWidth(300)

        self.heap_box = heap_box = QWidget()
        hl = QVBoxLayout(heap_box)
        hl.setContentsMargins(0, 0, 0, 0)
        hl.setSpacing(2)
        hl.addWidget(self.heap_map, 1)
        heap_caption = QLabel("")
        heap_caption.setObjectName("caption")
        heap_caption.setWordWrap(True)
        hl.addWidget(heap_caption)
        self.captions = CaptionBoard({"heap": heap_caption, **self.charts.captions})

        self.heap_split = _split(
            Qt.Orientation.Vertical, "heapSplit", (heap_box, 3), (self.timeline, 2)
        )
        self.main_split = _split(
            Qt.Orientation.Horizontal,
            "mainSplit",
            (self.settings_panel, 0),
            (self.heap_split, 5),
            (self.charts, 4),
        )
        self.table_box = self._table_box()
        self.table_split = _split(
            Qt.Orientation.Horizontal, "tableSplit", (self.table_box, 3), (self.breakdown, 2)
        )
        for split in (self.heap_split, self.table_split):
            split.setChildrenCollapsible(False)  # the lanes and bars never vanish by a drag
        self.addWidget(self.main_split)
        self.addWidget(self.table_split)
        self.setStretchFactor(0, 4)
        self.setStretchFactor(1, 1)

    def _table_box(self) -> QWidget:
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        head = QHBoxLayout()
        self.table_title = title = QLabel("Results: one row per run")
        title.setObjectName("sectionTitle")
        self.clear_button = QPushButton("Clear runs")
        self.clear_button.setToolTip("Remove every row and curve (Ctrl+Delete)")
        head.addWidget(title)
        head.addStretch(1)
        head.addWidget(self.clear_button)
        layout.addLayout(head)
        layout.addWidget(self.table)
        return box
