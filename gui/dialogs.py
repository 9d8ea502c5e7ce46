"""Small modal dialogs."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QSpinBox,
    QWidget,
)

from gui import inputs


class GenerateDialog(QDialog):
    """Kind and size of a generated input."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Generate a test input")
        layout = QFormLayout(self)
        self.kind = QComboBox()
        for kind in inputs.KINDS:
            self.kind.addItem(inputs.KIND_DESCRIPTIONS[kind], kind)
        self.amount = QSpinBox()
        self.amount.setRange(1, 1024)
        self.amount.setValue(1)
        self.unit = QComboBox()
        self.unit.addItems(["KiB", "MiB"])
        self.unit.setCurrentIndex(1)
        row = QHBoxLayout()
        row.addWidget(self.amount)
        row.addWidget(self.unit)
        layout.addRow("Kind", self.kind)
        layout.addRow("Size", row)
        layout.addRow(QLabel(f"Saved in {inputs.data_dir()}"))
        ok, cancel = QDialogButtonBox.StandardButton.Ok, QDialogButtonBox.StandardButton.Cancel
        buttons = QDialogButtonBox(ok | cancel)
        buttons.button(ok).setText("Generate")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addRow(buttons)

    def choice(self) -> tuple[str, int]:
        factor = 1024 if self.unit.currentText() == "KiB" else 1024 * 1024
        return self.kind.currentData(), self.amount.value() * factor
