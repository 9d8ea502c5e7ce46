"""The command line's paths: bad inputs and outputs are one line and exit 2 before
anything runs; an output that fails when it is written is one line and exit 1."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import time

import pytest

from gui import app
from gui.inputs import shown_path
from tests.conftest import VECTORS
from tests.gui.app_env import isolated_app_env

ROOT = VECTORS.parent.parent
RAMP = str(VECTORS / "ramp.bin")
ERR = "heapscope: error: "


def _main(capsys, *args) -> tuple[int, str]:
    code = app.main([str(a) for a in args])
    return code, capsys.readouterr().err


# -- inputs --------------------------------------------------------------------------


@pytest.fixture
def fifo(tmp_path):
    path = tmp_path / "pipe"
    os.mkfifo(path)
    return path


@pytest.fixture
def unix_socket(tmp_path):
    path = tmp_path / "sock"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(path))
        yield path


@pytest.mark.parametrize("quit_when_done", [True, False], ids=["quit-when-done", "window"])
def test_non_regular_inputs_are_refused_without_opening_them(
    capsys, tmp_path, fifo, unix_socket, quit_when_done
):
    """A FIFO would block open() until a writer comes; /dev/zero never ends."""
    cases = {
        fifo: "a FIFO (named pipe)",
        "/dev/zero": "a character device",
        "/dev/urandom": "a character device",
        tmp_path: "a directory",
        unix_socket: "a socket",
    }
    for path, kind in cases.items():
        args = [path, "--run", "baseline"] + (["--quit-when-done"] if quit_when_done else [])
        assert _main(capsys, *args) == (
            2,
            f"{ERR}cannot read '{path}': it is {kind}, not a regular file\n",
        )


def test_a_fifo_session_is_refused(capsys, fifo):
    assert _main(capsys, "--open", fifo, "--quit-when-done") == (
        2,
        f"{ERR}cannot read '{fifo}': it is a FIFO (named pipe), not a regular file\n",
    )


def test_a_fifo_input_never_blocks_the_command(tmp_path, fifo):
    """End to end, with a time limit: the command answers at once, nobody ever writes."""
    env = dict(
        os.environ,
        QT_QPA_PLATFORM="offscreen",
        HOME=str(tmp_path),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        XDG_RUNTIME_DIR=str(tmp_path),
    )
    proc = subprocess.run(
        [sys.executable, "-m", "gui.app", str(fifo), "--run", "pooled", "--quit-when-done"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (proc.returncode, proc.stderr) == (
        2,
        f"{ERR}cannot read '{fifo}': it is a FIFO (named pipe), not a regular file\n",
    )


def test_path_text_problems_are_named(capsys, tmp_path):
    long_path = "/" + "/".join(["d" * 99] * 50)  # 5,000 characters, every name short
    assert len(long_path) == 5000
    assert _main(capsys, long_path, "--run", "pooled", "--quit-when-done") == (
        2,
        f"{ERR}the input path is too long: 5,000 bytes, the limit is 4,095 "
        f"('{shown_path(long_path, 60)}')\n",
    )
    long_name = str(tmp_path / ("n" * 300))
    assert _main(capsys, long_name, "--run", "pooled", "--quit-when-done") == (
        2,
        f"{ERR}the input path '{shown_path(long_name, 60)}' has a name of 300 bytes, "
        f"the limit is 255\n",
    )
    assert _main(capsys, "in\0put.bin", "--run", "pooled", "--quit-when-done") == (
        2,
        f"{ERR}the input path 'in?put.bin' contains a NUL byte, which no file name can hold\n",
    )
    assert _main(capsys, "", "--run", "pooled", "--quit-when-done") == (
        2,
        f"{ERR}the input path is empty\n",
    )
    missing = tmp_path / "two\nlines.bin"
    assert _main(capsys, missing, "--run", "pooled", "--quit-when-done") == (
        2,
        f"{ERR}cannot open '{tmp_path}/two\\x0alines.bin': No such file or directory\n",
    )
    inside_a_file = f"{RAMP}/x.bin"
    assert _main(capsys, inside_a_file, "--run", "pooled", "--quit-when-done") == (
        2,
        f"{ERR}cannot open '{inside_a_file}': Not a directory\n",
    )
    assert _main(capsys, "--open", "x\ny.session", "--quit-when-done") == (
        2,
        f"{ERR}cannot open 'x\\x0ay.session': No such file or directory\n",
    )


def test_a_file_name_with_a_newline_is_a_fine_input(tmp_path):
    """Legal on Linux: it runs; only messages escape it."""
    data = tmp_path / "two\nlines.bin"
    data.write_bytes((VECTORS / "random_64k.bin").read_bytes())
    shot = tmp_path / "shot.png"
    proc = _offscreen([data, "--run", "pooled", "--screenshot", shot, "--quit-when-done"], tmp_path)
    assert (proc.returncode, proc.stderr) == (0, "")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# -- outputs, refused before running (exit 2) ----------------------------------------


def test_unwritable_outputs_are_refused_before_running(capsys, tmp_path, fifo):
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    run = [RAMP, "--run", "pooled", "--quit-when-done"]
    cases = [
        (
            ["--screenshot", "/proc/nonexistent/x.png"],
            "cannot write the screenshot '/proc/nonexistent/x.png': the folder "
            "'/proc/nonexistent' does not exist",
        ),
        (
            ["--screenshot", "/proc/x.png"],
            "cannot write the screenshot '/proc/x.png': cannot create files in '/proc': "
            "No such file or directory",
        ),
        (
            ["--screenshot", f"{a_file}/x.png"],
            f"cannot write the screenshot '{a_file}/x.png': Not a directory",
        ),
        (
            ["--screenshot", tmp_path],
            f"cannot write the screenshot '{tmp_path}': it is a directory, not a regular file",
        ),
        (
            ["--screenshot", fifo],
            f"cannot write the screenshot '{fifo}': it is a FIFO (named pipe), not a regular file",
        ),
        (
            ["--screenshot", "/dev/null"],
            "cannot write the screenshot '/dev/null': it is a character device, not a regular file",
        ),
        (["--screenshot", ""], "the screenshot path is empty"),
        (
            ["--screenshot", f"{tmp_path}/x.jpg"],
            "--screenshot writes PNG: name the file .png (not '.jpg')",
        ),
        (
            ["--save-session", "/proc/nonexistent/x.session"],
            "cannot write the session file '/proc/nonexistent/x.session': the folder "
            "'/proc/nonexistent' does not exist",
        ),
        (
            ["--save-session", f"{a_file}/x.session"],
            f"cannot write the session file '{a_file}/x.session': Not a directory",
        ),
        (
            ["--save-session", tmp_path],
            f"cannot write the session file '{tmp_path}': it is a directory, not a regular file",
        ),
        (
            ["--save-session", "a\0b.session"],
            "the session file path 'a?b.session' contains a NUL byte, which no file name can hold",
        ),
        (["--export", a_file], f"cannot export to '{a_file}': it is a file, not a folder"),
        (["--export", fifo], f"cannot export to '{fifo}': it is a FIFO (named pipe), not a folder"),
        (["--export", f"{a_file}/out"], f"cannot export to '{a_file}/out': Not a directory"),
        (
            ["--export", "/proc/heapscope-out"],
            "cannot create the export folder '/proc/heapscope-out': No such file or directory",
        ),
        (
            ["--export", "/proc/nonexistent/out"],
            "cannot create the export folder '/proc/nonexistent/out': No such file or directory",
        ),
    ]
    for extra, message in cases:
        assert (extra, *_main(capsys, *run, *extra)) == (extra, 2, f"{ERR}{message}\n")
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)  # nothing replaced the FIFO
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.txt", "pipe"]  # no leftovers


# -- outputs that fail when written (exit 1) -----------------------------------------


def _offscreen(args, tmp_path, **popen):
    env = isolated_app_env(tmp_path)
    command = [sys.executable, "-m", "gui.app", *map(str, args)]
    if popen:
        return subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def _has_thread(pid: int, name: str) -> bool:
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return False
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/comm") as f:
                if f.read().strip() == name:
                    return True
        except OSError:
            pass
    return False


@pytest.fixture
def slow_input(tmp_path):
    path = tmp_path / "random_1m.bin"
    path.write_bytes(os.urandom(1024 * 1024))  # baseline: a couple of seconds
    return path


def _break_during_run(tmp_path, args, breaker) -> subprocess.CompletedProcess:
    """Starts a baseline run, calls ``breaker()`` once the run's thread exists."""
    proc = _offscreen(args, tmp_path, popen=True)
    try:
        deadline = time.monotonic() + 90
        while not _has_thread(proc.pid, "heapscope-run"):
            assert proc.poll() is None, proc.communicate()[1]
            assert time.monotonic() < deadline, "the run never started"
            time.sleep(0.01)
        breaker()
        out, err = proc.communicate(timeout=120)
        return subprocess.CompletedProcess(args, proc.returncode, out, err)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


@pytest.mark.slow
def test_screenshot_folder_removed_during_the_run_exits_1(tmp_path, slow_input):
    folder = tmp_path / "shots"
    folder.mkdir()
    shot = folder / "x.png"
    proc = _break_during_run(
        tmp_path,
        [slow_input, "--run", "baseline", "--screenshot", shot, "--quit-when-done"],
        folder.rmdir,
    )
    assert (proc.returncode, proc.stderr) == (
        1,
        f"{ERR}cannot write the screenshot '{shot}': No such file or directory\n",
    )


@pytest.mark.slow
def test_session_folder_removed_during_the_run_exits_1(tmp_path, slow_input):
    folder = tmp_path / "sessions"
    folder.mkdir()
    target = folder / "x.session"
    proc = _break_during_run(
        tmp_path,
        [slow_input, "--run", "baseline", "--save-session", target, "--quit-when-done"],
        folder.rmdir,
    )
    assert proc.returncode == 1
    assert proc.stderr.startswith(f"{ERR}cannot write the session file '{target}': ")
    assert proc.stderr.endswith("No such file or directory\n")
    assert proc.stderr.count("\n") == 1
    assert not target.exists()


@pytest.mark.slow
def test_export_folder_replaced_by_a_file_during_the_run_exits_1(tmp_path, slow_input):
    out = tmp_path / "out"

    def replace_with_a_file():
        out.rmdir()
        out.write_text("not a folder")

    proc = _break_during_run(
        tmp_path,
        [slow_input, "--run", "baseline", "--export", out, "--quit-when-done"],
        replace_with_a_file,
    )
    assert (proc.returncode, proc.stderr) == (1, f"{ERR}cannot export to '{out}': File exists\n")
    assert out.read_text() == "not a folder"


def test_outputs_that_would_overwrite_an_input_or_each_other(capsys, tmp_path):
    data = tmp_path / "data.bin"
    data.write_bytes((VECTORS / "ramp.bin").read_bytes())
    link = tmp_path / "link.png"
    link.symlink_to(data)
    shot = tmp_path / "x.png"
    out = tmp_path / "out"
    run = [data, "--run", "pooled", "--quit-when-done"]
    cases = [
        (
            [*run, "--save-session", data],
            f"the session file '{data}' is the input file itself: it would be overwritten",
        ),
        (
            [*run, "--screenshot", link],  # another name for the same file
            f"the screenshot '{link}' is the input file itself: it would be overwritten",
        ),
        (
            [*run, "--screenshot", shot, "--save-session", shot],
            f"the session file and the screenshot are the same file '{shot}'",
        ),
        (
            [*run, "--export", out, "--screenshot", out / "heapscope_dashboard.png"],
            f"the screenshot and the exported heapscope_dashboard.png are the same file "
            f"'{out / 'heapscope_dashboard.png'}'",
        ),
    ]
    for args, message in cases:
        assert (args[-1], *_main(capsys, *args)) == (args[-1], 2, f"{ERR}{message}\n")
    assert data.read_bytes() == (VECTORS / "ramp.bin").read_bytes()


def test_a_fifo_where_the_export_writes_is_refused_before_overwriting(capsys, tmp_path):
    """--overwrite would rename onto the FIFO: refused before the run.  Without it the
    new set is numbered, so the FIFO is in nobody's way (test_cli checks that run)."""
    out = tmp_path / "out"
    out.mkdir()
    os.mkfifo(out / "heapscope_locks.png")
    run = [RAMP, "--run", "pooled", "--export", out, "--quit-when-done"]
    assert _main(capsys, *run, "--overwrite") == (
        2,
        f"{ERR}cannot export to '{out}': 'heapscope_locks.png' in it is a FIFO (named pipe), "
        f"not a regular file\n",
    )
    assert app.path_problem(app.parse_args([str(a) for a in run])) is None


def test_handout_paths_are_checked_before_running(capsys, tmp_path, fifo):
    run = [RAMP, "--run", "pooled", "--quit-when-done"]
    shot = tmp_path / "x"  # no suffix: both accept it
    link = tmp_path / "input.pdf"
    link.symlink_to(RAMP)
    cases = [
        (
            ["--handout", "/proc/nonexistent/h.pdf"],
            "cannot write the handout '/proc/nonexistent/h.pdf': the folder "
            "'/proc/nonexistent' does not exist",
        ),
        (
            ["--handout", "/proc/h.pdf"],
            "cannot write the handout '/proc/h.pdf': cannot create files in '/proc': "
            "No such file or directory",
        ),
        (
            ["--handout", tmp_path],
            f"cannot write the handout '{tmp_path}': it is a directory, not a regular file",
        ),
        (
            ["--handout", fifo],
            f"cannot write the handout '{fifo}': it is a FIFO (named pipe), not a regular file",
        ),
        (["--handout", ""], "the handout path is empty"),
        (
            ["--handout", f"{tmp_path}/h.png"],
            "--handout writes PDF: name the file .pdf (not '.png')",
        ),
        (
            ["--handout", link],  # a name for the input that ends in .pdf
            f"the handout '{link}' is the input file itself: it would be overwritten",
        ),
        (
            ["--handout", shot, "--screenshot", shot],
            f"the handout and the screenshot are the same file '{shot}'",
        ),
        (
            ["--export", tmp_path / "out", "--handout", tmp_path / "out" / "heapscope_handout.pdf"],
            f"the handout and the exported heapscope_handout.pdf are the same file "
            f"'{tmp_path / 'out' / 'heapscope_handout.pdf'}'",
        ),
    ]
    for extra, message in cases:
        assert (extra, *_main(capsys, *run, *extra)) == (extra, 2, f"{ERR}{message}\n")
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["input.pdf", "out", "pipe"]


@pytest.mark.slow
def test_handout_folder_removed_during_the_run_exits_1(tmp_path, slow_input):
    folder = tmp_path / "handouts"
    folder.mkdir()
    target = folder / "h.pdf"
    proc = _break_during_run(
        tmp_path,
        [slow_input, "--run", "baseline", "--handout", target, "--quit-when-done"],
        folder.rmdir,
    )
    assert (proc.returncode, proc.stderr, proc.stdout) == (
        1,
        f"{ERR}cannot write the handout '{target}': No such file or directory\n",
        "",
    )
