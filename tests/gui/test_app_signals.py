"""Ctrl+C, SIGTERM and SIGHUP in the ``heapscope`` command, for real, in a subprocess.

Before the fix a Ctrl+C during ``--run baseline --quit-when-done`` segfaulted 2
times in 8 and otherwise printed a KeyboardInterrupt traceback from a Qt slot
while the run carried on.  Each scenario starts ``python -m gui.app`` offscreen
on a 4 MiB random input (baseline takes many seconds on it), waits until the
run's QThread really exists (its name in /proc/PID/task/*/comm), sends the
signal, and expects the run stopped, exit status 128 + signal, and exactly one
line on stderr.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from gui import app, app_signals, export
from tests.conftest import VECTORS
from tests.gui.app_env import isolated_app_env

ROOT = VECTORS.parent.parent
BIG = 4 * 1024 * 1024
#: Resets the dispositions a parent may have set to SIG_IGN (a shell's `cmd &`),
#: then becomes the app: signals must reach it as they would from a terminal.
_LAUNCHER = (
    "import os, signal, sys\n"
    "for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):\n"
    "    signal.signal(s, signal.SIG_IGN if str(int(s)) in os.environ.get("
    "'TEST_IGNORE', '').split(',') else signal.SIG_DFL)\n"
    "os.execv(sys.executable, [sys.executable, '-m', 'gui.app', *sys.argv[1:]])\n"
)


@pytest.fixture(scope="module")
def big_input(tmp_path_factory):
    path = tmp_path_factory.mktemp("signals") / "random_4m.bin"
    path.write_bytes(os.urandom(BIG))
    return path


def _env(tmp_path, **extra):
    return isolated_app_env(tmp_path, **extra)


class App:
    """One ``heapscope`` child process; always killed and reaped at the end."""

    def __init__(self, args, tmp_path, **env):
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _LAUNCHER, *map(str, args)],
            cwd=ROOT,
            env=_env(tmp_path, **env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def thread_names(self) -> list[str]:
        names = []
        try:
            tasks = os.listdir(f"/proc/{self.proc.pid}/task")
        except OSError:
            return names
        for task in tasks:
            try:
                with open(f"/proc/{self.proc.pid}/task/{task}/comm") as f:
                    names.append(f.read().strip())
            except OSError:
                pass  # the thread ended meanwhile
        return names

    def wait_until(self, predicate, what: str, timeout: float = 90.0) -> None:
        """Polls (10 ms) until ``predicate()``; fails if the app exits first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            if self.proc.poll() is not None:
                out, err = self.proc.communicate()
                pytest.fail(f"heapscope exited ({self.proc.returncode}) before {what}: {err}")
            time.sleep(0.01)
        pytest.fail(f"heapscope never reached: {what}")

    def wait_for_thread(self, name: str) -> None:
        # Linux shows a QThread's objectName, cut to 15 bytes, as the thread's name;
        # the engine's worker threads, started from it, inherit it.
        self.wait_until(lambda: name[:15] in self.thread_names(), f"a '{name}' thread")

    def kill(self, *signums: int) -> None:
        for signum in signums:
            os.kill(self.proc.pid, signum)

    def finish(self, timeout: float = 60.0) -> tuple[int, str, str]:
        out, err = self.proc.communicate(timeout=timeout)
        return self.proc.returncode, out, err

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.communicate()


@pytest.fixture
def launch(tmp_path):
    started: list[App] = []

    def start(args, **env) -> App:
        child = App(args, tmp_path, **env)
        started.append(child)
        return child

    yield start
    for child in started:
        child.close()


def _interrupted(signum: int) -> str:
    return f"heapscope: interrupted ({signal.Signals(signum).name})\n"


def test_exit_status_is_128_plus_the_signal():
    assert app_signals.exit_status(signal.SIGINT) == 130
    assert app_signals.exit_status(signal.SIGTERM) == 143
    assert app_signals.exit_status(signal.SIGHUP) == 129


@pytest.mark.slow
def test_ctrl_c_during_a_baseline_run_stops_it_five_times_in_five(launch, big_input):
    for attempt in range(5):
        child = launch([big_input, "--run", "baseline", "--quit-when-done"])
        child.wait_for_thread("heapscope-run")
        child.kill(signal.SIGINT)
        code, out, err = child.finish()
        assert (attempt, code, err) == (attempt, 130, _interrupted(signal.SIGINT))
        assert out == ""


@pytest.mark.slow
@pytest.mark.parametrize(
    "signals",
    [
        (signal.SIGTERM,),
        (signal.SIGHUP,),
        (signal.SIGINT, signal.SIGINT),  # a second Ctrl+C while stopping
        (signal.SIGINT,) * 20,  # someone leaning on Ctrl+C
        (signal.SIGINT, signal.SIGTERM, signal.SIGHUP),
        (signal.SIGTERM, signal.SIGINT),
    ],
    ids=["term", "hup", "int-int", "int-x20", "int-term-hup", "term-int"],
)
def test_signals_during_a_run(launch, big_input, signals):
    child = launch([big_input, "--run", "baseline,pooled", "--quit-when-done"])
    child.wait_for_thread("heapscope-run")
    child.kill(*signals)
    code, _out, err = child.finish()
    # Signals sent back to back are pending together, and any of the process's threads
    # may take each one: whichever the event loop hears of first decides, once.
    decided = [s for s in set(signals) if err == _interrupted(s)]
    assert len(decided) == 1, err
    assert code == app_signals.exit_status(decided[0])


@pytest.mark.slow
def test_ctrl_c_in_the_window_without_quit_when_done(launch, big_input, tmp_path):
    """The interactive window with a run going: same clean stop."""
    child = launch([big_input, "--run", "baseline"])
    child.wait_for_thread("heapscope-run")
    child.kill(signal.SIGINT)
    code, _out, err = child.finish()
    assert (code, err) == (130, _interrupted(signal.SIGINT))


@pytest.mark.slow
def test_ctrl_c_in_an_idle_window(launch, tmp_path):
    """No run at all: the window sits in its event loop (the screenshot says when)."""
    shot = tmp_path / "idle.png"
    child = launch([VECTORS / "ramp.bin", "--screenshot", shot])
    child.wait_until(shot.exists, "the screenshot written")
    child.kill(signal.SIGINT)
    code, _out, err = child.finish()
    assert (code, err) == (130, _interrupted(signal.SIGINT))
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_ctrl_c_during_the_reference_run(launch, tmp_path):
    """After pooled ends, the single-threaded reference runs on its own QThread."""
    data = tmp_path / "random_16m.bin"
    data.write_bytes(os.urandom(16 * 1024 * 1024))
    child = launch([data, "--run", "pooled", "--quit-when-done"])
    child.wait_for_thread("heapscope-reference")
    child.kill(signal.SIGINT)
    code, _out, err = child.finish()
    assert (code, err) == (130, _interrupted(signal.SIGINT))


@pytest.mark.slow
def test_ctrl_c_during_the_export_lets_it_finish_whole(launch, tmp_path):
    """The export renders between processEvents calls: the signal waits for it to end."""
    out = tmp_path / "out"
    child = launch(
        [VECTORS / "random_64k.bin", "--run", "pooled", "--export", out, "--quit-when-done"]
    )
    # Its first file (or that file's temporary ".heapscope_locks.png.*.part"); not the
    # ".heapscope-probe-*" file the command's path check makes and removes before the run.
    child.wait_until(
        lambda: out.is_dir() and any("heapscope_" in p.name for p in out.iterdir()),
        "the export started",
    )
    child.kill(signal.SIGINT)
    code, _out, err = child.finish()
    assert (code, err) == (130, _interrupted(signal.SIGINT))
    assert sorted(p.name for p in out.iterdir()) == sorted(export.FILE_NAMES.values())


@pytest.mark.slow
def test_an_ignored_sighup_stays_ignored(launch, tmp_path):
    """nohup (SIGHUP ignored by the parent) is respected: the run goes on and succeeds."""
    data = tmp_path / "random_1m.bin"
    data.write_bytes(os.urandom(1024 * 1024))
    child = launch(
        [data, "--run", "baseline", "--quit-when-done"], TEST_IGNORE=str(int(signal.SIGHUP))
    )
    child.wait_for_thread("heapscope-run")
    child.kill(signal.SIGHUP)
    code, _out, err = child.finish(timeout=120)
    assert (code, err) == (0, "")


def test_a_signal_before_the_window_exists_returns_130(monkeypatch, capsys):
    """Before Qt (argument and path checks, loading a session) a signal unwinds main()."""
    from gui import app_display

    def display_problem(_environ=None):
        os.kill(os.getpid(), signal.SIGINT)  # the handler runs as soon as this returns
        return None

    previous = signal.getsignal(signal.SIGINT)
    monkeypatch.setattr(app_display, "display_problem", display_problem)
    assert app.main([str(VECTORS / "ramp.bin"), "--run", "pooled", "--quit-when-done"]) == 130
    assert capsys.readouterr().err == _interrupted(signal.SIGINT)
    assert signal.getsignal(signal.SIGINT) is previous  # the caller's handler is back
    assert signal.set_wakeup_fd(-1) == -1  # and no wakeup fd left behind
