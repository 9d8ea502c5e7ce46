"""Checks of a session's meta.json: a session file is someone else's, so nothing in it is
trusted before it has been checked here (no Qt, no file access).

:func:`parse_meta` turns the bytes of meta.json into a dict without ever letting the
JSON parser recurse deeply, build a huge integer or produce NaN/Infinity;
:func:`check_meta` then checks every field against the engine's own limits and
returns the array shapes the other members must have.  Every problem raises
:class:`SessionError` with one line that names it.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from typing import NoReturn, TypeGuard

import engine
from engine import (
    CELL_BYTES,
    COUNTER_NAMES,
    HASH_MODULUS,
    USER_STRATEGIES,
    InputError,
    LockKind,
    RunConfig,
    Strategy,
)
from gui.inputs import one_line

FORMAT_NAME = "heapscope-session"
#: Version 1: full-resolution heap maps.  Version 2: heap maps may be stored at one value
#: per ``recording.cell_group`` cells (big heaps); files that are not downsampled are still
#: written as version 1, so older heapscopes keep reading them.  Version 3: the slot
#: states per frame, the run's timeline and its time breakdown (``slot_times_ns`` in
#: meta.json); see gui/session_times.py.  Version 4: a slowed run's speeds
#: (``slow_motion`` in meta.json: [[seconds, fraction of full speed], ...]), and the
#: lecture file (several runs in one file: gui/lecture_file.py).  Version 5: the run's
#: lock kind and worker mode (``config.lock``, ``config.workers``) when not the default
#: (a run with long-lived workers has as many slots as workers).  Files without any of
#: these are still written as the lowest version that holds them.
FORMAT_VERSION = 5

META_LIMIT = 1 << 20  # bytes of meta.json (a real one is about 2 KB)
JSON_DEPTH_LIMIT = 8  # a real meta.json nests 2 deep
INT_LIMIT = 1 << 63  # |int| in meta.json (C's counters are 64-bit)
TEXT_LIMIT = 4096  # characters of any one string (paths included)
NOTE_LIMIT = 300
WALL_LIMIT_S = 1e7  # 115 days: more is not a recorded run
RATE_LIMIT = 1e12  # MB/s


class SessionError(ValueError):
    """A session file that cannot be opened; the message says why, in one line."""


class _Bad(Exception):
    """Raised inside the JSON hooks; :func:`parse_meta` turns it into a SessionError."""


@dataclasses.dataclass(frozen=True)
class Shapes:
    """What the arrays of a session must look like, from its (checked) meta.json."""

    counter_names: tuple[str, ...]
    heap_cells: int  # cells of the recorded heap
    stored_cells: int  # cells per stored frame (heap_cells / cell_group, rounded up)
    cell_group: int
    slot_count: int
    version: int = 1
    wall_s: float = 0.0


# ------------------------------------------------------------------ JSON


def _parse_int(text: str) -> int:
    if len(text.lstrip("-")) > 19:  # checked before int(): no 10**400, no 4300-digit parse
        raise _Bad(f"holds a number with {len(text.lstrip('-'))} digits")
    value = int(text)
    if not -INT_LIMIT <= value < INT_LIMIT:
        raise _Bad(f"holds the number {value}, beyond 64 bits")
    return value


def _parse_float(text: str) -> float:
    if len(text) > 64:
        raise _Bad("holds a number written with more than 64 characters")
    value = float(text)
    if not math.isfinite(value):
        raise _Bad(f"holds the number {text[:20]}, too large to be a float")
    return value


def _parse_constant(text: str):
    raise _Bad(f"holds {text}, which is not a number JSON allows")


def _no_duplicates(pairs):
    out = {}
    for key, value in pairs:
        if key in out:
            raise _Bad(f"repeats the key '{_shown(key)}'")
        out[key] = value
    return out


_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]")


def _depth(text: str) -> int:
    """Deepest nesting of [ and { outside strings, without recursion."""
    depth = deepest = 0
    for match in _BRACKETS.finditer(_STRING.sub("", text)):
        depth += 1 if match.group() in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def parse_meta(data: bytes, prefix: str) -> dict:
    """meta.json's bytes as a dict; ``prefix`` starts every message."""
    if len(data) > META_LIMIT:
        raise SessionError(
            f"{prefix}its meta.json is too big ({len(data)} bytes; the limit is {META_LIMIT})"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise SessionError(f"{prefix}its meta.json is damaged (not UTF-8 text)") from None
    if _depth(text) > JSON_DEPTH_LIMIT:
        raise SessionError(
            f"{prefix}its meta.json is damaged (nested more than {JSON_DEPTH_LIMIT} levels deep)"
        )
    try:
        meta = json.loads(
            text,
            parse_int=_parse_int,
            parse_float=_parse_float,
            parse_constant=_parse_constant,
            object_pairs_hook=_no_duplicates,
        )
    except _Bad as exc:
        raise SessionError(f"{prefix}its meta.json is damaged (it {exc})") from None
    except json.JSONDecodeError as exc:
        raise SessionError(
            f"{prefix}its meta.json is damaged (not JSON: {exc.msg} at line "
            f"{exc.lineno} column {exc.colno})"
        ) from None
    except (ValueError, RecursionError, MemoryError):
        raise SessionError(f"{prefix}its meta.json is damaged") from None
    if not isinstance(meta, dict):
        raise SessionError(f"{prefix}not a heapscope session file")
    return meta


# ------------------------------------------------------------------ fields


def _shown(text: object, limit: int = 60) -> str:
    return one_line(text, limit)


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


class _Fields:
    """Checks the fields of one meta.json object, naming the field in every message."""

    def __init__(self, obj, where: str, prefix: str, required=(), optional=()):
        self.prefix, self.where = prefix, where
        if not isinstance(obj, dict):
            self.fail(f"{where} must be an object")
        unknown = [k for k in obj if k not in required and k not in optional]
        if unknown:
            self.fail(f"{where} has an unknown field '{_shown(unknown[0])}'")
        missing = [k for k in required if k not in obj]
        if missing:
            self.fail(f"{where} has no '{missing[0]}'")
        self.obj = obj

    def fail(self, what: str) -> NoReturn:
        raise SessionError(f"{self.prefix}its meta.json is invalid: {what}")

    def name(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where != "meta" else key

    def integer(self, key: str, low: int, high: int) -> int | None:
        """An int in [low, high], or None when the (optional) field is absent."""
        if key not in self.obj:
            return None
        value = self.obj[key]
        if not _is_int(value):
            self.fail(f"{self.name(key)} must be a whole number (got {_shown(repr(value))})")
        if not low <= value <= high:
            self.fail(
                f"{self.name(key)} is {value} (it must be {low})"
                if low == high
                else f"{self.name(key)} is {value} (valid {low}-{high})"
            )
        return value

    def number(self, key: str, high: float) -> float | None:
        if key not in self.obj:
            return None
        value = self.obj[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail(f"{self.name(key)} must be a number (got {_shown(repr(value))})")
        if not 0 <= value <= high:
            self.fail(f"{self.name(key)} is {value} (valid 0-{high:g})")
        return float(value)

    def text(
        self,
        key: str,
        limit: int = TEXT_LIMIT,
        pattern: re.Pattern | None = None,
        empty: bool = True,
    ) -> str | None:
        if key not in self.obj:
            return None
        value = self.obj[key]
        if not isinstance(value, str):
            self.fail(f"{self.name(key)} must be text (got {_shown(repr(value))})")
        if len(value) > limit:
            self.fail(f"{self.name(key)} is {len(value)} characters long (the limit is {limit})")
        if "\0" in value or (not empty and not value):
            self.fail(f"{self.name(key)} is empty or holds a NUL character")
        if pattern is not None and not pattern.fullmatch(value):
            self.fail(f"{self.name(key)} is not valid ('{_shown(value)}')")
        return value

    def boolean(self, key: str) -> bool | None:
        if key not in self.obj:
            return None
        value = self.obj[key]
        if not isinstance(value, bool):
            self.fail(f"{self.name(key)} must be true or false (got {_shown(repr(value))})")
        return value


_SHA256 = re.compile(r"[0-9a-fA-F]{64}")
_CONFIG_FIELDS = ("strategy", "heap_size", "pool_size", "batch_size", "block_size")
_RESULT_INTS = (
    "blocks",
    "bytes",
    "heap_size",
    "pool_size",
    "batch_size",
    "block_size",
    *COUNTER_NAMES,
)
_TOP_FIELDS = (
    "format",
    "version",
    "input",
    "config",
    "result",
    "counter_names",
    "heap_cells",
    "slot_count",
    "pool_reserved",
)


def check_header(meta: dict, prefix: str) -> int:
    """Format and version, first: a foreign or newer file is told as such. Returns the version."""
    if meta.get("format") != FORMAT_NAME:
        raise SessionError(f"{prefix}not a heapscope session file")
    version = meta.get("version")
    if not _is_int(version) or version < 1:
        raise SessionError(
            f"{prefix}its meta.json is invalid: version must be a whole number "
            f"from 1 (got {_shown(repr(version))})"
        )
    if version > FORMAT_VERSION:
        raise SessionError(
            f"{prefix}it was written by a newer heapscope (format version "
            f"{version}; this one reads up to {FORMAT_VERSION})"
        )
    return version


def check_meta(meta: dict, prefix: str) -> Shapes:
    """Every field of meta.json against the engine's limits; the arrays' expected shapes."""
    version = check_header(meta, prefix)
    newer: tuple[str, ...] = ("slot_times_ns",) if version >= 3 else ()
    newer += ("slow_motion",) if version >= 4 else ()
    top = _Fields(meta, "meta", prefix, _TOP_FIELDS, ("created", "recording", *newer))
    top.text("created", 64)
    if "slow_motion" in meta:
        check_slow_motion(meta["slow_motion"], prefix)

    # Version 5: the lock kind and the worker mode, written when not the default.
    mode_fields = ("lock", "workers") if version >= 5 else ()
    cfg = _Fields(meta["config"], "config", prefix, _CONFIG_FIELDS, mode_fields)
    labels = [s.label for s in USER_STRATEGIES]
    strategy = cfg.text("strategy", 16)
    if strategy is None or strategy not in labels:
        cfg.fail(f"config.strategy '{_shown(strategy)}' is not one of {', '.join(labels)}")
    lock_names = [k.label for k in LockKind]
    lock = cfg.text("lock", 16)
    if lock is not None and lock not in lock_names:
        cfg.fail(f"config.lock '{_shown(lock)}' is not one of {', '.join(lock_names)}")
    values = {k: cfg.obj[k] for k in (*_CONFIG_FIELDS[1:], "workers") if k in cfg.obj}
    for key, value in values.items():
        if not _is_int(value):
            cfg.fail(f"config.{key} must be a whole number (got {_shown(repr(value))})")
    try:
        config = RunConfig(
            strategy=Strategy.parse(strategy),
            lock=LockKind.parse(lock or "mutex"),
            telemetry=False,
            **values,
        )
    except InputError as exc:  # the engine's own check, its message names the range
        cfg.fail(f"config: {exc}")

    heap_cells = config.heap_size // CELL_BYTES
    top.integer("heap_cells", heap_cells, heap_cells)
    top.integer("slot_count", config.threads, config.threads)
    top.integer("pool_reserved", config.pool_reserved, config.pool_reserved)

    names = meta["counter_names"]
    if not isinstance(names, list) or len(names) > len(COUNTER_NAMES):
        top.fail(f"counter_names must be a list of at most {len(COUNTER_NAMES)} counter names")
    for name in names:
        if not isinstance(name, str) or name not in COUNTER_NAMES:
            top.fail(f"counter_names holds '{_shown(name)}', which is not an engine counter")
    if len(set(names)) != len(names):
        top.fail("counter_names names a counter twice")

    ident = _Fields(meta["input"], "input", prefix, ("name",), ("bytes", "sha256"))
    ident.text("name", empty=False)
    ident.integer("bytes", 0, INT_LIMIT - 1)
    ident.text("sha256", 64, _SHA256)

    result = _Fields(
        meta["result"],
        "result",
        prefix,
        ("signature", "blocks", "bytes", "wall_s"),
        ("path", "strategy", "mb_per_s", *_RESULT_INTS),
    )
    result.integer("signature", 0, HASH_MODULUS - 1)
    for key in _RESULT_INTS:
        result.integer(key, 0, INT_LIMIT - 1)
    wall_s = result.number("wall_s", WALL_LIMIT_S) or 0.0
    result.number("mb_per_s", RATE_LIMIT)
    result.text("path")
    for key in _CONFIG_FIELDS:  # the row shows these: they must be the config's
        if key in result.obj and result.obj[key] != cfg.obj[key]:
            result.fail(
                f"result.{key} ({_shown(repr(result.obj[key]))}) differs from "
                f"config.{key} ({_shown(repr(cfg.obj[key]))})"
            )

    group = 1
    if "recording" in meta:
        rec = _Fields(
            meta["recording"],
            "recording",
            prefix,
            (),
            (
                "thinned",
                "thinning_note",
                "frames_seen",
                "cell_group",
                "max_bytes",
                *(("timeline_rows_recorded",) if version >= 3 else ()),
            ),
        )
        rec.integer("timeline_rows_recorded", 0, INT_LIMIT - 1)
        rec.boolean("thinned")
        rec.text("thinning_note", NOTE_LIMIT)
        rec.integer("frames_seen", 0, INT_LIMIT - 1)
        rec.integer("max_bytes", 0, INT_LIMIT - 1)
        group = rec.integer("cell_group", 1, 1 if version == 1 else heap_cells) or 1
    return Shapes(
        tuple(names),
        heap_cells,
        -(-heap_cells // group),
        group,
        config.threads,
        version,
        wall_s,
    )


#: Speed changes a run records (gui.slow_motion.MAX_CHANGES) and the slowest speed.
SPEED_CHANGES_LIMIT = 64
SLOWEST = 0.001


def check_slow_motion(value: object, prefix: str) -> None:
    """``slow_motion``: 1 to 64 [seconds, fraction] pairs, from 0 s, times in order,
    fractions from 0.001 (1/1000) to 1."""
    where = f"{prefix}its meta.json is invalid: slow_motion"
    if (
        not isinstance(value, list)
        or not 1 <= len(value) <= SPEED_CHANGES_LIMIT
        or not all(isinstance(pair, list) and len(pair) == 2 for pair in value)
    ):
        raise SessionError(
            f"{where} must be a list of 1 to {SPEED_CHANGES_LIMIT} [seconds, speed] pairs"
        )
    previous = 0.0
    for i, (t, fraction) in enumerate(value):
        for item in (t, fraction):
            if isinstance(item, bool) or not isinstance(item, (int, float)):
                raise SessionError(f"{where}[{i}] holds {_shown(repr(item))}, not a number")
        if i == 0 and t != 0:
            raise SessionError(f"{where} must start at 0 s (got {t})")
        if t < previous:
            raise SessionError(f"{where}[{i}] is at {t} s, before the change before it")
        if t > WALL_LIMIT_S:
            raise SessionError(f"{where}[{i}] is at {t} s (valid 0-{WALL_LIMIT_S:g})")
        if not SLOWEST <= fraction <= 1:
            raise SessionError(f"{where}[{i}] has the speed {fraction} (valid {SLOWEST}-1)")
        previous = t


#: Runs a lecture file may hold, and the largest run number it may name.
LECTURE_RUNS_LIMIT = 24
RUN_NUMBER_LIMIT = 1_000_000


def check_lecture_meta(meta: dict, members: list[str], prefix: str) -> list[int]:
    """A lecture file's meta.json against its run members (in archive order);
    returns each run's number."""
    version = check_header(meta, prefix)
    top = _Fields(meta, "meta", prefix, ("format", "version", "kind", "runs"), ("created",))
    if version < 4:
        top.fail(f"a lecture file needs format version 4 (the file says version {version})")
    top.text("created", 64)
    if meta["kind"] != "lecture":
        top.fail(f"kind is '{_shown(meta['kind'])}' (a lecture file says 'lecture')")
    runs = meta["runs"]
    if not isinstance(runs, list) or not 1 <= len(runs) <= LECTURE_RUNS_LIMIT:
        top.fail(f"runs must be a list of 1 to {LECTURE_RUNS_LIMIT} runs")
    expected = [f"run-{i:02d}.session" for i in range(1, len(runs) + 1)]
    if members != expected:
        top.fail(
            f"runs lists {len(runs)} runs, the file holds {', '.join(members) or 'none'} "
            f"(expected {', '.join(expected)})"
        )
    numbers: list[int] = []
    for i, run in enumerate(runs):
        entry = _Fields(run, f"runs[{i}]", prefix, ("member", "run"))
        if entry.obj["member"] != expected[i]:
            shown = _shown(entry.obj["member"])
            entry.fail(f"runs[{i}].member is '{shown}' (expected {expected[i]})")
        number = entry.integer("run", 1, RUN_NUMBER_LIMIT)
        assert number is not None
        if number in numbers:
            entry.fail(f"runs[{i}].run is {number}, the number of an earlier run too")
        numbers.append(number)
    return numbers


def owner_ok_table(slot_count: int):
    """256 booleans: which heap-owner bytes a run with ``slot_count`` slots can write."""
    import numpy as np

    table = np.zeros(256, dtype=bool)
    table[:slot_count] = True
    table[engine.OWNER_COORDINATOR] = table[engine.OWNER_NONE] = True
    return table


# ------------------------------------------------------------------ arrays

_ROWS_PER_CHECK = 1 << 16


def check_series(rows, prefix: str) -> None:
    """float64 samples: finite, non-negative, times in order (checked in slices)."""
    import numpy as np

    for start in range(0, len(rows), _ROWS_PER_CHECK):
        block = rows[start : start + _ROWS_PER_CHECK]
        if not np.isfinite(block).all():
            raise SessionError(f"{prefix}its series.npy holds a value that is not a finite number")
        if (block < 0).any():
            raise SessionError(f"{prefix}its series.npy holds a negative counter or time")
    if len(rows) > 1 and (np.diff(rows[:, 0]) < 0).any():
        raise SessionError(f"{prefix}its series.npy has sample times that go backwards")


def check_frame_times(times, prefix: str) -> None:
    import numpy as np

    if not np.isfinite(times).all() or (times < 0).any():
        raise SessionError(
            f"{prefix}its frame_times.npy holds a time that is negative or not a finite number"
        )
    if len(times) > 1 and (np.diff(times) < 0).any():
        raise SessionError(f"{prefix}its frame_times.npy has frame times that go backwards")


def decode_frames(frames, ok_table, member: str, valid: str, prefix: str) -> None:
    """Undoes the XOR delta encoding in place, checking every decoded byte with ``ok_table``.

    Works on slices of frames so no second frames-sized array is ever made.
    """
    import numpy as np

    if frames.size == 0:
        return
    per_slice = max(1, (4 << 20) // max(1, frames.shape[1]))
    for start in range(0, len(frames), per_slice):
        block = frames[start : start + per_slice]
        if start:
            block[0] ^= frames[start - 1]
        np.bitwise_xor.accumulate(block, axis=0, out=block)
        ok = np.take(ok_table, block)  # a bool per byte of this slice: about 4 MiB
        if not ok.all():
            bad = int(block.reshape(-1)[np.argmin(ok.reshape(-1))])
            raise SessionError(f"{prefix}its {member} holds the value {bad} (valid {valid})")
