r"""Numerical checks of the statements of Section 4 of Goodfellow et al. (2014), used by the theory
chapters of the book.

Each function computes one number that the paper's statement predicts, so that a chapter can print
it and assert it; the closed forms themselves live in :mod:`ganlib.theory` and the losses in
:mod:`ganlib.losses`.

* Proposition 1 (the optimal discriminator): :func:`fit_discriminator` trains a discriminator
  network on samples of two fixed 1-D distributions, :func:`discriminator_curve` evaluates it on a
  grid and :func:`discriminator_error` measures :math:`\max |D - D^*_G|` on the central region
  (:func:`central_region`) where the two densities carry their mass.
* Theorem 1 (the virtual criterion is a Jensen-Shannon divergence): :func:`theorem1_deviation`
  compares :math:`C(G)` by quadrature with :math:`-\log 4 + 2\,\mathrm{JSD}(p_{data} \| p_g)` over a
  family of generators.
* Proposition 2 (convergence of :math:`p_g`): :func:`proposition2_descent` runs the idealised
  algorithm of the proposition, :math:`p_g` updated in function space against :math:`D^*_G`.
* Section 3 (saturation of the minimax generator loss): :func:`steps_to_halfway` reads off how
  many training steps a run needs to move :math:`p_g`'s mean halfway to :math:`p_{data}`'s, and
  :func:`race_generator_losses` runs the same-seed race of the two generator losses with
  :class:`ganlib.train.Trainer`.
"""

from __future__ import annotations

import contextlib
import copy
import math
from typing import Any, Dict, Mapping, Optional, Sequence, Tuple, Union

import numpy as np
import pandas as pd
import torch
from scipy.integrate import cumulative_trapezoid, simpson
from scipy.special import expit
from torch import nn

from ganlib import theory
from ganlib.losses import discriminator_loss, get_loss
from ganlib.models import MLPDiscriminator, MLPGenerator
from ganlib.toy import Toy, gaussian_1d
from ganlib.train import TrainConfig, Trainer

__all__ = [
    "fit_discriminator",
    "discriminator_curve",
    "central_region",
    "discriminator_error",
    "theorem1_deviation",
    "proposition2_descent",
    "steps_to_halfway",
    "race_generator_losses",
]


# --------------------------------------------------------------------------------------------------
# validation helpers
# --------------------------------------------------------------------------------------------------


def _positive_int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value}")
    return int(value)


def _positive_float(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be positive and finite, got {value!r}")
    return float(value)


def _check_toy_1d(toy: object, name: str) -> Toy:
    if not isinstance(toy, Toy):
        raise TypeError(f"{name} must be a ganlib.toy.Toy, got {type(toy).__name__}")
    if toy.dim != 1:
        raise ValueError(f"{name} must be a 1-D toy, got dim {toy.dim} ({toy.name})")
    return toy


def _check_mass(mass: object) -> float:
    if isinstance(mass, bool) or not isinstance(mass, (int, float, np.floating)):
        raise TypeError(f"mass must be a number, got {type(mass).__name__}")
    if not 0.0 < mass < 1.0:
        raise ValueError(f"mass must be in (0, 1), e.g. 0.99, got {mass!r}")
    return float(mass)


@contextlib.contextmanager
def _one_cpu_thread():
    """Run the block with one intra-op CPU thread, then restore the previous count.

    The 1-D networks here are tiny: extra threads only add synchronisation, and on a busy machine
    (more runnable threads than cores) they slow these loops down by an order of magnitude.
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


# --------------------------------------------------------------------------------------------------
# Proposition 1: train D, compare with D*_G
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
) -> MLPDiscriminator:
    r"""Train a discriminator for a *fixed* generator: the inner maximisation of Eq. 1.

    For fixed :math:`p_{data}` and :math:`p_g` the discriminator maximises

    .. math::

        V(G, D) = \mathbb{E}_{x \sim p_{data}}[\log D(x)] + \mathbb{E}_{x \sim p_g}[\log(1 - D(x))]
        \quad\text{(Eq. 1)},

    whose maximiser is :math:`D^*_G(x) = p_{data}(x) / (p_{data}(x) + p_g(x))`
    (Proposition 1, Eq. 2). This function runs that maximisation as Algorithm 1's inner loop with
    :math:`G` frozen: every step draws ``batch_size`` fresh samples from each distribution and takes
    one Adam step on :func:`ganlib.losses.discriminator_loss` (:math:`-\hat V`). The learning rate
    follows a cosine schedule from ``lr`` down to 0, so that the minibatch noise averages out at the
    end. The network is :class:`ganlib.models.MLPDiscriminator` (1-D input, logits out). The loop
    runs on the CPU with one intra-op thread (restored afterwards): for a network this small that
    is as fast, and much faster on a busy machine.

    Args:
        p_data: the data distribution, a 1-D :class:`~ganlib.toy.Toy`.
        p_g: the (fixed) generator distribution, a 1-D :class:`~ganlib.toy.Toy`.
        steps: number of discriminator updates.
        batch_size: :math:`m`, samples per distribution per step.
        lr: initial Adam learning rate.
        hidden: hidden layer sizes of the MLP.
        generator: :class:`torch.Generator` for the initial weights and every minibatch; with the
            same generator state the result is the same (at a fixed thread count). ``None`` uses
            the global RNG.

    Returns:
        The trained :class:`~ganlib.models.MLPDiscriminator`, in eval mode; it returns logits,
        :math:`D(x) = \sigma(\text{logit})` (see :func:`discriminator_curve`).

    Raises:
        TypeError / ValueError: non-Toy or non-1-D distributions, non-positive budgets.
    """
    _check_toy_1d(p_data, "p_data")
    _check_toy_1d(p_g, "p_g")
    steps = _positive_int(steps, "steps")
    batch_size = _positive_int(batch_size, "batch_size")
    lr = _positive_float(lr, "lr")
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator or None, got {type(generator).__name__}")
    hidden = tuple(_positive_int(h, "hidden sizes") for h in hidden)
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
    with _one_cpu_thread():
        for _ in range(steps):
            real = p_data.sample(batch_size, generator=generator)
            fake = p_g.sample(batch_size, generator=generator)
            loss = discriminator_loss(net(real), net(fake))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
    return net.eval()


def discriminator_curve(d_net: nn.Module, x: np.ndarray, *, logits: bool = False) -> np.ndarray:
    r"""Evaluate a logit-returning discriminator on a 1-D grid: :math:`D(x) = \sigma(\text{logit}(x))`.

    The curve to compare with :math:`D^*_G(x) = \frac{p_{data}(x)}{p_{data}(x) + p_g(x)}`
    (Proposition 1, Eq. 2).

    Args:
        d_net: module mapping ``(N, 1)`` inputs to logits ``(N,)`` (or ``(N, 1)``).
        x: 1-D grid.
        logits: return the logits :math:`l(x)` instead of :math:`D(x)` (for
            :func:`ganlib.theory.value_function_logits`, which stays finite where
            :math:`\sigma(l)` rounds to 0 or 1).

    Returns:
        float64 array of :math:`D(x) \in [0, 1]` (or of logits), same shape as ``x``.
    """
    if not isinstance(d_net, nn.Module):
        raise TypeError(f"d_net must be a torch.nn.Module returning logits, got {type(d_net).__name__}")
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1 or x.size == 0:
        raise ValueError(f"x must be a non-empty 1-D grid, got shape {x.shape}")
    param = next(iter(d_net.parameters()), None)
    dtype = param.dtype if param is not None else torch.get_default_dtype()
    device = param.device if param is not None else torch.device("cpu")
    with torch.no_grad():
        out = d_net(torch.as_tensor(x, dtype=dtype, device=device).reshape(-1, 1))
    out = out.reshape(-1).double().cpu().numpy()
    if out.shape != x.shape:
        raise ValueError(f"d_net returned {out.size} logits for {x.size} grid points; expected one per point")
    if logits:
        return out
    return expit(out)


def central_region(p_data: np.ndarray, p_g: np.ndarray, x: np.ndarray, mass: float = 0.99) -> np.ndarray:
    r"""Boolean mask of the grid points in the central region carrying ``mass`` of the mixture.

    With the mixture :math:`M = \tfrac12 (p_{data} + p_g)` (the :math:`M` of Theorem 1) and its
    distribution function :math:`F_M(x) = \int_{-\infty}^x M(t)\,dt`, the region is the
    equal-tailed interval

    .. math::

        R_{mass} = \Big\{x :\ \tfrac{1 - mass}{2} \le F_M(x) \le 1 - \tfrac{1 - mass}{2}\Big\},

    e.g. for ``mass = 0.99`` the points between the 0.5 % and 99.5 % quantiles of :math:`M`. Outside
    it both densities are small, few samples ever land there, and a trained :math:`D` is
    unconstrained by :math:`V(G, D)` (Eq. 3 weights :math:`D` by the densities). :math:`F_M` is
    computed by the trapezoidal rule and normalised to end at 1 on the grid.

    Raises:
        ValueError: bad grid, shape mismatch, negative/non-finite or unnormalised densities,
            ``mass`` outside (0, 1).
    """
    mass = _check_mass(mass)
    x = theory._check_grid(x)
    p_data = theory._check_density(p_data, "p_data", x)
    p_g = theory._check_density(p_g, "p_g", x)
    cdf = cumulative_trapezoid(0.5 * (p_data + p_g), x=x, initial=0.0)
    cdf /= cdf[-1]
    tail = 0.5 * (1.0 - mass)
    return (cdf >= tail) & (cdf <= 1.0 - tail)


def discriminator_error(
    d: np.ndarray, p_data: np.ndarray, p_g: np.ndarray, x: np.ndarray, mass: float = 0.99
) -> float:
    r"""Largest deviation of a discriminator from the optimal one on the central region.

    .. math::

        \operatorname{err}(D) = \max_{x \in R_{mass}} \big|D(x) - D^*_G(x)\big|, \qquad
        D^*_G(x) = \frac{p_{data}(x)}{p_{data}(x) + p_g(x)} \quad\text{(Proposition 1, Eq. 2)},

    where :math:`R_{mass}` is the central region of :func:`central_region`, the grid points
    between the :math:`\tfrac{1 - mass}{2}` and :math:`1 - \tfrac{1 - mass}{2}` quantiles of
    :math:`\tfrac12 (p_{data} + p_g)`. Restricting to :math:`R_{mass}` matters: far in the tails
    :math:`V(G, D)` puts (almost) no weight on :math:`D`, so no finite training run pins it down.

    Args:
        d: :math:`D(x)` on the grid, values in :math:`[0, 1]` (e.g. from :func:`discriminator_curve`).
        p_data, p_g: the densities on the grid.
        x: strictly increasing 1-D grid.
        mass: mass of the mixture inside the region, in (0, 1).

    Returns:
        The maximum absolute error, a float in :math:`[0, 1]`.

    Raises:
        ValueError: shape mismatch, ``d`` outside :math:`[0, 1]` or non-finite, bad grid or densities.
    """
    region = central_region(p_data, p_g, x, mass)
    d = theory._as_float_array(d, "d")
    if d.shape != region.shape:
        raise ValueError(f"shape mismatch: d has shape {d.shape} but grid x has shape {region.shape}")
    if not np.all(np.isfinite(d)):
        raise ValueError("d contains non-finite values (NaN or inf)")
    if np.any((d < 0) | (d > 1)):
        raise ValueError(f"d must take values in [0, 1], got range [{d.min():.3g}, {d.max():.3g}]")
    d_star = theory.optimal_discriminator(p_data, p_g)
    return float(np.max(np.abs(d[region] - d_star[region])))


# --------------------------------------------------------------------------------------------------
# Theorem 1: C(G) = -log 4 + 2 JSD(p_data || p_g)
# --------------------------------------------------------------------------------------------------


def theorem1_deviation(
    p_data: np.ndarray,
    family: Union[Mapping[str, np.ndarray], Sequence[np.ndarray]],
    x: np.ndarray,
) -> Tuple[float, pd.DataFrame]:
    r"""Check Theorem 1 by quadrature over a family of generators.

    For each :math:`p_g` in ``family`` three numbers are computed on the grid ``x``:

    .. math::

        C(G) &= \mathbb{E}_{x \sim p_{data}}\Big[\log \frac{p_{data}(x)}{p_{data}(x) + p_g(x)}\Big]
               + \mathbb{E}_{x \sim p_g}\Big[\log \frac{p_g(x)}{p_{data}(x) + p_g(x)}\Big]
               && \text{(Eq. 4)} \\
             &= -\log 4 + \mathrm{KL}\Big(p_{data} \Big\| \frac{p_{data} + p_g}{2}\Big)
               + \mathrm{KL}\Big(p_g \Big\| \frac{p_{data} + p_g}{2}\Big)
               && \text{(Eq. 5)} \\
             &= -\log 4 + 2\,\mathrm{JSD}(p_{data} \,\|\, p_g)
               && \text{(Eq. 6, Theorem 1)}

    with :func:`ganlib.theory.virtual_criterion` (Eq. 4),
    :func:`ganlib.theory.kl_divergence` against the mixture :math:`M` (Eq. 5) and
    :func:`ganlib.theory.jensen_shannon` (Eq. 6): three different integrands, equal only if the
    algebra of the proof is right (the constant :math:`-\log 4`, its sign, the factor 2).

    Args:
        p_data: :math:`p_{data}` on the grid.
        family: the generators' densities :math:`p_g` on the grid, a mapping ``label -> density``
            or a sequence of densities (labelled ``0, 1, ...``); at least one.
        x: strictly increasing 1-D grid.

    Returns:
        ``(max_dev, table)``: the largest of :math:`|C(G) - \text{Eq. 5}|` and
        :math:`|C(G) - \text{Eq. 6}|` over the family, and a :class:`pandas.DataFrame` with one row
        per member and columns ``p_g``, ``C(G)``, ``KL(p_data||M)``, ``KL(p_g||M)``, ``JSD``,
        ``-log4+2JSD``, ``deviation``.

    Raises:
        ValueError: empty family, bad grid, shape mismatch, negative/non-finite or unnormalised
            densities (see :mod:`ganlib.theory`).
    """
    if isinstance(family, Mapping):
        items = list(family.items())
    elif isinstance(family, (list, tuple)):
        items = list(enumerate(family))
    else:
        raise TypeError(f"family must be a mapping label -> density or a list of densities, got {type(family).__name__}")
    if not items:
        raise ValueError("family is empty: give at least one density p_g")
    x = theory._check_grid(x)
    p_data = theory._check_density(p_data, "p_data", x)
    log4 = math.log(4.0)
    rows = []
    for label, p_g in items:
        p_g = theory._check_density(p_g, f"p_g[{label!r}]", x)
        mixture = 0.5 * (p_data + p_g)
        c = theory.virtual_criterion(p_data, p_g, x)
        kl_data = theory.kl_divergence(p_data, mixture, x)
        kl_g = theory.kl_divergence(p_g, mixture, x)
        jsd = theory.jensen_shannon(p_data, p_g, x)
        rhs = -log4 + 2.0 * jsd
        dev = max(abs(c - (-log4 + kl_data + kl_g)), abs(c - rhs))
        rows.append({"p_g": label, "C(G)": c, "KL(p_data||M)": kl_data, "KL(p_g||M)": kl_g, "JSD": jsd,
                     "-log4+2JSD": rhs, "deviation": dev})
    table = pd.DataFrame(rows)
    return float(table["deviation"].max()), table


def proposition2_descent(
    p_data: np.ndarray, p_g: np.ndarray, x: np.ndarray, *, steps: int = 20, lr: float = 0.5
) -> Tuple[np.ndarray, pd.DataFrame]:
    r"""Proposition 2 in function space: update :math:`p_g` itself against an optimal :math:`D`.

    Proposition 2 assumes that at every step the discriminator reaches :math:`D^*_G` and that
    :math:`p_g` (not a network's parameters) is updated to improve

    .. math::

        U(p_g, D^*_G) = \mathbb{E}_{x \sim p_{data}}[\log D^*_G(x)]
                      + \mathbb{E}_{x \sim p_g}[\log(1 - D^*_G(x))] = C(G)
        \quad\text{(Proposition 2)}.

    :math:`U(p_g, D)` is linear (so convex) in :math:`p_g`; its derivative with respect to
    :math:`p_g(x)` at :math:`D = D^*_G` is :math:`g(x) = \log(1 - D^*_G(x)) =
    \log \frac{p_g(x)}{p_{data}(x) + p_g(x)}`, a subgradient of :math:`C = \sup_D U` (the argument of
    the proof). To keep :math:`p_g` a density the step is taken multiplicatively (exponentiated
    gradient, i.e. mirror descent in the geometry of the KL divergence):

    .. math::

        p_g^{(t+1)}(x) \propto p_g^{(t)}(x)\, e^{-\eta\, g(x)}
        = p_g^{(t)}(x)^{1 - \eta}\, \big(p_{data}(x) + p_g^{(t)}(x)\big)^{\eta},

    normalised by Simpson's rule on the grid. With :math:`\eta = 1` the step is exactly the mixture
    :math:`p_g^{(t+1)} = \tfrac12 (p_{data} + p_g^{(t)})`. For :math:`0 < \eta < 1`, mass cannot
    appear where :math:`p_g^{(0)} = 0`: start from a density that is positive on the grid.

    Args:
        p_data: :math:`p_{data}` on the grid.
        p_g: the starting :math:`p_g^{(0)}` on the grid.
        x: strictly increasing 1-D grid.
        steps: number of updates.
        lr: step size :math:`\eta \in (0, 1]`.

    Returns:
        ``(p_g_final, history)``: the density after ``steps`` updates and a
        :class:`pandas.DataFrame` with columns ``step`` (0 .. steps), ``C(G)`` and ``JSD``.

    Raises:
        ValueError: bad grid or densities, ``steps < 1``, ``lr`` outside (0, 1].
    """
    steps = _positive_int(steps, "steps")
    lr = _positive_float(lr, "lr")
    if lr > 1.0:
        raise ValueError(f"lr (the step size eta) must be in (0, 1], got {lr!r}")
    x = theory._check_grid(x)
    p_data = theory._check_density(p_data, "p_data", x)
    q = theory._check_density(p_g, "p_g", x).copy()
    rows = []
    for t in range(steps + 1):
        rows.append({"step": t, "C(G)": theory.virtual_criterion(p_data, q, x),
                     "JSD": theory.jensen_shannon(p_data, q, x)})
        if t == steps:
            break
        q = q ** (1.0 - lr) * (p_data + q) ** lr
        q /= simpson(q, x=x)
    return q, pd.DataFrame(rows)


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
      (:class:`ganlib.models.MLPGenerator` with no hidden layer), so :math:`p_g = \mathcal{N}(a, b^2)`
      and the mean of :math:`p_g` is exactly :math:`a = G(0)`; it starts at
      :math:`a = ` ``start_mean``, :math:`b = ` ``start_std``, far from :math:`p_{data}`;
    * the poor start: :math:`D` (:class:`ganlib.models.MLPDiscriminator`) is first trained for
      ``pretrain_steps`` against that initial :math:`G` (:func:`fit_discriminator`), so that it
      rejects the generated samples confidently, :math:`D(G(z)) \approx 0`;
    * then Algorithm 1 runs for ``steps`` iterations (:math:`k = 1`) with
      :class:`ganlib.train.Trainer`, the discriminator minimising :math:`-V(G, D)` (Eq. 1) and the
      generator minimising the named loss: ``"saturating"``, :math:`\mathbb{E}_z[\log(1 - D(G(z)))]`
      (Eq. 1), or ``"non_saturating"``, :math:`-\mathbb{E}_z[\log D(G(z))]` (Section 3). Same data
      set, same initial weights, same seed, so the runs differ only in the generator's loss.

    The default optimiser is SGD with momentum 0.5 (the paper's); an adaptive optimiser such as
    Adam rescales small gradients and hides much of the saturation.

    Args:
        p_data: 1-D data distribution; ``n_data`` samples of it form the training set.
        start_mean, start_std: initial :math:`a` and :math:`b > 0` of :math:`G(z) = a + bz`.
        steps: Algorithm 1 iterations per loss.
        losses: generator-loss names registered in :data:`ganlib.losses.LOSSES`.
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
        TypeError / ValueError: bad distribution, budgets or loss names.
    """
    _check_toy_1d(p_data, "p_data")
    steps = _positive_int(steps, "steps")
    if isinstance(pretrain_steps, bool) or not isinstance(pretrain_steps, int) or pretrain_steps < 0:
        raise ValueError(f"pretrain_steps must be an int >= 0, got {pretrain_steps!r}")
    batch_size = _positive_int(batch_size, "batch_size")
    n_data = _positive_int(n_data, "n_data")
    start_std = _positive_float(start_std, "start_std")
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
        trainer = Trainer(config, g_net, copy.deepcopy(d0).train(), data)
        zero = torch.zeros(1, 1, device=trainer.device)
        means = []

        def record(t: Trainer, means=means, zero=zero) -> None:
            with torch.no_grad():
                means.append(float(t.G(zero).item()))  # mean of p_g = G(0) for an affine G

        trainer.add_callback("on_step_end", record)
        with _one_cpu_thread():
            hist = trainer.run()
        step_col = np.asarray(hist["step"], dtype=np.int64)
        rows.append(pd.DataFrame({"loss": name, "step": step_col, "mean_g": means,
                                  "d_fake": hist["d_fake"], "g_loss": hist["g_loss"]}))
        halfway = steps_to_halfway(np.concatenate([[0], step_col]), np.concatenate([[float(start_mean)], means]), target)
        summary.append({"loss": name, "steps_to_halfway": halfway, "final_mean": means[-1], "target": target})
    summary = pd.DataFrame(summary).astype({"steps_to_halfway": "Int64"})  # <NA> where it never got there
    return pd.concat(rows, ignore_index=True), summary
