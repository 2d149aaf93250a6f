r"""Numerical checks of the statements of Section 4 of Goodfellow et al. (2014), on a grid.

Each function computes the number that a statement predicts, with numpy and scipy only, so that a
chapter can print it and assert it. The closed forms themselves live in :mod:`ganlib.theory`.

* Proposition 1 (the optimal discriminator): :func:`discriminator_error` measures
  :math:`\max |D - D^*_G|` on the central region (:func:`central_region`) where the two densities
  carry their mass; a network's :math:`D` comes to the grid through
  :func:`ganlib.theory.discriminator_curve` (and is trained by
  :func:`ganlib.recipes.experiments.fit_discriminator`).
* Theorem 1 (the virtual criterion is a Jensen-Shannon divergence): :func:`theorem1_deviation`
  compares :math:`C(G)` by quadrature with :math:`-\log 4 + 2\,\mathrm{JSD}(p_{data} \| p_g)` over
  a family of generators.
* Proposition 2 (convergence of :math:`p_g`): :func:`proposition2_descent` runs the idealised
  algorithm of the proposition, :math:`p_g` updated in function space against :math:`D^*_G`.
"""

from __future__ import annotations

import math
from typing import Mapping, Sequence, Tuple, Union

import numpy as np
import pandas as pd
from scipy.integrate import cumulative_trapezoid, simpson

from ganlib import _checks, theory

__all__ = ["central_region", "discriminator_error", "theorem1_deviation", "proposition2_descent"]


# --------------------------------------------------------------------------------------------------
# Proposition 1: how far is D from D*_G?
# --------------------------------------------------------------------------------------------------


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
    mass = _checks.open_fraction(mass, "mass")
    x, p_data, p_g = _checks.densities_on_grid(x, p_data=p_data, p_g=p_g)
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
        d: :math:`D(x)` on the grid, values in :math:`[0, 1]` (e.g. from :func:`ganlib.theory.discriminator_curve`).
        p_data, p_g: the densities on the grid.
        x: strictly increasing 1-D grid.
        mass: mass of the mixture inside the region, in (0, 1).

    Returns:
        The maximum absolute error, a float in :math:`[0, 1]`.

    Raises:
        ValueError: shape mismatch, ``d`` outside :math:`[0, 1]` or non-finite, bad grid or densities.
    """
    region = central_region(p_data, p_g, x, mass)
    d = _checks.unit_interval(_checks.same_shape(_checks.float_array(d, "d"), "d", region), "d")
    d_star = theory.optimal_discriminator(p_data, p_g)
    return float(np.max(np.abs(d[region] - d_star[region])))


# --------------------------------------------------------------------------------------------------
# Theorem 1 and Proposition 2
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
    x = _checks.grid(x)
    p_data = _checks.density(p_data, "p_data", x)
    log4 = math.log(4.0)
    rows = []
    for label, p_g in items:
        p_g = _checks.density(p_g, f"p_g[{label!r}]", x)
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
    steps = _checks.positive_int(steps, "steps")
    lr = _checks.positive_float(lr, "lr")
    if lr > 1.0:
        raise ValueError(f"lr (the step size eta) must be in (0, 1], got {lr!r}")
    x, p_data, q = _checks.densities_on_grid(x, p_data=p_data, p_g=p_g)
    q = q.copy()
    rows = []
    for t in range(steps + 1):
        rows.append({"step": t, "C(G)": theory.virtual_criterion(p_data, q, x),
                     "JSD": theory.jensen_shannon(p_data, q, x)})
        if t == steps:
            break
        q = q ** (1.0 - lr) * (p_data + q) ** lr
        q /= simpson(q, x=x)
    return q, pd.DataFrame(rows)
