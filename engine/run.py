"""Runs: start one on a thread, watch or cancel it from another.

``Run.execute()`` blocks inside C with the GIL released, so a GUI calls it
from a worker thread and reads ``snapshot()`` / the zero-copy views from its
own thread on a timer.  No Python code runs on the engine's threads.
"""
from __future__ import annotations

import dataclasses
import enum
import os
import threading

import numpy as np

from engine._ffi import ffi, lib
from engine.config import RunConfig, Strategy
from engine.errors import EngineError, check, error_from_status

COUNTER_NAMES: tuple[str, ...] = tuple(
    ffi.string(lib.engine_counter_name(i)).decode() for i in range(lib.ENGINE_COUNTER_COUNT))
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
    slot_states: np.ndarray      # uint8 per worker slot (SlotState)
    slot_wait_ns: np.ndarray     # uint64 per worker slot
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

    @property
    def strategy(self) -> Strategy:
        return self.config.strategy

    @property
    def lock_acquisitions(self) -> int:
        return self.counters["lock_acquisitions"]

    @property
    def mb_per_s(self) -> float:
        return self.bytes / 1e6 / self.wall_s if self.wall_s > 0 else 0.0

    @property
    def contended_fraction(self) -> float:
        locks = self.lock_acquisitions
        return self.counters["lock_contended"] / locks if locks else 0.0

    @property
    def mean_wait_ns(self) -> float:
        locks = self.lock_acquisitions
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


class Run:
    """One run of the workload over one file.

    Create it, call :meth:`execute` on one thread (it blocks until the run
    ends, with the GIL released), and from any other thread call
    :meth:`snapshot`, :meth:`series`, :meth:`cancel`, :meth:`pause`,
    :meth:`resume` or :meth:`set_speed`.  The live numpy views
    (:attr:`heap_states`, :attr:`heap_owners`, :attr:`slot_states`) read the
    engine's memory directly and stay valid until :meth:`close`.

    Raises
    ------
    InputError
        For a missing, unreadable or directory path, or bad parameters.
    """

    def __init__(self, path: str | os.PathLike, config: RunConfig | None = None):
        self.path = os.fspath(path)
        self.config = config or RunConfig()
        self._lock = threading.Lock()
        self._executing = False
        self._close_requested = False
        err = ffi.new("engine_error *")
        out = ffi.new("engine_run **")
        check(lib.engine_run_create(self.config.to_c(), os.fsencode(self.path), out, err), err)
        self._run = out[0]
        self.total_blocks = int(lib.engine_run_total_blocks(self._run))
        self.total_bytes = int(lib.engine_run_total_bytes(self._run))
        self.slot_count = int(lib.engine_run_slot_count(self._run))
        self.pool_reserved = int(lib.engine_run_pool_reserved(self._run))
        self.heap_cells = int(lib.engine_run_heap_cells(self._run))
        self._counters = np.zeros(lib.ENGINE_COUNTER_COUNT, dtype=np.uint64)
        self._counters_c = ffi.from_buffer("uint64_t[]", self._counters)
        self._wait = np.zeros(self.slot_count, dtype=np.uint64)
        self._wait_c = ffi.from_buffer("uint64_t[]", self._wait)
        self._series_capacity = int(lib.engine_run_series_capacity(self._run))
        self._series_rows = np.zeros((max(self._series_capacity, 1), 1 + lib.ENGINE_COUNTER_COUNT),
                                     dtype=np.uint64)
        self._series_c = ffi.from_buffer("uint64_t[]", self._series_rows)
        self.slot_states = self._view(lib.engine_run_slot_states(self._run), self.slot_count)
        self.heap_states = self._view(lib.engine_run_heap_states(self._run), self.heap_cells)
        self.heap_owners = self._view(lib.engine_run_heap_owners(self._run), self.heap_cells)

    @staticmethod
    def _view(pointer, count: int) -> np.ndarray | None:
        """A read-only numpy view over engine memory (no copy)."""
        if pointer == ffi.NULL:
            return None
        view = np.frombuffer(ffi.buffer(pointer, count), dtype=np.uint8)
        view.flags.writeable = False
        return view

    # -- lifecycle ---------------------------------------------------------

    def _handle(self):
        if self._run is None:
            raise EngineError("this run has been closed", lib.ENGINE_E_STATE)
        return self._run

    def execute(self) -> RunResult:
        """Runs the workload to the end and returns its result.

        Raises
        ------
        HeapExhausted, InvalidFree, InputError (read errors), RunCancelled, EngineError
        """
        with self._lock:
            handle = self._handle()
            self._executing = True
        try:
            err = ffi.new("engine_error *")
            code = lib.engine_run_execute(handle, err)
            if code != lib.ENGINE_OK:
                raise error_from_status(code, err)
            return self.result()
        finally:
            with self._lock:
                self._executing = False
                if self._close_requested:
                    self._destroy()

    def result(self) -> RunResult:
        """The result of a finished run."""
        handle = self._handle()
        if lib.engine_run_state(handle) != lib.ENGINE_RUN_FINISHED:
            raise EngineError("the run has not finished", lib.ENGINE_E_STATE)
        counters = self.snapshot(with_heap=False).counters
        return RunResult(
            path=self.path,
            config=self.config,
            signature=int(lib.engine_run_signature(handle)),
            blocks=counters["blocks_done"],
            bytes=counters["bytes_done"],
            wall_s=lib.engine_run_wall_ns(handle) / 1e9,
            counters=counters,
            series=self.series(),
        )

    @property
    def phase(self) -> RunPhase:
        return RunPhase(lib.engine_run_state(self._handle()))

    def cancel(self) -> None:
        """Asks the run to stop; execute() then raises RunCancelled (within ~10 ms)."""
        with self._lock:
            if self._run is not None:
                lib.engine_run_cancel(self._run)

    def pause(self) -> None:
        """Parks every engine thread at its next allocation or block boundary."""
        with self._lock:
            if self._run is not None:
                lib.engine_run_set_paused(self._run, 1)

    def resume(self) -> None:
        with self._lock:
            if self._run is not None:
                lib.engine_run_set_paused(self._run, 0)

    def set_speed(self, fraction: float) -> None:
        """Slow motion: 1.0 is full speed, down to MIN_SPEED (1/1000)."""
        ppm = int(round(min(max(fraction, MIN_SPEED), 1.0) * lib.ENGINE_SPEED_FULL))
        with self._lock:
            if self._run is not None:
                lib.engine_run_set_speed(self._run, ppm)

    def close(self) -> None:
        """Frees the engine's memory; a running run is cancelled and freed when it ends."""
        with self._lock:
            if self._run is None:
                return
            if self._executing:
                lib.engine_run_cancel(self._run)
                self._close_requested = True
            else:
                self._destroy()

    def _destroy(self) -> None:
        # Drop the views first: they point into the memory about to be freed.
        self.slot_states = self.heap_states = self.heap_owners = None
        lib.engine_run_destroy(self._run)
        self._run = None

    def __enter__(self) -> "Run":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self):
        if getattr(self, "_run", None) is not None and not self._executing:
            lib.engine_run_destroy(self._run)
            self._run = None

    # -- telemetry ---------------------------------------------------------

    @property
    def elapsed_s(self) -> float:
        return lib.engine_run_elapsed_ns(self._handle()) / 1e9

    def counters(self) -> dict[str, int]:
        """Every counter now, by name."""
        with self._lock:
            lib.engine_run_snapshot(self._handle(), self._counters_c)
            values = self._counters.tolist()
        return dict(zip(COUNTER_NAMES, values))

    def snapshot(self, with_heap: bool = True) -> Telemetry:
        """Counters, slot states and (optionally) a copy of the heap map, now."""
        with self._lock:
            handle = self._handle()
            elapsed = lib.engine_run_elapsed_ns(handle) / 1e9
            phase = RunPhase(lib.engine_run_state(handle))
            lib.engine_run_snapshot(handle, self._counters_c)
            lib.engine_run_slot_wait_ns(handle, self._wait_c)
            counters = dict(zip(COUNTER_NAMES, self._counters.tolist()))
            heap = with_heap and self.heap_states is not None
            return Telemetry(
                elapsed_s=elapsed,
                phase=phase,
                counters=counters,
                slot_states=self.slot_states.copy(),
                slot_wait_ns=self._wait.copy(),
                heap_states=self.heap_states.copy() if heap else None,
                heap_owners=self.heap_owners.copy() if heap else None,
            )

    def series(self) -> dict[str, np.ndarray]:
        """The sampled time series so far: ``time_s`` and one array per counter."""
        with self._lock:
            n = lib.engine_run_series(self._handle(), self._series_c, self._series_capacity)
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
