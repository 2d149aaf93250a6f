r"""Toy data distributions :math:`p_{data}` for GAN experiments, built on :mod:`torch.distributions`.

Every toy is a Gaussian (mixture) :math:`p_{data}(x) = \sum_k \pi_k\,\mathcal{N}(x; \mu_k, \sigma_k^2 I)`
wrapped in a :class:`Toy`, which can draw samples :math:`x \sim p_{data}` (reproducibly, from a
:class:`torch.Generator`), evaluate :math:`\log p_{data}(x)`, and, for 1-D toys, evaluate
:math:`p_{data}` on a numpy grid for the closed forms in :mod:`ganlib.theory`.

Constructors: :func:`gaussian_1d`, :func:`gaussian_mixture_1d`, :func:`ring_of_gaussians` and
:func:`grid_of_gaussians` (the 2-D ring and grid use the PacGAN configurations). The toys of the
book's chapters have names (:data:`TOYS`, :func:`get_toy`); :func:`ganlib.data.toy_data` draws a
fixed training set from one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional, Sequence, Union

import numpy as np
import torch
from torch import Tensor
from torch.distributions import Categorical, Distribution, Independent, MixtureSameFamily, Normal

from ganlib import _checks
from ganlib._registry import Registry

__all__ = ["Toy", "gaussian_1d", "gaussian_mixture_1d", "ring_of_gaussians", "grid_of_gaussians", "TOYS", "get_toy"]

ArrayLike = Union[Sequence[float], np.ndarray, Tensor]


@dataclass(frozen=True, eq=False)
class Toy:
    r"""A toy data distribution :math:`p_{data}` on :math:`\mathbb{R}^{dim}` (the :math:`p_{data}` of Eq. 1).

    Attributes:
        name: human-readable name, e.g. ``"ring_of_gaussians(n_modes=8, radius=1, std=0.01)"``.
        distribution: a :class:`torch.distributions.Distribution` with event shape ``(dim,)``.
            :meth:`sample` with a generator supports
            ``MixtureSameFamily(Categorical, Independent(Normal, 1))`` and ``Independent(Normal, 1)``.
        means: mode centres :math:`\mu_k`, shape ``(n_modes, dim)``.
        std: the (largest) component standard deviation :math:`\sigma`, e.g. for mode-coverage checks
            such as "a sample within :math:`k\sigma` of some centre".

    Equality is identity (tensors have no scalar ``==``).
    """

    name: str
    distribution: Distribution
    means: Tensor
    std: float

    def __post_init__(self) -> None:
        if not isinstance(self.name, str):
            raise TypeError(f"Toy.name must be a str, got {type(self.name).__name__}")
        if not isinstance(self.distribution, Distribution):
            raise TypeError(f"Toy.distribution must be a torch Distribution, got {type(self.distribution).__name__}")
        if not isinstance(self.means, Tensor) or self.means.dim() != 2 or self.means.shape[0] < 1:
            raise ValueError("Toy.means must be a tensor of shape (n_modes, dim) with n_modes >= 1")
        if tuple(self.distribution.event_shape) != (self.means.shape[1],):
            raise ValueError(
                f"shape mismatch: distribution event shape {tuple(self.distribution.event_shape)} "
                f"but means have dim {self.means.shape[1]}"
            )
        if isinstance(self.std, bool) or not isinstance(self.std, (int, float)) or not (
            math.isfinite(self.std) and self.std > 0
        ):
            raise ValueError(f"Toy.std must be a positive finite float, got {self.std!r}")

    @property
    def dim(self) -> int:
        """Dimension of the data space, :math:`x \\in \\mathbb{R}^{dim}`."""
        return int(self.means.shape[1])

    def sample(self, n: int, generator: Optional[torch.Generator] = None) -> Tensor:
        r"""Draw :math:`n` samples :math:`x^{(i)} \sim p_{data}` (the minibatch of Algorithm 1).

        For a mixture, a component :math:`k \sim \mathrm{Categorical}(\pi)` is drawn with
        :func:`torch.multinomial`, then :math:`x = \mu_k + \sigma_k \epsilon`,
        :math:`\epsilon \sim \mathcal{N}(0, I)` with :func:`torch.randn`, both from ``generator``
        when one is given (same generator state, same samples). Without a generator the global RNG
        is used.

        Args:
            n: number of samples, a positive int.
            generator: optional :class:`torch.Generator` (on the distribution's device).

        Returns:
            Tensor of shape ``(n, dim)``.
        """
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"n must be a positive int, got {n!r}")
        if generator is not None and not isinstance(generator, torch.Generator):
            raise TypeError(f"generator must be a torch.Generator or None, got {type(generator).__name__}")
        dist = self.distribution
        if isinstance(dist, MixtureSameFamily) and _is_diag_normal(dist.component_distribution):
            probs = dist.mixture_distribution.probs
            normal = _base_normal(dist.component_distribution)
            idx = torch.multinomial(probs, n, replacement=True, generator=generator)
            eps = torch.randn((n, self.dim), generator=generator, dtype=normal.loc.dtype, device=normal.loc.device)
            return normal.loc[idx] + normal.scale[idx] * eps
        if _is_diag_normal(dist):
            normal = _base_normal(dist)
            eps = torch.randn((n, self.dim), generator=generator, dtype=normal.loc.dtype, device=normal.loc.device)
            return normal.loc + normal.scale * eps
        if generator is not None:
            raise TypeError(
                f"reproducible sampling with a generator is implemented for Gaussian (mixture) toys only, "
                f"not for {type(dist).__name__}"
            )
        return dist.sample((n,))

    def log_prob(self, x: Tensor) -> Tensor:
        r"""Log-density :math:`\log p_{data}(x)` for ``x`` of shape ``(..., dim)``; returns shape ``(...)``."""
        if not isinstance(x, Tensor):
            raise TypeError(f"x must be a torch.Tensor, got {type(x).__name__}")
        if not x.is_floating_point():
            raise TypeError(f"x must be a floating-point tensor, got dtype {x.dtype}")
        if x.dim() < 1 or x.shape[-1] != self.dim:
            raise ValueError(f"shape mismatch: x has shape {tuple(x.shape)}, expected (..., {self.dim})")
        return self.distribution.log_prob(x)

    def pdf(self, x: np.ndarray) -> np.ndarray:
        r"""Density :math:`p_{data}(x)` on a 1-D numpy grid (1-D toys only), for :mod:`ganlib.theory`.

        Computed as :math:`\exp \log p_{data}(x)` in float64.

        Raises:
            ValueError: if the toy has ``dim > 1`` or ``x`` is not a 1-D array.
        """
        if self.dim != 1:
            raise ValueError(f"pdf on a grid is only defined for 1-D toys; {self.name} has dim {self.dim}")
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 1:
            raise ValueError(f"x must be a 1-D grid, got shape {x.shape}")
        with torch.no_grad():
            logp = self.log_prob(torch.from_numpy(x).reshape(-1, 1))
        return np.exp(logp.double().cpu().numpy())


def _is_diag_normal(d: Distribution) -> bool:
    return isinstance(d, Independent) and isinstance(d.base_dist, Normal) and d.reinterpreted_batch_ndims == 1


def _base_normal(d: Distribution) -> Normal:
    assert isinstance(d, Independent) and isinstance(d.base_dist, Normal)
    return d.base_dist


def _mixture(means: Tensor, stds: Tensor, weights: Tensor) -> MixtureSameFamily:
    r""":math:`\sum_k \pi_k \mathcal{N}(\mu_k, \mathrm{diag}(\sigma_k^2))`; means and stds ``(k, dim)``."""
    return MixtureSameFamily(Categorical(probs=weights), Independent(Normal(means, stds), 1))


def _vector(values: object, name: str) -> np.ndarray:
    if isinstance(values, Tensor):
        values = values.detach().cpu().numpy()
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D sequence, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains non-finite values")
    return arr


def gaussian_1d(mean: float = 0.0, std: float = 1.0) -> Toy:
    r"""One-dimensional Gaussian :math:`p_{data} = \mathcal{N}(\text{mean}, \text{std}^2)` (the 1-D
    :math:`p_{data}` of Figure 1), as a one-component mixture with samples of shape ``(n, 1)``."""
    mean = _checks.finite_float(mean, "mean")
    std = _checks.positive_float(std, "std")
    return gaussian_mixture_1d([float(mean)], [std], name=f"gaussian_1d(mean={mean:g}, std={std:g})")


def gaussian_mixture_1d(
    means: ArrayLike, stds: ArrayLike, weights: Optional[ArrayLike] = None, *, name: Optional[str] = None
) -> Toy:
    r"""One-dimensional mixture :math:`p_{data}(x) = \sum_k \pi_k \mathcal{N}(x; \mu_k, \sigma_k^2)`.

    Args:
        means: :math:`\mu_k`, length :math:`K`.
        stds: :math:`\sigma_k > 0`, length :math:`K`.
        weights: :math:`\pi_k \ge 0` with positive sum, length :math:`K`; normalised here.
            Default uniform :math:`\pi_k = 1/K`.
        name: optional display name.

    Returns:
        A 1-D :class:`Toy`; its ``std`` is :math:`\max_k \sigma_k`.
    """
    mu = _vector(means, "means")
    sigma = _vector(stds, "stds")
    if sigma.shape != mu.shape:
        raise ValueError(f"means and stds must have the same length, got {mu.size} and {sigma.size}")
    if np.any(sigma <= 0):
        raise ValueError(f"stds must be > 0, got {sigma.tolist()}")
    if weights is None:
        w = np.full(mu.shape, 1.0 / mu.size)
    else:
        w = _vector(weights, "weights")
        if w.shape != mu.shape:
            raise ValueError(f"weights must have the same length as means, got {w.size} and {mu.size}")
        if np.any(w < 0):
            raise ValueError(f"weights must be >= 0, got {w.tolist()}")
        if w.sum() <= 0:
            raise ValueError("weights must have a positive sum")
        w = w / w.sum()
    dtype = torch.get_default_dtype()
    mu_t = torch.as_tensor(mu, dtype=dtype).reshape(-1, 1)
    sigma_t = torch.as_tensor(sigma, dtype=dtype).reshape(-1, 1)
    dist = _mixture(mu_t, sigma_t, torch.as_tensor(w, dtype=dtype))
    if name is None:
        name = f"gaussian_mixture_1d(K={mu.size})"
    return Toy(name=name, distribution=dist, means=mu_t, std=float(sigma.max()))


def ring_of_gaussians(n_modes: int = 8, radius: float = 1.0, std: float = 0.01) -> Toy:
    r"""Ring of :math:`n` equally weighted isotropic Gaussians in 2-D (PacGAN's "2D-ring").

    .. math::

        p_{data} = \frac1n \sum_{i=0}^{n-1} \mathcal{N}\big((r\cos\tfrac{2\pi i}{n},\; r\sin\tfrac{2\pi i}{n}),\;
        \sigma^2 I\big)

    Defaults (8 modes, radius 1, :math:`\sigma = 0.01`, i.e. variance :math:`10^{-4}`) follow PacGAN.
    """
    n_modes = _checks.positive_int(n_modes, "n_modes")
    radius = _checks.positive_float(radius, "radius")
    std = _checks.positive_float(std, "std")
    angles = torch.arange(n_modes, dtype=torch.float64) * (2.0 * math.pi / n_modes)
    means = (radius * torch.stack([torch.cos(angles), torch.sin(angles)], dim=1)).to(torch.get_default_dtype())
    dist = _mixture(means, torch.full_like(means, std), torch.full((n_modes,), 1.0 / n_modes))
    return Toy(f"ring_of_gaussians(n_modes={n_modes}, radius={radius:g}, std={std:g})", dist, means, std)


def grid_of_gaussians(n_per_side: int = 5, spacing: float = 2.0, std: float = 0.05) -> Toy:
    r"""Centred square grid of :math:`n^2` equally weighted isotropic Gaussians in 2-D (PacGAN's "2D-grid").

    .. math::

        p_{data} = \frac{1}{n^2} \sum_{i,j=0}^{n-1} \mathcal{N}\big((c_i, c_j), \sigma^2 I\big),
        \qquad c_i = s\,\big(i - \tfrac{n-1}{2}\big)

    The defaults (:math:`n = 5`, :math:`s = 2`, :math:`\sigma = 0.05`, i.e. variance 0.0025) give
    means :math:`\{-4, -2, 0, 2, 4\}^2` as in PacGAN.
    """
    n_per_side = _checks.positive_int(n_per_side, "n_per_side")
    spacing = _checks.positive_float(spacing, "spacing")
    std = _checks.positive_float(std, "std")
    coords = (torch.arange(n_per_side, dtype=torch.float64) - (n_per_side - 1) / 2.0) * spacing
    gx, gy = torch.meshgrid(coords, coords, indexing="ij")
    means = torch.stack([gx.reshape(-1), gy.reshape(-1)], dim=1).to(torch.get_default_dtype())
    k = n_per_side * n_per_side
    dist = _mixture(means, torch.full_like(means, std), torch.full((k,), 1.0 / k))
    return Toy(f"grid_of_gaussians(n_per_side={n_per_side}, spacing={spacing:g}, std={std:g})", dist, means, std)


#: The toys of the book's chapters by name (``--dataset`` of the command line): a
#: ``ganlib._registry.Registry`` of functions that make the :class:`Toy`, with one line each.
TOYS = Registry("toy")
TOYS.register("gaussian_1d", lambda: gaussian_1d(4.0, 0.5), "N(4, 0.5^2) on the line")
TOYS.register("mixture_1d", lambda: gaussian_mixture_1d([-2.0, 2.0], [0.5, 0.5], [0.5, 0.5]),
              "two 1-D Gaussians at -2 and 2 (std 0.5)")
TOYS.register("ring", lambda: ring_of_gaussians(8, 1.0, 0.01), "ring of 8 Gaussians, radius 1, std 0.01 (PacGAN)")
TOYS.register("grid", lambda: grid_of_gaussians(5, 2.0, 0.05), "grid of 25 Gaussians on {-4,-2,0,2,4}^2, std 0.05 (PacGAN)")


def get_toy(name: str) -> Toy:
    """The :class:`Toy` called ``name`` in :data:`TOYS`.

    Raises:
        ValueError: unknown name (the message lists the valid ones).
    """
    return TOYS.lookup(name)()
