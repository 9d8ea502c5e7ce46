"""The handout: one A4 landscape PDF page per view, its words, the machine stamp."""

from __future__ import annotations

import datetime
import re
import shutil
import subprocess
import types

import pytest

import engine
from engine import LockKind, RunConfig, Strategy
from gui import handout_text
from tests.conftest import EXPECTED, VECTORS
from tests.gui.helpers import open_vector, run_and_wait

#: A4 landscape in PDF points.
A4_LANDSCAPE = (842.0, 595.0)
TWO_RUN_KINDS = [
    "dashboard",
    "locks",
    "throughput",
    "free_list",
    "heap_map",
    "timeline#1",
    "timeline#2",
    "breakdown",
    "results",
]
TWO_RUN_TITLES = [
    "One allocator lock vs per-thread pools",
    "Lock acquisitions over time",
    "Throughput over time",
    "Free-list length over time",
    "The heap at its fullest moment",
    "Each thread's time: run #1 baseline",
    "Each thread's time: run #2 pooled",
    "Where the time went (all threads)",
    "Results",
]


def pdf_pages(data: bytes) -> list[tuple[float, float]]:
    """Each page's MediaBox size, read from the PDF's page objects (Qt writes them
    uncompressed); checks the page tree's /Count says the same."""
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    boxes = [
        (float(w), float(h))
        for w, h in re.findall(
            rb"/Type /Page\n(?:[^\n]*\n)*?/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", data
        )
    ]
    counts = [int(c) for c in re.findall(rb"/Type /Pages\n(?:[^\n]*\n)*?/Count (\d+)", data)]
    assert counts == [len(boxes)]
    return boxes


def pdf_text(path, page: int) -> str:
    """One page's text through poppler's pdftotext (the test skips without it)."""
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    return subprocess.run(
        ["pdftotext", "-f", str(page), "-l", str(page), str(path), "-"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout


@pytest.fixture(scope="module")
def results():
    """A real baseline and pooled run of random_64k.bin (no Qt)."""
    path = VECTORS / "random_64k.bin"
    return [engine.run(path, RunConfig(strategy=s)) for s in (Strategy.BASELINE, Strategy.POOLED)]


def rows_of(results, speedup=2.5):
    return [
        types.SimpleNamespace(run_id=1, result=results[0], speedup=1.0, baseline_run=1),
        types.SimpleNamespace(run_id=2, result=results[1], speedup=speedup, baseline_run=1),
    ]


# -- the words (no Qt) ------------------------------------------------------------


def test_pages_of_two_runs_one_per_view(results):
    pages = handout_text.pages(rows_of(results))
    assert [p.kind for p in pages] == TWO_RUN_KINDS
    assert [p.title for p in pages] == TWO_RUN_TITLES
    exp = EXPECTED["random_64k.bin"]
    b, p = results
    assert pages[0].lines == (
        f"#1 baseline on random_64k.bin: {b.wall_s:.3f} s, "
        f"{exp['lock_acquisitions_baseline']:,} lock acquisitions, signature {exp['signature']}",
        f"#2 pooled on random_64k.bin: {p.wall_s:.3f} s, "
        f"{exp['lock_acquisitions_pooled']:,} lock acquisitions, signature {exp['signature']}; "
        f"2.50x the speed of #1",
    )
    assert pages[1].lines == (
        f"#1 baseline: {handout_text.captions(handout_text.final_frame(b))['locks']}",
        f"#2 pooled: {handout_text.captions(handout_text.final_frame(p))['locks']}",
    )
    assert pages[1].lines[0].startswith("#1 baseline: 64,620 lock acquisitions: 1,009.7 per block")
    assert pages[1].lines[1].startswith("#2 pooled: 256 lock acquisitions: 4.0 per block")
    # The heap map shows the last run only: its words are that run's.
    assert pages[4].lines == (
        "#2 pooled: Done: the pools served 32,182 allocations without a lock; "
        "only 256 lock acquisitions in all",
    )
    assert pages[5].lines == (handout_text.LANES_LINE,)
    assert pages[-1].lines == (
        "#1 baseline: 20 threads a batch, heap 2 MiB, blocks of 1 KiB",
        "#2 pooled: 20 threads a batch, 32 KiB pools, heap 2 MiB, blocks of 1 KiB",
    )


def test_slowed_runs_malloc_and_modes_are_said_as_such(results):
    """A slowed run gets no speedup, malloc's locks are not observable (never 0),
    long-lived workers and a spin lock are named in the parameters."""
    b, p = results
    slowed = types.SimpleNamespace(
        run_id=3, result=p, speedup=None, baseline_run=1, slowed="slowed 1/100"
    )
    assert handout_text.run_outcome(slowed) == (
        f"#3 pooled on random_64k.bin: {p.wall_s:.3f} s, 256 lock acquisitions, "
        f"signature {p.signature}; slowed 1/100: no speedup (its time is mostly the "
        "engine's sleeps)"
    )
    path = VECTORS / "random_64k.bin"
    malloc = engine.run(path, RunConfig(strategy=Strategy.MALLOC, workers=2))
    spin = engine.run(path, RunConfig(strategy=Strategy.BASELINE, workers=2, lock=LockKind.SPIN))
    rows = [
        types.SimpleNamespace(run_id=4, result=malloc, speedup=None, baseline_run=None),
        types.SimpleNamespace(run_id=5, result=spin, speedup=1.0, baseline_run=5),
    ]
    assert handout_text.run_outcome(rows[0]) == (
        f"#4 malloc on random_64k.bin: {malloc.wall_s:.3f} s, lock acquisitions not "
        f"observable, signature {malloc.signature}"
    )
    assert [handout_text.run_parameters(r) for r in rows] == [
        "#4 malloc: 2 long-lived workers, blocks of 1 KiB",
        "#5 baseline: 2 long-lived workers, spin locks, heap 2 MiB, blocks of 1 KiB",
    ]


def test_breakdown_line_gives_the_biggest_shares():
    seconds = {
        "compute": 1.0,
        "lock_wait": 18.0,
        "in_allocator": 0.8,
        "thread_start_join": 0.1,  # 0.5%: rounds to nothing, left out
        "read": 0.0,
        "idle": 0.1,
    }
    result = types.SimpleNamespace(time_breakdown_s=seconds, strategy=Strategy.BASELINE)
    row = types.SimpleNamespace(run_id=3, result=result, speedup=None, baseline_run=None)
    assert (
        handout_text.breakdown_line(row)
        == "#3 baseline: lock_wait 90%, compute 5%, in_allocator 4%"
    )
    result.time_breakdown_s = None
    assert handout_text.breakdown_line(row) is None


def test_runs_without_timeline_or_breakdown_lose_those_pages(results):
    import dataclasses

    bare = [dataclasses.replace(r, timeline=None, slot_times_ns=None) for r in results]
    pages = handout_text.pages(rows_of(bare))
    assert [p.kind for p in pages] == [
        "dashboard",
        "locks",
        "throughput",
        "free_list",
        "heap_map",
        "results",
    ]


def test_no_runs_yet_is_still_a_handout():
    pages = handout_text.pages([])
    assert [p.kind for p in pages] == [
        "dashboard",
        "locks",
        "throughput",
        "free_list",
        "heap_map",
        "results",
    ]
    assert pages[0].lines == ("No finished run yet.",)
    assert [p.lines for p in pages[1:]] == [()] * 5


def test_lanes_pages_are_the_latest_runs(results):
    rows = [
        types.SimpleNamespace(run_id=i, result=results[i % 2], speedup=None, baseline_run=None)
        for i in range(1, 8)
    ]
    kinds = [p.kind for p in handout_text.pages(rows) if p.kind.startswith("timeline")]
    assert kinds == ["timeline#4", "timeline#5", "timeline#6", "timeline#7"]


def test_machine_and_date_texts(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(
        "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Core(TM)  i7-8650U"
        " CPU @ 1.90GHz\n\nprocessor\t: 1\n"
    )
    assert handout_text.cpu_model(str(cpuinfo)) == "Intel(R) Core(TM) i7-8650U CPU @ 1.90GHz"
    arm = tmp_path / "arm"
    arm.write_text("processor\t: 0\nBogoMIPS\t: 108.00\n\nModel\t\t: Raspberry Pi 4 Model B\n")
    assert handout_text.cpu_model(str(arm)) == "Raspberry Pi 4 Model B"
    system = handout_text.platform.system()
    assert handout_text.machine_text(2, "AMD EPYC") == f"2 cores, AMD EPYC, {system}"
    assert handout_text.machine_text(1, "M1") == f"1 core, M1, {system}"
    when = datetime.datetime(2025, 3, 4, 10, 30, tzinfo=datetime.timezone.utc)
    assert handout_text.date_text(when) == "2025-03-04 10:30 UTC"


# -- the PDF ----------------------------------------------------------------------


@pytest.fixture
def two_runs(window, qtbot):
    open_vector(window)
    run_and_wait(qtbot, window, window.baseline_button)
    run_and_wait(qtbot, window, window.pooled_button)
    return window


def test_handout_has_one_a4_landscape_page_per_view(two_runs, tmp_path):
    window = two_runs
    folder = tmp_path / "slides"
    folder.mkdir()
    out = window.files.handout_to(folder / "lecture.pdf")
    assert out == folder / "lecture.pdf"
    assert sorted(p.name for p in folder.iterdir()) == ["lecture.pdf"]  # no temp file left
    assert pdf_pages(out.read_bytes()) == [A4_LANDSCAPE] * len(TWO_RUN_KINDS)
    assert window.statusBar().currentMessage() == f"Handout written: {out}"
    assert window.statusBar().toolTip() == str(out)


def test_handout_pages_say_what_they_show(two_runs, tmp_path):
    window = two_runs
    out = window.files.handout_to(tmp_path / "h.pdf")
    machine = handout_text.machine_text()
    for number, title in enumerate(TWO_RUN_TITLES, start=1):
        text = pdf_text(out, number)
        flat = " ".join(text.split())
        assert flat.startswith(f"{title} heapscope handout · page {number} of 9"), flat[:120]
        assert f"Input: {window.input_text()}." in flat
        assert f"Machine: {machine}." in flat
    results_page = " ".join(pdf_text(out, 9).split())
    assert "#2 pooled: 20 threads a batch, 32 KiB pools, heap 2 MiB, blocks of 1 KiB" in (
        results_page
    )
    first = " ".join(pdf_text(out, 1).split())
    assert "#2 pooled on random_64k.bin: " in first
    assert "256 lock acquisitions, signature 1124439212; " in first


def test_handout_of_an_empty_window(window, tmp_path):
    out = window.files.handout_to(tmp_path / "empty.pdf")
    assert pdf_pages(out.read_bytes()) == [A4_LANDSCAPE] * 6


def test_handout_to_an_unwritable_place_is_an_oserror(window, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OSError):
        window.files.handout_to(blocker / "h.pdf")
    assert blocker.read_text() == "x"
