"""Feeds the lanes and the "where the time went" bars: from the live run each frame,
from each finished run, and empties them on Clear runs.

The bars follow the results table: one per row whose result has a time
breakdown (live runs, and replays of sessions that recorded one), plus the
stopped runs (not in the table) and the run in progress, in run order.

The live timeline is read incrementally (``Run.timeline(after_s)``: only the
rows sampled since the last frame) and joined to our copy, which stays
bounded however long a slowed-down run lasts: past MAX_ROWS rows, the older
half is thinned (cumulative rows lose resolution, never time).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from engine import TIME_STATES, Run, RunResult, Timeline
from gui.breakdown_chart import BreakdownChart, BreakdownItem
from gui.results_table import ResultsModel
from gui.timeline_view import TimelineView

#: Rows of live timeline kept at full resolution (about 1 ms each).
MAX_ROWS = 20_000
#: The live bar is redrawn every BAR_EVERY frames (it moves slowly).
BAR_EVERY = 4


def bounded(timeline: Timeline, max_rows: int = MAX_ROWS) -> Timeline:
    """At most ``max_rows`` rows: the newest half whole, the older rows thinned."""
    if timeline.rows <= max_rows:
        return timeline
    split = timeline.rows - max_rows // 2
    old = Timeline(timeline.time_s[:split], timeline.busy_s[:split]).thinned(max_rows // 4)
    return Timeline(
        np.concatenate([old.time_s, timeline.time_s[split:]]),
        np.concatenate([old.busy_s, timeline.busy_s[split:]]),
    )


def seconds_by_state(timeline: Timeline) -> dict[str, float]:
    """Seconds per state summed over every lane, at the timeline's last sample."""
    totals = timeline.totals_s().sum(axis=0)
    return {state: float(totals[i]) for i, state in enumerate(TIME_STATES)}


def run_name(run_id: int, strategy_label: str) -> str:
    """A bar's name: "#1 baseline"."""
    return f"#{run_id} {strategy_label}"


@dataclasses.dataclass
class _LiveRun:
    run_id: int
    label: str
    timeline: Timeline | None = None
    frames: int = 0


class TimeFeed:
    """Keeps the lanes and the bars in step with the runs."""

    def __init__(self, lanes: TimelineView, bars: BreakdownChart, results: ResultsModel):
        self.lanes = lanes
        self.bars = bars
        self.results = results
        #: Stopped runs' bars (run id, bar): they have no row in the table.
        self.stopped: list[tuple[int, BreakdownItem]] = []
        self._live: _LiveRun | None = None
        results.rowsInserted.connect(self._show_bars)
        results.modelReset.connect(self._show_bars)

    @property
    def timeline(self) -> Timeline | None:
        """The live run's timeline so far (None when nothing runs)."""
        return None if self._live is None else self._live.timeline

    def begin(self, run_id: int, strategy_label: str) -> None:
        """A run starts: empty lanes, and a bar that grows with it."""
        self._live = _LiveRun(run_id, run_name(run_id, strategy_label))
        self.lanes.clear()

    def frame(self, run: Run, final: bool = False) -> None:
        """One frame of the live run: its new timeline rows; every few frames its bar."""
        live = self._live
        if live is None:
            return
        old = live.timeline
        after = float(old.time_s[-1]) if old is not None and old.rows else -1.0
        newer = run.timeline(after)
        live.timeline = bounded(newer if old is None else old.extended(newer))
        if live.timeline.rows:
            self.lanes.show_timeline(live.timeline, live=True)
        if final or live.frames % BAR_EVERY == 0:
            self._show_bars()
        live.frames += 1

    def finish(self, result: RunResult) -> None:
        """The run finished: its whole timeline (zoomable); its bar comes with its row."""
        live, self._live = self._live, None
        timeline = result.timeline or (live.timeline if live is not None else None)
        if timeline is not None and timeline.rows:
            self.lanes.show_timeline(timeline, live=False)
        self._show_bars()

    def end(self, keep_as: str | None) -> None:
        """The run failed or was stopped: its lanes so far stay (zoomable); its bar
        stays named ``keep_as`` (e.g. "#3 baseline — stopped"), or goes when None."""
        live, self._live = self._live, None
        if live is None or live.timeline is None or not live.timeline.rows:
            self._show_bars()
            return
        self.lanes.show_timeline(live.timeline, live=False)
        if keep_as is not None:
            item = BreakdownItem(keep_as, seconds_by_state(live.timeline))
            self.stopped.append((live.run_id, item))
        self._show_bars()

    def clear(self) -> None:
        """Clear runs: every bar and the lanes go; a run in progress keeps its own."""
        self.stopped = []
        if self._live is None:
            self.lanes.clear()
        self._show_bars()

    def _show_bars(self, *_signal_args: object) -> None:
        bars = list(self.stopped)
        for row in self.results.rows:
            seconds = row.result.time_breakdown_s
            if seconds is not None:
                name = run_name(row.run_id, row.result.strategy.label)
                bars.append((row.run_id, BreakdownItem(name, seconds)))
        live = self._live
        if live is not None and live.timeline is not None and live.timeline.rows:
            item = BreakdownItem(f"{live.label} …", seconds_by_state(live.timeline))
            bars.append((live.run_id, item))
        self.bars.set_runs([item for _, item in sorted(bars, key=lambda bar: bar[0])])


__all__ = ["MAX_ROWS", "TimeFeed", "bounded", "run_name", "seconds_by_state"]
