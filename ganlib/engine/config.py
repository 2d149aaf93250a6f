r"""The training configuration, :class:`TrainConfig`: everything a run of Algorithm 1 needs to be
repeated, saved (as a plain dict) in every checkpoint.

Build it with overrides through :meth:`TrainConfig.from_dict` / :meth:`TrainConfig.replace`, which
reject unknown keys with a :class:`ValueError` naming the key (minGPT's rule: a typo in a config
must not be a silent default). :meth:`TrainConfig.validate` checks every value before any data or
model is touched.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
from dataclasses import dataclass, field
from typing import Any, Dict, Optional

import torch

from ganlib.game.registry import get_loss
from ganlib.engine.optim import SCHEDULES
from ganlib.engine.precision import resolve_amp
from ganlib.engine.runtime import resolve_device

__all__ = ["TrainConfig", "field_help"]

#: torch optimisers whose step the training loop cannot drive, and why
_UNSUPPORTED_OPTIMIZERS = {"LBFGS": "its step needs a closure that re-evaluates the loss",
                           "SparseAdam": "it needs sparse gradients, and the players' are dense"}


@dataclass
class TrainConfig:
    """Training configuration; saved (as a plain dict) in every checkpoint.

    Build with overrides through :meth:`from_dict` / :meth:`replace`, which reject unknown keys
    with a :class:`ValueError` naming the key. A *step* is one outer iteration of Algorithm 1
    (``k`` discriminator updates, then one generator update); an *epoch* is ``N // (batch_size*k)``
    steps, i.e. one pass of the discriminator over the ``N`` training samples.
    """

    loss: str = "non_saturating"  #: generator/discriminator loss pair by name (ganlib.game.registry.LOSSES)
    #: the loss's options by name (:attr:`ganlib.game.registry.GANLoss.options`), e.g. ``{"gp_weight": 5.0}``
    #: for WGAN-GP's penalty weight or ``{"clip_value": 0.05}`` for WGAN's clipping bound; empty: the defaults
    loss_kwargs: Dict[str, float] = field(default_factory=dict)
    k: int = 1  #: discriminator updates per generator update (Algorithm 1's k; WGAN's n_critic, 5 there)
    batch_size: int = 100  #: m in Algorithm 1
    epochs: int = 1  #: training length in epochs (ignored when max_steps is set)
    max_steps: Optional[int] = None  #: training length in steps (overrides epochs)
    optimizer: str = "Adam"  #: "paper" (the paper's SGD and its schedule) or a torch.optim class name
    lr_d: float = 2e-4  #: discriminator learning rate (0 freezes D)
    lr_g: float = 2e-4  #: generator learning rate (0 freezes G)
    optimizer_kwargs: Dict[str, Any] = field(default_factory=lambda: {"betas": (0.5, 0.999)})
    #: learning-rate schedule of a torch optimizer (:data:`ganlib.engine.optim.SCHEDULES`), ``"constant"`` or ``"cosine"``
    #: (half-cosine decay to lr_floor x the initial rate over the run); "paper" has its own schedule
    schedule: str = "constant"
    lr_floor: float = 0.05  #: final learning-rate factor of the "cosine" schedule, in [0, 1]
    device: str = "auto"  #: ``"auto"`` (CUDA, then MPS, then CPU), ``"cpu"``, ``"cuda"``, ``"cuda:N"``, ``"mps"``
    seed: int = 0  #: seeds python/numpy/torch and the trainer's own generator
    log_every: int = 50  #: steps between host reads of the statistics (and NaN checks)
    snapshot_every: int = 0  #: steps between fixed-noise snapshots; 0 = every epoch, <0 = never
    n_snapshot: int = 64  #: size of the fixed noise batch
    checkpoint_every: int = 0  #: steps between checkpoints (needs out_dir); 0 = every epoch, <0 = never
    out_dir: Optional[str] = None  #: where checkpoint.pt is written
    #: mixed precision (:mod:`ganlib.engine.precision`): ``None`` (float32), ``"bf16"``, ``"fp16"`` (with one
    #: gradient scaler per player) or ``"auto"`` (bf16 or fp16 on CUDA as the device supports, bf16 on a CPU with
    #: bf16 instructions, else float32)
    amp: Optional[str] = None
    compile: bool = False  #: torch.compile both networks
    #: decay of an exponential moving average of G's weights (:class:`ganlib.engine.callbacks.GeneratorEMA`), e.g.
    #: 0.999; ``None`` keeps none. Samples and checkpoints then carry the averaged generator too.
    ema_decay: Optional[float] = None
    progress: bool = True  #: tqdm progress bar
    #: G's update reuses the last D update's fakes G(z) (forward kept with its graph) instead of
    #: drawing fresh noise: the loop of pytorch/examples' dcgan, one G forward fewer per step.
    #: Off by default: Algorithm 1 draws new noise for G.
    reuse_fakes: bool = False

    @classmethod
    def from_dict(cls, d: Optional[Dict[str, Any]] = None, **overrides: Any) -> "TrainConfig":
        """Defaults updated by ``d`` and ``overrides``; unknown keys raise ValueError. The key
        ``bf16`` of checkpoints written by ganlib 0.1 is read as ``amp="bf16"`` (or ``None``)."""
        d = dict(d or {})
        if "bf16" in d:
            d.setdefault("amp", "bf16" if d.pop("bf16") else None)
        return cls().replace(**{**d, **overrides})

    def replace(self, **overrides: Any) -> "TrainConfig":
        """A copy with ``overrides`` applied; an unknown key raises ValueError naming it."""
        names = {f.name for f in dataclasses.fields(self)}
        for key in overrides:
            if key not in names:
                raise ValueError(f"unknown config key {key!r}; valid keys: {', '.join(sorted(names))}")
        return dataclasses.replace(self, **overrides)

    def to_dict(self) -> Dict[str, Any]:
        """Plain dict (safe for ``torch.load(weights_only=True)``)."""
        return dataclasses.asdict(self)

    def validate(self) -> None:
        """Check values that need no data or models; raises ValueError with a message."""
        if not isinstance(self.k, int) or not 1 <= self.k <= 100_000:
            raise ValueError(f"k (discriminator steps per generator step) must be an integer in [1, 100000], got {self.k!r}")
        if not isinstance(self.batch_size, int) or self.batch_size < 1:
            raise ValueError(f"batch_size must be an integer >= 1, got {self.batch_size!r}")
        for name in ("lr_d", "lr_g"):
            v = getattr(self, name)
            if isinstance(v, bool) or not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0):
                raise ValueError(f"{name} must be a learning rate >= 0 (0 freezes the player), got {v!r}")
        if self.max_steps is None and (not isinstance(self.epochs, int) or self.epochs < 1):
            raise ValueError(f"epochs must be an integer >= 1, got {self.epochs!r}")
        if self.max_steps is not None and (not isinstance(self.max_steps, int) or not 0 <= self.max_steps <= 10**9):
            raise ValueError(f"max_steps must be None or an integer in [0, 10**9], got {self.max_steps!r}")
        for name in ("reuse_fakes", "compile", "progress"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be True or False, got {getattr(self, name)!r}")
        if not isinstance(self.log_every, int) or not 1 <= self.log_every <= 1_000_000:
            raise ValueError(f"log_every must be an integer in [1, 1000000] (steps between reads of the statistics), "
                             f"got {self.log_every!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or not 0 <= self.seed < 2**63:
            raise ValueError(f"seed must be an integer in [0, 2**63), got {self.seed!r}")
        if self.n_snapshot < 1:
            raise ValueError(f"n_snapshot must be >= 1, got {self.n_snapshot!r}")
        opt_class = getattr(torch.optim, self.optimizer, None) if self.optimizer != "paper" else None
        if self.optimizer != "paper" and not (isinstance(opt_class, type) and issubclass(opt_class, torch.optim.Optimizer)
                                              and opt_class is not torch.optim.Optimizer):
            raise ValueError(f"unknown optimizer {self.optimizer!r}; use 'paper' or a torch.optim class name")
        if self.optimizer in _UNSUPPORTED_OPTIMIZERS:
            raise ValueError(f"optimizer {self.optimizer} cannot train a GAN here: {_UNSUPPORTED_OPTIMIZERS[self.optimizer]}")
        if self.optimizer != "paper":
            params = inspect.signature(getattr(torch.optim, self.optimizer)).parameters
            unknown = sorted(set(self.optimizer_kwargs) - set(params) - {"params", "lr"})
            if unknown or "lr" in self.optimizer_kwargs:
                bad = unknown or ["lr"]
                raise ValueError(f"optimizer {self.optimizer} takes no {', '.join(map(repr, bad))} in optimizer_kwargs "
                                 "(lr_d / lr_g set the learning rates); e.g. Adam takes betas, SGD momentum")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"unknown schedule {self.schedule!r}; valid: {', '.join(SCHEDULES)}")
        if self.optimizer == "paper" and self.schedule != "constant":
            raise ValueError(f"optimizer 'paper' has its own schedule; schedule must be 'constant', got {self.schedule!r}")
        if isinstance(self.lr_floor, bool) or not (isinstance(self.lr_floor, (int, float)) and 0 <= self.lr_floor <= 1):
            raise ValueError(f"lr_floor must be a number in [0, 1], got {self.lr_floor!r}")
        if self.ema_decay is not None and (isinstance(self.ema_decay, bool) or not isinstance(self.ema_decay, (int, float))
                                           or not 0 < self.ema_decay < 1):
            raise ValueError(f"ema_decay must be None or in (0, 1), e.g. 0.999, got {self.ema_decay!r}")
        if not isinstance(self.loss_kwargs, dict):
            raise ValueError(f"loss_kwargs must be a dict of the loss's options, got {type(self.loss_kwargs).__name__}")
        get_loss(self.loss, **self.loss_kwargs)  # ValueError listing the valid names, or the loss's options
        resolve_amp(self.amp, resolve_device(self.device))  # ValueError for unknown devices and amp modes


def field_help() -> Dict[str, str]:
    """Each :class:`TrainConfig` field's ``#:`` comment (what the API page shows), by field name: the
    command line's help text is generated from it.

    Example:
        >>> from ganlib.engine.config import field_help
        >>> field_help()["batch_size"]
        'm in Algorithm 1'
    """
    import re

    lines, _ = inspect.getsourcelines(TrainConfig)
    out: Dict[str, str] = {}
    above: list = []
    for line in lines:
        text = line.strip()
        if text.startswith("#:"):
            above.append(text[2:].strip())
            continue
        m = re.match(r"(\w+): [^=]+=.*?(?:#: (.*))?$", text)
        if m and m.group(1) in TrainConfig.__dataclass_fields__:
            out[m.group(1)] = " ".join(above + ([m.group(2)] if m.group(2) else []))
        above = []
    return {k: re.sub(r":\w+:`~?(?:[\w.]+\.)?([\w]+)`", r"\1", v).replace("``", "") for k, v in out.items()}
