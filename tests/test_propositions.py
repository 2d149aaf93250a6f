"""ganlib.theory.propositions: the numerical checks of Proposition 1, Theorem 1 and Proposition 2, each tested where it could be wrong."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from ganlib import theory
from ganlib.theory import propositions

LOG4 = math.log(4.0)
X = np.linspace(-12.0, 12.0, 4801)


def gauss(m, s, x=X):
    return norm.pdf(x, loc=m, scale=s)


def test_central_region_matches_normal_quantiles():
    p = gauss(0.0, 1.0)
    region = propositions.central_region(p, p, X, mass=0.99)
    h = X[1] - X[0]
    q = norm.ppf(0.995)  # 2.5758...
    assert X[region][0] == pytest.approx(-q, abs=h)
    assert X[region][-1] == pytest.approx(q, abs=h)
    assert np.all(np.diff(np.flatnonzero(region)) == 1)  # one interval


def test_central_region_of_mixture_covers_both_densities():
    # p_data = N(-4, 1), p_g = N(4, 1): the region of M = (p+q)/2 spans both, the gap included
    region = propositions.central_region(gauss(-4.0, 1.0), gauss(4.0, 1.0), X, mass=0.99)
    assert X[region][0] < -6.0 and X[region][-1] > 6.0
    assert region[np.searchsorted(X, 0.0)]


def test_discriminator_error_is_zero_at_d_star_and_ignores_tails():
    p, q = gauss(0.0, 1.0), gauss(1.5, 0.7)
    d_star = theory.optimal_discriminator(p, q)
    assert propositions.discriminator_error(d_star, p, q, X) == 0.0
    region = propositions.central_region(p, q, X)
    wrong_in_tails = np.where(region, d_star, 1.0 - d_star)
    assert propositions.discriminator_error(wrong_in_tails, p, q, X) == 0.0
    assert np.abs(wrong_in_tails - d_star).max() > 0.9  # it is wrong outside the region


def test_discriminator_error_matches_known_offset():
    p, q = gauss(0.0, 1.0), gauss(1.5, 0.7)
    d_star = theory.optimal_discriminator(p, q)
    shifted = np.clip(d_star + 0.1, 0.0, 1.0)  # D* < 0.9 somewhere in the region, so the max is 0.1
    assert propositions.discriminator_error(shifted, p, q, X) == pytest.approx(0.1, abs=1e-12)
    assert propositions.discriminator_error(np.full_like(X, 0.5), p, p.copy(), X) == 0.0  # D* = 1/2 if p_g = p_data


def test_discriminator_error_rejects_bad_input():
    p, q = gauss(0.0, 1.0), gauss(1.0, 1.0)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        propositions.discriminator_error(np.full_like(X, 1.5), p, q, X)
    with pytest.raises(ValueError, match="shape mismatch"):
        propositions.discriminator_error(np.zeros(3), p, q, X)
    with pytest.raises(ValueError, match=r"mass must be in \(0, 1\)"):
        propositions.discriminator_error(np.full_like(X, 0.5), p, q, X, mass=1.0)
    with pytest.raises(ValueError, match="integrates to"):
        propositions.discriminator_error(np.full_like(X, 0.5), 2 * p, q, X)


def test_theorem1_deviation_is_tiny_over_a_family():
    x = np.linspace(-20.0, 20.0, 8001)
    p = gauss(0.0, 1.0, x)
    family = {f"shift {m:g}": gauss(m, 1.0, x) for m in np.linspace(-4, 4, 11)}
    family.update({f"scale {s:g}": gauss(0.0, s, x) for s in (0.5, 0.8, 1.5, 2.0, 3.0)})
    family["bimodal"] = 0.5 * gauss(-2.0, 0.5, x) + 0.5 * gauss(2.0, 0.5, x)
    dev, table = propositions.theorem1_deviation(p, family, x)
    assert isinstance(table, pd.DataFrame) and len(table) == len(family)
    assert dev < 1e-6
    c = table.set_index("p_g")["C(G)"]
    assert c["shift 0"] == pytest.approx(-LOG4, abs=1e-9)  # the global minimum, at p_g = p_data
    assert (c.drop("shift 0") > -LOG4 + 1e-3).all()
    assert (c <= 1e-9).all()  # C(G) <= 0 since JSD <= log 2


def test_theorem1_deviation_detects_unequal_terms():
    # Two different p_g give different C(G); the deviation column is per member and the table is
    # not a tautology: C(G) at a wide shift approaches 0 = -log 4 + 2 log 2.
    x = np.linspace(-40.0, 40.0, 16001)
    dev, table = propositions.theorem1_deviation(gauss(-15.0, 1.0, x), [gauss(15.0, 1.0, x)], x)
    assert table["C(G)"].iloc[0] == pytest.approx(0.0, abs=1e-6)
    assert table["JSD"].iloc[0] == pytest.approx(math.log(2.0), abs=1e-6)
    assert dev < 1e-6


def test_theorem1_deviation_rejects_bad_input():
    p = gauss(0.0, 1.0)
    with pytest.raises(ValueError, match="family is empty"):
        propositions.theorem1_deviation(p, {}, X)
    with pytest.raises(TypeError, match="family must be"):
        propositions.theorem1_deviation(p, p, X)
    with pytest.raises(ValueError, match=r"p_g\['half'\].*integrates to"):
        propositions.theorem1_deviation(p, {"half": 0.5 * p}, X)


def test_proposition2_descent_converges_and_decreases_c():
    p = 0.5 * gauss(-2.0, 0.5) + 0.5 * gauss(2.0, 0.5)
    q0 = gauss(4.0, 0.7)
    q, hist = propositions.proposition2_descent(p, q0, X, steps=40, lr=0.5)
    assert list(hist.columns) == ["step", "C(G)", "JSD"] and len(hist) == 41
    assert np.all(np.diff(hist["C(G)"]) < 0)
    assert hist["JSD"].iloc[-1] < 1e-5 < hist["JSD"].iloc[0]
    assert hist["C(G)"].iloc[-1] == pytest.approx(-LOG4, abs=1e-4)
    assert theory.jensen_shannon(p, q, X) == pytest.approx(hist["JSD"].iloc[-1], abs=1e-12)


def test_proposition2_descent_with_unit_step_is_the_mixture():
    p, q0 = gauss(0.0, 1.0), gauss(3.0, 0.5)
    q1, _ = propositions.proposition2_descent(p, q0, X, steps=1, lr=1.0)
    np.testing.assert_allclose(q1, 0.5 * (p + q0), atol=1e-9)


def test_proposition2_descent_rejects_bad_step():
    p = gauss(0.0, 1.0)
    with pytest.raises(ValueError, match=r"lr .* must be in \(0, 1\]"):
        propositions.proposition2_descent(p, p, X, lr=1.5)
    with pytest.raises(ValueError, match="steps must be >= 1"):
        propositions.proposition2_descent(p, p, X, steps=0)


