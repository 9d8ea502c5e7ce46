"""Before Qt starts: is there a display to open a window on?  And Qt's harmless chatter.

Without a display Qt's xcb plugin aborts the process with "xcb-cursor0 is
needed" (or "could not connect to display"), which sends people hunting for
a library they already have.  :func:`display_problem` finds that case first,
from the environment alone (and, for a local X display, one connect() to its
socket), so the command can say what to do in one line.
"""

from __future__ import annotations

import os
import re
import socket

NO_DISPLAY = "no display: set DISPLAY or use QT_QPA_PLATFORM=offscreen for exports"

#: Said by the offscreen platform for every shown window and tooltip: not a problem,
#: and scripts read stderr.
_NOISE = (
    "This plugin does not support propagateSizeHints()",
    "This plugin does not support raise()",
)

_DISPLAY_RE = re.compile(r"^(?P<host>[^:]*):(?P<number>\d+)(?:\.\d+)?$")


def _x_display_reachable(display: str, timeout: float = 1.0) -> bool:
    """True when an X server answers on ``display`` (or when we cannot tell).

    Only local displays are probed: ``:N`` / ``unix:N`` through the socket in
    /tmp/.X11-unix (path or Linux abstract name), ``localhost:N`` (ssh -X)
    on the loopback.  Anything else is assumed reachable and left to Qt.
    """
    match = _DISPLAY_RE.match(display)
    if match is None:
        return True  # e.g. a launchd socket path: Qt will say what it thinks
    host, number = match.group("host"), int(match.group("number"))
    if host in ("", "unix"):
        path = f"/tmp/.X11-unix/X{number}"
        for address in (path, "\0" + path):
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(timeout)
                try:
                    sock.connect(address)
                    return True
                except OSError:
                    continue
        return False
    if host in ("localhost", "127.0.0.1", "::1"):
        try:
            with socket.create_connection((host, 6000 + number), timeout=timeout):
                return True
        except OSError:
            return False
    return True


def display_problem(environ: os._Environ | dict | None = None) -> str | None:
    """The one-line message when Qt would find no display to use, else None."""
    env = os.environ if environ is None else environ
    platform = (env.get("QT_QPA_PLATFORM") or "").strip()
    # Qt takes a fallback list ("wayland;xcb"): only all-xcb lists need an X display.
    choices = [p.split(":", 1)[0].strip() for p in platform.split(";") if p.strip()]
    if choices and not all(c == "xcb" for c in choices):
        return None  # offscreen, minimal, wayland, vnc, eglfs...: not our business
    if not choices and env.get("WAYLAND_DISPLAY"):
        return None  # Qt picks wayland
    display = env.get("DISPLAY") or ""
    if not display or not _x_display_reachable(display):
        return NO_DISPLAY
    return None


def install_message_filter():
    """Drops the offscreen plugin's harmless warnings; returns the previous handler.

    Everything else still goes to stderr, one message per line.  Uninstall
    (``qInstallMessageHandler(previous)``) before the interpreter ends: Qt may
    log during its own teardown, when Python can no longer run a handler.
    """
    import sys

    from PySide6.QtCore import qFormatLogMessage, qInstallMessageHandler

    def handler(mode, context, message: str) -> None:
        if message in _NOISE:
            return
        try:
            text = qFormatLogMessage(mode, context, message)  # QT_MESSAGE_PATTERN, as Qt would
        except Exception:  # noqa: BLE001 - a logger must never raise into Qt
            text = message
        try:
            sys.stderr.write(f"{text}\n")
            sys.stderr.flush()
        except (OSError, ValueError):  # stderr closed: nowhere to say it
            pass

    return qInstallMessageHandler(handler)


__all__ = ["NO_DISPLAY", "display_problem", "install_message_filter"]
