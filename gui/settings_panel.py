"""The run settings: heap, pool, batch and block sizes, each checked as typed; the
lock kind and the worker mode (a thread per block in batches, or N long-lived workers)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from engine import (
    LIMITS,
    USER_STRATEGIES,
    InputError,
    LockKind,
    RunConfig,
    Strategy,
    format_size,
    parse_size,
)
from gui.strategy_text import LOCK_TEXT, unavailable_reason

SIZE_FIELDS = ("heap_size", "pool_size", "block_size")
FIELD_LABELS = {
    "heap_size": "Heap size",
    "pool_size": "Pool size (per thread)",
    "batch_size": "Threads per batch",
    "block_size": "Block size",
}


class SettingsPanel(QGroupBox):
    """Heap, pool, batch and block sizes, each checked as it is typed.

    A value the engine would refuse shows the engine's own message (which
    names the valid range) under its field, and the run buttons it affects
    are disabled.
    """

    sig_changed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Run settings", parent)
        self.edits: dict[str, QLineEdit | QSpinBox] = {}
        self.errors: dict[str, QLabel] = {}
        form = QVBoxLayout(self)
        form.setSpacing(2)
        for name in ("heap_size", "pool_size", "batch_size", "block_size"):
            low, high, default = LIMITS[name]
            label = QLabel(FIELD_LABELS[name])
            label.setObjectName("fieldLabel")
            edit: QLineEdit | QSpinBox
            if name == "batch_size":
                spin = QSpinBox()
                spin.setRange(low, high)
                spin.setValue(default)
                spin.setSuffix(" threads")
                spin.valueChanged.connect(self._on_field_changed)
                edit = spin
                hint = f"{low} to {high} threads run at once (one block each)"
            else:
                line = QLineEdit(format_size(default).replace(" ", "").replace("iB", ""))
                line.textChanged.connect(self._on_field_changed)
                edit = line
                hint = f"{format_size(low)} to {format_size(high)}; e.g. 2M, 32K, 1024"
            edit.setObjectName(name)
            edit.setToolTip(hint)
            error = QLabel("")
            error.setObjectName("fieldError")
            error.setWordWrap(True)
            error.setVisible(False)
            label.setBuddy(edit)
            form.addWidget(label)
            form.addWidget(edit)
            form.addWidget(error)
            self.edits[name] = edit
            self.errors[name] = error
        self.general_error = QLabel("")
        self.general_error.setObjectName("fieldError")
        self.general_error.setWordWrap(True)
        self.general_error.setVisible(False)
        form.addWidget(self.general_error)
        self._add_mode_fields(form)
        self.reset_button = QPushButton("Defaults")
        self.reset_button.setToolTip(
            "Back to 2 MiB heap, 32 KiB pools, 20 threads, 1 KiB blocks, mutex, thread per block"
        )
        self.reset_button.clicked.connect(self.reset)
        form.addWidget(self.reset_button)
        form.addStretch(1)
        self._configs: dict[Strategy, RunConfig | str] = {}
        self.validate()

    def _add_mode_fields(self, form: QVBoxLayout) -> None:
        """The lock kind and the worker mode: every strategy takes both."""
        self.lock_combo = QComboBox()
        self.lock_combo.setObjectName("lock")
        for kind in LockKind:
            self.lock_combo.addItem(kind.label, kind)
            self.lock_combo.setItemData(
                self.lock_combo.count() - 1, LOCK_TEXT[kind], Qt.ItemDataRole.ToolTipRole
            )
        self.lock_combo.setToolTip("The kind of every allocator lock in the run (M steps it)")
        self.lock_combo.currentIndexChanged.connect(self._on_field_changed)
        self.workers_spin = QSpinBox()
        self.workers_spin.setObjectName("workers")
        low, high, default = LIMITS["workers"]
        self.workers_spin.setRange(low, high)
        self.workers_spin.setValue(default)
        # 0 reads as the exercise's shape, not as "0 workers".
        self.workers_spin.setSpecialValueText("per block")
        self.workers_spin.setSuffix(" workers")
        self.workers_spin.setMinimumWidth(60)
        self.workers_spin.setToolTip(
            "0: a new thread per block, in batches (the exercise's shape); "
            f"1 to {high}: that many long-lived workers, each taking blocks from its own "
            "queue (W steps it)"
        )
        self.workers_spin.valueChanged.connect(self._on_field_changed)
        # One label and one row for both: the panel must still fit a 720-pixel screen.
        label = QLabel("Lock (M), threads (W)")
        label.setObjectName("fieldLabel")
        label.setBuddy(self.lock_combo)
        row = QHBoxLayout()
        row.setSpacing(4)
        row.addWidget(self.lock_combo, 2)
        row.addWidget(self.workers_spin, 3)
        form.addWidget(label)
        form.addLayout(row)

    @property
    def lock(self) -> LockKind:
        return LockKind(self.lock_combo.currentData().value)

    def set_lock(self, lock: LockKind | str) -> None:
        self.lock_combo.setCurrentIndex(list(LockKind).index(LockKind.parse(lock)))

    @property
    def workers(self) -> int:
        return int(self.workers_spin.value())

    def set_workers(self, workers: int) -> None:
        self.workers_spin.setValue(workers)

    # -- values --------------------------------------------------------------

    def raw_values(self) -> dict[str, str]:
        return {
            name: str(edit.value()) if isinstance(edit, QSpinBox) else edit.text()
            for name, edit in self.edits.items()
        }

    def set_values(self, values: dict[str, Any]) -> None:
        for name, value in values.items():
            edit = self.edits.get(name)
            if edit is None or value is None:
                continue
            if isinstance(edit, QSpinBox):
                try:
                    edit.setValue(int(value))
                except (TypeError, ValueError):
                    pass
            else:
                edit.setText(str(value))
        self.validate()

    def reset(self) -> None:
        self.lock_combo.setCurrentIndex(0)
        self.workers_spin.setValue(LIMITS["workers"][2])
        self.set_values(
            {
                name: (
                    LIMITS[name][2]
                    if name == "batch_size"
                    else format_size(LIMITS[name][2]).replace(" ", "").replace("iB", "")
                )
                for name in self.edits
            }
        )

    def _on_field_changed(self, *_args: object) -> None:
        self.validate()
        self.sig_changed.emit()

    def validate(self) -> dict[Strategy, RunConfig | str]:
        """Checks every field; returns a RunConfig (or the error text) per strategy."""
        parsed: dict[str, int] = {}
        field_ok = True
        for name, text in self.raw_values().items():
            message = ""
            try:
                value = parse_size(text) if name in SIZE_FIELDS else int(text)
                RunConfig(**{name: value})  # type: ignore[arg-type]  # the engine's range check
                parsed[name] = value
            except (InputError, ValueError) as exc:
                message = str(exc)
                field_ok = False
            self.errors[name].setText(message)
            self.errors[name].setVisible(bool(message))
            self.edits[name].setProperty("invalid", bool(message))
            self.edits[name].style().unpolish(self.edits[name])
            self.edits[name].style().polish(self.edits[name])
        configs: dict[Strategy, RunConfig | str] = {}
        general: list[str] = []
        # Built before the widgets of the lock and workers exist too (from __init__).
        combo = getattr(self, "lock_combo", None)
        mode = {"lock": self.lock, "workers": self.workers} if combo is not None else {}
        for strategy in USER_STRATEGIES:
            if not field_ok:
                configs[strategy] = "fix the settings marked in red first"
                continue
            reason = unavailable_reason(strategy)
            if reason:
                configs[strategy] = reason
                continue
            try:
                configs[strategy] = RunConfig(
                    strategy=strategy,
                    **parsed,  # type: ignore[arg-type]
                    **mode,  # type: ignore[arg-type]
                )
            except InputError as exc:
                configs[strategy] = str(exc)
                if strategy in (Strategy.BASELINE, Strategy.POOLED):
                    general.append(f"{strategy.label.capitalize()}: {exc}")
        self.general_error.setText("\n".join(dict.fromkeys(general)))
        self.general_error.setVisible(bool(general))
        self._configs = configs
        return configs

    def config_for(self, strategy: Strategy) -> RunConfig | str:
        """The validated RunConfig for a strategy, or the reason it is refused (one line)."""
        found = self._configs.get(strategy) or self.validate().get(strategy)
        if found is None:  # floor: the benchmark's, never run from the app
            return f"{strategy.label} runs only in the benchmark, not in the app"
        return found

    def block_size(self) -> int | None:
        edit = self.edits["block_size"]
        try:
            return parse_size(edit.text()) if isinstance(edit, QLineEdit) else None
        except ValueError:
            return None
