"""heapscope's engine: the shared-memory hasher exercise in C, with live telemetry.

This package never imports Qt; the GUI uses only what is exported here.
"""

from engine.arena import Arena
from engine.config import (
    LIMITS,
    MIN_GLOBAL_REGION,
    USER_STRATEGIES,
    LockKind,
    RunConfig,
    Strategy,
    clock_source,
)
from engine.errors import EngineError, HeapExhausted, InputError, InvalidFree, RunCancelled
from engine.run import (
    CELL_BYTES,
    COUNTER_NAMES,
    GAUGES,
    HASH_MODULUS,
    MIN_SPEED,
    OWNER_COORDINATOR,
    OWNER_NONE,
    CellState,
    Run,
    RunPhase,
    RunResult,
    SlotState,
    Telemetry,
    block_hash,
    run,
)
from engine.timeline import TIME_STATES, Timeline, lane_names
from engine.units import format_size, parse_size

__all__ = [
    "Arena",
    "CELL_BYTES",
    "COUNTER_NAMES",
    "CellState",
    "EngineError",
    "GAUGES",
    "HASH_MODULUS",
    "HeapExhausted",
    "InputError",
    "InvalidFree",
    "LIMITS",
    "LockKind",
    "clock_source",
    "MIN_GLOBAL_REGION",
    "MIN_SPEED",
    "OWNER_COORDINATOR",
    "OWNER_NONE",
    "Run",
    "RunCancelled",
    "RunConfig",
    "RunPhase",
    "RunResult",
    "SlotState",
    "TIME_STATES",
    "Strategy",
    "Telemetry",
    "Timeline",
    "USER_STRATEGIES",
    "block_hash",
    "format_size",
    "lane_names",
    "parse_size",
    "run",
]
