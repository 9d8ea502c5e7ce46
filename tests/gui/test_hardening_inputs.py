"""Inputs opened in the GUI are regular files: FIFOs, devices and folders are refused
with one line, without ever opening them (a FIFO's open() would wait for a writer)."""

import os
import shutil

import pytest

from engine import Strategy
from gui.demo import sessions_for_steps
from tests.conftest import VECTORS
from tests.gui.helpers import count_thread_starts, open_vector, run_and_wait


@pytest.fixture
def fifo(tmp_path):
    path = tmp_path / "pipe.bin"
    os.mkfifo(path)
    return path


def _refused(window, path, kind, monkeypatch):
    started = count_thread_starts(monkeypatch)
    open_vector(window, "ramp.bin")
    assert not window.open_input(str(path))
    assert window.error_text() == f"cannot read '{path}': it is {kind}, not a regular file"
    assert window.input_path == str(VECTORS / "ramp.bin")
    assert not window.busy and started == []
    assert window.baseline_button.isEnabled()


def test_a_fifo_is_refused_without_blocking(window, fifo, monkeypatch):
    _refused(window, fifo, "a FIFO (named pipe)", monkeypatch)


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_a_character_device_is_refused(window, device, monkeypatch):
    _refused(window, device, "a character device", monkeypatch)


def test_a_directory_is_refused(window, tmp_path, monkeypatch):
    _refused(window, tmp_path, "a directory", monkeypatch)


def test_a_symlink_to_a_device_is_refused_under_its_own_name(window, tmp_path, monkeypatch):
    link = tmp_path / "innocent.bin"
    link.symlink_to("/dev/zero")
    _refused(window, link, "a character device", monkeypatch)


def test_an_input_replaced_by_a_fifo_after_opening_is_refused_at_run_time(
    window, tmp_path, monkeypatch
):
    path = tmp_path / "input.bin"
    shutil.copy(VECTORS / "ramp.bin", path)
    assert window.open_input(str(path)), window.error_text()
    path.unlink()
    os.mkfifo(path)
    started = count_thread_starts(monkeypatch)
    assert not window.start_run(Strategy.POOLED)
    assert window.error_text() == (
        f"cannot read '{path}': it is a FIFO (named pipe), not a regular file"
    )
    assert not window.busy and started == []


def test_a_control_character_in_the_name_stays_on_one_line(window, tmp_path, monkeypatch):
    path = tmp_path / "two\nlines"
    path.mkdir()
    _started = count_thread_starts(monkeypatch)
    assert not window.open_input(str(path))
    assert window.error_text() == (
        f"cannot read '{tmp_path}/two\\x0alines': it is a directory, not a regular file"
    )
    assert "\n" not in window.error_text()


def test_a_fifo_named_like_a_session_is_refused(window, tmp_path, monkeypatch):
    path = tmp_path / "recorded.session"
    os.mkfifo(path)
    started = count_thread_starts(monkeypatch)
    assert not window.open_session(path)
    assert window.error_text() == (
        f"cannot open session '{path}': it is a FIFO (named pipe), not a regular file"
    )
    assert window.replay.session is None and not window.busy and started == []


def test_the_demo_skips_a_fifo_in_its_sessions_folder(window, qtbot, tmp_path):
    open_vector(window, "ramp.bin")
    run_and_wait(qtbot, window, window.baseline_button)
    folder = tmp_path / "sessions"
    folder.mkdir()
    assert window.save_session_to(folder / "b.session") == folder / "b.session"
    os.mkfifo(folder / "a.session")  # sorted first: it would be opened first
    assert sessions_for_steps(folder) == {1: folder / "b.session"}


def test_generating_over_a_fifo_left_in_the_data_folder_does_not_block(window, tmp_path):
    folder = tmp_path / "user-data" / "inputs"
    folder.mkdir(parents=True, exist_ok=True)
    os.mkfifo(folder / "zeros_4KiB.bin.part")  # the old fixed temporary name
    os.mkfifo(folder / "zeros_8KiB.bin")  # the target itself
    umask = os.umask(0o027)
    os.umask(umask)
    for size in (4096, 8192):
        path = window.generate_input("zeros", size)
        assert path == folder / f"zeros_{size // 1024}KiB.bin"
        assert path.read_bytes() == bytes(size)
        assert oct(path.stat().st_mode & 0o777) == oct(0o666 & ~umask)
        assert window.input_path == str(path)
    assert sorted(p.name for p in folder.iterdir()) == [
        "zeros_4KiB.bin",
        "zeros_4KiB.bin.part",
        "zeros_8KiB.bin",
    ]
