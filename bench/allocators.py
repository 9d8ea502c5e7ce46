#!/usr/bin/env python3
"""Beat the allocators on this workload (issue 11; not part of the test suite).

Two long-lived workers, the same allocation pattern, telemetry off, measured
in one process and interleaved (A B C ... then the reverse, round after round)
so drift hits every variant alike. Prints the median blocks/s of each and its
ratio to the floor (the same workers with no allocator cost at all):

    .venv/bin/python bench/allocators.py [--reps 9] [--size 1M,5M] [--workers 2]

jemalloc needs static TLS that glibc sets aside only at process start: the
script restarts itself with it (engine.config.restart_with_static_tls).
"""

from __future__ import annotations

import argparse
import os
import pathlib
import random
import statistics
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.config import restart_with_static_tls  # noqa: E402

restart_with_static_tls()

import engine  # noqa: E402
from engine import RunConfig, Strategy  # noqa: E402

SEED = 20260101
VARIANTS = (
    Strategy.FLOOR,
    Strategy.POOLED,
    Strategy.MALLOC,
    Strategy.MIMALLOC,
    Strategy.JEMALLOC,
    Strategy.TCMALLOC,
)
#: Issue 11's target: pooled at least this share of the floor, and ahead of every allocator.
POOLED_TARGET = 0.95


def blocks_per_s(path: pathlib.Path, strategy: Strategy, workers: int) -> tuple[float, int]:
    result = engine.run(path, RunConfig(strategy=strategy, workers=workers, telemetry=False))
    return result.blocks / result.wall_s, result.signature


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=9)
    ap.add_argument("--size", default="1M,5M", help="input sizes (comma list)")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args(argv)
    available = [s for s in VARIANTS if s.unavailable_reason() is None]
    for s in VARIANTS:
        if s not in available:
            print(f"skipped {s.label}: {s.unavailable_reason()}", file=sys.stderr)
    print(
        f"## Allocators, {args.workers} long-lived workers ({os.cpu_count()} cores; "
        f"medians of {args.reps} interleaved runs, telemetry off)\n"
    )
    print("| input | " + " | ".join(s.label for s in available) + " |")
    print("|---|" + "---|" * len(available))
    with tempfile.TemporaryDirectory(prefix="heapscope-alloc-") as tmp:
        rng = random.Random(SEED)
        for label in args.size.split(","):
            size = engine.parse_size(label)
            path = pathlib.Path(tmp) / f"random_{label}.bin"
            path.write_bytes(rng.randbytes(size))
            rates: dict[Strategy, list[float]] = {s: [] for s in available}
            signatures = set()
            for strategy in available:  # warm-up, not counted
                blocks_per_s(path, strategy, args.workers)
            for r in range(args.reps):
                order = available if r % 2 == 0 else list(reversed(available))
                for strategy in order:
                    rate, signature = blocks_per_s(path, strategy, args.workers)
                    rates[strategy].append(rate)
                    signatures.add(signature)
            assert len(signatures) == 1, f"signatures differ on {label}: {signatures}"
            medians = {s: statistics.median(v) for s, v in rates.items()}
            floor = medians[Strategy.FLOOR]
            cells = [f"{medians[s]:,.0f}/s ({medians[s] / floor:.2f})" for s in available]
            print(f"| {label} | " + " | ".join(cells) + " |")
            pooled = medians[Strategy.POOLED]
            best_other = max(
                (v for s, v in medians.items() if s not in (Strategy.FLOOR, Strategy.POOLED)),
                default=0.0,
            )
            print(
                f"\n{label}: pooled / floor {pooled / floor:.3f} (target >= {POOLED_TARGET}); "
                f"pooled / best allocator {pooled / best_other:.3f}\n"
                if best_other
                else ""
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
