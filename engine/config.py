"""Run parameters: the Strategy enum, RunConfig and the limits behind them.

The valid ranges live in the C header; the C check is the one validator, and
its message names the valid range.
"""

from __future__ import annotations

import dataclasses
import enum
import operator
import os
import sys
from collections.abc import Mapping
from types import MappingProxyType

from engine._ffi import ffi, lib
from engine.errors import InputError


class Strategy(enum.Enum):
    """How the threads share the heap."""

    SINGLE = lib.ENGINE_STRATEGY_SINGLE
    """One thread, no locks: the reference signature."""
    BASELINE = lib.ENGINE_STRATEGY_BASELINE
    """One global lock around every umalloc and ufree."""
    POOLED = lib.ENGINE_STRATEGY_POOLED
    """Per-thread bump pools, locked global allocator only as a fallback."""
    FLOOR = lib.ENGINE_STRATEGY_FLOOR
    """Benchmark only: the same threads with no allocator cost at all."""
    SIZECLASS = lib.ENGINE_STRATEGY_SIZECLASS
    """Strategy B: size classes, each with its own lock and free list."""
    BATCHED = lib.ENGINE_STRATEGY_BATCHED
    """Strategy C: per-thread caches, refilled and flushed in one lock hold."""
    MALLOC = lib.ENGINE_STRATEGY_MALLOC
    """The C library's malloc/free (no arena, no heap map)."""
    MIMALLOC = lib.ENGINE_STRATEGY_MIMALLOC
    """mimalloc, when installed."""
    JEMALLOC = lib.ENGINE_STRATEGY_JEMALLOC
    """jemalloc, when installed."""
    TCMALLOC = lib.ENGINE_STRATEGY_TCMALLOC
    """tcmalloc (minimal), when installed."""

    @property
    def label(self) -> str:
        return self.name.lower()

    @property
    def uses_arena(self) -> bool:
        """True when it allocates on the arena: a heap map, and counted locks.
        False for malloc and the production allocators: their locks are their
        own, so the lock count is not observable (not 0)."""
        return bool(lib.engine_strategy_uses_arena(self.value))

    def unavailable_reason(self) -> str | None:
        """None when it can run on this machine, else why not (one line)."""
        why = ffi.new("char[]", 256)
        if lib.engine_strategy_available(self.value, why, 256):
            return None
        return ffi.string(why).decode(errors="replace")

    @classmethod
    def parse(cls, text: str | Strategy) -> Strategy:
        if isinstance(text, Strategy):
            return text
        try:
            return cls[str(text).strip().upper()]
        except KeyError:
            names = ", ".join(s.label for s in USER_STRATEGIES)
            raise InputError(
                f"unknown strategy '{text}': choose one of {names}", lib.ENGINE_E_INVALID_ARG
            ) from None


USER_STRATEGIES = (
    Strategy.SINGLE,
    Strategy.BASELINE,
    Strategy.POOLED,
    Strategy.SIZECLASS,
    Strategy.BATCHED,
    Strategy.MALLOC,
    Strategy.MIMALLOC,
    Strategy.JEMALLOC,
    Strategy.TCMALLOC,
)

#: glibc's tunable for the static TLS set aside, when a process starts, for
#: libraries it loads later, and what heapscope asks for: Debian's jemalloc
#: keeps its thread-locals there (2632 bytes; glibc's default spare is about
#: 1.5 KiB), so it loads only into a process started with more.
STATIC_TLS_TUNABLE = "glibc.rtld.optional_static_tls"
STATIC_TLS_BYTES = 8192


def clock_source() -> str:
    """The clock the telemetry reads: "tsc" (x86-64 where the kernel keeps
    CLOCK_MONOTONIC on the TSC; calibrated once per process) or
    "clock_gettime".  HEAPSCOPE_CLOCK=monotonic in the environment forces
    the second; engine/csrc/util.c says why the first."""
    return ffi.string(lib.engine_clock_source()).decode()


def static_tls_environment(environ: Mapping[str, str]) -> dict[str, str] | None:
    """``environ`` plus the static TLS every production allocator needs to load
    (GLIBC_TUNABLES), or None when it already has it or it would change nothing
    (not glibc).  A tunable the user set is kept as it is."""
    try:
        libc = os.confstr("CS_GNU_LIBC_VERSION") or ""
    except (ValueError, OSError):
        libc = ""
    if not libc.startswith("glibc"):
        return None
    tunables = environ.get("GLIBC_TUNABLES", "")
    if f"{STATIC_TLS_TUNABLE}=" in tunables:
        return None
    wanted = f"{STATIC_TLS_TUNABLE}={STATIC_TLS_BYTES}"
    return {**environ, "GLIBC_TUNABLES": f"{tunables}:{wanted}" if tunables else wanted}


def restart_with_static_tls() -> None:
    """Re-executes this Python process (same interpreter and arguments) with
    :func:`static_tls_environment` when it lacks it, so that jemalloc can be
    loaded in it; returns when nothing needs doing or the restart failed.
    glibc reads the tunable only when a process starts: call this first thing
    in an entry point, before any thread or output exists."""
    env = static_tls_environment(os.environ)
    if env is None:
        return
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execve(sys.executable, [sys.executable, *sys.orig_argv[1:]], env)
    except OSError:
        return  # jemalloc stays unavailable, and says why


class LockKind(enum.Enum):
    """The kind of every allocator lock in a run (WORKLOAD.md section 9)."""

    MUTEX = lib.ENGINE_LOCK_MUTEX
    """A normal mutex: a waiter sleeps (the default)."""
    SPIN = lib.ENGINE_LOCK_SPIN
    """A spinning lock: a waiter keeps its core."""
    ADAPTIVE = lib.ENGINE_LOCK_ADAPTIVE
    """glibc's adaptive mutex: spins a little, then sleeps."""

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str | LockKind) -> LockKind:
        if isinstance(text, LockKind):
            return text
        try:
            return cls[str(text).strip().upper()]
        except KeyError:
            names = ", ".join(k.label for k in cls)
            raise InputError(
                f"unknown lock kind '{text}': choose one of {names}", lib.ENGINE_E_INVALID_ARG
            ) from None


#: (minimum, maximum, default) of each numeric RunConfig field.
LIMITS = MappingProxyType(
    {
        "heap_size": (
            lib.ENGINE_MIN_HEAP_SIZE,
            lib.ENGINE_MAX_HEAP_SIZE,
            lib.ENGINE_DEFAULT_HEAP_SIZE,
        ),
        "pool_size": (
            lib.ENGINE_MIN_POOL_SIZE,
            lib.ENGINE_MAX_POOL_SIZE,
            lib.ENGINE_DEFAULT_POOL_SIZE,
        ),
        "batch_size": (
            lib.ENGINE_MIN_BATCH_SIZE,
            lib.ENGINE_MAX_BATCH_SIZE,
            lib.ENGINE_DEFAULT_BATCH_SIZE,
        ),
        "block_size": (
            lib.ENGINE_MIN_BLOCK_SIZE,
            lib.ENGINE_MAX_BLOCK_SIZE,
            lib.ENGINE_DEFAULT_BLOCK_SIZE,
        ),
        "sample_interval_us": (
            lib.ENGINE_MIN_SAMPLE_INTERVAL_US,
            lib.ENGINE_MAX_SAMPLE_INTERVAL_US,
            lib.ENGINE_DEFAULT_SAMPLE_INTERVAL_US,
        ),
        "sample_capacity": (
            lib.ENGINE_MIN_SAMPLE_CAPACITY,
            lib.ENGINE_MAX_SAMPLE_CAPACITY,
            lib.ENGINE_DEFAULT_SAMPLE_CAPACITY,
        ),
        "workers": (0, lib.ENGINE_MAX_WORKERS, 0),
        "slab_size": (
            lib.ENGINE_MIN_SLAB_SIZE,
            lib.ENGINE_MAX_SLAB_SIZE,
            lib.ENGINE_DEFAULT_SLAB_SIZE,
        ),
        "cache_size": (
            lib.ENGINE_MIN_CACHE_SIZE,
            lib.ENGINE_MAX_CACHE_SIZE,
            lib.ENGINE_DEFAULT_CACHE_SIZE,
        ),
    }
)
#: Bytes the shared region must keep after the pools are carved out.
MIN_GLOBAL_REGION = lib.ENGINE_MIN_GLOBAL_REGION


@dataclasses.dataclass(frozen=True)
class RunConfig:
    """Validated parameters of one run.

    Raises
    ------
    InputError
        When a field is outside its range; the message names the valid range.
    """

    strategy: Strategy = Strategy.BASELINE
    heap_size: int = lib.ENGINE_DEFAULT_HEAP_SIZE
    pool_size: int = lib.ENGINE_DEFAULT_POOL_SIZE
    batch_size: int = lib.ENGINE_DEFAULT_BATCH_SIZE
    block_size: int = lib.ENGINE_DEFAULT_BLOCK_SIZE
    sample_interval_us: int = lib.ENGINE_DEFAULT_SAMPLE_INTERVAL_US
    sample_capacity: int = lib.ENGINE_DEFAULT_SAMPLE_CAPACITY
    telemetry: bool = True
    lock: LockKind = LockKind.MUTEX
    #: 0: a thread per block, in batches (the exercise's shape); N: N long-lived workers.
    workers: int = 0
    slab_size: int = lib.ENGINE_DEFAULT_SLAB_SIZE  # sizeclass
    cache_size: int = lib.ENGINE_DEFAULT_CACHE_SIZE  # batched

    def __post_init__(self):
        object.__setattr__(self, "strategy", Strategy.parse(self.strategy))
        object.__setattr__(self, "lock", LockKind.parse(self.lock))
        for name in LIMITS:
            value = getattr(self, name)
            try:  # numpy integers too; never floats or bools
                if isinstance(value, bool):
                    raise TypeError
                value = operator.index(value)
            except TypeError:
                shown = value.item() if type(value).__module__ == "numpy" else value
                raise InputError(
                    f"{name.replace('_', ' ')} must be a whole number (got {shown!r})",
                    lib.ENGINE_E_INVALID_ARG,
                ) from None
            object.__setattr__(self, name, value)
            low, high, _ = LIMITS[name]
            if not low <= value <= high:  # also keeps C's unsigned fields from wrapping
                raise InputError(
                    f"{name.replace('_', ' ')} must be between {low} and {high} (got {value})",
                    lib.ENGINE_E_INVALID_ARG,
                )
        message = ffi.new("char[]", 320)
        if lib.engine_config_check(self.to_c(), message, 320) != lib.ENGINE_OK:
            raise InputError(ffi.string(message).decode(), lib.ENGINE_E_INVALID_ARG)

    def to_c(self):
        cfg = ffi.new("engine_config *")
        cfg.strategy = self.strategy.value
        cfg.heap_size = self.heap_size
        cfg.pool_size = self.pool_size
        cfg.batch_size = self.batch_size
        cfg.block_size = self.block_size
        cfg.sample_interval_us = self.sample_interval_us
        cfg.sample_capacity = self.sample_capacity
        cfg.telemetry = 1 if self.telemetry else 0
        cfg.lock_kind = self.lock.value
        cfg.workers = self.workers
        cfg.slab_size = self.slab_size
        cfg.cache_size = self.cache_size
        return cfg

    def replace(self, **changes) -> RunConfig:
        return dataclasses.replace(self, **changes)

    @property
    def threads(self) -> int:
        """Worker thread slots: 1 for the single-threaded reference."""
        return int(lib.engine_config_thread_slots(self.to_c()))

    @property
    def pool_reserved(self) -> int:
        """Bytes at the start of the arena reserved for the strategy (the pools)."""
        return int(lib.engine_config_reserved_bytes(self.to_c()))

    @property
    def queue_depth(self) -> int:
        """Blocks a long-lived worker can have queued (1 with a thread per block)."""
        return int(lib.engine_config_queue_depth(self.to_c()))
