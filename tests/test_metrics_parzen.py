"""Parzen-window log-likelihood (Table 1's protocol) and pixel nearest neighbours, checked against
direct scipy/numpy computations on small data."""

import math

import numpy as np
import pytest
import torch
from scipy.special import logsumexp
from scipy.stats import multivariate_normal

from ganlib.metrics import (
    PAPER_SIGMAS, nearest_neighbours, parzen_log_density, parzen_log_likelihood, parzen_select_sigma,
)


@pytest.fixture
def small():
    rng = np.random.default_rng(0)
    centres = rng.uniform(0, 1, size=(37, 6))
    points = rng.uniform(0, 1, size=(23, 6))
    return centres, points


def scipy_log_density(centres, points, sigma):
    """log (1/n) sum_i N(x; mu_i, sigma^2 I), one Gaussian at a time with scipy.stats."""
    d = centres.shape[1]
    comp = np.stack([multivariate_normal(mean=m, cov=sigma**2 * np.eye(d)).logpdf(points) for m in centres])
    return logsumexp(comp, axis=0) - math.log(len(centres))


@pytest.mark.parametrize("sigma", [0.1, 0.3, 1.0])
def test_log_density_equals_a_mixture_of_scipy_gaussians(small, sigma):
    centres, points = small
    ours = parzen_log_density(torch.tensor(centres, dtype=torch.float32), torch.tensor(points, dtype=torch.float32),
                              sigma).numpy()
    ref = scipy_log_density(centres.astype(np.float32).astype(np.float64), points.astype(np.float32), sigma)
    np.testing.assert_allclose(ours, ref, rtol=1e-6, atol=1e-6)


def test_chunking_over_points_and_centres_changes_nothing(small):
    centres, points = (torch.tensor(a) for a in small)
    whole = parzen_log_density(centres, points, 0.2, batch_size=1000, chunk_size=1000)
    tiny = parzen_log_density(centres, points, 0.2, batch_size=4, chunk_size=5)  # 37 = 7*5 + 2 left over
    torch.testing.assert_close(tiny, whole, rtol=1e-12, atol=1e-10)


def test_far_points_stay_finite_where_a_naive_mean_of_exp_underflows():
    centres = torch.zeros(3, 784)
    far = torch.ones(2, 784)  # squared distance 784: exp(-784 / (2 * 0.1**2)) underflows to 0
    ll = parzen_log_density(centres, far, 0.1)
    expected = -784 / (2 * 0.01) - 784 * math.log(0.1 * math.sqrt(2 * math.pi))
    assert torch.isfinite(ll).all()
    np.testing.assert_allclose(ll.numpy(), expected, rtol=1e-10)


def test_mean_and_standard_error_are_numpy_mean_and_std_over_sqrt_n(small):
    centres, points = small
    mean, se = parzen_log_likelihood(torch.tensor(centres), torch.tensor(points), 0.25)
    ref = scipy_log_density(centres, points, 0.25)
    assert mean == pytest.approx(ref.mean(), rel=1e-9)
    assert se == pytest.approx(ref.std() / math.sqrt(len(ref)), rel=1e-9)  # numpy.std: ddof=0, as parzen_ll.py


def test_paper_sigma_grid_is_logspace_minus_one_to_zero():
    np.testing.assert_allclose(PAPER_SIGMAS, np.logspace(-1, 0, 10))


def test_select_sigma_is_the_brute_force_argmax_over_the_grid():
    rng = np.random.default_rng(3)
    # Clusters of width ~0.3 in 4-D: the best kernel width lies strictly inside the paper's grid.
    modes = rng.uniform(-2, 2, size=(5, 4))
    centres = modes[rng.integers(0, 5, 200)] + 0.3 * rng.standard_normal((200, 4))
    valid = modes[rng.integers(0, 5, 60)] + 0.3 * rng.standard_normal((60, 4))
    brute = [scipy_log_density(centres, valid, s).mean() for s in PAPER_SIGMAS]
    best = PAPER_SIGMAS[int(np.argmax(brute))]
    assert best not in (PAPER_SIGMAS[0], PAPER_SIGMAS[-1])  # the test would catch an off-by-one
    chosen = parzen_select_sigma(torch.tensor(centres), torch.tensor(valid), PAPER_SIGMAS, batch_size=7, chunk_size=13)
    assert chosen == best


def test_bad_inputs_raise_clear_errors(small):
    centres, points = (torch.tensor(a) for a in small)
    with pytest.raises(TypeError, match="torch.Tensor"):
        parzen_log_density(small[0], points, 0.1)
    with pytest.raises(TypeError, match="floating"):
        parzen_log_density(centres.long(), points, 0.1)
    with pytest.raises(ValueError, match="dimension"):
        parzen_log_density(centres, points[:, :3], 0.1)
    with pytest.raises(ValueError, match="positive"):
        parzen_log_likelihood(centres, points, 0.0)
    with pytest.raises(ValueError, match="positive"):
        parzen_select_sigma(centres, points, [0.1, -1.0])
    with pytest.raises(ValueError, match="empty"):
        parzen_log_density(centres[:0], points, 0.1)


def test_nearest_neighbours_match_brute_force_argmin():
    rng = np.random.default_rng(1)
    ref = rng.uniform(0, 1, size=(53, 10))
    q = rng.uniform(0, 1, size=(17, 10))
    d, i = nearest_neighbours(torch.tensor(q), torch.tensor(ref), batch_size=5, chunk_size=8)
    full = np.sqrt(((q[:, None, :] - ref[None, :, :]) ** 2).sum(-1))
    np.testing.assert_array_equal(i.numpy(), full.argmin(1))
    np.testing.assert_allclose(d.numpy(), full.min(1), rtol=1e-9)
    d0, i0 = nearest_neighbours(torch.tensor(ref[[4, 40]]), torch.tensor(ref))  # a copy's neighbour is itself
    assert i0.tolist() == [4, 40] and float(d0.max()) < 1e-6
