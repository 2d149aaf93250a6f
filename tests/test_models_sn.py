"""Spectral normalisation as a discriminator option (Miyato et al., 2018)."""

import pytest
import torch
from torch import nn
from torch.nn.utils import parametrize

from ganlib.nets.layers import apply_spectral_norm
from ganlib.nets.models import DCGANDiscriminator, MLPDiscriminator, PaperDiscriminator, build_models


pytestmark = pytest.mark.usefixtures("one_thread")


def _weighted_layers(module):
    return [m for m in module.modules() if isinstance(m, (nn.Linear, nn.Conv2d))]


def _warm_up(d, shape, n_forward=150):
    """Training-mode forwards run the power iteration that estimates sigma(W)."""
    d.train()
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for _ in range(n_forward):
            d(torch.randn((8, *shape), generator=g))
    d.eval()


@pytest.mark.parametrize(
    "make, shape",
    [
        (lambda: MLPDiscriminator(2, (64, 64), spectral_norm=True), (2,)),
        (lambda: PaperDiscriminator(784, units=32, pieces=3, spectral_norm=True), (784,)),
        (lambda: DCGANDiscriminator(width=8, spectral_norm=True, batch_norm=False), (1, 28, 28)),
    ],
)
def test_spectral_norm_bounds_the_largest_singular_value_by_one(make, shape):
    torch.manual_seed(0)
    d = make()
    layers = _weighted_layers(d)
    assert layers and all(parametrize.is_parametrized(m, "weight") for m in layers)
    raw = [torch.linalg.matrix_norm(m.parametrizations.weight.original.reshape(m.weight.shape[0], -1), ord=2) for m in layers]
    _warm_up(d, shape)
    with torch.no_grad():
        for m, r in zip(layers, raw):
            sigma = torch.linalg.matrix_norm(m.weight.reshape(m.weight.shape[0], -1), ord=2).item()
            assert sigma == pytest.approx(1.0, abs=0.02), (m, sigma, r.item())


def test_without_the_option_the_weights_are_not_normalised():
    torch.manual_seed(0)
    d = MLPDiscriminator(2, (64, 64))
    assert not any(parametrize.is_parametrized(m) for m in d.modules())
    sigmas = [torch.linalg.matrix_norm(m.weight, ord=2).item() for m in _weighted_layers(d)]
    assert max(abs(s - 1.0) for s in sigmas) > 0.1  # default init is not unit spectral norm


def test_spectrally_normalised_mlp_critic_is_one_lipschitz():
    torch.manual_seed(1)
    d = MLPDiscriminator(2, (64, 64), spectral_norm=True)
    with torch.no_grad():  # make the raw weights large, so that only the normalisation bounds D
        for m in _weighted_layers(d):
            m.parametrizations.weight.original.mul_(50.0)
    _warm_up(d, (2,))
    g = torch.Generator().manual_seed(2)
    x, y = torch.randn(5000, 2, generator=g) * 3, torch.randn(5000, 2, generator=g) * 3
    with torch.no_grad():
        ratio = (d(x) - d(y)).abs() / (x - y).norm(dim=1)
    assert ratio.max().item() <= 1.0 + 1e-2


def test_dcgan_discriminator_batch_norm_option():
    assert any(isinstance(m, nn.BatchNorm2d) for m in DCGANDiscriminator(8).modules())
    d = DCGANDiscriminator(8, batch_norm=False)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in d.modules())
    assert d(torch.rand(3, 1, 28, 28)).shape == (3,)


def test_build_models_spectral_norm_option_and_state_dict_round_trip():
    for name, shape in (("mlp", (2,)), ("paper", (784,)), ("dcgan", (1, 28, 28))):
        _, d = build_models(name, shape, spectral_norm=True)
        assert all(parametrize.is_parametrized(m, "weight") for m in _weighted_layers(d)), name
        assert not any(isinstance(m, nn.BatchNorm2d) for m in d.modules()), name
        _, d2 = build_models(name, shape, spectral_norm=True)
        d2.load_state_dict(d.state_dict())
        d.eval(), d2.eval()
        x = torch.rand(4, *shape)
        torch.testing.assert_close(d(x), d2(x))
    _, plain = build_models("dcgan", (1, 28, 28))
    assert any(isinstance(m, nn.BatchNorm2d) for m in plain.modules())


def test_apply_spectral_norm_rejects_non_modules():
    with pytest.raises(TypeError, match="nn.Module"):
        apply_spectral_norm("not a module")
