r"""The training loop: Algorithm 1 of Goodfellow et al. (2014), minGPT style.

.. math::

    &\textbf{for } \text{number of training iterations} \textbf{ do}\\
    &\quad \textbf{for } k \text{ steps} \textbf{ do}\\
    &\qquad \text{sample } \{z^{(1)},\dots,z^{(m)}\} \sim p_g(z),\;
            \{x^{(1)},\dots,x^{(m)}\} \sim p_{data}(x)\\
    &\qquad \text{update } D \text{ by ascending }
            \nabla_{\theta_d} \frac1m \sum_{i=1}^m
            \big[\log D(x^{(i)}) + \log(1 - D(G(z^{(i)})))\big]\\
    &\quad \textbf{end for}\\
    &\quad \text{sample } \{z^{(1)},\dots,z^{(m)}\} \sim p_g(z)\\
    &\quad \text{update } G \text{ by descending }
            \nabla_{\theta_g} \frac1m \sum_{i=1}^m \log(1 - D(G(z^{(i)})))
            \quad\text{(or by the loss named in the config)}\\
    &\textbf{end for} \qquad\qquad \text{(Algorithm 1)}

:class:`Loop` is Algorithm 1 written once (k updates of :math:`D`, one of :math:`G`, callbacks,
snapshots, checkpoints, timing); :class:`Trainer` runs it for one game,
:class:`ganlib.engine.ensemble.EnsembleTrainer` for S games stacked along a member axis. The loop knows no
loss by name: :meth:`~ganlib.game.registry.GANLoss.discriminator_objective` adds a penalty such as
WGAN-GP's, :meth:`~ganlib.game.registry.GANLoss.after_discriminator_update` does WGAN's clipping.
Optimisers come as pairs (:class:`ganlib.engine.optim.OptimizerPair`), by default from
:func:`ganlib.engine.optim.make_optimizers`; ``ema_decay`` keeps an average of :math:`G`'s weights
(:class:`ganlib.engine.optim.GeneratorEMA`). Grids, GIFs and plots hang on callbacks
(:meth:`Loop.add_callback`) that call into :mod:`ganlib.viz`.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

import torch
from torch import Tensor, nn

from ganlib.engine.contract import float_dtype, players_fit, training_data
from ganlib.engine.checkpoint import get_rng_state, load_checkpoint, save_checkpoint, set_rng_state
from ganlib.engine.config import TrainConfig
from ganlib.engine.distributed import Shard
from ganlib.nets.layers import mixes_samples
from ganlib.game.registry import get_loss
from ganlib.engine.optim import GeneratorEMA, check_pairs, clear_grads, make_optimizers
from ganlib.engine.precision import Precision
from ganlib.game.losses import at_least_float32
from ganlib.engine.runtime import resolve_device, seed_everything

__all__ = ["Loop", "Trainer", "NonFiniteLossError", "STAT_COLUMNS", "HISTORY_COLUMNS", "EVENTS"]

#: The statistics recorded every step as means over the batch and the k D updates, namely d_loss,
#: g_loss, value (V(G, D) of Eq. 1; for critics the loss's own ``value``, the W1 estimate), d_real
#: and d_fake (mean D(x) and D(G(z)); mean raw scores for critics, see :class:`ganlib.game.registry.GANLoss`).
STAT_COLUMNS = ("d_loss", "g_loss", "value", "d_real", "d_fake")
#: Columns of :attr:`Trainer.history` (``pandas.DataFrame(trainer.history)``), one row per step.
HISTORY_COLUMNS = ("step", "epoch", *STAT_COLUMNS, "lr_d", "lr_g")
#: Callback events, each called as ``fn(trainer)``: before the first step of :meth:`Trainer.run`, after every
#: step, after each host read of the statistics, after each snapshot, at each epoch's end, after each checkpoint.
EVENTS = ("on_train_start", "on_step_end", "on_log", "on_snapshot", "on_epoch_end", "on_checkpoint")


class NonFiniteLossError(FloatingPointError):
    """A loss became NaN or inf; the message names the first bad step and the last good checkpoint."""


class Loop:
    """Algorithm 1 around the players, shared by :class:`Trainer` and
    :class:`ganlib.engine.ensemble.EnsembleTrainer`: ``k`` updates of :math:`D`, then one of :math:`G`,
    callbacks, snapshots, checkpoints and timing.

    A subclass sets the players, data, optimizer pairs and ``_g`` / ``_d`` (the players' forwards),
    calls ``_plan()`` and ``_begin()``, and provides the hooks ``_real_batch``, ``_noise``,
    ``_d_objective`` / ``_g_objective`` (what to back-propagate, and the statistics to keep),
    ``_optimizer_step``, ``_record``, ``flush``, ``snapshot``, ``state_dict``.
    """

    _cat_dim = 0

    def _plan(self) -> None:
        """Steps per epoch (one pass of D over the data) and the run's length in steps."""
        c = self.config
        self.steps_per_epoch = max(1, len(self.data) // (c.batch_size * c.k))
        self.total_steps = c.max_steps if c.max_steps is not None else c.epochs * self.steps_per_epoch

    def _begin(self, columns: Sequence[str], stats_shape: Tuple[int, ...], work_per_step: int) -> None:
        """The state of a run not yet started: history, callbacks, the statistics buffer, timing."""
        self.step, self._perm, self._pos = 0, None, 0
        self.history: Dict[str, List[Any]] = {c: [] for c in columns}
        self.snapshots: List[Tuple[int, Tensor]] = []
        self.callbacks: Dict[str, List[Callable]] = {e: [] for e in EVENTS}
        self._pending: List[Tuple[int, Any, Any]] = []  # (step, lr_d, lr_g) not yet read back
        self._buf = torch.zeros(self.config.log_every, *stats_shape, device=self.device)
        self._d_params = [p for p in self.D.parameters() if p.requires_grad]
        # one D forward on [x; G(z)] unless D would mix the real and the generated half
        self._fuse = not mixes_samples(self.D, self.shard.local)
        self._kept_fakes: Optional[Tensor] = None  # G(z) of the last D update, when reuse_fakes
        self.last_checkpoint: Optional[Path] = None
        self.wall_time, self.throughput = float("nan"), float("nan")
        self._work_per_step = work_per_step  # what one step trains on, for throughput
        self.precision = Precision(self.config.amp, self.device)  # autocast; fp16: a gradient scaler per player
        self.ema = GeneratorEMA(self.G, self.config.ema_decay) if self.config.ema_decay is not None else None

    def add_callback(self, event: str, fn: Callable[[Any], None]) -> "Loop":
        """Call ``fn(trainer)`` on ``event`` (one of :data:`EVENTS`); returns self."""
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

    def _d_pair(self, x: Tensor, fake: Tensor) -> Tuple[Tensor, Tensor]:
        """D on the real and the generated batch separately (a D that mixes samples, e.g. batch norm)."""
        return self._d(x), self._d(fake)

    def _d_step(self, keep_fakes: bool = False) -> Tensor:
        """One D update; returns its statistics (on device). ``keep_fakes``: keep G(z) with its
        graph for the G update (``reuse_fakes``)."""
        x = self._real_batch()
        n = x.shape[self._cat_dim]
        z = self._noise(n)
        with self.precision.autocast():
            with torch.set_grad_enabled(keep_fakes):
                fake = self._g(z)
            if keep_fakes:
                self._kept_fakes, fake = fake, fake.detach()
            fake = fake.to(x.dtype)
            if self._fuse:
                logits = at_least_float32(self._d(torch.cat([x, fake], dim=self._cat_dim)))
                real_l, fake_l = logits.narrow(self._cat_dim, 0, n), logits.narrow(self._cat_dim, n, n)
            else:
                real_l, fake_l = (at_least_float32(t) for t in self._d_pair(x, fake))
            d_loss, stats = self._d_objective(x, fake, real_l, fake_l)
        opt, sched = self.optim_d
        clear_grads(opt)
        self.precision.backward(d_loss, "d")
        self.precision.step(opt, "d", self._optimizer_step)
        self.loss.after_discriminator_update(self._d_params)
        self.precision.schedule(sched)
        return stats

    def _g_step(self) -> Tensor:
        """One generator update on fresh noise through the updated D; returns G's loss."""
        for p in self._d_params:  # D is fixed here: skip its weight gradients
            p.requires_grad_(False)
        opt, sched = self.optim_g
        try:
            fake, self._kept_fakes = self._kept_fakes, None
            with self.precision.autocast():
                if fake is None:
                    fake = self._g(self._noise(self.shard.local))
                g_loss, stats = self._g_objective(at_least_float32(self._d_frozen(fake)))
            clear_grads(opt)
            self.precision.backward(g_loss, "g")
            self.precision.step(opt, "g", self._optimizer_step)
            if self.ema is not None:
                self.ema.update(self.G)
        finally:
            for p in self._d_params:
                p.requires_grad_(True)
        self.precision.schedule(sched)
        return stats

    def train_step(self) -> None:
        r"""One iteration of Algorithm 1: ``k`` updates of :math:`D`, then one of :math:`G`.

        Each :math:`D` update draws a fresh minibatch :math:`x^{(1..m)}` and noise :math:`z^{(1..m)}`
        and descends the loss's objective (for the paper's losses
        :math:`-\tfrac1m\sum_i [\log D(x^{(i)}) + \log(1 - D(G(z^{(i)})))]`: it ascends Algorithm 1's
        gradient). The :math:`G` update draws *new* noise through the *updated*, frozen :math:`D`,
        descending :math:`\tfrac1m\sum_i \log(1 - D(G(z^{(i)})))` (Eq. 1) or
        :math:`-\tfrac1m\sum_i \log D(G(z^{(i)}))` (Section 3). Statistics (mean over the ``k``
        updates of D) go to a device buffer: no host sync. With ``reuse_fakes`` the G update reuses
        the last D update's :math:`G(z^{(i)})` (the textbook loop's shortcut, not Algorithm 1).
        """
        k, reuse = self.config.k, self.config.reuse_fakes
        d_stats = self._d_step(keep_fakes=reuse and k == 1)
        for i in range(k - 1):
            d_stats = d_stats + self._d_step(keep_fakes=reuse and i == k - 2)
        if k > 1:
            d_stats = d_stats / k
        self._record(d_stats, self._g_step())
        self.step += 1
        self._pending.append((self.step, self.optim_d.optimizer.param_groups[0]["lr"],
                              self.optim_g.optimizer.param_groups[0]["lr"]))

    def _due(self, every: int, epoch_end: bool) -> bool:
        return (every == 0 and epoch_end) or (every > 0 and self.step % every == 0)

    def run(self, steps: Optional[int] = None) -> Dict[str, List[Any]]:
        """Train until ``total_steps`` (or ``steps`` more); returns ``history`` (dict of lists)."""
        from tqdm.auto import tqdm

        cfg = self.config
        end = self.total_steps if steps is None else self.step + steps
        snapshots = cfg.snapshot_every >= 0
        if self.step == 0 and snapshots and not self.snapshots:
            self.snapshot()
        self._fire("on_train_start")
        bar = tqdm(total=end, initial=self.step, disable=not (cfg.progress and self.shard.main), desc="train", unit="step")
        t0, s0 = time.perf_counter(), self.step
        try:
            while self.step < end:
                self.train_step()
                epoch_end = self.step % self.steps_per_epoch == 0
                ckpt = cfg.out_dir is not None and cfg.checkpoint_every >= 0 and (
                    self._due(cfg.checkpoint_every, epoch_end) or self.step == end)
                if len(self._pending) == cfg.log_every or ckpt or self.step == end:
                    self.flush()
                    bar.set_postfix(self._progress(), refresh=False)
                bar.update(1)
                self._fire("on_step_end")
                if snapshots and self._due(cfg.snapshot_every, epoch_end):
                    self.snapshot()
                if epoch_end:
                    self._fire("on_epoch_end")
                if ckpt:
                    self.save_checkpoint(Path(cfg.out_dir) / "checkpoint.pt")
            self.flush()
            if self.step == self.total_steps and snapshots and (not self.snapshots or self.snapshots[-1][0] != self.step):
                self.snapshot()  # the final state always ends the sample evolution
        finally:
            bar.close()
        self.wall_time = time.perf_counter() - t0
        self.throughput = (self.step - s0) * self._work_per_step / self.wall_time if self.wall_time > 0 else float("nan")
        return self.history

    # ----------------------------------------------------------------------------- checkpoints
    def _loop_state(self) -> Dict[str, Any]:
        """The part of :meth:`state_dict` every loop has: players, optimizer pairs, position, history."""
        pair = lambda p: {"optimizer": p.optimizer.state_dict(),  # noqa: E731
                          "scheduler": p.scheduler.state_dict() if p.scheduler is not None else None}
        return {
            "config": self.config.to_dict(), "step": self.step,
            "generator": self.G.state_dict(), "discriminator": self.D.state_dict(),
            "optim_d": pair(self.optim_d), "optim_g": pair(self.optim_g),
            "perm": self._perm.cpu() if self._perm is not None else None, "pos": self._pos,
            "fixed_noise": self.fixed_noise.cpu(),
            "history": {k: list(v) for k, v in self.history.items()},
            "pending": [list(p) for p in self._pending], "pending_stats": self._buf[: len(self._pending)].cpu(),
            "snapshots": [(s, x) for s, x in self.snapshots], "scalers": self.precision.state_dict(),
            "generator_ema": self.ema.state_dict() if self.ema is not None else None,
        }

    def _load_loop_state(self, state: Dict[str, Any], columns: Sequence[str]) -> None:
        self.G.load_state_dict(state["generator"])
        self.D.load_state_dict(state["discriminator"])
        for pair, key in ((self.optim_d, "optim_d"), (self.optim_g, "optim_g")):
            pair.optimizer.load_state_dict(state[key]["optimizer"])
            if pair.scheduler is not None and state[key]["scheduler"] is not None:
                pair.scheduler.load_state_dict(state[key]["scheduler"])
        self.step, self._pos = int(state["step"]), int(state["pos"])
        self._perm = state["perm"].to(self.device) if state["perm"] is not None else None
        self.fixed_noise = state["fixed_noise"].to(self.device)
        self.history = {k: list(state["history"].get(k, [])) for k in columns}
        self._pending = [(int(s), lr_d, lr_g) for s, lr_d, lr_g in state["pending"]]
        self._buf[: len(self._pending)] = state["pending_stats"].to(self.device)
        self.snapshots = [(int(s), x.float().cpu()) for s, x in state["snapshots"]]
        self.precision.load_state_dict(state.get("scalers"))
        if self.ema is not None and state.get("generator_ema") is not None:
            self.ema.load_state_dict(state["generator_ema"])

    def save_checkpoint(self, path: Union[str, Path]) -> Path:
        """Read back the pending statistics (``flush()``, so a checkpoint never follows a NaN loss),
        write ``state_dict()`` atomically to ``path`` and fire ``on_checkpoint``."""
        self.flush()
        state = self.state_dict()  # on every rank: under a process group it gathers the ranks' generators
        self.last_checkpoint = save_checkpoint(state, path) if self.shard.main else Path(path)
        self.shard.barrier()  # no rank reads it back before rank 0 has written it
        self._fire("on_checkpoint")
        return self.last_checkpoint

    def load_checkpoint(self, path: Union[str, Path]) -> "Loop":
        """Resume from a checkpoint written by :meth:`save_checkpoint` (``weights_only=True``)."""
        self.load_state_dict(load_checkpoint(path, map_location=self.device))
        self.last_checkpoint = Path(path)
        return self


class Trainer(Loop):
    """Trains a generator/discriminator pair with Algorithm 1 (see the module docstring).

    Args:
        config: a :class:`ganlib.engine.config.TrainConfig`.
        generator: module with ``latent_dim`` and ``sample_noise(n, generator, device)``.
        discriminator: module returning logits ``(N,)``.
        data: training samples, a tensor ``(N, ...)`` or an object with ``.images``.
        optimizers: ``(for D, for G)``, two :class:`ganlib.engine.optim.OptimizerPair` (optimiser,
            scheduler or ``None``); default :func:`ganlib.engine.optim.make_optimizers` from the config.
        meta: extra plain data saved in checkpoints (e.g. how to rebuild the models).

    Seeds python/numpy/torch with ``config.seed`` and validates everything (config values, batch
    size vs data, optimizer pairs, G's output vs D's input with one forward on 2 samples) before
    any step runs. Callbacks read the attributes below and :attr:`Loop.epoch`.

    Attributes:
        step: number of completed steps.
        history: dict of lists, one per column of :data:`HISTORY_COLUMNS`.
        last_log: the latest row of statistics.
        snapshots: list of ``(step, samples)``.
        fixed_noise: the noise of the snapshot grids.
        rng: the :class:`torch.Generator` of minibatches and noise (not to be confused with ``G``).
        wall_time: after :meth:`run`, its duration in seconds.
        throughput: after :meth:`run`, real images per second.
        precision: the :class:`ganlib.engine.precision.Precision` (autocast, float16's gradient scalers).
    """

    def __init__(self, config: TrainConfig, generator: nn.Module, discriminator: nn.Module, data: Union[Tensor, Any],
                 optimizers: Optional[Sequence[Any]] = None, meta: Optional[Dict[str, Any]] = None) -> None:
        config.validate()
        self.config, self.meta = config, dict(meta or {})
        self.loss = get_loss(config.loss, **config.loss_kwargs)
        self.shard = Shard(config.batch_size, resolve_device(config.device))  # this process's part of the batch
        self.device = self.shard.device
        seed_everything(config.seed)
        self.shard.reseed(config.seed)
        self.data = training_data(data, config.batch_size).to(self.device, float_dtype(generator)).contiguous()
        self.G, self.D = generator.to(self.device), discriminator.to(self.device)
        players_fit(self.G, self.D, self.data, self.device, self.shard.local)
        self._plan()
        if optimizers is None:
            optimizers = make_optimizers(config, self.G, self.D, self.total_steps, self.steps_per_epoch)
        self.optim_d, self.optim_g = check_pairs(optimizers, self.D, self.G)
        self.rng = torch.Generator(device=self.device).manual_seed(config.seed)
        self.fixed_noise = self.G.sample_noise(config.n_snapshot, generator=self.rng, device=self.device)
        self._begin(HISTORY_COLUMNS, (len(STAT_COLUMNS),), work_per_step=config.batch_size * config.k)  # images
        self.last_log: Dict[str, float] = {}
        compiled = [torch.compile(m) if config.compile else m for m in (self.G, self.D)]
        self._g, self._d, self._d_frozen, self._d_pair = self.shard.players(*compiled, fuse=self._fuse)

    # ------------------------------------------------------------------------------ Algorithm 1
    def _real_batch(self) -> Tensor:
        m = self.config.batch_size
        if self._perm is None or self._pos + m > len(self._perm):
            self._perm, self._pos = torch.randperm(len(self.data), generator=self.rng, device=self.device), 0
        idx = self._perm[self._pos : self._pos + m]
        self._pos += m
        return self.data.index_select(0, self.shard.take(idx))

    def _noise(self, n: int) -> Tensor:  # n per rank: every rank draws the global batch, keeps its rows
        return self.shard.take(self.G.sample_noise(n * self.shard.world, generator=self.rng, device=self.device))

    def _d_objective(self, x: Tensor, fake: Tensor, real_l: Tensor, fake_l: Tensor) -> Tuple[Tensor, Tensor]:
        # uncompiled D for a penalty: it differentiates through D twice
        d_loss = self.loss.discriminator_objective(self.D, x, fake, real_l, fake_l, generator=self.rng,
                                                   grad_scale=self.precision.grad_scale("d"), rand=self.shard.rand(self.rng))
        with torch.no_grad():
            r, f, link = real_l.detach(), fake_l.detach(), self.loss.link
            return d_loss, torch.stack([d_loss.detach(), self.loss.value(r, f), link(r).mean(), link(f).mean()])

    def _g_objective(self, fake_l: Tensor) -> Tuple[Tensor, Tensor]:
        g_loss = self.loss.generator(fake_l)
        return g_loss, g_loss.detach()

    def _optimizer_step(self, optimizer: torch.optim.Optimizer) -> None:
        optimizer.step()

    def _record(self, d_stats: Tensor, g_loss: Tensor) -> None:
        torch.cat([d_stats[:1], g_loss.view(1), d_stats[1:]], out=self._buf[len(self._pending)])  # STAT_COLUMNS

    def _progress(self) -> Dict[str, str]:
        return {k: f"{self.last_log[k]:.3f}" for k in ("d_loss", "g_loss", "d_real", "d_fake")}

    def flush(self) -> None:
        """Read the buffered statistics (one host sync), append them to ``history``, fire
        ``on_log``; raise :class:`NonFiniteLossError` at the first NaN/inf loss. Under float16's
        scalers an inf ``d_loss`` (a penalty's overflowed gradient) is a step the scaler skipped;
        the forward statistics (g_loss, value, d_real, d_fake) must still be finite."""
        if not self._pending:
            return
        rows = self.shard.average_(self._buf[: len(self._pending)]).tolist()  # the mean over ranks
        pending, self._pending = self._pending, []
        checked = slice(1, 5) if self.precision.scalers else slice(0, 3)
        for (step, lr_d, lr_g), vals in zip(pending, rows):
            if not all(math.isfinite(v) for v in vals[checked]):
                where = f"; last good checkpoint: {self.last_checkpoint}" if self.last_checkpoint else ""
                bad = ", ".join(f"{n}={v}" for n, v in zip(STAT_COLUMNS, vals))
                raise NonFiniteLossError(f"non-finite loss at step {step} ({bad}); training stopped{where}")
            row = {"step": step, "epoch": (step - 1) // self.steps_per_epoch + 1, **dict(zip(STAT_COLUMNS, vals)),
                   "lr_d": float(lr_d), "lr_g": float(lr_g)}
            for c in HISTORY_COLUMNS:
                self.history[c].append(row[c])
        self.last_log = row
        self._fire("on_log")

    @torch.no_grad()
    def sample(self, z: Optional[Tensor] = None, n: int = 64, ema: bool = True) -> Tensor:
        """Generator samples (eval mode) for noise ``z`` (default: ``n`` fresh draws), on the CPU; from
        the averaged generator when ``config.ema_decay`` keeps one, unless ``ema=False``."""
        G = self.ema.module if ema and self.ema is not None else self.G
        was = G.training
        G.eval()
        try:
            return G(G.sample_noise(n, device=self.device) if z is None else z.to(self.device)).float().cpu()
        finally:
            G.train(was)

    def snapshot(self) -> None:
        """Record G(fixed_noise) in ``snapshots`` and fire ``on_snapshot``."""
        self.snapshots.append((self.step, self.sample(self.fixed_noise)))
        self._fire("on_snapshot")

    # ----------------------------------------------------------------------------- checkpoints
    def state_dict(self) -> Dict[str, Any]:
        """Everything needed to resume bit-identically, as ``weights_only``-safe plain data.

        No side effects: statistics not yet read back are saved as they are (``pending``)."""
        return {**self._loop_state(), "meta": self.meta, "rng": get_rng_state(self.rng), **self.shard.rng_states(get_rng_state)}

    def load_state_dict(self, state: Dict[str, Any]) -> None:
        """Restore from :meth:`state_dict` (models, optimizer pairs, step, RNGs, history)."""
        self._load_loop_state(state, HISTORY_COLUMNS)
        set_rng_state(state["rng"], self.rng)
        self.shard.load_rng_state(state, set_rng_state, self.config.seed)
