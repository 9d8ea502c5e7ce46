"""What the app calls each strategy, lock kind and worker mode (no Qt here).

One place for the words, so the picker, its keys, the settings panel, the
captions and the results table all say the same thing.
"""

from __future__ import annotations

import functools

from engine import USER_STRATEGIES, LockKind, Strategy

#: One line per strategy: what it is, for the picker and its tooltips.
SUMMARY = {
    Strategy.SINGLE: "one thread, no locks: the reference",
    Strategy.BASELINE: "one global lock around every allocation",
    Strategy.POOLED: "A: per-thread pools, no lock",
    Strategy.SIZECLASS: "B: a lock per size class",
    Strategy.BATCHED: "C: per-thread caches, trylock batches",
    Strategy.MALLOC: "the C library's malloc",
    Strategy.MIMALLOC: "production allocator",
    Strategy.JEMALLOC: "production allocator",
    Strategy.TCMALLOC: "production allocator",
    Strategy.FLOOR: "benchmark only: no allocator at all",
}

#: The size classes of sizeclass and batched, in bytes (engine/csrc/strategy_sizeclass.c
#: and strategy_batched.c: a SLAB cell's owner is an index into this).
SIZE_CLASSES = (16, 32, 48, 64, 128, 256, 512, 1024, 2048)

LOCK_TEXT = {
    LockKind.MUTEX: "mutex: a waiting thread sleeps",
    LockKind.SPIN: "spin: a waiting thread keeps its core",
    LockKind.ADAPTIVE: "adaptive: spins a little, then sleeps",
}

#: Worker counts the W key steps through (0 = a thread per block, in batches).
WORKER_STEPS = (0, 2, 4)


def picker_text(strategy: Strategy) -> str:
    """'sizeclass — B: a lock per size class'."""
    return f"{strategy.label} — {SUMMARY[strategy]}"


def workers_text(workers: int) -> str:
    """'thread per block' or '2 workers'."""
    if workers <= 0:
        return "thread per block"
    return "1 long-lived worker" if workers == 1 else f"{workers} long-lived workers"


def mode_text(lock: LockKind, workers: int) -> str:
    """The lock kind and worker mode in a few words: 'spin lock, 2 workers'."""
    who = "thread per block" if workers <= 0 else f"{workers} worker" + "s" * (workers != 1)
    return f"{lock.label} lock, {who}"


def mode_changes(lock: LockKind, workers: int) -> list[str]:
    """What differs from the default mode, one short item each: ['spin lock', '2 workers']."""
    items = [] if lock is LockKind.MUTEX else [f"{lock.label} lock"]
    if workers > 0:
        items.append(f"{workers} worker" + "s" * (workers != 1))
    return items


def is_default_mode(lock: LockKind, workers: int) -> bool:
    return lock is LockKind.MUTEX and workers == 0


def next_lock(lock: LockKind) -> LockKind:
    kinds = list(LockKind)
    return kinds[(kinds.index(lock) + 1) % len(kinds)]


def next_workers(workers: int) -> int:
    """The W key's next worker mode (past the last step: back to a thread per block)."""
    later = [w for w in WORKER_STEPS if w > workers]
    return later[0] if later else 0


def key_strategies() -> tuple[Strategy, ...]:
    """The strategies Ctrl+1 .. Ctrl+9 run, in order."""
    return USER_STRATEGIES[:9]


@functools.cache
def unavailable_reason(strategy: Strategy) -> str | None:
    """Why ``strategy`` cannot run in this process (None: it can); asked once, as
    the answer cannot change while the process lives (libraries load at start)."""
    return strategy.unavailable_reason()


def lock_text(locks: int | None) -> str:
    """A run's lock count in a sentence: "64,620 lock acquisitions", or why there
    is none for malloc and the production allocators (their locks are their own;
    never print 0 for them)."""
    if locks is None:
        return "lock acquisitions not observable"
    return f"{locks:,} lock acquisitions"
