"""Typed access to the app's persistent settings (one QSettings INI store).

Every key the app stores is named here once, with its type; tests redirect
the store with ``QSettings.setPath`` (see tests/gui/conftest.py).
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import QMainWindow, QSplitter

#: Fields of the settings panel, stored as typed (``run/<name>``).
RUN_FIELDS = ("heap_size", "pool_size", "batch_size", "block_size")


def settings() -> QSettings:
    """The app's settings store (tests redirect it with ``QSettings.setPath``)."""
    return QSettings(
        QSettings.Format.IniFormat, QSettings.Scope.UserScope, "heapscope", "heapscope"
    )


class AppSettings:
    """The app's settings, one typed property per key."""

    def __init__(self, store: QSettings | None = None):
        self._s = store if store is not None else settings()

    def _text(self, key: str) -> str:
        value = self._s.value(key, "")
        return value if isinstance(value, str) else ""

    def _bytes(self, key: str) -> QByteArray | None:
        value = self._s.value(key)
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def _flag(self, key: str) -> bool:
        return bool(self._s.value(key, False, type=bool))

    # -- folders and files the user chose ------------------------------------

    @property
    def last_input(self) -> str:
        return self._text("input/last_path")

    @last_input.setter
    def last_input(self, path: str) -> None:
        self._s.setValue("input/last_path", path)

    @property
    def session_dir(self) -> str:
        return self._text("session/last_dir")

    @session_dir.setter
    def session_dir(self, folder: str) -> None:
        self._s.setValue("session/last_dir", folder)

    @property
    def export_dir(self) -> str:
        return self._text("export/last_dir")

    @export_dir.setter
    def export_dir(self, folder: str) -> None:
        self._s.setValue("export/last_dir", folder)

    # -- window layout -------------------------------------------------------

    @property
    def geometry(self) -> QByteArray | None:
        return self._bytes("window/geometry")

    @geometry.setter
    def geometry(self, value: QByteArray) -> None:
        self._s.setValue("window/geometry", value)

    def splitter_state(self, name: str) -> QByteArray | None:
        return self._bytes(f"window/{name}")

    def set_splitter_state(self, name: str, value: QByteArray) -> None:
        self._s.setValue(f"window/{name}", value)

    def restore_window(
        self, window: QMainWindow, splitters: dict[str, tuple[QSplitter, list[int]]]
    ) -> None:
        """Geometry and splitter positions as last left (or the given default sizes)."""
        if self.geometry is not None:
            window.restoreGeometry(self.geometry)
        else:
            window.resize(1600, 940)
        for name, (splitter, sizes) in splitters.items():
            state = self.splitter_state(name)
            if state is not None:
                splitter.restoreState(state)
            else:
                splitter.setSizes(sizes)

    def save_window(self, window: QMainWindow, splitters: dict[str, QSplitter]) -> None:
        self.geometry = window.saveGeometry()
        for name, splitter in splitters.items():
            self.set_splitter_state(name, splitter.saveState())

    # -- run settings and chart options --------------------------------------

    def run_values(self) -> dict[str, object]:
        """The settings panel's fields as last typed (None when never saved)."""
        return {name: self._s.value(f"run/{name}") for name in RUN_FIELDS}

    def set_run_values(self, values: dict[str, str]) -> None:
        for name, value in values.items():
            self._s.setValue(f"run/{name}", value)

    @property
    def chart_rate(self) -> bool:
        return self._flag("charts/rate")

    @chart_rate.setter
    def chart_rate(self, on: bool) -> None:
        self._s.setValue("charts/rate", on)

    @property
    def chart_log(self) -> bool:
        return self._flag("charts/log")

    @chart_log.setter
    def chart_log(self, on: bool) -> None:
        self._s.setValue("charts/log", on)

    def sync(self) -> None:
        self._s.sync()
