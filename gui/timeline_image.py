"""The timeline's picture as numbers (no Qt): which state each lane shows in each
time bin of a window, and the RGB image of it.

A bin shows the state that took most of its time (at 1 ms samples and a screen
pixel per bin, that is what the eye can resolve anyway). Bins after the last
sample have no state yet (NO_DATA) and are drawn as the background, so a live
run's future is never shown as idle.
"""

from __future__ import annotations

import numpy as np

from engine import TIME_STATES, Timeline
from gui import palette

#: State index of a bin the timeline does not reach yet.
NO_DATA = 255
#: Image rows per lane: ROWS_PER_LANE - 1 coloured rows and one background row
#: between lanes, so two neighbours in the same state still read as two lanes.
ROWS_PER_LANE = 8

_LUT = np.zeros((256, 3), dtype=np.uint8)
_LUT[:] = palette.rgb(palette.NO_DATA)
for _i, _state in enumerate(TIME_STATES):
    _LUT[_i] = palette.rgb(palette.TIME_STATE_COLOURS[_state])


def state_rgb(state: str) -> tuple[int, int, int]:
    """The lanes' colour of one state."""
    return tuple(int(v) for v in _LUT[TIME_STATES.index(state)])  # type: ignore[return-value]


def cumulative_window(timeline: Timeline, times_s: np.ndarray) -> np.ndarray:
    """(len(times_s), lanes, 6): cumulative seconds per state at ``times_s`` (increasing),
    interpolated between samples; only the rows around the window are read, so a
    frame costs the same early and late in a long run."""
    times = np.asarray(times_s, dtype=np.float64)
    lanes = timeline.lanes
    if timeline.rows == 0 or len(times) == 0:
        return np.zeros((len(times), lanes, len(TIME_STATES)))
    t = timeline.time_s
    lo = max(0, int(np.searchsorted(t, times[0], side="right")) - 1)
    hi = min(timeline.rows, int(np.searchsorted(t, times[-1], side="left")) + 1)
    part = Timeline(t[lo:hi], timeline.busy_s[lo:hi])
    xs, ys = part.time_s, part.cumulative_s
    if lo == 0:  # the run starts at 0 with nothing accounted
        xs = np.concatenate([[0.0], xs])
        ys = np.concatenate([np.zeros((1, lanes, len(TIME_STATES))), ys])
    i = np.clip(np.searchsorted(xs, times, side="right") - 1, 0, len(xs) - 1)
    j = np.minimum(i + 1, len(xs) - 1)
    span = xs[j] - xs[i]
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.where(span > 0, (times - xs[i]) / span, 0.0)
    w = np.clip(w, 0.0, 1.0)[:, None, None]
    return ys[i] + w * (ys[j] - ys[i])


def window_states(
    timeline: Timeline, start_s: float, end_s: float, bins: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(edges, states, shares) of ``bins`` equal bins from ``start_s`` to ``end_s``.

    ``states``: (lanes, bins) uint8, the index in TIME_STATES of the state that
    took most of the bin, NO_DATA where the bin starts at or after the last
    sample. ``shares``: (lanes, bins), that state's fraction of the bin's time.
    """
    if not end_s > start_s or bins < 1:
        raise ValueError(f"a timeline window needs start < end and bins >= 1, not {bins!r} bins")
    edges = np.linspace(start_s, end_s, bins + 1)
    lanes = timeline.lanes
    if timeline.rows == 0:
        return edges, np.full((lanes, bins), NO_DATA, np.uint8), np.zeros((lanes, bins))
    seconds = np.maximum(np.diff(cumulative_window(timeline, edges), axis=0), 0.0)
    states = np.argmax(seconds, axis=2).astype(np.uint8)  # (bins, lanes)
    total = seconds.sum(axis=2)
    with np.errstate(divide="ignore", invalid="ignore"):
        shares = np.where(total > 0, seconds.max(axis=2) / total, 0.0)
    unknown = (edges[:-1] >= timeline.time_s[-1]) | (total.max(axis=1) <= 0)
    states[unknown] = NO_DATA
    shares[unknown] = 0.0
    return edges, np.ascontiguousarray(states.T), np.ascontiguousarray(shares.T)


def lanes_rgb(states: np.ndarray) -> np.ndarray:
    """(lanes * ROWS_PER_LANE, bins, 3) uint8, lane 0 on top: each lane's colour
    rows, then one background row."""
    lanes, bins = states.shape
    image = np.empty((lanes, ROWS_PER_LANE, bins, 3), dtype=np.uint8)
    image[:, :-1] = _LUT[states][:, None]
    image[:, -1] = _LUT[NO_DATA]
    return image.reshape(lanes * ROWS_PER_LANE, bins, 3)


__all__ = [
    "NO_DATA",
    "ROWS_PER_LANE",
    "cumulative_window",
    "lanes_rgb",
    "state_rgb",
    "window_states",
]
