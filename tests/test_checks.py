"""ganlib.checks: the numerical checks the theory chapters print, each tested where it could be wrong."""

import math

import numpy as np
import pandas as pd
import pytest
import torch
from scipy.stats import norm

from ganlib import checks, theory, toy

LOG4 = math.log(4.0)
X = np.linspace(-12.0, 12.0, 4801)


def gauss(m, s, x=X):
    return norm.pdf(x, loc=m, scale=s)


# ---------------------------------------------------------------------------- central region, D error


def test_central_region_matches_normal_quantiles():
    p = gauss(0.0, 1.0)
    region = checks.central_region(p, p, X, mass=0.99)
    h = X[1] - X[0]
    q = norm.ppf(0.995)  # 2.5758...
    assert X[region][0] == pytest.approx(-q, abs=h)
    assert X[region][-1] == pytest.approx(q, abs=h)
    assert np.all(np.diff(np.flatnonzero(region)) == 1)  # one interval


def test_central_region_of_mixture_covers_both_densities():
    # p_data = N(-4, 1), p_g = N(4, 1): the region of M = (p+q)/2 spans both, the gap included
    region = checks.central_region(gauss(-4.0, 1.0), gauss(4.0, 1.0), X, mass=0.99)
    assert X[region][0] < -6.0 and X[region][-1] > 6.0
    assert region[np.searchsorted(X, 0.0)]


def test_discriminator_error_is_zero_at_d_star_and_ignores_tails():
    p, q = gauss(0.0, 1.0), gauss(1.5, 0.7)
    d_star = theory.optimal_discriminator(p, q)
    assert checks.discriminator_error(d_star, p, q, X) == 0.0
    region = checks.central_region(p, q, X)
    wrong_in_tails = np.where(region, d_star, 1.0 - d_star)
    assert checks.discriminator_error(wrong_in_tails, p, q, X) == 0.0
    assert np.abs(wrong_in_tails - d_star).max() > 0.9  # it is wrong outside the region


def test_discriminator_error_matches_known_offset():
    p, q = gauss(0.0, 1.0), gauss(1.5, 0.7)
    d_star = theory.optimal_discriminator(p, q)
    shifted = np.clip(d_star + 0.1, 0.0, 1.0)  # D* < 0.9 somewhere in the region, so the max is 0.1
    assert checks.discriminator_error(shifted, p, q, X) == pytest.approx(0.1, abs=1e-12)
    assert checks.discriminator_error(np.full_like(X, 0.5), p, p.copy(), X) == 0.0  # D* = 1/2 if p_g = p_data


def test_discriminator_error_rejects_bad_input():
    p, q = gauss(0.0, 1.0), gauss(1.0, 1.0)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        checks.discriminator_error(np.full_like(X, 1.5), p, q, X)
    with pytest.raises(ValueError, match="shape mismatch"):
        checks.discriminator_error(np.zeros(3), p, q, X)
    with pytest.raises(ValueError, match=r"mass must be in \(0, 1\)"):
        checks.discriminator_error(np.full_like(X, 0.5), p, q, X, mass=1.0)
    with pytest.raises(ValueError, match="integrates to"):
        checks.discriminator_error(np.full_like(X, 0.5), 2 * p, q, X)


# ---------------------------------------------------------------------------- trained D vs D*


def test_fit_discriminator_approaches_d_star():
    p_data, p_g = toy.gaussian_1d(0.0, 1.0), toy.gaussian_1d(1.5, 0.7)
    x = np.linspace(-8.0, 9.0, 1701)
    threads = torch.get_num_threads()
    net = checks.fit_discriminator(p_data, p_g, steps=600, batch_size=256, generator=torch.Generator().manual_seed(0))
    assert torch.get_num_threads() == threads  # the one-thread loop restores the caller's setting
    d = checks.discriminator_curve(net, x)
    err = checks.discriminator_error(d, p_data.pdf(x), p_g.pdf(x), x)
    assert err < 0.08
    # and the logit form gives the same curve
    np.testing.assert_allclose(1 / (1 + np.exp(-checks.discriminator_curve(net, x, logits=True))), d, atol=1e-12)


def test_fit_discriminator_same_generator_same_result():
    p_data, p_g = toy.gaussian_1d(0.0, 1.0), toy.gaussian_1d(2.0, 1.0)
    x = np.linspace(-3.0, 5.0, 9)
    a = checks.discriminator_curve(
        checks.fit_discriminator(p_data, p_g, steps=20, batch_size=32, generator=torch.Generator().manual_seed(3)), x)
    b = checks.discriminator_curve(
        checks.fit_discriminator(p_data, p_g, steps=20, batch_size=32, generator=torch.Generator().manual_seed(3)), x)
    np.testing.assert_array_equal(a, b)


def test_fit_discriminator_rejects_bad_input():
    g1 = toy.gaussian_1d(0.0, 1.0)
    with pytest.raises(TypeError, match="ganlib.toy.Toy"):
        checks.fit_discriminator(torch.zeros(3), g1)
    with pytest.raises(ValueError, match="1-D toy"):
        checks.fit_discriminator(g1, toy.ring_of_gaussians())
    with pytest.raises(ValueError, match="steps must be >= 1"):
        checks.fit_discriminator(g1, g1, steps=0)
    with pytest.raises(TypeError, match="generator must be a torch.Generator"):
        checks.fit_discriminator(g1, g1, generator=0)


# ---------------------------------------------------------------------------- Theorem 1


def test_theorem1_deviation_is_tiny_over_a_family():
    x = np.linspace(-20.0, 20.0, 8001)
    p = gauss(0.0, 1.0, x)
    family = {f"shift {m:g}": gauss(m, 1.0, x) for m in np.linspace(-4, 4, 11)}
    family.update({f"scale {s:g}": gauss(0.0, s, x) for s in (0.5, 0.8, 1.5, 2.0, 3.0)})
    family["bimodal"] = 0.5 * gauss(-2.0, 0.5, x) + 0.5 * gauss(2.0, 0.5, x)
    dev, table = checks.theorem1_deviation(p, family, x)
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
    dev, table = checks.theorem1_deviation(gauss(-15.0, 1.0, x), [gauss(15.0, 1.0, x)], x)
    assert table["C(G)"].iloc[0] == pytest.approx(0.0, abs=1e-6)
    assert table["JSD"].iloc[0] == pytest.approx(math.log(2.0), abs=1e-6)
    assert dev < 1e-6


def test_theorem1_deviation_rejects_bad_input():
    p = gauss(0.0, 1.0)
    with pytest.raises(ValueError, match="family is empty"):
        checks.theorem1_deviation(p, {}, X)
    with pytest.raises(TypeError, match="family must be"):
        checks.theorem1_deviation(p, p, X)
    with pytest.raises(ValueError, match=r"p_g\['half'\].*integrates to"):
        checks.theorem1_deviation(p, {"half": 0.5 * p}, X)


# ---------------------------------------------------------------------------- Proposition 2


def test_proposition2_descent_converges_and_decreases_c():
    p = 0.5 * gauss(-2.0, 0.5) + 0.5 * gauss(2.0, 0.5)
    q0 = gauss(4.0, 0.7)
    q, hist = checks.proposition2_descent(p, q0, X, steps=40, lr=0.5)
    assert list(hist.columns) == ["step", "C(G)", "JSD"] and len(hist) == 41
    assert np.all(np.diff(hist["C(G)"]) < 0)
    assert hist["JSD"].iloc[-1] < 1e-5 < hist["JSD"].iloc[0]
    assert hist["C(G)"].iloc[-1] == pytest.approx(-LOG4, abs=1e-4)
    assert theory.jensen_shannon(p, q, X) == pytest.approx(hist["JSD"].iloc[-1], abs=1e-12)


def test_proposition2_descent_with_unit_step_is_the_mixture():
    p, q0 = gauss(0.0, 1.0), gauss(3.0, 0.5)
    q1, _ = checks.proposition2_descent(p, q0, X, steps=1, lr=1.0)
    np.testing.assert_allclose(q1, 0.5 * (p + q0), atol=1e-9)


def test_proposition2_descent_rejects_bad_step():
    p = gauss(0.0, 1.0)
    with pytest.raises(ValueError, match=r"lr .* must be in \(0, 1\]"):
        checks.proposition2_descent(p, p, X, lr=1.5)
    with pytest.raises(ValueError, match="steps must be >= 1"):
        checks.proposition2_descent(p, p, X, steps=0)


# ---------------------------------------------------------------------------- steps to halfway


def test_steps_to_halfway_matches_hand_count():
    steps = [0, 10, 20, 30, 40]
    assert checks.steps_to_halfway(steps, [4.0, 3.5, 2.1, 1.9, 0.5], target=0.0) == 30  # |1.9| <= 2
    assert checks.steps_to_halfway(steps, [-4.0, -3.0, -2.0, -1.0, 0.0], target=0.0) == 20  # boundary counts
    assert checks.steps_to_halfway(steps, [4.0, 3.9, 3.8, 3.7, 3.6], target=0.0) is None  # stalled


def test_steps_to_halfway_rejects_bad_input():
    with pytest.raises(ValueError, match="equal length"):
        checks.steps_to_halfway([0, 1], [1.0], target=0.0)
    with pytest.raises(ValueError, match="strictly increasing"):
        checks.steps_to_halfway([0, 0], [1.0, 0.5], target=0.0)
    with pytest.raises(ValueError, match="already equals the target"):
        checks.steps_to_halfway([0, 1], [0.0, 0.5], target=0.0)


# ---------------------------------------------------------------------------- the race of generator losses


def test_race_saturating_stalls_where_non_saturating_moves():
    hist, summary = checks.race_generator_losses(
        toy.gaussian_1d(0.0, 1.0), -6.0, 0.5, steps=80, pretrain_steps=300, batch_size=128, n_data=4096, seed=0
    )
    s = summary.set_index("loss")
    assert s.loc["non_saturating", "steps_to_halfway"] <= 40
    assert pd.isna(s.loc["saturating", "steps_to_halfway"])  # still stuck near the start after 80 steps
    sat = hist[hist["loss"] == "saturating"]
    assert abs(sat["mean_g"].iloc[-1] - (-6.0)) < 0.5
    assert sat["d_fake"].max() < 0.01  # D keeps rejecting the fakes: the saturated regime
    assert list(hist.columns) == ["loss", "step", "mean_g", "d_fake", "g_loss"] and len(hist) == 160


def test_race_runs_share_everything_but_the_generator_loss():
    hist, _ = checks.race_generator_losses(
        toy.gaussian_1d(0.0, 1.0), 3.0, 0.5, steps=5, pretrain_steps=20, n_data=512, batch_size=64, seed=1
    )
    first = hist[hist["step"] == 1].set_index("loss")
    # step 1's D update sees the same D, data and noise in both runs, so D(G(z)) on its batch is equal
    assert first.loc["saturating", "d_fake"] == first.loc["non_saturating", "d_fake"]
    assert first.loc["saturating", "mean_g"] != first.loc["non_saturating", "mean_g"]  # G's step differs


def test_race_rejects_bad_input():
    p = toy.gaussian_1d(0.0, 1.0)
    with pytest.raises(ValueError, match="unknown GAN loss 'no_such_loss'"):
        checks.race_generator_losses(p, -3.0, 0.5, steps=5, losses=("no_such_loss",))
    with pytest.raises(ValueError, match="no distance to cover"):
        checks.race_generator_losses(p, 0.0, 0.5, steps=5)
    with pytest.raises(ValueError, match="start_std must be positive"):
        checks.race_generator_losses(p, -3.0, 0.0, steps=5)
    with pytest.raises(ValueError, match="losses must be a non-empty sequence"):
        checks.race_generator_losses(p, -3.0, 0.5, steps=5, losses="saturating")
