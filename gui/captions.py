"""One plain sentence per view, derived from the telemetry (no Qt here).

The sentences are computed from what the engine reports -- thread states,
counter changes between two frames and, when the caller has it, the time
breakdown per slot -- never scripted, so they are true for live runs and for
replays alike.  They tell the measured cause of a slow baseline: the lock is
busy most of the time while its holder walks a long free list (every ufree
walks it; umalloc much less), and many workers are mid-block at once.
Nothing is said that the engine does not measure: no share of the lock time
is attributed to walking, only the walk lengths and the lock's busy time.

Every strategy gets one sentence on its mechanism, with the engine's own
counters where it has them (slab refills; cache refills, flushes and failed
trylocks); malloc and the production allocators keep their locks and memory
to themselves, so their captions say "not observable", never 0.  A lock kind
or worker mode other than the default is named.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from engine import TIME_STATES, LockKind, RunPhase, SlotState, Strategy
from gui.slow_motion import speed_text

_IN_ALLOCATOR = TIME_STATES.index("in_allocator")
_LOCK_WAIT = TIME_STATES.index("lock_wait")


@dataclasses.dataclass(frozen=True)
class Frame:
    """What a caption needs to know about one moment of a run."""

    strategy: Strategy
    phase: RunPhase
    elapsed_s: float
    counters: dict[str, int]
    slot_states: np.ndarray | None = None  # SlotState per worker slot; None in replays
    #: Nanoseconds per slot (rows: worker slots, then the coordinator) and state
    #: (columns: engine.TIME_STATES), summed since the run started: what
    #: ``Run.time_breakdown()`` returns, ``RunResult.slot_times_ns``, or
    #: ``Timeline.cumulative_at([t])[0] * 1e9`` in a replay.  None: not known,
    #: and the captions leave out what needs it.
    slot_times_ns: np.ndarray | None = None
    lock: LockKind = LockKind.MUTEX  # the run's lock kind
    workers: int = 0  # 0: a thread per block in batches; N: N long-lived workers
    #: The run's speed now (1.0: full speed; 0.01: slowed to 1/100): rates per
    #: second are then the slowed run's, and the captions say so.
    speed: float = 1.0


def _slowed_note(now: Frame) -> str:
    """' at 1/100 speed' while a run is slowed, '' at full speed."""
    return f" at {speed_text(now.speed)} speed" if now.speed < 1.0 else ""


@dataclasses.dataclass(frozen=True)
class LockTime:
    """How the one lock's time was spent so far, from the time breakdown."""

    busy: float  # in_allocator summed over slots / wall: the share of time the lock was held
    waiting: float  # lock_wait summed over slots / wall: threads waiting, on average


def lock_time(frame: Frame) -> LockTime | None:
    """The lock's busy share and the average number of waiting threads, or None
    when the frame carries no time breakdown."""
    times = frame.slot_times_ns
    if times is None or frame.elapsed_s <= 0:
        return None
    table = np.asarray(times, dtype=np.float64)
    if table.ndim != 2 or table.shape[1] != len(TIME_STATES):
        return None
    wall_ns = frame.elapsed_s * 1e9
    return LockTime(
        busy=float(table[:, _IN_ALLOCATOR].sum()) / wall_ns,
        waiting=float(table[:, _LOCK_WAIT].sum()) / wall_ns,
    )


VIEWS = ("heap", "locks", "throughput", "free_list")


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"


def _percent(fraction: float) -> str:
    """97%, 4.2%, 0.3%, under 0.1%: whole percents unless that would say 0."""
    pct = min(fraction, 1.0) * 100  # one lock: above 100% is only clock rounding
    if pct >= 9.95:
        return f"{pct:.0f}%"
    if pct >= 0.05:
        return f"{pct:.1f}%"
    return "under 0.1%"


def _count(x: float) -> str:
    """An average as a lecture hall reads it: 1,037 or 13 or 7.7."""
    return f"{x:,.0f}" if x >= 9.95 else f"{x:,.1f}"


def _ratio(c: dict[str, int], top: str, bottom: str) -> float:
    return c.get(top, 0) / c[bottom] if c.get(bottom) else 0.0


def mid_block(c: dict[str, int]) -> float:
    """Workers mid-block at an average lock acquisition (the pile-up)."""
    return _ratio(c, "mid_block_at_acquisitions", "lock_acquisitions")


def _waiting(frame: Frame) -> int:
    if frame.slot_states is None:
        return 0
    return int(np.count_nonzero(frame.slot_states == SlotState.WAITING))


def _delta(now: Frame, before: Frame | None, name: str) -> tuple[int, float]:
    """Change of a counter since ``before`` and the time it took."""
    if before is None or now.elapsed_s <= before.elapsed_s:
        return now.counters.get(name, 0), max(now.elapsed_s, 1e-9)
    return now.counters.get(name, 0) - before.counters.get(
        name, 0
    ), now.elapsed_s - before.elapsed_s


#: What a lock kind other than the mutex does to a waiting thread.
_LOCK_NOTE = {
    LockKind.SPIN: "spin: waiters keep their core",
    LockKind.ADAPTIVE: "adaptive: waiters spin, then sleep",
}


def mode_note(frame: Frame) -> str:
    """The lock kind and worker mode when not the default ('' when they are)."""
    parts = []
    if frame.strategy.uses_arena and frame.strategy is not Strategy.SINGLE:
        note = _LOCK_NOTE.get(frame.lock)
        if note:
            parts.append(note)
    if frame.workers > 0 and frame.strategy is not Strategy.SINGLE:
        parts.append(_plural(frame.workers, "worker"))
    return "; ".join(parts)


def _per_block(c: dict[str, int], name: str) -> str:
    blocks = c.get("blocks_done", 0)
    return _count(c.get(name, 0) / blocks) if blocks else "0"


# Each sentence stays near 70 characters: two lines of a 720p presentation's captions.
def _sizeclass_caption(now: Frame, waiting: int, active: int) -> str:
    c = now.counters
    refills = _plural(c.get("slab_refills", 0), "slab refill")
    if now.phase is RunPhase.FINISHED:
        return (
            f"Done: {c['lock_acquisitions']:,} lock acquisitions over 9 size-class locks; {refills}"
        )
    if waiting:
        return f"A lock per size class: {waiting} of {active} threads wait; {refills} so far"
    return f"A lock and a free list per size class; {refills} so far"


def _batched_caption(now: Frame) -> str:
    c = now.counters
    fails = _plural(c.get("trylock_fails", 0), "failed trylock")
    if now.phase is RunPhase.FINISHED:
        return (
            f"Done: per block, {_per_block(c, 'cache_refills')} cache refills and "
            f"{_per_block(c, 'cache_flushes')} flushes; {fails}"
        )
    return f"Per-thread caches: one lock per refill or flush; {fails}"


def _allocator_caption(now: Frame) -> str:
    name = now.strategy.label
    if now.phase is RunPhase.FINISHED:
        return f"Done: {name}'s per-thread caches served it all; locks not observable"
    return f"{name}: a production allocator's per-thread caches; locks not observable"


def _with_mode(text: str, now: Frame) -> str:
    note = mode_note(now)
    return f"{text} ({note})" if note else text


def heap_caption(now: Frame, before: Frame | None = None) -> str:
    text = _heap_caption(now, before)
    if now.phase in (RunPhase.RUNNING, RunPhase.FINISHED) and not text.startswith("Paused"):
        return _with_mode(text, now)
    return text


def _heap_caption(now: Frame, before: Frame | None = None) -> str:
    c = now.counters
    if now.phase is RunPhase.READY:
        return "Ready: press B for the baseline or P for per-thread pools"
    if now.phase is RunPhase.FAILED:
        return "The run stopped with an error: see the message"
    if now.phase is RunPhase.CANCELLED:
        return f"Stopped after {_plural(c['blocks_done'], 'block')}"
    if now.phase is RunPhase.FINISHED:
        if not now.strategy.uses_arena:
            return _allocator_caption(now)
        if now.strategy is Strategy.SIZECLASS:
            return _sizeclass_caption(now, 0, 0)
        if now.strategy is Strategy.BATCHED:
            return _batched_caption(now)
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
    if not now.strategy.uses_arena:
        return _allocator_caption(now)
    if now.strategy is Strategy.SIZECLASS:
        return _sizeclass_caption(now, waiting, active)
    if now.strategy is Strategy.BATCHED:
        return _batched_caption(now)
    if now.strategy is Strategy.POOLED:
        pool, _ = _delta(now, before, "pool_allocs")
        shared, _ = _delta(now, before, "global_allocs")
        if waiting and shared > pool:
            return f"Pools are full: {waiting} of {active} threads queue for the shared heap lock"
        return "Each thread allocates from its own pool: no lock taken"
    if waiting:
        text = f"{waiting} of {active} threads are waiting for the one heap lock"
        pile = mid_block(c)
        if pile >= 2:  # two or more trees in progress: their chunks interleave
            text += f"; {_count(pile)} unfinished trees interleave in the heap"
        return text
    if holding:
        return "One thread holds the heap lock; the others must wait their turn"
    return f"{_plural(active, 'thread')} computing their Huffman trees"


def locks_caption(now: Frame, before: Frame | None = None) -> str:
    if not now.strategy.uses_arena:
        return f"Locks: not observable ({now.strategy.label}'s locks are its own; not 0)"
    locks, dt = _delta(now, before, "lock_acquisitions")
    total = now.counters["lock_acquisitions"]
    lock = lock_time(now) if total else None
    if now.phase is RunPhase.RUNNING:
        text = (
            f"{locks / dt:,.0f} lock acquisitions per second{_slowed_note(now)} ({total:,} so far)"
        )
        if lock is not None:
            text = f"The lock is busy {_percent(lock.busy)} of the time: {text}"
        return text
    blocks = now.counters["blocks_done"]
    per_block = total / blocks if blocks else 0
    text = f"{total:,} lock acquisitions: {per_block:,.1f} per block"
    if lock is not None:
        text += f"; the lock was busy {_percent(lock.busy)} of the run"
    return text


def throughput_caption(now: Frame, before: Frame | None = None) -> str:
    done, dt = _delta(now, before, "bytes_done")
    if now.phase is RunPhase.RUNNING:
        return f"Hashing {done / dt / 1e6:,.2f} MB/s right now{_slowed_note(now)}"
    total = now.counters["bytes_done"]
    rate = total / now.elapsed_s / 1e6 if now.elapsed_s > 0 else 0.0
    return f"{total / 1e6:,.2f} MB hashed at {rate:,.2f} MB/s on average"


def free_list_caption(now: Frame, before: Frame | None = None) -> str:
    """The walks under the lock: every ufree walks the list (the long walk),
    umalloc stops at the first fit; pooled runs bump a pointer instead."""
    c = now.counters
    if not now.strategy.uses_arena:
        return f"No free list to show: {now.strategy.label} keeps its memory to itself"
    length = c["free_list_length"]
    running = now.phase is RunPhase.RUNNING
    if running:
        text = f"The free list has {_plural(length, 'chunk')}"
    else:
        text = f"The free list has {_plural(length, 'chunk')} left"
        if c.get("free_list_longest", 0) > length:
            text += f" ({c['free_list_longest']:,} at most)"
    frees = c.get("global_frees", 0)
    pooled = c.get("pool_allocs", 0)
    if now.strategy is Strategy.POOLED and pooled >= c.get("global_allocs", 0):
        text += f"; the pools served {_plural(pooled, 'allocation')} with a pointer bump, no walk"
    elif frees:
        verb = "walks" if running else "walked"
        per_free = _ratio(c, "free_list_visits_free", "global_frees")
        per_alloc = _ratio(c, "free_list_visits_alloc", "global_allocs")
        locked = "" if now.strategy is Strategy.SINGLE else " under the lock"
        text += (
            f"; each free {verb} {_count(per_free)} of them{locked} "
            f"(each umalloc {_count(per_alloc)})"
        )
        waiting = _waiting(now)
        lock = lock_time(now)
        if running and waiting:
            text += f" while {_plural(waiting, 'thread')} {'waits' if waiting == 1 else 'wait'}"
        elif not running and lock is not None and lock.waiting >= 0.05:
            text += f" while {_count(lock.waiting)} threads waited on average"
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
