"""The reproduced report as one HTML page (no Qt here: gui.report renders the charts
and the PDF).

Every number comes from the runs: the timing and pool tables from the sweeps'
summaries, the time breakdown from their rows, the lock counts checked against
separate runs, and the explanation of why from gui.captions applied to those
separate runs' counters (the same sentences the app's views show).
"""

from __future__ import annotations

import html
import statistics
from collections.abc import Mapping, Sequence

from engine import RunConfig, RunPhase, Strategy
from engine.sweep import PointSummary, SweepResult, SweepRow
from engine.units import format_size
from gui.captions import Frame, captions
from gui.report_runs import CheckRun, ReportData

#: The time states in the breakdown's columns: where the baseline's time goes.
SHOWN_STATES = ("in_allocator", "lock_wait", "compute")
OTHER_STATES = ("thread_start_join", "read", "idle")
DEFAULT_POOL = RunConfig().pool_size
#: Other processes using at least this many cores on average: the report says so.
BUSY_MACHINE_CORES = 0.25

#: The PDF's layout (QTextDocument) shrinks 100%-wide tables inside a body with a
#: max-width: the page's rule is kept apart from the rest.
PAGE_STYLE = "body { font-family: sans-serif; max-width: 60em; margin: 1em auto; color: #222; }"
STYLE = """
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 1.6em; }
table { border-collapse: collapse; margin: 0.5em 0; }
th, td { border: 1px solid #bbb; padding: 2px 8px; text-align: right; }
th { background: #eee; } td.l, th.l { text-align: left; }
.warn { color: #8E2400; font-weight: bold; }
.small { font-size: 0.85em; color: #555; }
img { max-width: 100%; }
"""


def esc(text: object) -> str:
    return html.escape(str(text))


def _row(cells: Sequence[object], header: bool = False, left: int = 1) -> str:
    tag = "th" if header else "td"
    out = []
    for i, cell in enumerate(cells):
        cls = ' class="l"' if i < left else ""
        out.append(f"<{tag}{cls}>{esc(cell)}</{tag}>")
    return "<tr>" + "".join(out) + "</tr>"


def _table(header: Sequence[object], rows: Sequence[Sequence[object]], left: int = 1) -> str:
    body = "".join(_row(r, left=left) for r in rows)
    head = _row(header, True, left)
    return f'<table border="1" cellspacing="0" cellpadding="3" width="100%">{head}{body}</table>'


def locks_text(value: int | None) -> str:
    return "not observable" if value is None else f"{value:,}"


def seconds(value: float) -> str:
    return f"{value:.3f}" if value >= 0.1 else f"{value:.4f}"


def _summary_locks(s: PointSummary) -> str:
    if s.lock_acquisitions is not None:
        return f"{s.lock_acquisitions:,}"
    if s.locks_seen:  # counts that vary between repeats (sizeclass, batched)
        return f"{s.locks_seen[0]:,} to {s.locks_seen[-1]:,}"
    return "not observable"


def _signatures(rows: Sequence[SweepRow], index: int) -> str:
    mine = [r for r in rows if r.point.index == index]
    signatures = sorted({r.signature for r in mine})
    ok = all(r.signature_ok for r in mine)
    return f"{', '.join(str(s) for s in signatures)} {'(= reference)' if ok else '(WRONG)'}"


def timing_table(result: SweepResult, source_label: str) -> str:
    rows = []
    for s in result.summaries():
        if s.point.input.label != source_label:
            continue
        speed = "" if s.speedup is None else f"{s.speedup:.2f}x"
        rows.append(
            [
                s.point.config.strategy.label,
                s.runs,
                seconds(s.median_s),
                seconds(s.min_s),
                seconds(s.max_s),
                speed,
                _summary_locks(s),
                _signatures(result.rows, s.point.index),
            ]
        )
    return _table(
        ["strategy", "runs", "median s", "min s", "max s", "speedup", "locks", "signature"], rows
    )


def breakdown_table(result: SweepResult, source_label: str) -> str:
    """Thread time per state (summed over every thread), median over the point's runs."""
    rows = []
    for s in result.summaries():
        if s.point.input.label != source_label:
            continue
        mine = [
            r.time_breakdown_s
            for r in result.rows
            if r.point.index == s.point.index and r.time_breakdown_s is not None
        ]
        if not mine:
            continue
        med = {k: statistics.median(b[k] for b in mine) for k in mine[0]}
        # Shares of the working time: the idle lanes of unused thread slots would
        # swamp a share of everything.
        working = sum(med[k] for k in SHOWN_STATES) or 1.0
        other = sum(med.get(k, 0.0) for k in OTHER_STATES)
        cells: list[object] = [s.point.config.strategy.label]
        for k in SHOWN_STATES:
            cells.append(f"{med[k]:.3f} s ({100 * med[k] / working:.0f}%)")
        cells.append(f"{other:.3f} s")
        rows.append(cells)
    return _table(
        [
            "strategy",
            "in the allocator",
            "waiting for the lock",
            "computing",
            "thread start/join, reading, idle",
        ],
        rows,
    )


def pool_table(result: SweepResult, checks: Sequence[CheckRun], source_label: str) -> str:
    rows = []
    for s in result.summaries():
        if s.point.input.label != source_label:
            continue
        single = _check_locks(
            checks, source_label, s.point.config.strategy, s.point.config.pool_size
        )
        rows.append(
            [
                format_size(s.point.config.pool_size),
                s.runs,
                seconds(s.median_s),
                seconds(s.min_s),
                seconds(s.max_s),
                _summary_locks(s),
                locks_text(single),
                "yes" if single == s.lock_acquisitions else "NO",
            ]
        )
    return _table(
        ["pool", "runs", "median s", "min s", "max s", "locks", "single run's locks", "equal"],
        rows,
    )


def _check_locks(
    checks: Sequence[CheckRun], label: str, strategy: Strategy, pool: int | None = None
) -> int | None:
    for c in checks:
        same = c.input.label == label and c.config.strategy is strategy
        if same and (pool is None or c.config.pool_size == pool):
            return c.result.lock_acquisitions
    return None


def check_rows(data: ReportData) -> list[list[object]]:
    """(input, strategy, pool, the sweep's count, the single run's, equal) per check."""
    summaries = data.strategies.summaries() + data.pools.summaries()
    out: list[list[object]] = []
    for c in data.checks:
        sweep = next(
            (
                s
                for s in summaries
                if s.point.input.label == c.input.label and s.point.config == c.config
            ),
            None,
        )
        swept = None if sweep is None else sweep.lock_acquisitions
        mine = c.result.lock_acquisitions
        out.append(
            [
                c.input.label,
                c.config.strategy.label,
                format_size(c.config.pool_size),
                locks_text(swept),
                locks_text(mine),
                "yes" if swept == mine else "NO",
            ]
        )
    return out


def why_items(check: CheckRun) -> list[str]:
    """The captions' sentences for a finished run: what the views say about it."""
    r = check.result
    frame = Frame(
        strategy=r.strategy,
        phase=RunPhase.FINISHED,
        elapsed_s=r.wall_s,
        counters=dict(r.counters),
        slot_states=None,
        slot_times_ns=r.slot_times_ns,
        lock=r.config.lock,
        workers=r.config.workers,
    )
    texts = captions(frame)
    if not r.counters.get("lock_acquisitions"):  # "0 lock acquisitions: 0.0 per block"
        return [texts["heap"], texts["free_list"]]
    return [texts["heap"], texts["locks"], texts["free_list"]]


def machine_section(data: ReportData) -> str:
    parts = []
    for title, result in (("Strategies", data.strategies), ("Pool sizes", data.pools)):
        stamp = result.machine
        lines = [line for line in stamp.lines() if not line.startswith("Warning")]
        parts.append(f"<p><b>{esc(title)}</b> (started {esc(stamp.started)}): ")
        parts.append("<br>".join(esc(line) for line in lines) + "</p>")
        warning = stamp.warning()
        if warning:
            parts.append(f'<p class="warn">Warning: {esc(warning)}</p>')
    others = [r.machine.other_cores for r in (data.strategies, data.pools)]
    busy = max((o for o in others if o is not None), default=0.0)
    if busy >= BUSY_MACHINE_CORES:
        parts.append(
            f'<p class="warn">This machine was shared: other processes kept {busy:.2f} '
            "cores busy on average during these runs. The timings (the baseline's most) are "
            "those of a loaded machine; the lock counts and signatures do not depend on it.</p>"
        )
    return "".join(parts)


def report_html(
    data: ReportData,
    images: Mapping[str, str],
    files: Mapping[str, str],
    command: str | None = None,
    for_print: bool = False,
) -> str:
    """The page.  ``images``: chart kind ("strategies", "pools") -> the img src (a
    data: URI for a self-contained page); ``files``: kind -> the file names written;
    ``for_print``: laid out by Qt for the PDF (see :data:`PAGE_STYLE`)."""
    inputs = data.inputs
    repeat = data.repeat
    out = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        "<title>heapscope: the report, reproduced</title>",
        f"<style>{'' if for_print else PAGE_STYLE}{STYLE}</style></head><body>",
        "<h1>The exercise's report, reproduced by heapscope</h1>",
        f"<p>Inputs: {esc(', '.join(f'{i.label} ({i.size:,} bytes)' for i in inputs))}. ",
        f"Every point ran {repeat} time{'s' if repeat != 1 else ''}, interleaved (round 1 of "
        "every point, then round 2, ...); the tables give the median, min and max wall time. "
        "Every run's signature was checked against the input's single-threaded reference.",
        "</p>",
    ]
    if command:
        out.append(f'<p class="small">Made with: <code>{esc(command)}</code></p>')
    out.append("<h2>The machine</h2>" + machine_section(data))
    references = data.strategies.references
    out.append("<h2>1. Time and locks per strategy</h2>")
    if "strategies" in images:
        out.append(f'<p><img src="{esc(images["strategies"])}" alt="time, locks, speedup"></p>')
    for source in inputs:
        out.append(
            f"<h3>{esc(source.label)}: reference signature {references.get(source.label, '?')}</h3>"
        )
        out.append(timing_table(data.strategies, source.label))
    skipped = data.strategies.plan.skipped
    if skipped:
        out.append(
            '<p class="small">Not run on this machine: '
            + "; ".join(f"{esc(s.label)} ({esc(why)})" for s, why in skipped)
            + "</p>"
        )
    out.append("<h2>2. Where the time goes</h2>")
    out.append(
        "<p>Thread time summed over every thread and the coordinator (median over the "
        "runs): in the allocator (holding its lock), waiting for the lock, and computing "
        "the Huffman trees; the percentages are shares of these three (the working time). "
        "The last column is the rest: starting and joining threads, reading, and the "
        "idle thread slots.</p>"
    )
    for source in inputs:
        out.append(f"<h3>{esc(source.label)}</h3>" + breakdown_table(data.strategies, source.label))
    out.append("<h2>3. Why: what the views say about single runs</h2>")
    for source in inputs:
        out.append(f"<h3>{esc(source.label)}</h3><ul>")
        for check in data.checks:
            if check.input.label != source.label or check.config.pool_size != DEFAULT_POOL:
                continue
            items = ". ".join(esc(t) for t in why_items(check))
            out.append(
                f"<li><b>{esc(check.config.strategy.label)}</b> "
                f"({check.result.wall_s:.3f} s): {items}.</li>"
            )
        out.append("</ul>")
    # On paper, a section with a chart or a long table starts a page: never a lone title.
    new_page = ' style="page-break-before: always"' if for_print else ""
    out.append(f"<h2{new_page}>4. Pool-size tuning (pooled)</h2>")
    if "pools" in images:
        out.append(f'<p><img src="{esc(images["pools"])}" alt="pool sizes"></p>')
    for source in inputs:
        out.append(
            f"<h3>{esc(source.label)}</h3>" + pool_table(data.pools, data.checks, source.label)
        )
    out.append("<h2>5. Lock counts checked against single runs</h2>")
    out.append(
        "<p>Each count of single, baseline and pooled is fixed by the input and the "
        "parameters: a separate run with the same parameters must give the same number.</p>"
    )
    out.append(
        _table(
            ["input", "strategy", "pool", "sweep's locks", "single run's locks", "equal"],
            check_rows(data),
            left=2,
        )
    )
    out.append(
        f"<h2{new_page}>6. Every run</h2><p>In the order they ran. Every signature equals its "
        "input's reference (a sweep stops at the first that does not); n/a: malloc and "
        "the production allocators take locks of their own that heapscope cannot "
        "count.</p>"
    )
    out.append(every_run_table([data.strategies, data.pools]))
    if files:
        out.append(
            '<p class="small">Files of this report: '
            + ", ".join(esc(name) for name in files.values())
            + "</p>"
        )
    out.append("</body></html>")
    return "\n".join(out)


def every_run_table(results: Sequence[SweepResult]) -> str:
    rows = []
    for result, what in zip(results, ("strategy", "pool"), strict=False):
        for r in result.rows:
            c = r.point.config
            rows.append(
                [
                    what,
                    r.run,
                    r.round,
                    format_size(r.point.input.size)
                    if r.point.input.generated
                    else r.point.input.label,
                    c.strategy.label,
                    format_size(c.pool_size),
                    r.signature if r.signature_ok else f"{r.signature} WRONG",
                    "n/a" if r.lock_acquisitions is None else f"{r.lock_acquisitions:,}",
                    seconds(r.wall_s),
                ]
            )
    return _table(
        [
            "sweep",
            "run",
            "round",
            "input",
            "strategy",
            "pool",
            "signature",
            "locks",
            "wall s",
        ],
        rows,
        left=1,
    )


__all__ = ["report_html", "check_rows", "why_items"]
