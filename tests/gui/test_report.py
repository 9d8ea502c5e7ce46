"""Reproduce the report: the command writes every file; its lock counts equal single runs'."""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
import sys

import pytest

from engine import USER_STRATEGIES, Run, RunConfig, Strategy
from engine.config import static_tls_environment
from gui import app
from gui.report import FILE_NAMES, ReportDialog
from gui.report_runs import ReportRunner, report_inputs
from tests.conftest import EXPECTED, VECTORS
from tests.gui.app_env import isolated_app_env

RANDOM = VECTORS / "random_64k.bin"
SIGNATURE = EXPECTED["random_64k.bin"]["signature"]  # 1124439212
#: What this test process can load (the in-process runner and dialog plan these).
AVAILABLE = [s for s in USER_STRATEGIES if s.unavailable_reason() is None]


def _available_to_the_command() -> list[Strategy]:
    """What `heapscope --reproduce-report` can load: it restarts itself with the
    static TLS jemalloc needs (engine.config.restart_with_static_tls), which this
    pytest process may lack, so ask a child started the same way."""
    env = static_tls_environment(os.environ) or dict(os.environ)
    code = (
        "from engine import USER_STRATEGIES as U\n"
        "print(','.join(s.label for s in U if s.unavailable_reason() is None))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    return [Strategy.parse(label) for label in out.stdout.strip().split(",")]


#: What the report command runs on this machine.
COMMAND_AVAILABLE = _available_to_the_command()
#: pooled's lock counts on random_64k.bin by pool size (single runs; 32 KiB from expected.json).
POOLED_LOCKS = {
    2048: 56428,
    8192: 39916,
    32768: EXPECTED["random_64k.bin"]["lock_acquisitions_pooled"],
}
BASELINE_LOCKS = EXPECTED["random_64k.bin"]["lock_acquisitions_baseline"]  # 64620


def single_run_locks(strategy: Strategy, pool_size: int = 32768) -> int | None:
    config = RunConfig(strategy=strategy, pool_size=pool_size, telemetry=False)
    with Run(RANDOM, config) as run:
        return run.execute().lock_acquisitions


def pdf_page_count(path) -> int:
    if shutil.which("pdfinfo") is None:
        pytest.skip("pdfinfo (poppler-utils) is not installed")
    info = subprocess.run(
        ["pdfinfo", str(path)], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    pages = re.search(r"^Pages:\s+(\d+)$", info, re.M)
    assert pages is not None, info
    return int(pages.group(1))


def pdf_text(path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout


def reproduce(tmp_path, folder, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "gui.app",
            "--reproduce-report",
            str(folder),
            "--input",
            str(RANDOM),
            *extra,
            "--quit-when-done",
        ],
        capture_output=True,
        text=True,
        env=isolated_app_env(tmp_path),
        timeout=300,
        cwd=VECTORS.parent.parent,
    )


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """One report of random_64k.bin, repeat 2, made by the command line."""
    tmp = tmp_path_factory.mktemp("report")
    folder = tmp / "out"
    proc = reproduce(tmp, folder, "--repeat", "2")
    return folder, proc


def test_the_command_writes_every_file(report):
    folder, proc = report
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    names = list(FILE_NAMES.values())
    assert proc.stdout.splitlines() == [str(folder / name) for name in names]
    assert sorted(p.name for p in folder.iterdir()) == sorted(names)
    for name in ("report_strategies.png", "report_pools.png"):
        assert (folder / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (folder / "report.pdf").read_bytes()[:5] == b"%PDF-"
    assert pdf_page_count(folder / "report.pdf") >= 2


def test_the_csvs_hold_every_run_with_the_reference_signature(report):
    folder, _ = report
    with open(folder / "report_strategies.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    n = len(COMMAND_AVAILABLE)
    assert len(rows) == 2 * n
    assert [r["strategy"] for r in rows[:n]] == [s.label for s in COMMAND_AVAILABLE]
    assert [r["round"] for r in rows] == ["1"] * n + ["2"] * n
    assert {r["signature"] for r in rows} == {str(SIGNATURE)}
    assert {r["expected_signature"] for r in rows} == {str(SIGNATURE)}
    locks = {r["strategy"]: r["lock_acquisitions"] for r in rows}
    assert locks["single"] == "0"
    assert locks["baseline"] == str(BASELINE_LOCKS)
    assert locks["pooled"] == str(POOLED_LOCKS[32768])
    assert locks["malloc"] == ""  # not observable, never 0
    with open(folder / "report_pools.csv", newline="") as f:
        pools = list(csv.DictReader(f))
    assert [(r["strategy"], int(r["pool_size"])) for r in pools] == [
        ("pooled", size) for size in (2048, 8192, 32768)
    ] * 2
    assert {int(r["pool_size"]): int(r["lock_acquisitions"]) for r in pools} == POOLED_LOCKS


def test_report_lock_counts_equal_single_runs(report):
    """Every lock count the report shows is what one run with the same parameters gives."""
    folder, _ = report
    assert single_run_locks(Strategy.SINGLE) == 0
    assert single_run_locks(Strategy.BASELINE) == BASELINE_LOCKS
    for pool, locks in POOLED_LOCKS.items():
        assert single_run_locks(Strategy.POOLED, pool) == locks
    page = (folder / "report.html").read_text()
    checks = re.findall(
        r"<tr><td class=\"l\">random_64k\.bin</td><td class=\"l\">(\w+)</td><td>([\d ]+KiB)"
        r"</td><td>([\d,]+)</td><td>([\d,]+)</td><td>(\w+)</td></tr>",
        page,
    )
    assert checks == [
        ("single", "32 KiB", "0", "0", "yes"),
        ("baseline", "32 KiB", "64,620", "64,620", "yes"),
        ("pooled", "32 KiB", "256", "256", "yes"),
        ("pooled", "2 KiB", "56,428", "56,428", "yes"),
        ("pooled", "8 KiB", "39,916", "39,916", "yes"),
    ]


def test_the_html_is_self_contained_with_signatures_captions_and_machine(report):
    folder, _ = report
    page = (folder / "report.html").read_text()
    assert page.count('src="data:image/png;base64,') == 2
    assert 'src="report_' not in page  # nothing outside the file
    assert f"random_64k.bin: reference signature {SIGNATURE}</h3>" in page
    # Every run's row.
    assert page.count(f"<td>{SIGNATURE}</td>") == 2 * len(COMMAND_AVAILABLE) + 6
    assert "Done: all 64,620 allocations and frees took turns at the one heap lock" in page
    assert "Done: the pools served" in page and "only 256 lock acquisitions in all" in page
    assert "Machine: " in page and "Load average (1/5/15 min): " in page
    assert "<th>waiting for the lock</th>" in page
    text = pdf_text(folder / "report.pdf")
    assert "The exercise's report, reproduced by\nheapscope" in text  # the title wraps
    assert str(SIGNATURE) in text and "64,620" in text and "56,428" in text


def test_a_second_report_is_numbered_and_the_first_kept(report, tmp_path):
    folder, _ = report
    copy = tmp_path / "out"
    shutil.copytree(folder, copy)
    before = {p.name: p.read_bytes() for p in copy.iterdir()}
    proc = reproduce(tmp_path, copy, "--repeat", "1")
    assert proc.returncode == 0, proc.stderr
    numbered = [name.replace(".", "-2.") for name in FILE_NAMES.values()]
    assert proc.stdout.splitlines() == [str(copy / name) for name in numbered]
    for name, data in before.items():
        assert (copy / name).read_bytes() == data


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--input", "x.bin"], "--input needs --reproduce-report"),
        (["--repeat", "2"], "--repeat needs --reproduce-report"),
        (
            ["--reproduce-report", "out", "--repeat", "0"],
            "--repeat must be from 1 to 1000 (got 0)",
        ),
        (
            [str(RANDOM), "--reproduce-report", "out"],
            "--reproduce-report runs on its own: drop FILE (use --input FILE)",
        ),
        (
            ["--reproduce-report", "out", "--run", "pooled"],
            "--reproduce-report runs on its own: drop --run (use --input FILE)",
        ),
    ],
)
def test_bad_arguments_are_one_line(argv, message, capsys):
    assert app.main(argv) == 2
    assert capsys.readouterr().err == f"heapscope: error: {message}\n"


def test_bad_paths_exit_2_before_anything_runs(tmp_path, capsys):
    missing = tmp_path / "nope.bin"
    code = app.main(
        ["--reproduce-report", str(tmp_path / "r"), "--input", str(missing), "--quit-when-done"]
    )
    assert code == 2
    assert capsys.readouterr().err == (
        f"heapscope: error: cannot open '{missing}': No such file or directory\n"
    )
    a_file = tmp_path / "file"
    a_file.write_text("x")
    code = app.main(["--reproduce-report", str(a_file), "--input", str(RANDOM), "--quit-when-done"])
    assert code == 2
    assert capsys.readouterr().err == (
        f"heapscope: error: cannot write the report to '{a_file}': it is a file, not a folder\n"
    )
    assert not (tmp_path / "r").exists()


def test_the_runner_plans_every_available_strategy_and_the_pools():
    runner = ReportRunner(report_inputs(str(RANDOM)), repeat=3)
    assert [p.config.strategy for p in runner.strategy_plan.points] == AVAILABLE
    assert [p.config.pool_size for p in runner.pool_plan.points] == [2048, 8192, 32768]
    assert runner.total_runs == 3 * len(AVAILABLE) + 3 * 3 + 5


# -- the window's dialog ----------------------------------------------------------


@pytest.fixture
def dialog(qtbot):
    d = ReportDialog(None, str(RANDOM))
    qtbot.addWidget(d)
    try:
        yield d
    finally:
        d.shutdown()


def test_dialog_writes_the_report(dialog, qtbot, tmp_path):
    dialog.repeat.setValue(1)
    assert dialog.start(str(tmp_path))
    assert not dialog.run_button.isEnabled() and dialog.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: dialog.worker is None and bool(dialog.written), timeout=120_000)
    assert [p.name for p in dialog.written] == list(FILE_NAMES.values())
    assert dialog.progress.value() == dialog.progress.maximum() == len(AVAILABLE) + 3 + 5
    assert dialog.status.text().startswith('Written: <a href="file://')
    assert dialog.status.text().endswith(f"report.html</a> and 5 more files in {tmp_path}")


def test_dialog_cancel_writes_nothing(dialog, qtbot, tmp_path):
    dialog.repeat.setValue(20)
    assert dialog.start(str(tmp_path))
    assert dialog.worker is not None
    dialog.worker.row_done.connect(lambda *_: dialog.cancel())
    qtbot.waitUntil(lambda: dialog.worker is None, timeout=120_000)
    assert dialog.status.text() == "the report was cancelled: nothing was written"
    assert list(tmp_path.iterdir()) == []
    assert dialog.run_button.isEnabled()
