"""The command line: argument errors are one line; a real run under Xvfb exports everything."""

import csv
import os
import shutil
import subprocess
import sys

import pytest

from engine import Strategy
from gui import app, export, export_names
from tests.conftest import EXPECTED, VECTORS
from tests.gui.app_env import isolated_app_env

ROOT = VECTORS.parent.parent


def test_unknown_strategy_is_one_line(capsys):
    assert app.main([str(VECTORS / "ramp.bin"), "--run", "baseline,fast"]) == 2
    err = capsys.readouterr().err
    assert err == (
        "heapscope: error: unknown strategy 'fast': choose one of single, baseline, pooled, "
        "sizeclass, batched, malloc, mimalloc, jemalloc, tcmalloc\n"
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


def test_a_lecture_file_opens_from_the_command_line_with_every_run(tmp_path):
    """--open takes a lecture file too (its check before the window used to read
    only single-run sessions and refused it)."""
    from gui.lecture_file import save_lecture
    from tests.gui.helpers import record

    runs = [(1, record(strategy=Strategy.BASELINE)[0]), (2, record(strategy=Strategy.POOLED)[0])]
    lecture = save_lecture(runs, tmp_path / "lecture.session")
    out = tmp_path / "out"
    proc = _offscreen(["--open", str(lecture), "--export", str(out), "--quit-when-done"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    with open(out / export.FILE_NAMES["results"], newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    exp = EXPECTED["random_64k.bin"]
    assert [r["Strategy"] for r in rows] == ["baseline", "pooled"]
    assert [int(r["Lock acquisitions"]) for r in rows] == [
        exp["lock_acquisitions_baseline"],
        exp["lock_acquisitions_pooled"],
    ]


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


# -- the handout, numbered exports, presentation mode, chart defaults -----------------


def test_help_documents_the_scripted_slides_options(capsys):
    assert app.main(["--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    for text in (
        "--screenshot OUT.png when the runs (and the export) are done, save a PNG picture of "
        "the whole window, as it is on screen, to OUT.png",
        "--presentation start in presentation mode (full screen, large type; F5 leaves it)",
        "--handout OUT.pdf when the runs are done, write the handout (one A4 page per view) "
        "to OUT.pdf",
        "--overwrite with --export: replace the files of an earlier export instead of numbering",
        "an earlier export there is kept: the new files are numbered "
        "(heapscope_dashboard-2.png, ...)",
        "--lock-rate exported lock charts show acquisitions per second (default: the running "
        "total)",
        "--log-scale exported lock charts use a log scale (default: linear)",
    ):
        assert text in out


@pytest.mark.parametrize(
    "args, message",
    [
        (["--overwrite"], "--overwrite needs --export"),
        (["--lock-rate"], "--lock-rate needs --export or --handout"),
        (["--log-scale", "--screenshot", "x.png"], "--log-scale needs --export or --handout"),
        (["--handout", "h.png"], "--handout writes PDF: name the file .pdf (not '.png')"),
        (
            ["--presentation", "--quit-when-done"],
            "--quit-when-done needs --run, --open, --export, --handout or --screenshot",
        ),
    ],
)
def test_new_option_errors_are_one_line(capsys, args, message):
    assert app.main(args) == 2
    assert capsys.readouterr().err == f"heapscope: error: {message}\n"


def test_export_and_handout_twice_never_overwrite(tmp_path):
    """A script run twice: the second export is numbered, the named handout replaced;
    stdout lists every file written, in order."""
    from tests.gui.test_export import WRITE_ORDER
    from tests.gui.test_handout import A4_LANDSCAPE, pdf_pages

    out, handout = tmp_path / "slides", tmp_path / "lecture.pdf"
    args = [
        str(VECTORS / "random_64k.bin"),
        "--run",
        "baseline,pooled",
        "--export",
        str(out),
        "--handout",
        str(handout),
        "--presentation",
        "--quit-when-done",
    ]
    proc = _offscreen(args, tmp_path)
    assert (proc.returncode, proc.stderr) == (0, "")
    assert proc.stdout.splitlines() == [*(str(out / n) for n in WRITE_ORDER), str(handout)]
    first = {n: (out / n).read_bytes() for n in WRITE_ORDER}
    assert pdf_pages(handout.read_bytes()) == [A4_LANDSCAPE] * 9
    assert pdf_pages(first["heapscope_handout.pdf"]) == [A4_LANDSCAPE] * 9

    proc = _offscreen(args, tmp_path)
    assert (proc.returncode, proc.stderr) == (0, "")
    numbered = [str(out / export_names.numbered(n, 2)) for n in WRITE_ORDER]
    assert proc.stdout.splitlines() == [*numbered, str(handout)]
    assert {n: (out / n).read_bytes() for n in WRITE_ORDER} == first
    assert sorted(os.listdir(out)) == sorted(
        [*WRITE_ORDER, *(os.path.basename(p) for p in numbered)]
    )


class _FakeFiles:
    def __init__(self, fail: OSError | None = None):
        self.calls: list[tuple] = []
        self.fail = fail

    def export_to(self, folder, **kwargs):
        self.calls.append(("export", folder, kwargs))
        return [os.path.join(folder, "heapscope_handout.pdf")]

    def handout_to(self, path, **kwargs):
        self.calls.append(("handout", path, kwargs))
        if self.fail:
            raise self.fail
        return path


class _FakeWindow:
    def __init__(self, files):
        self.files = files


def _finish(argv, files):
    args = app.parse_args(argv)
    state = app._State()
    failures = []

    def fail_late(message):
        failures.append(message)
        state.code = 1

    app._finish_outputs(_FakeWindow(files), args, state, fail_late, None)
    return failures


@pytest.mark.parametrize(
    "flags, options",
    [
        ([], {"rate": False, "log": False}),
        (["--lock-rate"], {"rate": True, "log": False}),
        (["--log-scale", "--lock-rate"], {"rate": True, "log": True}),
    ],
)
def test_command_line_pictures_use_default_chart_settings_unless_told(capsys, flags, options):
    """Whatever the window's toggles (restored from the settings) say."""
    files = _FakeFiles()
    assert _finish(["--export", "out", "--handout", "h.pdf", *flags], files) == []
    assert files.calls == [
        ("export", "out", {"chart_options": options, "overwrite": False}),
        ("handout", "h.pdf", {"chart_options": options}),
    ]
    assert capsys.readouterr().out == f"{os.path.join('out', 'heapscope_handout.pdf')}\nh.pdf\n"


def test_overwrite_reaches_the_export(capsys):
    files = _FakeFiles()
    _finish(["--export", "out", "--overwrite"], files)
    assert files.calls == [
        ("export", "out", {"chart_options": {"rate": False, "log": False}, "overwrite": True})
    ]


def test_handout_write_failure_is_one_line(capsys):
    import errno

    files = _FakeFiles(OSError(errno.ENOSPC, "No space left on device", "h.pdf.part"))
    assert _finish(["--handout", "slides/h.pdf"], files) == [
        "cannot write the handout 'slides/h.pdf': No space left on device"
    ]
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize(
    "args, message",
    [
        (["--lock", "spin"], "--lock needs --run"),
        (["--workers", "2"], "--workers needs --run"),
        (
            ["f", "--run", "baseline", "--lock", "futex"],
            "--lock: unknown lock kind 'futex': choose one of mutex, spin, adaptive",
        ),
        (
            ["f", "--run", "baseline", "--workers", "two"],
            "--workers takes a whole number from 0 to 128 (got 'two')",
        ),
        (
            ["f", "--run", "baseline", "--workers", "129"],
            "--workers takes a whole number from 0 to 128 (got 129)",
        ),
        (
            ["f", "--run", "floor"],
            "unknown strategy 'floor': choose one of single, baseline, pooled, "
            "sizeclass, batched, malloc, mimalloc, jemalloc, tcmalloc",
        ),
    ],
)
def test_lock_and_workers_errors_are_one_line(capsys, args, message):
    assert app.main(args) == 2
    assert capsys.readouterr().err == f"heapscope: error: {message}\n"


def test_every_user_strategy_with_lock_and_workers_parses():
    names = "single,baseline,pooled,sizeclass,batched,malloc,mimalloc,jemalloc,tcmalloc"
    args = app.parse_args(["f", "--run", names, "--lock", "Adaptive", "--workers", "2"])
    assert [s.label for s in args.strategies] == names.split(",")
    assert (args.lock.label, args.workers) == ("adaptive", 2)
    args = app.parse_args(["f", "--run", "malloc"])
    assert (args.lock, args.workers) == (None, None)  # the settings panel's then
