"""A sweep as a PNG: time vs the swept parameter (min-max bars), locks vs it.

matplotlib with its Agg backend (no display, no Qt: the engine never imports
Qt), imported only when a plot is asked for: it is the optional ``plot`` extra.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from typing import Any

from engine.config import Strategy
from engine.sweep import PointSummary, SweepPoint, SweepResult, write_atomically
from engine.units import format_size

#: Numeric parameters that make a good x axis, in order of preference.
_NUMERIC_X = ("pool_size", "batch_size", "input", "workers", "heap_size")
_AXIS_TITLES = {
    "pool_size": "pool size",
    "batch_size": "threads per batch",
    "input": "input size",
    "workers": "long-lived workers (0: a thread per block)",
    "heap_size": "heap size",
    "strategy": "strategy",
    "lock": "lock kind",
}
MISSING = (
    "--plot needs matplotlib, which is not installed: "
    "pip install 'heapscope[plot]' (or pip install matplotlib)"
)


class PlotUnavailable(RuntimeError):
    """matplotlib is not installed; the message says how to install it."""


def require_matplotlib() -> None:
    """Raises PlotUnavailable (one line) unless matplotlib can be imported."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise PlotUnavailable(MISSING) from None


def x_parameter(swept: Sequence[str]) -> str | None:
    """The parameter on the x axis: the first numeric swept one, else the first swept."""
    for name in _NUMERIC_X:
        if name in swept:
            return name
    return swept[0] if swept else None


def _x_value(point: SweepPoint, name: str) -> Any:
    if name == "input":
        return point.input.size
    return getattr(point.config, name)


def _x_label(name: str, value: Any) -> str:
    if name in ("pool_size", "heap_size", "input"):
        return format_size(int(value))
    return getattr(value, "label", str(value))


def _spans_decade(values: Sequence[float]) -> bool:
    """True when every value is positive and the largest is >= 10x the smallest."""
    return bool(values) and min(values) > 0 and max(values) >= 10 * min(values)


def render_png(result: SweepResult) -> bytes:
    """The sweep's charts as PNG bytes.

    Raises
    ------
    PlotUnavailable
        When matplotlib is missing.
    ValueError
        When no run finished (nothing to draw).
    """
    require_matplotlib()
    import matplotlib

    matplotlib.use("Agg", force=True)  # files only: no display, no Qt
    from matplotlib.figure import Figure

    summaries = result.summaries()
    if not summaries:
        raise ValueError("no run finished, so there is nothing to plot")
    swept = list(result.plan.swept)
    x_name = x_parameter(swept)
    numeric = x_name in _NUMERIC_X
    others = [n for n in swept if n != x_name]

    # One series per combination of the other swept parameters.
    series: dict[str, list[PointSummary]] = {}
    for s in summaries:
        key = ", ".join(_x_label(n, _x_value(s.point, n)) for n in others) or "median"
        series.setdefault(key, []).append(s)
    categories: list[Any] = []
    if x_name is not None and not numeric:
        for s in summaries:
            value = _x_value(s.point, x_name)
            if value not in categories:
                categories.append(value)

    def xs(group: list[PointSummary]) -> list[float]:
        if x_name is None:
            return [0.0 for _ in group]
        if numeric:
            return [float(_x_value(s.point, x_name)) for s in group]
        return [float(categories.index(_x_value(s.point, x_name))) for s in group]

    speedups = [s for s in summaries if s.speedup is not None]
    panels = 3 if speedups else 2
    figure = Figure(figsize=(5.0 * panels, 4.4), dpi=100, layout="constrained")
    axes = figure.subplots(1, panels)
    time_ax, lock_ax = axes[0], axes[1]
    every_x: list[float] = []
    every_t: list[float] = []
    every_lock: list[float] = []
    # Categories (strategies, lock kinds) are not a scale: markers, no joining line.
    line = "-" if numeric else "none"
    for index, (label, group) in enumerate(series.items()):
        colour = f"C{index % 10}"  # the same series has the same colour in every panel
        x = xs(group)
        every_x += x
        medians = [s.median_s for s in group]
        every_t += [s.min_s for s in group] + [s.max_s for s in group]
        bars = [
            [s.median_s - s.min_s for s in group],
            [s.max_s - s.median_s for s in group],
        ]
        time_ax.errorbar(
            x, medians, yerr=bars, marker="o", capsize=4, label=label, color=colour, linestyle=line
        )
        locked = [(xi, s.lock_acquisitions) for xi, s in zip(x, group, strict=True)]
        locked = [(xi, n) for xi, n in locked if n is not None]
        if locked:
            every_lock += [float(n) for _, n in locked if n is not None]
            lock_ax.plot(
                [a for a, _ in locked],
                [n for _, n in locked],
                marker="s",
                label=label,
                color=colour,
                linestyle=line,
            )
        if panels == 3:
            sped = [
                (xi, s.speedup)
                for xi, s in zip(x, group, strict=True)
                if s.speedup and s.point.config.strategy is not Strategy.BASELINE
            ]
            if sped:
                axes[2].plot(
                    [a for a, _ in sped],
                    [v for _, v in sped],
                    marker="^",
                    label=label,
                    color=colour,
                    linestyle=line,
                )

    title = _AXIS_TITLES.get(x_name or "", "")
    for ax in axes:
        ax.set_xlabel(title)
        ax.grid(True, alpha=0.3)
        if numeric and _spans_decade(every_x):
            ax.set_xscale("log", base=2 if x_name != "workers" else 10)
        if x_name is not None:
            ticks = sorted(set(every_x))
            ax.set_xticks(ticks)
            names = (
                [_x_label(x_name, int(t)) for t in ticks]
                if numeric
                else [_x_label(x_name, categories[int(t)]) for t in ticks]
            )
            ax.set_xticklabels(names)
            ax.minorticks_off()
    runs = result.plan.repeat
    time_ax.set_title(
        f"wall time: median of {runs} runs, bars min-max" if runs > 1 else "wall time (1 run)"
    )
    time_ax.set_ylabel("seconds")
    if _spans_decade(every_t):
        time_ax.set_yscale("log")
    lock_ax.set_title("lock acquisitions")
    if _spans_decade(every_lock):
        lock_ax.set_yscale("log")
    elif every_lock and min(every_lock) == 0 and max(every_lock) >= 10:
        lock_ax.set_yscale("symlog", linthresh=1.0)  # single's 0 next to baseline's millions
    if every_lock:
        scale = lock_ax.get_yscale()
        top = max(every_lock) * (1.1 if scale == "linear" else 2.0) + 1  # top markers show whole
        if scale == "log":
            lock_ax.set_ylim(top=top)
        else:
            lock_ax.set_ylim(bottom=0, top=top)
    if not every_lock:
        lock_ax.text(0.5, 0.5, "not observable", ha="center", va="center")
    if panels == 3:
        axes[2].set_title("speedup vs baseline (medians)")
        axes[2].axhline(1.0, color="0.5", linewidth=0.8)
        axes[2].set_ylabel("x faster")
    if len(series) > 1:
        time_ax.legend(fontsize="small")
    figure.suptitle(_caption(result), fontsize="medium")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _caption(result: SweepResult) -> str:
    inputs = ", ".join(i.label for i in result.plan.inputs)
    stamp = result.machine
    load = "" if stamp.load_before is None else f", load {stamp.load_before[0]:.2f}"
    if stamp.load_after is not None:
        load += f" -> {stamp.load_after[0]:.2f}"
    return f"{inputs} on {stamp.cpu_model}, {stamp.cores} cores{load}"


def write_png(result: SweepResult, path: str | os.PathLike) -> int:
    """Writes the charts to ``path`` atomically; returns the bytes written."""
    data = render_png(result)
    write_atomically(path, data)
    return len(data)
