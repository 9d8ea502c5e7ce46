"""One plain sentence per view, derived from the telemetry (no Qt here).

The sentences are computed from what the engine reports -- thread states and
counter changes between two frames -- never scripted, so they are true for
live runs and for replays alike.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from engine import RunPhase, SlotState, Strategy


@dataclasses.dataclass(frozen=True)
class Frame:
    """What a caption needs to know about one moment of a run."""

    strategy: Strategy
    phase: RunPhase
    elapsed_s: float
    counters: dict[str, int]
    slot_states: np.ndarray | None = None  # SlotState per worker slot; None in replays


VIEWS = ("heap", "locks", "throughput", "free_list")


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"


def _delta(now: Frame, before: Frame | None, name: str) -> tuple[int, float]:
    """Change of a counter since ``before`` and the time it took."""
    if before is None or now.elapsed_s <= before.elapsed_s:
        return now.counters.get(name, 0), max(now.elapsed_s, 1e-9)
    return now.counters.get(name, 0) - before.counters.get(
        name, 0
    ), now.elapsed_s - before.elapsed_s


def heap_caption(now: Frame, before: Frame | None = None) -> str:
    c = now.counters
    if now.phase is RunPhase.READY:
        return "Ready: press B for the baseline or P for per-thread pools"
    if now.phase is RunPhase.FAILED:
        return "The run stopped with an error: see the message"
    if now.phase is RunPhase.CANCELLED:
        return f"Stopped after {_plural(c['blocks_done'], 'block')}"
    if now.phase is RunPhase.FINISHED:
        if now.strategy is Strategy.POOLED:
            return (
                f"Done: the pools served {c['pool_allocs']:,} allocations without a lock; "
                f"only {c['lock_acquisitions']:,} lock acquisitions in all"
            )
        if now.strategy is Strategy.SINGLE:
            return "Done: one thread built every tree alone, with no lock at all"
        return (
            f"Done: all {c['lock_acquisitions']:,} allocations and frees took turns at "
            "the one heap lock"
        )

    states = now.slot_states if now.slot_states is not None else np.zeros(0, np.uint8)
    paused = int(np.count_nonzero(states == SlotState.PAUSED))
    waiting = int(np.count_nonzero(states == SlotState.WAITING))
    holding = int(np.count_nonzero(states == SlotState.HOLDING))
    active = int(np.count_nonzero(states != SlotState.IDLE))
    if paused:
        pronoun = "it" if paused == 1 else "they"
        return f"Paused: {_plural(paused, 'thread')} parked where {pronoun} stood"
    if now.strategy is Strategy.SINGLE:
        return "One thread builds every tree alone: no lock to wait for"
    if now.strategy is Strategy.POOLED:
        pool, _ = _delta(now, before, "pool_allocs")
        shared, _ = _delta(now, before, "global_allocs")
        if waiting and shared > pool:
            return f"Pools are full: {waiting} of {active} threads queue for the shared heap lock"
        return "Each thread allocates from its own pool: no lock taken"
    if waiting:
        return f"{waiting} of {active} threads are waiting for the one heap lock"
    if holding:
        return "One thread holds the heap lock; the others must wait their turn"
    return f"{_plural(active, 'thread')} computing their Huffman trees"


def locks_caption(now: Frame, before: Frame | None = None) -> str:
    locks, dt = _delta(now, before, "lock_acquisitions")
    total = now.counters["lock_acquisitions"]
    if now.phase is RunPhase.RUNNING:
        return f"{locks / dt:,.0f} lock acquisitions per second ({total:,} so far)"
    blocks = now.counters["blocks_done"]
    per_block = total / blocks if blocks else 0
    return f"{total:,} lock acquisitions: {per_block:,.1f} per block"


def throughput_caption(now: Frame, before: Frame | None = None) -> str:
    done, dt = _delta(now, before, "bytes_done")
    if now.phase is RunPhase.RUNNING:
        return f"Hashing {done / dt / 1e6:,.2f} MB/s right now"
    total = now.counters["bytes_done"]
    rate = total / now.elapsed_s / 1e6 if now.elapsed_s > 0 else 0.0
    return f"{total / 1e6:,.2f} MB hashed at {rate:,.2f} MB/s on average"


def free_list_caption(now: Frame, before: Frame | None = None) -> str:
    c = now.counters
    length = c["free_list_length"]
    allocs = c["global_allocs"]
    walked = c["free_list_visits_alloc"] / allocs if allocs else 0.0
    text = (
        f"The free list has {_plural(length, 'chunk')}; each umalloc walked "
        f"{walked:,.1f} of them on average"
    )
    if c.get("sliver_bytes"):
        text += f"; {c['sliver_bytes']:,} bytes lost to slivers"
    return text


def captions(now: Frame, before: Frame | None = None) -> dict[str, str]:
    """A sentence for each of :data:`VIEWS`."""
    return {
        "heap": heap_caption(now, before),
        "locks": locks_caption(now, before),
        "throughput": throughput_caption(now, before),
        "free_list": free_list_caption(now, before),
    }
