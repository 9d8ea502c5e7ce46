"""The command line: argument errors are one line; a real run under Xvfb exports everything."""

import csv
import os
import shutil
import subprocess
import sys

import pytest

from gui import app, export
from tests.conftest import EXPECTED, VECTORS
from tests.gui.app_env import isolated_app_env

ROOT = VECTORS.parent.parent


def test_unknown_strategy_is_one_line(capsys):
    assert app.main([str(VECTORS / "ramp.bin"), "--run", "baseline,fast"]) == 2
    err = capsys.readouterr().err
    assert err == (
        "heapscope: error: unknown strategy 'fast': choose one of single, baseline, pooled, "
        "malloc, mimalloc, jemalloc, tcmalloc\n"
    )


def test_run_without_file_is_refused(capsys):
    assert app.main(["--run", "pooled"]) == 2
    assert capsys.readouterr().err == "heapscope: error: --run needs an input FILE\n"


def test_missing_file_exits_2_with_the_engine_message(capsys, tmp_path):
    """A bad input path is a usage error (2), as in ``python -m engine``, found before Qt."""
    missing = tmp_path / "nope.bin"
    assert app.main([str(missing), "--run", "baseline", "--quit-when-done"]) == 2
    assert capsys.readouterr().err == (
        f"heapscope: error: cannot open '{missing}': No such file or directory\n"
    )


@pytest.mark.xvfb
def test_heapscope_runs_and_exports_under_xvfb(tmp_path):
    if shutil.which("xvfb-run") is None:
        pytest.skip("xvfb-run is not installed")
    out = tmp_path / "out"
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
    env.update(
        HOME=str(tmp_path),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        XDG_DATA_HOME=str(tmp_path / "data"),
        XDG_RUNTIME_DIR=str(tmp_path),
    )
    proc = subprocess.run(
        [
            "xvfb-run",
            "-a",
            "-s",
            "-screen 0 1920x1080x24",
            sys.executable,
            "-m",
            "gui.app",
            str(VECTORS / "random_64k.bin"),
            "--run",
            "baseline,pooled",
            "--export",
            str(out),
            "--quit-when-done",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert sorted(os.listdir(out)) == sorted(export.FILE_NAMES.values())
    from PySide6.QtGui import QImage

    dash = QImage(str(out / export.FILE_NAMES["dashboard"]))
    assert (dash.width(), dash.height()) == (1920, 1080)
    chart = QImage(str(out / export.FILE_NAMES["locks"]))
    assert (chart.width(), chart.height()) == (1600, 900)
    with open(out / export.FILE_NAMES["results"], newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    exp = EXPECTED["random_64k.bin"]
    assert [r["Strategy"] for r in rows] == ["baseline", "pooled"]
    assert [int(r["Lock acquisitions"]) for r in rows] == [
        exp["lock_acquisitions_baseline"],
        exp["lock_acquisitions_pooled"],
    ]
    assert all(int(r["Signature (✓ = reference)"]) == exp["signature"] for r in rows)


def _offscreen(args, tmp_path):
    return subprocess.run(
        [sys.executable, "-m", "gui.app", *args],
        cwd=ROOT,
        env=isolated_app_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_save_session_then_open_and_export(tmp_path):
    from gui.session_file import load_session

    session_path = tmp_path / "pooled.session"
    proc = _offscreen(
        [
            str(VECTORS / "random_64k.bin"),
            "--run",
            "pooled",
            "--save-session",
            str(session_path),
            "--quit-when-done",
        ],
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    session = load_session(session_path)
    exp = EXPECTED["random_64k.bin"]
    assert session.result["signature"] == exp["signature"]
    assert session.result["lock_acquisitions"] == exp["lock_acquisitions_pooled"]
    out = tmp_path / "out"
    proc = _offscreen(
        ["--open", str(session_path), "--export", str(out), "--quit-when-done"], tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    assert sorted(os.listdir(out)) == sorted(export.FILE_NAMES.values())
    with open(out / export.FILE_NAMES["results"], newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [r["Strategy"] for r in rows] == ["pooled"]
    assert int(rows[0]["Lock acquisitions"]) == exp["lock_acquisitions_pooled"]
    assert int(rows[0]["Signature (✓ = reference)"]) == exp["signature"]


def test_bad_session_file_exits_non_zero_with_one_line(capsys, tmp_path):
    from gui.session_file import SessionError, load_session

    bad = tmp_path / "bad.session"
    bad.write_bytes(b"not a session at all")
    message = str(pytest.raises(SessionError, load_session, bad).value)
    assert (
        app.main(["--open", str(bad), "--export", str(tmp_path / "out"), "--quit-when-done"]) == 1
    )
    assert capsys.readouterr().err == f"heapscope: error: {message}\n"


def test_save_session_needs_run(capsys):
    assert app.main(["--save-session", "x.session"]) == 2
    assert capsys.readouterr().err == "heapscope: error: --save-session needs --run\n"
