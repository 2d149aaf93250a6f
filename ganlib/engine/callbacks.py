r"""What the training loop does around Algorithm 1, as callbacks that save and restore their own state.

The loop (:mod:`ganlib.engine.loop`) only trains; everything else listens to its events
(:data:`EVENTS`) and is a :class:`Callback`:

* :class:`MovingAverage`: the exponential moving average of :math:`G`'s weights (:class:`GeneratorEMA`);
* :class:`History`: the statistics of every step, kept on the device and read back every
  ``log_every`` steps (one host synchronisation), by name (:data:`ganlib.engine.loop.STAT_COLUMNS`);
* :class:`NonFiniteCheck`: stops training at the first NaN or inf loss, naming the step and the last
  good checkpoint;
* :class:`Snapshots`: :math:`G` on fixed noise every ``snapshot_every`` steps;
* :class:`Checkpoints`: an atomic checkpoint every ``checkpoint_every`` steps and at the end;
* :class:`ProgressBar`: a tqdm bar with the latest losses.

The loop adds the ones its :class:`~ganlib.engine.config.TrainConfig` asks for. A callback's
:meth:`~Callback.state_dict` holds the checkpoint entries it owns, so a resumed run restores the
moving average, the history and the snapshots with the players. Callbacks run in the order of their
``order`` (the moving average first, so that snapshots and checkpoints see it; checkpoints last);
a plain function ``fn(loop)`` added with :meth:`ganlib.engine.loop.Loop.add_callback` runs in between.
"""

from __future__ import annotations

import contextlib
import math
import signal
import threading
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple

import torch
from torch import Tensor, nn

__all__ = ["EVENTS", "Callback", "FunctionCallback", "Recorder", "GeneratorEMA", "MovingAverage", "History", "NonFiniteLossError",
           "NonFiniteCheck", "Snapshots", "Checkpoints", "ProgressBar", "Interrupted", "StopOnSignal"]

#: Events of the loop, each called as ``on_...(loop)``: before the first step of a run, after every
#: step, after each read of the statistics (``on_read``: the rows ``loop.new_rows`` before they join
#: the history; ``on_log``: after), after each snapshot, at each epoch's end, after each checkpoint,
#: and when a run ends (also when it stopped with an error).
EVENTS = ("on_train_start", "on_step_end", "on_read", "on_log", "on_snapshot", "on_epoch_end", "on_checkpoint",
          "on_train_end")


class Callback:
    """Base of the loop's callbacks: methods named after :data:`EVENTS`, each ``fn(loop)``.

    Attributes:
        order: callbacks run in increasing ``order`` (plain functions: 50).
    """

    order = 50

    def bind(self, loop: Any) -> None:
        """Called once when the callback is added to ``loop``."""

    def state_dict(self) -> Dict[str, Any]:
        """The checkpoint entries this callback owns (``weights_only``-safe); none by default."""
        return {}

    def load_state_dict(self, state: Dict[str, Any]) -> None:
        """Restore from a checkpoint's entries (those of :meth:`state_dict`)."""


class FunctionCallback(Callback):
    """A plain function ``fn(loop)`` on one event."""

    def __init__(self, event: str, fn: Callable[[Any], None]) -> None:
        setattr(self, event, fn)
        self.fn = fn


class Recorder(Callback):
    """A callback that records something of the game, ``capture(loop)``, before the first step and then
    every ``every`` steps, or at the steps of the set ``steps`` when it has one (the figure recorders of
    :mod:`ganlib.metrics` and :mod:`ganlib.viz`). Subclasses define ``capture`` and keep ``records``."""

    every: int = 1
    steps: Optional[set] = None
    records: List[Any]

    def capture(self, loop: Any) -> Any:
        raise NotImplementedError

    def on_train_start(self, loop: Any) -> None:
        """Record the untrained game (step 0), once."""
        if loop.step == 0 and not self.records:
            self.capture(loop)

    def on_step_end(self, loop: Any) -> None:
        """Record at the steps due."""
        if (loop.step in self.steps) if self.steps is not None else loop.step % self.every == 0:
            self.capture(loop)

    __call__ = on_step_end


class GeneratorEMA:
    r"""An exponential moving average of :math:`G`'s weights, updated after every update of :math:`G`:

    .. math:: \bar\theta_g \leftarrow \beta_t\,\bar\theta_g + (1 - \beta_t)\,\theta_g , \qquad
              \beta_t = \min\Big(\beta, \frac{1 + t}{10 + t}\Big),

    after the :math:`t`-th update (:math:`t = 0, 1, \dots`; the first one copies :math:`\theta_g`), so
    :math:`\bar\theta_g` averages roughly the last :math:`1/(1-\beta)` generators (Yazıcı et al.,
    2019). The warm-up :math:`\beta_t` (that of TensorFlow's ``ExponentialMovingAverage``) forgets
    the untrained first generators quickly; without it a share :math:`\beta^t` of the initial
    weights would remain (5 % after 3,000 updates at :math:`\beta = 0.999`). The game's iterates
    circle around an equilibrium rather than settle on it; their average is often closer to it, and
    samples from :math:`\bar\theta_g` are cleaner than from the last :math:`G`. Batch-norm
    statistics are averaged too. Only the copy is averaged: training is unchanged. Built on
    :class:`torch.optim.swa_utils.AveragedModel`.

    Example:
        >>> import torch
        >>> from ganlib.engine.callbacks import GeneratorEMA
        >>> G = torch.nn.Linear(1, 1, bias=False)
        >>> ema = GeneratorEMA(G, decay=0.5)
        >>> _ = G.weight.data.fill_(1.0); ema.update(G)  # t = 0: a copy
        >>> _ = G.weight.data.fill_(0.0); ema.update(G)  # t = 1: beta_1 = min(0.5, 2/11)
        >>> round(ema.module.weight.item(), 4)  # 2/11 * 1 + 9/11 * 0
        0.1818
    """

    def __init__(self, generator: nn.Module, decay: float) -> None:
        if isinstance(decay, bool) or not (isinstance(decay, (int, float)) and 0 < decay < 1):
            raise ValueError(f"the EMA decay must be in (0, 1), e.g. 0.999, got {decay!r}")
        from torch.optim.swa_utils import AveragedModel

        self.decay = float(decay)
        self.averaged = AveragedModel(generator, multi_avg_fn=self._average, use_buffers=True)
        self.averaged.requires_grad_(False)
        self.averaged.eval()  # the average is only sampled from, never trained

    def _average(self, averaged: list, current: list, t: Tensor) -> None:
        # AveragedModel passes t, the number of updates so far, as a tensor (no host synchronisation)
        beta = torch.clamp((1.0 + t) / (10.0 + t), max=self.decay)
        for a, c in zip(averaged, current):
            if a.is_floating_point():
                a.lerp_(c, (1.0 - beta).to(a.dtype))
            else:
                a.copy_(c)  # e.g. batch norm's num_batches_tracked

    @property
    def module(self) -> nn.Module:
        """The averaged generator (same class and interface as :math:`G`)."""
        return self.averaged.module

    @torch.no_grad()
    def update(self, generator: nn.Module) -> None:
        """One averaging step toward ``generator``'s current weights (the first call copies them)."""
        self.averaged.update_parameters(generator)

    def state_dict(self) -> Dict[str, Any]:
        """The averaged weights and the number of averaging steps (``weights_only``-safe)."""
        return self.averaged.state_dict()

    def load_state_dict(self, state: Dict[str, Any]) -> None:
        self.averaged.load_state_dict(state)

    @staticmethod
    def generator_weights(state: Dict[str, Any]) -> Dict[str, Any]:
        """The averaged weights in a saved :meth:`state_dict`, keyed as :math:`G`'s own
        ``state_dict()`` (to load into a fresh :math:`G`, e.g. for sampling)."""
        return {k[len("module."):]: v for k, v in state.items() if k.startswith("module.")}


class MovingAverage(Callback):
    """Keeps :class:`GeneratorEMA` of the loop's :math:`G` (``TrainConfig.ema_decay``), updated after
    every step; the loop samples from it (``loop.ema``). Checkpoint entry: ``generator_ema``."""

    order = 0

    def __init__(self, decay: float) -> None:
        self.decay, self.ema = decay, None

    def bind(self, loop: Any) -> None:
        self.ema = GeneratorEMA(loop.G, self.decay)

    def on_step_end(self, loop: Any) -> None:
        self.ema.update(loop.G)

    def state_dict(self) -> Dict[str, Any]:
        return {"generator_ema": self.ema.state_dict()}

    def load_state_dict(self, state: Dict[str, Any]) -> None:
        if state.get("generator_ema") is not None:
            self.ema.load_state_dict(state["generator_ema"])


class History(Callback):
    """The statistics of every step (``loop.stats``, a dict by name), kept in a device buffer and read
    back every ``log_every`` steps, before a checkpoint and at the end: one host synchronisation per
    read. Each read appends rows (``loop.rows(...)``) to ``columns`` and fires ``on_log``.
    Checkpoint entries: ``history``, and the statistics not yet read (``pending``, ``pending_stats``).

    Args:
        columns: the history's columns.
        stats: the names of the statistics, in the buffer's order.
        log_every: steps between reads.
    """

    order = 10

    def __init__(self, columns: Sequence[str], stats: Sequence[str], log_every: int) -> None:
        self.names, self.stats, self.log_every = tuple(columns), tuple(stats), log_every
        self.columns: Dict[str, List[Any]] = {c: [] for c in self.names}
        self.pending: List[Tuple[int, Any, Any]] = []  # (step, lr_d, lr_g) not yet read back
        self.buffer: Optional[Tensor] = None

    def bind(self, loop: Any) -> None:
        self.buffer = torch.zeros(self.log_every, *loop.stats_shape, len(self.stats), device=loop.device)

    def on_step_end(self, loop: Any) -> None:
        torch.stack([loop.stats[name] for name in self.stats], dim=-1, out=self.buffer[len(self.pending)])
        self.pending.append((loop.step, loop.optim_d.optimizer.param_groups[0]["lr"],
                             loop.optim_g.optimizer.param_groups[0]["lr"]))
        if len(self.pending) == self.log_every or loop.step == loop.end:
            self.flush(loop)

    def on_train_end(self, loop: Any) -> None:
        self.flush(loop)

    def flush(self, loop: Any) -> None:
        """Read the buffered statistics back, append their rows, fire ``on_log``."""
        if not self.pending:
            return
        values = loop.shard.average_(self.buffer[: len(self.pending)]).tolist()  # the mean over processes
        pending, self.pending = self.pending, []
        loop.new_rows = [row for (step, lr_d, lr_g), vals in zip(pending, values)
                         for row in loop.rows(step, float(lr_d), float(lr_g), vals)]
        loop._fire("on_read")  # a check may stop the run here
        self.append(loop.new_rows)
        loop.last_log = loop.new_rows[-1]
        loop._fire("on_log")

    def append(self, rows: List[Dict[str, Any]]) -> None:
        """Add ``rows`` (dicts with every column) to ``columns``."""
        for row in rows:
            for c in self.names:
                self.columns[c].append(row[c])

    def state_dict(self) -> Dict[str, Any]:
        return {"history": {k: list(v) for k, v in self.columns.items()}, "pending": [list(p) for p in self.pending],
                "pending_stats": self.buffer[: len(self.pending)].cpu()}

    def load_state_dict(self, state: Dict[str, Any]) -> None:
        self.columns = {k: list(state["history"].get(k, [])) for k in self.names}
        self.pending = [(int(s), lr_d, lr_g) for s, lr_d, lr_g in state["pending"]]
        self.buffer[: len(self.pending)] = state["pending_stats"].to(self.buffer.device)


class NonFiniteLossError(FloatingPointError):
    """A loss became NaN or inf; the message names the first bad step and the last good checkpoint."""


class NonFiniteCheck(Callback):
    """Raises :class:`NonFiniteLossError` when a row just read back has a NaN or inf loss, before any
    later checkpoint (a checkpoint reads the statistics back first); the history keeps the rows
    before it, up to the last good step. Under float16's scalers an inf
    ``d_loss`` (a penalty's overflowed gradient) is a step the scaler skipped; the forward statistics
    (g_loss, value, d_real, d_fake) must still be finite."""

    order = 5

    def on_read(self, loop: Any) -> None:
        names = ("g_loss", "value", "d_real", "d_fake") if loop.precision.scalers else ("d_loss", "g_loss", "value")
        for i, row in enumerate(loop.new_rows):
            if not all(math.isfinite(row[n]) for n in names):
                loop.log.append(loop.new_rows[:i])
                where = f"; last good checkpoint: {loop.last_checkpoint}" if loop.last_checkpoint else ""
                bad = ", ".join(f"{n}={row[n]}" for n in loop.stat_names)
                raise NonFiniteLossError(f"non-finite loss at step {row['step']} ({bad}); training stopped{where}")


def _due(every: int, loop: Any) -> bool:
    """Every ``every`` steps, or at each epoch's end for ``every == 0``."""
    return (every == 0 and loop.epoch_end) or (every > 0 and loop.step % every == 0)


class Snapshots(Callback):
    """:math:`G` on the loop's fixed noise (``loop.sample(loop.fixed_noise)``) before the first step, every ``every``
    steps (0: each epoch's end) and at the end of training. Checkpoint entry: ``snapshots``."""

    order = 80

    def __init__(self, every: int) -> None:
        self.every, self.taken = every, []

    def take(self, loop: Any) -> None:
        self.taken.append((loop.step, loop.sample(loop.fixed_noise)))
        loop._fire("on_snapshot")

    def on_train_start(self, loop: Any) -> None:
        if loop.step == 0 and not self.taken:
            self.take(loop)

    def on_step_end(self, loop: Any) -> None:
        if _due(self.every, loop):
            self.take(loop)

    def on_train_end(self, loop: Any) -> None:
        if loop.step == loop.total_steps and (not self.taken or self.taken[-1][0] != loop.step):
            self.take(loop)  # the final state always ends the sample evolution

    def state_dict(self) -> Dict[str, Any]:
        return {"snapshots": list(self.taken)}

    def load_state_dict(self, state: Dict[str, Any]) -> None:
        self.taken = [(int(s), x.float().cpu()) for s, x in state.get("snapshots", [])]


class Checkpoints(Callback):
    """``loop.save_checkpoint(path)`` every ``every`` steps (0: each epoch's end) and at the run's end."""

    order = 90

    def __init__(self, path: Path, every: int) -> None:
        self.path, self.every = Path(path), every

    def on_step_end(self, loop: Any) -> None:
        if _due(self.every, loop) or loop.step == loop.end:
            loop.save_checkpoint(self.path)


class ProgressBar(Callback):
    """A tqdm bar over the run's steps, with the latest statistics (``loop.progress()``)."""

    order = 20

    def __init__(self) -> None:
        self.bar = None

    def on_train_start(self, loop: Any) -> None:
        from tqdm.auto import tqdm

        self.bar = tqdm(total=loop.end, initial=loop.step, desc="train", unit="step")

    def on_log(self, loop: Any) -> None:
        if self.bar is not None:
            self.bar.set_postfix(loop.progress(), refresh=False)

    def on_step_end(self, loop: Any) -> None:
        if self.bar is not None:
            self.bar.update(1)

    def on_train_end(self, loop: Any) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class Interrupted(Exception):
    """Training stopped after a step because the process received ``signum`` (SIGINT or SIGTERM)."""

    def __init__(self, signum: int, step: int) -> None:
        super().__init__(f"{signal.Signals(signum).name} at step {step}")
        self.signum, self.step = signum, step


class StopOnSignal(Callback):
    """Inside ``with stop.handling():``, SIGINT and SIGTERM do not kill the run mid-step: the step finishes, its
    statistics and checkpoints are taken as usual, and then :class:`Interrupted` is raised, so that the
    caller can write a checkpoint and exit (the command line does). A second signal of the same kind
    acts at once, as without the handler."""

    order = 95  # after the checkpoints of the step

    def __init__(self) -> None:
        self.signum: Optional[int] = None

    @contextlib.contextmanager
    def handling(self) -> Iterator[None]:
        """Install the handlers for the block (from the main thread; elsewhere a no-op), restore the
        previous ones after it."""
        if threading.current_thread() is not threading.main_thread():
            yield  # signal handlers can only be installed from the main thread
            return
        previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}

        def note(signum: int, frame: Any) -> None:
            self.signum = signum
            signal.signal(signum, previous[signum])  # the next one acts at once

        for s in previous:
            signal.signal(s, note)
        try:
            yield
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)

    def on_step_end(self, loop: Any) -> None:
        if self.signum is not None:
            raise Interrupted(self.signum, loop.step)
