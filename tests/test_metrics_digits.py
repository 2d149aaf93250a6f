"""Quality figures of generated digits (ganlib.metrics.digits)."""

import math

import pytest
import torch
from torch import nn

from ganlib.metrics import class_probabilities, digit_report, inception_like_score


class ThreeIfBright(nn.Module):
    """Logits: a confident 3 for images brighter than 0.5 on average, all classes equal otherwise."""

    def __init__(self):
        super().__init__()
        self.dummy = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        bright = (x.mean(1) > 0.5).float()
        logits = torch.zeros(len(x), 10)
        logits[:, 3] = 20.0 * bright
        return logits + self.dummy


def test_inception_like_score_bounds_and_extremes():
    assert inception_like_score(torch.eye(10)) == pytest.approx(10.0)
    assert inception_like_score(torch.full((7, 10), 0.1)) == pytest.approx(1.0)
    assert inception_like_score(torch.eye(10)[[3] * 20]) == pytest.approx(1.0)  # all the same digit
    p = torch.softmax(torch.randn(500, 10, generator=torch.Generator().manual_seed(0)) * 3, 1)
    assert 1.0 < inception_like_score(p) < 10.0
    with pytest.raises(ValueError, match="rows of class probabilities"):
        inception_like_score(torch.ones(3, 10))


def test_report_counts_only_confident_samples_for_class_shares():
    g = torch.Generator().manual_seed(0)
    bright, dark = torch.rand(30, 784, generator=g) * 0.2 + 0.8, torch.rand(70, 784, generator=g) * 0.2
    samples = torch.cat([bright, dark]).view(100, 1, 28, 28)
    train, held = torch.rand(200, 784, generator=g), torch.rand(100, 784, generator=g)
    r = digit_report(ThreeIfBright(), samples, train, held)
    assert r["confident_share"] == pytest.approx(0.3)
    assert r["confident_class_shares"][3] == pytest.approx(1.0) and sum(r["confident_class_shares"]) == pytest.approx(1.0)
    assert r["class_shares"][0] == pytest.approx(0.7)  # argmax of the ambiguous ones falls on class 0
    probs = class_probabilities(ThreeIfBright(), samples.view(100, -1))
    assert probs.shape == (100, 10) and r["inception_like"] == pytest.approx(inception_like_score(probs))


def test_copies_of_training_images_are_counted_as_memorised():
    g = torch.Generator().manual_seed(1)
    train, held = torch.rand(300, 784, generator=g), torch.rand(200, 784, generator=g)
    samples = torch.cat([train[:25], torch.rand(75, 784, generator=g)])
    r = digit_report(ThreeIfBright(), samples, train, held)
    assert r["memorised_threshold"] > 0 and r["memorised_share"] == pytest.approx(0.25, abs=0.02)
    assert r["nn_quantiles"][0] < 1e-4 and r["held_out_nn_quantiles"][0] >= r["memorised_threshold"] - 1e-9
    fresh = digit_report(ThreeIfBright(), torch.rand(100, 784, generator=g), train, held)
    assert fresh["memorised_share"] <= 0.05 and math.isclose(fresh["real_confident_share"], r["real_confident_share"])


def test_stray_ink_counts_bright_pixels_where_no_training_digit_has_ink():
    from ganlib.metrics import stray_ink_share

    train = torch.zeros(200, 1, 28, 28)
    train[:, :, 8:20, 10:18] = 1.0  # every training digit inks the centre only
    clean = train[:10].clone()
    assert stray_ink_share(clean, train) == 0.0
    edge = clean.clone()
    edge[:3, 0, 0, 14] = 0.8  # three samples light a top-row pixel
    edge[3, 0, 27, 0] = 0.3  # below the ink threshold: not counted
    assert stray_ink_share(edge, train) == pytest.approx(0.3)
    r = digit_report(ThreeIfBright(), edge, train, train[:50])
    assert r["stray_ink_share"] == pytest.approx(0.3) and r["real_stray_ink_share"] == 0.0
    with pytest.raises(ValueError, match="pixels"):
        stray_ink_share(torch.zeros(2, 10), train)
    with pytest.raises(ValueError, match="ink must be"):
        stray_ink_share(edge, train, ink=1.5)
