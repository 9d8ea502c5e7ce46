"""The charts' time axis in "full-speed time": slowed and live runs side by side.

A run slowed to 1/100 lasts a hundred times longer and stretches the shared time
axis until the runs at full speed are a sliver at its left.  With this on, each
slowed run's curve is drawn against its full-speed time (each second at speed s
counts as s seconds: :func:`gui.slow_motion.full_speed_series`), so its curve and
the others' span comparable times; runs at full speed are unchanged.  The live run
is drawn in real time until it ends (the audience watches it in real time).
"""

from __future__ import annotations

import numpy as np

from gui.charts import ChartsPanel, Trace
from gui.slow_motion import SpeedLog, full_speed_series

RECORDED_AXIS = "time since the run started"
FULL_SPEED_AXIS = "full-speed time (slowed runs: time × speed)"


class FullSpeedAxis:
    """Which runs were slowed, their recorded series, and whether the axis shows
    full-speed time (:attr:`on`)."""

    def __init__(self, charts: ChartsPanel):
        self.charts = charts
        self.on = False
        self.logs: dict[int, SpeedLog] = {}
        self._recorded: dict[int, dict[str, np.ndarray]] = {}

    def register(self, run_id: int, log: SpeedLog | None) -> None:
        """Run ``run_id`` ran at these speeds (nothing to do for a run at full speed)."""
        if log is not None and log.slowed:
            self.logs[run_id] = log

    def shown(self, run_id: int, series: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """What a finished run's curve shows for its recorded ``series`` now."""
        self._recorded[run_id] = series
        log = self.logs.get(run_id)
        if not self.on or log is None:
            return series
        return full_speed_series(series, log)

    def set_on(self, on: bool) -> None:
        """Redraws every finished slowed run on the chosen axis."""
        self.on = on
        for trace in self.charts.traces:
            self._redraw(trace)
        text = FULL_SPEED_AXIS if on else RECORDED_AXIS
        for view in self.charts.views.values():
            set_text = getattr(view, "set_time_axis_text", None)
            if set_text is not None:
                set_text(text)

    def toggle(self) -> None:
        self.set_on(not self.on)

    def _redraw(self, trace: Trace) -> None:
        recorded = self._recorded.get(trace.run_id)
        if trace.live or recorded is None or trace.run_id not in self.logs:
            return
        trace.series = self.shown(trace.run_id, recorded)
        self.charts.update_trace(trace)

    def forget(self, keep: set[int] | None = None) -> None:
        """Clear runs: only the runs in ``keep`` (the live one) stay known."""
        keep = keep or set()
        self.logs = {k: v for k, v in self.logs.items() if k in keep}
        self._recorded = {k: v for k, v in self._recorded.items() if k in keep}


def slowed_label(label: str, log: SpeedLog | None) -> str:
    """A curve's name with its slow motion after the run's number and strategy, so
    short legends keep it: '#2 pooled — slowed 1/100 (20 threads, 32 KiB pools)'.
    A mark already there is replaced (the speed changed during the run)."""
    head, sep, tail = label.partition(" (")
    head = head.split(" — slowed", 1)[0].split(" — partly slowed", 1)[0]
    if log is None or not log.slowed:
        return f"{head}{sep}{tail}"
    return f"{head} — {log.label}{sep}{tail}"
