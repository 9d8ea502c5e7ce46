"""``python -m engine sweep FILE ...``: experiments over lists of parameters (issue 12).

Every swept option takes a comma list (``--pool-size 2K,8K,32K``); several
lists make a grid.  ``--repeat N`` runs each point N times, interleaved.
Exit status as ``python -m engine``: 0 done, 1 the CSV or plot could not be
written, 2 bad input or parameters, 3 heap exhausted, 4 invalid free, 5 any
other failure (a wrong signature, lock counts that moved between repeats),
130 interrupted (Ctrl+C) and 143 terminated: the current run is cancelled and
the finished rows still go to the CSV.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from typing import TypeVar

from engine.config import LIMITS, LockKind, RunConfig, Strategy
from engine.errors import HeapExhausted, InputError, InvalidFree
from engine.sweep import (
    MAX_GENERATED,
    PointSummary,
    Sweep,
    SweepError,
    SweepInput,
    SweepResult,
    SweepRow,
    file_input,
    generated_input,
    plan_sweep,
    write_csv,
)
from engine.units import format_size, parse_size

T = TypeVar("T")

EXIT_OK, EXIT_WRITE_FAILED, EXIT_BAD_INPUT = 0, 1, 2
EXIT_HEAP_EXHAUSTED, EXIT_INVALID_FREE, EXIT_ENGINE, EXIT_INTERRUPTED = 3, 4, 5, 130


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, our exit code for bad input
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message}\n")


class BadArgument(ValueError):
    """A value on the command line that cannot be used; one line naming the option."""


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m engine sweep",
        description="Run the hasher over lists of parameters, repeated and interleaved, "
        "and report median/min/max times and lock counts. Each swept option takes a "
        "comma list; several lists make a grid.",
    )
    parser.add_argument("file", metavar="FILE", nargs="?", help="the input (or --input-size)")
    parser.add_argument(
        "--input-size",
        metavar="LIST",
        help="generated random inputs of these sizes instead of FILE, e.g. 1M,5M",
    )
    parser.add_argument(
        "--strategy",
        metavar="LIST",
        default="baseline",
        help="strategies, e.g. single,baseline,pooled, or 'all' (default: baseline; those "
        "that cannot run here are skipped with the reason)",
    )
    parser.add_argument("--pool-size", metavar="LIST", help="per-thread pool sizes, e.g. 2K,8K,32K")
    parser.add_argument(
        "--batch", "--batch-size", dest="batch", metavar="LIST", help="threads per batch"
    )
    parser.add_argument("--lock", metavar="LIST", help="lock kinds: mutex, spin, adaptive")
    parser.add_argument(
        "--workers", metavar="LIST", help="long-lived workers (0: a thread per block, the default)"
    )
    parser.add_argument("--heap-size", metavar="LIST", help="arena sizes, e.g. 2M,4M")
    parser.add_argument(
        "--block-size", metavar="SIZE", default="1024", help="bytes per block (default 1024)"
    )
    parser.add_argument(
        "--repeat", metavar="N", default="1", help="runs per point, interleaved (default 1)"
    )
    parser.add_argument("--csv", metavar="OUT.csv", help="write one row per run")
    parser.add_argument(
        "--plot", metavar="OUT.png", help="write charts: time and locks vs the swept parameter"
    )
    parser.add_argument(
        "--input-folder",
        metavar="DIR",
        help="where generated inputs are kept (default: ~/.cache/heapscope/sweep-inputs)",
    )
    parser.add_argument(
        "--no-telemetry",
        action="store_true",
        help="no time breakdown (the CSV's *_s state columns stay empty)",
    )
    return parser


# -- parsing lists ----------------------------------------------------------------


def split_list(option: str, text: str) -> list[str]:
    """'2K, 8K' -> ['2K', '8K']; an empty item is an error, never silently dropped."""
    items = [item.strip() for item in text.split(",")]
    if not text.strip():
        raise BadArgument(f"{option}: no values given")
    if any(not item for item in items):
        raise BadArgument(f"{option}: empty item in '{text}' (separate values with single commas)")
    return items


def _no_duplicates(option: str, values: list[T], shown: Callable[[T], str]) -> list[T]:
    seen: list[T] = []
    for value in values:
        if value in seen:
            raise BadArgument(f"{option}: {shown(value)} is listed twice")
        seen.append(value)
    return values


def parse_sizes(option: str, text: str, field: str | None) -> list[int]:
    """Sizes with K/M suffixes, each within the engine's range for ``field``."""
    values = []
    for item in split_list(option, text):
        try:
            value = parse_size(item)
        except ValueError as exc:
            raise BadArgument(f"{option}: {exc}") from None
        low, high = (1, MAX_GENERATED) if field is None else LIMITS[field][:2]
        if not low <= value <= high:
            raise BadArgument(
                f"{option}: {item} is out of range ({format_size(low)} to {format_size(high)})"
            )
        values.append(value)
    return _no_duplicates(option, values, format_size)


def parse_counts(option: str, text: str, field: str) -> list[int]:
    values = []
    low, high = LIMITS[field][:2]
    for item in split_list(option, text):
        if not item.isascii() or not item.lstrip("-").isdigit() or len(item) > 12:
            raise BadArgument(f"{option}: '{item[:40]}' is not a whole number")
        value = int(item)
        if not low <= value <= high:
            raise BadArgument(f"{option}: {value} is out of range ({low} to {high})")
        values.append(value)
    return _no_duplicates(option, values, str)


def parse_strategies(text: str) -> list[Strategy]:
    items = split_list("--strategy", text)
    if "all" in (i.lower() for i in items) and len(items) > 1:
        raise BadArgument("--strategy: 'all' already names every strategy; give it alone")
    if items[0].lower() == "all":
        # Every strategy a student compares; floor is a benchmark yardstick, named explicitly.
        return [s for s in Strategy if s is not Strategy.FLOOR]
    values = []
    for item in items:
        try:
            values.append(Strategy.parse(item))
        except InputError:
            names = ", ".join(s.label for s in Strategy)
            raise BadArgument(
                f"--strategy: unknown strategy '{item[:40]}': choose from {names} or all"
            ) from None
    return _no_duplicates("--strategy", values, lambda s: s.label)


def parse_locks(text: str) -> list[LockKind]:
    values = []
    for item in split_list("--lock", text):
        try:
            values.append(LockKind.parse(item))
        except InputError:
            names = ", ".join(k.label for k in LockKind)
            raise BadArgument(
                f"--lock: unknown lock kind '{item[:40]}': choose from {names}"
            ) from None
    return _no_duplicates("--lock", values, lambda k: k.label)


def parse_repeat(text: str) -> int:
    item = text.strip()
    if not item.isascii() or not item.lstrip("-").isdigit() or len(item) > 12:
        raise BadArgument(f"--repeat: '{item[:40]}' is not a whole number")
    value = int(item)
    if not 1 <= value <= 1000:
        raise BadArgument(f"--repeat must be from 1 to 1000 (got {value})")
    return value


def output_problem(option: str, path: str, inputs: Sequence[str]) -> str | None:
    """Why ``path`` cannot be written (checked before anything runs), or None."""
    if not path or "\0" in path:
        return f"{option}: the path is empty or holds a NUL byte"
    shown = os.fsencode(path).decode("utf-8", "backslashreplace")[:200]
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.lexists(path) and not os.path.isfile(path):
        return f"{option}: cannot write '{shown}': it is not a regular file"
    if not os.path.isdir(folder):
        return f"{option}: cannot write '{shown}': its folder does not exist"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"{option}: cannot write '{shown}': Permission denied"
    for source in inputs:
        if os.path.exists(source) and os.path.exists(path) and os.path.samefile(path, source):
            return f"{option}: '{shown}' would overwrite the input"
    return None


# -- the report ---------------------------------------------------------------------


def _locks_cell(summary: PointSummary) -> str:
    if not summary.point.config.strategy.uses_arena:
        return "n/a"
    if summary.lock_acquisitions is not None:
        return f"{summary.lock_acquisitions:,}"
    seen = summary.locks_seen
    return f"{seen[0]:,}-{seen[-1]:,}" if seen else "-"


def _param_cell(summary: PointSummary, name: str) -> str:
    point = summary.point
    if name == "input":
        return point.input.label
    value = getattr(point.config, name)
    if name in ("pool_size", "heap_size"):
        return format_size(value)
    return getattr(value, "label", str(value))


_HEADINGS = {
    "input": "input",
    "strategy": "strategy",
    "lock": "lock",
    "workers": "workers",
    "batch_size": "batch",
    "heap_size": "heap",
    "pool_size": "pool",
}


def table(result: SweepResult) -> str:
    """The points as a text table: parameters, median/min/max s, locks, speedup."""
    summaries = result.summaries()
    params = list(result.plan.swept) or ["strategy"]
    speedup = any(s.speedup is not None for s in summaries)
    head = ["#", *(_HEADINGS[p] for p in params), "runs", "median s", "min s", "max s", "locks"]
    if speedup:
        head.append("speedup")
    body = []
    for s in summaries:
        line = [str(s.point.index), *(_param_cell(s, p) for p in params), str(s.runs)]
        line += [f"{s.median_s:.4f}", f"{s.min_s:.4f}", f"{s.max_s:.4f}", _locks_cell(s)]
        if speedup:
            line.append("" if s.speedup is None else f"{s.speedup:.2f}x")
        body.append(line)
    widths = [max(len(r[i]) for r in [head, *body]) for i in range(len(head))]
    numeric_from = 1 + len(params)

    def fmt(cells: list[str]) -> str:
        out = []
        for i, cell in enumerate(cells):
            right = i == 0 or i >= numeric_from
            out.append(cell.rjust(widths[i]) if right else cell.ljust(widths[i]))
        return "  ".join(out).rstrip()

    return "\n".join([fmt(head), *(fmt(line) for line in body)])


def report(result: SweepResult) -> str:
    plan = result.plan
    inputs = "; ".join(
        f"{i.label} ({i.size:,} bytes, reference signature "
        f"{result.references.get(i.label, 'not computed')})"
        for i in plan.inputs
    )
    lines = [
        f"Sweep of {inputs}",
        f"{len(plan.points)} point{'s' * (len(plan.points) != 1)} x {plan.repeat} "
        f"repeat{'s' * (plan.repeat != 1)} = {plan.total_runs} run{'s' * (plan.total_runs != 1)}"
        f"{', interleaved' if plan.repeat > 1 and len(plan.points) > 1 else ''}; "
        f"{len(result.rows)} done",
    ]
    for strategy, why in plan.skipped:
        lines.append(f"Skipped {strategy.label}: {why}")
    if result.rows:
        lines += ["", table(result), ""]
        wrong = [r for r in result.rows if not r.signature_ok]
        if not wrong:
            lines.append(
                f"Every run's signature equals its input's single-threaded reference "
                f"({len(result.rows)} run{'s' * (len(result.rows) != 1)})."
            )
    lines += result.machine.lines()
    return "\n".join(lines)


# -- running with Ctrl+C ----------------------------------------------------------------


def _execute_interruptibly(sweep: Sweep) -> tuple[SweepResult, int | None]:
    """Runs the sweep on a helper thread; SIGINT/SIGTERM cancel it and wait for it.

    As in engine/cli.py, a signal handler cancels (never KeyboardInterrupt in
    a join), and the main thread only waits on an Event the helper sets.
    """
    outcome: dict = {}
    done = threading.Event()
    received: list[int] = []

    def target():
        try:
            outcome["result"] = sweep.execute()
        except BaseException as exc:  # noqa: BLE001 - re-raised on the main thread
            outcome["error"] = exc
        finally:
            done.set()

    def on_signal(signum, _frame):
        received.append(signum)
        sweep.cancel()

    previous = {}
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.signal(signum, on_signal)
    try:
        threading.Thread(target=target, name="engine-sweep", daemon=True).start()
        while not done.wait(0.2):
            pass
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"], (received[0] if received else None)


def _progress(stream) -> Callable[[int, int, SweepRow], None] | None:
    """A one-line progress display on a terminal; nothing when stderr is a file."""
    if not stream.isatty():
        return None

    def show(done: int, total: int, row: SweepRow) -> None:
        text = f"[{done}/{total}] {row.point.label}: {row.wall_s:.4f} s"
        stream.write("\r" + text[:100].ljust(100))
        if done == total:
            stream.write("\r" + " " * 100 + "\r")
        stream.flush()

    return show


def _exit_code(result: SweepResult) -> int:
    exc = result.exception
    if isinstance(exc, InputError):
        return EXIT_BAD_INPUT
    if isinstance(exc, HeapExhausted):
        return EXIT_HEAP_EXHAUSTED
    if isinstance(exc, InvalidFree):
        return EXIT_INVALID_FREE
    return EXIT_ENGINE


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(argv)
    except KeyboardInterrupt:  # Ctrl+C before or after the sweep: nothing to cancel
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_OK


def _plan(args: argparse.Namespace):
    """The plan from the command line, or BadArgument / SweepError (one line)."""
    if args.file is not None and args.input_size is not None:
        raise BadArgument("give FILE or --input-size, not both")
    if args.file is None and args.input_size is None:
        raise BadArgument("give an input: FILE, or --input-size LIST for generated inputs")
    axes: dict[str, list] = {"strategy": parse_strategies(args.strategy)}
    if args.pool_size is not None:
        axes["pool_size"] = parse_sizes("--pool-size", args.pool_size, "pool_size")
    if args.heap_size is not None:
        axes["heap_size"] = parse_sizes("--heap-size", args.heap_size, "heap_size")
    if args.batch is not None:
        axes["batch_size"] = parse_counts("--batch", args.batch, "batch_size")
    if args.workers is not None:
        axes["workers"] = parse_counts("--workers", args.workers, "workers")
    if args.lock is not None:
        axes["lock"] = parse_locks(args.lock)
    repeat = parse_repeat(args.repeat)
    (block_size,) = parse_sizes("--block-size", args.block_size, "block_size")
    base = RunConfig(block_size=block_size, telemetry=not args.no_telemetry)
    for option, path in (("--csv", args.csv), ("--plot", args.plot)):
        if path is not None:
            problem = output_problem(option, path, [args.file] if args.file else [])
            if problem:
                raise BadArgument(problem)
    if (
        args.csv is not None
        and args.plot is not None
        and (os.path.abspath(args.csv) == os.path.abspath(args.plot))
    ):
        raise BadArgument("--csv and --plot name the same file")
    if args.plot is not None:
        if not args.plot.lower().endswith(".png"):
            raise BadArgument(f"--plot writes PNG: give a name ending in .png (got '{args.plot}')")
        from engine.sweep_plot import PlotUnavailable, require_matplotlib

        try:
            require_matplotlib()
        except PlotUnavailable as exc:
            raise BadArgument(str(exc)) from None
    inputs: list[SweepInput]
    if args.file is not None:
        inputs = [file_input(args.file)]
    else:
        sizes = parse_sizes("--input-size", args.input_size, None)
        inputs = [generated_input(size, args.input_folder) for size in sizes]
    return plan_sweep(inputs, axes, base, repeat)


def _main(argv: list[str] | None) -> int:
    args = build_parser().parse_args(argv)
    try:
        plan = _plan(args)
    except (BadArgument, SweepError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    sweep = Sweep(plan, on_progress=_progress(sys.stderr))
    result, signum = _execute_interruptibly(sweep)
    if result.rows or signum is not None or result.error is None:
        print(report(result))  # not for an input that could not even be read
    status = EXIT_OK
    if signum is not None:
        print(
            f"interrupted ({signal.Signals(signum).name}): sweep cancelled after "
            f"{len(result.rows)} of {plan.total_runs} runs",
            file=sys.stderr,
        )
        status = EXIT_INTERRUPTED if signum == signal.SIGINT else 128 + signum
    elif result.error is not None:
        print(f"error: {result.error}", file=sys.stderr)
        status = _exit_code(result)
    if args.csv is not None:
        try:
            size = write_csv(result.rows, args.csv)
            print(f"CSV: {args.csv} ({len(result.rows)} rows, {size:,} bytes)")
        except OSError as exc:
            print(f"error: cannot write the CSV: {exc.strerror or exc}", file=sys.stderr)
            status = status or EXIT_WRITE_FAILED
    if args.plot is not None and result.rows:
        from engine.sweep_plot import write_png

        try:
            size = write_png(result, args.plot)
            print(f"Plot: {args.plot} ({size:,} bytes)")
        except OSError as exc:
            print(f"error: cannot write the plot: {exc.strerror or exc}", file=sys.stderr)
            status = status or EXIT_WRITE_FAILED
    return status
