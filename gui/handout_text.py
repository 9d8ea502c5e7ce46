"""The words of the handout (no Qt): each page's title and sentences, the runs'
parameters and the machine they ran on.

The sentences under each view are the window's captions (gui.captions) worded for
each finished run's last moment, one line per run, so a handout of baseline then
pooled reads "#1 baseline: ..." over "#2 pooled: ..." under every chart.
"""

from __future__ import annotations

import dataclasses
import datetime
import os
import platform
from collections.abc import Sequence
from typing import Protocol

from engine import LockKind, RunPhase, RunResult, format_size
from gui.captions import Frame, captions
from gui.strategy_text import lock_text


class Row(Protocol):
    """What the handout reads of a results-table row (gui.results_table.ResultRow)."""

    run_id: int
    result: RunResult
    speedup: float | None
    baseline_run: int | None


@dataclasses.dataclass(frozen=True)
class Page:
    """One page of the handout: a view's picture (by kind), its title and sentences."""

    kind: str  # "dashboard", "locks", "throughput", "free_list", "heap_map", "timeline", ...
    title: str
    lines: tuple[str, ...]


# -- the machine -------------------------------------------------------------


def cpu_model(cpuinfo: str = "/proc/cpuinfo") -> str:
    """The processor's marketing name ("AMD EPYC"), or the architecture when unknown."""
    try:
        with open(cpuinfo, encoding="utf-8", errors="replace") as f:
            for line in f:
                key, sep, value = line.partition(":")
                if sep and key.strip() in ("model name", "Model", "Hardware") and value.strip():
                    return " ".join(value.split())
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def machine_text(cores: int | None = None, model: str | None = None) -> str:
    """ "2 cores, AMD EPYC, Linux": what the timings depend on."""
    cores = os.cpu_count() if cores is None else cores
    model = cpu_model() if model is None else model
    count = "unknown cores" if not cores else f"{cores} core" + ("" if cores == 1 else "s")
    return f"{count}, {model}, {platform.system() or 'unknown OS'}"


def date_text(when: datetime.datetime | None = None) -> str:
    """Local date and time with its zone: "2025-03-04 10:30 CET"."""
    when = when or datetime.datetime.now().astimezone()
    return when.strftime("%Y-%m-%d %H:%M %Z").strip()


# -- the runs ----------------------------------------------------------------


def run_name(row: Row) -> str:
    return f"#{row.run_id} {row.result.strategy.label}"


def run_parameters(row: Row) -> str:
    """ "#2 pooled: 20 threads a batch, 32 KiB pools, heap 2 MiB, blocks of 1 KiB"."""
    c = row.result.config
    if c.workers and c.threads > 1:
        parts = [f"{c.workers} long-lived workers"]
    else:
        parts = [f"{c.threads} thread" + ("" if c.threads == 1 else "s a batch")]
    if row.result.strategy.label == "pooled":
        parts.append(f"{format_size(c.pool_size)} pools")
    if row.result.strategy.uses_arena and c.threads > 1 and c.lock is not LockKind.MUTEX:
        parts.append(f"{c.lock.label} locks")
    if row.result.strategy.uses_arena:  # malloc's family: its heap is its own
        parts.append(f"heap {format_size(c.heap_size)}")
    parts.append(f"blocks of {format_size(c.block_size)}")
    return f"{run_name(row)}: {', '.join(parts)}"


def run_outcome(row: Row) -> str:
    """ "#1 baseline: 2.484 s, 64,620 lock acquisitions, signature 1124439212"."""
    r = row.result
    text = (
        f"{run_name(row)} on {os.path.basename(r.path)}: {r.wall_s:.3f} s, "
        f"{lock_text(r.lock_acquisitions)}, signature {r.signature}"
    )
    slowed = getattr(row, "slowed", "")  # gui.slowed_rows.SlowedRow
    if slowed:
        return f"{text}; {slowed}: no speedup (its time is mostly the engine's sleeps)"
    if row.speedup is not None and row.baseline_run not in (None, row.run_id):
        text += f"; {row.speedup:.2f}x the speed of #{row.baseline_run}"
    return text


def final_frame(result: RunResult) -> Frame:
    """The run's last moment as the captions see it."""
    return Frame(
        strategy=result.strategy,
        phase=RunPhase.FINISHED,
        elapsed_s=result.wall_s,
        counters=dict(result.counters),
        slot_times_ns=result.slot_times_ns,
        lock=result.config.lock,
        workers=result.config.workers,
    )


def view_lines(rows: Sequence[Row], view: str) -> tuple[str, ...]:
    """The caption of ``view`` ("heap", "locks", ...) for each run, prefixed by its name."""
    return tuple(f"{run_name(row)}: {captions(final_frame(row.result))[view]}" for row in rows)


def breakdown_line(row: Row) -> str | None:
    """ "#1 baseline: lock_wait 93%, compute 5%, in_allocator 2%" (shares of all threads' time)."""
    seconds = row.result.time_breakdown_s
    if not seconds:
        return None
    total = sum(seconds.values())
    if total <= 0:
        return None
    shares = sorted(((v / total, k) for k, v in seconds.items() if v > 0), reverse=True)
    shown = [f"{k} {share * 100:.0f}%" for share, k in shares if round(share * 100) >= 1]
    return f"{run_name(row)}: " + ", ".join(shown[:4])


#: What the lanes show, whatever the run (the legend above them names the colours).
LANES_LINE = (
    "One row per thread slot (T0, T1, ...) and one for the coordinator, coloured by what "
    "each was doing, millisecond by millisecond; the top row shades how much of each "
    "moment someone held the allocator lock."
)


#: At most this many lanes pages (the latest runs'): a page each, baseline against pooled.
MAX_LANES_PAGES = 4


def pages(rows: Sequence[Row]) -> list[Page]:
    """The handout's pages, one per view, in lecture order: the dashboard, the three
    charts, the heap map (the last run's, as the window shows it), the lanes of each
    run that has a timeline (the latest :data:`MAX_LANES_PAGES`; kind "timeline#N"
    for run N), the time breakdown when a run has one, and the results table."""
    outcomes = tuple(run_outcome(r) for r in rows) or ("No finished run yet.",)
    out = [
        Page("dashboard", "One allocator lock vs per-thread pools", outcomes),
        Page("locks", "Lock acquisitions over time", view_lines(rows, "locks")),
        Page("throughput", "Throughput over time", view_lines(rows, "throughput")),
        Page("free_list", "Free-list length over time", view_lines(rows, "free_list")),
        Page("heap_map", "The heap at its fullest moment", view_lines(rows[-1:], "heap")),
    ]
    timed = [r for r in rows if r.result.timeline is not None and r.result.timeline.rows]
    for row in timed[-MAX_LANES_PAGES:]:
        out.append(
            Page(
                f"timeline#{row.run_id}", f"Each thread's time: run {run_name(row)}", (LANES_LINE,)
            )
        )
    lines = tuple(line for line in (breakdown_line(r) for r in rows) if line)
    if lines:
        out.append(Page("breakdown", "Where the time went (all threads)", lines))
    out.append(Page("results", "Results", tuple(run_parameters(r) for r in rows)))
    return out


__all__ = [
    "LANES_LINE",
    "MAX_LANES_PAGES",
    "Page",
    "breakdown_line",
    "cpu_model",
    "date_text",
    "machine_text",
    "pages",
    "run_outcome",
    "run_parameters",
    "view_lines",
]
