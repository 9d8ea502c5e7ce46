"""No display: one line and exit 2 instead of Qt's abort about xcb-cursor0."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from gui.app_display import NO_DISPLAY, display_problem
from tests.conftest import VECTORS

ROOT = VECTORS.parent.parent
MESSAGE = f"heapscope: error: {NO_DISPLAY}\n"


def _free_display_number() -> int:
    """An X display number nobody serves (no socket file, no abstract name, no TCP)."""
    for number in range(917, 999):
        path = f"/tmp/.X11-unix/X{number}"
        if os.path.exists(path):
            continue
        with socket.socket(socket.AF_UNIX) as sock:
            try:
                sock.bind("\0" + path)  # free abstract name: nobody listens there
            except OSError:
                continue
        with socket.socket(socket.AF_INET) as sock:
            if sock.connect_ex(("127.0.0.1", 6000 + number)) != 0:
                return number
    pytest.skip("no free X display number")


def _clean_env(tmp_path, **extra) -> dict:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
    }
    env.update(
        HOME=str(tmp_path),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        XDG_RUNTIME_DIR=str(tmp_path),
        **extra,
    )
    return env


def _run(args, env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "gui.app", *map(str, args)],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_no_display_at_all_is_one_line_and_exit_2(tmp_path):
    out = tmp_path / "out"
    proc = _run(
        [VECTORS / "ramp.bin", "--run", "pooled", "--export", out, "--quit-when-done"],
        _clean_env(tmp_path),
    )
    assert (proc.returncode, proc.stderr, proc.stdout) == (2, MESSAGE, "")
    assert not out.exists()  # said before anything was created


@pytest.mark.parametrize(
    "settings",
    [
        {"QT_QPA_PLATFORM": "xcb"},
        {"QT_QPA_PLATFORM": "xcb", "DISPLAY": ":{n}"},
        {"DISPLAY": ":{n}.0"},
        {"DISPLAY": "unix:{n}"},
        {"DISPLAY": "localhost:{n}"},
        {"QT_QPA_PLATFORM": ""},
    ],
    ids=[
        "xcb-no-display",
        "xcb-dead-display",
        "dead-display",
        "unix-dead-display",
        "localhost-dead-display",
        "empty-platform",
    ],
)
def test_unreachable_displays_are_one_line_and_exit_2(tmp_path, settings):
    n = _free_display_number()
    extra = {k: v.format(n=n) for k, v in settings.items()}
    proc = _run([VECTORS / "ramp.bin"], _clean_env(tmp_path, **extra))
    assert (proc.returncode, proc.stderr) == (2, MESSAGE)


def test_offscreen_needs_no_display(tmp_path):
    shot = tmp_path / "shot.png"
    proc = _run(
        [VECTORS / "ramp.bin", "--screenshot", shot, "--quit-when-done"],
        _clean_env(tmp_path, QT_QPA_PLATFORM="offscreen"),
    )
    assert (proc.returncode, proc.stderr) == (0, "")  # and Qt's offscreen chatter is gone
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_display_problem_reads_the_environment():
    n = _free_display_number()
    assert display_problem({}) == NO_DISPLAY
    assert display_problem({"DISPLAY": ""}) == NO_DISPLAY
    assert display_problem({"QT_QPA_PLATFORM": "xcb"}) == NO_DISPLAY
    assert display_problem({"QT_QPA_PLATFORM": "xcb:nograb"}) == NO_DISPLAY
    assert display_problem({"DISPLAY": f":{n}"}) == NO_DISPLAY
    for usable in (
        {"QT_QPA_PLATFORM": "offscreen"},
        {"QT_QPA_PLATFORM": "minimal"},
        {"QT_QPA_PLATFORM": "wayland"},
        {"QT_QPA_PLATFORM": "xcb;offscreen"},
        {"WAYLAND_DISPLAY": "wayland-0"},
        {"DISPLAY": "far.example:0"},  # remote: left to Qt, never probed
        {"DISPLAY": "/private/tmp/com.apple.launchd/org.xquartz:0"},
    ):
        assert (usable, display_problem(usable)) == (usable, None)


def test_a_listening_x_socket_counts_as_a_display():
    n = _free_display_number()
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(f"\0/tmp/.X11-unix/X{n}")  # Xvfb listens on this abstract name too
        server.listen(1)
        assert display_problem({"DISPLAY": f":{n}"}) is None
        assert display_problem({"QT_QPA_PLATFORM": "xcb", "DISPLAY": f":{n}.0"}) is None
