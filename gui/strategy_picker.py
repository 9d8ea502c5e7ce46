"""Every strategy one click or one key away: a picker with a Run button beside the two big
buttons, and keys (Ctrl+1 .. Ctrl+9 run a strategy, M steps the lock kind, W the workers).

Strategies that cannot run on this machine stay in the list, greyed out, with the
reason as their tooltip; their key says the reason in the error banner instead of
running.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QKeySequence, QStandardItemModel
from PySide6.QtWidgets import QBoxLayout, QComboBox, QLabel, QMenu, QPushButton, QWidget

from engine import USER_STRATEGIES, LockKind, Strategy
from gui import palette
from gui.settings_panel import SettingsPanel
from gui.strategy_text import (
    LOCK_TEXT,
    SUMMARY,
    key_strategies,
    mode_changes,
    mode_text,
    next_lock,
    next_workers,
    picker_text,
    unavailable_reason,
    workers_text,
)

#: What the picker shows first: the first strategy the big buttons do not run.
DEFAULT_PICK = Strategy.SIZECLASS


class StrategyPicker(QWidget):
    """A combo of every user strategy, a Run button and the lock kind / worker mode.

    Signals
    -------
    sig_run(Strategy)
        Run was clicked (or Enter pressed in the combo) for the picked strategy.
    """

    sig_run = Signal(object)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("strategyPicker")
        # Stacked, so the everyday top row still fits 1280 pixels beside the input.
        # Presenting, only the Run button shows, named after the picked strategy: the
        # views need the height and the row the width (Ctrl+1..9 pick and run).
        self.box = row = QBoxLayout(QBoxLayout.Direction.TopToBottom, self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(3)
        self.combo = QComboBox()
        self.combo.setObjectName("strategyCombo")
        # As wide as the longest name ("sizeclass"), not as the longest tooltip.
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        model = QStandardItemModel(self.combo)
        self.combo.setModel(model)
        for i, strategy in enumerate(USER_STRATEGIES):
            self.combo.addItem(strategy.label, strategy)
            item = model.item(i)
            reason = unavailable_reason(strategy)
            key = f" (Ctrl+{i + 1})" if strategy in key_strategies() else ""
            if reason:
                item.setEnabled(False)  # greyed out: the tooltip says why
                item.setToolTip(f"{strategy.label} cannot run here: {reason}")
            else:
                item.setToolTip(picker_text(strategy) + key)
        self.combo.setCurrentIndex(USER_STRATEGIES.index(DEFAULT_PICK))
        self.combo.currentIndexChanged.connect(self._on_picked)
        self.run_button = QPushButton("▶  Run")
        self.run_button.setObjectName("runPicked")
        self.run_button.clicked.connect(self._on_run_clicked)
        self.mode_label = QLabel("")
        self.mode_label.setObjectName("modeLabel")
        self.mode_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        row.addStretch(1)
        row.addWidget(self.combo)
        row.addWidget(self.run_button)
        row.addWidget(self.mode_label)
        row.addStretch(1)
        self._font_scale = 1.0
        self._lock, self._workers = LockKind.MUTEX, 0
        self.set_mode(LockKind.MUTEX, 0)
        self._on_picked()

    @property
    def strategy(self) -> Strategy:
        """The strategy picked now."""
        return Strategy(self.combo.currentData().value)

    def pick(self, strategy: Strategy) -> None:
        self.combo.setCurrentIndex(USER_STRATEGIES.index(strategy))

    def is_available(self, strategy: Strategy) -> bool:
        item = self.combo.model().item(USER_STRATEGIES.index(strategy))  # type: ignore[attr-defined]
        return bool(item.isEnabled())

    def tooltip_of(self, strategy: Strategy) -> str:
        return str(
            self.combo.itemData(USER_STRATEGIES.index(strategy), Qt.ItemDataRole.ToolTipRole)
        )

    def set_mode(self, lock: LockKind, workers: int) -> None:
        """Shows the lock kind and worker mode the next run takes, only when not the
        default (mutex, a thread per block): a change a hall must not miss."""
        text = mode_text(lock, workers)
        # One short line per change: the column stays as narrow as the combo.
        self.mode_label.setText("<br>".join(f"<b>{t}</b>" for t in mode_changes(lock, workers)))
        self._lock, self._workers = lock, workers
        self._style()
        self.mode_label.setToolTip(
            "The next run's lock kind and threads (M and W change them; Run settings too)"
        )
        self.run_button.setToolTip(f"Run {picker_text(self.strategy)} ({text})")

    def set_font_scale(self, font_scale: float) -> None:
        """Presentation mode's larger type (1.0: the everyday size)."""
        self._font_scale = font_scale
        present = font_scale != 1.0
        self.box.setDirection(
            QBoxLayout.Direction.LeftToRight if present else QBoxLayout.Direction.TopToBottom
        )
        self.combo.setVisible(not present)
        self._style()

    def _style(self) -> None:
        present = self._font_scale != 1.0
        # Presenting, the mode goes into the button (a second line): no room beside it.
        changes = "\n".join(mode_changes(self._lock, self._workers))
        self.run_button.setText(
            (f"▶ {self.strategy.label}" + (f"\n{changes}" if changes else ""))
            if present
            else "▶  Run"
        )
        self.mode_label.setVisible(bool(changes) and not present)
        # Presenting: smaller than the page buttons (9 x scale): the row is full (1280 px).
        size = 7.5 * self._font_scale if present else 13
        shades = palette.STRATEGY_FAMILIES[palette.family(self.strategy.label)]
        self.run_button.setStyleSheet(
            f"QPushButton {{ background: {shades[0]}; color: white; font-size: {size:.0f}pt;"
            " font-weight: bold; border: none; border-radius: 6px;"
            f" padding: {'2px 5px' if present else '3px 12px'}; }}"
            f" QPushButton:hover {{ background: {shades[1]}; }}"
            " QPushButton:disabled { background: #c8c8c8; color: #505050; }"
            " QPushButton:focus { border: 3px solid #000000; }"
        )
        self.combo.setStyleSheet(f"QComboBox {{ font-size: {size:.0f}pt; font-weight: bold; }}")
        self.mode_label.setStyleSheet(f"color: #8E2400; font-size: {size * 0.85:.0f}pt;")

    def set_run_enabled(self, on: bool) -> None:
        self.run_button.setEnabled(on and self.is_available(self.strategy))

    def _on_picked(self, *_args: object) -> None:
        strategy = self.strategy
        self.run_button.setToolTip(f"Run {picker_text(strategy)}")
        self.combo.setToolTip(self.tooltip_of(strategy))
        self._style()  # the Run button in the picked strategy's colour

    def _on_run_clicked(self) -> None:
        self.sig_run.emit(self.strategy)


class StrategyKeys:
    """Run > Strategies: Ctrl+1 .. Ctrl+9 run each user strategy; M and W step the lock
    kind and the worker mode.  Added to the window, so they work with the menu bar hidden
    (presentation mode) and the ? overlay lists them."""

    def __init__(
        self,
        window: QWidget,
        run_menu: QMenu | None,
        run: Callable[[Strategy], object],
        settings: SettingsPanel,
        say: Callable[[str, int], object],
        picker: StrategyPicker | None = None,
    ):
        self.settings = settings
        self.say = say
        menu = run_menu.addMenu("Other &strategies") if run_menu is not None else None
        self.runs: dict[Strategy, QAction] = {}
        for i, strategy in enumerate(key_strategies(), start=1):
            reason = unavailable_reason(strategy)
            text = f"Run {strategy.label} ({SUMMARY[strategy]})"
            action = QAction(
                text if not reason else f"Run {strategy.label} (not installed)", window
            )
            action.setShortcut(QKeySequence(f"Ctrl+{i}"))
            action.setToolTip(reason or text)
            action.triggered.connect(lambda _checked=False, s=strategy: run(s))
            if picker is not None and not reason:
                # The picker shows the last one: its Run button (presenting: "▶ batched")
                # runs it again.
                action.triggered.connect(lambda _checked=False, s=strategy: picker.pick(s))
            self.runs[strategy] = action
        self.next_lock = QAction("Lock kind: mutex → spin → adaptive", window)
        self.next_lock.setShortcut(QKeySequence("M"))
        self.next_lock.triggered.connect(self.step_lock)
        self.next_workers = QAction("Threads: per block → 2 → 4 long-lived workers", window)
        self.next_workers.setShortcut(QKeySequence("W"))
        self.next_workers.triggered.connect(self.step_workers)
        for action in self.actions:
            window.addAction(action)
            if menu is not None:
                menu.addAction(action)

    @property
    def actions(self) -> list[QAction]:
        return [*self.runs.values(), self.next_lock, self.next_workers]

    def step_lock(self) -> None:
        """M: the next lock kind, for the next run (the settings panel shows it too)."""
        lock = next_lock(self.settings.lock)
        self.settings.set_lock(lock)
        self.say(f"Next runs: {LOCK_TEXT[lock]}", 8000)

    def step_workers(self) -> None:
        """W: thread per block -> 2 -> 4 long-lived workers -> thread per block."""
        workers = next_workers(self.settings.workers)
        self.settings.set_workers(workers)
        self.say(f"Next runs: {workers_text(workers)}", 8000)
