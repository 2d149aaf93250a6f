"""Losses of S games at once: dim=-1 gives each member's loss, the same as mapping over members."""
import pytest
import torch

from ganlib.engine.config import TrainConfig
from ganlib.recipes.experiments import train_pair
from ganlib.game.losses import batch_mean, discriminator_loss
from ganlib.nets.models import MLPDiscriminator, MLPGenerator
from ganlib.game.registry import LOSSES, GANLoss, get_loss
from ganlib.engine.workers import keep_freed_memory

BUILT_IN = ["saturating", "non_saturating", "wasserstein", "wgan-gp", "hinge"]


def logits(S=5, B=64, seed=0, scale=3.0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(S, B, generator=g) * scale, torch.randn(S, B, generator=g) * scale + 1.0


@pytest.mark.parametrize("name", BUILT_IN)
def test_built_in_losses_are_batched(name):
    assert get_loss(name).batched is True


@pytest.mark.parametrize("name", BUILT_IN)
def test_dim_minus_one_equals_vmap_over_members(name):
    loss = get_loss(name)
    r, f = logits()
    for fn, args in ((loss.discriminator, (r, f)), (loss.generator, (f,)), (loss.value, (r, f))):
        torch.testing.assert_close(fn(*args, dim=-1), torch.vmap(fn)(*args), atol=1e-6, rtol=0)


@pytest.mark.parametrize("name", BUILT_IN)
def test_each_member_is_its_own_one_game_loss(name):
    loss = get_loss(name)
    r, f = logits()
    batched = loss.member_objectives(None, None, None, r, f, rand=None) if loss.penalty is None else None
    for s in range(r.shape[0]):
        torch.testing.assert_close(loss.member_generator(f)[s], loss.generator(f[s]), atol=1e-6, rtol=0)
        if batched is not None:
            torch.testing.assert_close(batched[s, 0], loss.discriminator(r[s], f[s]), atol=1e-6, rtol=0)
            torch.testing.assert_close(batched[s, 1], loss.value(r[s], f[s]), atol=1e-6, rtol=0)
            torch.testing.assert_close(batched[s, 2], loss.link(r[s]).mean(), atol=1e-6, rtol=0)


def test_a_registered_loss_without_dim_is_mapped_with_vmap():
    # a loss written with .mean() over everything: only vmap keeps the members apart
    plain = GANLoss("plain", lambda r, f: discriminator_loss(r, f), lambda f: -f.mean(), "mean over all")
    assert plain.batched is False
    r, f = logits()
    out = plain.member_objectives(None, None, None, r, f, rand=None)
    assert out.shape == (r.shape[0], 4)
    torch.testing.assert_close(out[:, 0], torch.stack([discriminator_loss(a, b) for a, b in zip(r, f)]))
    torch.testing.assert_close(plain.member_generator(f), -f.mean(1))


def test_batched_must_be_a_bool():
    with pytest.raises(TypeError, match="batched must be a bool"):
        GANLoss("x", discriminator_loss, lambda f: f.mean(), "x", batched=1)


def test_batch_mean_over_all_or_one_axis():
    t = torch.arange(6.0).reshape(2, 3)
    assert batch_mean(t).item() == 2.5
    torch.testing.assert_close(batch_mean(t, -1), torch.tensor([1.0, 4.0]))


def test_finite_at_logits_100_with_a_member_axis():
    r = torch.tensor([[100.0, -100.0], [-100.0, 100.0]], requires_grad=True)
    for name in BUILT_IN:
        out = get_loss(name).discriminator(r, -r, dim=-1)
        assert out.shape == (2,) and torch.isfinite(out).all()


def test_keep_freed_memory_is_idempotent():
    first = keep_freed_memory()
    assert keep_freed_memory() is first


def test_fused_adam_through_optimizer_kwargs(one_thread):
    cfg = TrainConfig(batch_size=32, max_steps=3, device="cpu", progress=False, snapshot_every=-1,
                      optimizer_kwargs={"betas": (0.5, 0.999), "fused": True})
    t = train_pair(cfg, lambda: (MLPGenerator(2, 2, (8,)), MLPDiscriminator(2, (8,))), torch.randn(256, 2))
    group = t.optim_d.optimizer.param_groups[0]
    assert group["fused"] is True and not group["foreach"]
    assert len(LOSSES) >= len(BUILT_IN)
