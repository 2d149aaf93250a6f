r"""Beyond the paper: critics, whose outputs are scores rather than probabilities.

The losses of Goodfellow et al. (2014) read :math:`D`'s output as a probability through a
sigmoid (:mod:`ganlib.game.losses`). The losses here read it as a raw score :math:`f(x)`:

* WGAN (Arjovsky et al., 2017): the critic estimates the earth mover's distance :math:`W_1` by
  the Kantorovich-Rubinstein duality (:func:`critic_loss_wasserstein`,
  :func:`generator_loss_wasserstein`, :func:`wasserstein_estimate`), kept Lipschitz by clipping
  its weights (:func:`clip_weights`, :data:`WGAN_CLIP`);
* WGAN-GP (Gulrajani et al., 2017): the same losses with a gradient penalty
  (:func:`gradient_penalty`, :data:`GP_WEIGHT`) instead of clipping;
* hinge (Miyato et al., 2018; Lim & Ye, 2017): :func:`critic_loss_hinge`,
  :func:`generator_loss_hinge`.

They are registered by name in :data:`ganlib.game.registry.LOSSES` (``"wasserstein"``, ``"wgan-gp"``,
``"hinge"``), so the training loop uses them like the paper's losses. All take the critic's raw
outputs, named ``*_logits`` as in :mod:`ganlib.game.losses`.
"""

from __future__ import annotations

import math
from typing import Callable, Iterable, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

from ganlib import _checks
from ganlib.game.losses import batch_mean

__all__ = [
    "critic_loss_wasserstein",
    "generator_loss_wasserstein",
    "critic_loss_hinge",
    "generator_loss_hinge",
    "wasserstein_estimate",
    "gradient_penalty",
    "weighted_gradient_penalty",
    "clip_weights",
    "GP_WEIGHT",
    "WGAN_CLIP",
]

#: :math:`\lambda` of WGAN-GP (Gulrajani et al., 2017, Algorithm 1).
GP_WEIGHT = 10.0
#: Weight-clipping bound :math:`c` of WGAN (Arjovsky et al., 2017, Algorithm 1).
WGAN_CLIP = 0.01


def critic_loss_wasserstein(d_real_logits: Tensor, d_fake_logits: Tensor, *, dim: Optional[int] = None) -> Tensor:
    r"""WGAN critic loss (Arjovsky et al., 2017), on raw critic outputs :math:`f(x)` (the "logits").

    The Kantorovich-Rubinstein duality writes the earth mover's distance as

    .. math::

        W(P_r, P_\theta) = \sup_{\|f\|_L \le 1}
            \mathbb{E}_{x \sim P_r}[f(x)] - \mathbb{E}_{x \sim P_\theta}[f(x)]
        \quad\text{(WGAN, Eq. 3)},

    so the critic :math:`f` (a network kept roughly Lipschitz by weight clipping or a gradient
    penalty) *maximises* the batch estimate of the right-hand side, i.e. minimises

    .. math::

        \mathcal{L}_f = \frac1n \sum_j f\big(G(z^{(j)})\big) - \frac1m \sum_i f\big(x^{(i)}\big).

    Unlike :func:`ganlib.game.losses.discriminator_loss` no sigmoid is applied: :math:`f` is a score, not a
    probability.

    Args:
        d_real_logits: critic outputs on real samples.
        d_fake_logits: critic outputs on generated samples.
        dim: ``None`` (means over all elements) or the axis to average over
            (:func:`ganlib.game.losses.batch_mean`); the same keyword on every loss here.

    Returns:
        0-dim tensor, :math:`-\widehat{W}` (minus the critic's estimate of :math:`W_1`).

    Example:
        >>> import torch
        >>> from ganlib.game.critics import critic_loss_wasserstein
        >>> real, fake = torch.tensor([1.0, 3.0]), torch.tensor([-1.0, 0.0, 1.0])  # mean scores 2 and 0
        >>> critic_loss_wasserstein(real, fake)  # E[f(G(z))] - E[f(x)], no sigmoid
        tensor(-2.)
    """
    _checks.logit_pair(d_real_logits, d_fake_logits)
    return batch_mean(d_fake_logits, dim) - batch_mean(d_real_logits, dim)


def generator_loss_wasserstein(d_fake_logits: Tensor, *, dim: Optional[int] = None) -> Tensor:
    r"""WGAN (and hinge) generator loss: :math:`G` minimises :math:`-\mathbb{E}_z[f(G(z))]`.

    .. math::

        \mathcal{L}_G = -\frac1n \sum_j f\big(G(z^{(j)})\big)
        \quad\text{(WGAN, Algorithm 1, line 10; Miyato et al., 2018, Eq. 17)}

    the only :math:`G`-dependent term of WGAN Eq. 3. Its gradient with respect to each critic
    output is the constant :math:`-1/n`: it never saturates, however confidently the critic scores.

    Args:
        d_fake_logits: critic outputs on generated samples.

    Example:
        >>> import torch
        >>> from ganlib.game.critics import generator_loss_wasserstein
        >>> scores = torch.tensor([-100.0, 0.0, 5.0, 100.0], requires_grad=True)
        >>> generator_loss_wasserstein(scores).backward()
        >>> scores.grad  # -1/n for every sample, however confidently the critic scores it
        tensor([-0.2500, -0.2500, -0.2500, -0.2500])
    """
    _checks.logits(d_fake_logits, "d_fake_logits")
    return -batch_mean(d_fake_logits, dim)


def critic_loss_hinge(d_real_logits: Tensor, d_fake_logits: Tensor, *, dim: Optional[int] = None) -> Tensor:
    r"""Hinge discriminator loss (Miyato et al., 2018, Eq. 16; Lim & Ye, 2017).

    .. math::

        \mathcal{L}_D = \mathbb{E}_{x \sim p_{data}}\big[\max(0, 1 - D(x))\big]
                      + \mathbb{E}_{z \sim p_z}\big[\max(0, 1 + D(G(z)))\big]

    on raw outputs :math:`D(x)` (the "logits"): a real sample scored above :math:`+1` and a fake
    scored below :math:`-1` contribute nothing. Pair it with :func:`generator_loss_hinge`.

    Returns:
        0-dim tensor, :math:`\ge 0`.

    Example:
        >>> import torch
        >>> from ganlib.game.critics import critic_loss_hinge
        >>> critic_loss_hinge(torch.tensor([1.5, 3.0]), torch.tensor([-2.0, -1.0]))  # beyond the margins
        tensor(0.)
        >>> critic_loss_hinge(torch.tensor([0.0]), torch.tensor([0.0]))  # undecided: (1 - 0) + (1 + 0)
        tensor(2.)
    """
    _checks.logit_pair(d_real_logits, d_fake_logits)
    return batch_mean(F.relu(1.0 - d_real_logits), dim) + batch_mean(F.relu(1.0 + d_fake_logits), dim)


def generator_loss_hinge(d_fake_logits: Tensor, *, dim: Optional[int] = None) -> Tensor:
    r"""Hinge generator loss (Miyato et al., 2018, Eq. 17): :math:`-\mathbb{E}_z[D(G(z))]`.

    .. math::

        \mathcal{L}_G = -\frac1n \sum_j D\big(G(z^{(j)})\big),

    the same expression as :func:`generator_loss_wasserstein`.

    Example:
        >>> import torch
        >>> from ganlib.game.critics import generator_loss_hinge
        >>> generator_loss_hinge(torch.tensor([1.0, 3.0]))  # -E[D(G(z))]: no margin on G's side
        tensor(-2.)
    """
    return generator_loss_wasserstein(d_fake_logits, dim=dim)


def wasserstein_estimate(d_real_logits: Tensor, d_fake_logits: Tensor, *, dim: Optional[int] = None) -> Tensor:
    r"""The critic's batch estimate of :math:`W_1`: :math:`\frac1m\sum_i f(x^{(i)}) - \frac1n\sum_j f(G(z^{(j)}))`.

    .. math::

        \widehat W = \frac1m \sum_i f\big(x^{(i)}\big) - \frac1n \sum_j f\big(G(z^{(j)})\big)
        \;\le\; W(P_r, P_\theta) \cdot \|f\|_L \quad\text{(WGAN, Eq. 3)}

    It is a lower bound of :math:`K \cdot W_1` for a :math:`K`-Lipschitz critic (up to sampling
    noise); its decrease during training is WGAN's "meaningful loss curve". The training loop
    records it in the ``value`` column for the critic losses (``wasserstein``, ``wgan-gp``,
    ``hinge``) instead of :math:`\hat V` of Eq. 1, which assumes probabilities.

    Example:
        >>> import torch
        >>> from ganlib.game.critics import wasserstein_estimate
        >>> g = torch.Generator().manual_seed(0)
        >>> real, fake = torch.randn(10_000, generator=g) + 2.0, torch.randn(10_000, generator=g)  # shift 2
        >>> critic = lambda x: x  # 1-Lipschitz, and optimal for a shift: W_1 = 2
        >>> round(wasserstein_estimate(critic(real), critic(fake)).item(), 2)
        2.0
    """
    return -critic_loss_wasserstein(d_real_logits, d_fake_logits, dim=dim)


def gradient_penalty(
    critic: Callable[[Tensor], Tensor],
    real: Tensor,
    fake: Tensor,
    generator: Optional[torch.Generator] = None,
    *,
    rand: Optional[Callable[[Tuple[int, ...]], Tensor]] = None,
    batch_dims: int = 1,
    grad_scale: Optional[Tensor] = None,
) -> Tensor:
    r"""WGAN-GP's two-sided gradient penalty (Gulrajani et al., 2017), **before** the weight :math:`\lambda`.

    .. math::

        L = \underbrace{\mathbb{E}_{\tilde x \sim P_g}[D(\tilde x)] - \mathbb{E}_{x \sim P_r}[D(x)]}_{\text{critic loss}}
          + \lambda\, \underbrace{\mathbb{E}_{\hat x \sim P_{\hat x}}
            \big[(\|\nabla_{\hat x} D(\hat x)\|_2 - 1)^2\big]}_{\text{this function}}
        \quad\text{(WGAN-GP, Eq. 3)},

    with :math:`\hat x = \epsilon x + (1 - \epsilon)\tilde x`, one :math:`\epsilon \sim U[0, 1]` per
    sample pair (WGAN-GP, Algorithm 1). The optimal critic has gradient norm 1 almost everywhere on
    the lines between coupled points (WGAN-GP, Proposition 1), which motivates the penalty. The
    input gradient is taken with ``create_graph=True``, so the penalty is differentiable with
    respect to the critic's parameters (double back-propagation) and trains :math:`D`. The norm is
    taken over all non-batch dimensions of a sample. For a linear critic :math:`D(x) = w^\top x + b`
    the gradient is :math:`w` everywhere, so the penalty is exactly :math:`(\|w\|_2 - 1)^2`.

    Args:
        critic: module or function mapping a batch ``(N, ...)`` to scores ``(N,)`` (or ``(N, 1)``).
        real: real samples ``(N, ...)``.
        fake: generated samples, same shape (detached or not: only :math:`\hat x` is differentiated).
        generator: optional :class:`torch.Generator` for :math:`\epsilon` (reproducibility).
        rand: instead of ``generator``, a function ``shape -> tensor`` of :math:`U[0, 1]` draws for
            :math:`\epsilon` (the ensemble's: one row per member, from the member's generator).
        batch_dims: leading dimensions that index samples: 1, or 2 for S independent critics
            with samples ``(S, N, ...)`` (:mod:`ganlib.engine.ensemble`), which gives one penalty per member.
        grad_scale: float16's gradient scale :math:`s` (:meth:`ganlib.engine.precision.Precision.grad_scale`):
            the input gradient is taken of :math:`\frac sN \sum_i D(\hat x_i)` and multiplied by
            :math:`N/s`, so it does not underflow in float16. The result is the same up to rounding.

    Returns:
        0-dim tensor :math:`\frac1N \sum_i (\|\nabla D(\hat x_i)\|_2 - 1)^2 \ge 0` (shape
        ``(S,)`` with ``batch_dims=2``: each member's mean over its own samples).

    Raises:
        TypeError: ``critic`` not callable, ``real``/``fake`` not floating-point tensors.
        ValueError: shape or device mismatch, empty batch, critic output not one score per sample.

    Example:
        >>> import torch
        >>> from ganlib.game.critics import gradient_penalty
        >>> critic = lambda x: x @ torch.tensor([1.2, 1.6])  # linear, gradient w with ||w||_2 = 2
        >>> real, fake, g = torch.ones(8, 2), torch.zeros(8, 2), torch.Generator().manual_seed(0)
        >>> round(gradient_penalty(critic, real, fake, generator=g).item(), 4)  # (2 - 1)^2 at every x_hat
        1.0
    """
    if not callable(critic):
        raise TypeError(f"critic must be callable (a module or function), got {type(critic).__name__}")
    for name, t in (("real", real), ("fake", fake)):
        if not isinstance(t, Tensor) or not t.is_floating_point():
            raise TypeError(f"{name} must be a floating-point torch.Tensor of samples, got {type(t).__name__}")
    if real.shape != fake.shape:
        raise ValueError(f"real and fake must have the same shape to be interpolated, got {tuple(real.shape)} and {tuple(fake.shape)}")
    if real.device != fake.device:
        raise ValueError(f"real is on {real.device} but fake is on {fake.device}: put both on the same device")
    if real.dim() < batch_dims or 0 in real.shape[:batch_dims]:
        raise ValueError(f"need a non-empty batch (N, ...), got shape {tuple(real.shape)}")
    shape = tuple(real.shape[:batch_dims]) + (1,) * (real.dim() - batch_dims)
    n = math.prod(real.shape[:batch_dims])
    eps = rand(shape) if rand is not None else torch.rand(shape, generator=generator, device=real.device, dtype=real.dtype)
    x_hat = (eps * real.detach() + (1.0 - eps) * fake.detach()).requires_grad_(True)
    with torch.enable_grad():
        out = critic(x_hat)
        if out.numel() != n:
            raise ValueError(f"critic must return one score per sample ({n}), got shape {tuple(out.shape)}")
        if grad_scale is None:
            (grad,) = torch.autograd.grad(out.sum(), x_hat, create_graph=True)
        else:
            # the mean (not the sum) in float32 seeds each sample's backward with s/N, as a loss would
            (grad,) = torch.autograd.grad(out.float().mean() * grad_scale, x_hat, create_graph=True)
            grad = grad.float() * (n / grad_scale)
    norm = grad.flatten(batch_dims).norm(2, dim=-1)
    return ((norm - 1.0) ** 2).mean(-1)


def weighted_gradient_penalty(critic, real: Tensor, fake: Tensor, generator: Optional[torch.Generator] = None,
                              weight: float = GP_WEIGHT, **kwargs) -> Tensor:
    r""":math:`\lambda \cdot` :func:`gradient_penalty` with :math:`\lambda` = ``weight`` (default :data:`GP_WEIGHT`,
    10); further keyword arguments (``rand``, ``batch_dims``) go to :func:`gradient_penalty`.

    Example:
        >>> import torch
        >>> from ganlib.game.critics import weighted_gradient_penalty
        >>> critic = lambda x: x @ torch.tensor([1.2, 1.6])  # ||w||_2 = 2: unweighted penalty 1
        >>> round(weighted_gradient_penalty(critic, torch.ones(8, 2), torch.zeros(8, 2)).item(), 4)
        10.0
    """
    return weight * gradient_penalty(critic, real, fake, generator=generator, **kwargs)


@torch.no_grad()
def clip_weights(params: Iterable[Tensor], clip_value: float = WGAN_CLIP) -> None:
    r"""WGAN's weight clipping (Arjovsky et al., 2017, Algorithm 1, line 7), in place:

    .. math:: w \leftarrow \operatorname{clip}(w, -c, c)

    for every parameter :math:`w` of the critic, after each critic update. A network with bounded
    weights is :math:`K`-Lipschitz for some :math:`K` that depends on :math:`c`, which is what the
    duality of :func:`critic_loss_wasserstein` needs (up to the factor :math:`K`).

    Example:
        >>> import torch
        >>> from ganlib.game.critics import clip_weights
        >>> w = torch.tensor([-0.5, 0.003, 0.2])
        >>> clip_weights([w], 0.01)
        >>> w
        tensor([-0.0100,  0.0030,  0.0100])
    """
    for p in params:
        p.clamp_(-clip_value, clip_value)
