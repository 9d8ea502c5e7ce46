"""Sweeps: a grid of runs over lists of parameters, repeated and interleaved.

A sweep takes lists of values for any of strategy, pool size, threads per
batch, input size (generated inputs), lock kind, workers and heap size, and
runs every combination (a *point*) ``repeat`` times.  The repeats are
interleaved (round 1 of every point, then round 2, ...) so that whatever the
machine does meanwhile hits every point alike; each point reports the median,
min and max wall time.  Every run's signature is checked against the
single-threaded reference of its input (one reference run per input), and the
lock counts of the deterministic strategies must agree across repeats.

Qt-free: the GUI runs :meth:`Sweep.execute` on a worker thread, gets each row
from the progress callback as it arrives, and calls :meth:`Sweep.cancel`.

>>> plan = plan_sweep([file_input("in.bin")], {"pool_size": [2048, 8192]},
...                   RunConfig(strategy=Strategy.POOLED), repeat=3)  # doctest: +SKIP
>>> result = Sweep(plan).execute()  # doctest: +SKIP
>>> [(s.point.label, s.median_s, s.lock_acquisitions) for s in result.summaries()]  # doctest: +SKIP
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import itertools
import os
import pathlib
import statistics
import tempfile
import threading
from collections.abc import Callable, Mapping, Sequence

from engine.config import LockKind, RunConfig, Strategy
from engine.errors import EngineError, InputError, RunCancelled
from engine.machine import MachineStamp, machine_stamp
from engine.run import Run, RunResult
from engine.timeline import TIME_STATES
from engine.units import format_size

#: The RunConfig fields a sweep can take lists of, in the grid's order (the
#: input, which is not a RunConfig field, comes first: outermost).
AXES: tuple[str, ...] = ("strategy", "lock", "workers", "batch_size", "heap_size", "pool_size")
#: Largest generated input, and most runs in one sweep (a typo such as
#: --repeat 1000 on a 5 MiB baseline would run for hours).
MAX_GENERATED = 256 * 1024 * 1024
MAX_RUNS = 10_000
#: Strategies whose lock count is fixed by the input and parameters alone
#: (WORKLOAD.md section 7): it must not change between repeats.
DETERMINISTIC_LOCKS = frozenset(
    {Strategy.SINGLE, Strategy.BASELINE, Strategy.POOLED, Strategy.FLOOR}
)
WALK_FIGURES = (
    "free_list_visits_per_alloc",
    "free_list_visits_per_free",
    "free_list_longest",
    "workers_mid_block_per_acquisition",
)
#: The CSV's columns, one row per run (README "Sweeps" documents them).
CSV_COLUMNS: tuple[str, ...] = (
    "run",
    "round",
    "point",
    "input",
    "input_bytes",
    "strategy",
    "lock",
    "workers",
    "batch_size",
    "pool_size",
    "heap_size",
    "block_size",
    "signature",
    "expected_signature",
    "lock_acquisitions",
    "wall_s",
    "blocks",
    *(f"{state}_s" for state in TIME_STATES),
    *WALK_FIGURES,
)


class SweepError(ValueError):
    """A sweep that cannot be planned; the message is one line naming the problem."""


# -- inputs -------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class SweepInput:
    """One input of a sweep: a file, or bytes generated for a size."""

    path: pathlib.Path
    size: int
    label: str  # the file's name, or "random 1 MiB"
    generated: bool = False


def file_input(path: str | os.PathLike) -> SweepInput:
    """An existing file as a sweep input (the engine checks it when it runs)."""
    p = pathlib.Path(path)
    try:
        size = p.stat().st_size
    except (OSError, ValueError):  # ValueError: a NUL in the path
        size = 0  # the reference run names the problem (missing, unreadable, ...)
    # The label goes into messages, tables and CSVs: no control characters, no surrogates.
    name = os.fsencode(p.name).decode("utf-8", "replace")
    label = "".join(c if c.isprintable() else "?" for c in name)
    return SweepInput(p, size, label if len(label) <= 80 else f"{label[:60]}...{label[-17:]}")


def default_input_folder() -> pathlib.Path:
    """Where generated inputs are kept: $XDG_CACHE_HOME/heapscope/sweep-inputs."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return pathlib.Path(base) / "heapscope" / "sweep-inputs"


def generated_bytes(size: int) -> bytes:
    """``size`` random-looking bytes, the same for a size on every machine and version.

    SHAKE-256 of a fixed text naming the size: standardised (FIPS 202), so
    unlike a library's random generator its output never changes.
    """
    if not 1 <= size <= MAX_GENERATED:
        raise SweepError(
            f"a generated input must be between 1 byte and {format_size(MAX_GENERATED)} "
            f"(got {size} bytes)"
        )
    return hashlib.shake_256(f"heapscope sweep input of {size} bytes".encode()).digest(size)


def _shared_mode() -> int:
    """0666 minus the umask (read from /proc: changing the umask to read it races)."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return 0o644


def write_atomically(path: str | os.PathLike, data: bytes) -> None:
    """Writes ``data`` to ``path`` through a temporary file and a rename: a reader
    sees the old file or the whole new one, and an interrupted write leaves no part."""
    target = pathlib.Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, _shared_mode())
        os.replace(tmp, target)
    except BaseException:
        pathlib.Path(tmp).unlink(missing_ok=True)
        raise


def generated_input(size: int, folder: str | os.PathLike | None = None) -> SweepInput:
    """The generated input of ``size`` bytes, written once to ``folder`` and reused.

    A cached file is reused only when its bytes are exactly the generated
    ones (generating is cheaper than trusting a file someone may have edited).
    """
    data = generated_bytes(size)
    where = pathlib.Path(folder) if folder is not None else default_input_folder()
    path = where / f"random_{size}.bin"
    if where.exists() and not where.is_dir():
        raise SweepError(f"cannot keep generated inputs in '{where}': it is not a folder")
    try:
        where.mkdir(parents=True, exist_ok=True)
        fresh = not (path.is_file() and path.stat().st_size == size and path.read_bytes() == data)
        if fresh:
            write_atomically(path, data)
    except OSError as exc:
        raise SweepError(
            f"cannot write the generated input in '{where}': {exc.strerror or exc}"
        ) from None
    return SweepInput(path, size, f"random {format_size(size)}", generated=True)


# -- the plan -------------------------------------------------------------------


def _value_label(name: str, value) -> str:
    if isinstance(value, (Strategy, LockKind)):
        return value.label
    if name in ("pool_size", "heap_size", "slab_size"):
        return format_size(value)
    return str(value)


@dataclasses.dataclass(frozen=True)
class SweepPoint:
    """One combination of parameters, run ``repeat`` times."""

    index: int  # 1-based, in grid order
    input: SweepInput
    config: RunConfig
    #: The swept parameters' values at this point (only those that vary).
    varied: Mapping[str, object]

    @property
    def label(self) -> str:
        """The point in a few words: its swept values, e.g. 'pooled, pool 2 KiB'."""
        parts = []
        for name, value in self.varied.items():
            if name == "input":
                parts.append(self.input.label)
            elif name in ("strategy", "lock"):
                parts.append(_value_label(name, value))
            else:
                parts.append(
                    f"{name.replace('_size', '').replace('_', ' ')} {_value_label(name, value)}"
                )
        return ", ".join(parts) or self.config.strategy.label

    def describe(self) -> str:
        """Every parameter of the point, for error messages."""
        c = self.config
        return (
            f"point {self.index} ({self.input.label}, {c.strategy.label}, pool "
            f"{format_size(c.pool_size)}, batch {c.batch_size}, {c.lock.label} lock, "
            f"{c.workers} workers, heap {format_size(c.heap_size)})"
        )


@dataclasses.dataclass(frozen=True)
class SweepPlan:
    """The points of a sweep, checked before anything runs."""

    inputs: tuple[SweepInput, ...]
    axes: Mapping[str, tuple]  # every axis, swept or not, with its values
    base: RunConfig
    repeat: int
    points: tuple[SweepPoint, ...]
    #: Strategies asked for that cannot run on this machine, and why.
    skipped: tuple[tuple[Strategy, str], ...] = ()

    @property
    def total_runs(self) -> int:
        return len(self.points) * self.repeat

    @property
    def swept(self) -> tuple[str, ...]:
        """The parameters that take more than one value ("input" for several inputs)."""
        names = ["input"] if len(self.inputs) > 1 else []
        return tuple(names + [n for n in AXES if len(self.axes[n]) > 1])


def _normalise(name: str, values: Sequence) -> tuple:
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        values = [values]
    if not values:
        raise SweepError(f"{name.replace('_', ' ')}: the list of values is empty")
    out = []
    for value in values:
        if name == "strategy":
            value = Strategy.parse(value)
        elif name == "lock":
            value = LockKind.parse(value)
        if value in out:
            raise SweepError(
                f"{name.replace('_', ' ')}: {_value_label(name, value)} is listed twice"
            )
        out.append(value)
    return tuple(out)


def plan_sweep(
    inputs: Sequence[SweepInput],
    axes: Mapping[str, Sequence] | None = None,
    base: RunConfig | None = None,
    repeat: int = 1,
) -> SweepPlan:
    """Checks a sweep and lays out its points, before anything runs.

    ``axes`` maps any of :data:`AXES` to a list of values (strategies and
    lock kinds by name or enum); the others keep ``base``'s value.
    Strategies that cannot run here are left out and listed in ``skipped``.

    Raises
    ------
    SweepError
        An unknown axis, an empty or duplicated value, a repeat outside
        1..1000, too many runs, or a point the engine would refuse (named).
    """
    base = base or RunConfig()
    axes = dict(axes or {})
    unknown = sorted(set(axes) - set(AXES))
    if unknown:
        raise SweepError(f"cannot sweep '{unknown[0]}': choose from {', '.join(AXES)}")
    if isinstance(repeat, bool) or not isinstance(repeat, int) or not 1 <= repeat <= 1000:
        raise SweepError(f"repeat must be a whole number from 1 to 1000 (got {repeat!r})")
    if not inputs:
        raise SweepError("a sweep needs at least one input")
    labels = [i.label for i in inputs]
    if len(set(labels)) != len(labels):
        raise SweepError("an input is listed twice")
    try:
        values = {n: _normalise(n, axes[n]) if n in axes else (getattr(base, n),) for n in AXES}
    except InputError as exc:
        raise SweepError(str(exc)) from None
    skipped = []
    runnable = []
    for strategy in values["strategy"]:
        why = strategy.unavailable_reason()
        if why is None:
            runnable.append(strategy)
        else:
            skipped.append((strategy, why))
    if not runnable:
        names = "; ".join(f"{s.label}: {why}" for s, why in skipped)
        raise SweepError(f"none of the strategies can run on this machine ({names})")
    values["strategy"] = tuple(runnable)
    total = len(inputs) * repeat
    for name in AXES:
        total *= len(values[name])
    if total > MAX_RUNS:
        raise SweepError(f"the sweep would make {total:,} runs; at most {MAX_RUNS:,} in one sweep")
    swept = [n for n in AXES if len(values[n]) > 1]
    points: list[SweepPoint] = []
    for source in inputs:
        for combo in itertools.product(*(values[n] for n in AXES)):
            params = dict(zip(AXES, combo, strict=True))
            varied: dict[str, object] = {"input": source} if len(inputs) > 1 else {}
            varied.update((n, params[n]) for n in swept)
            try:
                config = base.replace(**params)
            except InputError as exc:
                shown = ", ".join(f"{n} {_value_label(n, params[n])}" for n in AXES)
                raise SweepError(f"{source.label}, {shown}: {exc}") from None
            points.append(SweepPoint(len(points) + 1, source, config, varied))
    return SweepPlan(tuple(inputs), values, base, repeat, tuple(points), tuple(skipped))


# -- rows and results ----------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class SweepRow:
    """One finished run of a sweep."""

    run: int  # 1-based, in the order runs happened
    round: int  # 1-based repeat
    point: SweepPoint
    signature: int
    expected_signature: int
    #: None when the strategy's locks are not observable (malloc and the like).
    lock_acquisitions: int | None
    wall_s: float
    blocks: int
    bytes: int
    time_breakdown_s: Mapping[str, float] | None  # None without telemetry
    walk_figures: Mapping[str, float] | None  # None when there is no arena

    @property
    def signature_ok(self) -> bool:
        return self.signature == self.expected_signature

    def csv_record(self) -> dict[str, object]:
        """The row as :data:`CSV_COLUMNS` (empty cells for what was not observed)."""
        c = self.point.config
        record: dict[str, object] = {
            "run": self.run,
            "round": self.round,
            "point": self.point.index,
            "input": self.point.input.label,
            "input_bytes": self.bytes,
            "strategy": c.strategy.label,
            "lock": c.lock.label,
            "workers": c.workers,
            "batch_size": c.batch_size,
            "pool_size": c.pool_size,
            "heap_size": c.heap_size,
            "block_size": c.block_size,
            "signature": self.signature,
            "expected_signature": self.expected_signature,
            "lock_acquisitions": "" if self.lock_acquisitions is None else self.lock_acquisitions,
            "wall_s": f"{self.wall_s:.9f}",
            "blocks": self.blocks,
        }
        for state in TIME_STATES:
            seconds = None if self.time_breakdown_s is None else self.time_breakdown_s[state]
            record[f"{state}_s"] = "" if seconds is None else f"{seconds:.9f}"
        for name in WALK_FIGURES:
            value = None if self.walk_figures is None else self.walk_figures[name]
            record[name] = "" if value is None else f"{value:.6g}"
        return record


def row_of(run_index: int, round_index: int, point: SweepPoint, expected: int, result: RunResult):
    arena = point.config.strategy.uses_arena
    breakdown = result.time_breakdown_s
    return SweepRow(
        run=run_index,
        round=round_index,
        point=point,
        signature=result.signature,
        expected_signature=expected,
        lock_acquisitions=result.lock_acquisitions if arena else None,
        wall_s=result.wall_s,
        blocks=result.blocks,
        bytes=result.bytes,
        time_breakdown_s=dict(breakdown) if breakdown is not None else None,
        walk_figures=dict(result.walk_figures) if arena else None,
    )


@dataclasses.dataclass(frozen=True)
class PointSummary:
    """A point's runs summed up."""

    point: SweepPoint
    runs: int
    median_s: float
    min_s: float
    max_s: float
    #: The point's lock count when every run agreed, else None (see ``locks_seen``).
    lock_acquisitions: int | None
    locks_seen: tuple[int, ...]  # every distinct count, sorted (empty: not observable)
    #: The baseline point with the same other parameters, median over this median.
    speedup: float | None = None


@dataclasses.dataclass(frozen=True)
class SweepResult:
    """What a sweep produced: every finished run, in order, and how it ended."""

    plan: SweepPlan
    rows: tuple[SweepRow, ...]
    references: Mapping[str, int]  # input label -> single-threaded signature
    machine: MachineStamp
    cancelled: bool = False
    #: One line when the sweep stopped on an error (a failed run, a wrong
    #: signature, lock counts that moved), naming the point; None otherwise.
    error: str | None = None
    exception: BaseException | None = dataclasses.field(default=None, compare=False)

    @property
    def complete(self) -> bool:
        return not self.cancelled and self.error is None

    def summaries(self) -> list[PointSummary]:
        """One per point that has at least one finished run, in grid order."""
        by_point: dict[int, list[SweepRow]] = {}
        for row in self.rows:
            by_point.setdefault(row.point.index, []).append(row)
        out = []
        for point in self.plan.points:
            rows = by_point.get(point.index)
            if not rows:
                continue
            walls = [r.wall_s for r in rows]
            seen = sorted({r.lock_acquisitions for r in rows if r.lock_acquisitions is not None})
            out.append(
                PointSummary(
                    point,
                    len(rows),
                    statistics.median(walls),
                    min(walls),
                    max(walls),
                    seen[0] if len(seen) == 1 else None,
                    tuple(seen),
                )
            )
        return _with_speedups(out)


def _others(point: SweepPoint) -> tuple:
    c = point.config
    return (point.input.label, c.lock, c.workers, c.batch_size, c.heap_size, c.pool_size)


def _with_speedups(summaries: list[PointSummary]) -> list[PointSummary]:
    """Speedup vs the baseline point with the same other parameters, when the sweep
    has a baseline and something else to compare with it."""
    strategies = {s.point.config.strategy for s in summaries}
    if Strategy.BASELINE not in strategies or len(strategies) < 2:
        return summaries
    baseline = {
        _others(s.point): s.median_s
        for s in summaries
        if s.point.config.strategy is Strategy.BASELINE
    }
    out = []
    for s in summaries:
        reference = baseline.get(_others(s.point))
        speedup = reference / s.median_s if reference is not None and s.median_s > 0 else None
        out.append(dataclasses.replace(s, speedup=speedup))
    return out


# -- running -------------------------------------------------------------------------

ProgressCallback = Callable[[int, int, SweepRow], None]


class Sweep:
    """Runs a plan: :meth:`execute` blocks (call it on a worker thread in a GUI);
    :meth:`cancel` may be called from any thread, and ``should_cancel`` (a
    callable or an Event) is checked between runs.

    ``on_progress(done, total, row)`` is called on the executing thread after
    every run, with the run's row; it may cancel the sweep.
    """

    def __init__(
        self,
        plan: SweepPlan,
        on_progress: ProgressCallback | None = None,
        should_cancel: Callable[[], bool] | threading.Event | None = None,
    ):
        self.plan = plan
        self._on_progress = on_progress
        if isinstance(should_cancel, threading.Event):
            should_cancel = should_cancel.is_set
        self._should_cancel = should_cancel
        self._cancelled = threading.Event()
        self._lock = threading.Lock()
        self._current: Run | None = None

    def cancel(self) -> None:
        """Stops the sweep: the current run is cancelled, no other starts."""
        self._cancelled.set()
        with self._lock:
            if self._current is not None:
                self._current.cancel()

    @property
    def busy(self) -> bool:
        """True while one of the sweep's runs (a reference or a point) is executing."""
        with self._lock:
            return self._current is not None

    @property
    def cancelled(self) -> bool:
        asked = self._should_cancel
        if not self._cancelled.is_set() and asked is not None and asked():
            self._cancelled.set()
        return self._cancelled.is_set()

    def _execute_one(self, path: pathlib.Path, config: RunConfig) -> RunResult:
        with Run(path, config) as handle:
            with self._lock:
                if self._cancelled.is_set():
                    raise RunCancelled("the sweep was cancelled", -1)
                self._current = handle
            try:
                return handle.execute()
            finally:
                with self._lock:
                    self._current = None

    def execute(self) -> SweepResult:
        """Computes each input's reference, then runs every point ``repeat``
        times, interleaved.  Never raises for a failed run: the result's
        ``error`` names the point (or the input whose reference failed), and
        the rows finished before it are kept."""
        stamp = machine_stamp()
        rows: list[SweepRow] = []
        references: dict[str, int] = {}
        plan = self.plan

        def result(**how) -> SweepResult:
            return SweepResult(plan, tuple(rows), dict(references), stamp.finished(), **how)

        single = RunConfig(
            strategy=Strategy.SINGLE, block_size=plan.base.block_size, telemetry=False
        )
        for source in plan.inputs:
            if self.cancelled:
                return result(cancelled=True)
            try:
                references[source.label] = self._execute_one(source.path, single).signature
            except RunCancelled:
                return result(cancelled=True)
            except EngineError as exc:
                return result(error=f"{source.label}: {exc}", exception=exc)
        locks: dict[int, int] = {}
        for round_index in range(1, plan.repeat + 1):
            for point in plan.points:
                if self.cancelled:
                    return result(cancelled=True)
                try:
                    outcome = self._execute_one(point.input.path, point.config)
                except RunCancelled:
                    return result(cancelled=True)
                except EngineError as exc:
                    return result(error=f"{point.describe()}: {exc}", exception=exc)
                expected = references[point.input.label]
                row = row_of(len(rows) + 1, round_index, point, expected, outcome)
                rows.append(row)
                if self._on_progress is not None:
                    self._on_progress(len(rows), plan.total_runs, row)
                error = self._check(point, row, locks)
                if error:
                    return result(error=error)
        return result()

    @staticmethod
    def _check(point: SweepPoint, row: SweepRow, seen: dict[int, int]) -> str | None:
        """Why this row is wrong (signature, or a lock count that moved), or None."""
        if not row.signature_ok:
            return (
                f"{point.describe()}: signature {row.signature} in round {row.round}, but "
                f"the single-threaded reference is {row.expected_signature}"
            )
        if point.config.strategy not in DETERMINISTIC_LOCKS or row.lock_acquisitions is None:
            return None
        first = seen.setdefault(point.index, row.lock_acquisitions)
        if first == row.lock_acquisitions:
            return None
        return (
            f"{point.describe()}: {row.lock_acquisitions:,} lock acquisitions in round "
            f"{row.round} but {first:,} in round 1; {point.config.strategy.label}'s count "
            "is fixed by the input and parameters"
        )


def run_sweep(
    plan: SweepPlan,
    on_progress: ProgressCallback | None = None,
    should_cancel: Callable[[], bool] | threading.Event | None = None,
) -> SweepResult:
    """Runs a plan to the end (see :class:`Sweep`)."""
    return Sweep(plan, on_progress, should_cancel).execute()


def write_csv(rows: Sequence[SweepRow], path: str | os.PathLike) -> int:
    """Writes one line per run (:data:`CSV_COLUMNS`) atomically; returns the bytes written."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(row.csv_record())
    data = buffer.getvalue().encode()
    write_atomically(path, data)
    return len(data)
