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

:meth:`Loop.train_step` is Algorithm 1 written once, in the lines above: :math:`k` updates of
:math:`D`, one of :math:`G`. :class:`Trainer` runs it for one game,
:class:`ganlib.engine.ensemble.EnsembleTrainer` for S games stacked along a member axis (the same loop,
a vectorised game). Where and how it computes (device, precision, processes, compilation) is the
:class:`~ganlib.engine.accelerator.Accelerator`'s business: ``autocast()``, ``update(loss, pair, player)``.
Everything else is a callback (:mod:`ganlib.engine.callbacks`) with its own checkpoint state: the
moving average of :math:`G`, the history of statistics (by name), the non-finite check, snapshots,
checkpoints, the progress bar; grids, GIFs and plots hang on the same events
(:meth:`Loop.add_callback`) and call into :mod:`ganlib.viz`. The loop knows no loss by name:
:meth:`~ganlib.game.registry.GANLoss.discriminator_objective` adds a penalty such as WGAN-GP's,
:meth:`~ganlib.game.registry.GANLoss.after_discriminator_update` does WGAN's clipping. Optimisers
come as pairs (:class:`ganlib.engine.optim.OptimizerPair`), by default from
:func:`ganlib.engine.optim.make_optimizers`.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

import torch
from torch import Tensor, nn

from ganlib.engine.accelerator import Accelerator
from ganlib.engine.callbacks import (EVENTS, Callback, Checkpoints, FunctionCallback, History, MovingAverage,
                                     NonFiniteCheck, ProgressBar, Snapshots)
from ganlib.engine.callbacks import NonFiniteLossError
from ganlib.engine.checkpoint import get_rng_state, load_checkpoint, save_checkpoint, set_rng_state
from ganlib.engine.config import TrainConfig
from ganlib.engine.contract import float_dtype, players_fit, training_data
from ganlib.engine.optim import check_pairs, make_optimizers
from ganlib.engine.runtime import seed_everything
from ganlib.game.losses import at_least_float32
from ganlib.game.registry import get_loss
from ganlib.nets.layers import mixes_samples

__all__ = ["Loop", "Trainer", "STAT_COLUMNS", "HISTORY_COLUMNS"]

#: The statistics of every step, by name, as means over the batch and the k D updates, namely d_loss,
#: g_loss, value (V(G, D) of Eq. 1; for critics the loss's own ``value``, the W1 estimate), d_real
#: and d_fake (mean D(x) and D(G(z)); mean raw scores for critics, see :class:`ganlib.game.registry.GANLoss`).
STAT_COLUMNS = ("d_loss", "g_loss", "value", "d_real", "d_fake")
#: Columns of :attr:`Trainer.history` (``pandas.DataFrame(trainer.history)``), one row per step.
HISTORY_COLUMNS = ("step", "epoch", *STAT_COLUMNS, "lr_d", "lr_g")


class Loop:
    """Algorithm 1 around the players, shared by :class:`Trainer` and
    :class:`ganlib.engine.ensemble.EnsembleTrainer`.

    A subclass sets ``config``, ``loss``, ``accelerator``, the players ``G`` and ``D``, ``data``, the
    optimizer pairs ``optim_d`` / ``optim_g`` and ``fixed_noise``, calls ``_plan()`` and ``_begin()``,
    and provides the game: ``_real_batch``, ``_noise``, ``_d_objective`` / ``_g_objective`` (what to
    back-propagate, and the statistics by name), ``rows``, ``sample``, ``state_dict``.
    """

    _cat_dim = 0  # the batch axis (1 for stacked members)
    _optimizer_step: Optional[Callable[[torch.optim.Optimizer], None]] = None  # None: optimizer.step()

    def _plan(self) -> None:
        """Steps per epoch (one pass of D over the data) and the run's length in steps."""
        c = self.config
        self.steps_per_epoch = max(1, len(self.data) // (c.batch_size * c.k))
        self.total_steps = c.max_steps if c.max_steps is not None else c.epochs * self.steps_per_epoch

    def _begin(self, columns: Sequence[str], stat_names: Sequence[str], stats_shape: Tuple[int, ...],
               work_per_step: int) -> None:
        """The state of a run not yet started, the players' forwards, and the callbacks the config asks for."""
        cfg, acc = self.config, self.accelerator
        self.shard, self.device, self.precision = acc.shard, acc.device, acc.precision
        self.step, self._perm, self._pos, self.end = 0, None, 0, self.total_steps
        self.stat_names, self.stats_shape, self.stats = tuple(stat_names), stats_shape, {}
        self.last_log: Dict[str, Any] = {}
        self.new_rows: List[Dict[str, Any]] = []
        self.last_checkpoint: Optional[Path] = None
        self.wall_time, self.throughput = float("nan"), float("nan")
        self._work_per_step = work_per_step  # what one step trains on, for throughput
        self._d_params = [p for p in self.D.parameters() if p.requires_grad]
        # one D forward on [x; G(z)] unless D would mix the real and the generated half
        self._fuse = not mixes_samples(self.D, self.shard.local)
        self._g, self._d, self._d_frozen, self._d_apart = acc.prepare(self.G, self.D, fuse=self._fuse)
        self.callbacks: List[Callback] = []
        self.log = History(columns, self.stat_names, cfg.log_every)
        own = [self.log, *self._checks()]
        own += [MovingAverage(cfg.ema_decay)] if cfg.ema_decay is not None else []
        own += [ProgressBar()] if cfg.progress and self.shard.main else []
        own += [Snapshots(cfg.snapshot_every)] if cfg.snapshot_every >= 0 else []
        if cfg.out_dir is not None and cfg.checkpoint_every >= 0:
            own.append(Checkpoints(Path(cfg.out_dir) / "checkpoint.pt", cfg.checkpoint_every))
        for cb in own:
            self.add_callback(cb)

    def _checks(self) -> List[Callback]:
        return [NonFiniteCheck()]

    def add_callback(self, event: Union[str, Callback], fn: Optional[Callable[[Any], None]] = None) -> "Loop":
        """Add a :class:`~ganlib.engine.callbacks.Callback`, or call ``fn(loop)`` on ``event`` (one of
        :data:`~ganlib.engine.callbacks.EVENTS`); returns self."""
        if not isinstance(event, Callback):
            if event not in EVENTS:
                raise ValueError(f"unknown event {event!r}; valid: {', '.join(EVENTS)}")
            event = FunctionCallback(event, fn)
        event.bind(self)
        self.callbacks.append(event)
        self.callbacks.sort(key=lambda cb: cb.order)  # stable: equal orders keep the order they were added in
        return self

    def _fire(self, event: str) -> None:
        for cb in list(self.callbacks):
            fn = getattr(cb, event, None)
            if fn is not None:
                fn(self)

    def _callback(self, kind: type) -> Optional[Callback]:
        return next((cb for cb in self.callbacks if type(cb) is kind), None)

    @property
    def history(self) -> Dict[str, List[Any]]:
        """The statistics read back so far, a dict of lists, one per column."""
        return self.log.columns

    @property
    def snapshots(self) -> List[Tuple[int, Tensor]]:
        """``(step, samples)`` of G on the fixed noise (empty without snapshots)."""
        cb = self._callback(Snapshots)
        return cb.taken if cb is not None else []

    @property
    def ema(self) -> Any:
        """The :class:`~ganlib.engine.callbacks.GeneratorEMA` when ``config.ema_decay`` keeps one, else None."""
        cb = self._callback(MovingAverage)
        return cb.ema if cb is not None else None

    @property
    def epoch(self) -> int:
        """Number of completed epochs."""
        return self.step // self.steps_per_epoch

    @property
    def epoch_end(self) -> bool:
        """Whether the last step completed an epoch."""
        return self.step % self.steps_per_epoch == 0

    def _discriminate(self, x: Tensor, fake: Tensor) -> Tuple[Tensor, Tensor]:
        """D's logits on the real and the generated batch: one forward on both unless D mixes samples."""
        if not self._fuse:
            return tuple(at_least_float32(t) for t in self._d_apart(x, fake))
        n = x.shape[self._cat_dim]
        logits = at_least_float32(self._d(torch.cat([x, fake], dim=self._cat_dim)))
        return logits.narrow(self._cat_dim, 0, n), logits.narrow(self._cat_dim, n, n)

    def train_step(self) -> None:
        r"""One iteration of Algorithm 1: ``k`` updates of :math:`D`, then one of :math:`G`.

        Each :math:`D` update draws a fresh minibatch :math:`x^{(1..m)}` and noise :math:`z^{(1..m)}`
        and descends the loss's objective (for the paper's losses
        :math:`-\tfrac1m\sum_i [\log D(x^{(i)}) + \log(1 - D(G(z^{(i)})))]`: it ascends Algorithm 1's
        gradient). The :math:`G` update draws *new* noise through the *updated*, frozen :math:`D`,
        descending :math:`\tfrac1m\sum_i \log(1 - D(G(z^{(i)})))` (Eq. 1) or
        :math:`-\tfrac1m\sum_i \log D(G(z^{(i)}))` (Section 3). The statistics (``stats``, by name; D's
        are means over the ``k`` updates) stay on the device for the callbacks. With ``reuse_fakes``
        the G update reuses the last D update's :math:`G(z^{(i)})` (the textbook loop's shortcut,
        not Algorithm 1).
        """
        acc, k, m = self.accelerator, self.config.k, self.shard.local
        d_stats = {}
        for i in range(k):                                              # for k steps do
            x, z = self._real_batch(), self._noise(m)                   #   x ~ p_data, z ~ p_g(z)
            keep = self.config.reuse_fakes and i == k - 1
            with acc.autocast():
                with torch.set_grad_enabled(keep):
                    fake = self._g(z)
                d_loss, stats = self._d_objective(x, fake.detach().to(x.dtype))
            acc.update(d_loss, self.optim_d, "d", self._optimizer_step)  #   ascend V(G, D) in D
            self.loss.after_discriminator_update(self._d_params)        #   (WGAN: clip D's weights)
            d_stats = {n: d_stats[n] + s if d_stats else s for n, s in stats.items()}
        with acc.frozen(self._d_params):                                # D fixed while G moves
            with acc.autocast():
                fake = fake if keep else self._g(self._noise(m))        # fresh z ~ p_g(z)
                g_loss, g_stats = self._g_objective(at_least_float32(self._d_frozen(fake)))
            acc.update(g_loss, self.optim_g, "g", self._optimizer_step)  # descend G's loss
        self.stats = {**{n: s / k if k > 1 else s for n, s in d_stats.items()}, **g_stats}
        self.step += 1
        self._fire("on_step_end")
        if self.epoch_end:
            self._fire("on_epoch_end")

    def run(self, steps: Optional[int] = None) -> Dict[str, List[Any]]:
        """Train until ``total_steps`` (or ``steps`` more); returns ``history`` (dict of lists)."""
        self.end = self.total_steps if steps is None else self.step + steps
        t0, s0 = time.perf_counter(), self.step
        try:
            self._fire("on_train_start")
            while self.step < self.end:
                self.train_step()
        finally:
            self._fire("on_train_end")
        self.wall_time = time.perf_counter() - t0
        self.throughput = (self.step - s0) * self._work_per_step / self.wall_time if self.wall_time > 0 else float("nan")
        return self.history

    def flush(self) -> None:
        """Read the statistics not yet read back (one host synchronisation) into ``history``."""
        self.log.flush(self)

    def snapshot(self) -> None:
        """Record G(fixed_noise) in ``snapshots`` and fire ``on_snapshot`` (needs ``snapshot_every >= 0``)."""
        cb = self._callback(Snapshots)
        if cb is None:
            raise ValueError("this run takes no snapshots (snapshot_every < 0)")
        cb.take(self)

    def progress(self) -> Dict[str, str]:
        """What the progress bar shows after each read of the statistics."""
        return {k: f"{self.last_log[k]:.3f}" for k in ("d_loss", "g_loss", "d_real", "d_fake")}

    # ----------------------------------------------------------------------------- checkpoints
    def _loop_state(self) -> Dict[str, Any]:
        """The part of :meth:`state_dict` every loop has: players, optimizer pairs, position, callbacks."""
        pair = lambda p: {"optimizer": p.optimizer.state_dict(),  # noqa: E731
                          "scheduler": p.scheduler.state_dict() if p.scheduler is not None else None}
        state = {
            "config": self.config.to_dict(), "step": self.step,
            "generator": self.G.state_dict(), "discriminator": self.D.state_dict(),
            "optim_d": pair(self.optim_d), "optim_g": pair(self.optim_g),
            "perm": self._perm.cpu() if self._perm is not None else None, "pos": self._pos,
            "fixed_noise": self.fixed_noise.cpu(), "scalers": self.accelerator.state_dict(), "generator_ema": None,
        }
        for cb in self.callbacks:
            state.update(cb.state_dict())
        return state

    def _load_loop_state(self, state: Dict[str, Any]) -> None:
        self.G.load_state_dict(state["generator"])
        self.D.load_state_dict(state["discriminator"])
        for pair, key in ((self.optim_d, "optim_d"), (self.optim_g, "optim_g")):
            pair.optimizer.load_state_dict(state[key]["optimizer"])
            if pair.scheduler is not None and state[key]["scheduler"] is not None:
                pair.scheduler.load_state_dict(state[key]["scheduler"])
        self.step, self._pos = int(state["step"]), int(state["pos"])
        self._perm = state["perm"].to(self.device) if state["perm"] is not None else None
        self.fixed_noise = state["fixed_noise"].to(self.device)
        self.accelerator.load_state_dict(state.get("scalers"))
        for cb in self.callbacks:
            cb.load_state_dict(state)

    def save_checkpoint(self, path: Union[str, Path]) -> Path:
        """Read back the pending statistics (``flush()``, so a checkpoint never follows a NaN loss),
        check that the players' weights are finite (a checkpoint is "good" only then), write
        ``state_dict()`` atomically to ``path`` and fire ``on_checkpoint``."""
        self.flush()
        bad = [f"{who}.{name}" for who, net in (("G", self.G), ("D", self.D)) for name, t in net.state_dict().items()
               if t.is_floating_point() and not bool(torch.isfinite(t).all())]
        if bad:
            where = f"; last good checkpoint: {self.last_checkpoint}" if self.last_checkpoint else ""
            raise NonFiniteLossError(f"non-finite weights at step {self.step} ({', '.join(bad[:3])}"
                                     f"{', ...' if len(bad) > 3 else ''}); training stopped{where}")
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
        stats: the latest step's statistics by name (:data:`STAT_COLUMNS`), tensors on the device.
        history: dict of lists, one per column of :data:`HISTORY_COLUMNS`.
        last_log: the latest row of statistics read back.
        snapshots: list of ``(step, samples)``.
        ema: the moving average of :math:`G` (``config.ema_decay``), or ``None``.
        fixed_noise: the noise of the snapshot grids.
        rng: the :class:`torch.Generator` of minibatches and noise (not to be confused with ``G``).
        wall_time: after :meth:`run`, its duration in seconds.
        throughput: after :meth:`run`, real images per second.
        accelerator: the :class:`~ganlib.engine.accelerator.Accelerator` (device, precision, processes);
            ``precision`` is its :class:`~ganlib.engine.precision.Precision`.
    """

    def __init__(self, config: TrainConfig, generator: nn.Module, discriminator: nn.Module, data: Union[Tensor, Any],
                 optimizers: Optional[Sequence[Any]] = None, meta: Optional[Dict[str, Any]] = None) -> None:
        config.validate()
        self.config, self.meta = config, dict(meta or {})
        self.loss = get_loss(config.loss, **config.loss_kwargs)
        self.accelerator = acc = Accelerator(config.batch_size, config.device, config.amp, config.compile)
        seed_everything(config.seed)
        acc.shard.reseed(config.seed)
        self.data = training_data(data, config.batch_size).to(acc.device, float_dtype(generator)).contiguous()
        self.G, self.D = generator.to(acc.device), discriminator.to(acc.device)
        players_fit(self.G, self.D, self.data, acc.device, acc.shard.local)
        self._plan()
        if optimizers is None:
            optimizers = make_optimizers(config, self.G, self.D, self.total_steps, self.steps_per_epoch)
        self.optim_d, self.optim_g = check_pairs(optimizers, self.D, self.G)
        self.rng = torch.Generator(device=acc.device).manual_seed(config.seed)
        self.fixed_noise = self.G.sample_noise(config.n_snapshot, generator=self.rng, device=acc.device)
        self._begin(HISTORY_COLUMNS, STAT_COLUMNS, (), work_per_step=config.batch_size * config.k)  # images

    # ------------------------------------------------------------------------------ the game
    def _real_batch(self) -> Tensor:
        m = self.config.batch_size
        if self._perm is None or self._pos + m > len(self._perm):
            self._perm, self._pos = torch.randperm(len(self.data), generator=self.rng, device=self.device), 0
        idx = self._perm[self._pos : self._pos + m]
        self._pos += m
        return self.data.index_select(0, self.shard.take(idx))

    def _noise(self, n: int) -> Tensor:  # n per rank: every rank draws the global batch, keeps its rows
        return self.shard.take(self.G.sample_noise(n * self.shard.world, generator=self.rng, device=self.device))

    def _d_objective(self, x: Tensor, fake: Tensor) -> Tuple[Tensor, Dict[str, Tensor]]:
        real_l, fake_l = self._discriminate(x, fake)
        # uncompiled D for a penalty: it differentiates through D twice
        d_loss = self.loss.discriminator_objective(self.D, x, fake, real_l, fake_l, generator=self.rng,
                                                   grad_scale=self.accelerator.grad_scale("d"), rand=self.shard.rand(self.rng))
        with torch.no_grad():
            r, f, link = real_l.detach(), fake_l.detach(), self.loss.link
            return d_loss, {"d_loss": d_loss.detach(), "value": self.loss.value(r, f), "d_real": link(r).mean(),
                            "d_fake": link(f).mean()}

    def _g_objective(self, fake_l: Tensor) -> Tuple[Tensor, Dict[str, Tensor]]:
        g_loss = self.loss.generator(fake_l)
        return g_loss, {"g_loss": g_loss.detach()}

    def rows(self, step: int, lr_d: float, lr_g: float, values: List[float]) -> List[Dict[str, Any]]:
        """The history's row for one step's statistics (``values`` in :data:`STAT_COLUMNS` order)."""
        return [{"step": step, "epoch": (step - 1) // self.steps_per_epoch + 1, **dict(zip(self.stat_names, values)),
                 "lr_d": lr_d, "lr_g": lr_g}]

    @torch.no_grad()
    def sample(self, z: Optional[Tensor] = None, n: int = 64, ema: bool = True, seed: Optional[int] = None,
               chunk: Optional[int] = None) -> Tensor:
        """Generator samples (eval mode), on the CPU: for noise ``z``, else for ``n`` draws of the noise
        (from a generator seeded by ``seed``, else the global one), ``chunk`` at a time when given;
        from the averaged generator when ``config.ema_decay`` keeps one, unless ``ema=False``."""
        G = self.ema.module if ema and self.ema is not None else self.G
        if z is None:
            rng = None if seed is None else torch.Generator(device=self.device).manual_seed(seed)
            z = self.G.sample_noise(n, generator=rng, device=self.device)
        if chunk is not None and len(z) > chunk:
            return torch.cat([self.sample(z[i : i + chunk], ema=ema) for i in range(0, len(z), chunk)])
        was = G.training
        G.eval()
        try:
            return G(z.to(self.device)).float().cpu()
        finally:
            G.train(was)

    def describe(self) -> str:
        """One line on the finished run: its length, speed, and the discriminator's last mean outputs."""
        last = self.last_log
        return (f"{self.epoch} epochs = {self.step} steps in {self.wall_time:.0f} s ({self.throughput:.0f} real "
                f"images/s) on {self.device.type}; at the end D(x) = {last.get('d_real', float('nan')):.2f}, "
                f"D(G(z)) = {last.get('d_fake', float('nan')):.2f}")

    # ----------------------------------------------------------------------------- checkpoints
    def state_dict(self) -> Dict[str, Any]:
        """Everything needed to resume bit-identically, as ``weights_only``-safe plain data: the
        loop's state and every callback's. No side effects: statistics not yet read back are saved as
        they are (``pending``)."""
        return {**self._loop_state(), "meta": self.meta, "rng": get_rng_state(self.rng), **self.shard.rng_states(get_rng_state)}

    def load_state_dict(self, state: Dict[str, Any]) -> None:
        """Restore from :meth:`state_dict` (models, optimizer pairs, step, RNGs, callbacks)."""
        self._load_loop_state(state)
        set_rng_state(state["rng"], self.rng)
        self.shard.load_rng_state(state, set_rng_state, self.config.seed)
