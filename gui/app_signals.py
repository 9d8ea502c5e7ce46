"""Ctrl+C (SIGINT), SIGTERM and SIGHUP for the ``heapscope`` command.

Python runs a signal handler only when the interpreter gets control, and the
default SIGINT handler raises KeyboardInterrupt in whatever Python code runs
next: inside Qt's event loop that is some slot or pyqtgraph override, which
prints a traceback while the run carries on (or, when it lands at a bad
moment, takes the process down).  An exception thrown at an arbitrary
bytecode is no better before Qt runs: thrown into PySide6's or pyqtgraph's
imports it is swallowed by their ``except`` clauses (the signal is lost and the
run goes on) or ends in a fatal error.  So the handler never raises; it only
records:

* before the event loop runs (argument and path checks, loading a session,
  imports), ``gui.app`` calls :meth:`SignalGuard.check` between steps, which
  raises :class:`Interrupted` at a known, safe point;
* from :meth:`SignalGuard.relay_to_qt` on, ``signal.set_wakeup_fd`` also
  writes each signal's number into a socketpair, and a QSocketNotifier on the
  other end calls back on the GUI thread from the event loop, where stopping
  the run, closing the window and leaving the loop are all safe.  Further
  signals while stopping are recorded and ignored.

Exit status: 128 + the signal number, as a shell reports a process killed by
it (130 for SIGINT, 143 for SIGTERM, 129 for SIGHUP), the same as
``python -m engine``.
"""

from __future__ import annotations

import signal
from collections.abc import Callable  # already loaded at startup, unlike typing

# socket and threading are imported where used: until main() has installed the
# handlers Ctrl+C is Python's own, so the command's first imports stay short.
# The same idiom as the standard library's: type checkers read this block, Python never does.
TYPE_CHECKING = False
if TYPE_CHECKING:
    import socket
    from types import FrameType
    from typing import Any, TypeAlias

    from PySide6.QtCore import QSocketNotifier

    _Handler: TypeAlias = Callable[[int, FrameType | None], Any] | int | signal.Handlers | None

HANDLED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def exit_status(signum: int) -> int:
    """128 + the signal number: 130 for SIGINT, 143 for SIGTERM, 129 for SIGHUP."""
    return 128 + int(signum)


def signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


class Interrupted(BaseException):
    """A signal arrived before the Qt event loop took over (raised by
    :meth:`SignalGuard.check`; BaseException: no ``except Exception`` on the way
    out may swallow it)."""

    def __init__(self, signum: int):
        super().__init__(signal_name(signum))
        self.signum = signum


class SignalGuard:
    """Installs the handlers, relays signals to the Qt event loop, restores everything."""

    def __init__(self, signals: tuple[int, ...] = HANDLED):
        self.signals = signals
        self.received: list[int] = []
        self._previous: dict[int, _Handler] = {}
        self._relaying = False
        self._read: socket.socket | None = None  # the socketpair's ends, once relaying
        self._write: socket.socket | None = None
        self._previous_wakeup: int | None = None
        self._notifier: QSocketNotifier | None = None
        self._callback: Callable[[int], None] | None = None

    @property
    def first(self) -> int | None:
        """The first signal received, if any."""
        return self.received[0] if self.received else None

    def install(self) -> bool:
        """Installs the handlers (raise mode); False when not on the main thread."""
        import threading

        if threading.current_thread() is not threading.main_thread():
            return False  # only the main thread may set handlers: leave the caller's alone
        for signum in self.signals:
            if signal.getsignal(signum) == signal.SIG_IGN:
                continue  # nohup, or `heapscope ... &` from a script: stay deaf as asked
            self._previous[signum] = signal.signal(signum, self._handle)
        return True

    def _handle(self, signum: int, _frame) -> None:
        # Never raise here (see the module's docstring): record, and let check() or the
        # event loop act on it.
        self.received.append(signum)

    def check(self) -> None:
        """Raises :class:`Interrupted` if a signal has arrived (call between steps)."""
        if self.received:
            raise Interrupted(self.received[0])

    def relay_to_qt(self) -> None:
        """From now on each signal is also written to the wakeup socket.

        Call before creating the QApplication, and :meth:`watch` once it exists;
        a signal that arrived before this is in :attr:`received` (the window
        looks there when its loop starts).
        """
        if not self._previous:
            return
        import socket

        read, write = socket.socketpair()
        read.setblocking(False)
        write.setblocking(False)
        self._read, self._write = read, write
        self._previous_wakeup = signal.set_wakeup_fd(write.fileno(), warn_on_full_buffer=False)
        self._relaying = True

    def watch(self, callback: Callable[[int], None]) -> None:
        """Calls ``callback(signum)`` on the GUI thread for each signal (QApplication needed).

        Bytes written before this (or before the loop runs) wait in the socket:
        the notifier fires as soon as the event loop starts.
        """
        if self._read is None:
            return
        from PySide6.QtCore import QSocketNotifier

        self._callback = callback
        self._notifier = QSocketNotifier(self._read.fileno(), QSocketNotifier.Type.Read)
        self._notifier.activated.connect(self._on_wakeup)

    def _on_wakeup(self, *_args) -> None:
        signums: list[int] = []
        while self._read is not None:
            try:
                data = self._read.recv(64)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                break
            if not data:
                break
            signums.extend(data)
        for signum in signums:
            if signum in self.signals and self._callback is not None:
                self._callback(signum)

    def restore(self, to_default: bool = False) -> None:
        """Undoes everything; ``to_default``: SIG_DFL instead of the previous handlers.

        The console script leaves with SIG_DFL: a signal during interpreter
        teardown then ends the process quietly instead of raising KeyboardInterrupt.
        """
        if self._notifier is not None:
            self._notifier.setEnabled(False)
            try:
                self._notifier.activated.disconnect(self._on_wakeup)
            except (RuntimeError, TypeError):
                pass
            self._notifier.deleteLater()
            self._notifier = None
        self._callback = None
        if self._relaying:
            signal.set_wakeup_fd(self._previous_wakeup if self._previous_wakeup is not None else -1)
            self._relaying = False
        for signum, previous in self._previous.items():
            signal.signal(signum, signal.SIG_DFL if to_default or previous is None else previous)
        self._previous.clear()
        for sock in (self._read, self._write):
            if sock is not None:
                sock.close()
        self._read = self._write = None


__all__ = ["HANDLED", "Interrupted", "SignalGuard", "exit_status", "signal_name"]
