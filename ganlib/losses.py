r"""GAN losses of Goodfellow et al. (2014), written on discriminator *logits*.

The discriminator :math:`D` outputs a logit :math:`l`, and :math:`D(x) = \sigma(l)`. Every loss is
written with :func:`torch.nn.functional.logsigmoid` / :func:`torch.nn.functional.softplus`, using

.. math::

    \log D = \log \sigma(l), \qquad \log(1 - D) = \log \sigma(-l) = -\operatorname{softplus}(l),

so values and gradients stay finite for logits of :math:`\pm 100` (and far beyond).

Expectations are estimated by batch means (Monte Carlo), as in Algorithm 1. The real and fake
batches may have different sizes. No function here synchronises with the host (no ``.item()``,
no branch on tensor values), so they are safe on the training hot path on a GPU.

Losses are looked up by name in :data:`LOSSES` (see :func:`get_loss`, :func:`register_loss`).
Beside the paper's two, the registry holds the critics of :mod:`ganlib.critics` (WGAN, WGAN-GP,
hinge): a :class:`GANLoss` carries everything a loss needs from the training loop (a penalty on
:math:`D`, a step after each :math:`D` update), so the loop knows no loss by name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict, Iterable, Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganlib import _args, critics

__all__ = [
    "value_function",
    "discriminator_loss",
    "generator_loss_saturating",
    "generator_loss_non_saturating",
    "generator_logit_gradient",
    "GANLoss",
    "LOSSES",
    "register_loss",
    "get_loss",
    "ValueFunction",
    "DiscriminatorLoss",
    "GeneratorLoss",
]


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

    Example:
        >>> import torch
        >>> from ganlib.losses import value_function
        >>> round(value_function(torch.zeros(3), torch.zeros(5)).item(), 4)  # D = 1/2 on both: -log 4
        -1.3863
    """
    _args.logit_pair(d_real_logits, d_fake_logits)
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

    Example:
        >>> import torch
        >>> from ganlib.losses import discriminator_loss, value_function
        >>> real, fake = torch.tensor([2.0, 1.0]), torch.tensor([-1.0, 0.5])
        >>> round(discriminator_loss(real, fake).item(), 4), round(-value_function(real, fake).item(), 4)
        (0.8638, 0.8638)
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

    Example:
        >>> import torch
        >>> from ganlib.losses import generator_loss_saturating
        >>> logits = torch.tensor([-10.0, 0.0], requires_grad=True)  # D(G(z)) = 4.5e-05 and 1/2
        >>> generator_loss_saturating(logits).backward()
        >>> logits.grad  # -D(G(z)) / m: almost nothing from the confidently rejected fake
        tensor([-2.2699e-05, -2.5000e-01])
    """
    _args.logits(d_fake_logits, "d_fake_logits")
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

    Example:
        >>> import torch
        >>> from ganlib.losses import generator_loss_non_saturating
        >>> logits = torch.tensor([-10.0, 0.0], requires_grad=True)  # D(G(z)) = 4.5e-05 and 1/2
        >>> generator_loss_non_saturating(logits).backward()
        >>> logits.grad  # -(1 - D(G(z))) / m: the rejected fake pulls hardest
        tensor([-0.5000, -0.2500])
    """
    _args.logits(d_fake_logits, "d_fake_logits")
    return F.softplus(-d_fake_logits).mean()


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
        >>> from ganlib.losses import generator_logit_gradient
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
        penalty: optional extra term of :math:`D`'s loss that needs :math:`D` itself, called by the
            training loop as ``penalty(D, real, fake, generator=torch_generator)`` and added to
            ``discriminator(...)`` (already weighted, e.g. :math:`\lambda \cdot`
            :func:`ganlib.critics.gradient_penalty` for WGAN-GP), added by
            :meth:`discriminator_objective`. ``None``: no extra term.
        clip_value: optional :math:`c > 0`: after every :math:`D` update,
            :meth:`after_discriminator_update` clamps each of :math:`D`'s parameters to
            :math:`[-c, c]` (WGAN's weight clipping). ``None``: no clipping.
        value: ``(d_real_logits, d_fake_logits) -> 0-dim tensor`` recorded in the ``value`` column
            of the training history: :func:`value_function` (:math:`\hat V`, Eq. 1) by default,
            :func:`ganlib.critics.wasserstein_estimate` (the critic's estimate of :math:`W_1`) for critic losses.
        link: maps :math:`D`'s raw outputs to the ``d_real`` / ``d_fake`` history columns (their
            batch means): :func:`torch.sigmoid` (probabilities :math:`D(x)`) by default, the
            identity (raw critic scores) for critic losses, whose outputs are not probabilities.
    """

    name: str
    discriminator: Callable[[Tensor, Tensor], Tensor]
    generator: Callable[[Tensor], Tensor]
    description: str
    penalty: Optional[Callable[..., Tensor]] = None
    clip_value: Optional[float] = None
    value: Callable[[Tensor, Tensor], Tensor] = value_function
    link: Callable[[Tensor], Tensor] = torch.sigmoid

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise TypeError(f"GANLoss.name must be a non-empty str, got {self.name!r}")
        if not callable(self.discriminator):
            raise TypeError(f"GANLoss.discriminator must be callable, got {type(self.discriminator).__name__}")
        if not callable(self.generator):
            raise TypeError(f"GANLoss.generator must be callable, got {type(self.generator).__name__}")
        if not isinstance(self.description, str):
            raise TypeError(f"GANLoss.description must be a str, got {type(self.description).__name__}")
        if self.penalty is not None and not callable(self.penalty):
            raise TypeError(f"GANLoss.penalty must be callable or None, got {type(self.penalty).__name__}")
        if self.clip_value is not None and (
            isinstance(self.clip_value, bool)
            or not isinstance(self.clip_value, (int, float))
            or not (self.clip_value > 0 and self.clip_value < float("inf"))
        ):
            raise ValueError(f"GANLoss.clip_value must be None or a positive finite number, got {self.clip_value!r}")
        if not callable(self.value) or not callable(self.link):
            raise TypeError("GANLoss.value and GANLoss.link must be callable")

    def discriminator_objective(self, D: Callable[[Tensor], Tensor], real: Tensor, fake: Tensor,
                                d_real_logits: Tensor, d_fake_logits: Tensor,
                                generator: Optional[torch.Generator] = None) -> Tensor:
        r"""What :math:`D` minimises in one update of Algorithm 1: :attr:`discriminator` on the
        logits, plus :attr:`penalty` on :math:`D` itself when the loss has one.

        .. math:: \mathcal L_D = \operatorname{discriminator}(l^{real}, l^{fake})
                  \;\big[+\; \operatorname{penalty}(D, x, G(z))\big]

        For the paper's losses this is :math:`-\hat V(G, D)` (Eq. 1); for WGAN-GP it adds
        :math:`\lambda\,\mathbb E[(\lVert\nabla_{\hat x} D(\hat x)\rVert_2 - 1)^2]`. The training
        loop calls it for every loss (inside its autocast region); ``generator`` draws the
        penalty's random numbers.
        """
        loss = self.discriminator(d_real_logits, d_fake_logits)
        if self.penalty is None:
            return loss
        return loss + self.penalty(D, real, fake, generator=generator).float()

    def after_discriminator_update(self, d_params: Iterable[Tensor]) -> None:
        r"""Called by the training loop after every update of :math:`D`, for every loss: WGAN's
        weight clipping (:func:`ganlib.critics.clip_weights` to :math:`[-c, c]`) when
        :attr:`clip_value` is set, nothing otherwise."""
        if self.clip_value is not None:
            critics.clip_weights(d_params, self.clip_value)


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

    Example:
        >>> from ganlib.losses import LOSSES, GANLoss, discriminator_loss, generator_loss_non_saturating, register_loss
        >>> before = sorted(LOSSES)
        >>> toy = register_loss(GANLoss("toy", discriminator_loss, generator_loss_non_saturating, "a throw-away copy"))
        >>> LOSSES["toy"] is toy
        True
        >>> del LOSSES["toy"]  # remove it again: the registry is as it was
        >>> sorted(LOSSES) == before
        True
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

    Example:
        >>> from ganlib.losses import generator_loss_non_saturating, get_loss
        >>> get_loss("non_saturating").description
        'Section 3 heuristic: D minimises -V(G,D), G minimises -E_z[log D(G(z))]'
        >>> get_loss("non_saturating").generator is generator_loss_non_saturating
        True
    """
    if not isinstance(name, str):
        raise TypeError(f"loss name must be a str, got {type(name).__name__}")
    try:
        return LOSSES[name]
    except KeyError:
        raise ValueError(f"unknown GAN loss {name!r}; valid names: {', '.join(sorted(LOSSES))}") from None


def _identity(t: Tensor) -> Tensor:
    """Raw critic scores for the ``d_real`` / ``d_fake`` history columns."""
    return t


register_loss(GANLoss(
    name="wasserstein",
    discriminator=critics.critic_loss_wasserstein,
    generator=critics.generator_loss_wasserstein,
    description="WGAN (Arjovsky et al. 2017): critic minimises E[f(G(z))] - E[f(x)], weights clipped to +-0.01; G minimises -E[f(G(z))]",
    clip_value=critics.WGAN_CLIP,
    value=critics.wasserstein_estimate,
    link=_identity,
))
register_loss(GANLoss(
    name="wgan-gp",
    discriminator=critics.critic_loss_wasserstein,
    generator=critics.generator_loss_wasserstein,
    description="WGAN-GP (Gulrajani et al. 2017): WGAN critic loss + 10 * E[(||grad f(x_hat)|| - 1)^2], no clipping",
    penalty=critics.weighted_gradient_penalty,
    value=critics.wasserstein_estimate,
    link=_identity,
))
register_loss(GANLoss(
    name="hinge",
    discriminator=critics.critic_loss_hinge,
    generator=critics.generator_loss_hinge,
    description="hinge (Miyato et al. 2018): D minimises E[relu(1 - D(x))] + E[relu(1 + D(G(z)))]; G minimises -E[D(G(z))]",
    value=critics.wasserstein_estimate,
    link=_identity,
))


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
