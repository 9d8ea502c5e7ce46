"""The timeline's picture as numbers (no Qt): which state each lane shows in each
time bin of a window, and the RGB image of it.

A bin shows the state that took most of its time (at 1 ms samples and a screen
pixel per bin, that is what the eye can resolve anyway). Bins after the last
sample have no state yet (NO_DATA) and are drawn as the background, so a live
run's future is never shown as idle.

Above the lanes, one more row says how much of each bin the allocator lock was
held by anyone (in_allocator summed over the lanes): black when it never
rests, white when it is free. Each holder is a sliver in its own lane; this
row shows that together they keep the lock busy.
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

_IN_ALLOCATOR = TIME_STATES.index("in_allocator")
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


def window_seconds(
    timeline: Timeline, start_s: float, end_s: float, bins: int
) -> tuple[np.ndarray, np.ndarray]:
    """(edges, seconds): ``bins`` equal bins from ``start_s`` to ``end_s`` and the
    seconds per bin, lane and state (bins, lanes, 6)."""
    if not end_s > start_s or bins < 1:
        raise ValueError(f"a timeline window needs start < end and bins >= 1, not {bins!r} bins")
    edges = np.linspace(start_s, end_s, bins + 1)
    if timeline.rows == 0:
        return edges, np.zeros((bins, timeline.lanes, len(TIME_STATES)))
    return edges, np.maximum(np.diff(cumulative_window(timeline, edges), axis=0), 0.0)


def lock_held(timeline: Timeline, edges: np.ndarray, seconds: np.ndarray) -> np.ndarray:
    """(bins,): the share of each bin during which some lane held the allocator
    lock (0..1); -1 where the bin starts at or after the last sample."""
    held = seconds[:, :, _IN_ALLOCATOR].sum(axis=1) / np.maximum(np.diff(edges), 1e-12)
    held = np.clip(held, 0.0, 1.0)
    if timeline.rows == 0:
        return np.full(len(held), -1.0)
    held[edges[:-1] >= timeline.time_s[-1]] = -1.0
    return held


def window_states(
    timeline: Timeline, start_s: float, end_s: float, bins: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(edges, states, shares) of ``bins`` equal bins from ``start_s`` to ``end_s``.

    ``states``: (lanes, bins) uint8, the index in TIME_STATES of the state that
    took most of the bin, NO_DATA where the bin starts at or after the last
    sample. ``shares``: (lanes, bins), that state's fraction of the bin's time.
    """
    edges, seconds = window_seconds(timeline, start_s, end_s, bins)
    return (edges, *states_of(timeline, edges, seconds))


def states_of(
    timeline: Timeline, edges: np.ndarray, seconds: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(states, shares) of :func:`window_states` from :func:`window_seconds`' output."""
    lanes, bins = timeline.lanes, len(edges) - 1
    if timeline.rows == 0:
        return np.full((lanes, bins), NO_DATA, np.uint8), np.zeros((lanes, bins))
    states = np.argmax(seconds, axis=2).astype(np.uint8)  # (bins, lanes)
    total = seconds.sum(axis=2)
    with np.errstate(divide="ignore", invalid="ignore"):
        shares = np.where(total > 0, seconds.max(axis=2) / total, 0.0)
    unknown = (edges[:-1] >= timeline.time_s[-1]) | (total.max(axis=1) <= 0)
    states[unknown] = NO_DATA
    shares[unknown] = 0.0
    return np.ascontiguousarray(states.T), np.ascontiguousarray(shares.T)


def lock_rgb(held: np.ndarray) -> np.ndarray:
    """(bins, 3) uint8: white (lock free) to the holders' black (held throughout)."""
    white = _LUT[NO_DATA].astype(np.float64)
    holder = _LUT[_IN_ALLOCATOR].astype(np.float64)
    f = np.clip(held, 0.0, 1.0)[:, None]
    return np.rint(white + (holder - white) * f).astype(np.uint8)


def lanes_rgb(states: np.ndarray, held: np.ndarray | None = None) -> np.ndarray:
    """(rows * ROWS_PER_LANE, bins, 3) uint8: the lock row first when ``held`` is
    given, then lane 0 downwards; each row's colour rows, then one background row."""
    lanes, bins = states.shape
    rows = lanes + (held is not None)
    image = np.empty((rows, ROWS_PER_LANE, bins, 3), dtype=np.uint8)
    first = 0
    if held is not None:
        image[0, :-1] = lock_rgb(held)[None]
        first = 1
    image[first:, :-1] = _LUT[states][:, None]
    image[:, -1] = _LUT[NO_DATA]
    return image.reshape(rows * ROWS_PER_LANE, bins, 3)


__all__ = [
    "NO_DATA",
    "ROWS_PER_LANE",
    "cumulative_window",
    "lanes_rgb",
    "lock_held",
    "lock_rgb",
    "state_rgb",
    "states_of",
    "window_seconds",
    "window_states",
]
