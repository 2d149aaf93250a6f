r"""GAN losses of Goodfellow et al. (2014), written on discriminator *logits*.

The discriminator :math:`D` outputs a logit :math:`l`, and :math:`D(x) = \sigma(l)`. Every loss is
written with :func:`torch.nn.functional.logsigmoid` / :func:`torch.nn.functional.softplus`, using

.. math::

    \log D = \log \sigma(l), \qquad \log(1 - D) = \log \sigma(-l) = -\operatorname{softplus}(l),

so values and gradients stay finite for logits of :math:`\pm 100` (and far beyond).

Expectations are estimated by batch means (Monte Carlo), as in Algorithm 1. The real and fake
batches may have different sizes. By default a mean runs over all elements (a 0-dim result);
``dim=-1`` averages over the last axis only, so logits ``(S, B)`` of S independent games (the
ensemble of :mod:`ganlib.engine.ensemble`) give S losses in one call. No function here synchronises with the host (no ``.item()``,
no branch on tensor values), so they are safe on the training hot path on a GPU.

The training loop finds these losses by name in the registry, :mod:`ganlib.game.registry`
(``"saturating"``, ``"non_saturating"``), beside the critics of :mod:`ganlib.game.critics`.
"""

from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganlib import _checks

__all__ = [
    "at_least_float32",
    "batch_mean",
    "value_function",
    "discriminator_loss",
    "generator_loss_saturating",
    "generator_loss_non_saturating",
    "generator_logit_gradient",
    "ValueFunction",
    "DiscriminatorLoss",
    "GeneratorLoss",
]


def batch_mean(t: Tensor, dim: Optional[int] = None) -> Tensor:
    r"""The Monte-Carlo mean :math:`\frac1m \sum_i t_i` of every loss here: over all elements
    (``dim=None``, a 0-dim tensor) or over axis ``dim`` only (e.g. ``-1``: one mean per game
    when the logits carry a leading member axis).

    Example:
        >>> import torch
        >>> from ganlib.game.losses import batch_mean
        >>> t = torch.tensor([[1.0, 3.0], [0.0, 4.0]])  # two games, two samples each
        >>> batch_mean(t), batch_mean(t, -1)
        (tensor(2.), tensor([2., 2.]))
    """
    return t.mean() if dim is None else t.mean(dim)


def value_function(d_real_logits: Tensor, d_fake_logits: Tensor, *, dim: Optional[int] = None) -> Tensor:
    r"""Batch (Monte-Carlo) estimate of the value function :math:`V(G, D)` of Eq. 1.

    .. math::

        V(G, D) = \mathbb{E}_{x \sim p_{data}}[\log D(x)]
                + \mathbb{E}_{z \sim p_z}[\log(1 - D(G(z)))]
        \quad\text{(Eq. 1)}

    estimated as :math:`\frac{1}{m}\sum_i \log\sigma(l^{real}_i)
    + \frac{1}{n}\sum_j \log\sigma(-l^{fake}_j)`, where :math:`l^{real} = \mathrm{logit}\,D(x)` and
    :math:`l^{fake} = \mathrm{logit}\,D(G(z))`. Means run over all elements; the two batches may have
    different sizes.

    Args:
        d_real_logits: logits of :math:`D` on samples :math:`x \sim p_{data}`, any shape.
        d_fake_logits: logits of :math:`D` on samples :math:`G(z)`, :math:`z \sim p_z`, any shape.
        dim: ``None`` (means over all elements) or the axis to average over (see :func:`batch_mean`).

    Returns:
        0-dim tensor, :math:`\hat V(G, D) \le 0` (with ``dim``: one value per remaining index).

    Example:
        >>> import torch
        >>> from ganlib.game.losses import value_function
        >>> round(value_function(torch.zeros(3), torch.zeros(5)).item(), 4)  # D = 1/2 on both: -log 4
        -1.3863
    """
    _checks.logit_pair(d_real_logits, d_fake_logits)
    return batch_mean(F.logsigmoid(d_real_logits), dim) + batch_mean(F.logsigmoid(-d_fake_logits), dim)


def discriminator_loss(d_real_logits: Tensor, d_fake_logits: Tensor, *, dim: Optional[int] = None) -> Tensor:
    r"""Discriminator loss :math:`-V(G, D)` (Eq. 1), minimised by :math:`D`.

    In Algorithm 1 the discriminator *ascends* the stochastic gradient of

    .. math::

        \frac{1}{m}\sum_{i=1}^m \Big[\log D(x^{(i)}) + \log\big(1 - D(G(z^{(i)}))\big)\Big]
        \quad\text{(Algorithm 1)},

    i.e. it descends :math:`-\hat V(G, D)`. This equals
    :math:`\mathrm{BCE}(l^{real}, 1) + \mathrm{BCE}(l^{fake}, 0)` with mean binary cross-entropy on
    logits. The paper's reference code scales this loss by :math:`\tfrac12`; that only rescales the
    gradient (equivalently the learning rate) and does not move the optimum
    :math:`D^*_G` (Proposition 1).

    Args:
        d_real_logits: logits of :math:`D` on real samples :math:`x \sim p_{data}`.
        d_fake_logits: logits of :math:`D` on generated samples :math:`G(z)`.
        dim: as in :func:`value_function`.

    Returns:
        0-dim tensor, :math:`-\hat V(G, D) \ge 0`.

    Example:
        >>> import torch
        >>> from ganlib.game.losses import discriminator_loss, value_function
        >>> real, fake = torch.tensor([2.0, 1.0]), torch.tensor([-1.0, 0.5])
        >>> round(discriminator_loss(real, fake).item(), 4), round(-value_function(real, fake).item(), 4)
        (0.8638, 0.8638)
    """
    return -value_function(d_real_logits, d_fake_logits, dim=dim)


def generator_loss_saturating(d_fake_logits: Tensor, *, dim: Optional[int] = None) -> Tensor:
    r"""Minimax ("saturating") generator loss: the :math:`G`-dependent term of Eq. 1.

    .. math::

        \mathcal{L}_G^{\text{sat}} = \mathbb{E}_{z \sim p_z}\big[\log(1 - D(G(z)))\big]
        \approx \frac{1}{m}\sum_i \log\sigma(-l_i) = -\frac{1}{m}\sum_i \operatorname{softplus}(l_i)
        \quad\text{(Eq. 1, Algorithm 1)},

    which :math:`G` *minimises*. Its gradient with respect to a logit is
    :math:`-\sigma(l_i)/m = -D(G(z_i))/m`, which vanishes as :math:`D(G(z)) \to 0`: early in
    training, when :math:`D` rejects the fakes confidently, this loss saturates (Section 3).

    Args:
        d_fake_logits: logits of :math:`D` on generated samples :math:`G(z)`.
        dim: as in :func:`value_function`.

    Returns:
        0-dim tensor, :math:`\le 0`.

    Example:
        >>> import torch
        >>> from ganlib.game.losses import generator_loss_saturating
        >>> logits = torch.tensor([-10.0, 0.0], requires_grad=True)  # D(G(z)) = 4.5e-05 and 1/2
        >>> generator_loss_saturating(logits).backward()
        >>> logits.grad  # -D(G(z)) / m: almost nothing from the confidently rejected fake
        tensor([-2.2699e-05, -2.5000e-01])
    """
    _checks.logits(d_fake_logits, "d_fake_logits")
    return -batch_mean(F.softplus(d_fake_logits), dim)


def generator_loss_non_saturating(d_fake_logits: Tensor, *, dim: Optional[int] = None) -> Tensor:
    r"""Non-saturating generator loss, the heuristic of Section 3.

    Rather than minimising :math:`\log(1 - D(G(z)))`, :math:`G` maximises :math:`\log D(G(z))`,
    i.e. minimises

    .. math::

        \mathcal{L}_G^{\text{ns}} = -\mathbb{E}_{z \sim p_z}\big[\log D(G(z))\big]
        \approx -\frac{1}{m}\sum_i \log\sigma(l_i) = \frac{1}{m}\sum_i \operatorname{softplus}(-l_i)
        \quad\text{(Section 3)}.

    It has the same fixed point as Eq. 1 but a gradient :math:`-(1-\sigma(l_i))/m`, which stays
    near :math:`-1/m` when :math:`D(G(z)) \to 0`.

    Args:
        d_fake_logits, dim: as in :func:`generator_loss_saturating`.

    Returns:
        0-dim tensor, :math:`\ge 0`.

    Example:
        >>> import torch
        >>> logits = torch.tensor([-10.0, 0.0], requires_grad=True)  # D(G(z)) = 4.5e-05 and 1/2
        >>> from ganlib.game.losses import generator_loss_non_saturating
        >>> torch.autograd.grad(generator_loss_non_saturating(logits), logits)[0]  # -(1 - D(G(z))) / m
        tensor([-0.5000, -0.2500])
    """
    _checks.logits(d_fake_logits, "d_fake_logits")
    return batch_mean(F.softplus(-d_fake_logits), dim)


def generator_logit_gradient(d_fake: Tensor, kind: str) -> Tensor:
    r"""Closed-form derivative of a per-sample generator loss with respect to the discriminator's
    logit, as a function of :math:`D(G(z))` (Section 3).

    With :math:`l` the logit of :math:`D` at a generated point and :math:`D(G(z)) = \sigma(l)`,
    :math:`\sigma'(l) = \sigma(l)(1 - \sigma(l))`, so

    .. math::

        \text{saturating (Eq. 1):}\quad
        \frac{\partial}{\partial l} \log\big(1 - \sigma(l)\big) = -\sigma(l) = -D(G(z)),

        \text{non-saturating (Section 3):}\quad
        \frac{\partial}{\partial l} \big(-\log \sigma(l)\big) = -\big(1 - \sigma(l)\big)
        = -\big(1 - D(G(z))\big).

    By the chain rule the generator's gradient is this factor times
    :math:`\partial l / \partial \theta_g`, so when :math:`D` rejects the fakes confidently
    (:math:`D(G(z)) \to 0`, early in training) the saturating loss passes almost no gradient to
    :math:`G` while the non-saturating one passes nearly the full :math:`-1`. These are the
    per-sample gradients of :func:`generator_loss_saturating` and
    :func:`generator_loss_non_saturating` (whose batch means add a factor :math:`1/m`).

    Args:
        d_fake: values of :math:`D(G(z))` in :math:`[0, 1]`, a floating-point tensor of any shape.
        kind: ``"saturating"`` or ``"non_saturating"``.

    Returns:
        Tensor of the same shape: :math:`\partial \mathcal{L}_G / \partial l` per sample (:math:`\le 0`).

    Raises:
        TypeError: ``d_fake`` not a floating-point tensor, ``kind`` not a str.
        ValueError: ``d_fake`` outside :math:`[0, 1]` or NaN, unknown ``kind`` (the message lists
            the valid names).

    Example:
        >>> import torch
        >>> from ganlib.game.losses import generator_logit_gradient
        >>> d_fake = torch.tensor([0.001, 0.5, 0.999])  # D(G(z)): rejected, undecided, accepted
        >>> generator_logit_gradient(d_fake, "saturating")  # vanishes as D(G(z)) -> 0
        tensor([-0.0010, -0.5000, -0.9990])
        >>> generator_logit_gradient(d_fake, "non_saturating")  # near -1 there
        tensor([-0.9990, -0.5000, -0.0010])
    """
    if not isinstance(d_fake, Tensor):
        raise TypeError(f"d_fake must be a torch.Tensor of D(G(z)) values, got {type(d_fake).__name__}")
    if not d_fake.is_floating_point():
        raise TypeError(f"d_fake must be a floating-point tensor, got dtype {d_fake.dtype}")
    if not isinstance(kind, str):
        raise TypeError(f"kind must be a str, got {type(kind).__name__}")
    if bool(((d_fake < 0) | (d_fake > 1) | d_fake.isnan()).any()):
        raise ValueError("d_fake holds probabilities D(G(z)) and must lie in [0, 1] (no NaN)")
    if kind == "saturating":
        return -d_fake
    if kind == "non_saturating":
        return d_fake - 1.0
    raise ValueError(f"no closed-form logit gradient for generator loss {kind!r}; valid kinds: non_saturating, saturating")


# --------------------------------------------------------------------------------------------------
# nn.Module wrappers
# --------------------------------------------------------------------------------------------------


class ValueFunction(nn.Module):
    r"""Module form of :func:`value_function`: the batch estimate of :math:`V(G, D)` (Eq. 1).

    .. math::

        V(G, D) = \mathbb{E}_{x \sim p_{data}}[\log D(x)] + \mathbb{E}_{z \sim p_z}[\log(1 - D(G(z)))]
    """

    def forward(self, d_real_logits: Tensor, d_fake_logits: Tensor) -> Tensor:
        return value_function(d_real_logits, d_fake_logits)


class DiscriminatorLoss(nn.Module):
    r"""Module form of :func:`discriminator_loss`: :math:`-V(G, D)` of Eq. 1, minimised by :math:`D`
    (Algorithm 1 ascends :math:`V`)."""

    def forward(self, d_real_logits: Tensor, d_fake_logits: Tensor) -> Tensor:
        return discriminator_loss(d_real_logits, d_fake_logits)


class GeneratorLoss(nn.Module):
    r"""Module form of the paper's two generator losses, minimised by :math:`G`.

    ``kind="saturating"``: :math:`\mathbb{E}_z[\log(1 - D(G(z)))]` (Eq. 1,
    :func:`generator_loss_saturating`); ``kind="non_saturating"`` (default):
    :math:`-\mathbb{E}_z[\log D(G(z))]` (Section 3, :func:`generator_loss_non_saturating`).

    Raises:
        ValueError: for an unknown ``kind`` (the message lists the valid names).
    """

    def __init__(self, kind: str = "non_saturating") -> None:
        super().__init__()
        kinds = {"saturating": generator_loss_saturating, "non_saturating": generator_loss_non_saturating}
        if kind not in kinds:
            raise ValueError(f"unknown generator loss {kind!r}; valid kinds: {', '.join(kinds)}")
        self.kind, self._loss = kind, kinds[kind]

    def forward(self, d_fake_logits: Tensor) -> Tensor:
        return self._loss(d_fake_logits)

    def extra_repr(self) -> str:
        return f"kind={self.kind!r}"


def at_least_float32(t: Tensor) -> Tensor:
    """``t`` in float32 when autocast left it in float16 or bfloat16, else ``t`` unchanged: losses are
    taken in float32 under mixed precision, and a float64 game (the equivalence tests) stays in float64.

    Example:
        >>> import torch
        >>> from ganlib.game.losses import at_least_float32
        >>> at_least_float32(torch.ones(2, dtype=torch.float16)).dtype, at_least_float32(torch.ones(2, dtype=torch.float64)).dtype
        (torch.float32, torch.float64)
    """
    return t.float() if t.dtype in (torch.float16, torch.bfloat16) else t
