"""Properties of the toy p_data distributions in ganlib.data.toy."""

import itertools
import math

import numpy as np
import pytest
import torch
from scipy.integrate import simpson
from scipy.stats import norm

from ganlib.data.toy import Toy, gaussian_1d, gaussian_mixture_1d, grid_of_gaussians, ring_of_gaussians


def _gen(seed):
    return torch.Generator().manual_seed(seed)


def test_ring_has_eight_distinct_centres_on_unit_circle_at_angles_2pi_i_over_8():
    toy = ring_of_gaussians()
    means = toy.means.double()
    assert means.shape == (8, 2) and toy.dim == 2 and toy.std == 0.01
    torch.testing.assert_close(means.norm(dim=1), torch.ones(8, dtype=torch.float64), atol=1e-6, rtol=0)
    angles = torch.atan2(means[:, 1], means[:, 0]) % (2 * math.pi)
    expected = torch.tensor([2 * math.pi * i / 8 for i in range(8)], dtype=torch.float64)
    diff = torch.remainder(angles - expected + math.pi, 2 * math.pi) - math.pi  # wrap 2*pi ~ 0
    assert diff.abs().max() < 1e-6
    dists = torch.cdist(means, means) + 10 * torch.eye(8, dtype=torch.float64)
    assert dists.min() > 0.7  # chord 2 sin(pi/8) ~ 0.765: no repeated centre


def test_grid_has_25_distinct_centres_equal_to_product_of_minus4_to_4():
    toy = grid_of_gaussians()
    got = {tuple(round(v, 6) for v in row) for row in toy.means.tolist()}
    expected = {(float(a), float(b)) for a, b in itertools.product([-4, -2, 0, 2, 4], repeat=2)}
    assert toy.means.shape == (25, 2) and got == expected and toy.std == 0.05


def test_same_generator_seed_gives_identical_samples_and_different_seeds_differ():
    for toy in [gaussian_1d(), gaussian_mixture_1d([-2.0, 2.0], [0.5, 0.5]), ring_of_gaussians(), grid_of_gaussians()]:
        a = toy.sample(256, generator=_gen(7))
        b = toy.sample(256, generator=_gen(7))
        c = toy.sample(256, generator=_gen(8))
        assert a.shape == (256, toy.dim)
        assert torch.equal(a, b)
        assert not torch.allclose(a, c)


def test_sample_without_generator_has_right_shape():
    assert ring_of_gaussians().sample(5).shape == (5, 2)


def test_gaussian_1d_sample_mean_and_std():
    x = gaussian_1d(2.0, 0.5).sample(20_000, generator=_gen(0)).double()
    # standard errors: 0.5 / sqrt(20000) ~ 3.5e-3 for the mean, ~2.5e-3 for the std
    assert x.mean().item() == pytest.approx(2.0, abs=0.02)
    assert x.std().item() == pytest.approx(0.5, abs=0.015)


def test_mixture_samples_follow_weights():
    toy = gaussian_mixture_1d([-5.0, 5.0], [0.1, 0.1], weights=[1.0, 3.0])
    x = toy.sample(20_000, generator=_gen(1))
    frac_right = (x > 0).double().mean().item()
    assert frac_right == pytest.approx(0.75, abs=0.015)  # 5 standard errors of a binomial(20000, 0.75)


def test_pdf_integrates_to_one_and_matches_exp_log_prob():
    x = np.linspace(-20.0, 20.0, 8001)
    for toy in [gaussian_1d(2.0, 0.5), gaussian_mixture_1d([-3.0, 0.0, 4.0], [0.5, 1.0, 2.0], [0.2, 0.3, 0.5])]:
        p = toy.pdf(x)
        assert p.shape == x.shape
        assert simpson(p, x=x) == pytest.approx(1.0, abs=1e-6)
        lp = toy.log_prob(torch.from_numpy(x).reshape(-1, 1)).numpy()
        np.testing.assert_allclose(p, np.exp(lp), rtol=1e-12)


def test_pdf_matches_scipy_mixture():
    x = np.linspace(-8.0, 8.0, 101)
    toy = gaussian_mixture_1d([-3.0, 0.0, 4.0], [0.5, 1.0, 2.0], [2.0, 3.0, 5.0])  # unnormalised weights
    expected = 0.2 * norm.pdf(x, -3, 0.5) + 0.3 * norm.pdf(x, 0, 1) + 0.5 * norm.pdf(x, 4, 2)
    np.testing.assert_allclose(toy.pdf(x), expected, rtol=1e-5, atol=1e-12)  # float32 parameters
    assert toy.std == 2.0


def test_log_prob_takes_n_by_dim_and_rejects_wrong_last_dim():
    toy = gaussian_1d()
    lp = toy.log_prob(torch.zeros(4, 1))
    assert lp.shape == (4,)
    assert lp[0].item() == pytest.approx(-0.5 * math.log(2 * math.pi), abs=1e-6)
    with pytest.raises(ValueError, match="shape mismatch"):
        ring_of_gaussians().log_prob(torch.zeros(4, 3))
    with pytest.raises(TypeError, match="torch.Tensor"):
        toy.log_prob(np.zeros((4, 1)))


def test_pdf_rejects_2d_toy():
    with pytest.raises(ValueError, match="only defined for 1-D toys"):
        ring_of_gaussians().pdf(np.linspace(-1, 1, 11))


def test_every_ring_sample_lies_within_6_std_of_a_centre():
    toy = ring_of_gaussians()
    x = toy.sample(5000, generator=_gen(3))
    nearest = torch.cdist(x, toy.means).min(dim=1).values
    assert nearest.max() < 6 * toy.std
    # and the samples are not all at one mode: every centre is hit
    assert torch.cdist(x, toy.means).argmin(dim=1).unique().numel() == 8


def test_every_grid_sample_lies_within_6_std_of_a_centre():
    toy = grid_of_gaussians()
    x = toy.sample(5000, generator=_gen(4))
    d = torch.cdist(x, toy.means)
    assert d.min(dim=1).values.max() < 6 * toy.std
    assert d.argmin(dim=1).unique().numel() == 25


def test_mixture_weights_validated():
    with pytest.raises(ValueError, match=">= 0"):
        gaussian_mixture_1d([0.0, 1.0], [1.0, 1.0], weights=[1.0, -0.5])
    with pytest.raises(ValueError, match="positive sum"):
        gaussian_mixture_1d([0.0, 1.0], [1.0, 1.0], weights=[0.0, 0.0])
    with pytest.raises(ValueError, match="same length"):
        gaussian_mixture_1d([0.0, 1.0], [1.0, 1.0], weights=[1.0])
    with pytest.raises(ValueError, match="same length"):
        gaussian_mixture_1d([0.0, 1.0], [1.0])
    with pytest.raises(ValueError, match="stds must be > 0"):
        gaussian_mixture_1d([0.0, 1.0], [1.0, 0.0])
    toy = gaussian_mixture_1d([0.0, 1.0], [1.0, 1.0], weights=[1.0, 3.0])
    torch.testing.assert_close(toy.distribution.mixture_distribution.probs, torch.tensor([0.25, 0.75]))


def test_constructor_arguments_validated():
    with pytest.raises(ValueError, match="std must be positive"):
        gaussian_1d(0.0, -1.0)
    with pytest.raises(ValueError, match="n_modes must be >= 1"):
        ring_of_gaussians(n_modes=0)
    with pytest.raises(TypeError, match="n_per_side must be an int"):
        grid_of_gaussians(n_per_side=2.5)
    with pytest.raises(ValueError, match="n must be a positive int"):
        gaussian_1d().sample(0)


def test_toy_is_frozen():
    toy = gaussian_1d()
    assert isinstance(toy, Toy)
    with pytest.raises(Exception, match="cannot assign"):
        toy.std = 2.0
