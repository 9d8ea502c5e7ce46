"""The Experiments window's sweep set-up, checked into an engine plan (no Qt here).

The window collects text (a comma list of values, a repeat count, sizes) and
ticks (strategies); this module turns them into an :class:`engine.sweep.SweepPlan`
with the same parsers and one-line messages as ``python -m engine sweep``, and
lays a sweep's summaries out as chart series (one per strategy).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

from engine import USER_STRATEGIES, RunConfig, Strategy
from engine.sweep import (
    PointSummary,
    SweepError,
    SweepInput,
    SweepPlan,
    file_input,
    generated_input,
    plan_sweep,
)
from engine.sweep_cli import (
    BadArgument,
    parse_counts,
    parse_locks,
    parse_repeat,
    parse_sizes,
)
from engine.units import format_size

#: The swept parameter's choices: shown name -> the sweep's axis ("input" for sizes).
PARAMETERS: dict[str, str | None] = {
    "none (compare the strategies)": None,
    "pool size": "pool_size",
    "threads per batch": "batch_size",
    "lock kind": "lock",
    "workers": "workers",
    "heap size": "heap_size",
    "input size": "input",
}
#: A starting list for each parameter, so the field is never empty.
DEFAULT_VALUES = {
    None: "",
    "pool_size": "2K,8K,32K",
    "batch_size": "2,5,20",
    "lock": "mutex,spin,adaptive",
    "workers": "0,2,4",
    "heap_size": "2M,8M",
    "input": "256K,1M",
}
AXIS_TITLES = {
    "pool_size": "pool size",
    "batch_size": "threads per batch",
    "lock": "lock kind",
    "workers": "long-lived workers (0: a thread per block)",
    "heap_size": "heap size",
    "input": "input size",
    None: "strategy",
}


class SetupError(ValueError):
    """A set-up that cannot be run; the message is one line naming the problem."""


@dataclasses.dataclass(frozen=True)
class Setup:
    """What the window's form says."""

    strategies: tuple[Strategy, ...]
    parameter: str | None  # an axis of PARAMETERS, None: compare strategies only
    values_text: str = ""
    repeat_text: str = "3"
    input_path: str | None = None  # a file; None: a generated input of generated_text
    generated_text: str = "1M"


def available_strategies() -> list[tuple[Strategy, str | None]]:
    """Every strategy a student compares, with why it cannot run here (None: it can)."""
    return [(s, s.unavailable_reason()) for s in USER_STRATEGIES]


def parse_values(parameter: str | None, text: str) -> list:
    """The swept values from a comma list, checked as the command line checks them."""
    if parameter is None:
        return []
    option = next(name for name, axis in PARAMETERS.items() if axis == parameter)
    try:
        if parameter == "input":
            return parse_sizes(option, text, None)
        if parameter in ("pool_size", "heap_size"):
            return parse_sizes(option, text, parameter)
        if parameter == "lock":
            return parse_locks(text)
        return parse_counts(option, text, parameter)
    except BadArgument as exc:
        raise SetupError(str(exc).replace("--lock", option)) from None


def inputs_for(setup: Setup, sizes: Sequence[int] = ()) -> list[SweepInput]:
    """The sweep's inputs: the generated ``sizes``, else the file, else one generated size."""
    try:
        if sizes:
            return [generated_input(size) for size in sizes]
        if setup.input_path:
            return [file_input(setup.input_path)]
        given = parse_sizes("generated input", setup.generated_text, None)
        if len(given) > 1:
            raise SetupError(
                "the generated input takes one size: sweep 'input size' to compare several"
            )
        return [generated_input(given[0])]
    except BadArgument as exc:
        raise SetupError(str(exc)) from None
    except SweepError as exc:
        raise SetupError(str(exc)) from None


def build_plan(setup: Setup) -> SweepPlan:
    """The plan of a set-up (generates inputs when asked; a few ms per MiB).

    Raises
    ------
    SetupError
        One line: no strategy ticked, a bad value, a bad repeat, a plan the engine refuses.
    """
    if not setup.strategies:
        raise SetupError("tick at least one strategy")
    try:
        repeat = parse_repeat(setup.repeat_text)
    except BadArgument as exc:
        raise SetupError(str(exc).replace("--repeat", "repeat")) from None
    values = parse_values(setup.parameter, setup.values_text)
    sizes = values if setup.parameter == "input" else []
    inputs = inputs_for(setup, sizes)
    axes: dict[str, list] = {"strategy": list(setup.strategies)}
    if setup.parameter not in (None, "input"):
        axes[str(setup.parameter)] = values
    try:
        return plan_sweep(inputs, axes, RunConfig(), repeat)
    except SweepError as exc:
        raise SetupError(str(exc)) from None


# -- chart series ----------------------------------------------------------------


#: Which swept parameter goes on the x axis, first choice first (a scale beats
#: categories, and the input size only when nothing else is swept).
X_PREFERENCE = ("pool_size", "batch_size", "workers", "heap_size", "lock", "input")


def x_parameter(swept: Sequence[str]) -> str | None:
    """The x axis of a sweep's charts: a swept parameter other than the strategy, or
    None (the strategies side by side)."""
    return next((name for name in X_PREFERENCE if name in swept), None)


@dataclasses.dataclass
class Series:
    """One line on the charts: a strategy (and the other swept values), in x order."""

    strategy: Strategy
    name: str = ""
    x: list[float] = dataclasses.field(default_factory=list)
    median: list[float] = dataclasses.field(default_factory=list)
    low: list[float] = dataclasses.field(default_factory=list)
    high: list[float] = dataclasses.field(default_factory=list)
    locks: list[int | None] = dataclasses.field(default_factory=list)
    speedup: list[float | None] = dataclasses.field(default_factory=list)


def x_value(summary: PointSummary, parameter: str | None, categories: list) -> float:
    """Where a point sits on the x axis: its numeric value, or its category's index."""
    point = summary.point
    if parameter == "input":
        return float(point.input.size)
    if parameter is None:
        key: object = point.config.strategy
    else:
        key = getattr(point.config, parameter)
    if parameter is None or parameter == "lock":
        if key not in categories:
            categories.append(key)
        return float(categories.index(key))
    return float(key)  # type: ignore[arg-type]


def x_label(parameter: str | None, value) -> str:
    """A tick's text: '2 KiB', '20', 'spin', 'pooled'."""
    if parameter in ("pool_size", "heap_size", "input"):
        return format_size(int(value))
    return getattr(value, "label", str(int(value) if isinstance(value, float) else value))


def _series_name(summary: PointSummary, parameter: str | None) -> str:
    """The strategy, then the point's other swept values: 'pooled, random 1 MiB'."""
    point = summary.point
    parts = [point.config.strategy.label]
    for name, value in point.varied.items():
        if name in ("strategy", parameter):
            continue
        parts.append(
            point.input.label if name == "input" else f"{AXIS_TITLES[name]} " + x_label(name, value)
        )
    return ", ".join(parts)


def series_of(
    summaries: Sequence[PointSummary], parameter: str | None
) -> tuple[list[Series], list]:
    """(one Series per line in first-seen order, the x categories if not numeric)."""
    categories: list = []
    out: dict[str, Series] = {}
    for s in summaries:
        strategy = s.point.config.strategy
        name = _series_name(s, parameter)
        line = out.setdefault(name, Series(strategy, name))
        line.x.append(x_value(s, parameter, categories))
        line.median.append(s.median_s)
        line.low.append(s.min_s)
        line.high.append(s.max_s)
        locks = s.lock_acquisitions
        if locks is None and s.locks_seen:  # counts that vary by run (sizeclass): the middle one
            locks = s.locks_seen[len(s.locks_seen) // 2]
        line.locks.append(locks)
        line.speedup.append(s.speedup)
    for line in out.values():  # points of one series arrive in grid order: sort by x
        order = sorted(range(len(line.x)), key=line.x.__getitem__)
        for name in ("x", "median", "low", "high", "locks", "speedup"):
            values = getattr(line, name)
            setattr(line, name, [values[i] for i in order])
    return list(out.values()), categories


def spans_decade(values: Sequence[float | int | None]) -> bool:
    """True when the positive values' largest is at least 10x the smallest."""
    positive = [float(v) for v in values if v is not None and v > 0 and math.isfinite(v)]
    return bool(positive) and max(positive) >= 10 * min(positive)


__all__ = [
    "AXIS_TITLES",
    "DEFAULT_VALUES",
    "PARAMETERS",
    "Series",
    "Setup",
    "SetupError",
    "available_strategies",
    "build_plan",
    "inputs_for",
    "parse_values",
    "series_of",
    "spans_decade",
    "x_label",
    "x_parameter",
    "x_value",
]
