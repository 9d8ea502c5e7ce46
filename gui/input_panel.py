"""The input's name and size, and the buttons that choose it (open, generate, samples)."""

from __future__ import annotations

import math
import os
from collections.abc import Callable

from PySide6.QtWidgets import QHBoxLayout, QLabel, QMenu, QPushButton, QToolButton, QVBoxLayout

from engine import format_size
from gui import inputs


def input_size(path: str | None) -> int:
    try:
        return os.path.getsize(path) if path else 0
    except OSError:
        return 0


def block_count(size: int, block: int) -> int:
    return math.ceil(size / block) if size else 0


class InputPanel(QVBoxLayout):
    """Input name, size and folder over the Open…, Generate… and Samples buttons."""

    def __init__(self) -> None:
        super().__init__()
        self.name = QLabel("No input yet: open a file, generate one, or pick a sample")
        self.name.setObjectName("inputName")
        self.info = QLabel("")
        self.info.setObjectName("inputInfo")
        self.addWidget(self.name)
        self.addWidget(self.info)
        buttons = QHBoxLayout()
        self.open_button = QPushButton("Open…")
        self.generate_button = QPushButton("Generate…")
        self.samples_button = QToolButton()
        self.samples_button.setText("Samples")
        self.samples_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.samples_menu = QMenu(self.samples_button)  # freed with the window
        self.samples_button.setMenu(self.samples_menu)
        for b in (self.open_button, self.generate_button, self.samples_button):
            b.setObjectName("inputButton")
            buttons.addWidget(b)
        buttons.addStretch(1)
        self.addLayout(buttons)

    def fill_samples(self, open_input: Callable[[str], object]) -> None:
        """One menu entry per bundled sample."""
        self.samples_menu.clear()
        samples = inputs.samples()
        for path in samples:
            a = self.samples_menu.addAction(f"{path.name}  ({format_size(path.stat().st_size)})")
            a.triggered.connect(lambda _checked=False, p=str(path): open_input(p))
        if not samples:
            self.samples_menu.addAction("(no bundled samples found)").setEnabled(False)

    def show_input(self, path: str, block: int) -> None:
        size = input_size(path)
        self.name.setText(f"Input: {os.path.basename(path)}")
        self.name.setToolTip(path)
        self.info.setText(
            f"{format_size(size)}  ·  {block_count(size, block):,} blocks of "
            f"{format_size(block)}  ·  {os.path.dirname(path)}"
        )

    def set_enabled(self, on: bool) -> None:
        for w in (self.open_button, self.generate_button, self.samples_button):
            w.setEnabled(on)
