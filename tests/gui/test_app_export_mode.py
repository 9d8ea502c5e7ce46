"""Exported files get 0666 minus the umask, and nothing ever changes the process umask."""

from __future__ import annotations

import errno
import os
import stat
import subprocess
import sys

import pytest

from gui import export, file_modes
from tests.conftest import VECTORS
from tests.gui.app_env import isolated_app_env

ROOT = VECTORS.parent.parent
#: Sets the umask, makes os.umask() fail loudly, then runs the given module or code.
_LAUNCHER = (
    "import os, runpy, sys\n"
    "os.umask(int(sys.argv[1], 8))\n"
    "def _no(*_a):\n"
    "    raise AssertionError('os.umask() called')\n"
    "os.umask = _no\n"
    "sys.argv = sys.argv[2:]\n"
    "runpy.run_module('gui.app', run_name='__main__')\n"
)


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_import_reads_the_umask_without_changing_it(tmp_path):
    code = (
        "import os, sys\n"
        "os.umask(0o027)\n"
        "def _no(*_a):\n"
        "    raise AssertionError('os.umask() called')\n"
        "os.umask = _no\n"
        "from gui import export, file_modes\n"
        "export.atomic_write_bytes(sys.argv[1], b'x')\n"
        "print(oct(file_modes.current_umask()))\n"
    )
    target = tmp_path / "x.bin"
    proc = subprocess.run(
        [sys.executable, "-c", code, str(target)],
        cwd=ROOT,
        text=True,
        capture_output=True,
        timeout=60,
        env=dict(os.environ, QT_QPA_PLATFORM="offscreen"),
    )
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "0o27\n", "")
    assert _mode(target) == 0o640


def test_atomic_write_gets_0666_minus_the_current_umask(tmp_path):
    path = export.atomic_write_bytes(tmp_path / "a.csv", b"a,b\n")
    assert (path.read_bytes(), _mode(path)) == (b"a,b\n", 0o666 & ~file_modes.current_umask())
    assert [p.name for p in tmp_path.iterdir()] == ["a.csv"]  # no temporary file left


def test_umask_falls_back_to_022_without_proc(monkeypatch):
    def no_proc(*_args, **_kwargs):
        raise FileNotFoundError(errno.ENOENT, "No such file or directory", "/proc/self/status")

    monkeypatch.setattr(file_modes, "open", no_proc, raising=False)
    assert file_modes.current_umask() == 0o022


def test_atomic_write_never_replaces_a_fifo_or_a_directory(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    folder = tmp_path / "folder"
    folder.mkdir()
    with pytest.raises(OSError, match="it is not a regular file"):
        export.atomic_write_bytes(fifo, b"x")
    with pytest.raises(OSError, match="it is a directory"):
        export.atomic_write_bytes(folder, b"x")
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder", "pipe"]


@pytest.mark.slow
@pytest.mark.parametrize("umask, expected", [("027", 0o640), ("002", 0o664)])
def test_exported_files_and_screenshot_follow_the_umask(tmp_path, umask, expected):
    out = tmp_path / "out"
    shot = out / "window.png"  # into the folder the export creates
    env = isolated_app_env(tmp_path)
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            _LAUNCHER,
            umask,
            "heapscope",
            str(VECTORS / "random_64k.bin"),
            "--run",
            "pooled",
            "--export",
            str(out),
            "--screenshot",
            str(shot),
            "--quit-when-done",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (proc.returncode, proc.stderr) == (0, "")
    modes = {p.name: _mode(p) for p in out.iterdir()}
    assert modes == {name: expected for name in [*export.FILE_NAMES.values(), "window.png"]}
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
