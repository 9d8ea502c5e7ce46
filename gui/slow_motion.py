"""Slow motion, told honestly (no Qt here): which speeds a run ran at, how it is
named, and its "full-speed time".

The engine slows a run by sleeping about 1 us x (1/speed - 1) per allocation
(``engine/csrc/control.c`` run_slow_motion_delay), inside whatever the thread is
doing then: inside the lock for the baseline (so the others really queue),
computing for the pools.  The sleep is not reported on its own, so a slowed run's
wall time says nothing about the strategy at full speed: such a run gets no
speedup (and is never the baseline of one), and its time axis can be shown as
"full-speed time", each second at speed s counting as s seconds (the engine's own
model of slow motion: time stretched by 1/speed).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable

import numpy as np

#: The speeds a run may record (engine.MIN_SPEED is 1/1000).
MIN_FRACTION = 0.001
#: Speed changes a run keeps (a session file accepts no more).
MAX_CHANGES = 64


def speed_text(fraction: float) -> str:
    """'1×', '1/10', '1/100', '1/1000' (or '1/37' for an unusual fraction)."""
    if fraction >= 1.0:
        return "1×"
    return f"1/{round(1.0 / fraction):,}".replace(",", "")


@dataclasses.dataclass(frozen=True)
class SpeedLog:
    """The speeds of one run: (seconds since the run started, fraction of full
    speed) at its start and at every change, times in order."""

    changes: tuple[tuple[float, float], ...] = ((0.0, 1.0),)

    @classmethod
    def at(cls, fraction: float) -> SpeedLog:
        return cls(((0.0, float(fraction)),))

    def changed(self, t: float, fraction: float) -> SpeedLog:
        """This log with a change at ``t`` (later changes than MAX_CHANGES replace the last)."""
        t = max(float(t), self.changes[-1][0])
        if fraction == self.changes[-1][1]:
            return self
        if len(self.changes) >= MAX_CHANGES:
            return SpeedLog((*self.changes[:-1], (t, float(fraction))))
        return SpeedLog((*self.changes, (t, float(fraction))))

    @property
    def slowed(self) -> bool:
        return any(f < 1.0 for _t, f in self.changes)

    @property
    def fractions(self) -> list[float]:
        return sorted({f for _t, f in self.changes}, reverse=True)

    @property
    def label(self) -> str:
        """'slowed 1/100', 'slowed 1/10 to 1/100', 'partly slowed, 1× to 1/100'; ''
        at full speed."""
        if not self.slowed:
            return ""
        fractions = self.fractions
        if len(fractions) == 1:
            return f"slowed {speed_text(fractions[0])}"
        span = f"{speed_text(fractions[0])} to {speed_text(fractions[-1])}"
        return f"partly slowed, {span}" if fractions[0] >= 1.0 else f"slowed {span}"

    def full_speed_time(self, t: np.ndarray | float) -> np.ndarray:
        """Seconds at full speed for ``t`` seconds of this run: each second at speed
        s counts as s seconds (the integral of the speed)."""
        t = np.asarray(t, dtype=np.float64)
        out = np.zeros_like(t)
        starts = [c[0] for c in self.changes]
        for i, (start, fraction) in enumerate(self.changes):
            end = starts[i + 1] if i + 1 < len(starts) else math.inf
            out += np.clip(t - start, 0.0, end - start) * fraction
        return out

    def as_meta(self) -> list[list[float]]:
        return [[t, f] for t, f in self.changes]

    @classmethod
    def from_meta(cls, pairs: Iterable[Iterable[float]]) -> SpeedLog:
        """From a (checked: see gui.session_validate) meta.json ``slow_motion`` list."""
        changes = tuple((float(t), float(f)) for t, f in pairs)
        return cls(changes) if changes else cls()


def full_speed_series(series: dict[str, np.ndarray], log: SpeedLog) -> dict[str, np.ndarray]:
    """``series`` with its time column in full-speed time (the counters unchanged)."""
    out = dict(series)
    out["time_s"] = log.full_speed_time(series["time_s"])
    return out
