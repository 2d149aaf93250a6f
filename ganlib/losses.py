r"""GAN losses of Goodfellow et al. (2014), written on discriminator *logits*.

The discriminator :math:`D` outputs a logit :math:`l`, and :math:`D(x) = \sigma(l)`. Every loss is
written with :func:`torch.nn.functional.logsigmoid` / :func:`torch.nn.functional.softplus`, using

.. math::

    \log D = \log \sigma(l), \qquad \log(1 - D) = \log \sigma(-l) = -\operatorname{softplus}(l),

so values and gradients stay finite for logits of :math:`\pm 100` (and far beyond).

Expectations are estimated by batch means (Monte Carlo), as in Algorithm 1. The real and fake
batches may have different sizes. No function here synchronises with the host (no ``.item()``,
no branch on tensor values), so they are safe on the training hot path on a GPU.

Losses are looked up by name in :data:`LOSSES` (see :func:`get_loss`, :func:`register_loss`),
so that further losses (e.g. Wasserstein, hinge) plug in through the same mechanism.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict

import torch.nn.functional as F
from torch import Tensor, nn

__all__ = [
    "value_function",
    "discriminator_loss",
    "generator_loss_saturating",
    "generator_loss_non_saturating",
    "GANLoss",
    "LOSSES",
    "register_loss",
    "get_loss",
    "ValueFunction",
    "DiscriminatorLoss",
    "GeneratorLoss",
]


def _check_logits(logits: object, name: str) -> Tensor:
    """Raise a clear error unless ``logits`` is a non-empty floating-point tensor (metadata only, no sync)."""
    if not isinstance(logits, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor of discriminator logits, got {type(logits).__name__}")
    if not logits.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor of logits, got dtype {logits.dtype}")
    if logits.numel() == 0:
        raise ValueError(f"{name} is empty (shape {tuple(logits.shape)}): a batch mean needs at least one logit")
    return logits


def _check_pair(d_real_logits: object, d_fake_logits: object) -> None:
    real = _check_logits(d_real_logits, "d_real_logits")
    fake = _check_logits(d_fake_logits, "d_fake_logits")
    if real.device != fake.device:
        raise ValueError(
            f"d_real_logits is on {real.device} but d_fake_logits is on {fake.device}: put both on the same device"
        )


def value_function(d_real_logits: Tensor, d_fake_logits: Tensor) -> Tensor:
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

    Returns:
        0-dim tensor, :math:`\hat V(G, D) \le 0`.
    """
    _check_pair(d_real_logits, d_fake_logits)
    return F.logsigmoid(d_real_logits).mean() + F.logsigmoid(-d_fake_logits).mean()


def discriminator_loss(d_real_logits: Tensor, d_fake_logits: Tensor) -> Tensor:
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

    Returns:
        0-dim tensor, :math:`-\hat V(G, D) \ge 0`.
    """
    return -value_function(d_real_logits, d_fake_logits)


def generator_loss_saturating(d_fake_logits: Tensor) -> Tensor:
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

    Returns:
        0-dim tensor, :math:`\le 0`.
    """
    _check_logits(d_fake_logits, "d_fake_logits")
    return -F.softplus(d_fake_logits).mean()


def generator_loss_non_saturating(d_fake_logits: Tensor) -> Tensor:
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
        d_fake_logits: logits of :math:`D` on generated samples :math:`G(z)`.

    Returns:
        0-dim tensor, :math:`\ge 0`.
    """
    _check_logits(d_fake_logits, "d_fake_logits")
    return F.softplus(-d_fake_logits).mean()


# --------------------------------------------------------------------------------------------------
# Registry
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GANLoss:
    r"""A named pair of GAN losses: one for :math:`D` and one for :math:`G`.

    For the losses of the paper, ``discriminator`` is :func:`discriminator_loss`, i.e.
    :math:`-V(G, D)` of Eq. 1, and ``generator`` is either the minimax term
    :math:`\mathbb{E}_z[\log(1 - D(G(z)))]` (Eq. 1) or the non-saturating
    :math:`-\mathbb{E}_z[\log D(G(z))]` (Section 3). Both callables take logits and return a
    0-dim tensor to be *minimised*.

    Attributes:
        name: key in :data:`LOSSES`.
        discriminator: ``(d_real_logits, d_fake_logits) -> loss`` minimised by :math:`D`.
        generator: ``d_fake_logits -> loss`` minimised by :math:`G`.
        description: one line for tables and ``--help``.
    """

    name: str
    discriminator: Callable[[Tensor, Tensor], Tensor]
    generator: Callable[[Tensor], Tensor]
    description: str

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise TypeError(f"GANLoss.name must be a non-empty str, got {self.name!r}")
        if not callable(self.discriminator):
            raise TypeError(f"GANLoss.discriminator must be callable, got {type(self.discriminator).__name__}")
        if not callable(self.generator):
            raise TypeError(f"GANLoss.generator must be callable, got {type(self.generator).__name__}")
        if not isinstance(self.description, str):
            raise TypeError(f"GANLoss.description must be a str, got {type(self.description).__name__}")


#: Registered losses by name. Add new ones with :func:`register_loss`.
LOSSES: Dict[str, GANLoss] = {
    "saturating": GANLoss(
        name="saturating",
        discriminator=discriminator_loss,
        generator=generator_loss_saturating,
        description="Eq. 1 minimax game: D minimises -V(G,D), G minimises E_z[log(1 - D(G(z)))]",
    ),
    "non_saturating": GANLoss(
        name="non_saturating",
        discriminator=discriminator_loss,
        generator=generator_loss_non_saturating,
        description="Section 3 heuristic: D minimises -V(G,D), G minimises -E_z[log D(G(z))]",
    ),
}


def register_loss(loss: GANLoss) -> GANLoss:
    r"""Add ``loss`` to :data:`LOSSES` under ``loss.name``.

    The registered pair must follow the convention of the paper's losses: ``loss.discriminator``
    is minimised by :math:`D` (for Eq. 1 it is :math:`-V(G, D)`) and ``loss.generator`` is
    minimised by :math:`G`.

    Raises:
        TypeError: if ``loss`` is not a :class:`GANLoss`.
        ValueError: if a loss with that name is already registered.

    Returns:
        ``loss``, so this can be used inline.
    """
    if not isinstance(loss, GANLoss):
        raise TypeError(f"register_loss expects a GANLoss, got {type(loss).__name__}")
    if loss.name in LOSSES:
        raise ValueError(f"a GAN loss named {loss.name!r} is already registered; known losses: {sorted(LOSSES)}")
    LOSSES[loss.name] = loss
    return loss


def get_loss(name: str) -> GANLoss:
    r"""Return the registered :class:`GANLoss` called ``name``.

    ``"saturating"`` is the minimax game of Eq. 1; ``"non_saturating"`` replaces the generator's
    objective by :math:`\max_G \mathbb{E}_z[\log D(G(z))]` (Section 3).

    Raises:
        TypeError: if ``name`` is not a str.
        ValueError: if no loss has that name; the message lists the valid names.
    """
    if not isinstance(name, str):
        raise TypeError(f"loss name must be a str, got {type(name).__name__}")
    try:
        return LOSSES[name]
    except KeyError:
        raise ValueError(f"unknown GAN loss {name!r}; valid names: {', '.join(sorted(LOSSES))}") from None


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
    r"""Module form of a registered generator loss, minimised by :math:`G`.

    ``kind="saturating"``: :math:`\mathbb{E}_z[\log(1 - D(G(z)))]` (Eq. 1);
    ``kind="non_saturating"`` (default): :math:`-\mathbb{E}_z[\log D(G(z))]` (Section 3).
    Any name in :data:`LOSSES` is accepted.

    Raises:
        ValueError: for an unknown ``kind`` (the message lists the valid names).
    """

    def __init__(self, kind: str = "non_saturating") -> None:
        super().__init__()
        self.kind = kind
        self._loss = get_loss(kind)

    def forward(self, d_fake_logits: Tensor) -> Tensor:
        return self._loss.generator(d_fake_logits)

    def extra_repr(self) -> str:
        return f"kind={self.kind!r}"
