"""The paper's MNIST networks, the DCGAN pair, the toy MLPs and the paper's optimiser preset."""

import math

import pytest
import torch

from ganlib.nets.layers import FastDropout, Maxout
from ganlib.nets.models import DCGANDiscriminator, DCGANGenerator, MLPDiscriminator, MLPGenerator, PaperDiscriminator, PaperGenerator, build_models, pixel_logit_bias
from ganlib.engine.optim import PaperSGDSchedule, paper_optimizer


def test_paper_generator_shapes_noise_and_init():
    means = torch.linspace(0.01, 0.6, 784)
    G = PaperGenerator(pixel_means=means)
    assert G.latent_dim == 100
    z = G.sample_noise(20000, generator=torch.Generator().manual_seed(0))
    assert z.shape == (20000, 100)
    assert z.min() >= -math.sqrt(3) and z.max() <= math.sqrt(3)
    assert abs(z.var().item() - 1.0) < 0.01  # unit variance
    x = G(z[:5])
    assert x.shape == (5, 784) and x.min() >= 0 and x.max() <= 1
    sizes = [(m.in_features, m.out_features) for m in G.modules() if isinstance(m, torch.nn.Linear)]
    assert sizes == [(100, 1200), (1200, 1200), (1200, 784)]
    for m in G.modules():
        if isinstance(m, torch.nn.Linear):
            assert m.weight.abs().max() <= 0.05
    assert torch.allclose(torch.sigmoid(G.net[-1].bias), means, atol=1e-5)
    assert torch.allclose(torch.sigmoid(pixel_logit_bias(means)), means, atol=1e-5)


def test_paper_discriminator_architecture_and_dropout():
    D = PaperDiscriminator()
    linears = [m for m in D.modules() if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(784, 1200), (240, 1200), (240, 1)]
    assert all(m.weight.abs().max() <= 0.005 for m in linears)
    assert [m.keep for m in D.modules() if isinstance(m, FastDropout)] == [0.8, 0.5, 0.5]
    x = torch.rand(8, 784)
    assert D(x).shape == (8,)
    D.eval()
    assert torch.equal(D(x), D(x))  # no dropout in eval mode
    D.train()
    assert not torch.equal(D(x), D(x))


def test_maxout_is_max_over_pieces():
    m = Maxout(6, units=4, pieces=3)
    x = torch.randn(5, 6)
    y = m.linear(x).view(5, 3, 4)
    assert torch.equal(m(x), y.max(dim=1).values)


def test_maxout_gradient_matches_amax_without_ties():
    torch.manual_seed(0)
    m = Maxout(6, units=4, pieces=3)
    x = torch.randn(7, 6)
    g = torch.randn(7, 4)
    m(x).backward(g)
    ours = [p.grad.clone() for p in m.parameters()]
    m.zero_grad()
    m.linear(x).view(7, 3, 4).amax(1).backward(g)  # torch's own max-reduction backward
    for a, b in zip(ours, m.parameters()):
        assert torch.allclose(a, b.grad, atol=1e-6)


def test_maxout_gradcheck_and_gradgradcheck_float64():
    torch.manual_seed(0)
    m = Maxout(5, units=3, pieces=4).double()
    x = torch.randn(6, 5, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(m, (x,))
    assert torch.autograd.gradgradcheck(m, (x,))  # WGAN-GP differentiates D's input gradient


def test_maxout_tie_sends_full_gradient_to_each_maximal_piece():
    m = Maxout(2, units=1, pieces=3)
    with torch.no_grad():
        m.linear.weight.copy_(torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]]))
        m.linear.bias.zero_()
    x = torch.tensor([[2.0, -1.0]], requires_grad=True)  # pieces 0 and 1 tie at 2
    m(x).sum().backward()
    assert torch.equal(m.linear.bias.grad, torch.tensor([1.0, 1.0, 0.0]))


@pytest.mark.parametrize("keep", [0.8, 0.5])
def test_fast_dropout_keep_rate_and_scaling(keep):
    torch.manual_seed(0)
    d = FastDropout(keep)
    y = d(torch.ones(400, 1000))
    assert abs((y > 0).float().mean().item() - keep) < 0.005
    assert torch.all((y == 0) | torch.isclose(y, torch.tensor(1 / keep)))
    x = torch.randn(3, 7, requires_grad=True)
    out = d(x)
    out.sum().backward()
    assert torch.equal(x.grad, (out != 0).float() / keep)
    with pytest.raises(ValueError):
        FastDropout(0.0)


def test_fast_dropout_mask_does_not_depend_on_row_layout():
    d = FastDropout(0.8)
    torch.manual_seed(3)
    flat = d(torch.ones(2, 2, 10))  # last dim not a multiple of 4: words drawn flat, then reshaped
    torch.manual_seed(3)
    rows = d(torch.ones(2, 20))  # words drawn in the row shape
    assert torch.equal(flat.view(2, 20), rows)


def test_fast_dropout_keeps_the_input_dtype():
    d = FastDropout(0.5)
    for dtype in (torch.float64, torch.bfloat16):
        y = d(torch.ones(4, 8, dtype=dtype))
        assert y.dtype == dtype and set(y.unique().tolist()) <= {0.0, 2.0}


def test_dcgan_and_mlp_shapes():
    G, D = DCGANGenerator(width=8), DCGANDiscriminator(width=8)
    z = G.sample_noise(4)
    x = G(z)
    assert x.shape == (4, 1, 28, 28) and 0 <= x.min() and x.max() <= 1
    assert D(x).shape == (4,) and D(x.flatten(1)).shape == (4,)
    g, d = MLPGenerator(3, 2, (8,)), MLPDiscriminator(2, (8,))
    assert g.sample_noise(5).shape == (5, 3) and g(g.sample_noise(5)).shape == (5, 2) and d(torch.randn(5, 2)).shape == (5,)


def test_build_models():
    G, D = build_models("paper", (784,))
    assert isinstance(G, PaperGenerator) and isinstance(D, PaperDiscriminator)
    G, D = build_models("dcgan", (1, 28, 28))
    assert isinstance(G, DCGANGenerator)
    G, D = build_models("mlp", (2,))
    assert G.latent_dim == 2 and G(G.sample_noise(3)).shape == (3, 2)
    with pytest.raises(ValueError, match="unknown model 'nope'"):
        build_models("nope", (2,))


def test_paper_sgd_schedule():
    p = torch.nn.Parameter(torch.zeros(1))
    opt, sched = paper_optimizer([p], steps_per_epoch=10)
    assert isinstance(opt, torch.optim.SGD)
    g = opt.param_groups[0]
    assert g["lr"] == 0.1 and g["momentum"] == 0.5
    for _ in range(25):
        sched.step()
    assert math.isclose(g["lr"], 0.1 / 1.000004**25, rel_tol=1e-9)
    assert math.isclose(g["momentum"], 0.5 + 0.2 * 2 / 249)  # epoch 3
    sched.t = 10 * 300
    sched.step()
    assert math.isclose(g["momentum"], 0.7)
    sched.t = 10**9
    sched.step()
    assert g["lr"] == 1e-6  # floor
    s2 = PaperSGDSchedule(torch.optim.SGD([p], lr=0.1), 10)
    s2.load_state_dict(sched.state_dict())
    assert s2.optimizer.param_groups[0]["lr"] == 1e-6
