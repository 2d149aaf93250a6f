r"""Parzen-window log-likelihood estimates (Table 1 of Goodfellow et al., 2014) and pixel-space
nearest neighbours (Figure 2).

The paper's protocol (``parzen_ll.py`` in ``goodfeli/adversarial``, after Breuleux et al., 2011):
fit an isotropic Gaussian kernel density to :math:`n` generator samples :math:`\mu_1..\mu_n`
(10,000 in the paper),

.. math::

    \hat p_\sigma(x) = \frac1n \sum_{i=1}^n \mathcal N(x;\, \mu_i,\, \sigma^2 I_d), \qquad
    \log \hat p_\sigma(x) = \operatorname{logmeanexp}_i\Big(-\frac{\lVert x - \mu_i\rVert^2}{2\sigma^2}\Big)
                           - d \log\big(\sigma\sqrt{2\pi}\big),

choose :math:`\sigma` from ``numpy.logspace(-1, 0, 10)`` by the mean log-likelihood of 1,000
validation images, and report the mean log-likelihood of the test images :math:`\pm` its standard
error :math:`\mathrm{std}/\sqrt N` (population standard deviation, as ``numpy.std``).

Everything here is chunked over both the points and the centres (a running
:func:`torch.logsumexp`), so 10,000 x 10,000 images of 784 pixels never build more than one
``batch_size x chunk_size`` block of distances; squared distances are computed in float64 by
:math:`\lVert x\rVert^2 + \lVert\mu\rVert^2 - 2 x\cdot\mu` (clamped at 0).
"""

from __future__ import annotations

import math
from typing import Iterator, Sequence, Tuple, Union

import numpy as np
import torch
from torch import Tensor

__all__ = [
    "PAPER_SIGMAS",
    "parzen_log_density",
    "parzen_log_likelihood",
    "parzen_select_sigma", "parzen_score",
    "nearest_neighbours",
]

#: The paper's grid of kernel widths, ``numpy.logspace(-1, 0, 10)`` (0.1 to 1).
PAPER_SIGMAS = tuple(float(s) for s in np.logspace(-1, 0, 10))


def _as_matrix(x: object, name: str) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if not x.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {x.dtype}")
    if x.dim() < 2:
        raise ValueError(f"{name} must have shape (N, d) or (N, ...) (flattened to (N, d)); got {tuple(x.shape)}")
    if x.shape[0] == 0:
        raise ValueError(f"{name} is empty")
    return x.flatten(1)


def _check_pair(centres: object, points: object, points_name: str) -> Tuple[Tensor, Tensor]:
    c, p = _as_matrix(centres, "centres"), _as_matrix(points, points_name)
    if c.shape[1] != p.shape[1]:
        raise ValueError(f"centres have dimension {c.shape[1]} but {points_name} have dimension {p.shape[1]}")
    return c, p


def _check_sigmas(sigmas: Union[float, Sequence[float]]) -> Tensor:
    s = torch.as_tensor(np.atleast_1d(np.asarray(sigmas, dtype=np.float64)))
    if s.dim() != 1 or s.numel() == 0:
        raise ValueError("sigmas must be a non-empty 1-D sequence of kernel widths")
    if not bool(torch.all(torch.isfinite(s) & (s > 0))):
        raise ValueError(f"every sigma must be a finite positive number, got {s.tolist()}")
    return s


def _sq_dist_blocks(points: Tensor, centres: Tensor, batch_size: int, chunk_size: int
                    ) -> Iterator[Tuple[slice, Iterator[Tensor]]]:
    """Yield ``(point_slice, blocks)``; ``blocks`` yields float64 squared distances
    ``(len(point_slice), <= chunk_size)`` for successive chunks of centres."""
    if batch_size < 1 or chunk_size < 1:
        raise ValueError(f"batch_size and chunk_size must be >= 1, got {batch_size}, {chunk_size}")
    dev = centres.device

    def blocks(x: Tensor) -> Iterator[Tensor]:
        x_sq = (x * x).sum(1, keepdim=True)
        for j in range(0, len(centres), chunk_size):
            c = centres[j : j + chunk_size].to(torch.float64)
            d2 = x_sq + (c * c).sum(1)[None, :] - 2.0 * (x @ c.T)
            yield d2.clamp_min_(0.0)

    for i in range(0, len(points), batch_size):
        sl = slice(i, min(i + batch_size, len(points)))
        yield sl, blocks(points[sl].to(dev, torch.float64))


@torch.no_grad()
def _log_density_multi(centres: Tensor, points: Tensor, sigmas: Tensor, batch_size: int, chunk_size: int) -> Tensor:
    """``(len(sigmas), N)`` float64 log-densities, one row per kernel width."""
    n, d = centres.shape
    s = sigmas.to(centres.device, torch.float64)
    out = torch.empty(len(s), len(points), dtype=torch.float64, device=centres.device)
    for sl, blocks in _sq_dist_blocks(points, centres, batch_size, chunk_size):
        lse = torch.full((len(s), sl.stop - sl.start), -math.inf, dtype=torch.float64, device=centres.device)
        for d2 in blocks:  # (B, C)
            e = -d2[None, :, :] / (2.0 * s[:, None, None] ** 2)  # (S, B, C)
            lse = torch.logaddexp(lse, torch.logsumexp(e, dim=2))
        out[:, sl] = lse - math.log(n) - d * torch.log(s * math.sqrt(2 * math.pi))[:, None]
    return out


def parzen_log_density(centres: Tensor, points: Tensor, sigma: float, batch_size: int = 500,
                       chunk_size: int = 2500) -> Tensor:
    r"""Per-point Parzen-window log-density :math:`\log \hat p_\sigma(x)` (float64, shape ``(N,)``).

    .. math::

        \log \hat p_\sigma(x) = \log\frac1n \sum_{i=1}^n
            \exp\Big(-\frac{\lVert x - \mu_i\rVert^2}{2\sigma^2}\Big) - d \log\big(\sigma\sqrt{2\pi}\big)

    Args:
        centres: kernel centres :math:`\mu_i`, ``(n, d)`` or ``(n, ...)`` (flattened), e.g. generator
            samples.
        points: points :math:`x` to evaluate, same dimension ``d``.
        sigma: kernel width :math:`\sigma > 0`.
        batch_size, chunk_size: points and centres per block (memory is
            ``batch_size * chunk_size`` float64 numbers).

    Raises:
        TypeError: non-tensor or integer inputs.
        ValueError: empty inputs, dimension mismatch, non-positive sigma.
    """
    c, p = _check_pair(centres, points, "points")
    if not isinstance(sigma, (int, float)) or isinstance(sigma, bool):
        raise TypeError(f"sigma must be a number, got {type(sigma).__name__}")
    return _log_density_multi(c, p, _check_sigmas(float(sigma)), batch_size, chunk_size)[0].cpu()


def parzen_log_likelihood(centres: Tensor, points: Tensor, sigma: float, batch_size: int = 500,
                          chunk_size: int = 2500) -> Tuple[float, float]:
    r"""Mean Parzen-window log-likelihood of ``points`` and its standard error (Table 1's numbers).

    .. math::

        \bar\ell = \frac1N \sum_{k=1}^N \log \hat p_\sigma(x_k), \qquad
        \mathrm{SE} = \frac{\operatorname{std}_k \log \hat p_\sigma(x_k)}{\sqrt N}

    with :math:`\log \hat p_\sigma` as in :func:`parzen_log_density` and the population standard
    deviation (``numpy.std``), as in ``parzen_ll.py``.

    Returns:
        ``(mean, standard_error)`` as Python floats (nats).
    """
    ll = parzen_log_density(centres, points, sigma, batch_size, chunk_size)
    return float(ll.mean()), float(ll.std(unbiased=False) / math.sqrt(len(ll)))


def parzen_select_sigma(centres: Tensor, validation: Tensor, sigmas: Sequence[float] = PAPER_SIGMAS,
                        batch_size: int = 500, chunk_size: int = 2500) -> float:
    r"""The kernel width maximising the mean log-likelihood of a validation set (cross-validation).

    .. math::

        \hat\sigma = \operatorname*{arg\,max}_{\sigma \in \mathcal S}
            \frac1{N_v} \sum_{k=1}^{N_v} \log \hat p_\sigma(v_k), \qquad
        \mathcal S = \texttt{numpy.logspace(-1, 0, 10)} \text{ by default}

    The squared distances are computed once and reused for every :math:`\sigma`; ties go to the
    first width in ``sigmas`` (``numpy.argmax``).

    Returns:
        the chosen sigma (a float from ``sigmas``).
    """
    c, v = _check_pair(centres, validation, "validation")
    s = _check_sigmas(sigmas)
    means = _log_density_multi(c, v, s, batch_size, chunk_size).mean(1).cpu().numpy()
    return float(s[int(np.argmax(means))])


def parzen_score(centres: Tensor, validation: Tensor, test: Tensor, sigmas: Sequence[float] = PAPER_SIGMAS
                 ) -> Tuple[float, float, float]:
    r"""The paper's Table 1 protocol in one call: :math:`\sigma` chosen on ``validation``
    (:func:`parzen_select_sigma`), then the mean test log-likelihood and its standard error
    (:func:`parzen_log_likelihood`). Returns ``(mean, standard error, sigma)``.

    Example:
        >>> import torch
        >>> from ganlib.metrics import parzen_score
        >>> g = torch.Generator().manual_seed(0)
        >>> mean, se, sigma = parzen_score(torch.rand(200, 5, generator=g), torch.rand(50, 5, generator=g),
        ...                                torch.rand(50, 5, generator=g))
        >>> sigma in [float(s) for s in PAPER_SIGMAS], se > 0
        (True, True)
    """
    sigma = parzen_select_sigma(centres, validation, sigmas)
    mean, se = parzen_log_likelihood(centres, test, sigma)
    return mean, se, sigma


@torch.no_grad()
def nearest_neighbours(queries: Tensor, reference: Tensor, batch_size: int = 500, chunk_size: int = 5000
                       ) -> Tuple[Tensor, Tensor]:
    r"""Euclidean nearest neighbour of each query in ``reference`` (pixel L2, as in Figure 2).

    .. math:: j^*(q) = \operatorname*{arg\,min}_j \lVert q - r_j \rVert_2

    Returns:
        ``(distances float64 (N,), indices int64 (N,))`` on the CPU.
    """
    r, q = _check_pair(reference, queries, "queries")
    dist = torch.empty(len(q), dtype=torch.float64)
    idx = torch.empty(len(q), dtype=torch.int64)
    for sl, blocks in _sq_dist_blocks(q, r, batch_size, chunk_size):
        best = torch.full((sl.stop - sl.start,), math.inf, dtype=torch.float64, device=r.device)
        arg = torch.zeros(sl.stop - sl.start, dtype=torch.int64, device=r.device)
        for j, d2 in enumerate(blocks):
            m, a = d2.min(1)
            better = m < best
            best = torch.where(better, m, best)
            arg = torch.where(better, a + j * chunk_size, arg)
        dist[sl], idx[sl] = best.sqrt().cpu(), arg.cpu()
    return dist, idx
