"""Proposition 1 and Theorem 1 checked numerically on 1-D grids, against independent closed forms."""

import math

import numpy as np
import pytest
from scipy.integrate import simpson
from scipy.stats import norm

from ganlib import theory
from ganlib.theory import (
    jensen_shannon,
    kl_divergence,
    optimal_discriminator,
    value_function,
    value_function_logits,
    virtual_criterion,
    wasserstein_1,
)

LOG4 = math.log(4.0)
LOG2 = math.log(2.0)
X = np.linspace(-30.0, 30.0, 24001)  # h = 2.5e-3: Simpson error far below 1e-8 for std >= 0.3


def gauss(m, s, x=X):
    return norm.pdf(x, loc=m, scale=s)


def uniform(lo, hi, x):
    """Indicator of [lo, hi], normalised on the grid so that its Simpson integral is exactly 1."""
    p = ((x >= lo - 1e-12) & (x <= hi + 1e-12)).astype(float)
    return p / simpson(p, x=x)


# ---------------------------------------------------------------------------- Proposition 1


def test_optimum_is_half_where_densities_equal():
    p = gauss(0.0, 1.0)
    q = gauss(0.0, 1.0)
    np.testing.assert_array_equal(optimal_discriminator(p, q), 0.5)
    # two different Gaussians: equal exactly at the midpoint of the means
    d = optimal_discriminator(gauss(-1.0, 1.0, np.array([0.0])), gauss(1.0, 1.0, np.array([0.0])))
    assert d[0] == pytest.approx(0.5, abs=1e-15)


def test_optimum_matches_hand_formula_for_two_gaussians():
    # p_data = N(0, 1), p_g = N(1, 2^2) at x = 0.5:
    # D* = 1 / (1 + p_g/p_data), p_g/p_data = (1/2) exp(-(0.5-1)^2/8 + 0.5^2/2) = 0.5 exp(0.09375)
    x = np.array([0.5])
    ratio = 0.5 * math.exp(-(0.25) / 8 + 0.25 / 2)
    d = optimal_discriminator(norm.pdf(x, 0, 1), norm.pdf(x, 1, 2))
    assert d[0] == pytest.approx(1.0 / (1.0 + ratio), rel=1e-12)


def test_optimum_is_half_outside_both_supports_and_zero_or_one_on_exclusive_support():
    x = np.linspace(-1, 4, 501)
    p, q = uniform(0, 1, x), uniform(2, 3, x)
    d = optimal_discriminator(p, q)
    assert np.all(d[(p > 0) & (q == 0)] == 1.0)
    assert np.all(d[(q > 0) & (p == 0)] == 0.0)
    assert np.all(d[(p == 0) & (q == 0)] == 0.5)


def test_optimal_discriminator_maximises_value_function():
    # Grid on which neither density is < 1e-16 times the other, so D* never rounds to exactly 0 or 1.
    x = np.linspace(-12.0, 12.0, 9601)
    p, q = gauss(0.0, 1.0, x), gauss(1.5, 1.0, x)
    d_star = optimal_discriminator(p, q)
    assert 0.0 < d_star.min() and d_star.max() < 1.0
    c = virtual_criterion(p, q, x)
    assert value_function(d_star, p, q, x) == pytest.approx(c, abs=1e-9)
    rng = np.random.default_rng(0)
    candidates = [
        np.full_like(x, 0.5),
        np.full_like(x, 0.9),
        1.0 / (1.0 + np.exp(x - 0.75)),  # right orientation and threshold, wrong slope (D* = sigma(0.75 - 1.5 x))
        np.clip(d_star + 0.05 * np.sin(3 * x), 1e-12, 1 - 1e-12),
        np.clip(d_star + 0.02 * rng.standard_normal(x.shape), 1e-12, 1 - 1e-12),
    ]
    for d in candidates:
        assert value_function(d, p, q, x) < c - 1e-6
    assert value_function(np.full_like(x, 0.5), p, q, x) == pytest.approx(-LOG4, abs=1e-9)


def test_value_function_is_minus_inf_when_d_is_certain_against_mass():
    p, q = gauss(0.0, 1.0), gauss(1.0, 1.0)
    assert value_function(np.zeros_like(X), p, q, X) == -math.inf
    assert value_function(np.ones_like(X), p, q, X) == -math.inf


def test_value_function_logits_matches_probability_form():
    x = np.linspace(-12.0, 12.0, 9601)
    p, q = gauss(0.0, 1.0, x), gauss(1.5, 0.7, x)
    logit = -1.2 * (x - 0.75)  # |logit| <= 16 on x: sigmoid(logit) never rounds to 0 or 1
    d = 1.0 / (1.0 + np.exp(-logit))
    assert 0.0 < d.min() and d.max() < 1.0
    assert value_function_logits(logit, p, q, x) == pytest.approx(value_function(d, p, q, x), abs=1e-10)


def test_value_function_logits_finite_where_sigmoid_rounds_to_one():
    # Constant D = sigma(c): V = log sigma(c) + log sigma(-c) exactly, as both densities integrate to 1.
    p, q = gauss(0.0, 1.0), gauss(1.5, 0.7)
    for c in [50.0, -50.0, 100.0]:
        logit = np.full_like(X, c)
        closed = -(math.log1p(math.exp(-abs(c))) + abs(c))  # log sigma(c) + log sigma(-c)
        assert value_function_logits(logit, p, q, X) == pytest.approx(closed, rel=1e-9)
        if c > 37:  # sigmoid(c) == 1.0 in float64, so the probability form sees D = 1 against p_g > 0
            assert value_function(1.0 / (1.0 + np.exp(-logit)), p, q, X) == -math.inf
    # a steep logistic D is still bounded by C(G) (Proposition 1)
    assert value_function_logits(-6.0 * (X - 0.75), p, q, X) < virtual_criterion(p, q, X)
    with pytest.raises(ValueError, match="logit contains non-finite"):
        value_function_logits(np.full_like(X, np.inf), p, q, X)


# ---------------------------------------------------------------------------- Theorem 1


def test_virtual_criterion_is_minus_log4_at_pg_equal_pdata():
    for m, s in [(0.0, 1.0), (2.0, 0.5), (-3.0, 3.0)]:
        p = gauss(m, s)
        assert virtual_criterion(p, p.copy(), X) == pytest.approx(-LOG4, abs=1e-8)
        assert jensen_shannon(p, p.copy(), X) == pytest.approx(0.0, abs=1e-12)


def random_gaussian_pairs(seed, n):
    """``n`` pairs of Gaussian densities on X, means in [-5, 5], standard deviations in [0.3, 3]."""
    rng = np.random.default_rng(seed)
    for _ in range(n):
        m1, m2 = rng.uniform(-5, 5, size=2)
        s1, s2 = rng.uniform(0.3, 3.0, size=2)
        yield gauss(m1, s1), gauss(m2, s2)


def test_virtual_criterion_equals_minus_log4_plus_twice_jsd():
    for p, q in random_gaussian_pairs(1, 24):
        c = virtual_criterion(p, q, X)
        jsd = jensen_shannon(p, q, X)
        assert c + LOG4 == pytest.approx(2 * jsd, abs=1e-6)
        assert c >= -LOG4 - 1e-12


def test_jsd_symmetric_nonnegative_bounded_by_log2():
    for p, q in random_gaussian_pairs(2, 10):
        a, b = jensen_shannon(p, q, X), jensen_shannon(q, p, X)
        assert a == pytest.approx(b, abs=1e-12)
        assert 0.0 < a <= LOG2 + 1e-12


def test_jsd_is_log2_for_far_apart_gaussians():
    assert jensen_shannon(gauss(-15.0, 1.0), gauss(15.0, 1.0), X) == pytest.approx(LOG2, abs=1e-6)


def test_jsd_finite_where_density_is_smallest_subnormal():
    # A tail value of 5e-324 (as a Gaussian tail can underflow to) halves to 0 in (p + q) / 2:
    # the mixture M must not vanish where p > 0, else KL(p || M) would wrongly be inf.
    p, q = gauss(-10.0, 0.3), gauss(10.0, 0.3)
    i = np.flatnonzero((p == 0) & (q == 0))[-1]
    p[i] = np.nextafter(0.0, 1.0)
    assert 0.5 * (p[i] + q[i]) == 0.0
    assert jensen_shannon(p, q, X) == pytest.approx(LOG2, abs=1e-6)
    assert virtual_criterion(p, q, X) == pytest.approx(0.0, abs=1e-6)  # -log 4 + 2 log 2


def test_jsd_is_log2_for_disjoint_uniforms_at_every_shift():
    x = np.linspace(-1.0, 7.0, 8001)
    for shift in [1.5, 2.0, 3.25, 5.0]:
        assert jensen_shannon(uniform(0, 1, x), uniform(shift, shift + 1, x), x) == pytest.approx(LOG2, abs=1e-9)


def test_kl_matches_gaussian_closed_form():
    # +-15 keeps every tail above the float64 underflow (a q that underflows to 0 where p > 0 gives inf)
    x = np.linspace(-15.0, 15.0, 12001)
    rng = np.random.default_rng(3)
    for _ in range(8):
        m1, m2 = rng.uniform(-3, 3, size=2)
        s1, s2 = rng.uniform(0.5, 2.5, size=2)
        closed = math.log(s2 / s1) + (s1**2 + (m1 - m2) ** 2) / (2 * s2**2) - 0.5
        assert kl_divergence(gauss(m1, s1, x), gauss(m2, s2, x), x) == pytest.approx(closed, abs=1e-6)


def test_kl_is_inf_without_absolute_continuity_and_zero_for_equal():
    x = np.linspace(-1, 4, 501)
    p, q = uniform(0, 2, x), uniform(0, 1, x)
    assert kl_divergence(p, q, x) == math.inf
    assert math.isfinite(kl_divergence(q, p, x))
    assert kl_divergence(q, p, x) == pytest.approx(math.log(2), abs=1e-2)  # log(2/1) up to the grid edge
    assert kl_divergence(p, p, x) == 0.0


# ---------------------------------------------------------------------------- Wasserstein-1


def test_w1_between_gaussian_translates_is_the_shift():
    x = np.linspace(-15.0, 18.0, 33001)
    assert wasserstein_1(gauss(0, 1, x), gauss(3, 1, x), x) == pytest.approx(3.0, abs=1e-4)


def test_w1_between_disjoint_uniforms_is_the_shift():
    x = np.linspace(-1.0, 7.0, 8001)
    for shift in [1.5, 2.0, 3.25, 5.0]:
        p, q = uniform(0, 1, x), uniform(shift, shift + 1, x)
        assert wasserstein_1(p, q, x) == pytest.approx(shift, abs=1e-6)
        assert wasserstein_1(q, p, x) == pytest.approx(shift, abs=1e-6)


# ---------------------------------------------------------------------------- input validation


def test_shape_mismatch_raises():
    with pytest.raises(ValueError, match="shape mismatch"):
        optimal_discriminator(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match="shape mismatch"):
        jensen_shannon(gauss(0, 1), gauss(0, 1)[:-1], X)
    with pytest.raises(ValueError, match="shape mismatch"):
        value_function(np.full(5, 0.5), gauss(0, 1), gauss(0, 1), X)


def test_negative_or_nonfinite_density_raises():
    p = gauss(0, 1)
    bad = p.copy()
    bad[100] = -1e-3
    with pytest.raises(ValueError, match="negative"):
        kl_divergence(bad, p, X)
    with pytest.raises(ValueError, match="negative"):
        optimal_discriminator(np.array([0.1, -0.1]), np.array([0.1, 0.1]))
    bad = p.copy()
    bad[5] = np.nan
    with pytest.raises(ValueError, match="non-finite"):
        virtual_criterion(bad, p, X)


def test_bad_grid_raises():
    p = gauss(0, 1)
    with pytest.raises(ValueError, match="strictly increasing"):
        kl_divergence(p, p, X[::-1])
    x = X.copy()
    x[10] = x[9]
    with pytest.raises(ValueError, match="strictly increasing"):
        jensen_shannon(p, p, x)
    with pytest.raises(ValueError, match="at least 3 points"):
        wasserstein_1(np.ones(2), np.ones(2), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="1-D"):
        virtual_criterion(np.ones((3, 3)), np.ones((3, 3)), np.ones((3, 3)))


def test_unnormalised_density_raises_and_suggests_widening_grid():
    narrow = np.linspace(-1, 1, 201)
    with pytest.raises(ValueError, match="integrates to .* widen the grid"):
        jensen_shannon(gauss(0, 1, narrow), gauss(0, 1, narrow), narrow)
    with pytest.raises(ValueError, match="integrates to"):
        virtual_criterion(2 * gauss(0, 1), gauss(0, 1), X)


def test_discriminator_outside_unit_interval_raises():
    p = gauss(0, 1)
    with pytest.raises(ValueError, match=r"values in \[0, 1\]"):
        value_function(np.full_like(X, 1.5), p, p, X)
    with pytest.raises(ValueError, match="non-finite"):
        value_function(np.full_like(X, np.nan), p, p, X)


def test_normalisation_tolerance_is_documented_constant():
    # within tolerance passes, just outside fails: the check uses NORMALISATION_TOL
    p = gauss(0, 1)
    virtual_criterion(p * (1 + 0.5 * theory.NORMALISATION_TOL), p, X)
    with pytest.raises(ValueError):
        virtual_criterion(p * (1 + 2 * theory.NORMALISATION_TOL), p, X)
