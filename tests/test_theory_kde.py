"""The kernel density estimate of p_g (ganlib.theory.kde_pdf) that feeds a trained generator to the
closed forms of Section 4."""

import math

import numpy as np
import pytest
import torch
from scipy.integrate import simpson
from scipy.stats import gaussian_kde, norm

from ganlib.theory import jensen_shannon, kde_pdf, optimal_discriminator

X = np.linspace(-12.0, 12.0, 4801)


@pytest.mark.parametrize("rule", ["scott", "silverman"])
def test_agrees_with_scipy_gaussian_kde(rule):
    s = np.random.default_rng(0).normal(1.0, 2.0, size=700)
    assert np.allclose(kde_pdf(s, X, rule), gaussian_kde(s, bw_method=rule)(X), rtol=1e-10, atol=1e-14)


def test_integrates_to_one_on_a_grid_covering_the_samples():
    s = np.random.default_rng(1).uniform(-3, 3, size=300)
    assert abs(simpson(kde_pdf(s, X), x=X) - 1.0) < 1e-6


def test_one_sample_with_a_fixed_bandwidth_is_a_normal_density():
    assert np.allclose(kde_pdf([2.0], X, bandwidth=0.3), norm.pdf(X, 2.0, 0.3), atol=1e-14)


def test_converges_to_the_true_density_as_n_grows():
    # the L1 error of a KDE with a rule-of-thumb bandwidth shrinks like n^(-2/5): about 6x per 100x n
    rng, x = np.random.default_rng(2), np.linspace(-8.0, 8.0, 801)
    errors = [np.mean([simpson(np.abs(kde_pdf(rng.normal(size=n), x) - norm.pdf(x)), x=x) for _ in range(5)])
              for n in (100, 10_000)]
    assert errors[1] < 0.4 * errors[0] and errors[1] < 0.05


def test_jsd_of_a_kde_of_the_data_itself_is_near_zero_and_of_a_shifted_one_is_not():
    rng = np.random.default_rng(3)
    p_data = norm.pdf(X, 4.0, 0.5)
    near = jensen_shannon(p_data, kde_pdf(rng.normal(4.0, 0.5, 5000), X), X)
    far = jensen_shannon(p_data, kde_pdf(rng.normal(6.0, 0.5, 5000), X), X)
    assert near < 0.01 < 0.5 < far < math.log(2)
    d_star = optimal_discriminator(p_data, kde_pdf(rng.normal(4.0, 0.5, 5000), X))
    assert np.all(np.abs(d_star[(X > 3) & (X < 5)] - 0.5) < 0.1)


def test_accepts_tensors_and_column_vectors():
    s = torch.randn(50, 1, generator=torch.Generator().manual_seed(0))
    assert np.allclose(kde_pdf(s, X), kde_pdf(s.numpy().reshape(-1), X))


def test_collapsed_samples_need_an_explicit_bandwidth():
    with pytest.raises(ValueError, match="bandwidth 0"):
        kde_pdf(np.full(10, 3.0), X)
    assert kde_pdf(np.full(10, 3.0), X, bandwidth=0.1).max() == pytest.approx(norm.pdf(0, 0, 0.1))


@pytest.mark.parametrize(
    "samples, x, bw, err",
    [
        ([], X, "scott", ValueError),
        ([[1.0, 2.0]], X, "scott", ValueError),
        ([1.0, np.nan], X, "scott", ValueError),
        ([1.0, 2.0], np.ones((2, 2)), "scott", ValueError),
        ([1.0, 2.0], X, "normal_reference", ValueError),
        ([1.0, 2.0], X, 0.0, ValueError),
        ([1.0, 2.0], X, -1.0, ValueError),
        ([1.0, 2.0], X, None, TypeError),
        (["a", "b"], X, "scott", TypeError),
    ],
)
def test_bad_input_is_rejected(samples, x, bw, err):
    with pytest.raises(err):
        kde_pdf(samples, x, bw)
