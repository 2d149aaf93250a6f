r"""Optimisers: the paper's SGD schedule, and the one place where a run's optimisers are built.

Every player gets an :class:`OptimizerPair`, an optimiser and the scheduler (or ``None``) that is
stepped after every update of that player. :func:`make_optimizers` builds both pairs from a
:class:`ganlib.engine.config.TrainConfig`, so that the config saved in a checkpoint says exactly what the
run used:

* ``optimizer="paper"``: the paper's SGD with momentum and its schedule
  (:func:`paper_optimizer`, :class:`PaperSGDSchedule`);
* any :mod:`torch.optim` class by name, with ``optimizer_kwargs``, and ``schedule="constant"``
  (no scheduler) or ``"cosine"`` (:class:`CosineToFloor`: each learning rate decays along a half
  cosine to ``lr_floor`` times its initial value over the run's updates of that player).
"""

from __future__ import annotations

import inspect
import math
from typing import Any, Dict, List, NamedTuple, Optional, Tuple

import torch
from torch import Tensor, nn

__all__ = ["OptimizerPair", "make_optimizers", "check_pair", "clear_grads", "CosineToFloor", "PaperSGDSchedule", "paper_optimizer",
           "SCHEDULES", "check_pairs", "optimizer_defaults"]

#: Learning-rate schedules of :func:`make_optimizers` for torch optimisers (``TrainConfig.schedule``).
SCHEDULES = ("constant", "cosine")


def optimizer_defaults(name: str) -> Dict[str, Any]:
    r"""The :class:`~ganlib.engine.config.TrainConfig` values an optimiser is used with when a run sets
    no others: the paper's SGD at learning rate 0.1 (its code's), Adam and AdamW with DCGAN's
    :math:`\beta_1 = 0.5`, any other torch optimiser with its own defaults.

    Example:
        >>> from ganlib.engine.optim import optimizer_defaults
        >>> optimizer_defaults("paper"), optimizer_defaults("RMSprop")
        ({'lr_d': 0.1, 'lr_g': 0.1, 'optimizer_kwargs': {}}, {'optimizer_kwargs': {}})
    """
    if name == "paper":
        return {"lr_d": 0.1, "lr_g": 0.1, "optimizer_kwargs": {}}
    return {"optimizer_kwargs": {"betas": (0.5, 0.999)} if name in ("Adam", "AdamW") else {}}


class OptimizerPair(NamedTuple):
    """A player's optimiser and the scheduler stepped after each of its updates (or ``None``).

    The scheduler, when given, must drive this optimiser (``scheduler.optimizer is optimizer``):
    :class:`ganlib.engine.loop.Trainer` checks it, so a scheduler can never be silently dropped or attached
    to an optimiser the caller did not pass.
    """

    optimizer: torch.optim.Optimizer
    scheduler: Optional[Any] = None


def check_pair(given: Any, module: nn.Module, who: str) -> OptimizerPair:
    """``given`` as an :class:`OptimizerPair` whose optimiser holds exactly ``module``'s parameters
    and whose scheduler (if any) drives that optimiser; a clear error otherwise.

    Example:
        >>> import torch
        >>> from ganlib.engine.optim import check_pair
        >>> D = torch.nn.Linear(2, 1)
        >>> opt = torch.optim.SGD(D.parameters(), lr=0.1)
        >>> check_pair((opt, None), D, "D").optimizer is opt
        True
    """
    if not (isinstance(given, tuple) and len(given) == 2 and isinstance(given[0], torch.optim.Optimizer)):
        raise TypeError(f"the optimizer pair for {who} must be (optimizer, scheduler or None), got {given!r}")
    opt, sched = given
    if {id(p) for g in opt.param_groups for p in g["params"]} != {id(p) for p in module.parameters()}:
        raise ValueError(f"the optimizer for {who} must hold exactly {who}'s parameters")
    if sched is not None and getattr(sched, "optimizer", opt) is not opt:
        raise ValueError(f"the scheduler for {who} drives another optimizer than the one paired with it")
    return OptimizerPair(opt, sched)


def check_pairs(optimizers: Any, D: nn.Module, G: nn.Module) -> Tuple[OptimizerPair, OptimizerPair]:
    """``optimizers = (for D, for G)`` checked with :func:`check_pair`; a clear error otherwise.

    Example:
        >>> import torch
        >>> from ganlib.engine.optim import check_pairs
        >>> D, G = torch.nn.Linear(2, 1), torch.nn.Linear(1, 2)
        >>> pairs = ((torch.optim.SGD(D.parameters(), lr=0.1), None), (torch.optim.SGD(G.parameters(), lr=0.1), None))
        >>> [p.optimizer.param_groups[0]["lr"] for p in check_pairs(pairs, D, G)]
        [0.1, 0.1]
    """
    if not (isinstance(optimizers, (tuple, list)) and len(optimizers) == 2):
        raise TypeError("optimizers must be a pair (for D, for G) of (optimizer, scheduler) pairs")
    return check_pair(optimizers[0], D, "D"), check_pair(optimizers[1], G, "G")


def clear_grads(optimizer: torch.optim.Optimizer) -> None:
    """``optimizer.zero_grad(set_to_none=True)`` without its profiler bookkeeping (tens of
    microseconds a call, which the training loops pay twice a step).

    Example:
        >>> import torch
        >>> from ganlib.engine.optim import clear_grads
        >>> w = torch.nn.Parameter(torch.ones(2))
        >>> (3 * w).sum().backward()
        >>> clear_grads(torch.optim.SGD([w], lr=0.1))
        >>> w.grad is None
        True
    """
    for group in optimizer.param_groups:
        for p in group["params"]:
            p.grad = None


class CosineToFloor:
    r"""Learning-rate factor of a half-cosine decay to a floor, for
    :class:`torch.optim.lr_scheduler.LambdaLR`:

    .. math:: \lambda(t) = f + (1 - f)\,\tfrac12\big(1 + \cos(\pi \min(t, T) / T)\big),

    from 1 at update :math:`t = 0` to the floor :math:`f` at :math:`t = T` (and after). Letting the
    learning rate settle at the end of a run averages the minibatch noise out of the last iterates.
    A callable object rather than a lambda, so that ``LambdaLR.state_dict()`` saves it.

    Example:
        >>> from ganlib.engine.optim import CosineToFloor
        >>> f = CosineToFloor(updates=100, floor=0.05)
        >>> round(f(0), 3), round(f(50), 3), round(f(100), 3), round(f(500), 3)
        (1.0, 0.525, 0.05, 0.05)
    """

    def __init__(self, updates: int, floor: float) -> None:
        self.updates, self.floor = max(1, int(updates)), float(floor)

    def __call__(self, t: int) -> float:
        n = self.updates
        return self.floor + (1.0 - self.floor) * 0.5 * (1 + math.cos(math.pi * min(t, n) / n))


#: torch optimisers with a fused kernel on the CPU and on CUDA (one pass over each tensor)
FUSED = ("Adam", "AdamW", "SGD")


def _fastest_kernels(cls: type, params: List[Tensor]) -> Dict[str, bool]:
    """``fused=True`` where ``cls`` has a fused kernel for ``params``' device, else ``foreach=True``
    where it has that: the same update up to rounding, fewer passes over memory. On a 2-core CPU,
    Adam's step over the paper's two networks (3.7 million weights) takes about 3 ms fused and 8-9
    ms with ``foreach`` or one tensor at a time (``benchmarks/bench_kernels.py``)."""
    devices = {p.device.type for p in params}
    if cls.__name__ in FUSED and devices and devices <= {"cpu", "cuda"} and all(p.is_floating_point() for p in params):
        return {"fused": True}
    return {"foreach": True} if "foreach" in inspect.signature(cls).parameters else {}


def _torch_pair(config: Any, module: nn.Module, lr: float, updates: int) -> OptimizerPair:
    cls, kwargs = getattr(torch.optim, config.optimizer), dict(config.optimizer_kwargs)
    params = list(module.parameters())
    if "fused" not in kwargs and "foreach" not in kwargs:
        kwargs.update(_fastest_kernels(cls, params))
    opt = cls(params, lr=lr, **kwargs)
    if config.schedule == "cosine":
        return OptimizerPair(opt, torch.optim.lr_scheduler.LambdaLR(opt, CosineToFloor(updates, config.lr_floor)))
    return OptimizerPair(opt, None)


def make_optimizers(config: Any, G: nn.Module, D: nn.Module, total_steps: int,
                    steps_per_epoch: int) -> Tuple[OptimizerPair, OptimizerPair]:
    r"""Both players' :class:`OptimizerPair` from a :class:`ganlib.engine.config.TrainConfig`:
    ``(for D, for G)``.

    :math:`D` is updated :math:`k` times per step of Algorithm 1 and :math:`G` once, so over a run
    of ``total_steps`` steps a schedule spans :math:`k \cdot` ``total_steps`` updates of :math:`D`
    and ``total_steps`` of :math:`G`; the paper's momentum schedule counts epochs of
    :math:`k \cdot` ``steps_per_epoch`` and ``steps_per_epoch`` updates. A learning rate of 0
    freezes that player (its update changes nothing).

    Example:
        >>> import torch
        >>> from ganlib.engine.config import TrainConfig
        >>> from ganlib.engine.optim import make_optimizers
        >>> G, D = torch.nn.Linear(2, 2), torch.nn.Linear(2, 1)
        >>> config = TrainConfig(schedule="cosine", k=5)  # k = 5 updates of D per step
        >>> for_d, for_g = make_optimizers(config, G, D, total_steps=100, steps_per_epoch=10)
        >>> type(for_d.optimizer).__name__, type(for_g.optimizer).__name__, type(for_d.scheduler).__name__
        ('Adam', 'Adam', 'LambdaLR')
        >>> for_d.scheduler.lr_lambdas[0].updates, for_g.scheduler.lr_lambdas[0].updates  # k * 100 and 100
        (500, 100)
    """
    k = config.k
    if config.optimizer == "paper":
        return (OptimizerPair(*paper_optimizer(D.parameters(), steps_per_epoch * k, config.lr_d)),
                OptimizerPair(*paper_optimizer(G.parameters(), steps_per_epoch, config.lr_g)))
    return (_torch_pair(config, D, config.lr_d, total_steps * k),
            _torch_pair(config, G, config.lr_g, total_steps))


class PaperSGDSchedule:
    r"""The paper's SGD schedule (``mnist.yaml``), stepped once per minibatch update.

    .. math::

        \eta_t = \max\!\Big(\frac{\eta_0}{1.000004^{\,t}},\; 10^{-6}\Big), \qquad
        \mu_e = 0.5 + (0.7 - 0.5)\,\frac{\min(\max(e - 1, 0), 249)}{249}

    where :math:`t` counts updates and :math:`e = 1 + \lfloor t / \text{steps\_per\_epoch} \rfloor`
    is the (1-based) epoch: pylearn2's ``ExponentialDecay(1.000004, min_lr=1e-6)`` and
    ``MomentumAdjustor(final_momentum=0.7, start=1, saturate=250)``.
    Has ``step``, ``state_dict`` and ``load_state_dict`` like a torch LR scheduler.
    """

    def __init__(
        self,
        optimizer: torch.optim.Optimizer,
        steps_per_epoch: int,
        decay: float = 1.000004,
        min_lr: float = 1e-6,
        momentum: Tuple[float, float] = (0.5, 0.7),
        epochs: Tuple[int, int] = (1, 250),
    ) -> None:
        self.optimizer = optimizer
        self.steps_per_epoch = max(1, int(steps_per_epoch))
        self.decay, self.min_lr = decay, min_lr
        self.momentum, self.epochs = tuple(momentum), tuple(epochs)
        self.base_lrs = [g["lr"] for g in optimizer.param_groups]
        self.t = 0
        self._apply()

    def _apply(self) -> None:
        e = 1 + self.t // self.steps_per_epoch
        a, b = self.epochs
        frac = min(max(e - a, 0), b - a) / max(b - a, 1)
        mom = self.momentum[0] + (self.momentum[1] - self.momentum[0]) * frac
        for g, lr0 in zip(self.optimizer.param_groups, self.base_lrs):
            g["lr"] = max(lr0 * math.exp(-self.t * math.log(self.decay)), self.min_lr)
            g["momentum"] = mom

    def step(self) -> None:
        """Advance one update: decay the learning rate, set the epoch's momentum."""
        self.t += 1
        self._apply()

    def state_dict(self) -> dict:
        """Plain-data state (safe for ``torch.load(weights_only=True)``)."""
        return {"t": self.t, "base_lrs": list(self.base_lrs), "steps_per_epoch": self.steps_per_epoch}

    def load_state_dict(self, state: dict) -> None:
        """Restore from :meth:`state_dict`."""
        self.t = int(state["t"])
        self.base_lrs = list(state["base_lrs"])
        self.steps_per_epoch = int(state["steps_per_epoch"])
        self._apply()


def paper_optimizer(
    params, steps_per_epoch: int, lr: float = 0.1
) -> Tuple[torch.optim.SGD, PaperSGDSchedule]:
    r"""The paper's optimiser preset: SGD, :math:`\eta_0 = 0.1` decayed by :math:`1/1.000004` per
    update (floor :math:`10^{-6}`), momentum rising linearly 0.5 :math:`\to` 0.7 over epochs
    1-250 (see :class:`PaperSGDSchedule`); batch 100 and :math:`k = 1` are set in the training
    config. Returns ``(optimizer, scheduler)``.

    Example:
        >>> import torch
        >>> from ganlib.engine.optim import paper_optimizer
        >>> opt, schedule = paper_optimizer(torch.nn.Linear(2, 1).parameters(), steps_per_epoch=10)
        >>> type(opt).__name__, opt.param_groups[0]["lr"], opt.param_groups[0]["momentum"]
        ('SGD', 0.1, 0.5)
        >>> for _ in range(10): schedule.step()  # one epoch: lr / 1.000004^10, momentum towards 0.7
        >>> round(opt.param_groups[0]["lr"], 6), round(opt.param_groups[0]["momentum"], 6)
        (0.099996, 0.500803)
    """
    params = list(params)
    opt = torch.optim.SGD(params, lr=lr, momentum=0.5, **_fastest_kernels(torch.optim.SGD, params))
    return opt, PaperSGDSchedule(opt, steps_per_epoch)
