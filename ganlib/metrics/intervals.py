r"""Results over seeds: a mean (or median) with its confidence interval, and whether two methods separate.

A GAN run is one draw of a random process (initial weights, minibatches, noise), so a method is
judged by the *mean* of a score over independent seeds, and a comparison between two methods by
whether their intervals overlap. :func:`seed_interval` gives the mean (or another statistic, such
as the median) and a bootstrap confidence interval for it (:func:`scipy.stats.bootstrap`, bias-corrected and accelerated); with ten seeds
it is the honest size of what ten seeds can tell. :func:`separated` says whether two such
intervals are disjoint: the condition under which this book writes "X does better than Y".
"""

from __future__ import annotations

from typing import Any, Callable, Sequence, Tuple

import warnings

import numpy as np
from scipy import stats

__all__ = ["seed_interval", "separated", "format_interval"]


def seed_interval(values: Sequence[float], level: float = 0.95, resamples: int = 9999, seed: int = 0,
                  statistic: Callable[..., Any] = np.mean) -> Tuple[float, float, float]:
    r"""``(estimate, low, high)``: ``statistic`` of ``values`` (one per seed; the mean by default,
    e.g. ``np.median`` for skewed scores) and a ``level`` bootstrap confidence interval for it.

    The interval is the BCa bootstrap interval of :func:`scipy.stats.bootstrap` over ``resamples``
    resamples of the seeds (seeded by ``seed``, so the same values give the same interval). When
    every value is the same the bootstrap has nothing to resample, and the interval is that value.

    Raises:
        ValueError: fewer than two values, a non-finite value, or ``level`` outside (0, 1).

    Example:
        >>> from ganlib.metrics import seed_interval
        >>> mean, low, high = seed_interval([8, 8, 7, 8, 6, 8, 8, 5, 8, 8])
        >>> round(mean, 1), low < mean < high
        (7.4, True)
    """
    x = np.asarray(values, dtype=np.float64).reshape(-1)
    if x.size < 2:
        raise ValueError(f"seed_interval needs at least two values (seeds), got {x.size}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"seed_interval got non-finite values: {x.tolist()}")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    mean = float(statistic(x))
    if np.all(x == x[0]):
        return mean, mean, mean
    with warnings.catch_warnings():  # BCa warns (and gives NaN) on near-constant samples: handled below
        warnings.simplefilter("ignore")
        for method in ("BCa", "percentile"):
            res = stats.bootstrap((x,), statistic, confidence_level=level, n_resamples=resamples, method=method,
                                  random_state=np.random.default_rng(seed))
            low, high = float(res.confidence_interval.low), float(res.confidence_interval.high)
            if np.isfinite(low) and np.isfinite(high):
                break
    return mean, low, high


def separated(a: Tuple[float, float, float], b: Tuple[float, float, float]) -> bool:
    """True when the intervals of two :func:`seed_interval` results do not overlap.

    Example:
        >>> from ganlib.metrics import separated
        >>> separated((8.0, 8.0, 8.0), (0.3, 0.0, 0.7)), separated((5.0, 3.0, 7.0), (6.0, 4.0, 8.0))
        (True, False)
    """
    return a[2] < b[1] or b[2] < a[1]


def format_interval(result: Tuple[float, float, float], fmt: str = "{:.1f}") -> str:
    """``"mean [low, high]"`` for a :func:`seed_interval` result, e.g. ``"7.4 [6.6, 7.9]"``."""
    mean, low, high = result
    return f"{fmt.format(mean)} [{fmt.format(low)}, {fmt.format(high)}]"
