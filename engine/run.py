"""Runs: start one on a thread, watch or cancel it from another.

``Run.execute()`` blocks inside C with the GIL released, so a GUI calls it
from a worker thread and reads ``snapshot()`` / the zero-copy views from its
own thread on a timer.  No Python code runs on the engine's threads.
"""

from __future__ import annotations

import dataclasses
import enum
import math
import os
import threading

import numpy as np

from engine._ffi import ffi, lib
from engine.config import RunConfig, Strategy
from engine.errors import EngineError, InputError, check, error_from_status
from engine.timeline import TIME_STATES, Timeline

COUNTER_NAMES: tuple[str, ...] = tuple(
    ffi.string(lib.engine_counter_name(i)).decode() for i in range(lib.ENGINE_COUNTER_COUNT)
)
#: Counters that are levels, not running totals (everything else never goes down).
GAUGES = frozenset({"free_list_length", "arena_bytes_in_use"})


class CellState(enum.IntEnum):
    """Heap-map value of one 16-byte cell."""

    FREE = lib.ENGINE_CELL_FREE
    HEADER = lib.ENGINE_CELL_HEADER
    GLOBAL = lib.ENGINE_CELL_GLOBAL
    POOL_RESERVED = lib.ENGINE_CELL_POOL_RESERVED
    POOL_USED = lib.ENGINE_CELL_POOL_USED
    SLIVER = lib.ENGINE_CELL_SLIVER
    SLAB = lib.ENGINE_CELL_SLAB  # sizeclass: owner = size class index
    CACHED = lib.ENGINE_CELL_CACHED  # batched: owner = thread slot


class SlotState(enum.IntEnum):
    """What a thread slot is doing."""

    IDLE = lib.ENGINE_SLOT_IDLE
    COMPUTING = lib.ENGINE_SLOT_COMPUTING
    WAITING = lib.ENGINE_SLOT_WAITING
    HOLDING = lib.ENGINE_SLOT_HOLDING
    PAUSED = lib.ENGINE_SLOT_PAUSED


class RunPhase(enum.IntEnum):
    READY = lib.ENGINE_RUN_READY
    RUNNING = lib.ENGINE_RUN_RUNNING
    FINISHED = lib.ENGINE_RUN_FINISHED
    FAILED = lib.ENGINE_RUN_FAILED
    CANCELLED = lib.ENGINE_RUN_CANCELLED


CELL_BYTES = lib.ENGINE_CELL_BYTES
OWNER_NONE = lib.ENGINE_OWNER_NONE
OWNER_COORDINATOR = lib.ENGINE_OWNER_COORDINATOR
HASH_MODULUS = lib.ENGINE_HASH_MODULUS
MIN_SPEED = lib.ENGINE_MIN_SPEED / lib.ENGINE_SPEED_FULL


@dataclasses.dataclass(frozen=True)
class Telemetry:
    """One consistent look at a run: counters by name and copies of the live arrays."""

    elapsed_s: float
    phase: RunPhase
    counters: dict[str, int]
    slot_states: np.ndarray  # uint8 per worker slot (SlotState)
    slot_wait_ns: np.ndarray  # uint64 per worker slot
    heap_states: np.ndarray | None  # uint8 per 16-byte cell (CellState); None without telemetry
    heap_owners: np.ndarray | None  # uint8 per cell: slot, OWNER_COORDINATOR or OWNER_NONE

    @property
    def lock_acquisitions(self) -> int:
        return self.counters["lock_acquisitions"]


@dataclasses.dataclass(frozen=True)
class RunResult:
    """What a finished run produced."""

    path: str
    config: RunConfig
    signature: int
    blocks: int
    bytes: int
    wall_s: float
    counters: dict[str, int]
    series: dict[str, np.ndarray]  # "time_s" plus every counter, one row per sample
    #: Nanoseconds per slot (rows: worker slots, then the coordinator) and time
    #: state (columns: TIME_STATES); None without telemetry (nothing is timed
    #: then) and for results rebuilt from older sessions.
    slot_times_ns: np.ndarray | None = None
    #: Where each lane's time went, sampled each millisecond (None without
    #: telemetry, and for results rebuilt from older sessions).
    timeline: Timeline | None = None

    @property
    def time_breakdown_s(self) -> dict[str, float] | None:
        """Seconds per time state, summed over every slot and the coordinator."""
        if self.slot_times_ns is None:
            return None
        totals = self.slot_times_ns.sum(axis=0) / 1e9
        return {name: float(totals[i]) for i, name in enumerate(TIME_STATES)}

    @property
    def walk_figures(self) -> dict[str, float]:
        """Free-list nodes walked per umalloc and per ufree, the longest free list,
        and the workers mid-block at an average lock acquisition (the pile-up)."""
        c = self.counters
        locks = c["lock_acquisitions"]
        return {
            "free_list_visits_per_alloc": c["free_list_visits_alloc"] / c["global_allocs"]
            if c["global_allocs"]
            else 0.0,
            "free_list_visits_per_free": c["free_list_visits_free"] / c["global_frees"]
            if c["global_frees"]
            else 0.0,
            "free_list_longest": float(c["free_list_longest"]),
            "workers_mid_block_per_acquisition": c["mid_block_at_acquisitions"] / locks
            if locks
            else 0.0,
        }

    @property
    def strategy(self) -> Strategy:
        return self.config.strategy

    @property
    def lock_acquisitions(self) -> int | None:
        """Allocator lock acquisitions; None when not observable: malloc and the
        production allocators take locks of their own that heapscope cannot
        count (never report those as 0)."""
        if not self.config.strategy.uses_arena:
            return None
        return self.counters["lock_acquisitions"]

    @property
    def lock_acquisitions_text(self) -> str:
        """The count as the CLI prints it, or why it is not observable."""
        locks = self.lock_acquisitions
        if locks is None:
            return f"not observable ({self.strategy.label}'s locks are its own)"
        return str(locks)

    @property
    def mb_per_s(self) -> float:
        return self.bytes / 1e6 / self.wall_s if self.wall_s > 0 else 0.0

    @property
    def contended_fraction(self) -> float:
        locks = self.lock_acquisitions or 0
        return self.counters["lock_contended"] / locks if locks else 0.0

    @property
    def mean_wait_ns(self) -> float:
        locks = self.lock_acquisitions or 0
        return self.counters["lock_wait_ns"] / locks if locks else 0.0

    def as_dict(self) -> dict:
        return {
            "path": self.path,
            "strategy": self.strategy.label,
            "heap_size": self.config.heap_size,
            "pool_size": self.config.pool_size,
            "batch_size": self.config.batch_size,
            "block_size": self.config.block_size,
            "signature": self.signature,
            "blocks": self.blocks,
            "bytes": self.bytes,
            "wall_s": self.wall_s,
            "mb_per_s": self.mb_per_s,
            "lock_acquisitions": self.lock_acquisitions,
            **{k: v for k, v in self.counters.items() if k != "lock_acquisitions"},
        }


def _series_to_dict(rows: np.ndarray) -> dict[str, np.ndarray]:
    out = {"time_s": rows[:, 0] / 1e9}
    for i, name in enumerate(COUNTER_NAMES):
        out[name] = rows[:, 1 + i].copy()
    return out


def _shown(path: str | bytes) -> str:
    """A path as one printable line (control characters escaped), for messages."""
    text = os.fsdecode(path)
    shown = "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in text)
    return shown if len(shown) <= 120 else f"{shown[:40]}...{shown[-77:]}"


def input_path_bytes(path: str | os.PathLike) -> bytes:
    """The path as the C engine takes it, or InputError naming what is wrong with it."""
    try:
        raw = os.fsencode(path)
    except TypeError:
        raise InputError(
            f"the input path must be a string or path-like object (got {type(path).__name__})",
            lib.ENGINE_E_INVALID_ARG,
        ) from None
    if not raw:
        raise InputError("no input file given (the path is empty)", lib.ENGINE_E_INVALID_ARG)
    if b"\0" in raw:
        shown = _shown(raw.replace(b"\0", b"?"))
        raise InputError(
            f"the input path '{shown}' contains a NUL byte, which no file name can hold",
            lib.ENGINE_E_INVALID_ARG,
        )
    return raw


class _RunMemory:
    """Owns one C ``engine_run``: frees it when the last reference goes.

    The :class:`Run`, every zero-copy view over its memory (through
    :class:`_EngineBytes`) and a thread inside ``execute`` each hold a
    reference, so the memory can never be freed under a reader or under the
    engine's own threads, whatever order things are closed in.
    """

    __slots__ = ("pointer",)

    def __init__(self, pointer):
        self.pointer = pointer

    def __del__(self):
        if self.pointer is not None:
            lib.engine_run_destroy(self.pointer)
            self.pointer = None


class _EngineBytes:
    """The base numpy keeps for a zero-copy view: it keeps the run's memory alive."""

    def __init__(self, owner: _RunMemory, pointer, count: int):
        self._owner = owner
        self.__array_interface__ = {
            "version": 3,
            "shape": (count,),
            "typestr": "|u1",
            "data": (int(ffi.cast("uintptr_t", pointer)), True),  # read-only
        }


class Run:
    """One run of the workload over one file.

    Create it, call :meth:`execute` on one thread (it blocks until the run
    ends, with the GIL released), and from any other thread call
    :meth:`snapshot`, :meth:`heap_map_copy`, :meth:`series`, :meth:`cancel`,
    :meth:`pause`, :meth:`resume` or :meth:`set_speed`.

    The live numpy views (:attr:`heap_states`, :attr:`heap_owners`,
    :attr:`slot_states`) read the engine's memory directly, with no copy: good
    for drawing, but workers write it meanwhile, so take exact values from
    :meth:`snapshot` or :meth:`heap_map_copy` (race-free copies).  A view keeps
    the engine's memory alive after :meth:`close` until the view itself goes.

    Raises
    ------
    InputError
        For a missing, unreadable, non-regular or directory path, or bad parameters.
    """

    def __init__(self, path: str | os.PathLike, config: RunConfig | None = None):
        self._memory: _RunMemory | None = None
        raw_path = input_path_bytes(path)
        self.path = os.fsdecode(raw_path)
        self.config = RunConfig() if config is None else config
        if not isinstance(self.config, RunConfig):
            raise InputError(
                f"config must be an engine.RunConfig (got {type(config).__name__})",
                lib.ENGINE_E_INVALID_ARG,
            )
        self._lock = threading.Lock()
        err = ffi.new("engine_error *")
        out = ffi.new("engine_run **")
        check(lib.engine_run_create(self.config.to_c(), raw_path, out, err), err)
        memory = _RunMemory(out[0])
        handle = memory.pointer
        self.total_blocks = int(lib.engine_run_total_blocks(handle))
        self.total_bytes = int(lib.engine_run_total_bytes(handle))
        self.slot_count = int(lib.engine_run_slot_count(handle))
        self.pool_reserved = int(lib.engine_run_pool_reserved(handle))
        self.heap_cells = int(lib.engine_run_heap_cells(handle))
        self._counters = np.zeros(lib.ENGINE_COUNTER_COUNT, dtype=np.uint64)
        self._counters_c = ffi.from_buffer("uint64_t[]", self._counters)
        self._wait = np.zeros(self.slot_count, dtype=np.uint64)
        self._wait_c = ffi.from_buffer("uint64_t[]", self._wait)
        self._series_capacity = int(lib.engine_run_series_capacity(handle))
        self._series_rows = np.zeros(
            (max(self._series_capacity, 1), 1 + lib.ENGINE_COUNTER_COUNT), dtype=np.uint64
        )
        self._series_c = ffi.from_buffer("uint64_t[]", self._series_rows)
        self.slot_states = self._view(memory, lib.engine_run_slot_states(handle), self.slot_count)
        self.heap_states = self._view(memory, lib.engine_run_heap_states(handle), self.heap_cells)
        self.heap_owners = self._view(memory, lib.engine_run_heap_owners(handle), self.heap_cells)
        self._memory = memory

    @staticmethod
    def _view(owner: _RunMemory, pointer, count: int) -> np.ndarray | None:
        """A read-only numpy view over engine memory (no copy) that keeps it alive."""
        if pointer == ffi.NULL:
            return None
        view = np.asarray(_EngineBytes(owner, pointer, count))
        assert not view.flags.writeable
        return view

    # -- lifecycle ---------------------------------------------------------

    def _require_open(self) -> _RunMemory:
        memory = self._memory
        if memory is None:
            raise EngineError("this run has been closed", lib.ENGINE_E_STATE)
        return memory

    def execute(self) -> RunResult:
        """Runs the workload to the end and returns its result.

        The C engine itself refuses a second start (``EngineError``, the first
        run carries on untouched), and the memory stays alive for as long as
        this call runs, even if :meth:`close` is called meanwhile.

        Raises
        ------
        HeapExhausted, InvalidFree, InputError (read errors, a changed input),
        RunCancelled, EngineError
        """
        with self._lock:
            memory = self._require_open()
        err = ffi.new("engine_error *")
        code = lib.engine_run_execute(memory.pointer, err)
        if code != lib.ENGINE_OK:
            raise error_from_status(code, err)
        return self._result_of(memory)

    def result(self) -> RunResult:
        """The result of a finished run."""
        with self._lock:
            memory = self._require_open()
        return self._result_of(memory)

    def _result_of(self, memory: _RunMemory) -> RunResult:
        handle = memory.pointer
        if lib.engine_run_state(handle) != lib.ENGINE_RUN_FINISHED:
            raise EngineError("the run has not finished", lib.ENGINE_E_STATE)
        counters = np.zeros(lib.ENGINE_COUNTER_COUNT, dtype=np.uint64)
        lib.engine_run_snapshot(handle, ffi.from_buffer("uint64_t[]", counters))
        counter_dict = dict(zip(COUNTER_NAMES, counters.tolist(), strict=True))
        rows = np.zeros_like(self._series_rows)
        n = lib.engine_run_series(
            handle, ffi.from_buffer("uint64_t[]", rows), self._series_capacity
        )
        return RunResult(
            path=self.path,
            config=self.config,
            signature=int(lib.engine_run_signature(handle)),
            blocks=counter_dict["blocks_done"],
            bytes=counter_dict["bytes_done"],
            wall_s=lib.engine_run_wall_ns(handle) / 1e9,
            counters=counter_dict,
            series=_series_to_dict(rows[:n]),
            slot_times_ns=self._slot_times(handle) if self.config.telemetry else None,
            timeline=self._timeline(handle, -1) if self.config.telemetry else None,
        )

    @property
    def timeline_capacity(self) -> int:
        """Rows the engine keeps for the timeline (older ones are thinned)."""
        return int(lib.engine_timeline_capacity(self.slot_count))

    def _timeline(self, handle, after_ns: int) -> Timeline:
        capacity = self.timeline_capacity
        words = int(lib.engine_timeline_row_words(self.slot_count))
        rows = np.empty((capacity, words), dtype=np.uint64)
        n = lib.engine_run_timeline(handle, after_ns, ffi.from_buffer("uint64_t[]", rows), capacity)
        return Timeline.from_engine_rows(rows[:n], self.slot_count + 1)

    def timeline(self, after_s: float = -1.0) -> Timeline:
        """The timeline rows sampled after ``after_s`` seconds (all by default),
        now; extend a copy you keep with ``Timeline.extended`` each frame."""
        after_ns = -1 if after_s < 0 else int(after_s * 1e9)
        with self._lock:
            return self._timeline(self._require_open().pointer, after_ns)

    def _slot_times(self, handle) -> np.ndarray:
        out = np.zeros((self.slot_count + 1, lib.ENGINE_TIME_STATE_COUNT), dtype=np.uint64)
        lib.engine_run_time_breakdown(handle, ffi.from_buffer("uint64_t[]", out))
        return out

    def time_breakdown(self) -> np.ndarray:
        """Nanoseconds per slot (coordinator last) and TIME_STATES, now."""
        with self._lock:
            return self._slot_times(self._require_open().pointer)

    @property
    def phase(self) -> RunPhase:
        with self._lock:
            return RunPhase(lib.engine_run_state(self._require_open().pointer))

    @property
    def closed(self) -> bool:
        return self._memory is None

    @property
    def paused(self) -> bool:
        """True once a pause was asked for and every engine thread is parked.

        From then until :meth:`resume`, no counter and no heap-map cell moves.
        """
        with self._lock:
            return bool(lib.engine_run_is_paused(self._require_open().pointer))

    def cancel(self) -> None:
        """Asks the run to stop; execute() then raises RunCancelled (within ~10 ms)."""
        with self._lock:
            if self._memory is not None:
                lib.engine_run_cancel(self._memory.pointer)

    def pause(self) -> None:
        """Parks every engine thread at its next allocation or block boundary."""
        with self._lock:
            if self._memory is not None:
                lib.engine_run_set_paused(self._memory.pointer, 1)

    def resume(self) -> None:
        with self._lock:
            if self._memory is not None:
                lib.engine_run_set_paused(self._memory.pointer, 0)

    def set_speed(self, fraction: float) -> None:
        """Slow motion: 1.0 is full speed, down to MIN_SPEED (1/1000); clamped to that range."""
        try:
            value = float(fraction)
        except (TypeError, ValueError):
            value = math.nan
        if not math.isfinite(value):
            raise InputError(
                f"speed must be a number between {MIN_SPEED} and 1 (got {fraction!r})",
                lib.ENGINE_E_INVALID_ARG,
            )
        ppm = int(round(min(max(value, MIN_SPEED), 1.0) * lib.ENGINE_SPEED_FULL))
        with self._lock:
            if self._memory is not None:
                lib.engine_run_set_speed(self._memory.pointer, ppm)

    def close(self) -> None:
        """Lets go of the engine's memory; a running run is cancelled first.

        The memory is freed once nothing uses it any more: right away for an
        idle run, when :meth:`execute` returns for a running one, and when the
        last zero-copy view goes for views still held elsewhere.
        """
        with self._lock:
            memory, self._memory = self._memory, None
            if memory is None:
                return
            lib.engine_run_cancel(memory.pointer)
            self.slot_states = self.heap_states = self.heap_owners = None

    def __enter__(self) -> Run:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- telemetry ---------------------------------------------------------

    @property
    def elapsed_s(self) -> float:
        with self._lock:
            return lib.engine_run_elapsed_ns(self._require_open().pointer) / 1e9

    def counters(self) -> dict[str, int]:
        """Every counter now, by name."""
        with self._lock:
            lib.engine_run_snapshot(self._require_open().pointer, self._counters_c)
            values = self._counters.tolist()
        return dict(zip(COUNTER_NAMES, values, strict=True))

    def heap_map_copy(self) -> tuple[np.ndarray, np.ndarray] | None:
        """Race-free copies of the heap map now: (states, owners); None without telemetry."""
        with self._lock:
            return self._copy_heap_map(self._require_open().pointer)

    def _copy_heap_map(self, handle) -> tuple[np.ndarray, np.ndarray] | None:
        if self.heap_cells == 0 or lib.engine_run_heap_states(handle) == ffi.NULL:
            return None
        states = np.empty(self.heap_cells, dtype=np.uint8)
        owners = np.empty(self.heap_cells, dtype=np.uint8)
        lib.engine_run_copy_heap_map(
            handle, ffi.from_buffer("uint8_t[]", states), ffi.from_buffer("uint8_t[]", owners)
        )
        return states, owners

    def snapshot(self, with_heap: bool = True) -> Telemetry:
        """Counters, slot states and (optionally) a copy of the heap map, now."""
        with self._lock:
            handle = self._require_open().pointer
            elapsed = lib.engine_run_elapsed_ns(handle) / 1e9
            phase = RunPhase(lib.engine_run_state(handle))
            lib.engine_run_snapshot(handle, self._counters_c)
            lib.engine_run_slot_wait_ns(handle, self._wait_c)
            counters = dict(zip(COUNTER_NAMES, self._counters.tolist(), strict=True))
            slots = np.empty(self.slot_count, dtype=np.uint8)
            lib.engine_run_copy_slot_states(handle, ffi.from_buffer("uint8_t[]", slots))
            heap = self._copy_heap_map(handle) if with_heap else None
            return Telemetry(
                elapsed_s=elapsed,
                phase=phase,
                counters=counters,
                slot_states=slots,
                slot_wait_ns=self._wait.copy(),
                heap_states=heap[0] if heap else None,
                heap_owners=heap[1] if heap else None,
            )

    def series(self) -> dict[str, np.ndarray]:
        """The sampled time series so far: ``time_s`` and one array per counter."""
        with self._lock:
            n = lib.engine_run_series(
                self._require_open().pointer, self._series_c, self._series_capacity
            )
            return _series_to_dict(self._series_rows[:n].copy())


def run(path: str | os.PathLike, config: RunConfig | None = None, **overrides) -> RunResult:
    """Runs the workload on ``path`` and returns the result (blocks until done).

    Examples
    --------
    >>> run("input.bin", strategy="pooled").signature  # doctest: +SKIP
    """
    if overrides:
        config = (config or RunConfig()).replace(**overrides)
    with Run(path, config) as handle:
        return handle.execute()


def block_hash(data: bytes) -> int:
    """The exercise's hash of one block (reference implementation, any length >= 1)."""
    if not data:
        raise ValueError("a block has at least one byte")
    return int(lib.engine_block_hash(data, len(data)))
