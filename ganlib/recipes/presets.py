r"""Tuned training recipes, by name: everything a run needs besides the data, with its budget.

``python -m ganlib train --preset mnist --out DIR`` and :func:`train_preset` run one. A
:class:`Preset` names the network pair (:func:`ganlib.nets.models.build_models` with its keyword
arguments), the augmentation of :math:`D`'s inputs (:mod:`ganlib.nets.augment`), and the
:class:`ganlib.engine.config.TrainConfig` values (loss, optimisers, batch size, the moving average of
:math:`G`, the number of steps). The budget is a number of steps, not a clock, so a run is the
same computation on every machine; :attr:`Preset.budget` says what it costs where it was measured.
Checkpoints keep :meth:`Preset.meta`, from which :func:`players_from_meta` rebuilds the players
(to resume, or to sample with ``python -m ganlib sample``).

Example:
    >>> from ganlib.recipes.presets import get_preset
    >>> p = get_preset("mnist")
    >>> p.dataset, p.train_config(seed=1).seed
    ('mnist', 1)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Mapping, Optional, Sequence, Tuple, Union

from torch import Tensor, nn

from ganlib._registry import Registry
from ganlib.nets.augment import AugmentedDiscriminator
from ganlib.engine.config import TrainConfig
from ganlib.recipes.experiments import train_pair
from ganlib.nets.layers import PackedDiscriminator
from ganlib.nets.models import MODELS, build_models
from ganlib.engine.runtime import quick_mode
from ganlib.engine.loop import Trainer

__all__ = ["Preset", "PRESETS", "get_preset", "players_from_meta", "train_preset"]


@dataclass(frozen=True)
class Preset:
    """A named recipe (see the module docstring)."""

    name: str
    description: str  #: one line for ``--help``
    dataset: str  #: the data set it is tuned for (a ``--dataset`` name)
    model: str  #: a :data:`ganlib.nets.models.MODELS` name
    budget: str  #: what the run costs, where measured, for ``--help``
    config: Dict[str, Any] = field(default_factory=dict)  #: :class:`TrainConfig` values
    generator_kwargs: Dict[str, Any] = field(default_factory=dict)
    discriminator_kwargs: Dict[str, Any] = field(default_factory=dict)
    #: DiffAugment of :math:`D`'s inputs: transformation name -> ratio, applied in order (empty: none)
    augment: Dict[str, float] = field(default_factory=dict)
    #: PacGAN packing (:class:`ganlib.nets.layers.PackedDiscriminator`): samples judged together (1: none)
    pack: int = 1
    quick_steps: int = 20  #: the run's length under ``GANLIB_QUICK=1``

    def train_config(self, seed: int = 0, device: str = "auto", quick: Optional[bool] = None,
                     **overrides: Any) -> TrainConfig:
        """The run's :class:`TrainConfig`; ``quick`` (default: :func:`ganlib.engine.runtime.quick_mode`)
        shortens it to :attr:`quick_steps`; ``overrides`` are further config values."""
        cfg = TrainConfig.from_dict(self.config, seed=seed, device=device)
        if quick_mode() if quick is None else quick:
            cfg = cfg.replace(max_steps=self.quick_steps, log_every=min(cfg.log_every, self.quick_steps))
        return cfg.replace(**overrides)

    def meta(self) -> Dict[str, Any]:
        """What a checkpoint needs to rebuild the players (plain data)."""
        return {"preset": self.name, "model": self.model, "augment": dict(self.augment), "pack": self.pack,
                "model_kwargs": {"generator_kwargs": dict(self.generator_kwargs),
                                 "discriminator_kwargs": dict(self.discriminator_kwargs)}}


def players_from_meta(meta: Mapping[str, Any], data_shape: Sequence[int],
                      pixel_means: Optional[Tensor] = None) -> Tuple[nn.Module, nn.Module]:
    """``(G, D)`` as a run's checkpoint ``meta`` describes them: :func:`ganlib.nets.models.build_models`
    with the saved keyword arguments, :math:`D` judging packs of ``meta["pack"]`` samples
    (:class:`ganlib.nets.layers.PackedDiscriminator`, flat models only) and wrapped in
    :class:`ganlib.nets.augment.AugmentedDiscriminator` when the run augmented its inputs."""
    kwargs = {k: dict(v) for k, v in meta.get("model_kwargs", {}).items()}
    pack = int(meta.get("pack", 1))
    pair = MODELS.lookup(meta["model"])
    if pack > 1:
        if len(data_shape) != 1 or pair.d_input is None:
            flat = ", ".join(repr(n) for n, p in MODELS.items() if p.d_input is not None)
            raise ValueError(f"packing needs a flat model ({flat}), not {meta['model']!r} on {tuple(data_shape)}")
        kwargs.setdefault("discriminator_kwargs", {})[pair.d_input] = pack * int(data_shape[0])
    G, D = build_models(meta["model"], tuple(data_shape), pixel_means=pixel_means, **kwargs)
    if pack > 1:
        D = PackedDiscriminator(D, pack)
    augment = meta.get("augment")
    if augment:
        side = math.isqrt(int(data_shape[0])) if len(data_shape) == 1 else 0
        if len(data_shape) != 3 and side * side != int(data_shape[0]):
            raise ValueError(f"augmentation needs images: (C, H, W) or flat square images, not {tuple(data_shape)}")
        image = tuple(data_shape) if len(data_shape) == 3 else (1, side, side)
        D = AugmentedDiscriminator(D, tuple(augment), image_shape=image, ratios=dict(augment))
    return G, D


#: The recipes by name (a ``ganlib._registry.Registry``).
PRESETS = Registry("preset")
PRESETS.register('mnist', Preset(
    name="mnist",
    description=("the paper's networks (1200-unit ReLU G, maxout D with dropout, spectral norm and a minibatch "
                 "standard deviation in D), Adam with G's learning rate 4x D's, one G(z) per step for both "
                 "players, a moving average of G, bf16 autocast where the hardware has it"),
    dataset="mnist",
    model="paper",
    budget="12,000 steps of batch 100: 7-11 minutes on 2 CPU cores in float32 without bf16 instructions (a shared machine varies in speed), about 6 on a CPU with them",
    config=dict(loss="non_saturating", batch_size=100, max_steps=12_000, optimizer="Adam", lr_d=1e-4, lr_g=4e-4,
                optimizer_kwargs={"betas": (0.5, 0.999)}, ema_decay=0.999, reuse_fakes=True, amp="auto",
                log_every=100, snapshot_every=500, checkpoint_every=1000),
    discriminator_kwargs={"spectral_norm": True, "minibatch_std": 2},
    quick_steps=20,
))
PRESETS.register('mnist-dcgan', Preset(
    name="mnist-dcgan",
    description=("a DCGAN pair (width 64), Adam 1e-3 with a cosine decay, a moving average of G, "
                 "D's inputs shifted by up to 2 pixels, bf16 autocast where the hardware has it"),
    dataset="mnist",
    model="dcgan",
    budget="4,500 steps of batch 64: about 6 minutes on 2 CPU cores with bf16 instructions",
    config=dict(loss="non_saturating", batch_size=64, max_steps=4500, lr_d=1e-3, lr_g=1e-3,
                optimizer_kwargs={"betas": (0.5, 0.999)}, schedule="cosine", lr_floor=0.05,
                ema_decay=0.999, amp="auto", log_every=100, snapshot_every=500, checkpoint_every=1000),
    generator_kwargs={"width": 64},
    discriminator_kwargs={"width": 64},
    augment={"translation": 2 / 28},
    quick_steps=20,
))


def get_preset(name: str) -> Preset:
    """The :class:`Preset` called ``name``; a :class:`ValueError` lists the valid names."""
    return PRESETS.lookup(name)


def train_preset(name: str, data: Any, seed: int = 0, device: str = "auto", *,
                 callbacks: Optional[Mapping[str, Union[Callable, Sequence[Callable]]]] = None,
                 meta: Optional[Dict[str, Any]] = None, run: bool = True, **overrides: Any) -> Trainer:
    """Train the preset ``name`` on ``data`` (a tensor of images or a :class:`ganlib.data.Dataset`)
    through :func:`ganlib.recipes.experiments.train_pair`; returns the trainer. ``overrides`` are config
    values (e.g. ``out_dir``, ``max_steps``)."""
    preset = get_preset(name)
    images = getattr(data, "images", data)
    cfg = preset.train_config(seed=seed, device=device, **overrides)
    players = lambda: players_from_meta(preset.meta(), tuple(images.shape[1:]), images.mean(0))  # noqa: E731
    return train_pair(cfg, players, images, callbacks=callbacks, meta={**preset.meta(), **(meta or {})}, run=run)
