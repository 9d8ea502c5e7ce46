"""The environment of a `heapscope` child process in tests: offscreen, with its
own home, settings, data and runtime folders under the test's tmp_path."""

from __future__ import annotations

import os
import pathlib


def isolated_app_env(tmp_path: pathlib.Path, **extra: str) -> dict[str, str]:
    env = dict(
        os.environ,
        QT_QPA_PLATFORM="offscreen",
        HOME=str(tmp_path),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        XDG_DATA_HOME=str(tmp_path / "data"),
        XDG_RUNTIME_DIR=str(tmp_path),
        HEAPSCOPE_DATA_DIR=str(tmp_path / "user-data"),
    )
    env.update(extra)
    return env
