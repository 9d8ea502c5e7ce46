"""A finished run as a Chrome Trace Event Format file (opens in Perfetto's UI
and chrome://tracing).

One track per lane (T0..Tn-1, then the coordinator) with a complete event
("ph": "X") per stretch of one time state, and counter tracks for lock
acquisitions, the free list's length and blocks done, whose last values are
the run's totals. The timeline is cut into bins of ``resolution_s``; inside a
bin each busy state gets one event as long as the time the lane spent in it,
so per state the events add up exactly to the run's breakdown. A state that
runs on across bins is one event: long stretches of one state stay one event,
which keeps a 5 MiB baseline's trace to a few MB.
"""

from __future__ import annotations

import json
import math
import os
from typing import TYPE_CHECKING, Any

import numpy as np

from engine.timeline import BUSY_STATES

if TYPE_CHECKING:
    from engine.run import RunResult

#: Counter tracks, from the run's sampled series.
COUNTER_TRACKS = ("lock_acquisitions", "free_list_length", "blocks_done")
#: Finest bin; a longer run gets wider bins so it has at most MAX_BINS.
MIN_RESOLUTION_S = 0.001
MAX_BINS = 2000
_PID = 1
_EPSILON_S = 1e-9  # below a nanosecond a state's share of a bin is rounding


def default_resolution_s(wall_s: float) -> float:
    """1 ms, or coarser so the run has at most MAX_BINS bins."""
    return max(MIN_RESOLUTION_S, wall_s / MAX_BINS)


def _us(seconds: float) -> float:
    return round(seconds * 1e6, 3)


def _lane_events(lane: int, edges: np.ndarray, seconds: np.ndarray) -> list[dict[str, Any]]:
    """Events of one lane: per bin, its busy states back to back from the bin's
    start; the state that ended the previous bin goes first, so a state that
    spans bins continues one event."""
    events: list[dict[str, Any]] = []
    open_event: dict[str, Any] | None = None
    open_end = 0.0  # where the last event placed ends: the next one starts there or later
    for b in range(len(edges) - 1):
        shares = seconds[b]
        order = [i for i in range(len(BUSY_STATES)) if shares[i] > _EPSILON_S]
        if open_event is not None and open_event["name"] in (BUSY_STATES[i] for i in order):
            first = BUSY_STATES.index(open_event["name"])
            order.remove(first)
            order.insert(0, first)
        t = max(float(edges[b]), open_end)
        for i in order:
            name = BUSY_STATES[i]
            if open_event is not None and open_event["name"] == name and open_end == t:
                open_end = t + float(shares[i])
            else:
                if open_event is not None:
                    open_event["dur"] = round(_us(open_end) - open_event["ts"], 3)
                    events.append(open_event)
                open_event = {"name": name, "ph": "X", "pid": _PID, "tid": lane, "ts": _us(t)}
                open_end = t + float(shares[i])
            t += float(shares[i])
    if open_event is not None:
        open_event["dur"] = round(_us(open_end) - open_event["ts"], 3)
        events.append(open_event)
    return events


def trace_document(result: RunResult, resolution_s: float | None = None) -> dict[str, Any]:
    """The trace of a finished run, as a JSON-ready dict."""
    timeline = result.timeline
    if timeline is None or timeline.rows == 0:
        raise ValueError("this run has no timeline (it ran without telemetry)")
    resolution = default_resolution_s(result.wall_s) if resolution_s is None else resolution_s
    if not (math.isfinite(resolution) and resolution > 0):
        raise ValueError(f"the trace resolution must be above 0 s, not {resolution!r}")
    edges, seconds = timeline.resampled(resolution, end_s=float(timeline.time_s[-1]))

    events: list[dict[str, Any]] = [
        {
            "name": "process_name",
            "ph": "M",
            "pid": _PID,
            "args": {"name": f"heapscope {result.strategy.label}: {os.path.basename(result.path)}"},
        }
    ]
    for lane, name in enumerate(timeline.lane_names):
        events.append(
            {"name": "thread_name", "ph": "M", "pid": _PID, "tid": lane, "args": {"name": name}}
        )
        events.append(
            {
                "name": "thread_sort_index",
                "ph": "M",
                "pid": _PID,
                "tid": lane,
                "args": {"sort_index": lane},
            }
        )
    for lane in range(timeline.lanes):
        events.extend(_lane_events(lane, edges, seconds[:, lane, : len(BUSY_STATES)]))
    events.extend(_counter_events(result))
    return {
        "traceEvents": events,
        "displayTimeUnit": "ms",
        "otherData": {
            "tool": "heapscope",
            "strategy": result.strategy.label,
            "input": os.path.basename(result.path),
            "signature": result.signature,
            "wall_s": result.wall_s,
            "lock_acquisitions": result.lock_acquisitions,
            "resolution_ms": resolution * 1e3,
            "resolution": (
                f"each thread's time is summed per state in bins of {resolution * 1e3:g} ms; "
                "inside a bin the states are drawn back to back, so event edges are exact "
                "to the bin, and per state the events add up to the run's breakdown"
            ),
            "states": list(BUSY_STATES),
        },
    }


def _counter_events(result: RunResult) -> list[dict[str, Any]]:
    series = result.series
    times = series["time_s"]
    events: list[dict[str, Any]] = []
    for name in COUNTER_TRACKS:
        values = series[name]
        for t, v in zip(times.tolist(), values.tolist(), strict=True):
            events.append({"name": name, "ph": "C", "pid": _PID, "ts": _us(t), "args": {name: v}})
    return events


def write_trace(
    result: RunResult, path: str | os.PathLike, resolution_s: float | None = None
) -> int:
    """Writes the trace (atomically: a complete file or none); returns its size in bytes."""
    document = trace_document(result, resolution_s)
    target = os.fspath(path)
    # a sibling temporary file: same file system for the rename, and created
    # with open() so it gets the user's umask like any file they write
    temporary = os.path.join(
        os.path.dirname(os.path.abspath(target)), f".{os.path.basename(target)}.{os.getpid()}.tmp"
    )
    try:
        with open(temporary, "x", encoding="utf-8") as out:
            json.dump(document, out, separators=(",", ":"))
        os.replace(temporary, target)
    except BaseException:
        if os.path.lexists(temporary):
            os.unlink(temporary)
        raise
    return os.path.getsize(target)


def state_totals_s(document: dict[str, Any]) -> dict[str, float]:
    """Seconds per state summed over a trace's complete events (for checks)."""
    totals = dict.fromkeys(BUSY_STATES, 0.0)
    for event in document["traceEvents"]:
        if event.get("ph") == "X":
            totals[event["name"]] += event["dur"] / 1e6
    return totals


__all__ = [
    "COUNTER_TRACKS",
    "default_resolution_s",
    "state_totals_s",
    "trace_document",
    "write_trace",
]
