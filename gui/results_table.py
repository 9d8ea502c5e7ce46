"""The results table: one row per finished run, the numbers students compare.

Each cell has a display text (units, separators, the match mark) and a raw
value (``Qt.ItemDataRole.UserRole``) that the CSV export writes, so the CSV and the table
always agree.  Any set of runs compares: every strategy, lock kind and worker
mode has its row; malloc's family shows its lock count as not observable (empty
in the CSV, never 0), and speedups are against the first full-speed baseline
run on the same input (so a spin-lock baseline shows its gain over the mutex's).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView

from engine import LockKind, RunResult, Strategy, format_size
from gui import palette

#: What the table says where malloc's family keeps its locks to itself.
NOT_OBSERVABLE = "not observable"

COLUMNS = (
    ("run", "#"),
    ("input", "Input"),
    ("strategy", "Strategy"),
    ("lock", "Lock"),
    ("workers", "Workers"),
    ("threads", "Threads"),
    ("pool", "Pool"),
    ("wall_s", "Wall time (s)"),
    ("mb_per_s", "MB/s"),
    ("locks", "Lock acquisitions"),
    ("contended_pct", "Contended (%)"),
    ("mean_wait_us", "Wait / acq. (µs)"),
    ("signature", "Signature (✓ = reference)"),
    ("speedup", "Speedup (×)"),
)
KEYS = tuple(key for key, _ in COLUMNS)
HEADERS = tuple(header for _, header in COLUMNS)


def line_swatch(style: palette.RunStyle, height: int) -> QPixmap:
    """A short sample of a run's line (colour and dash), for the table and legends."""
    width = max(24, 3 * height)
    pixmap = QPixmap(width, height)
    pixmap.fill(QColor(0, 0, 0, 0))
    painter = QPainter(pixmap)
    try:
        pen = QPen(QColor(style.colour), max(2.0, height / 5))
        pen.setStyle(palette.pen_style(style.dash))
        painter.setPen(pen)
        painter.drawLine(1, height // 2, width - 2, height // 2)
    finally:
        painter.end()
    return pixmap


def input_key(path: str, block_size: int) -> tuple:
    """Identifies an input for the reference signature and speedups.

    The block size is part of it: the signature depends on how the file is cut.
    """
    real = os.path.realpath(path)
    try:
        st = os.stat(real)
        return real, st.st_size, st.st_mtime_ns, block_size
    except OSError:
        return real, -1, -1, block_size


@dataclasses.dataclass
class ResultRow:
    run_id: int
    result: RunResult
    key: tuple
    reference: int | None = None  # single-threaded signature, when known
    speedup: float | None = None  # the first baseline's wall time / this wall time
    baseline_run: int | None = None  # which run the speedup is against
    reference_failed: bool = False  # the reference could not be computed

    @property
    def matches(self) -> bool | None:
        return None if self.reference is None else self.result.signature == self.reference

    def value(self, key: str):
        """The raw value of one column (what the CSV holds)."""
        r = self.result
        observed = r.lock_acquisitions is not None
        return {
            "run": self.run_id,
            "input": os.path.basename(r.path),
            "strategy": r.strategy.label,
            "lock": r.config.lock.label,
            "workers": r.config.workers,
            "threads": r.config.threads,
            "pool": r.config.pool_size if r.strategy is Strategy.POOLED else "",
            "wall_s": round(r.wall_s, 6),
            "mb_per_s": round(r.mb_per_s, 3),
            "locks": r.lock_acquisitions if observed else "",
            "contended_pct": round(100.0 * r.contended_fraction, 2) if observed else "",
            "mean_wait_us": round(r.mean_wait_ns / 1000.0, 3) if observed else "",
            "signature": r.signature,
            "speedup": "" if self.speedup is None else round(self.speedup, 2),
        }[key]

    def text(self, key: str) -> str:
        """The display text of one column."""
        r = self.result
        if key == "pool":
            return format_size(r.config.pool_size) if r.strategy is Strategy.POOLED else "none"
        if key == "wall_s":
            return f"{r.wall_s:.3f}"
        if key == "mb_per_s":
            return f"{r.mb_per_s:.2f}"
        if key in ("locks", "contended_pct", "mean_wait_us") and r.lock_acquisitions is None:
            return NOT_OBSERVABLE if key == "locks" else "—"
        if key == "lock":
            return r.config.lock.label
        if key == "workers":
            return "per block" if r.config.workers == 0 else str(r.config.workers)
        if key == "locks":
            return f"{r.lock_acquisitions:,}"
        if key == "contended_pct":
            return f"{100.0 * r.contended_fraction:.1f}"
        if key == "mean_wait_us":
            return f"{r.mean_wait_ns / 1000.0:.2f}"
        if key == "signature":
            if self.reference_failed:
                return f"{r.signature}  ? (no reference)"
            mark = {None: "  … checking", True: "  ✓", False: f"  ✗ (ref. {self.reference})"}
            return f"{r.signature}{mark[self.matches]}"
        if key == "speedup":
            if self.speedup is None:
                return "— (no baseline)" if r.strategy is not Strategy.BASELINE else "1.00×"
            if self.baseline_run == self.run_id:
                return "1.00× (baseline)"
            return f"{self.speedup:.2f}× vs #{self.baseline_run}"
        return str(self.value(key))


class ResultsModel(QAbstractTableModel):
    """Rows of :class:`ResultRow`; ``Qt.ItemDataRole.UserRole`` gives the raw CSV value."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.rows: list[ResultRow] = []
        #: How each run is drawn in the charts (the window sets it): the strategy
        #: column shows the same colour and a sample of the same line.
        self.style_of: Callable[[int], palette.RunStyle | None] = lambda _run_id: None
        self.swatch_height = 14

    def _style(self, row: ResultRow) -> palette.RunStyle:
        """The run's curve style, or its strategy's first one (no curve: e.g. cleared)."""
        return self.style_of(row.run_id) or palette.colour_for(row.result.strategy.label)

    # -- Qt model API --------------------------------------------------------

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802, B008 (Qt's signature)
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: N802, B008 (Qt's signature)
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[section]
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.ToolTipRole:
            return HEADERS[section]
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        key = KEYS[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return row.text(key)
        if role == Qt.ItemDataRole.UserRole:
            return row.value(key)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            if key in ("input", "strategy"):
                return int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole:
            if key == "signature" and row.matches is not None:
                return QBrush(QColor("#1a7f37" if row.matches else "#c0392b"))
            if key == "strategy":
                return QBrush(QColor(self._style(row).colour))
        if role == Qt.ItemDataRole.DecorationRole and key == "strategy":
            return line_swatch(self._style(row), self.swatch_height)
        if role == Qt.ItemDataRole.ToolTipRole:
            if key == "locks" and row.result.lock_acquisitions is None:
                return row.result.lock_acquisitions_text
            if key == "lock":
                return f"Kind of every allocator lock: {row.result.config.lock.label}"
            if key == "workers":
                return (
                    "A new thread per block, in batches (the exercise's shape)"
                    if row.result.config.workers == 0
                    else f"{row.result.config.workers} long-lived workers, "
                    "each taking blocks from its own queue"
                )
            if key in ("wall_s", "mb_per_s", "contended_pct", "mean_wait_us", "speedup"):
                return {
                    "wall_s": "Engine wall time of the run, in seconds",
                    "mb_per_s": "Input hashed per second, in megabytes (10^6 bytes)",
                    "contended_pct": "Share of lock acquisitions that had to wait, in %",
                    "mean_wait_us": "Mean time spent waiting per lock acquisition, in µs",
                    "speedup": "Wall time of the first baseline run on this input / "
                    "this run's wall time",
                }[key]
            if key == "signature":
                if row.matches is None:
                    return "The single-threaded reference signature is being computed"
                return (
                    "Same signature as the single-threaded reference"
                    if row.matches
                    else f"Differs from the single-threaded reference {row.reference}"
                )
            if key == "input":
                return row.result.path
        return None

    # -- rows ----------------------------------------------------------------

    def add_result(self, run_id: int, result: RunResult, reference: int | None) -> ResultRow:
        """Appends a run; its speedup is against the first full-speed baseline on the
        same input (a later baseline, e.g. with spin locks, gets its speedup over it)."""
        key = input_key(result.path, result.config.block_size)
        row = ResultRow(run_id, result, key, reference)
        baseline = next(
            (
                r
                for r in self.rows
                if r.key == key
                and r.result.strategy is Strategy.BASELINE
                and not getattr(r, "slowed", "")  # gui.slowed_rows.SlowedRow: compares with nothing
            ),
            None,
        )
        if result.strategy is Strategy.BASELINE and baseline is None:
            row.speedup, row.baseline_run = 1.0, run_id
        elif baseline is not None and result.wall_s > 0:
            row.speedup = baseline.result.wall_s / result.wall_s
            row.baseline_run = baseline.run_id
        self.beginInsertRows(QModelIndex(), len(self.rows), len(self.rows))
        self.rows.append(row)
        self.endInsertRows()
        return row

    def set_reference(self, key: tuple, signature: int) -> None:
        """Marks every row of this input against its single-threaded signature."""
        col = KEYS.index("signature")
        for i, row in enumerate(self.rows):
            if row.key == key:
                row.reference = signature
                self.dataChanged.emit(self.index(i, col), self.index(i, col))

    def set_reference_failed(self, key: tuple) -> None:
        col = KEYS.index("signature")
        for i, row in enumerate(self.rows):
            if row.key == key:
                row.reference_failed = True
                self.dataChanged.emit(self.index(i, col), self.index(i, col))

    def clear(self) -> None:
        self.beginResetModel()
        self.rows = []
        self.endResetModel()

    def table_values(self) -> list[list]:
        """Every row's raw values, in column order (the CSV body)."""
        return [[row.value(k) for k in KEYS] for row in self.rows]


#: Columns hidden first when the table is narrower than its contents, so it
#: never needs a horizontal scroll bar (their values stay in the CSV export).
#: The lock and workers columns go first while every row has the defaults (mutex,
#: a thread per block): then they say nothing; else they go last.
OPTIONAL_COLUMNS = (
    "lock",
    "workers",
    "input",
    "threads",
    "mean_wait_us",
    "contended_pct",
    "pool",
    "mb_per_s",
)
_MODE_COLUMNS = ("lock", "workers")


def optional_columns(rows: list[ResultRow]) -> tuple[str, ...]:
    """OPTIONAL_COLUMNS in the order they are hidden for these rows."""
    if all(r.result.config.lock is LockKind.MUTEX and r.result.config.workers == 0 for r in rows):
        return OPTIONAL_COLUMNS
    rest = tuple(k for k in OPTIONAL_COLUMNS if k not in _MODE_COLUMNS)
    return (*rest, "workers", "lock")


class ResultsTable(QTableView):
    """The table view: big font, whole rows selected, columns sized to content.

    No horizontal scroll bar: when the columns do not fit, the least important
    ones (OPTIONAL_COLUMNS, in order) are hidden; the newest row is scrolled into
    view as runs are added.
    """

    def __init__(self, model: ResultsModel, parent=None):
        super().__init__(parent)
        self.setModel(model)
        self.results = model
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setAlternatingRowColors(True)
        self.verticalHeader().setVisible(False)
        self.setWordWrap(False)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        header = self.horizontalHeader()
        header.setStretchLastSection(True)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignCenter | Qt.AlignmentFlag.AlignVCenter)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self._font_scale = 1.0
        self._base_point_size = self.font().pointSizeF()
        model.rowsInserted.connect(self._on_rows_inserted)
        model.dataChanged.connect(self._fit_columns)
        model.modelReset.connect(self._fit_columns)
        self._fit_columns()

    def set_font_scale(self, font_scale: float) -> None:
        """Larger text (presentation mode), and rows and swatches to match."""
        self._font_scale = font_scale
        size = self._base_point_size * font_scale
        f = self.font()
        f.setPointSizeF(size)
        self.setFont(f)
        # The window's style sheet styles the header: only a style sheet resizes it.
        self.setStyleSheet(
            f"QTableView {{ font-size: {size:.0f}pt; }}"
            f" QHeaderView::section {{ font-size: {size:.0f}pt; font-weight: bold; padding: 4px; }}"
            if font_scale != 1.0
            else ""
        )
        row_h = int(self.fontMetrics().height() * 1.35)
        self.verticalHeader().setDefaultSectionSize(row_h)
        self.results.swatch_height = max(10, int(self.fontMetrics().height() * 0.7))
        self._fit_columns()

    def _on_rows_inserted(self, *_args) -> None:
        self._fit_columns()
        self.scrollToBottom()

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self._fit_columns()

    def hidden_columns(self) -> list[str]:
        return [KEYS[c] for c in range(len(KEYS)) if self.isColumnHidden(c)]

    def _fit_columns(self, *_args) -> None:
        header = self.horizontalHeader()
        for column in range(header.count()):
            self.setColumnHidden(column, False)
        # Contents plus a margin: the style's cell padding made exact fits elide ("32 …").
        self.resizeColumnsToContents()
        widths = {}
        for column in range(header.count()):
            widths[column] = header.sectionSize(column) + 18
            header.resizeSection(column, widths[column])
        available = self.viewport().width()
        if available <= 0:
            return
        total = sum(widths.values())
        for key in optional_columns(self.results.rows):
            if total <= available:
                break
            column = KEYS.index(key)
            self.setColumnHidden(column, True)
            total -= widths[column]
        if total > available:
            # Still too wide: the signature gives up the rest (elided in the middle,
            # so its match mark stays in view; the tooltip and the CSV keep it all).
            column = KEYS.index("signature")
            header.resizeSection(column, max(80, widths[column] - (total - available)))
