r"""Closed-form quantities of Section 4 of Goodfellow et al. (2014) for 1-D densities on a grid.

Densities :math:`p_{data}`, :math:`p_g` are given as non-negative arrays sampled on a strictly
increasing 1-D grid ``x``; integrals are computed with :func:`scipy.integrate.simpson`.
Logarithms use :func:`scipy.special.xlogy` / :func:`scipy.special.xlog1py`, so that
:math:`0 \log 0 = 0`. All results are in nats.

The closed forms assume normalised densities, so every function that takes a grid raises a
:class:`ValueError` when a density's integral on the grid differs from 1 by more than
``NORMALISATION_TOL`` (:math:`10^{-3}`; the fix is to widen or refine the grid).

Densities come from :func:`scipy.stats.norm.pdf` or :meth:`ganlib.data.toy.Toy.pdf`. A trained network
reaches the grid through two bridges: :func:`kde_pdf` estimates :math:`p_g`, the law of
:math:`G(z)`, from samples, and :func:`discriminator_curve` evaluates :math:`D` on the grid.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from scipy.integrate import cumulative_trapezoid, simpson, trapezoid
from scipy.special import expit, xlog1py, xlogy

from ganlib import _checks
from ganlib._checks import NORMALISATION_TOL  # re-exported: the tolerance of every density check here

__all__ = [
    "NORMALISATION_TOL",
    "KDE_BANDWIDTHS",
    "optimal_discriminator",
    "kl_divergence",
    "jensen_shannon",
    "value_function",
    "value_function_logits",
    "virtual_criterion",
    "wasserstein_1",
    "kde_pdf",
    "discriminator_curve",
]

# Proposition 1, Theorem 1 ------------------------------------------------------------------------


def optimal_discriminator(p_data: np.ndarray, p_g: np.ndarray) -> np.ndarray:
    r"""Optimal discriminator for a fixed :math:`G` (Proposition 1).

    .. math::

        D^*_G(x) = \frac{p_{data}(x)}{p_{data}(x) + p_g(x)} \quad\text{(Proposition 1, Eq. 2)}

    Where :math:`p_{data}(x) = p_g(x) = 0`, i.e. outside
    :math:`\mathrm{supp}(p_{data}) \cup \mathrm{supp}(p_g)`, the ratio is undefined and :math:`D`
    is not constrained by :math:`V(G, D)`; this function returns :math:`\tfrac12` there.
    No grid is needed and the densities need not be normalised (the ratio is scale-free only
    if both share the same scale).

    Args:
        p_data: :math:`p_{data}` at some points; finite, non-negative.
        p_g: :math:`p_g` at the same points; same shape.

    Returns:
        Array of :math:`D^*_G` values in :math:`[0, 1]`, same shape as the inputs.

    Raises:
        ValueError: shape mismatch, non-finite or negative density values.

    Example:
        >>> import numpy as np
        >>> from ganlib.theory import optimal_discriminator
        >>> optimal_discriminator(np.array([0.2, 0.3, 0.0]), np.array([0.2, 0.1, 0.0]))  # equal, 3:1, both 0
        array([0.5 , 0.75, 0.5 ])
    """
    p_data = _checks.nonnegative(p_data, "p_data")
    p_g = _checks.nonnegative(p_g, "p_g")
    if p_data.shape != p_g.shape:
        raise ValueError(f"shape mismatch: p_data has shape {p_data.shape} but p_g has shape {p_g.shape}")
    total = p_data + p_g
    out = np.full(total.shape, 0.5)
    np.divide(p_data, total, out=out, where=total > 0)
    return out


def kl_divergence(p: np.ndarray, q: np.ndarray, x: np.ndarray) -> float:
    r"""Kullback-Leibler divergence :math:`\mathrm{KL}(p \,\|\, q)` in nats (used in Theorem 1).

    .. math::

        \mathrm{KL}(p \,\|\, q) = \int p(x) \log\frac{p(x)}{q(x)}\,dx
        = \int \Big[p(x)\log\frac{p(x)}{q(x)} - p(x) + q(x)\Big]\,dx ,

    the second form (equal to the first because :math:`\int p = \int q = 1`) is what is
    integrated: its integrand is pointwise :math:`\ge 0`, so quadrature error cannot make it
    meaningfully negative. :math:`p \log(p/q)` is computed as ``xlogy(p, p) - xlogy(p, q)``, so
    :math:`0 \log(0/q) = 0`. If :math:`p > 0` somewhere :math:`q = 0` (:math:`p` not absolutely
    continuous w.r.t. :math:`q`) the divergence is :math:`+\infty` and ``inf`` is returned. This
    includes tails that underflow to exactly 0 in floating point (e.g. a narrow Gaussian :math:`q`
    on a grid much wider than :math:`p`'s support): choose the grid accordingly.

    Raises:
        ValueError: bad grid, shape mismatch, negative/non-finite or unnormalised densities.

    Example:
        >>> import numpy as np
        >>> from scipy.stats import norm
        >>> from ganlib.theory import kl_divergence
        >>> x = np.linspace(-10, 10, 2001)
        >>> p, q = norm.pdf(x), norm.pdf(x, loc=1)
        >>> round(kl_divergence(p, p, x), 4), round(kl_divergence(p, q, x), 4)  # 0, and (1 - 0)^2 / 2
        (0.0, 0.5)
    """
    x, p, q = _checks.densities_on_grid(x, p=p, q=q)
    return _kl_integral(p, q, x)


def _kl_integral(p: np.ndarray, q: np.ndarray, x: np.ndarray) -> float:
    r""":math:`\int p\log(p/q) - p + q\,dx` for validated arrays (no normalisation check)."""
    if np.any((p > 0) & (q == 0)):
        return float("inf")
    integrand = xlogy(p, p) - xlogy(p, q) - p + q
    return float(simpson(integrand, x=x))


def jensen_shannon(p: np.ndarray, q: np.ndarray, x: np.ndarray) -> float:
    r"""Jensen-Shannon divergence in nats (Theorem 1).

    .. math::

        \mathrm{JSD}(p \,\|\, q) = \tfrac12 \mathrm{KL}\Big(p \,\Big\|\, \frac{p+q}{2}\Big)
                                 + \tfrac12 \mathrm{KL}\Big(q \,\Big\|\, \frac{p+q}{2}\Big)
        \quad\text{(Theorem 1, Eqs. 5-6)}

    so that :math:`C(G) = -\log 4 + 2\,\mathrm{JSD}(p_{data} \,\|\, p_g)`. It is symmetric and lies
    in :math:`[0, \log 2]`, reaching :math:`\log 2` for disjoint supports (up to quadrature error;
    no clipping is applied). Each term is integrated as
    :math:`\mathrm{KL}(p \,\|\, M) = \tfrac12 \int \big[2p \log\frac{2p}{p+q} - 2p + (p+q)\big]\,dx`
    (the same value, see :func:`kl_divergence`), so that :math:`M` never underflows to 0 where
    :math:`p > 0`.

    Raises:
        ValueError: as :func:`kl_divergence` (bad grid, shapes or densities).

    Example:
        >>> import numpy as np
        >>> from scipy.stats import norm
        >>> from ganlib.theory import jensen_shannon
        >>> x = np.linspace(-10, 10, 2001)
        >>> p, q = norm.pdf(x, -4, 0.5), norm.pdf(x, 4, 0.5)  # two bumps that do not overlap
        >>> round(jensen_shannon(p, q, x), 4), round(jensen_shannon(p, p, x), 4)  # log 2, and 0
        (0.6931, 0.0)
    """
    x, p, q = _checks.densities_on_grid(x, p=p, q=q)
    # KL(p || M) = 1/2 KL(2p || p+q) (KL integrals scale linearly): avoids M = (p+q)/2 underflowing
    # to 0 where p is subnormal, which would make KL(p || M) infinite.
    total = p + q
    return 0.25 * (_kl_integral(2.0 * p, total, x) + _kl_integral(2.0 * q, total, x))


def value_function(d: np.ndarray, p_data: np.ndarray, p_g: np.ndarray, x: np.ndarray) -> float:
    r"""Value function :math:`V(G, D)` of Eq. 1 written as an integral over :math:`x` (Eq. 3).

    .. math::

        V(G, D) = \int_x p_{data}(x) \log D(x) + p_g(x) \log(1 - D(x))\,dx
        \quad\text{(Eq. 3, proof of Proposition 1)}

    for a given discriminator curve ``d`` :math:`= D(x)` on the grid, with values in
    :math:`[0, 1]`. Products are computed as ``xlogy(p_data, d)`` and ``xlog1py(p_g, -d)``, so
    :math:`0 \log 0 = 0`: :math:`D` may hit 0 or 1 where the corresponding density vanishes.
    Where :math:`D(x) = 0` against :math:`p_{data}(x) > 0`, or :math:`D(x) = 1` against
    :math:`p_g(x) > 0`, :math:`V = -\infty` and ``-inf`` is returned. Note that
    :func:`optimal_discriminator` rounds to exactly 0 or 1 in far tails where one density is below
    ~1e-16 times the other; use :func:`virtual_criterion` for :math:`V(G, D^*_G)`, and likewise a
    steep logistic curve rounds to 0 or 1: use :func:`value_function_logits` for :math:`D = \sigma(l)`.

    Raises:
        ValueError: ``d`` outside :math:`[0,1]` or non-finite, bad grid, shape mismatch,
            negative/non-finite or unnormalised densities.

    Example:
        >>> import numpy as np
        >>> from scipy.stats import norm
        >>> from ganlib.theory import optimal_discriminator, value_function
        >>> x = np.linspace(-10, 10, 2001)
        >>> p_data, p_g = norm.pdf(x), norm.pdf(x, loc=1)
        >>> d_star, d_half = optimal_discriminator(p_data, p_g), np.full_like(x, 0.5)
        >>> round(value_function(d_star, p_data, p_g, x), 4), round(value_function(d_half, p_data, p_g, x), 4)
        (-1.1635, -1.3863)
    """
    x, p_data, p_g = _checks.densities_on_grid(x, p_data=p_data, p_g=p_g)
    d = _checks.same_shape(_checks.float_array(d, "discriminator d"), "discriminator d", x)
    d = _checks.unit_interval(d, "discriminator d")
    if np.any((p_data > 0) & (d == 0)) or np.any((p_g > 0) & (d == 1)):
        return float("-inf")
    integrand = xlogy(p_data, d) + xlog1py(p_g, -d)
    return float(simpson(integrand, x=x))


def value_function_logits(logit: np.ndarray, p_data: np.ndarray, p_g: np.ndarray, x: np.ndarray) -> float:
    r"""Value function :math:`V(G, D)` of Eq. 3 for a discriminator given by its logit, :math:`D = \sigma(l)`.

    .. math::

        V(G, D) = \int_x p_{data}(x) \log \sigma(l(x)) + p_g(x) \log \sigma(-l(x))\,dx
                = -\int_x p_{data}(x)\,\operatorname{softplus}(-l(x)) + p_g(x)\,\operatorname{softplus}(l(x))\,dx
        \quad\text{(Eq. 3)}

    Same quantity as :func:`value_function` with ``d = sigmoid(logit)``, but :math:`\log D` and
    :math:`\log(1-D)` are computed from the logit with :func:`numpy.logaddexp`, so the result is
    finite for every finite logit, even where :math:`\sigma(l)` rounds to exactly 0 or 1 (e.g. a
    steep logistic :math:`D` on a wide grid, where :func:`value_function` returns ``-inf``).

    Raises:
        ValueError: non-finite logit, bad grid, shape mismatch, negative/non-finite or unnormalised densities.

    Example:
        >>> import numpy as np
        >>> from scipy.stats import norm
        >>> from ganlib.theory import value_function, value_function_logits
        >>> x = np.linspace(-10, 10, 2001)
        >>> p_data, p_g, logit = norm.pdf(x), norm.pdf(x, loc=1), 40.0 * x  # a steep logistic D
        >>> d = 1 / (1 + np.exp(-logit))  # exactly 1.0 for x >= 0.92, where p_g > 0
        >>> value_function(d, p_data, p_g, x), round(value_function_logits(logit, p_data, p_g, x), 4)
        (-inf, -59.3167)
    """
    x, p_data, p_g = _checks.densities_on_grid(x, p_data=p_data, p_g=p_g)
    logit = _checks.finite(_checks.same_shape(_checks.float_array(logit, "logit"), "logit", x), "logit")
    integrand = -(p_data * np.logaddexp(0.0, -logit) + p_g * np.logaddexp(0.0, logit))
    return float(simpson(integrand, x=x))


def virtual_criterion(p_data: np.ndarray, p_g: np.ndarray, x: np.ndarray) -> float:
    r"""Virtual training criterion :math:`C(G) = \max_D V(G, D) = V(G, D^*_G)` (Eq. 4).

    .. math::

        C(G) = \mathbb{E}_{x \sim p_{data}}\Big[\log \frac{p_{data}(x)}{p_{data}(x) + p_g(x)}\Big]
             + \mathbb{E}_{x \sim p_g}\Big[\log \frac{p_g(x)}{p_{data}(x) + p_g(x)}\Big]
        \quad\text{(Eq. 4)}

    Integrated as :math:`\int p_{data}\log p_{data} + p_g \log p_g - (p_{data}+p_g)\log(p_{data}+p_g)`
    (all with ``xlogy``) rather than through :func:`optimal_discriminator`, so that it stays finite
    where :math:`D^*_G` rounds to exactly 0 or 1 in floating point. By Theorem 1,
    :math:`C(G) = -\log 4 + 2\,\mathrm{JSD}(p_{data} \,\|\, p_g) \ge -\log 4`, with equality iff
    :math:`p_g = p_{data}`.

    Raises:
        ValueError: bad grid, shape mismatch, negative/non-finite or unnormalised densities.

    Example:
        >>> import math, numpy as np
        >>> from scipy.stats import norm
        >>> from ganlib.theory import jensen_shannon, virtual_criterion
        >>> x = np.linspace(-10, 10, 2001)
        >>> p, q = norm.pdf(x), norm.pdf(x, loc=1)
        >>> round(virtual_criterion(p, p, x), 4)  # the global minimum -log 4, at p_g = p_data
        -1.3863
        >>> round(virtual_criterion(p, q, x), 4), round(-math.log(4) + 2 * jensen_shannon(p, q, x), 4)
        (-1.1635, -1.1635)
    """
    x, p_data, p_g = _checks.densities_on_grid(x, p_data=p_data, p_g=p_g)
    total = p_data + p_g
    integrand = xlogy(p_data, p_data) + xlogy(p_g, p_g) - xlogy(total, total)
    return float(simpson(integrand, x=x))


def wasserstein_1(p: np.ndarray, q: np.ndarray, x: np.ndarray) -> float:
    r"""Wasserstein-1 (earth mover's) distance between two 1-D densities.

    .. math::

        W_1(p, q) = \int_{\mathbb{R}} \big|F_p(x) - F_q(x)\big|\,dx,
        \qquad F_p(x) = \int_{-\infty}^{x} p(t)\,dt

    Not in the 2014 paper; used by a later chapter to contrast with the JSD of Theorem 1 (for two
    disjoint translates :math:`\mathrm{JSD} = \log 2` at every shift, while :math:`W_1 = |\text{shift}|`).
    CDFs use :func:`scipy.integrate.cumulative_trapezoid`, and each density is normalised by its
    (trapezoidal) integral on the grid, so that both CDFs end at exactly 1. The outer integral uses
    the trapezoidal rule too, since :math:`|F_p - F_q|` has kinks where the CDFs cross.

    Raises:
        ValueError: a grid that is not strictly increasing, or densities that are negative,
            non-finite, of another shape or not normalised on it.

    Example:
        >>> import numpy as np
        >>> from scipy.stats import norm
        >>> from ganlib.theory import wasserstein_1
        >>> x = np.linspace(-10, 10, 2001)
        >>> p = norm.pdf(x)
        >>> [round(wasserstein_1(p, norm.pdf(x, loc=shift), x), 4) for shift in (2, 4)]  # W_1 = |shift|
        [2.0, 4.0]
    """
    x, p, q = _checks.densities_on_grid(x, p=p, q=q)
    cdf_p = cumulative_trapezoid(p, x=x, initial=0.0)
    cdf_q = cumulative_trapezoid(q, x=x, initial=0.0)
    cdf_p /= cdf_p[-1]
    cdf_q /= cdf_q[-1]
    return float(trapezoid(np.abs(cdf_p - cdf_q), x=x))


# Estimating p_g from samples ---------------------------------------------------------------------

#: Bandwidth rules accepted by :func:`kde_pdf` (the rules of :class:`scipy.stats.gaussian_kde`).
KDE_BANDWIDTHS = ("scott", "silverman")


def kde_pdf(samples: object, x: object, bandwidth: object = "scott") -> np.ndarray:
    r"""Gaussian kernel density estimate of a 1-D density from samples, evaluated at ``x``.

    .. math::

        \hat p(x) = \frac{1}{n h} \sum_{i=1}^{n} \varphi\Big(\frac{x - x_i}{h}\Big),
        \qquad \varphi(u) = \frac{e^{-u^2/2}}{\sqrt{2\pi}},

    with bandwidth :math:`h = \hat\sigma\, n^{-1/5}` (``"scott"``) or
    :math:`h = \hat\sigma\, (3n/4)^{-1/5}` (``"silverman"``), :math:`\hat\sigma` the sample standard
    deviation (``ddof=1``), as in :class:`scipy.stats.gaussian_kde`; or a given positive ``h``.
    :math:`\hat p` integrates to 1 over :math:`\mathbb{R}`, so on a grid that covers the samples
    (plus a few :math:`h`) it can be passed to :func:`jensen_shannon`, :func:`optimal_discriminator`
    (:math:`D^*_G = p_{data} / (p_{data} + \hat p_g)`, Proposition 1) and the other closed forms.

    Args:
        samples: the samples :math:`x_1, \dots, x_n`, shape ``(n,)`` or ``(n, 1)`` (numpy array,
            list or tensor), finite.
        x: points to evaluate at, a 1-D array.
        bandwidth: ``"scott"``, ``"silverman"`` or a positive number :math:`h`.

    Returns:
        float64 array of :math:`\hat p(x)`, same shape as ``x``.

    Raises:
        TypeError or ValueError: non-numeric, non-finite or wrongly shaped input; an unknown rule or
            non-positive bandwidth; a rule applied to samples with zero spread (e.g. a generator
            that collapsed to one point), where :math:`\hat\sigma = 0`: pass a number instead.

    Example:
        >>> import numpy as np, torch
        >>> from scipy.integrate import simpson
        >>> from ganlib.theory import kde_pdf
        >>> x = np.linspace(-10, 10, 2001)
        >>> samples = torch.randn(500, generator=torch.Generator().manual_seed(0))  # e.g. G(z) for 500 z
        >>> round(float(simpson(kde_pdf(samples, x), x=x)), 4)  # a density: integrates to 1
        1.0
    """
    s = _checks.float_array(samples, "samples")
    s = s.reshape(-1) if s.ndim == 2 and s.shape[1] == 1 else s
    if s.ndim != 1 or s.size == 0:
        raise ValueError(f"samples must be 1-D, shape (n,) or (n, 1) with n >= 1, got {s.shape}")
    s, pts, n = _checks.finite(s, "samples"), _checks.float_array(x, "x"), s.size
    if pts.ndim != 1 or not np.all(np.isfinite(pts)):
        raise ValueError(f"x must be a finite 1-D array, got shape {pts.shape}")
    if isinstance(bandwidth, str):
        if bandwidth not in KDE_BANDWIDTHS:
            raise ValueError(f"unknown bandwidth rule {bandwidth!r}; use one of {KDE_BANDWIDTHS} or a positive number")
        h = (float(np.std(s, ddof=1)) if n > 1 else 0.0) * (n ** -0.2 if bandwidth == "scott" else (0.75 * n) ** -0.2)
        if not h > 0:
            raise ValueError(f"the {bandwidth!r} rule gives bandwidth 0: the {n} samples have no spread "
                             "(a collapsed generator?); pass a positive number as bandwidth")
    elif isinstance(bandwidth, (int, float, np.integer, np.floating)) and not isinstance(bandwidth, bool):
        h = _checks.positive_float(bandwidth, "bandwidth")
    else:
        raise TypeError(f"bandwidth must be 'scott', 'silverman' or a number, got {type(bandwidth).__name__}")
    out = np.empty(pts.shape, dtype=np.float64)
    step = max(1, 2_000_000 // n)  # bounded memory: (chunk, n) kernel values at a time
    norm = 1.0 / (n * h * np.sqrt(2.0 * np.pi))
    for i in range(0, pts.size, step):
        u = (pts[i : i + step, None] - s[None, :]) / h
        out[i : i + step] = np.exp(-0.5 * u * u).sum(axis=1) * norm
    return out


# From a network to the grid ----------------------------------------------------------------------


def discriminator_curve(d_net: Any, x: object, *, logits: bool = False) -> np.ndarray:
    r"""A logit-returning discriminator network evaluated on a 1-D grid: :math:`D(x) = \sigma(l(x))`.

    The curve to compare with :math:`D^*_G(x) = \frac{p_{data}(x)}{p_{data}(x) + p_g(x)}`
    (Proposition 1, Eq. 2), or to pass to :func:`value_function`. The network runs in eval mode
    (dropout off, batch norm on its running statistics; its mode is restored afterwards), without
    gradients, in its own dtype and on its own device; :math:`\sigma` is applied in float64.

    Args:
        d_net: module mapping ``(N, 1)`` inputs to logits ``(N,)`` (or ``(N, 1)``).
        x: 1-D grid.
        logits: return the logits :math:`l(x)` instead of :math:`D(x)` (for
            :func:`value_function_logits`, which stays finite where :math:`\sigma(l)` rounds to
            0 or 1).

    Returns:
        float64 array of :math:`D(x) \in [0, 1]` (or of logits), same shape as ``x``.

    Raises:
        TypeError: ``d_net`` is not a module.
        ValueError: ``x`` is not a non-empty 1-D grid, or the network does not return one logit
            per point.

    Example:
        >>> import numpy as np, torch
        >>> from ganlib.theory import discriminator_curve
        >>> d_net = torch.nn.Linear(1, 1)  # logit l(x) = w x + b
        >>> with torch.no_grad():
        ...     _ = d_net.weight.fill_(2.0), d_net.bias.fill_(0.0)
        >>> discriminator_curve(d_net, np.array([-1.0, 0.0, 1.0])).round(3)  # sigmoid(2x)
        array([0.119, 0.5  , 0.881])
    """
    if not isinstance(d_net, torch.nn.Module):
        raise TypeError(f"d_net must be a torch.nn.Module returning logits, got {type(d_net).__name__}")
    x = _checks.float_array(x, "x")
    if x.ndim != 1 or x.size == 0:
        raise ValueError(f"x must be a non-empty 1-D grid, got shape {x.shape}")
    param = next(iter(d_net.parameters()), None)
    dtype = param.dtype if param is not None else torch.get_default_dtype()
    device = param.device if param is not None else torch.device("cpu")
    was = d_net.training
    d_net.eval()
    try:
        with torch.no_grad():
            out = d_net(torch.as_tensor(x, dtype=dtype, device=device).reshape(-1, 1))
    finally:
        d_net.train(was)
    out = out.reshape(-1).double().cpu().numpy()
    if out.shape != x.shape:
        raise ValueError(f"d_net returned {out.size} logits for {x.size} grid points; expected one per point")
    return out if logits else expit(out)
