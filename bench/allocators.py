#!/usr/bin/env python3
"""Beat the allocators on this workload (issue 11; not part of the test suite).

Two long-lived workers, the same allocation pattern, telemetry off, measured
in one process and interleaved (A B C ... then the reverse, round after round)
so drift hits every variant alike. Prints the median blocks/s of each and its
ratio to the floor (the same workers with no allocator cost at all):

    .venv/bin/python bench/allocators.py [--reps 9] [--size 1M,5M] [--workers 2]
                                         [--processes 1]

With --processes N, N fresh processes each measure every variant (floor
included) and the table pools their runs: how pooled fares against the
floor varies from one draw of runs to the next (see in_fresh_processes).

jemalloc needs static TLS that glibc sets aside only at process start: the
script restarts itself with it (engine.config.restart_with_static_tls).
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import random
import statistics
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.config import restart_with_static_tls  # noqa: E402

restart_with_static_tls()

from bench_stats import median_ratio_interval  # noqa: E402

import engine  # noqa: E402
from engine import LockKind, RunConfig, Strategy  # noqa: E402

SEED = 20260101
#: (column, strategy, lock kind of the arena's locked paths).  pooled runs
#: twice: with the default mutex, and with glibc's adaptive mutex on its
#: shared fallback, which the coordinator and both workers take four times
#: per block; a sleeping mutex costs it futex round trips there.
VARIANTS = (
    ("floor", Strategy.FLOOR, LockKind.MUTEX),
    ("pooled", Strategy.POOLED, LockKind.MUTEX),
    ("pooled, adaptive lock", Strategy.POOLED, LockKind.ADAPTIVE),
    ("malloc", Strategy.MALLOC, LockKind.MUTEX),
    ("mimalloc", Strategy.MIMALLOC, LockKind.MUTEX),
    ("jemalloc", Strategy.JEMALLOC, LockKind.MUTEX),
    ("tcmalloc", Strategy.TCMALLOC, LockKind.MUTEX),
)
Variant = tuple[str, Strategy, LockKind]
#: Issue 11's target: pooled at least this share of the floor, and ahead of every allocator.
POOLED_TARGET = 0.95


def blocks_per_s(path: pathlib.Path, variant: Variant, workers: int) -> tuple[float, int]:
    _, strategy, lock = variant
    config = RunConfig(strategy=strategy, lock=lock, workers=workers, telemetry=False)
    result = engine.run(path, config)
    return result.blocks / result.wall_s, result.signature


Rates = dict[str, dict[str, list[float]]]  # input label -> variant -> blocks/s per run


def measure(
    files: dict[str, pathlib.Path], available: list[Variant], reps: int, workers: int
) -> tuple[Rates, dict[str, list[int]]]:
    """One process's runs: every variant interleaved, round after round.
    Returns the rates and the signatures seen per input."""
    rates: Rates = {}
    signatures: dict[str, list[int]] = {}
    for label, path in files.items():
        rates[label] = {v[0]: [] for v in available}
        seen = set()
        for variant in available:  # warm-up, not counted
            blocks_per_s(path, variant, workers)
        for r in range(reps):
            order = available if r % 2 == 0 else list(reversed(available))
            for variant in order:
                rate, signature = blocks_per_s(path, variant, workers)
                rates[label][variant[0]].append(rate)
                seen.add(signature)
        signatures[label] = sorted(seen)
    return rates, signatures


def in_fresh_processes(
    args: argparse.Namespace, files: dict[str, pathlib.Path]
) -> tuple[list[Rates], dict[str, set[int]]]:
    """Each process measures every variant, the floor included, on its own.
    One process is one draw: with the same build, ten processes of 41 runs
    each measured pooled at 0.943-1.022 of the floor on 5 MiB.  The spread is
    the runs' own noise, not the process: successive windows of 20 runs
    inside one process swing as much (0.94-1.06), because one 5 MiB run
    takes 59-94 ms depending on how the scheduler places two workers and
    the coordinator on two cores (README, Against the production allocators)."""
    per_process: list[Rates] = []
    signatures: dict[str, set[int]] = {label: set() for label in files}
    for i in range(args.processes):
        cmd = [sys.executable, __file__, "--child", "--reps", str(args.reps)]
        cmd += [
            "--workers",
            str(args.workers),
            "--files",
            json.dumps({k: str(v) for k, v in files.items()}),
        ]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        child = json.loads(out)
        per_process.append(child["rates"])
        for label, sigs in child["signatures"].items():
            signatures[label].update(sigs)
        print(f"process {i + 1} of {args.processes} done", file=sys.stderr, flush=True)
    return per_process, signatures


def report(per_process: list[Rates], available: list[Variant], labels: list[str]) -> None:
    print("| input | " + " | ".join(v[0] for v in available) + " |")
    print("|---|" + "---|" * len(available))
    notes = []
    for label in labels:
        rates = {v[0]: [x for p in per_process for x in p[label][v[0]]] for v in available}
        medians = {name: statistics.median(v) for name, v in rates.items()}
        floor = medians["floor"]
        cells = [f"{medians[v[0]]:,.0f}/s ({medians[v[0]] / floor:.2f})" for v in available]
        print(f"| {label} | " + " | ".join(cells) + " |")
        # The production allocators are the strategies off the arena.
        allocators = [medians[name] for name, s, _ in available if not s.uses_arena]
        best_other = max(allocators, default=0.0)
        for name in (name for name, s, _ in available if s is Strategy.POOLED):
            pooled = medians[name]
            low, high = median_ratio_interval(rates[name], rates["floor"], SEED)
            line = (
                f"{label}: {name} / floor {pooled / floor:.3f} (90% interval "
                f"{low:.3f}-{high:.3f}; target >= {POOLED_TARGET})"
                + (f"; / best allocator {pooled / best_other:.3f}" if best_other else "")
            )
            if len(per_process) > 1:
                each = [
                    statistics.median(p[label][name]) / statistics.median(p[label]["floor"])
                    for p in per_process
                ]
                line += "; each process: " + ", ".join(f"{r:.3f}" for r in each)
            notes.append(line)
    print()
    for line in notes:
        print(line + "\n")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=9, help="runs of each variant per process")
    ap.add_argument("--size", default="1M,5M", help="input sizes (comma list)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument(
        "--processes", type=int, default=1, help="measure in this many fresh processes, pooled"
    )
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--files", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    available = [v for v in VARIANTS if v[1].unavailable_reason() is None]
    if args.child:  # one process's measurement, as JSON for the parent
        files = {k: pathlib.Path(v) for k, v in json.loads(args.files).items()}
        rates, child_signatures = measure(files, available, args.reps, args.workers)
        print(json.dumps({"rates": rates, "signatures": child_signatures}))
        return 0
    for _, strategy, _ in VARIANTS:
        if strategy.unavailable_reason() is not None:
            print(f"skipped {strategy.label}: {strategy.unavailable_reason()}", file=sys.stderr)
    processes = f"{args.processes} fresh processes x " if args.processes > 1 else ""
    print(
        f"## Allocators, {args.workers} long-lived workers ({os.cpu_count()} cores; "
        f"medians of {processes}{args.reps} interleaved runs, telemetry off)\n"
    )
    with tempfile.TemporaryDirectory(prefix="heapscope-alloc-") as tmp:
        rng = random.Random(SEED)
        files = {}
        for label in args.size.split(","):
            files[label] = pathlib.Path(tmp) / f"random_{label}.bin"
            files[label].write_bytes(rng.randbytes(engine.parse_size(label)))
        if args.processes > 1:
            per_process, signatures = in_fresh_processes(args, files)
        else:
            rates, sigs = measure(files, available, args.reps, args.workers)
            per_process, signatures = [rates], {k: set(v) for k, v in sigs.items()}
    for label, seen in signatures.items():
        assert len(seen) == 1, f"signatures differ on {label}: {seen}"
    report(per_process, available, list(files))
    return 0


if __name__ == "__main__":
    sys.exit(main())
