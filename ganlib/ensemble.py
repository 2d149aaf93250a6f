r"""Many games at once: Algorithm 1 for S independent seeds in one vectorised loop.

:class:`EnsembleTrainer` trains S generator/discriminator pairs whose weights are stacked along a
leading member axis (:mod:`ganlib.stacked`): one forward and one backward per player per update
serve every member. It has the shape of :class:`ganlib.train.Trainer` (the same
:class:`~ganlib.config.TrainConfig`, losses by name with their penalty and clipping hooks, ``k``
updates of :math:`D` per update of :math:`G`, callbacks, snapshots, bit-identical checkpoints),
and member :math:`s` reproduces the single run of seed ``seeds[s]``: its own initial weights, its
own :class:`torch.Generator` for minibatches and noise, drawn in the same order as the
:class:`~ganlib.train.Trainer` draws them. Members share no statistic: each loss is a mean over
the member's own batch (the registered loss functions are mapped over members with
:func:`torch.vmap`), and the optimiser's moments are elementwise.

Fault isolation: a member whose loss turns non-finite is frozen (its updates are rejected from
that step on) while the others train on; :meth:`EnsembleTrainer.summary` says which members
finished and where the others stopped. The check runs on the device, with no host
synchronisation; the history is read back every ``log_every`` steps as in the single loop.
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

import torch
from torch import Tensor, nn

from ganlib.checkpoint import get_rng_state, load_checkpoint, save_checkpoint, set_rng_state
from ganlib.config import TrainConfig
from ganlib.layers import mixes_samples
from ganlib.optim import clear_grads, make_optimizers
from ganlib.registry import get_loss
from ganlib.runtime import resolve_device, seed_everything
from ganlib.stacked import stack_players
from ganlib.train import EVENTS, HISTORY_COLUMNS

__all__ = ["EnsembleTrainer", "ENSEMBLE_COLUMNS"]

#: Columns of the ensemble's history (long format: one row per step and member);
#: ``alive`` is False from the step at which the member's loss turned non-finite.
ENSEMBLE_COLUMNS = ("member", "seed", *HISTORY_COLUMNS, "alive")
_STATS = ("d_loss", "g_loss", "value", "d_real", "d_fake")
_FAILED = {1: "d_loss", 2: "g_loss"}


class EnsembleTrainer:
    """Trains ``len(seeds)`` independent games with Algorithm 1 in one loop (see the module docstring).

    Args:
        config: a :class:`ganlib.config.TrainConfig` (its ``seed`` is replaced by each member's).
        players: function of no arguments returning a fresh ``(G, D)`` pair; called once per
            member, after seeding Python, NumPy and PyTorch with that member's seed.
        data: training samples, a tensor ``(N, d)`` or an object with ``.images``, shared by all.
        seeds: one seed per member (default ``config.seed, config.seed + 1, ...``, ``members`` of them).
        members: number of members when ``seeds`` is not given.

    Attributes:
        G: the stacked generators (:class:`ganlib.stacked.StackedGenerator`).
        D: the stacked discriminators (:class:`ganlib.stacked.StackedDiscriminator`).
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
        self.config, self.seeds, self.loss = config, seeds, get_loss(config.loss)
        self.device = resolve_device(config.device)
        data = getattr(data, "images", data)
        if not isinstance(data, Tensor) or data.dim() != 2:
            raise ValueError("data must be a tensor (N, d) or have an .images tensor of that shape")
        if config.batch_size > len(data):
            raise ValueError(f"batch_size {config.batch_size} is larger than the dataset ({len(data)} samples)")
        self.data = data.to(self.device, torch.float32).contiguous()
        pairs = []
        for s in seeds:
            seed_everything(s)
            pairs.append(players())
        self.G, self.D = (m.to(self.device) for m in stack_players(pairs))
        self.S = len(seeds)
        self.steps_per_epoch = max(1, len(self.data) // (config.batch_size * config.k))
        self.total_steps = config.max_steps if config.max_steps is not None else config.epochs * self.steps_per_epoch
        self.optim_d, self.optim_g = make_optimizers(config, self.G, self.D, self.total_steps, self.steps_per_epoch)
        self.rngs = [torch.Generator(device=self.device).manual_seed(s) for s in seeds]
        self.fixed_noise = self.G.sample_members(config.n_snapshot, self.rngs, device=self.device)
        self.step, self._perm, self._pos = 0, None, 0
        self.history: Dict[str, List[Any]] = {c: [] for c in ENSEMBLE_COLUMNS}
        self.snapshots: List[Tuple[int, Tensor]] = []
        self.callbacks: Dict[str, List[Callable]] = {e: [] for e in EVENTS}
        self.alive = torch.ones(self.S, dtype=torch.bool, device=self.device)
        self._failed = torch.zeros(self.S, 2, dtype=torch.long, device=self.device)  # (step, which loss)
        self._first = torch.tensor([True, False], device=self.device)  # column 0 of _failed
        self._pending: List[Tuple[int, Any, Any]] = []
        self._buf = torch.zeros(config.log_every, self.S, len(_STATS) + 1, device=self.device)
        self._d_params = [p for p in self.D.parameters() if p.requires_grad]
        self._fuse = not mixes_samples(self.D)
        self._kept_fakes: Optional[Tensor] = None
        self.wall_time, self.throughput = float("nan"), float("nan")

    # ------------------------------------------------------------------------------ callbacks
    def add_callback(self, event: str, fn: Callable[["EnsembleTrainer"], None]) -> "EnsembleTrainer":
        """Call ``fn(trainer)`` on ``event`` (one of :data:`ganlib.train.EVENTS`); returns self."""
        if event not in self.callbacks:
            raise ValueError(f"unknown event {event!r}; valid: {', '.join(EVENTS)}")
        self.callbacks[event].append(fn)
        return self

    def _fire(self, event: str) -> None:
        for fn in self.callbacks[event]:
            fn(self)

    @property
    def epoch(self) -> int:
        """Number of completed epochs."""
        return self.step // self.steps_per_epoch

    # ------------------------------------------------------------------------------ Algorithm 1
    def _autocast(self):
        return torch.autocast(self.device.type, dtype=torch.bfloat16) if self.config.bf16 else contextlib.nullcontext()

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

    def _masked_step(self, optimizer: torch.optim.Optimizer) -> None:
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
        """Freeze the members whose ``loss`` (S,) is non-finite, remembering step and loss."""
        bad = self.alive & ~torch.isfinite(loss.detach())
        self._failed.masked_fill_(bad.unsqueeze(1) & self._first, self.step + 1)
        self._failed.masked_fill_(bad.unsqueeze(1) & ~self._first, which)
        self.alive &= ~bad

    def _d_step(self, keep_fakes: bool = False) -> Tensor:
        x = self._real_batch()
        z = self.G.sample_members(x.shape[1], self.rngs, device=self.device)
        with self._autocast():
            with torch.set_grad_enabled(keep_fakes):
                fake = self.G(z)
            if keep_fakes:
                self._kept_fakes, fake = fake, fake.detach()
            fake = fake.to(x.dtype)
            if self._fuse:
                logits = self.D(torch.cat([x, fake], dim=1)).float()
                real_l, fake_l = logits[:, : x.shape[1]], logits[:, x.shape[1] :]
            else:
                real_l, fake_l = self.D(x).float(), self.D(fake).float()
            stats = self.loss.member_objectives(self.D, x, fake, real_l, fake_l, rand=self._uniform)
        d_loss = stats[:, 0]
        self._fail(d_loss, 1)
        opt, sched = self.optim_d
        clear_grads(opt)
        d_loss.sum().backward()
        self._masked_step(opt)
        self.loss.after_discriminator_update(self._d_params)
        if sched is not None:
            sched.step()
        return stats.detach()

    def _g_step(self) -> Tensor:
        for p in self._d_params:
            p.requires_grad_(False)
        opt, sched = self.optim_g
        try:
            fake, self._kept_fakes = self._kept_fakes, None
            with self._autocast():
                if fake is None:
                    fake = self.G(self.G.sample_members(self.config.batch_size, self.rngs, device=self.device))
                g_loss = torch.vmap(self.loss.generator)(self.D(fake).float())
            self._fail(g_loss, 2)
            clear_grads(opt)
            g_loss.sum().backward()
            self._masked_step(opt)
        finally:
            for p in self._d_params:
                p.requires_grad_(True)
        if sched is not None:
            sched.step()
        return g_loss.detach()

    def train_step(self) -> None:
        """One iteration of Algorithm 1 for every member: ``k`` updates of D, then one of G."""
        k, reuse = self.config.k, self.config.reuse_fakes
        d_stats = self._d_step(keep_fakes=reuse and k == 1)
        for i in range(k - 1):
            d_stats = d_stats + self._d_step(keep_fakes=reuse and i == k - 2)
        if k > 1:
            d_stats = d_stats / k
        g_loss = self._g_step()
        row = self._buf[len(self._pending)]
        torch.cat([d_stats[:, :1], g_loss.view(-1, 1), d_stats[:, 1:], self.alive.view(-1, 1).float()], dim=1, out=row)
        self.step += 1
        self._pending.append((self.step, self.optim_d.optimizer.param_groups[0]["lr"],
                              self.optim_g.optimizer.param_groups[0]["lr"]))

    def flush(self) -> None:
        """Read the buffered statistics (one host sync), append them to ``history``, fire ``on_log``."""
        if not self._pending:
            return
        rows = self._buf[: len(self._pending)].tolist()
        pending, self._pending = self._pending, []
        for (step, lr_d, lr_g), per_member in zip(pending, rows):
            epoch = (step - 1) // self.steps_per_epoch + 1
            for s, vals in enumerate(per_member):
                row = {"member": s, "seed": self.seeds[s], "step": step, "epoch": epoch, **dict(zip(_STATS, vals)),
                       "lr_d": float(lr_d), "lr_g": float(lr_g), "alive": bool(vals[-1])}
                for c in ENSEMBLE_COLUMNS:
                    self.history[c].append(row[c])
        self._fire("on_log")

    def summary(self) -> List[Dict[str, Any]]:
        """One dict per member: ``member``, ``seed``, ``finished`` (never froze), and for a frozen
        member the ``failed_step`` and ``failed_loss`` (``"d_loss"`` or ``"g_loss"``)."""
        failed = self._failed.tolist()
        return [{"member": s, "seed": seed, "finished": not step, "failed_step": step or None,
                 "failed_loss": _FAILED.get(which)} for s, (seed, (step, which)) in enumerate(zip(self.seeds, failed))]

    @torch.no_grad()
    def sample(self, z: Optional[Tensor] = None, n: int = 64) -> Tensor:
        """Samples ``(S, n, d)`` of every member's generator (eval mode) for noise ``z`` ``(S, n, latent)``
        (default: ``n`` fresh draws of the global generator), on the CPU."""
        was = self.G.training
        self.G.eval()
        try:
            z = torch.stack([self.G.sample_noise(n, device=self.device) for _ in range(self.S)]) if z is None else z
            return self.G(z.to(self.device)).float().cpu()
        finally:
            self.G.train(was)

    def member(self, s: int) -> Tuple[nn.Module, nn.Module]:
        """Member ``s``'s ``(G, D)`` as ordinary modules (copies), e.g. for
        :func:`ganlib.theory.discriminator_curve`."""
        return self.G.unstack(s), self.D.unstack(s)

    def snapshot(self) -> None:
        """Record every member's G(fixed_noise) in ``snapshots`` and fire ``on_snapshot``."""
        self.snapshots.append((self.step, self.sample(self.fixed_noise)))
        self._fire("on_snapshot")

    def _due(self, every: int, epoch_end: bool) -> bool:
        return (every == 0 and epoch_end) or (every > 0 and self.step % every == 0)

    def run(self, steps: Optional[int] = None) -> Dict[str, List[Any]]:
        """Train until ``total_steps`` (or ``steps`` more); returns ``history``."""
        cfg = self.config
        end = self.total_steps if steps is None else self.step + steps
        snapshots = cfg.snapshot_every >= 0
        if self.step == 0 and snapshots and not self.snapshots:
            self.snapshot()
        self._fire("on_train_start")
        t0, s0 = time.perf_counter(), self.step
        while self.step < end:
            self.train_step()
            epoch_end = self.step % self.steps_per_epoch == 0
            ckpt = cfg.out_dir is not None and cfg.checkpoint_every >= 0 and (
                self._due(cfg.checkpoint_every, epoch_end) or self.step == end)
            if len(self._pending) == cfg.log_every or ckpt or self.step == end:
                self.flush()
            self._fire("on_step_end")
            if snapshots and self._due(cfg.snapshot_every, epoch_end):
                self.snapshot()
            if epoch_end:
                self._fire("on_epoch_end")
            if ckpt:
                self.save_checkpoint(Path(cfg.out_dir) / "checkpoint.pt")
        self.flush()
        if self.step == self.total_steps and snapshots and (not self.snapshots or self.snapshots[-1][0] != self.step):
            self.snapshot()
        self.wall_time = time.perf_counter() - t0
        self.throughput = (self.step - s0) * self.S / self.wall_time if self.wall_time > 0 else float("nan")
        return self.history

    # ----------------------------------------------------------------------------- checkpoints
    def state_dict(self) -> Dict[str, Any]:
        """Everything needed to resume bit-identically (``weights_only``-safe); no side effects."""
        pair = lambda p: {"optimizer": p.optimizer.state_dict(),  # noqa: E731
                          "scheduler": p.scheduler.state_dict() if p.scheduler is not None else None}
        return {
            "config": self.config.to_dict(), "seeds": list(self.seeds), "step": self.step,
            "generator": self.G.state_dict(), "discriminator": self.D.state_dict(),
            "optim_d": pair(self.optim_d), "optim_g": pair(self.optim_g),
            "rng": get_rng_state(), "rngs": [g.get_state() for g in self.rngs],
            "perm": self._perm.cpu() if self._perm is not None else None, "pos": self._pos,
            "fixed_noise": self.fixed_noise.cpu(), "alive": self.alive.cpu(), "failed": self._failed.cpu(),
            "history": {k: list(v) for k, v in self.history.items()},
            "pending": [list(p) for p in self._pending], "pending_stats": self._buf[: len(self._pending)].cpu(),
            "snapshots": [(s, x) for s, x in self.snapshots],
        }

    def load_state_dict(self, state: Dict[str, Any]) -> None:
        """Restore from :meth:`state_dict`."""
        if list(state["seeds"]) != self.seeds:
            raise ValueError(f"checkpoint is for seeds {state['seeds']}, this ensemble has {self.seeds}")
        self.G.load_state_dict(state["generator"])
        self.D.load_state_dict(state["discriminator"])
        for pair, key in ((self.optim_d, "optim_d"), (self.optim_g, "optim_g")):
            pair.optimizer.load_state_dict(state[key]["optimizer"])
            if pair.scheduler is not None and state[key]["scheduler"] is not None:
                pair.scheduler.load_state_dict(state[key]["scheduler"])
        self.step, self._pos = int(state["step"]), int(state["pos"])
        self._perm = state["perm"].to(self.device) if state["perm"] is not None else None
        self.fixed_noise = state["fixed_noise"].to(self.device)
        self.alive, self._failed = state["alive"].to(self.device), state["failed"].to(self.device)
        self.history = {k: list(state["history"].get(k, [])) for k in ENSEMBLE_COLUMNS}
        self._pending = [(int(s), lr_d, lr_g) for s, lr_d, lr_g in state["pending"]]
        self._buf[: len(self._pending)] = state["pending_stats"].to(self.device)
        self.snapshots = [(int(s), x.float().cpu()) for s, x in state["snapshots"]]
        set_rng_state(state["rng"])
        for g, st in zip(self.rngs, state["rngs"]):
            g.set_state(st.cpu())

    def save_checkpoint(self, path: Union[str, Path]) -> Path:
        """Read back the pending statistics, then write :meth:`state_dict` atomically to ``path``."""
        self.flush()
        path = save_checkpoint(self.state_dict(), path)
        self._fire("on_checkpoint")
        return path

    def load_checkpoint(self, path: Union[str, Path]) -> "EnsembleTrainer":
        """Resume from a checkpoint written by :meth:`save_checkpoint` (``weights_only=True``)."""
        self.load_state_dict(load_checkpoint(path, map_location=self.device))
        return self
