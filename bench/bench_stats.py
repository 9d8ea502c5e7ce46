"""Statistics the bench scripts share (imported by bench.py and allocators.py)."""

from __future__ import annotations

import random
import statistics


def median_ratio_interval(
    num: list[float], den: list[float], seed: int, resamples: int = 2000
) -> tuple[float, float]:
    """The 90% bootstrap interval of median(num) / median(den).  One run here
    varies by 5-30% from the next, so a ratio of two medians can move by as
    much as the budget or margin it is checked against: the reports say how
    much.  Seeded, so the same samples give the same interval."""
    rng = random.Random(seed)
    ratios = sorted(
        statistics.median(rng.choices(num, k=len(num)))
        / statistics.median(rng.choices(den, k=len(den)))
        for _ in range(resamples)
    )
    return ratios[resamples // 20], ratios[resamples - resamples // 20 - 1]
