"""Wasserstein (WGAN), WGAN-GP and hinge losses, and the gradient penalty."""

import math

import pytest
import torch
from torch import nn

from ganlib.game.critics import GP_WEIGHT, WGAN_CLIP, critic_loss_hinge, critic_loss_wasserstein, generator_loss_hinge, generator_loss_wasserstein, gradient_penalty, wasserstein_estimate
from ganlib.game.losses import discriminator_loss, generator_loss_non_saturating, value_function
from ganlib.game.registry import GANLoss, get_loss


def _linear_critic(w: torch.Tensor, b: float = 0.3) -> nn.Linear:
    lin = nn.Linear(w.numel(), 1).to(w.dtype)
    with torch.no_grad():
        lin.weight.copy_(w.reshape(1, -1))
        lin.bias.fill_(b)
    return lin


def _batch(n=32, d=5, seed=0, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, d, generator=g, dtype=dtype), torch.randn(n, d, generator=g, dtype=dtype) + 2.0


# ---------------------------------------------------------------------------- critic losses
def test_wasserstein_critic_loss_is_minus_the_mean_score_gap():
    real, fake = torch.tensor([1.0, 3.0]), torch.tensor([-2.0, 0.0, 5.0])
    # mean f(fake) = 1, mean f(real) = 2
    assert critic_loss_wasserstein(real, fake).item() == pytest.approx(1.0 - 2.0)
    assert wasserstein_estimate(real, fake).item() == pytest.approx(1.0)
    assert generator_loss_wasserstein(fake).item() == pytest.approx(-1.0)


def test_wasserstein_critic_estimates_w1_of_two_shifted_gaussians():
    # For P_r = N(0, 1), P_g = N(s, 1), W1 = |s| and f(x) = -x (1-Lipschitz) attains the sup of Eq. 3.
    g = torch.Generator().manual_seed(1)
    s = 1.7
    x, y = torch.randn(200_000, generator=g), torch.randn(200_000, generator=g) + s
    est = wasserstein_estimate(-x, -y).item()
    assert est == pytest.approx(s, abs=0.02)
    # any other 1-Lipschitz critic does no better (here: tanh-shaped and half-slope ones)
    assert wasserstein_estimate(-torch.tanh(x), -torch.tanh(y)).item() < est
    assert wasserstein_estimate(-0.5 * x, -0.5 * y).item() < est


def test_generator_gradient_per_score_is_constant_minus_one_over_n():
    fake = torch.tensor([-50.0, 0.0, 50.0], requires_grad=True)
    generator_loss_wasserstein(fake).backward()
    torch.testing.assert_close(fake.grad, torch.full((3,), -1 / 3))


def test_hinge_losses_ignore_confident_samples():
    real = torch.tensor([2.0, 0.5])  # the first is beyond the margin +1
    fake = torch.tensor([-3.0, 0.0])  # the first is beyond the margin -1
    # relu(1-2)=0, relu(1-0.5)=0.5 -> 0.25 ; relu(1-3)=0, relu(1+0)=1 -> 0.5
    assert critic_loss_hinge(real, fake).item() == pytest.approx(0.75)
    real.requires_grad_(True)
    critic_loss_hinge(real, fake).backward()
    assert real.grad[0].item() == 0.0 and real.grad[1].item() == pytest.approx(-0.5)
    assert generator_loss_hinge(fake).item() == pytest.approx(1.5)


@pytest.mark.parametrize("fn", [critic_loss_wasserstein, critic_loss_hinge, wasserstein_estimate])
def test_pair_losses_reject_bad_logits(fn):
    with pytest.raises(TypeError, match="torch.Tensor"):
        fn([1.0], torch.zeros(1))
    with pytest.raises(ValueError, match="empty"):
        fn(torch.zeros(0), torch.zeros(1))


def test_registry_entries_for_critic_losses():
    wgan, gp, hinge = get_loss("wasserstein"), get_loss("wgan-gp"), get_loss("hinge")
    assert wgan.clip_value == WGAN_CLIP == 0.01 and wgan.penalty is None
    assert gp.clip_value is None and gp.penalty is not None and GP_WEIGHT == 10.0
    assert hinge.clip_value is None and hinge.penalty is None
    for loss in (wgan, gp, hinge):
        assert loss.value is wasserstein_estimate
        t = torch.tensor([-3.0, 4.0])
        assert torch.equal(loss.link(t), t)  # raw scores, not sigmoids
    # the paper's losses keep their defaults
    assert get_loss("non_saturating").value is value_function and get_loss("non_saturating").penalty is None


def test_wgan_gp_penalty_is_ten_times_gradient_penalty():
    real, fake = _batch()
    critic = _linear_critic(torch.full((5,), 1.0))  # ||w|| = sqrt(5)
    pen = get_loss("wgan-gp").penalty(critic, real, fake, generator=torch.Generator().manual_seed(0))
    assert pen.item() == pytest.approx(10 * (math.sqrt(5) - 1) ** 2, rel=1e-5)


def test_ganloss_rejects_bad_clip_and_penalty():
    with pytest.raises(ValueError, match="clip_value"):
        GANLoss("x", discriminator_loss, generator_loss_non_saturating, "d", clip_value=-1.0)
    with pytest.raises(TypeError, match="penalty"):
        GANLoss("x", discriminator_loss, generator_loss_non_saturating, "d", penalty=3)


# ------------------------------------------------------------------------- gradient penalty
def test_gradient_penalty_is_zero_for_unit_norm_linear_critic():
    real, fake = _batch()
    w = torch.tensor([3.0, -1.0, 0.5, 2.0, 0.0])
    critic = _linear_critic(w / w.norm())
    assert gradient_penalty(critic, real, fake).item() == pytest.approx(0.0, abs=1e-10)


@pytest.mark.parametrize("scale", [0.0, 0.3, 2.5])
def test_gradient_penalty_equals_norm_minus_one_squared_for_linear_critic(scale):
    real, fake = _batch(seed=3)
    w = torch.tensor([1.0, 2.0, -2.0, 0.0, 4.0]) / 5.0 * scale  # ||w|| = scale
    critic = _linear_critic(w)
    assert gradient_penalty(critic, real, fake).item() == pytest.approx((scale - 1.0) ** 2, rel=1e-5, abs=1e-7)


def test_gradient_penalty_trains_the_critic_weights():
    real, fake = _batch()
    critic = _linear_critic(torch.tensor([2.0, 0.0, 0.0, 0.0, 0.0]))  # ||w|| = 2
    gradient_penalty(critic, real, fake).backward()
    # d/dw (||w|| - 1)^2 = 2 (||w|| - 1) w / ||w|| = (2, 0, 0, 0, 0)
    torch.testing.assert_close(critic.weight.grad, torch.tensor([[2.0, 0.0, 0.0, 0.0, 0.0]]))
    assert critic.bias.grad is None or critic.bias.grad.abs().item() == 0.0


def test_gradient_penalty_gradcheck_on_a_nonlinear_critic():
    real, fake = _batch(n=6, d=3, dtype=torch.float64)
    g = torch.Generator().manual_seed(0)
    w1 = torch.randn(3, 4, generator=g, dtype=torch.float64, requires_grad=True)
    w2 = torch.randn(4, generator=g, dtype=torch.float64, requires_grad=True)

    def penalty(a, b):
        critic = lambda x: torch.tanh(x @ a) @ b  # noqa: E731
        return gradient_penalty(critic, real, fake, generator=torch.Generator().manual_seed(7))

    assert torch.autograd.gradcheck(penalty, (w1, w2))


def test_gradient_penalty_interpolates_with_one_epsilon_per_sample():
    # A critic whose input gradient is x itself (f = ||x||^2 / 2) reveals the interpolates x_hat.
    real = torch.zeros(4, 2)
    fake = torch.tensor([[1.0, 0.0]] * 4)
    seen = []

    def critic(x):
        seen.append(x.detach().clone())
        return 0.5 * (x**2).sum(1)

    gradient_penalty(critic, real, fake, generator=torch.Generator().manual_seed(0))
    x_hat = seen[0]
    eps = 1.0 - x_hat[:, 0]  # x_hat = eps * real + (1 - eps) * fake
    assert ((eps >= 0) & (eps <= 1)).all() and x_hat[:, 1].abs().max() == 0
    assert eps.unique().numel() == 4  # different epsilon for each pair
    # the same generator seed gives the same epsilons (reproducible)
    gradient_penalty(critic, real, fake, generator=torch.Generator().manual_seed(0))
    assert torch.equal(seen[1], x_hat)


def test_gradient_penalty_on_images_takes_the_norm_over_all_pixels():
    real, fake = torch.rand(3, 1, 4, 4), torch.rand(3, 1, 4, 4)
    w = torch.full((16,), 0.25)  # ||w|| = 1 over the 16 pixels
    critic = lambda x: x.flatten(1) @ w  # noqa: E731
    assert gradient_penalty(critic, real, fake).item() == pytest.approx(0.0, abs=1e-10)


def test_gradient_penalty_rejects_bad_input():
    real, fake = _batch()
    critic = _linear_critic(torch.ones(5))
    with pytest.raises(TypeError, match="critic"):
        gradient_penalty(None, real, fake)
    with pytest.raises(TypeError, match="fake"):
        gradient_penalty(critic, real, fake.long())
    with pytest.raises(ValueError, match="same shape"):
        gradient_penalty(critic, real, fake[:3])
    with pytest.raises(ValueError, match="one score per sample"):
        gradient_penalty(lambda x: x, real, fake)


# ------------------------------------------------------------------------------------------------
# Loss options from the config: TrainConfig(loss_kwargs=...) -> get_loss(name, **options)

def test_gp_weight_scales_the_penalty_linearly():
    critic = lambda x: (x ** 2).sum(1)  # noqa: E731  a critic whose input gradient is not of norm 1
    real, fake = torch.randn(16, 2, generator=torch.Generator().manual_seed(1)), torch.zeros(16, 2)
    pen = lambda loss: loss.penalty(critic, real, fake, generator=torch.Generator().manual_seed(0))  # noqa: E731
    default, half = pen(get_loss("wgan-gp")), pen(get_loss("wgan-gp", gp_weight=5.0))
    assert default.item() > 0 and half.item() == pytest.approx(default.item() / 2, rel=1e-6)
    assert pen(get_loss("wgan-gp", gp_weight=0.0)).item() == 0.0
    assert get_loss("wgan-gp").options == {"gp_weight": 10.0}  # the registered loss is left as it was


def test_clip_value_from_the_config_bounds_every_weight_of_d():
    from ganlib.engine.config import TrainConfig
    from ganlib.nets.models import MLPDiscriminator, MLPGenerator
    from ganlib.recipes.experiments import train_pair

    cfg = TrainConfig(loss="wasserstein", loss_kwargs={"clip_value": 0.05}, optimizer="RMSprop", optimizer_kwargs={},
                      lr_d=5e-3, lr_g=5e-3, batch_size=16, max_steps=3, device="cpu", progress=False, log_every=1,
                      snapshot_every=-1, checkpoint_every=-1)
    t = train_pair(cfg, lambda: (MLPGenerator(2, 2, (8,)), MLPDiscriminator(2, (8,))), torch.randn(64, 2))
    w = torch.cat([p.detach().reshape(-1) for p in t.D.parameters()])
    assert w.abs().max().item() == pytest.approx(0.05) and t.loss.clip_value == 0.05  # clipped at 0.05, not 0.01


def test_an_option_the_loss_lacks_is_one_clear_error_naming_its_options():
    from ganlib.engine.config import TrainConfig

    with pytest.raises(ValueError, match=r"loss 'wgan-gp' has no option 'clip_value'; its options: gp_weight \(default 10.0\)"):
        TrainConfig(loss="wgan-gp", loss_kwargs={"clip_value": 0.1}).validate()
    with pytest.raises(ValueError, match="loss 'hinge' has no option 'gp_weight'; its options: none"):
        TrainConfig(loss="hinge", loss_kwargs={"gp_weight": 1.0}).validate()
    with pytest.raises(ValueError, match="clip_value must be a finite number > 0"):
        get_loss("wasserstein", clip_value=0)
    cfg = TrainConfig(loss="wgan-gp", loss_kwargs={"gp_weight": 2.5})
    assert TrainConfig.from_dict(cfg.to_dict()).loss_kwargs == {"gp_weight": 2.5}  # what a checkpoint keeps
