"""FID through torchmetrics on our own features, the MNIST feature classifier (cached by content
hash), and the digit-class histogram."""

import numpy as np
import pytest
import torch
from scipy.linalg import sqrtm
from torch import nn

from ganlib.metrics import (
    ClassifierConfig, ClassifierFeatures, MNISTClassifier, class_histogram, classifier_accuracy, fid_score,
    load_or_train_classifier, missing_classes, predict_classes, train_classifier,
)
from ganlib.metrics.classifier import classifier_cache_key


class Flatten4(nn.Module):
    """Identity features: a (N, 1, 2, 2) image is its 4 pixels, so FID is computable by hand."""

    num_features = 4

    def forward(self, x):
        return x.reshape(len(x), 4).double()


def closed_form_fid(a: np.ndarray, b: np.ndarray) -> float:
    """||mu1 - mu2||^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2)) with scipy.linalg.sqrtm (unbiased covariances)."""
    m1, m2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean = sqrtm(s1 @ s2).real
    return float(((m1 - m2) ** 2).sum() + np.trace(s1 + s2 - 2 * covmean))


@pytest.fixture
def feats():
    g = torch.Generator().manual_seed(0)
    a = torch.rand(400, 1, 2, 2, generator=g, dtype=torch.float64)
    b = torch.rand(300, 1, 2, 2, generator=g, dtype=torch.float64) ** 2  # another distribution on [0, 1]
    return a, b


def test_fid_of_a_set_with_itself_is_zero(feats):
    a, _ = feats
    assert abs(fid_score(Flatten4(), a, a)) < 1e-8


def test_fid_matches_the_closed_form_with_scipy_sqrtm(feats):
    a, b = feats
    ours = fid_score(Flatten4(), a, b, batch_size=64)
    ref = closed_form_fid(a.reshape(-1, 4).numpy(), b.reshape(-1, 4).numpy())
    assert ref > 0.01  # the two sets differ, so the check has teeth
    assert ours == pytest.approx(ref, rel=1e-6, abs=1e-9)


def test_fid_grows_with_a_mean_shift_as_its_squared_norm(feats):
    a, _ = feats
    shifts = [0.0, 0.1, 0.3, 1.0]
    fids = [fid_score(Flatten4(), a, a + s) for s in shifts]
    assert all(x < y for x, y in zip(fids, fids[1:]))
    # Same covariance, so FID = ||shift * 1||^2 = 4 s^2 exactly.
    np.testing.assert_allclose(fids, [4 * s**2 for s in shifts], atol=1e-8)


def test_fid_rejects_a_module_without_num_features(feats):
    a, b = feats
    with pytest.raises(TypeError, match="num_features"):
        fid_score(nn.Flatten(), a, b)
    with pytest.raises(ValueError, match="at least 2"):
        fid_score(Flatten4(), a[:1], b)


# ------------------------------------------------------------------------------ classifier
def toy_digits(n_per_class=30, seed=0):
    """Ten easy 'digits': class c is a bright 6x6 block at a class-specific place, plus noise."""
    g = torch.Generator().manual_seed(seed)
    x = 0.1 * torch.rand(10 * n_per_class, 1, 28, 28, generator=g)
    y = torch.arange(10).repeat_interleave(n_per_class)
    for c in range(10):
        r, col = 2 + 12 * (c // 5), 1 + 5 * (c % 5)
        x[y == c, 0, r : r + 6, col : col + 4] = 1.0
    return x, y


pytestmark = pytest.mark.usefixtures("one_thread")


TINY = ClassifierConfig(width=4, num_features=16, steps=60, batch_size=32, lr=3e-3, shift=0)


def test_classifier_features_have_num_features_and_stay_in_eval_mode():
    clf = MNISTClassifier(TINY)
    f = ClassifierFeatures(clf)
    f.train()
    assert not f.training and not clf.training
    x = torch.rand(5, 784)
    out = f(x)
    assert out.shape == (5, TINY.num_features) and not out.requires_grad
    assert torch.equal(out, f(x))  # dropout is off: deterministic
    with pytest.raises(ValueError, match="784"):
        clf(torch.rand(3, 10))


def test_training_learns_separable_digits():
    x, y = toy_digits()
    clf = train_classifier(x, y, TINY, device="cpu")
    assert classifier_accuracy(clf, x, y) > 0.95
    assert classifier_accuracy(MNISTClassifier(TINY), x, y) < 0.5  # untrained: near chance


def test_cache_key_depends_on_data_config_and_nothing_else():
    x, y = toy_digits()
    k = classifier_cache_key(x, y, TINY)
    assert k == classifier_cache_key(x.clone(), y.clone(), TINY)
    x2 = x.clone()
    x2[0, 0, 0, 0] += 0.5
    assert classifier_cache_key(x2, y, TINY) != k
    assert classifier_cache_key(x, y.roll(1), TINY) != k
    assert classifier_cache_key(x, y, ClassifierConfig(**{**TINY.__dict__, "steps": 61})) != k


def test_load_or_train_trains_once_then_loads_the_same_weights(tmp_path, capsys):
    x, y = toy_digits()
    a = load_or_train_classifier(x, y, TINY, cache_dir=tmp_path, device="cpu")
    assert not a.cache_hit and a.cache_path.is_file() and "trained" in capsys.readouterr().out
    b = load_or_train_classifier(x, y, TINY, cache_dir=tmp_path, device="cpu")
    assert b.cache_hit and b.cache_path == a.cache_path and "loaded" in capsys.readouterr().out
    for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert ka == kb and torch.equal(va, vb)
    c = load_or_train_classifier(x[:-1], y[:-1], TINY, cache_dir=tmp_path, device="cpu", verbose=False)
    assert not c.cache_hit and c.cache_path != a.cache_path  # other data, other file


def test_training_or_loading_leaves_the_global_random_state_alone(tmp_path):
    x, y = toy_digits()
    for expect_hit in (False, True):  # trains (cache miss), then loads (cache hit)
        torch.manual_seed(123)
        before = torch.get_rng_state()
        model = load_or_train_classifier(x, y, TINY, cache_dir=tmp_path, device="cpu", verbose=False)
        assert model.cache_hit is expect_hit
        assert torch.equal(torch.get_rng_state(), before)


class Oracle(nn.Module):
    """A 'classifier' that reads the class from the first 10 inputs (argmax)."""

    def __init__(self):
        super().__init__()
        self.dummy = nn.Parameter(torch.zeros(()))

    def forward(self, x):
        return x.reshape(len(x), -1)[:, :10] + self.dummy


def test_class_histogram_counts_predictions_and_flags_missing_digits():
    labels = torch.tensor([3] * 50 + [7] * 45 + [1] * 5)
    x = torch.zeros(100, 784)
    x[torch.arange(100), labels] = 1.0
    h = class_histogram(Oracle(), x, batch_size=7)
    assert h.tolist() == [0, 5, 0, 50, 0, 0, 0, 45, 0, 0] and int(h.sum()) == 100
    assert torch.equal(predict_classes(Oracle(), x), labels)
    assert missing_classes(h) == [0, 2, 4, 5, 6, 8, 9]
    assert missing_classes(h, min_fraction=0.06) == [0, 1, 2, 4, 5, 6, 8, 9]
    assert missing_classes([10] * 10) == []
    with pytest.raises(ValueError):
        missing_classes([0, 0, 0])
