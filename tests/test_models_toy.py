"""The toy-chapter additions to ganlib.nets.models: PacGAN packing and the batch-normalised MLP generator."""

import pytest
import torch
import torch.nn.functional as F

from ganlib.game.losses import discriminator_loss
from ganlib.nets.layers import PackedDiscriminator
from ganlib.nets.models import MLPDiscriminator, MLPGenerator
from ganlib.engine.config import TrainConfig
from ganlib.engine.loop import Trainer


def _packed(pack, d=2, seed=0):
    torch.manual_seed(seed)
    return PackedDiscriminator(MLPDiscriminator(pack * d, (16, 16)), pack)


def test_each_sample_gets_the_logit_of_its_pack():
    D = _packed(2)
    x = torch.randn(6, 2, generator=torch.Generator().manual_seed(1))
    logits = D(x)
    assert logits.shape == (6,)
    packs = D.base(torch.cat([x[0::2], x[1::2]], dim=1))  # (x0, x1), (x2, x3), (x4, x5) side by side
    assert torch.allclose(logits, packs.repeat_interleave(2))


def test_the_pack_is_judged_jointly_not_sample_by_sample():
    # changing one member changes the logit of its partner as well, and nothing else
    D = _packed(2)
    x = torch.randn(4, 2, generator=torch.Generator().manual_seed(2))
    y = x.clone()
    y[0] += 1.0
    a, b = D(x), D(y)
    assert a[0] != b[0] and a[1] != b[1] and torch.equal(a[2:], b[2:])


def test_pack_one_is_the_base_discriminator():
    torch.manual_seed(0)
    base = MLPDiscriminator(2, (8,))
    x = torch.randn(5, 2)
    assert torch.equal(PackedDiscriminator(base, 1)(x), base(x))


def test_per_sample_loss_equals_the_packed_loss_with_the_same_gradients():
    D = _packed(2)
    g = torch.Generator().manual_seed(3)
    real, fake = torch.randn(8, 2, generator=g), torch.randn(8, 2, generator=g) + 1
    loss = discriminator_loss(D(real), D(fake))
    grads = torch.autograd.grad(loss, list(D.parameters()))
    # the PacGAN loss written on the packs directly: one BCE term per pack of two
    lr, lf = D.base(real.reshape(4, 4)), D.base(fake.reshape(4, 4))
    bce = F.binary_cross_entropy_with_logits
    packed = bce(lr, torch.ones(4)) + bce(lf, torch.zeros(4))
    ref = torch.autograd.grad(packed, list(D.parameters()))
    assert torch.allclose(loss, packed)
    for a, b in zip(grads, ref):
        assert torch.allclose(a, b, atol=1e-6)


def test_batch_not_divisible_by_pack_is_rejected():
    with pytest.raises(ValueError, match="packs of 2"):
        _packed(2)(torch.randn(3, 2))
    with pytest.raises(ValueError):
        PackedDiscriminator(MLPDiscriminator(2), pack=0)
    with pytest.raises(TypeError):
        PackedDiscriminator("not a module", pack=2)


def test_pacgan2_trains_with_the_trainer():
    torch.manual_seed(0)
    G = MLPGenerator(2, 2, (16,))
    tr = Trainer(TrainConfig(batch_size=32, max_steps=5, progress=False, snapshot_every=-1), G, _packed(2),
                 torch.randn(128, 2))
    before = [p.detach().clone() for p in tr.D.parameters()]
    tr.run()
    assert len(tr.history["d_loss"]) == 5
    assert any(not torch.equal(a, b) for a, b in zip(before, tr.D.parameters()))


def test_batch_norm_generator_normalises_hidden_units_in_training_mode():
    torch.manual_seed(0)
    G = MLPGenerator(2, 2, (32, 32), batch_norm=True)
    bns = [m for m in G.modules() if isinstance(m, torch.nn.BatchNorm1d)]
    assert len(bns) == 2
    h = {}
    bns[0].register_forward_hook(lambda m, i, o: h.update(out=o))  # returns None: output unchanged
    G.train()
    G(G.sample_noise(512) * 10 + 5)  # badly scaled input: BN still gives mean 0, variance 1 per unit
    assert h["out"].mean(0).abs().max() < 1e-5 and (h["out"].var(0, unbiased=False) - 1).abs().max() < 1e-3
    G.eval()
    assert G(G.sample_noise(3)).shape == (3, 2)


def test_default_generator_has_no_batch_norm():
    assert not any(isinstance(m, torch.nn.BatchNorm1d) for m in MLPGenerator(2, 2, (8,)).modules())


def test_elu_generator_is_smooth_and_the_ensemble_stacks_it():
    import torch

    from ganlib.nets.models import MLPGenerator
    from ganlib.nets.stacked import stack_players
    from ganlib.nets.models import MLPDiscriminator

    torch.manual_seed(0)
    G = MLPGenerator(1, 1, (16, 16), activation="elu").double()
    z = torch.linspace(-3, 3, 2001, dtype=torch.float64).reshape(-1, 1).requires_grad_(True)
    (slope,) = torch.autograd.grad(G(z).sum(), z)
    assert torch.max(torch.abs(torch.diff(slope.reshape(-1)))) < 1e-2  # G' has no jumps (a ReLU G's does)
    pairs = [(MLPGenerator(1, 1, (16, 16), activation="elu"), MLPDiscriminator(1, (8,))) for _ in range(2)]
    stack_players(pairs)
    import pytest
    with pytest.raises(ValueError, match="activation"):
        MLPGenerator(1, 1, (4,), activation="gelu")
