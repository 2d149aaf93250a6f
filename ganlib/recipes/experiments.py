r"""Network experiments the chapters share: the paper's statements run with real networks.

* :func:`train_pair`: seed, build :math:`G` and :math:`D`, train them with Algorithm 1
  (:class:`ganlib.engine.loop.Trainer`): the one way every chapter trains a pair.
* :func:`generator_alone`: the paper's Section 6 mechanism, :math:`G` trained against a frozen
  :math:`D` (many seeds of one configuration: :mod:`ganlib.recipes.seeds`).
* Proposition 1: :func:`fit_discriminator` trains a discriminator network against a *fixed*
  :math:`p_g`, the inner maximisation of Eq. 1; :func:`ganlib.theory.discriminator_curve` brings
  it to a grid and :func:`ganlib.theory.propositions.discriminator_error` measures it against
  :math:`D^*_G`.
* Section 3 (saturation of the minimax generator loss): :func:`race_generator_losses` runs the
  same-seed race of the two generator losses and :func:`steps_to_halfway` reads off how many
  steps a run needs to move :math:`p_g`'s mean halfway to :math:`p_{data}`'s.
"""

from __future__ import annotations

import copy
import math
from typing import Any, Callable, Dict, Mapping, Optional, Sequence, Tuple, Union

import numpy as np
import pandas as pd
import torch
from torch import Tensor, nn

from ganlib import _checks
from ganlib.engine.callbacks import Callback
from ganlib.engine.config import TrainConfig
from ganlib.game.losses import discriminator_loss
from ganlib.game.registry import get_loss
from ganlib.nets.models import MLPDiscriminator, MLPGenerator
from ganlib.engine.runtime import resolve_device, seed_everything
from ganlib.engine.workers import one_cpu_thread
from ganlib.data.toy import Toy, gaussian_1d
from ganlib.engine.loop import Trainer

__all__ = ["train_pair", "generator_alone", "one_cpu_thread", "fit_discriminator", "steps_to_halfway", "race_generator_losses"]

Players = Union[Tuple[nn.Module, nn.Module], Callable[[], Tuple[nn.Module, nn.Module]]]


def train_pair(config: TrainConfig, players: Players, data: Any, *,
               callbacks: Optional[Union[Mapping[str, Union[Callable, Sequence[Callable]]], Sequence[Callback]]] = None,
               optimizers: Optional[Sequence[Any]] = None, meta: Optional[Dict[str, Any]] = None,
               run: bool = True) -> Trainer:
    r"""Train a generator/discriminator pair with Algorithm 1: the experiment of every chapter.

    1. Seed Python, NumPy and PyTorch with ``config.seed``; then, if ``players`` is a function,
       call it to build :math:`(G, D)`, so that their initial weights depend on the seed alone,
       not on what ran before;
    2. build a :class:`ganlib.engine.loop.Trainer` (optimisers from the config through
       :func:`ganlib.engine.optim.make_optimizers`, unless ``optimizers`` is given);
    3. attach ``callbacks``: :class:`ganlib.engine.callbacks.Callback` objects, or ``{event: fn or [fns]}``
       with events of :data:`ganlib.engine.callbacks.EVENTS`;
    4. :meth:`~ganlib.engine.loop.Trainer.run` it (unless ``run=False``).

    The trainer keeps the run's timing: ``trainer.wall_time`` (seconds) and ``trainer.throughput``
    (real images per second).

    Args:
        config: the run's :class:`ganlib.engine.config.TrainConfig` (saved in its checkpoints).
        players: ``(G, D)``, or a function of no arguments returning them (called after seeding).
        data: training samples, a tensor ``(N, ...)`` or a :class:`ganlib.data.Dataset`.

    Returns:
        the trained :class:`~ganlib.engine.loop.Trainer`.
    """
    seed_everything(config.seed)
    G, D = players() if callable(players) else players
    trainer = Trainer(config, G, D, data, optimizers=optimizers, meta=meta)
    if isinstance(callbacks, Mapping):
        for event, fns in callbacks.items():
            for fn in (fns if isinstance(fns, (list, tuple)) else [fns]):
                trainer.add_callback(event, fn)
    else:
        for cb in callbacks or ():
            trainer.add_callback(cb)
    if run:
        trainer.run()
    return trainer


def generator_alone(config: TrainConfig, players: Players, data: Any, d_steps: int = 300, g_steps: int = 1000,
                    measure: Optional[Callable[[nn.Module, nn.Module], Any]] = None) -> Any:
    r"""The mechanism of the Helvetica scenario as the paper states it (Section 6: "G must not be
    trained too much without updating D"): from fresh players (seeded by ``config.seed``), :math:`D`
    learns alone for ``d_steps`` updates against the untrained :math:`G` (one step with
    :math:`k` = ``d_steps`` and :math:`G`'s learning rate 0), then :math:`D` is frozen (learning rate 0)
    and :math:`G` takes ``g_steps`` updates. Against a fixed :math:`D` the generator's loss is lowest
    where :math:`D` is highest, and nothing pulls its samples apart.

    Returns:
        ``measure(G, D)`` of the final players, or ``(G, D)`` without ``measure``.

    Raises:
        AssertionError: :math:`D` moved while frozen (a bug, not a user error).
    """
    alone = train_pair(config.replace(max_steps=1, k=d_steps, lr_g=0.0), players, data)
    frozen = [p.detach().clone() for p in alone.D.parameters()]
    tr = train_pair(config.replace(max_steps=g_steps, k=1, lr_d=0.0), (alone.G, alone.D), data)
    assert all(torch.equal(a, b) for a, b in zip(frozen, tr.D.parameters())), "D must stay frozen while G trains"
    return measure(tr.G, tr.D) if measure is not None else (tr.G, tr.D)


def _check_toy_1d(toy: object, name: str) -> Toy:
    if not isinstance(toy, Toy):
        raise TypeError(f"{name} must be a ganlib.data.toy.Toy, got {type(toy).__name__}")
    if toy.dim != 1:
        raise ValueError(f"{name} must be a 1-D toy, got dim {toy.dim} ({toy.name})")
    return toy


# --------------------------------------------------------------------------------------------------
# Proposition 1: train D against a fixed p_g
# --------------------------------------------------------------------------------------------------


def fit_discriminator(
    p_data: Toy,
    p_g: Toy,
    *,
    steps: int = 3000,
    batch_size: int = 1024,
    lr: float = 3e-3,
    hidden: Sequence[int] = (64, 64),
    generator: Optional[torch.Generator] = None,
    fixed_sample: Optional[Tuple[Tensor, Tensor]] = None,
) -> MLPDiscriminator:
    r"""Train a discriminator for a *fixed* generator: the inner maximisation of Eq. 1.

    For fixed :math:`p_{data}` and :math:`p_g` the discriminator maximises

    .. math::

        V(G, D) = \mathbb{E}_{x \sim p_{data}}[\log D(x)] + \mathbb{E}_{x \sim p_g}[\log(1 - D(x))]
        \quad\text{(Eq. 1)},

    whose maximiser is :math:`D^*_G(x) = p_{data}(x) / (p_{data}(x) + p_g(x))`
    (Proposition 1, Eq. 2). This function runs that maximisation as Algorithm 1's inner loop with
    :math:`G` frozen: every step draws ``batch_size`` fresh samples from each distribution and takes
    one Adam step on :func:`ganlib.game.losses.discriminator_loss` (:math:`-\hat V`). The learning rate
    follows a cosine schedule from ``lr`` down to 0, so that the minibatch noise averages out at the
    end. The network is :class:`ganlib.nets.models.MLPDiscriminator` (1-D input, logits out). The loop
    runs on the CPU with one intra-op thread (restored afterwards): for a network this small that
    is as fast, and much faster on a busy machine.

    Args:
        p_data: the data distribution, a 1-D :class:`~ganlib.data.toy.Toy`.
        p_g: the (fixed) generator distribution, a 1-D :class:`~ganlib.data.toy.Toy`.
        steps: number of discriminator updates.
        batch_size: :math:`m`, samples per distribution per step.
        lr: initial Adam learning rate.
        hidden: hidden layer sizes of the MLP.
        generator: :class:`torch.Generator` for the initial weights and every minibatch; with the
            same generator state the result is the same (at a fixed thread count). ``None`` uses
            the global RNG.
        fixed_sample: ``None`` (fresh minibatches: the expectation of Eq. 1), or a finite
            training set ``(real, fake)``, tensors ``(n, 1)`` used whole at every step
            (``batch_size`` is then ignored). :math:`D` then maximises the *empirical* value on
            those points and, given capacity and steps, fits them rather than :math:`D^*_G`.

    Returns:
        The trained :class:`~ganlib.nets.models.MLPDiscriminator`, in eval mode; it returns logits,
        :math:`D(x) = \sigma(\text{logit})` (see :func:`ganlib.theory.discriminator_curve`).

    Raises:
        TypeError or ValueError: non-Toy or non-1-D distributions, non-positive budgets.
    """
    _check_toy_1d(p_data, "p_data")
    _check_toy_1d(p_g, "p_g")
    steps = _checks.positive_int(steps, "steps")
    batch_size = _checks.positive_int(batch_size, "batch_size")
    lr = _checks.positive_float(lr, "lr")
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator or None, got {type(generator).__name__}")
    hidden = tuple(_checks.positive_int(h, "hidden sizes") for h in hidden)
    if generator is None:
        net = MLPDiscriminator(in_dim=1, hidden=hidden)
    else:  # initial weights drawn from the caller's generator, not the global RNG
        init_seed = int(torch.randint(0, 2**62, (1,), generator=generator).item())
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(init_seed)
            net = MLPDiscriminator(in_dim=1, hidden=hidden)
    net.train()
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
    if fixed_sample is not None:
        real, fake = fixed_sample
        if not all(isinstance(t, Tensor) and t.dim() == 2 and t.shape[1] == 1 and len(t) > 0 for t in (real, fake)):
            raise ValueError("fixed_sample must be (real, fake), two non-empty tensors of shape (n, 1)")
    with one_cpu_thread():
        for _ in range(steps):
            if fixed_sample is None:
                real = p_data.sample(batch_size, generator=generator)
                fake = p_g.sample(batch_size, generator=generator)
            loss = discriminator_loss(net(real), net(fake))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
    return net.eval()


# --------------------------------------------------------------------------------------------------
# Section 3: how fast does p_g move?
# --------------------------------------------------------------------------------------------------


def steps_to_halfway(steps: Sequence[float], means: Sequence[float], target: float) -> Optional[int]:
    r"""First recorded step at which :math:`p_g`'s mean has covered half the distance to the target.

    With :math:`\mu_0` the first recorded mean of :math:`p_g` and :math:`\mu_{data}` = ``target``,
    returns the first ``steps[i]`` with

    .. math::

        |\mu_i - \mu_{data}| \le \tfrac12\, |\mu_0 - \mu_{data}| ,

    or ``None`` if no recorded step qualifies (the run stalled, e.g. the minimax generator loss of
    Eq. 1 saturating in Section 3's early-training regime).

    Args:
        steps: training steps at which the means were recorded, increasing.
        means: :math:`\mu_i`, the mean of :math:`p_g` (e.g. of a batch :math:`G(z)`) at ``steps[i]``.
        target: :math:`\mu_{data}`.

    Raises:
        ValueError: empty or mismatched sequences, non-finite values, non-increasing steps, or a
            start already at the target.
    """
    s = np.asarray(steps, dtype=np.float64)
    m = np.asarray(means, dtype=np.float64)
    if s.ndim != 1 or m.ndim != 1 or s.size == 0 or s.shape != m.shape:
        raise ValueError(f"steps and means must be non-empty 1-D sequences of equal length, got {s.shape} and {m.shape}")
    if not (np.all(np.isfinite(s)) and np.all(np.isfinite(m)) and math.isfinite(target)):
        raise ValueError("steps, means and target must be finite")
    if np.any(np.diff(s) <= 0):
        raise ValueError("steps must be strictly increasing")
    start = abs(m[0] - target)
    if start == 0:
        raise ValueError("the first mean already equals the target: halfway is undefined")
    hit = np.flatnonzero(np.abs(m - target) <= 0.5 * start)
    return None if hit.size == 0 else int(s[hit[0]])


def race_generator_losses(
    p_data: Toy,
    start_mean: float,
    start_std: float,
    *,
    steps: int,
    losses: Sequence[str] = ("saturating", "non_saturating"),
    pretrain_steps: int = 1000,
    batch_size: int = 256,
    lr: float = 0.05,
    optimizer: str = "SGD",
    optimizer_kwargs: Optional[Dict[str, Any]] = None,
    hidden: Sequence[int] = (32, 32),
    n_data: int = 20_000,
    seed: int = 0,
    device: str = "cpu",
) -> Tuple[pd.DataFrame, pd.DataFrame]:
    r"""Same-seed 1-D race of generator losses from a poor start (Section 3).

    The paper: "Early in learning, when :math:`G` is poor, :math:`D` can reject samples with high
    confidence because they are clearly different from the training data. In this case,
    :math:`\log(1 - D(G(z)))` saturates. Rather than training :math:`G` to minimize
    :math:`\log(1 - D(G(z)))` we can train :math:`G` to maximize :math:`\log D(G(z))`."

    Set-up, identical for every loss in ``losses``:

    * the generator is affine, :math:`G(z) = a + b z` with :math:`z \sim \mathcal{N}(0, 1)`
      (:class:`ganlib.nets.models.MLPGenerator` with no hidden layer), so :math:`p_g = \mathcal{N}(a, b^2)`
      and the mean of :math:`p_g` is exactly :math:`a = G(0)`; it starts at
      :math:`a = ` ``start_mean``, :math:`b = ` ``start_std``, far from :math:`p_{data}`;
    * the poor start: :math:`D` (:class:`ganlib.nets.models.MLPDiscriminator`) is first trained for
      ``pretrain_steps`` against that initial :math:`G` (:func:`fit_discriminator`), so that it
      rejects the generated samples confidently, :math:`D(G(z)) \approx 0`;
    * then Algorithm 1 runs for ``steps`` iterations (:math:`k = 1`) with
      :class:`ganlib.engine.loop.Trainer`, the discriminator minimising :math:`-V(G, D)` (Eq. 1) and the
      generator minimising the named loss: ``"saturating"``, :math:`\mathbb{E}_z[\log(1 - D(G(z)))]`
      (Eq. 1), or ``"non_saturating"``, :math:`-\mathbb{E}_z[\log D(G(z))]` (Section 3). Same data
      set, same initial weights, same seed, so the runs differ only in the generator's loss.

    The default optimiser is SGD with momentum 0.5 (the paper's); an adaptive optimiser such as
    Adam rescales small gradients and hides much of the saturation.

    Args:
        p_data: 1-D data distribution; ``n_data`` samples of it form the training set.
        start_mean, start_std: initial :math:`a` and :math:`b > 0` of :math:`G(z) = a + bz`.
        steps: Algorithm 1 iterations per loss.
        losses: generator-loss names registered in :data:`ganlib.game.registry.LOSSES`.
        pretrain_steps: discriminator-only steps before the race (0: a fresh :math:`D`).
        batch_size: :math:`m`.
        lr: learning rate of both players.
        optimizer, optimizer_kwargs: a :mod:`torch.optim` class name and its keyword arguments
            (default ``{"momentum": 0.5}`` for SGD, none otherwise).
        hidden: hidden sizes of :math:`D`.
        n_data: size of the training set.
        seed: seeds the training set, :math:`D`'s pre-training and every run.
        device: where the runs train (default the CPU, with one intra-op thread: the models are tiny).

    Returns:
        ``(history, summary)``. ``history`` has one row per loss and step, columns ``loss``,
        ``step`` (1-based), ``mean_g`` (the mean of :math:`p_g` after that step), ``d_fake`` (mean
        :math:`D(G(z))` on that step's discriminator batch) and ``g_loss``. ``summary`` has one
        row per loss, columns ``loss``, ``steps_to_halfway`` (:func:`steps_to_halfway`, a nullable
        integer, ``<NA>`` if never), ``final_mean`` and ``target`` (the mean of :math:`p_{data}`).

    Raises:
        TypeError or ValueError: bad distribution, budgets or loss names.
    """
    _check_toy_1d(p_data, "p_data")
    steps = _checks.positive_int(steps, "steps")
    if isinstance(pretrain_steps, bool) or not isinstance(pretrain_steps, int) or pretrain_steps < 0:
        raise ValueError(f"pretrain_steps must be an int >= 0, got {pretrain_steps!r}")
    batch_size = _checks.positive_int(batch_size, "batch_size")
    n_data = _checks.positive_int(n_data, "n_data")
    start_std = _checks.positive_float(start_std, "start_std")
    if isinstance(start_mean, bool) or not isinstance(start_mean, (int, float)) or not math.isfinite(start_mean):
        raise ValueError(f"start_mean must be a finite number, got {start_mean!r}")
    if isinstance(losses, str) or not losses:
        raise ValueError("losses must be a non-empty sequence of loss names, e.g. ('saturating', 'non_saturating')")
    for name in losses:
        get_loss(name)  # ValueError listing the valid names
    if optimizer_kwargs is None:
        optimizer_kwargs = {"momentum": 0.5} if optimizer == "SGD" else {}
    target = float(p_data.distribution.mean.reshape(-1)[0])
    if float(start_mean) == target:
        raise ValueError("start_mean equals the mean of p_data: there is no distance to cover")

    gen = torch.Generator().manual_seed(seed)
    data = p_data.sample(n_data, generator=gen)
    if pretrain_steps > 0:
        d0 = fit_discriminator(p_data, gaussian_1d(float(start_mean), start_std), steps=pretrain_steps,
                               batch_size=batch_size, hidden=hidden, generator=gen)
    else:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            d0 = MLPDiscriminator(in_dim=1, hidden=tuple(hidden))

    rows, summary = [], []
    for name in losses:
        g_net = MLPGenerator(latent_dim=1, out_dim=1, hidden=(), noise="normal")
        with torch.no_grad():  # G(z) = start_mean + start_std * z
            g_net.net[0].weight.fill_(start_std)
            g_net.net[0].bias.fill_(float(start_mean))
        config = TrainConfig(
            loss=name, k=1, batch_size=batch_size, max_steps=steps, optimizer=optimizer, lr_d=lr, lr_g=lr,
            optimizer_kwargs=dict(optimizer_kwargs), device=device, seed=seed, log_every=min(steps, 100),
            snapshot_every=-1, checkpoint_every=-1, progress=False,
        )
        zero = torch.zeros(1, 1, device=resolve_device(device))
        means = []

        def record(t: Trainer, means=means, zero=zero) -> None:
            with torch.no_grad():
                means.append(float(t.G(zero).item()))  # mean of p_g = G(0) for an affine G

        with one_cpu_thread():
            hist = train_pair(config, (g_net, copy.deepcopy(d0).train()), data, callbacks={"on_step_end": record}).history
        step_col = np.asarray(hist["step"], dtype=np.int64)
        rows.append(pd.DataFrame({"loss": name, "step": step_col, "mean_g": means,
                                  "d_fake": hist["d_fake"], "g_loss": hist["g_loss"]}))
        halfway = steps_to_halfway(np.concatenate([[0], step_col]), np.concatenate([[float(start_mean)], means]), target)
        summary.append({"loss": name, "steps_to_halfway": halfway, "final_mean": means[-1], "target": target})
    summary = pd.DataFrame(summary).astype({"steps_to_halfway": "Int64"})  # <NA> where it never got there
    return pd.concat(rows, ignore_index=True), summary
