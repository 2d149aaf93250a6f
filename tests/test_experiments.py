"""ganlib.recipes.experiments: the network experiments the chapters share (fitting D, the saturation race, train_pair)."""

import math

import numpy as np
import pandas as pd
import pytest
import torch
from scipy.stats import norm

from ganlib import theory
from ganlib.data import toy
from ganlib.recipes import experiments
from ganlib.theory import propositions

LOG4 = math.log(4.0)
X = np.linspace(-12.0, 12.0, 4801)


def gauss(m, s, x=X):
    return norm.pdf(x, loc=m, scale=s)


def test_fit_discriminator_approaches_d_star():
    p_data, p_g = toy.gaussian_1d(0.0, 1.0), toy.gaussian_1d(1.5, 0.7)
    x = np.linspace(-8.0, 9.0, 1701)
    threads = torch.get_num_threads()
    net = experiments.fit_discriminator(p_data, p_g, steps=600, batch_size=256, generator=torch.Generator().manual_seed(0))
    assert torch.get_num_threads() == threads  # the one-thread loop restores the caller's setting
    d = theory.discriminator_curve(net, x)
    err = propositions.discriminator_error(d, p_data.pdf(x), p_g.pdf(x), x)
    assert err < 0.08
    # and the logit form gives the same curve
    np.testing.assert_allclose(1 / (1 + np.exp(-theory.discriminator_curve(net, x, logits=True))), d, atol=1e-12)


def test_fit_discriminator_same_generator_same_result():
    p_data, p_g = toy.gaussian_1d(0.0, 1.0), toy.gaussian_1d(2.0, 1.0)
    x = np.linspace(-3.0, 5.0, 9)
    a = theory.discriminator_curve(
        experiments.fit_discriminator(p_data, p_g, steps=20, batch_size=32, generator=torch.Generator().manual_seed(3)), x)
    b = theory.discriminator_curve(
        experiments.fit_discriminator(p_data, p_g, steps=20, batch_size=32, generator=torch.Generator().manual_seed(3)), x)
    np.testing.assert_array_equal(a, b)


def test_fit_discriminator_rejects_bad_input():
    g1 = toy.gaussian_1d(0.0, 1.0)
    with pytest.raises(TypeError, match="ganlib.data.toy.Toy"):
        experiments.fit_discriminator(torch.zeros(3), g1)
    with pytest.raises(ValueError, match="1-D toy"):
        experiments.fit_discriminator(g1, toy.ring_of_gaussians())
    with pytest.raises(ValueError, match="steps must be >= 1"):
        experiments.fit_discriminator(g1, g1, steps=0)
    with pytest.raises(TypeError, match="generator must be a torch.Generator"):
        experiments.fit_discriminator(g1, g1, generator=0)


def test_steps_to_halfway_matches_hand_count():
    steps = [0, 10, 20, 30, 40]
    assert experiments.steps_to_halfway(steps, [4.0, 3.5, 2.1, 1.9, 0.5], target=0.0) == 30  # |1.9| <= 2
    assert experiments.steps_to_halfway(steps, [-4.0, -3.0, -2.0, -1.0, 0.0], target=0.0) == 20  # boundary counts
    assert experiments.steps_to_halfway(steps, [4.0, 3.9, 3.8, 3.7, 3.6], target=0.0) is None  # stalled


def test_steps_to_halfway_rejects_bad_input():
    with pytest.raises(ValueError, match="equal length"):
        experiments.steps_to_halfway([0, 1], [1.0], target=0.0)
    with pytest.raises(ValueError, match="strictly increasing"):
        experiments.steps_to_halfway([0, 0], [1.0, 0.5], target=0.0)
    with pytest.raises(ValueError, match="already equals the target"):
        experiments.steps_to_halfway([0, 1], [0.0, 0.5], target=0.0)


def test_race_saturating_stalls_where_non_saturating_moves():
    hist, summary = experiments.race_generator_losses(
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
    hist, _ = experiments.race_generator_losses(
        toy.gaussian_1d(0.0, 1.0), 3.0, 0.5, steps=5, pretrain_steps=20, n_data=512, batch_size=64, seed=1
    )
    first = hist[hist["step"] == 1].set_index("loss")
    # step 1's D update sees the same D, data and noise in both runs, so D(G(z)) on its batch is equal
    assert first.loc["saturating", "d_fake"] == first.loc["non_saturating", "d_fake"]
    assert first.loc["saturating", "mean_g"] != first.loc["non_saturating", "mean_g"]  # G's step differs


def test_race_rejects_bad_input():
    p = toy.gaussian_1d(0.0, 1.0)
    with pytest.raises(ValueError, match="unknown GAN loss 'no_such_loss'"):
        experiments.race_generator_losses(p, -3.0, 0.5, steps=5, losses=("no_such_loss",))
    with pytest.raises(ValueError, match="no distance to cover"):
        experiments.race_generator_losses(p, 0.0, 0.5, steps=5)
    with pytest.raises(ValueError, match="start_std must be positive"):
        experiments.race_generator_losses(p, -3.0, 0.0, steps=5)
    with pytest.raises(ValueError, match="losses must be a non-empty sequence"):
        experiments.race_generator_losses(p, -3.0, 0.5, steps=5, losses="saturating")


def test_a_discriminator_on_a_fixed_small_sample_beats_c_of_g_on_its_points():
    """Trained on 15 + 15 fixed points, D's empirical value exceeds C(G) = max_D V (it memorises)."""
    import numpy as np

    from ganlib import theory
    from ganlib.data import toy
    from ganlib.recipes.experiments import fit_discriminator
    from ganlib.game.losses import value_function

    p_data, p_g = toy.gaussian_1d(0.0, 1.0), toy.gaussian_1d(1.5, 0.7)
    g = torch.Generator().manual_seed(3)
    small = (p_data.sample(15, generator=g), p_g.sample(15, generator=g))
    net = fit_discriminator(p_data, p_g, steps=800, generator=torch.Generator().manual_seed(4), fixed_sample=small)
    x = np.linspace(-8.0, 9.0, 3401)
    c = theory.virtual_criterion(p_data.pdf(x), p_g.pdf(x), x)
    with torch.no_grad():
        assert value_function(net(small[0]), net(small[1])).item() > c
    with pytest.raises(ValueError, match="fixed_sample"):
        fit_discriminator(p_data, p_g, steps=1, fixed_sample=(torch.zeros(3), torch.zeros(3, 1)))
