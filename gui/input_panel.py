"""The input's name and size, and the buttons that choose it (open, generate, samples)."""

from __future__ import annotations

import math
import os
import pathlib

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
)

from engine import InputError, Run, RunConfig, format_size
from gui import inputs
from gui.app_settings import AppSettings
from gui.dialogs import GenerateDialog
from gui.status_bar import ErrorBanner


def input_size(path: str | None) -> int:
    try:
        return os.path.getsize(path) if path else 0
    except OSError:
        return 0


def block_count(size: int, block: int) -> int:
    return math.ceil(size / block) if size else 0


class InputPanel(QVBoxLayout):
    """Input name, size and folder over the Open…, Generate… and Samples buttons.

    Signals
    -------
    opened(str)
        The input is now this path (it was checked: the engine can read it).
    """

    opened = Signal(str)

    def __init__(self, banner: ErrorBanner) -> None:
        super().__init__()
        self.banner = banner
        #: The input the user has open (None until one opens).
        self.path: str | None = None
        self.name = QLabel("No input yet: open a file, generate one, or pick a sample")
        self.name.setObjectName("inputName")
        self.info = QLabel("")
        self.info.setObjectName("inputInfo")
        # Neither label may widen the window: a long name is clipped (its tooltip has it all).
        for label in (self.name, self.info):
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
            label.setMinimumWidth(120)
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
        self.open_button.clicked.connect(self.ask_open)
        self.generate_button.clicked.connect(self.ask_generate)
        self.fill_samples()

    def open(self, path: str | os.PathLike[str], remember: bool = True) -> bool:
        """Makes ``path`` the current input; shows the engine's message if it can't be read."""
        path = os.fspath(path)
        reason = inputs.not_regular_reason(path)  # before the engine opens it: FIFOs block
        if reason:
            self.banner.show_error(reason)
            return False
        try:
            probe = Run(path, RunConfig(telemetry=False))
        except InputError as exc:
            self.banner.show_error(str(exc))
            return False
        probe.close()
        self.path = path
        self.banner.clear()
        if remember:
            AppSettings().last_input = path
        self.opened.emit(path)
        return True

    def generate(self, kind: str, size: int) -> pathlib.Path | None:
        """Generates an input in the user data folder and opens it."""
        try:
            path = inputs.generate(kind, size)
        except (ValueError, OSError) as exc:
            self.banner.show_error(f"could not generate the input: {exc}")
            return None
        self.open(path)
        return path

    def ask_open(self) -> None:
        start = os.path.dirname(self.path) if self.path else str(inputs.data_dir())
        path, _ = QFileDialog.getOpenFileName(self.parentWidget(), "Open an input file", start)
        if path:
            self.open(path)

    def ask_generate(self) -> None:
        dialog = GenerateDialog(self.parentWidget())
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.generate(*dialog.choice())

    def text(self, block: int) -> str:
        """The input in a few words, for the exported dashboard."""
        if not self.path:
            return "no input"
        size = input_size(self.path)
        return (
            f"{os.path.basename(self.path)} ({format_size(size)}, "
            f"{block_count(size, block):,} blocks of {format_size(block)})"
        )

    def fill_samples(self) -> None:
        """One menu entry per bundled sample."""
        self.samples_menu.clear()
        samples = inputs.samples()
        for path in samples:
            a = self.samples_menu.addAction(f"{path.name}  ({format_size(path.stat().st_size)})")
            a.triggered.connect(lambda _checked=False, p=str(path): self.open(p))
        if not samples:
            self.samples_menu.addAction("(no bundled samples found)").setEnabled(False)

    def show_input(self, path: str, block: int) -> None:
        size = input_size(path)
        self.name.setText(f"Input: {os.path.basename(path)}")
        self.name.setToolTip(path)
        # The folder only in the tooltip: a long path made the window wider than a
        # 1280-pixel screen (Stop and Export fell off it).
        self.info.setText(
            f"{format_size(size)}  ·  {block_count(size, block):,} blocks of {format_size(block)}"
        )
        self.info.setToolTip(os.path.dirname(os.path.abspath(path)))

    def set_shown(self, shown: bool) -> None:
        """Shows or hides the input's name, details and buttons (presentation mode)."""
        for w in (
            self.name,
            self.info,
            self.open_button,
            self.generate_button,
            self.samples_button,
        ):
            w.setVisible(shown)

    def set_enabled(self, on: bool) -> None:
        for w in (self.open_button, self.generate_button, self.samples_button):
            w.setEnabled(on)
