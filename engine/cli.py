"""``python -m engine FILE``: the exercise's output lines, from the engine.

Exit status: 0 done, 1 the trace could not be written, 2 bad input or
parameters (a changed input too), 3 heap exhausted, 4 invalid free, 5 any
other engine failure, 130 interrupted (Ctrl+C), 143 terminated (SIGTERM).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading

from engine.config import LockKind, RunConfig, Strategy, clock_source
from engine.errors import EngineError, HeapExhausted, InputError, InvalidFree, RunCancelled
from engine.run import Run
from engine.trace import write_trace
from engine.units import parse_size

EXIT_OK, EXIT_BAD_INPUT, EXIT_HEAP_EXHAUSTED, EXIT_INVALID_FREE, EXIT_ENGINE = 0, 2, 3, 4, 5
EXIT_INTERRUPTED = 130
EXIT_WRITE_FAILED = 1


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, our exit code for bad input
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message}\n")


def _size(text: str) -> int:
    try:
        return parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m engine",
        description="Run the shared-memory hasher on FILE and print its signature.",
    )
    parser.add_argument("file", metavar="FILE", nargs="?")
    parser.add_argument(
        "--strategy",
        default="baseline",
        choices=[s.label for s in Strategy],
        help="allocator strategy (default: baseline; floor is benchmark-only; "
        "--list-strategies tells which run on this machine)",
    )
    parser.add_argument(
        "--list-strategies",
        action="store_true",
        help="print every strategy, whether it runs on this machine and why not, and exit",
    )
    parser.add_argument(
        "--lock",
        default="mutex",
        choices=[k.label for k in LockKind],
        help="kind of every allocator lock (default: mutex; malloc, mimalloc, jemalloc and "
        "tcmalloc have no arena lock: accepted and ignored)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=0,
        metavar="N",
        help="N long-lived workers instead of a thread per block (default 0: a thread "
        "per block, in batches)",
    )
    parser.add_argument(
        "--heap-size",
        type=_size,
        default="2M",
        metavar="SIZE",
        help="arena size, e.g. 2M (default 2M)",
    )
    parser.add_argument(
        "--pool-size",
        type=_size,
        default="32K",
        metavar="SIZE",
        help="per-thread pool size for pooled, e.g. 32K (default 32K)",
    )
    parser.add_argument(
        "--batch", type=int, default=20, metavar="N", help="threads per batch (default 20)"
    )
    parser.add_argument(
        "--block-size",
        type=_size,
        default="1024",
        metavar="SIZE",
        help="bytes per block (default 1024)",
    )
    parser.add_argument(
        "--no-telemetry", action="store_true", help="skip the heap map and sampler (benchmarks)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--trace",
        metavar="OUT.json",
        help="also write the run's timeline as a Chrome trace (Perfetto, chrome://tracing)",
    )
    return parser


def _trace_path_problem(path: str, input_path: str) -> str | None:
    """Why the trace cannot go to ``path`` (checked before the run), or None."""
    if not path or "\0" in path:
        return "the trace path is empty or holds a NUL byte"
    shown = os.fsencode(path).decode("utf-8", "backslashreplace")[:200]
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.lexists(path) and not os.path.isfile(path):
        return f"cannot write the trace '{shown}': it is not a regular file"
    if not os.path.isdir(folder):
        return f"cannot write the trace '{shown}': its folder does not exist"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"cannot write the trace '{shown}': Permission denied"
    if os.path.exists(input_path) and os.path.exists(path) and os.path.samefile(path, input_path):
        return f"the trace '{shown}' would overwrite the input"
    return None


class Interrupted(Exception):
    """Ctrl+C (SIGINT) or SIGTERM arrived; the run was cancelled and has ended."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _execute_interruptibly(handle: Run):
    """Runs the engine on a helper thread; SIGINT/SIGTERM cancel it and wait for it.

    A signal handler (not KeyboardInterrupt) does the cancelling: an exception
    thrown into ``Thread.join`` can leave CPython believing the thread has
    ended while the engine still runs (3.11 does), so the main thread only
    ever waits on an Event that the helper sets when ``execute`` has returned.
    """
    outcome: dict = {}
    done = threading.Event()
    received: list[int] = []

    def target():
        try:
            outcome["result"] = handle.execute()
        except EngineError as exc:
            outcome["error"] = exc
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            outcome["error"] = EngineError(f"unexpected error: {exc!r}", -1)
        finally:
            done.set()

    def on_signal(signum, _frame):
        received.append(signum)
        handle.cancel()

    previous = {}
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.signal(signum, on_signal)
    try:
        threading.Thread(target=target, name="engine-run", daemon=True).start()
        while not done.wait(0.2):
            pass
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if received:
        raise Interrupted(received[0])
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(argv)
    except KeyboardInterrupt:  # Ctrl+C before or after the run: nothing to cancel
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `... | head`: the reader has gone, so has our audience
        return EXIT_OK


def list_strategies() -> str:
    """One line per strategy: its name, and whether it runs here (and why not)."""
    lines = []
    for strategy in Strategy:
        why = strategy.unavailable_reason()
        state = "available" if why is None else f"unavailable: {why}"
        lines.append(f"{strategy.label:<10} {state}")
    return "\n".join(lines)


def _main(argv: list[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.list_strategies:
        print(list_strategies())
        return EXIT_OK
    if args.file is None:
        parser.error("the following arguments are required: FILE")
    if args.trace is not None:
        problem = (
            "--trace needs the timeline: drop --no-telemetry"
            if args.no_telemetry
            else _trace_path_problem(args.trace, args.file)
        )
        if problem:
            print(f"error: {problem}", file=sys.stderr)
            return EXIT_BAD_INPUT
    try:
        config = RunConfig(
            strategy=Strategy.parse(args.strategy),
            heap_size=args.heap_size,
            pool_size=args.pool_size,
            batch_size=args.batch,
            block_size=args.block_size,
            telemetry=not args.no_telemetry,
            lock=LockKind.parse(args.lock),
            workers=args.workers,
        )
        why = config.strategy.unavailable_reason()
        if why is not None:
            print(
                f"error: the {config.strategy.label} strategy cannot run here: {why}",
                file=sys.stderr,
            )
            return EXIT_BAD_INPUT
        with Run(args.file, config) as handle:
            result = _execute_interruptibly(handle)
    except Interrupted as exc:
        print(f"interrupted ({exc}): run cancelled", file=sys.stderr)
        return EXIT_INTERRUPTED if exc.signum == signal.SIGINT else 128 + exc.signum
    except EngineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        if isinstance(exc, InputError):
            return EXIT_BAD_INPUT
        if isinstance(exc, HeapExhausted):
            return EXIT_HEAP_EXHAUSTED
        if isinstance(exc, InvalidFree):
            return EXIT_INVALID_FREE
        if isinstance(exc, RunCancelled):
            return EXIT_INTERRUPTED
        return EXIT_ENGINE

    if args.json:
        print(
            json.dumps(
                {
                    **result.as_dict(),
                    "lock": config.lock.label,
                    "workers": config.workers,
                    "clock": clock_source(),
                    "time_breakdown_s": result.time_breakdown_s,
                    **result.walk_figures,
                }
            )
        )
    else:
        print(f"Final signature: {result.signature}")
        print(f"Lock acquisitions: {result.lock_acquisitions_text}")
        print(f"Blocks: {result.blocks} ({result.bytes} bytes)")
        print(
            f"Wall time: {result.wall_s:.6f} s ({result.mb_per_s:.2f} MB/s, "
            f"{config.strategy.label}, "
            + (
                f"{config.workers} long-lived worker(s)"
                if config.workers
                else f"{config.threads} thread(s) per batch"
            )
            + (
                f", {config.lock.label} locks)"
                if config.strategy.uses_arena
                else f", {config.strategy.label}'s own locks)"
            )
        )
    if args.trace is not None:
        try:
            size = write_trace(result, args.trace)
        except OSError as exc:
            print(f"error: cannot write the trace: {exc.strerror or exc}", file=sys.stderr)
            return EXIT_WRITE_FAILED
        if not args.json:
            print(f"Trace: {args.trace} ({size:,} bytes)")
    return EXIT_OK
