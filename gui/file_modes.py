"""The mode new files get: 0666 minus the umask, as ``open()`` would give them.

Qt-free, shared by every writer (exports, sessions, generated inputs): they
write through a ``mkstemp`` temporary file (mode 0600) and then rename it, so
they set the usual mode themselves, to keep files meant for sharing shareable.
"""

from __future__ import annotations


def current_umask() -> int:
    """The process umask, read from /proc without changing it.

    ``os.umask(0)`` followed by a restore would briefly open every file another
    thread creates meanwhile to the world.  Where /proc is missing, assume 022.
    """
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8) & 0o777
    except (OSError, ValueError, IndexError):
        pass
    return 0o022


def shared_file_mode() -> int:
    """0666 minus the umask: what ``open()`` gives a new file."""
    return 0o666 & ~current_umask()
