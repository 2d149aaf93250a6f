"""Mode coverage (VEEGAN / PacGAN): modes covered and the fraction of high-quality samples."""

import math

import numpy as np
import pytest
import torch

from ganlib.metrics import mode_counts, mode_coverage
from ganlib.data.toy import grid_of_gaussians, ring_of_gaussians


def _draw(toy, n, seed=0):
    return toy.sample(n, generator=torch.Generator().manual_seed(seed))


def test_true_ring_samples_cover_all_modes_with_the_gaussian_high_quality_rate():
    ring = ring_of_gaussians()  # PacGAN: radius 1, std 0.01
    covered, hq = mode_coverage(_draw(ring, 2500), ring.means, ring.std)
    assert covered == 8
    # In 2-D, ||x - mu|| / sigma is chi with 2 degrees of freedom: P(chi_2 <= 3) = 1 - exp(-9/2).
    expected = 1 - math.exp(-4.5)
    assert abs(hq - expected) < 4 * math.sqrt(expected * (1 - expected) / 2500)


def test_true_grid_samples_cover_all_25_modes():
    grid = grid_of_gaussians()
    covered, hq = mode_coverage(_draw(grid, 2500, seed=1).numpy(), grid.means.numpy(), grid.std)
    assert covered == 25 and hq > 0.95


def test_collapsed_generator_covers_one_mode():
    ring = ring_of_gaussians()
    samples = ring.means[3].repeat(2500, 1) + 0.001 * torch.randn(2500, 2, generator=torch.Generator().manual_seed(0))
    assert mode_coverage(samples, ring.means, ring.std) == (1, 1.0)
    counts = mode_counts(samples, ring.means, ring.std)
    assert counts[3] == 2500 and counts.sum() == 2500


def test_samples_between_modes_are_low_quality_and_cover_nothing():
    ring = ring_of_gaussians()
    # the midpoint of two neighbouring centres is far (about 0.38) from both, i.e. 38 std
    mid = 0.5 * (ring.means[0] + ring.means[1])
    covered, hq = mode_coverage(mid.repeat(100, 1), ring.means, ring.std)
    assert (covered, hq) == (0, 0.0)


def test_radius_is_n_std_standard_deviations():
    means = np.array([[0.0, 0.0], [10.0, 0.0]])
    samples = np.array([[0.29, 0.0], [0.31, 0.0], [10.0, 0.2]])  # distances 0.29, 0.31, 0.2 to nearest
    assert mode_coverage(samples, means, std=0.1) == (2, pytest.approx(2 / 3))
    assert mode_coverage(samples, means, std=0.1, n_std=2.5) == (1, pytest.approx(1 / 3))
    assert mode_counts(samples, means, std=0.1).tolist() == [1, 1]


def test_nearest_mode_gets_the_sample_even_when_two_are_within_reach():
    means = np.array([[0.0], [1.0]])
    samples = np.array([0.4, 0.45, 0.9])  # 1-D data as (N,)
    assert mode_counts(samples, means, std=1.0).tolist() == [2, 1]


def test_one_dimensional_means_and_samples():
    means = np.array([-2.0, 2.0])
    x = np.concatenate([np.full(10, -2.0), np.full(30, 2.4)])
    counts = mode_counts(x, means, std=0.5)
    assert counts.tolist() == [10, 30]
    assert mode_coverage(x, means, std=0.1) == (1, 0.25)  # 2.4 is 4 std away from 2 at std 0.1


@pytest.mark.parametrize(
    "kwargs, err",
    [
        (dict(samples=np.zeros((0, 2))), ValueError),
        (dict(samples=np.full((3, 2), np.nan)), ValueError),
        (dict(samples=np.zeros((3, 3))), ValueError),
        (dict(std=0.0), ValueError),
        (dict(std=-1.0), ValueError),
        (dict(std="0.1"), TypeError),
        (dict(n_std=0), ValueError),
        (dict(samples=np.zeros((3, 2)) + 1j), TypeError),
        (dict(samples=[["a", "b"]]), TypeError),
    ],
)
def test_bad_input_is_rejected(kwargs, err):
    args = dict(samples=np.zeros((3, 2)), means=np.zeros((2, 2)), std=0.1)
    args.update(kwargs)
    with pytest.raises(err):
        mode_coverage(**args)


def test_returns_python_int_and_float():
    ring = ring_of_gaussians()
    covered, hq = mode_coverage(_draw(ring, 100), ring.means, ring.std)
    assert type(covered) is int and type(hq) is float


def test_recorder_scores_a_training_run_on_fixed_noise():
    from ganlib.metrics import ModeCoverageRecorder
    from ganlib.nets.models import MLPDiscriminator, MLPGenerator
    from ganlib.engine.config import TrainConfig
    from ganlib.engine.loop import Trainer

    ring = ring_of_gaussians()
    torch.manual_seed(0)
    G, D = MLPGenerator(2, 2, (16,)), MLPDiscriminator(2, (16,))
    tr = Trainer(TrainConfig(batch_size=32, max_steps=6, progress=False, snapshot_every=-1), G, D, _draw(ring, 256))
    rec = ModeCoverageRecorder(ring.means, ring.std, every=3, n=200)
    rec.capture(tr)
    tr.add_callback("on_step_end", rec)
    tr.run()
    assert [r["step"] for r in rec.records] == [0, 3, 6]
    last = rec.records[-1]
    assert last["samples"].shape == (200, 2)
    assert (last["modes"], last["hq"]) == mode_coverage(last["samples"], ring.means, ring.std)
    # the same noise at every record: an untouched generator gives identical samples
    again = ModeCoverageRecorder(ring.means, ring.std, every=1, n=200)
    assert np.array_equal(again.capture(tr)["samples"], last["samples"])
    with pytest.raises(ValueError):
        ModeCoverageRecorder(ring.means, ring.std, every=0)
