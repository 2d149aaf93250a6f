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

The losses come from :func:`ganlib.losses.get_loss` by name, so a newly registered loss plugs in
without touching this file. The loop itself only trains and records; sample grids, GIFs and plots
hang on callbacks (:meth:`Trainer.add_callback`) that call into :mod:`ganlib.viz`.

Speed: the dataset is one tensor on the device and minibatches are drawn there from a dedicated
:class:`torch.Generator`; per-step statistics are written into a device buffer and read on the
host only every ``log_every`` steps (one synchronisation), where non-finite losses are detected.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

import torch
from torch import Tensor, nn

from ganlib.checkpoint import get_rng_state, load_checkpoint, save_checkpoint, set_rng_state
from ganlib.losses import get_loss
from ganlib.models import paper_optimizer
from ganlib.runtime import resolve_device, seed_everything

__all__ = ["TrainConfig", "Trainer", "NonFiniteLossError", "HISTORY_COLUMNS", "EVENTS"]

#: Columns of :attr:`Trainer.history` (``pandas.DataFrame(trainer.history)``), one row per step:
#: step (1-based), epoch (1-based epoch the step belongs to), d_loss, g_loss, value (batch estimate
#: of V(G, D), Eq. 1), d_real (mean D(x)), d_fake (mean D(G(z))), lr_d, lr_g.
#: For critic losses (``wasserstein``, ``wgan-gp``, ``hinge``) the loss's own ``value`` and ``link``
#: (:class:`ganlib.losses.GANLoss`) are recorded instead: value = the critic's W1 estimate
#: mean f(x) - mean f(G(z)), d_real / d_fake = mean raw critic scores; d_loss includes any penalty.
HISTORY_COLUMNS = ("step", "epoch", "d_loss", "g_loss", "value", "d_real", "d_fake", "lr_d", "lr_g")
#: Callback events, each called as ``fn(trainer)``.
EVENTS = ("on_train_start", "on_step_end", "on_log", "on_snapshot", "on_epoch_end", "on_checkpoint", "on_train_end")
_STATS = ("d_loss", "g_loss", "value", "d_real", "d_fake")


def _clear_grads(opt: torch.optim.Optimizer) -> None:
    """``opt.zero_grad(set_to_none=True)`` without its profiler bookkeeping (tens of microseconds a call)."""
    for group in opt.param_groups:
        for p in group["params"]:
            p.grad = None


class NonFiniteLossError(FloatingPointError):
    """A loss became NaN or inf; the message names the first bad step and the last good checkpoint."""


@dataclass
class TrainConfig:
    """Training configuration; saved (as a plain dict) in every checkpoint.

    Build with overrides through :meth:`from_dict` / :meth:`replace`, which reject unknown keys
    with a :class:`ValueError` naming the key. A *step* is one outer iteration of Algorithm 1
    (``k`` discriminator updates, then one generator update); an *epoch* is ``N // (batch_size*k)``
    steps, i.e. one pass of the discriminator over the ``N`` training samples.
    """

    loss: str = "non_saturating"  #: generator/discriminator loss pair by name (ganlib.losses.LOSSES)
    k: int = 1  #: discriminator updates per generator update (Algorithm 1's k; WGAN's n_critic, 5 there)
    batch_size: int = 100  #: m in Algorithm 1
    epochs: int = 1  #: training length in epochs (ignored when max_steps is set)
    max_steps: Optional[int] = None  #: training length in steps (overrides epochs)
    optimizer: str = "Adam"  #: "paper" (the paper's SGD schedule) or a torch.optim class name
    lr_d: float = 2e-4  #: discriminator learning rate
    lr_g: float = 2e-4  #: generator learning rate
    optimizer_kwargs: Dict[str, Any] = field(default_factory=lambda: {"betas": (0.5, 0.999)})
    device: str = "auto"  #: "auto" (CUDA, then MPS, then CPU), "cpu", "cuda", "cuda:N", "mps"
    seed: int = 0  #: seeds python/numpy/torch and the trainer's own generator
    log_every: int = 50  #: steps between host reads of the statistics (and NaN checks)
    snapshot_every: int = 0  #: steps between fixed-noise snapshots; 0 = every epoch, <0 = never
    n_snapshot: int = 64  #: size of the fixed noise batch
    checkpoint_every: int = 0  #: steps between checkpoints (needs out_dir); 0 = every epoch, <0 = never
    out_dir: Optional[str] = None  #: where checkpoint.pt is written
    bf16: bool = False  #: bfloat16 autocast
    compile: bool = False  #: torch.compile both networks
    progress: bool = True  #: tqdm progress bar
    fuse_d_batches: bool = True  #: one D forward on [x; G(z)] when D has no batch norm
    #: G's update reuses the last D update's fakes G(z) (forward kept with its graph) instead of
    #: drawing fresh noise: the loop of pytorch/examples' dcgan, one G forward fewer per step.
    #: Off by default: Algorithm 1 draws new noise for G.
    reuse_fakes: bool = False

    @classmethod
    def from_dict(cls, d: Optional[Dict[str, Any]] = None, **overrides: Any) -> "TrainConfig":
        """Defaults updated by ``d`` and ``overrides``; unknown keys raise ValueError."""
        return cls().replace(**{**(d or {}), **overrides})

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
        if not isinstance(self.k, int) or self.k < 1:
            raise ValueError(f"k (discriminator steps per generator step) must be an integer >= 1, got {self.k!r}")
        if not isinstance(self.batch_size, int) or self.batch_size < 1:
            raise ValueError(f"batch_size must be an integer >= 1, got {self.batch_size!r}")
        for name in ("lr_d", "lr_g"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
                raise ValueError(f"{name} must be a positive learning rate, got {v!r}")
        if self.max_steps is None and (not isinstance(self.epochs, int) or self.epochs < 1):
            raise ValueError(f"epochs must be an integer >= 1, got {self.epochs!r}")
        if self.max_steps is not None and (not isinstance(self.max_steps, int) or self.max_steps < 0):
            raise ValueError(f"max_steps must be None or an integer >= 0, got {self.max_steps!r}")
        for name in ("reuse_fakes", "fuse_d_batches", "bf16", "compile", "progress"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be True or False, got {getattr(self, name)!r}")
        if not isinstance(self.log_every, int) or self.log_every < 1:
            raise ValueError(f"log_every must be an integer >= 1, got {self.log_every!r}")
        if self.n_snapshot < 1:
            raise ValueError(f"n_snapshot must be >= 1, got {self.n_snapshot!r}")
        if self.optimizer != "paper" and not isinstance(getattr(torch.optim, self.optimizer, None), type):
            raise ValueError(f"unknown optimizer {self.optimizer!r}; use 'paper' or a torch.optim class name")
        get_loss(self.loss)  # ValueError listing the valid names
        resolve_device(self.device)  # ValueError for unknown / unavailable devices


class Trainer:
    """Trains a generator/discriminator pair with Algorithm 1 (see the module docstring).

    Args:
        config: a :class:`TrainConfig`.
        generator: module with ``latent_dim`` and ``sample_noise(n, generator, device)``.
        discriminator: module returning logits ``(N,)``.
        data: training samples, a tensor ``(N, ...)`` or an object with ``.images``.
        opt_d, opt_g: optional ready optimizers (any torch optimizer); built from the config if None.
        sched_d, sched_g: optional schedulers stepped after every update of their player.
        meta: extra plain data saved in checkpoints (e.g. how to rebuild the models).

    Seeds python/numpy/torch with ``config.seed`` and validates everything (config values, batch
    size vs data, G's output vs D's input with one forward on 2 samples) before any step runs.
    Attributes read by callbacks: ``step``, ``epoch``, ``history`` (dict of lists),
    ``last_log`` (latest row), ``snapshots`` (list of ``(step, samples)``), ``fixed_noise``.
    """

    def __init__(
        self,
        config: TrainConfig,
        generator: nn.Module,
        discriminator: nn.Module,
        data: Union[Tensor, Any],
        opt_d: Optional[torch.optim.Optimizer] = None,
        opt_g: Optional[torch.optim.Optimizer] = None,
        sched_d: Any = None,
        sched_g: Any = None,
        meta: Optional[Dict[str, Any]] = None,
    ) -> None:
        config.validate()
        self.config, self.meta = config, dict(meta or {})
        self.loss = get_loss(config.loss)
        self.device = resolve_device(config.device)
        seed_everything(config.seed)
        data = getattr(data, "images", data)
        if not isinstance(data, Tensor) or data.dim() < 2:
            raise ValueError("data must be a tensor (N, ...) or have an .images tensor")
        if config.batch_size > len(data):
            raise ValueError(f"batch_size {config.batch_size} is larger than the dataset ({len(data)} samples)")
        self.data = data.to(self.device, torch.float32).contiguous()
        self.G, self.D = generator.to(self.device), discriminator.to(self.device)
        self._check_shapes()
        self.steps_per_epoch = max(1, len(self.data) // (config.batch_size * config.k))
        self.total_steps = config.max_steps if config.max_steps is not None else config.epochs * self.steps_per_epoch
        if opt_d is None:
            opt_d, sched_d = self._make_optimizer(self.D, config.lr_d, sched_d)
        if opt_g is None:
            opt_g, sched_g = self._make_optimizer(self.G, config.lr_g, sched_g)
        self.opt_d, self.opt_g, self.sched_d, self.sched_g = opt_d, opt_g, sched_d, sched_g
        self.gen = torch.Generator(device=self.device).manual_seed(config.seed)
        self.fixed_noise = self.G.sample_noise(config.n_snapshot, generator=self.gen, device=self.device)
        self.step, self._perm, self._pos = 0, None, 0
        self.history: Dict[str, List[float]] = {c: [] for c in HISTORY_COLUMNS}
        self.last_log: Dict[str, float] = {}
        self.snapshots: List[Tuple[int, Tensor]] = []
        self.callbacks: Dict[str, List[Callable]] = {e: [] for e in EVENTS}
        self._pending: List[Tuple[int, Any, Any]] = []  # (step, lr_d, lr_g) not yet read back
        self._buf = torch.zeros(config.log_every, len(_STATS), device=self.device)
        self._d_params = [p for p in self.D.parameters() if p.requires_grad]
        has_bn = any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in self.D.modules())
        self._fuse = config.fuse_d_batches and not has_bn
        self._kept_fakes: Optional[Tensor] = None  # G(z) of the last D update, when reuse_fakes
        self._g = torch.compile(self.G) if config.compile else self.G
        self._d = torch.compile(self.D) if config.compile else self.D
        self.last_checkpoint: Optional[Path] = None
        self.throughput = float("nan")  # images / s of the last run() (D's real images)

    # ---------------------------------------------------------------------------------- set-up
    def _make_optimizer(self, module: nn.Module, lr: float, sched: Any):
        params = module.parameters()
        if self.config.optimizer == "paper":
            return paper_optimizer(params, self.steps_per_epoch * self.config.k if module is self.D else self.steps_per_epoch, lr)
        return getattr(torch.optim, self.config.optimizer)(params, lr=lr, **self.config.optimizer_kwargs), sched

    @torch.no_grad()
    def _check_shapes(self) -> None:
        was = (self.G.training, self.D.training)
        self.G.eval(), self.D.eval()
        try:
            g = torch.Generator(device=self.device).manual_seed(0)
            fake = self.G(self.G.sample_noise(2, generator=g, device=self.device))
            if tuple(fake.shape[1:]) != tuple(self.data.shape[1:]):
                raise ValueError(
                    f"G's output shape {tuple(fake.shape[1:])} does not match the data's sample shape "
                    f"{tuple(self.data.shape[1:])} (D's input)"
                )
            try:
                out = self.D(fake)
            except RuntimeError as e:
                raise ValueError(f"D cannot take G's output of shape {tuple(fake.shape)}: {e}") from e
            if out.shape != (2,):
                raise ValueError(f"D must return one logit per sample, shape (N,); got {tuple(out.shape)} for N=2")
        finally:
            self.G.train(was[0]), self.D.train(was[1])

    def add_callback(self, event: str, fn: Callable[["Trainer"], None]) -> "Trainer":
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

    # ------------------------------------------------------------------------------ Algorithm 1
    def _autocast(self):
        if not self.config.bf16:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=torch.bfloat16)

    def _real_batch(self) -> Tensor:
        m = self.config.batch_size
        if self._perm is None or self._pos + m > len(self._perm):
            self._perm, self._pos = torch.randperm(len(self.data), generator=self.gen, device=self.device), 0
        idx = self._perm[self._pos : self._pos + m]
        self._pos += m
        return self.data.index_select(0, idx)

    def _d_step(self, keep_fakes: bool = False) -> Tensor:
        """One discriminator update; returns [d_loss, value, mean D(x), mean D(G(z))] (on device).

        ``keep_fakes``: build G(z) with its graph and keep it for the G update (``reuse_fakes``)."""
        x = self._real_batch()
        z = self.G.sample_noise(len(x), generator=self.gen, device=self.device)
        with self._autocast():
            with torch.set_grad_enabled(keep_fakes):
                fake = self._g(z)
            if keep_fakes:
                self._kept_fakes, fake = fake, fake.detach()
            if self._fuse:
                logits = self._d(torch.cat([x, fake.to(x.dtype)])).float()
                real_l, fake_l = logits[: len(x)], logits[len(x) :]
            else:
                real_l, fake_l = self._d(x).float(), self._d(fake).float()
        d_loss = self.loss.discriminator(real_l, fake_l)
        if self.loss.penalty is not None:  # e.g. WGAN-GP: needs D itself (uncompiled: double backward)
            with self._autocast():
                d_loss = d_loss + self.loss.penalty(self.D, x, fake.to(x.dtype), generator=self.gen).float()
        _clear_grads(self.opt_d)
        d_loss.backward()
        self.opt_d.step()
        if self.loss.clip_value is not None:  # WGAN: clamp every D parameter to [-c, c]
            with torch.no_grad():
                for p in self._d_params:
                    p.clamp_(-self.loss.clip_value, self.loss.clip_value)
        if self.sched_d is not None:
            self.sched_d.step()
        with torch.no_grad():
            r, f = real_l.detach(), fake_l.detach()
            link = self.loss.link
            return torch.stack([d_loss.detach(), self.loss.value(r, f), link(r).mean(), link(f).mean()])

    def _g_step(self) -> Tensor:
        """One generator update on fresh noise through the updated D; returns G's loss."""
        for p in self._d_params:  # D is fixed here: skip its weight gradients
            p.requires_grad_(False)
        try:
            fake, self._kept_fakes = self._kept_fakes, None
            with self._autocast():
                if fake is None:
                    z = self.G.sample_noise(self.config.batch_size, generator=self.gen, device=self.device)
                    fake = self._g(z)
                fake_l = self._d(fake).float()
            g_loss = self.loss.generator(fake_l)
            _clear_grads(self.opt_g)
            g_loss.backward()
            self.opt_g.step()
        finally:
            for p in self._d_params:
                p.requires_grad_(True)
        if self.sched_g is not None:
            self.sched_g.step()
        return g_loss.detach()

    def train_step(self) -> None:
        r"""One iteration of Algorithm 1: ``k`` updates of :math:`D`, then one of :math:`G`.

        Each :math:`D` update draws a fresh minibatch :math:`x^{(1..m)}` and noise :math:`z^{(1..m)}`
        and descends the registered discriminator loss; for the paper's losses that is
        :math:`-\tfrac1m\sum_i [\log D(x^{(i)}) + \log(1 - D(G(z^{(i)})))]`, i.e. it ascends
        :math:`\nabla_{\theta_d}` of Algorithm 1. The :math:`G` update then draws *new* noise and
        goes through the *updated* :math:`D` (its weights frozen for that step), descending
        :math:`\tfrac1m\sum_i \log(1 - D(G(z^{(i)})))` (``saturating``, Eq. 1) or
        :math:`-\tfrac1m\sum_i \log D(G(z^{(i)}))` (``non_saturating``, Section 3).
        Statistics (mean over the ``k`` D updates) are written to a device buffer: no host sync.
        A loss with a ``penalty`` (WGAN-GP) adds ``penalty(D, x, G(z))`` to each D update's loss, and
        one with a ``clip_value`` (WGAN) clamps D's parameters after each D update; ``k`` is then
        WGAN's :math:`n_{critic}`. With ``reuse_fakes`` the G update skips the new draw and reuses
        :math:`G(z^{(i)})` of the last D update (the textbook loop's shortcut, not Algorithm 1).
        """
        k, reuse = self.config.k, self.config.reuse_fakes
        d_stats = self._d_step(keep_fakes=reuse and k == 1)
        for i in range(k - 1):
            d_stats = d_stats + self._d_step(keep_fakes=reuse and i == k - 2)
        if k > 1:
            d_stats = d_stats / k
        g_loss = self._g_step()
        torch.cat([d_stats[:1], g_loss.view(1), d_stats[1:]], out=self._buf[len(self._pending)])  # _STATS order
        self.step += 1
        self._pending.append((self.step, self.opt_d.param_groups[0]["lr"], self.opt_g.param_groups[0]["lr"]))

    def flush(self) -> None:
        """Read the buffered statistics (one host sync), append them to ``history``, fire
        ``on_log``; raise :class:`NonFiniteLossError` at the first NaN/inf loss."""
        if not self._pending:
            return
        rows = self._buf[: len(self._pending)].tolist()
        pending, self._pending = self._pending, []
        for (step, lr_d, lr_g), vals in zip(pending, rows):
            if not all(math.isfinite(v) for v in vals[:3]):
                where = f"; last good checkpoint: {self.last_checkpoint}" if self.last_checkpoint else ""
                bad = ", ".join(f"{n}={v}" for n, v in zip(_STATS, vals))
                raise NonFiniteLossError(f"non-finite loss at step {step} ({bad}); training stopped{where}")
            row = dict(zip(("step", "epoch"), (step, (step - 1) // self.steps_per_epoch + 1)))
            row.update(zip(_STATS, vals))
            row.update(lr_d=float(lr_d), lr_g=float(lr_g))
            for c in HISTORY_COLUMNS:
                self.history[c].append(row[c])
        self.last_log = row
        self._fire("on_log")

    @torch.no_grad()
    def sample(self, z: Optional[Tensor] = None, n: int = 64) -> Tensor:
        """Generator samples (eval mode) for noise ``z`` (default: ``n`` fresh draws), on the CPU."""
        was = self.G.training
        self.G.eval()
        try:
            z = self.G.sample_noise(n, device=self.device) if z is None else z.to(self.device)
            return self.G(z).float().cpu()
        finally:
            self.G.train(was)

    def snapshot(self) -> None:
        """Record G(fixed_noise) in ``snapshots`` and fire ``on_snapshot``."""
        self.snapshots.append((self.step, self.sample(self.fixed_noise)))
        self._fire("on_snapshot")

    def _due(self, every: int, epoch_end: bool) -> bool:
        return (every == 0 and epoch_end) or (every > 0 and self.step % every == 0)

    def run(self, steps: Optional[int] = None) -> Dict[str, List[float]]:
        """Train until ``total_steps`` (or ``steps`` more); returns ``history`` (dict of lists)."""
        from tqdm.auto import tqdm

        cfg = self.config
        end = self.total_steps if steps is None else self.step + steps
        if self.step == 0 and cfg.snapshot_every >= 0 and not self.snapshots:
            self.snapshot()
        self._fire("on_train_start")
        bar = tqdm(total=end, initial=self.step, disable=not cfg.progress, desc="train", unit="step")
        t0, s0 = time.perf_counter(), self.step
        try:
            while self.step < end:
                self.train_step()
                epoch_end = self.step % self.steps_per_epoch == 0
                ckpt = cfg.out_dir is not None and cfg.checkpoint_every >= 0 and (
                    self._due(cfg.checkpoint_every, epoch_end) or self.step == end)
                if len(self._pending) == cfg.log_every or ckpt or self.step == end:
                    self.flush()
                    bar.set_postfix({k: f"{self.last_log[k]:.3f}" for k in ("d_loss", "g_loss", "d_real", "d_fake")}, refresh=False)
                bar.update(1)
                self._fire("on_step_end")
                if cfg.snapshot_every >= 0 and self._due(cfg.snapshot_every, epoch_end):
                    self.snapshot()
                if epoch_end:
                    self._fire("on_epoch_end")
                if ckpt:
                    self.save_checkpoint(Path(cfg.out_dir) / "checkpoint.pt")
            self.flush()
            if self.step == self.total_steps and cfg.snapshot_every >= 0 and (
                    not self.snapshots or self.snapshots[-1][0] != self.step):
                self.snapshot()  # the final state always ends the sample evolution
        finally:
            bar.close()
        dt = time.perf_counter() - t0
        self.throughput = (self.step - s0) * cfg.batch_size * cfg.k / dt if dt > 0 else float("nan")
        self._fire("on_train_end")
        return self.history

    # ----------------------------------------------------------------------------- checkpoints
    def state_dict(self) -> Dict[str, Any]:
        """Everything needed to resume bit-identically, as ``weights_only``-safe plain data."""
        self.flush()
        sched = lambda s: s.state_dict() if s is not None else None  # noqa: E731
        return {
            "config": self.config.to_dict(),
            "meta": self.meta,
            "step": self.step,
            "generator": self.G.state_dict(),
            "discriminator": self.D.state_dict(),
            "opt_d": self.opt_d.state_dict(),
            "opt_g": self.opt_g.state_dict(),
            "sched_d": sched(self.sched_d),
            "sched_g": sched(self.sched_g),
            "rng": get_rng_state(self.gen),
            "perm": self._perm.cpu() if self._perm is not None else None,
            "pos": self._pos,
            "fixed_noise": self.fixed_noise.cpu(),
            "history": {k: list(v) for k, v in self.history.items()},
            "snapshots": [(s, x) for s, x in self.snapshots],
        }

    def load_state_dict(self, state: Dict[str, Any]) -> None:
        """Restore from :meth:`state_dict` (models, optimizers, schedulers, step, RNGs, history)."""
        self.G.load_state_dict(state["generator"])
        self.D.load_state_dict(state["discriminator"])
        self.opt_d.load_state_dict(state["opt_d"])
        self.opt_g.load_state_dict(state["opt_g"])
        for s, key in ((self.sched_d, "sched_d"), (self.sched_g, "sched_g")):
            if s is not None and state.get(key) is not None:
                s.load_state_dict(state[key])
        self.step, self._pos = int(state["step"]), int(state["pos"])
        self._perm = state["perm"].to(self.device) if state["perm"] is not None else None
        self.fixed_noise = state["fixed_noise"].to(self.device)
        self.history = {k: list(state["history"].get(k, [])) for k in HISTORY_COLUMNS}
        self.snapshots = [(int(s), x.float().cpu()) for s, x in state["snapshots"]]
        self._pending = []
        set_rng_state(state["rng"], self.gen)

    def save_checkpoint(self, path: Union[str, Path]) -> Path:
        """Write :meth:`state_dict` atomically to ``path`` (after a NaN check) and fire ``on_checkpoint``."""
        self.last_checkpoint = save_checkpoint(self.state_dict(), path)
        self._fire("on_checkpoint")
        return self.last_checkpoint

    def load_checkpoint(self, path: Union[str, Path]) -> "Trainer":
        """Resume from a checkpoint written by :meth:`save_checkpoint` (``weights_only=True``)."""
        self.load_state_dict(load_checkpoint(path, map_location=self.device))
        self.last_checkpoint = Path(path)
        return self
