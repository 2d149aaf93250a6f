r"""Many games at once: Algorithm 1 for S independent seeds in one vectorised loop.

:class:`EnsembleTrainer` trains S generator/discriminator pairs whose weights are stacked along a
leading member axis (:mod:`ganlib.nets.stacked`): one forward and one backward per player per update
serve every member. It has the shape of :class:`ganlib.engine.loop.Trainer` (the same
:class:`~ganlib.engine.config.TrainConfig`, losses by name with their penalty and clipping hooks, ``k``
updates of :math:`D` per update of :math:`G`, callbacks, snapshots, bit-identical checkpoints),
and member :math:`s` reproduces the single run of seed ``seeds[s]``: its own initial weights, its
own :class:`torch.Generator` for minibatches and noise, drawn in the same order as the
:class:`~ganlib.engine.loop.Trainer` draws them. Members share no statistic: each loss is a mean over
the member's own batch (:meth:`ganlib.game.registry.GANLoss.member_objectives`), and the optimiser's
moments are elementwise.

It supports what the single loop supports except three things, each refused with an error that
says so: ``compile=True`` (its stacked layers are already batched), a process group (it trains in one
process; under torchrun train one game per process), and float16 (a gradient scaler skips the step of
*every* member when one overflows, which would couple the games; bf16 needs no scaler). The moving
average of :math:`G` (``ema_decay``) is the same callback as the single loop's, over the stacked
weights, so member :math:`s`'s average is the single run's.

Fault isolation: a member whose loss turns non-finite is frozen (its updates are rejected from
that step on) while the others train on; :meth:`EnsembleTrainer.summary` says which members
finished and where the others stopped. The check runs on the device, with no host
synchronisation; the history is read back every ``log_every`` steps as in the single loop.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import torch
from torch import Tensor, nn

from ganlib.engine.accelerator import Accelerator
from ganlib.engine.checkpoint import get_rng_state, set_rng_state
from ganlib.engine.config import TrainConfig
from ganlib.engine.contract import float_dtype, training_data
from ganlib.engine.distributed import world
from ganlib.engine.loop import HISTORY_COLUMNS, STAT_COLUMNS, Loop
from ganlib.engine.optim import make_optimizers
from ganlib.engine.runtime import seed_everything
from ganlib.engine.workers import keep_freed_memory
from ganlib.game.registry import get_loss
from ganlib.nets.stacked import stack_players

__all__ = ["EnsembleTrainer", "ENSEMBLE_COLUMNS"]

#: Columns of the ensemble's history, in long format with one row per step and member;
#: ``alive`` is False from the step at which the member's loss turned non-finite.
ENSEMBLE_COLUMNS = ("member", "seed", *HISTORY_COLUMNS, "alive")
_FAILED = {1: "d_loss", 2: "g_loss"}


class EnsembleTrainer(Loop):
    """Trains ``len(seeds)`` independent games with Algorithm 1 in one loop (see the module docstring).

    Args:
        config: a :class:`ganlib.engine.config.TrainConfig` (its ``seed`` is replaced by each member's).
        players: function of no arguments returning a fresh ``(G, D)`` pair; called once per
            member, after seeding Python, NumPy and PyTorch with that member's seed.
        data: training samples, a tensor ``(N, d)`` or an object with ``.images``, shared by all.
        seeds: one seed per member (default ``config.seed, config.seed + 1, ...``, ``members`` of them).
        members: number of members when ``seeds`` is not given.

    Attributes:
        G: the stacked generators (:class:`ganlib.nets.stacked.StackedGenerator`).
        D: the stacked discriminators (:class:`ganlib.nets.stacked.StackedDiscriminator`).
        step: number of completed steps.
        history: dict of lists, one per column of :data:`ENSEMBLE_COLUMNS`.
        snapshots: list of ``(step, samples)``, samples ``(S, n_snapshot, d)``.
        rngs: one :class:`torch.Generator` per member, for its minibatches and noise.
        alive: bool tensor ``(S,)``, False for a frozen member.
        wall_time: after :meth:`run`, its duration in seconds.
        throughput: after :meth:`run`, member-steps per second.
    """

    def __init__(self, config: TrainConfig, players: Callable[[], Tuple[nn.Module, nn.Module]], data: Any,
                 seeds: Optional[Sequence[int]] = None, members: int = 8) -> None:
        config.validate()
        if config.compile:
            raise ValueError("the ensemble does not support compile=True (its stacked layers are already batched)")
        seeds = [config.seed + i for i in range(members)] if seeds is None else [int(s) for s in seeds]
        if not seeds or len(set(seeds)) != len(seeds):
            raise ValueError(f"seeds must be a non-empty list of distinct integers, got {seeds!r}")
        self.config, self.seeds, self.loss = config, seeds, get_loss(config.loss, **config.loss_kwargs)
        if world()[1] > 1:
            raise ValueError("the ensemble trains in one process; under torchrun, train one game per process with Trainer")
        self.accelerator = acc = Accelerator(config.batch_size, config.device, config.amp)  # one process
        self.device = acc.device
        if self.device.type == "cpu":
            keep_freed_memory()  # stacked activations are megabytes: reuse them rather than page-fault each step
        if acc.precision.dtype == torch.float16:
            raise ValueError(f"the ensemble does not support amp={config.amp!r} (float16 here): a gradient scaler skips "
                             "the step of every member when one overflows; use amp='bf16' or None")
        data = training_data(data, config.batch_size, dims=2)
        pairs = []
        for s in seeds:
            seed_everything(s)
            pairs.append(players())
        self.G, self.D = (m.to(self.device) for m in stack_players(pairs))
        self.data = data.to(self.device, float_dtype(self.G)).contiguous()
        self.S = len(seeds)
        self._plan()
        self.optim_d, self.optim_g = make_optimizers(config, self.G, self.D, self.total_steps, self.steps_per_epoch)
        self.rngs = [torch.Generator(device=self.device).manual_seed(s) for s in seeds]
        self.fixed_noise = self.G.sample_members(config.n_snapshot, self.rngs, device=self.device)
        self._cat_dim = 1
        self.alive = torch.ones(self.S, dtype=torch.bool, device=self.device)
        self._failed = torch.zeros(self.S, 2, dtype=torch.long, device=self.device)  # (step, which loss)
        self._first = torch.tensor([True, False], device=self.device)  # column 0 of _failed
        self._begin(ENSEMBLE_COLUMNS, (*STAT_COLUMNS, "alive"), (self.S,), work_per_step=self.S)  # member-steps
        self._optimizer_step = self._step_alive

    # ------------------------------------------------------------------------------ Algorithm 1
    def _uniform(self, shape: Sequence[int]) -> Tensor:
        """``(S, *shape[1:])`` uniform draws, member ``s``'s from its own generator."""
        return torch.stack([torch.rand(tuple(shape[1:]), generator=g, device=self.device) for g in self.rngs])

    def _real_batch(self) -> Tensor:
        m = self.config.batch_size
        if self._perm is None or self._pos + m > self._perm.shape[1]:
            self._perm = torch.stack([torch.randperm(len(self.data), generator=g, device=self.device) for g in self.rngs])
            self._pos = 0
        idx = self._perm[:, self._pos : self._pos + m]
        self._pos += m
        return self.data.index_select(0, idx.reshape(-1)).view(self.S, m, -1)

    def _noise(self, n: int) -> Tensor:
        return self.G.sample_members(n, self.rngs, device=self.device)

    def _checks(self) -> list:
        return []  # a member whose loss turns non-finite is frozen, not the run stopped

    def _step_alive(self, optimizer: torch.optim.Optimizer) -> None:
        """``optimizer.step()`` for the members still alive; the others keep their weights.

        On the CPU, reading ``alive`` costs nothing, and while every member is alive the step is
        plain; on an accelerator the masked step always runs (a read would synchronise)."""
        if self.device.type == "cpu" and bool(self.alive.all()):
            optimizer.step()
            return
        params = [p for g in optimizer.param_groups for p in g["params"]]
        before = [p.detach().clone() for p in params]
        optimizer.step()
        with torch.no_grad():
            for p, old in zip(params, before):
                p.copy_(torch.where(self.alive.view(-1, *([1] * (p.dim() - 1))), p, old))

    def _fail(self, loss: Tensor, which: int) -> None:
        """Freeze the members whose ``loss`` (S,) is non-finite, remembering step and loss. On the
        CPU one read tells whether there is anything to do; on an accelerator the masked update
        always runs (a read would synchronise)."""
        finite = torch.isfinite(loss.detach())
        if self.device.type == "cpu" and bool(finite.all()):
            return
        bad = self.alive & ~finite
        self._failed.masked_fill_(bad.unsqueeze(1) & self._first, self.step + 1)
        self._failed.masked_fill_(bad.unsqueeze(1) & ~self._first, which)
        self.alive &= ~bad

    def _d_objective(self, x: Tensor, fake: Tensor) -> Tuple[Tensor, Dict[str, Tensor]]:
        stats = self.loss.member_objectives(self.D, x, fake, *self._discriminate(x, fake), rand=self._uniform)
        self._fail(stats[:, 0], 1)
        d = stats.detach()  # columns: d_loss, value, d_real, d_fake
        # members are independent: the sum's gradient is each one's
        return stats[:, 0].sum(), {"d_loss": d[:, 0], "value": d[:, 1], "d_real": d[:, 2], "d_fake": d[:, 3]}

    def _g_objective(self, fake_l: Tensor) -> Tuple[Tensor, Dict[str, Tensor]]:
        g_loss = self.loss.member_generator(fake_l)
        self._fail(g_loss, 2)
        return g_loss.sum(), {"g_loss": g_loss.detach(), "alive": self.alive.float()}

    def progress(self) -> Dict[str, str]:
        return {"alive": f"{int(self.alive.sum())}/{self.S}"}

    def rows(self, step: int, lr_d: float, lr_g: float, values: List[List[float]]) -> List[Dict[str, Any]]:
        """One history row per member for one step's statistics (``values``: per member, in ``stat_names`` order)."""
        epoch = (step - 1) // self.steps_per_epoch + 1
        return [{"member": s, "seed": self.seeds[s], "step": step, "epoch": epoch, **dict(zip(self.stat_names, vals)),
                 "lr_d": lr_d, "lr_g": lr_g, "alive": bool(vals[-1])} for s, vals in enumerate(values)]

    def summary(self) -> List[Dict[str, Any]]:
        """One dict per member: ``member``, ``seed``, ``finished`` (never froze), and for a frozen
        member the ``failed_step`` and ``failed_loss`` (``"d_loss"`` or ``"g_loss"``)."""
        failed = self._failed.tolist()
        return [{"member": s, "seed": seed, "finished": not step, "failed_step": step or None,
                 "failed_loss": _FAILED.get(which)} for s, (seed, (step, which)) in enumerate(zip(self.seeds, failed))]

    @torch.no_grad()
    def sample(self, z: Optional[Tensor] = None, n: int = 64, ema: bool = True) -> Tensor:
        """Samples ``(S, n, d)`` of every member's generator (eval mode) for noise ``z`` ``(S, n, latent)``
        (default: ``n`` fresh draws of the global generator), on the CPU; from the averaged generators
        when ``config.ema_decay`` keeps them, unless ``ema=False``."""
        G = self.ema.module if ema and self.ema is not None else self.G
        was = G.training
        G.eval()
        try:
            z = torch.stack([G.sample_noise(n, device=self.device) for _ in range(self.S)]) if z is None else z
            return G(z.to(self.device)).float().cpu()
        finally:
            G.train(was)

    def member(self, s: int, ema: bool = False) -> Tuple[nn.Module, nn.Module]:
        """Member ``s``'s ``(G, D)`` as ordinary modules (copies), e.g. for
        :func:`ganlib.theory.discriminator_curve`; ``ema=True``: its averaged generator."""
        G = self.ema.module if ema and self.ema is not None else self.G
        return G.unstack(s), self.D.unstack(s)

    # ----------------------------------------------------------------------------- checkpoints
    def state_dict(self) -> Dict[str, Any]:
        """Everything needed to resume bit-identically (``weights_only``-safe); no side effects."""
        return {**self._loop_state(), "seeds": list(self.seeds), "rng": get_rng_state(),
                "rngs": [g.get_state() for g in self.rngs], "alive": self.alive.cpu(), "failed": self._failed.cpu()}

    def load_state_dict(self, state: Dict[str, Any]) -> None:
        """Restore from :meth:`state_dict`."""
        if list(state["seeds"]) != self.seeds:
            raise ValueError(f"checkpoint is for seeds {state['seeds']}, this ensemble has {self.seeds}")
        self._load_loop_state(state)
        self.alive, self._failed = state["alive"].to(self.device), state["failed"].to(self.device)
        set_rng_state(state["rng"])
        for g, st in zip(self.rngs, state["rngs"]):
            g.set_state(st.cpu())
