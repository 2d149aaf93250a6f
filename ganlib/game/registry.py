r"""The loss registry: every loss pair the training loop can train with, by name.

A :class:`GANLoss` is a named pair, one loss for :math:`D` and one for :math:`G`, plus what the
pair needs from the loop: a penalty on :math:`D` itself (WGAN-GP's gradient penalty) and a step
after every :math:`D` update (WGAN's weight clipping), reached through
:meth:`GANLoss.discriminator_objective` and :meth:`GANLoss.after_discriminator_update`, which
:class:`ganlib.engine.loop.Trainer` calls for every loss. So the loop knows no loss by name, and a new
loss plugs in with :func:`register_loss`.

:data:`LOSSES` holds the paper's two games (:mod:`ganlib.game.losses`: ``"saturating"``, Eq. 1, and
``"non_saturating"``, Section 3) and the critics of :mod:`ganlib.game.critics` (``"wasserstein"``,
``"wgan-gp"``, ``"hinge"``); :class:`ganlib.engine.config.TrainConfig` names one (``loss=...``).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field, replace
from typing import Callable, Dict, Iterable, Mapping, Optional

import torch
from torch import Tensor

from ganlib._registry import Registry
from ganlib.game import critics
from ganlib.game.losses import at_least_float32
from ganlib.game.losses import (discriminator_loss, generator_loss_non_saturating, generator_loss_saturating,
                           value_function)

__all__ = ["GANLoss", "LOSSES", "OPTIONS", "register_loss", "get_loss"]


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
            training loop as ``penalty(D, real, fake, generator=torch_generator)`` (by the ensemble as
            ``penalty(D, real, fake, rand=..., batch_dims=2)``) and added to
            ``discriminator(...)`` (already weighted, e.g. :math:`\lambda \cdot`
            :func:`ganlib.game.critics.gradient_penalty` for WGAN-GP), added by
            :meth:`discriminator_objective`. ``None``: no extra term.
        clip_value: optional :math:`c > 0`: after every :math:`D` update,
            :meth:`after_discriminator_update` clamps each of :math:`D`'s parameters to
            :math:`[-c, c]` (WGAN's weight clipping). ``None``: no clipping.
        value: ``(d_real_logits, d_fake_logits) -> 0-dim tensor`` recorded in the ``value`` column
            of the training history: :func:`value_function` (:math:`\hat V`, Eq. 1) by default,
            :func:`ganlib.game.critics.wasserstein_estimate` (the critic's estimate of :math:`W_1`) for critic losses.
        link: maps :math:`D`'s raw outputs to the ``d_real`` / ``d_fake`` history columns (their
            batch means): :func:`torch.sigmoid` (probabilities :math:`D(x)`) by default, the
            identity (raw critic scores) for critic losses, whose outputs are not probabilities.
        options: the loss's tunable constants and their values, e.g. ``{"gp_weight": 10.0}`` for WGAN-GP
            (the penalty's :math:`\lambda`) or ``{"clip_value": 0.01}`` for WGAN: what
            :attr:`ganlib.engine.config.TrainConfig.loss_kwargs` may set (:meth:`with_options`).
        batched: ``True`` when ``discriminator``, ``generator`` and ``value`` take the keyword
            ``dim`` and with ``dim=-1`` average over the last axis only (as every loss of
            :mod:`ganlib.game.losses` and :mod:`ganlib.game.critics` does; see
            :func:`ganlib.game.losses.batch_mean`). The ensemble then evaluates S games' logits
            ``(S, B)`` in one call; otherwise (the default for a registered loss) it maps the loss
            over the members with :func:`torch.vmap`, which costs more per call but assumes nothing.
    """

    name: str
    discriminator: Callable[[Tensor, Tensor], Tensor]
    generator: Callable[[Tensor], Tensor]
    description: str
    penalty: Optional[Callable[..., Tensor]] = None
    clip_value: Optional[float] = None
    value: Callable[[Tensor, Tensor], Tensor] = value_function
    link: Callable[[Tensor], Tensor] = torch.sigmoid
    batched: bool = False
    options: Mapping[str, float] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise TypeError(f"GANLoss.name must be a non-empty str, got {self.name!r}")
        for name in ("discriminator", "generator", "value", "link") + (("penalty",) if self.penalty is not None else ()):
            if not callable(getattr(self, name)):
                raise TypeError(f"GANLoss.{name} must be callable, got {type(getattr(self, name)).__name__}")
        if not isinstance(self.batched, bool):
            raise TypeError(f"GANLoss.batched must be a bool, got {type(self.batched).__name__}")
        if not isinstance(self.description, str):
            raise TypeError(f"GANLoss.description must be a str, got {type(self.description).__name__}")
        c = self.clip_value
        if c is not None and (isinstance(c, bool) or not isinstance(c, (int, float)) or not 0 < c < float("inf")):
            raise ValueError(f"GANLoss.clip_value must be None or a positive finite number, got {c!r}")
        unknown = sorted(set(self.options) - set(OPTIONS))
        if unknown:
            raise ValueError(f"GANLoss.options: unknown option(s) {unknown}; known: {sorted(OPTIONS)}")

    def with_options(self, **options: float) -> "GANLoss":
        r"""A copy of this loss with some of its :attr:`options` set: ``gp_weight`` (:math:`\lambda \ge 0`,
        the weight of WGAN-GP's penalty) or ``clip_value`` (:math:`c > 0`, WGAN's clipping bound). An
        option the loss does not have is one :class:`ValueError` that lists the ones it has.

        Example:
            >>> from ganlib.game.registry import get_loss
            >>> get_loss("wgan-gp").with_options(gp_weight=5.0).options
            {'gp_weight': 5.0}
            >>> get_loss("wasserstein").with_options(clip_value=0.05).clip_value
            0.05
        """
        unknown = sorted(set(options) - set(self.options))
        if unknown:
            has = ", ".join(f"{k} (default {v})" for k, v in self.options.items()) or "none"
            raise ValueError(f"loss {self.name!r} has no option {', '.join(map(repr, unknown))}; its options: {has}")
        changes: Dict[str, object] = {}
        for key, value in options.items():
            positive = key == "clip_value"  # a clipping bound of 0 would zero D; a penalty weight of 0 drops the penalty
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                    or value < 0 or (positive and value == 0):
                raise ValueError(f"loss option {key} must be a finite number {'> 0' if positive else '>= 0'}, got {value!r}")
            changes.update(OPTIONS[key](float(value)))
        return replace(self, options={**self.options, **{k: float(v) for k, v in options.items()}}, **changes)

    def discriminator_objective(self, D: Callable[[Tensor], Tensor], real: Tensor, fake: Tensor,
                                d_real_logits: Tensor, d_fake_logits: Tensor,
                                generator: Optional[torch.Generator] = None, grad_scale: Optional[Tensor] = None,
                                rand: Optional[Callable[..., Tensor]] = None) -> Tensor:
        r"""What :math:`D` minimises in one update of Algorithm 1: :attr:`discriminator` on the
        logits, plus :attr:`penalty` on :math:`D` itself when the loss has one.

        .. math:: \mathcal L_D = \operatorname{discriminator}(l^{real}, l^{fake})
                  \;\big[+\; \operatorname{penalty}(D, x, G(z))\big]

        For the paper's losses this is :math:`-\hat V(G, D)` (Eq. 1); for WGAN-GP it adds
        :math:`\lambda\,\mathbb E[(\lVert\nabla_{\hat x} D(\hat x)\rVert_2 - 1)^2]`. The training
        loop calls it for every loss (inside its autocast region); ``generator`` draws the
        penalty's random numbers, or ``rand`` (a function ``shape -> uniform draws``: under
        :mod:`ganlib.engine.distributed`, this rank's rows of the global batch's draws) when it is set;
        ``grad_scale`` (float16's gradient scale, see :mod:`ganlib.engine.precision`) goes to the penalty
        when it is set.
        """
        loss = self.discriminator(d_real_logits, d_fake_logits)
        if self.penalty is None:
            return loss
        extra = {k: v for k, v in (("grad_scale", grad_scale), ("rand", rand)) if v is not None}
        return loss + at_least_float32(self.penalty(D, real, fake, generator=generator, **extra))

    def member_objectives(self, D: Callable[[Tensor], Tensor], real: Tensor, fake: Tensor, d_real_logits: Tensor,
                          d_fake_logits: Tensor, rand: Callable[..., Tensor]) -> Tensor:
        r""":meth:`discriminator_objective` for S independent games at once (:mod:`ganlib.engine.ensemble`):
        every argument has a leading member axis. Returns ``(S, 4)``: per member the objective
        (differentiable), then, detached, :attr:`value` and the means of :attr:`link` on the real
        and on the generated logits (the ``d_loss``, ``value``, ``d_real``, ``d_fake`` history columns).

        Each member's loss is a mean over its own batch: with :attr:`batched` the loss functions
        are called once with ``dim=-1``, otherwise they are mapped over the members with one
        :func:`torch.vmap`. A penalty is called with ``rand`` (a function ``shape -> tensor`` of
        uniform draws, one row per member) and ``batch_dims=2``.
        """
        if self.batched:
            loss = self.discriminator(d_real_logits, d_fake_logits, dim=-1)
            r, f = d_real_logits.detach(), d_fake_logits.detach()
            out = torch.stack([loss, self.value(r, f, dim=-1), self.link(r).mean(-1), self.link(f).mean(-1)], dim=1)
        else:
            def per_member(r: Tensor, f: Tensor) -> Tensor:
                loss = self.discriminator(r, f)
                r, f = r.detach(), f.detach()
                return torch.stack([loss, self.value(r, f), self.link(r).mean(), self.link(f).mean()])

            out = torch.vmap(per_member)(d_real_logits, d_fake_logits)
        if self.penalty is None:
            return out
        penalty = at_least_float32(self.penalty(D, real, fake, rand=rand, batch_dims=2))
        return torch.cat([(out[:, 0] + penalty).unsqueeze(1), out[:, 1:]], dim=1)

    def member_generator(self, d_fake_logits: Tensor) -> Tensor:
        """:attr:`generator` for S independent games at once: logits ``(S, B)`` to S losses, each
        a mean over its member's own batch (one call with ``dim=-1`` when :attr:`batched`, else
        :func:`torch.vmap`)."""
        if self.batched:
            return self.generator(d_fake_logits, dim=-1)
        return torch.vmap(self.generator)(d_fake_logits)

    def after_discriminator_update(self, d_params: Iterable[Tensor]) -> None:
        r"""Called by the training loop after every update of :math:`D`, for every loss: WGAN's
        weight clipping (:func:`ganlib.game.critics.clip_weights` to :math:`[-c, c]`) when
        :attr:`clip_value` is set, nothing otherwise."""
        if self.clip_value is not None:
            critics.clip_weights(d_params, self.clip_value)



#: The loss options a :class:`GANLoss` may have, each as ``value -> {field: new value}``:
#: ``gp_weight`` weights WGAN-GP's penalty (:func:`ganlib.game.critics.weighted_gradient_penalty`),
#: ``clip_value`` is WGAN's clipping bound.
OPTIONS: Dict[str, Callable[[float], Dict[str, object]]] = {
    "gp_weight": lambda w: {"penalty": functools.partial(critics.weighted_gradient_penalty, weight=w)},
    "clip_value": lambda c: {"clip_value": c},
}

#: Registered losses by name (a ``ganlib._registry.Registry``). Add new ones with :func:`register_loss`.
LOSSES: Registry = Registry("GAN loss")
LOSSES.register('saturating', GANLoss(
    name="saturating",
    discriminator=discriminator_loss,
    generator=generator_loss_saturating,
    description="Eq. 1 minimax game: D minimises -V(G,D), G minimises E_z[log(1 - D(G(z)))]",
    batched=True,
))
LOSSES.register('non_saturating', GANLoss(
    name="non_saturating",
    discriminator=discriminator_loss,
    generator=generator_loss_non_saturating,
    description="Section 3 heuristic: D minimises -V(G,D), G minimises -E_z[log D(G(z))]",
    batched=True,
))


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
        >>> from ganlib.game.losses import discriminator_loss, generator_loss_non_saturating
        >>> from ganlib.game.registry import LOSSES, GANLoss, register_loss
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
    return LOSSES.register(loss.name, loss)


def get_loss(name: str, **options: float) -> GANLoss:
    r"""Return the registered :class:`GANLoss` called ``name``, with ``options`` set (:meth:`GANLoss.with_options`).

    ``"saturating"`` is the minimax game of Eq. 1; ``"non_saturating"`` replaces the generator's
    objective by :math:`\max_G \mathbb{E}_z[\log D(G(z))]` (Section 3).

    Raises:
        TypeError: if ``name`` is not a str.
        ValueError: if no loss has that name; the message lists the valid names.

    Example:
        >>> from ganlib.game.losses import generator_loss_non_saturating
        >>> from ganlib.game.registry import get_loss
        >>> get_loss("non_saturating").description
        'Section 3 heuristic: D minimises -V(G,D), G minimises -E_z[log D(G(z))]'
        >>> get_loss("non_saturating").generator is generator_loss_non_saturating
        True
    """
    loss = LOSSES.lookup(name)
    return loss.with_options(**options) if options else loss


def _identity(t: Tensor) -> Tensor:
    """Raw critic scores for the ``d_real`` / ``d_fake`` history columns."""
    return t


def _register_critic(name: str, discriminator: Callable, generator: Callable, description: str, **hooks) -> None:
    """Register a loss of :mod:`ganlib.game.critics`: its ``value`` is the critic's estimate of
    :math:`W_1` and its ``d_real`` / ``d_fake`` columns are raw scores."""
    register_loss(GANLoss(name, discriminator, generator, description, value=critics.wasserstein_estimate,
                          link=_identity, batched=True, **hooks))


_register_critic("wasserstein", critics.critic_loss_wasserstein, critics.generator_loss_wasserstein,
                 "WGAN (Arjovsky et al. 2017): critic minimises E[f(G(z))] - E[f(x)], weights clipped to +-0.01; "
                 "G minimises -E[f(G(z))]", clip_value=critics.WGAN_CLIP, options={"clip_value": critics.WGAN_CLIP})
_register_critic("wgan-gp", critics.critic_loss_wasserstein, critics.generator_loss_wasserstein,
                 "WGAN-GP (Gulrajani et al. 2017): WGAN critic loss + 10 * E[(||grad f(x_hat)|| - 1)^2], no clipping",
                 penalty=critics.weighted_gradient_penalty, options={"gp_weight": critics.GP_WEIGHT})
_register_critic("hinge", critics.critic_loss_hinge, critics.generator_loss_hinge,
                 "hinge (Miyato et al. 2018): D minimises E[relu(1 - D(x))] + E[relu(1 + D(G(z)))]; G minimises -E[D(G(z))]")
