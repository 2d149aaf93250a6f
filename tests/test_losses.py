"""Properties of ganlib.game.losses, checked against torch's BCE and direct closed forms."""

import math

import pytest
import torch
import torch.nn.functional as F

from ganlib.game import losses, registry
from ganlib.game.losses import DiscriminatorLoss, GeneratorLoss, ValueFunction, discriminator_loss, generator_loss_non_saturating, generator_loss_saturating, value_function
from ganlib.game.registry import LOSSES, GANLoss, get_loss, register_loss


def _logits(*shape, seed=0, scale=3.0, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    return scale * torch.randn(*shape, generator=g, dtype=dtype)


PAIR_FUNCTIONS = [value_function, discriminator_loss]
SINGLE_FUNCTIONS = [generator_loss_saturating, generator_loss_non_saturating]


def test_value_function_matches_bce_with_logits():
    real, fake = _logits(17, 1, seed=1), _logits(9, 1, seed=2)  # different batch sizes
    bce = F.binary_cross_entropy_with_logits(real, torch.ones_like(real)) + F.binary_cross_entropy_with_logits(
        fake, torch.zeros_like(fake)
    )
    torch.testing.assert_close(value_function(real, fake), -bce)
    torch.testing.assert_close(discriminator_loss(real, fake), bce)


def test_matches_log_sigmoid_formula_at_moderate_logits():
    real, fake = _logits(64, seed=3), _logits(32, seed=4)
    d_real, d_fake = torch.sigmoid(real), torch.sigmoid(fake)
    expected_v = torch.log(d_real).mean() + torch.log(1 - d_fake).mean()
    torch.testing.assert_close(value_function(real, fake), expected_v)
    torch.testing.assert_close(discriminator_loss(real, fake), -expected_v)
    torch.testing.assert_close(generator_loss_saturating(fake), torch.log(1 - d_fake).mean())
    torch.testing.assert_close(generator_loss_non_saturating(fake), -torch.log(d_fake).mean())


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_finite_at_logits_100(dtype):
    extreme = torch.tensor([-100.0, 100.0], dtype=dtype)
    for fn in PAIR_FUNCTIONS:
        real = extreme.clone().requires_grad_()
        fake = extreme.clone().requires_grad_()
        out = fn(real, fake)
        out.backward()
        assert torch.isfinite(out) and torch.isfinite(real.grad).all() and torch.isfinite(fake.grad).all()
    for fn in SINGLE_FUNCTIONS:
        fake = extreme.clone().requires_grad_()
        out = fn(fake)
        out.backward()
        assert torch.isfinite(out) and torch.isfinite(fake.grad).all()
    # log sigma(-100) = -100 - log(1 + e^-100) ~ -100 and log sigma(100) ~ 0: D fooled both ways.
    v = value_function(torch.tensor([-100.0], dtype=dtype), torch.tensor([100.0], dtype=dtype))
    assert v.item() == pytest.approx(-200.0, rel=1e-6)
    # A perfect D: log D(x) ~ 0 and log(1 - D(G(z))) ~ 0.
    v = value_function(torch.tensor([100.0], dtype=dtype), torch.tensor([-100.0], dtype=dtype))
    assert v.item() == pytest.approx(0.0, abs=1e-30)
    assert v.item() < 0  # still log of something < 1, not rounded to a positive value


@pytest.mark.parametrize("fn", PAIR_FUNCTIONS, ids=lambda f: f.__name__)
def test_gradcheck_float64_pair(fn):
    real = _logits(5, seed=5).requires_grad_()
    fake = _logits(3, seed=6).requires_grad_()
    assert torch.autograd.gradcheck(fn, (real, fake))


@pytest.mark.parametrize("fn", SINGLE_FUNCTIONS, ids=lambda f: f.__name__)
def test_gradcheck_float64_generator(fn):
    fake = _logits(6, seed=7).requires_grad_()
    assert torch.autograd.gradcheck(fn, (fake,))


def test_saturating_gradient_vanishes_when_d_rejects_fakes():
    n = 8
    fake = torch.full((n,), -10.0, dtype=torch.float64, requires_grad=True)  # D(G(z)) = sigma(-10) ~ 4.5e-5
    generator_loss_saturating(fake).backward()
    per_sample = n * fake.grad  # undo the 1/n of the batch mean
    torch.testing.assert_close(per_sample, -torch.sigmoid(fake.detach()))  # d/dl log(1 - sigma(l)) = -sigma(l)
    assert per_sample.abs().max() < 1e-4


def test_non_saturating_gradient_stays_order_one_when_d_rejects_fakes():
    n = 8
    fake = torch.full((n,), -10.0, dtype=torch.float64, requires_grad=True)
    generator_loss_non_saturating(fake).backward()
    per_sample = n * fake.grad
    torch.testing.assert_close(per_sample, -(1 - torch.sigmoid(fake.detach())))  # d/dl -log sigma(l)
    assert torch.allclose(per_sample, torch.full_like(per_sample, -1.0), atol=1e-4)


def test_value_is_minus_log4_when_d_is_half_everywhere():
    zeros_real, zeros_fake = torch.zeros(10), torch.zeros(7)  # logit 0 <=> D = 1/2
    assert value_function(zeros_real, zeros_fake).item() == pytest.approx(-math.log(4), abs=1e-6)


def test_discriminator_loss_is_negative_value_function():
    real, fake = _logits(11, seed=8), _logits(13, seed=9)
    torch.testing.assert_close(discriminator_loss(real, fake), -value_function(real, fake))


def test_generator_losses_share_the_fixed_point_of_d_half():
    # At D(G(z)) = 1/2: log(1 - D) = -log 2 and -log D = log 2.
    fake = torch.zeros(5)
    assert generator_loss_saturating(fake).item() == pytest.approx(-math.log(2), abs=1e-6)
    assert generator_loss_non_saturating(fake).item() == pytest.approx(math.log(2), abs=1e-6)


def test_no_host_sync_usable_under_vmap():
    # vmap refuses .item() and data-dependent Python branches, so this proves the hot path is sync-free.
    real, fake = _logits(4, 6, seed=10), _logits(4, 3, seed=11)
    batched = torch.func.vmap(value_function)(real, fake)
    looped = torch.stack([value_function(r, f) for r, f in zip(real, fake)])
    torch.testing.assert_close(batched, looped)
    for fn in SINGLE_FUNCTIONS:
        torch.testing.assert_close(torch.func.vmap(fn)(fake), torch.stack([fn(f) for f in fake]))


def test_modules_equal_functions():
    real, fake = _logits(12, 1, seed=12), _logits(12, 1, seed=13)
    torch.testing.assert_close(ValueFunction()(real, fake), value_function(real, fake))
    torch.testing.assert_close(DiscriminatorLoss()(real, fake), discriminator_loss(real, fake))
    torch.testing.assert_close(GeneratorLoss()(fake), generator_loss_non_saturating(fake))
    torch.testing.assert_close(GeneratorLoss("saturating")(fake), generator_loss_saturating(fake))


def test_registry_has_paper_losses_with_shared_discriminator():
    assert set(LOSSES) >= {"saturating", "non_saturating"}
    assert get_loss("saturating").generator is generator_loss_saturating
    assert get_loss("non_saturating").generator is generator_loss_non_saturating
    assert get_loss("saturating").discriminator is discriminator_loss
    assert get_loss("non_saturating").discriminator is discriminator_loss


def test_get_loss_unknown_name_lists_valid_names():
    with pytest.raises(ValueError, match=r"unknown GAN loss 'least_squares'.*non_saturating.*saturating"):
        get_loss("least_squares")
    with pytest.raises(ValueError, match="non_saturating"):
        GeneratorLoss("nope")


def test_get_loss_rejects_non_string_name():
    with pytest.raises(TypeError, match="must be a str"):
        get_loss(3)


def test_register_loss_adds_and_rejects_duplicate():
    new = GANLoss("test_only_ns_copy", discriminator_loss, generator_loss_non_saturating, "copy for a test")
    try:
        assert register_loss(new) is new
        assert get_loss("test_only_ns_copy") is new
        with pytest.raises(ValueError, match="already registered"):
            register_loss(GANLoss("test_only_ns_copy", discriminator_loss, generator_loss_saturating, "dup"))
        assert get_loss("test_only_ns_copy") is new  # the duplicate did not overwrite
    finally:
        registry.LOSSES.pop("test_only_ns_copy", None)
    with pytest.raises(ValueError, match="already registered"):
        register_loss(GANLoss("saturating", discriminator_loss, generator_loss_saturating, "dup"))
    with pytest.raises(TypeError, match="GANLoss"):
        register_loss("saturating")


def test_ganloss_is_frozen():
    with pytest.raises(Exception, match="cannot assign"):
        get_loss("saturating").name = "x"


def test_rejects_non_tensor_integer_and_empty_logits():
    with pytest.raises(TypeError, match="d_real_logits must be a torch.Tensor"):
        value_function([0.0], torch.zeros(1))
    with pytest.raises(TypeError, match="floating-point"):
        generator_loss_non_saturating(torch.zeros(3, dtype=torch.long))
    with pytest.raises(ValueError, match="d_fake_logits is empty"):
        discriminator_loss(torch.zeros(2), torch.zeros(0))
    with pytest.raises(ValueError, match="empty"):
        generator_loss_saturating(torch.zeros(0, 1))


# ---------------------------------------------------------------------------- closed-form logit gradients


# torch's softplus is linear beyond 20 (its threshold), so autograd is exact only on the side where
# the loss's softplus argument stays <= 20; that side includes the saturated regime D(G(z)) -> 0.
@pytest.mark.parametrize("kind, lo, hi", [("saturating", -30.0, 20.0), ("non_saturating", -20.0, 30.0)])
def test_generator_logit_gradient_matches_autograd(kind, lo, hi):
    logits = torch.linspace(lo, hi, 101, dtype=torch.float64, requires_grad=True)
    n = logits.numel()
    get_loss(kind).generator(logits).backward()
    closed = losses.generator_logit_gradient(torch.sigmoid(logits.detach()), kind)
    torch.testing.assert_close(n * logits.grad, closed, rtol=1e-12, atol=1e-15)


def test_generator_logit_gradient_saturating_vanishes_where_non_saturating_does_not():
    d = torch.tensor([1e-8, 1e-4, 0.5, 1 - 1e-4], dtype=torch.float64)
    sat = losses.generator_logit_gradient(d, "saturating")
    ns = losses.generator_logit_gradient(d, "non_saturating")
    torch.testing.assert_close(sat, -d)
    torch.testing.assert_close(ns, d - 1)
    assert sat[0].abs() < 1e-7 and ns[0].abs() > 0.99  # D(G(z)) -> 0: only the saturating one vanishes
    assert sat[2] == ns[2] == -0.5  # the two agree at D = 1/2


def test_generator_logit_gradient_rejects_bad_input():
    with pytest.raises(TypeError, match="torch.Tensor"):
        losses.generator_logit_gradient([0.5], "saturating")
    with pytest.raises(TypeError, match="floating-point"):
        losses.generator_logit_gradient(torch.ones(2, dtype=torch.long), "saturating")
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        losses.generator_logit_gradient(torch.tensor([1.5]), "saturating")
    with pytest.raises(ValueError, match=r"valid kinds: non_saturating, saturating"):
        losses.generator_logit_gradient(torch.tensor([0.5]), "wasserstein")
    with pytest.raises(TypeError, match="kind must be a str"):
        losses.generator_logit_gradient(torch.tensor([0.5]), 1)
