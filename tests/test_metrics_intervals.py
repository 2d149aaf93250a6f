"""ganlib.metrics.intervals: means over seeds with bootstrap intervals, and when two methods separate."""

import numpy as np
import pytest

from ganlib.metrics import format_interval, seed_interval, separated


def test_interval_contains_the_mean_and_shrinks_with_more_seeds():
    rng = np.random.default_rng(0)
    few, many = rng.normal(5.0, 2.0, 10), rng.normal(5.0, 2.0, 200)
    m10, lo10, hi10 = seed_interval(few)
    m200, lo200, hi200 = seed_interval(many)
    assert lo10 < m10 < hi10 and lo200 < m200 < hi200
    assert hi200 - lo200 < 0.5 * (hi10 - lo10)  # ~ 1 / sqrt(n)


def test_interval_covers_the_true_mean_about_95_percent_of_the_time():
    rng = np.random.default_rng(1)
    hits = sum(lo <= 0.0 <= hi for lo, hi in (seed_interval(rng.normal(0.0, 1.0, 30), resamples=999, seed=i)[1:]
                                                for i in range(200)))
    assert 0.88 <= hits / 200 <= 0.99


def test_constant_values_give_a_point_interval_and_the_same_values_the_same_interval():
    assert seed_interval([8, 8, 8]) == (8.0, 8.0, 8.0)
    assert seed_interval([1, 2, 5, 3]) == seed_interval([1, 2, 5, 3])


def test_separated_only_when_the_intervals_are_disjoint():
    assert separated((8.0, 8.0, 8.0), (0.3, 0.0, 0.9))
    assert not separated((5.0, 3.0, 7.0), (6.0, 6.9, 8.0))
    assert format_interval((7.44, 6.6, 7.91)) == "7.4 [6.6, 7.9]"


@pytest.mark.parametrize("values, match", [([1.0], "at least two"), ([1.0, float("nan")], "non-finite")])
def test_bad_values_are_refused(values, match):
    with pytest.raises(ValueError, match=match):
        seed_interval(values)
