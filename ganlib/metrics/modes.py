r"""Mode coverage of a generator on a Gaussian-mixture toy (VEEGAN's and PacGAN's metrics).

For a mixture :math:`p_{data} = \frac1K \sum_k \mathcal{N}(\mu_k, \sigma^2 I)` (the ring and grid of
:mod:`ganlib.data.toy`), Srivastava et al. (2017, VEEGAN, Sec. 5.1) and Lin et al. (2018, PacGAN,
Sec. 5) score a generator on :math:`N = 2{,}500` samples :math:`x_1, \dots, x_N` by

* assigning each sample to its nearest mode :math:`k(x) = \arg\min_k \|x - \mu_k\|_2`;
* calling it **high quality** if it lies within :math:`n_{std} = 3` standard deviations of that
  mode, :math:`\|x - \mu_{k(x)}\|_2 \le n_{std}\,\sigma`;
* counting a mode as **covered** when at least one high-quality sample is assigned to it.

:func:`mode_counts` returns the per-mode number of high-quality samples, and :func:`mode_coverage`
the two numbers the papers tabulate; :class:`ModeCoverageRecorder` follows them during training.
Mode collapse (the paper's "Helvetica scenario", Sec. 6) shows up as few modes covered; samples
stranded between modes show up as a low high-quality fraction.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple, Union

import numpy as np
import torch
from torch import Tensor

from ganlib.engine.callbacks import Recorder
from ganlib import _checks

__all__ = ["mode_counts", "mode_coverage", "mode_spread", "ModeCoverageRecorder"]

ArrayLike = Union[np.ndarray, Tensor]


def mode_counts(samples: ArrayLike, means: ArrayLike, std: float, n_std: float = 3.0) -> np.ndarray:
    r"""Number of high-quality samples assigned to each mode.

    .. math::

        c_k = \#\Big\{i :\ \arg\min_j \|x_i - \mu_j\|_2 = k \ \text{ and }\
              \min_j \|x_i - \mu_j\|_2 \le n_{std}\,\sigma\Big\}, \qquad k = 1, \dots, K

    (Srivastava et al., 2017, Sec. 5.1; Lin et al., 2018, Sec. 5). Ties between equidistant modes
    go to the lower index.

    Args:
        samples: generator samples :math:`x_i`, shape ``(N, dim)`` (or ``(N,)`` for 1-D data),
            a numpy array or a tensor.
        means: mode centres :math:`\mu_k`, shape ``(K, dim)`` (or ``(K,)``), e.g. ``Toy.means``.
        std: the mixture components' standard deviation :math:`\sigma` (``Toy.std``).
        n_std: the radius in standard deviations (3 in both papers).

    Returns:
        int64 array of shape ``(K,)``; its sum is the number of high-quality samples.

    Raises:
        TypeError or ValueError: non-numeric or non-finite input, empty arrays, mismatched
            dimensions, non-positive ``std`` or ``n_std``.
    """
    x = _checks.points(samples, "samples")
    mu = _checks.points(means, "means")
    if x.shape[1] != mu.shape[1]:
        raise ValueError(f"dimension mismatch: samples have dim {x.shape[1]} but means have dim {mu.shape[1]}")
    radius = _checks.positive_float(std, "std") * _checks.positive_float(n_std, "n_std")
    counts = np.zeros(len(mu), dtype=np.int64)
    for start in range(0, len(x), 8192):  # bounded memory: (chunk, K) distances at a time
        chunk = x[start : start + 8192]
        dist = np.sqrt(((chunk[:, None, :] - mu[None, :, :]) ** 2).sum(-1))
        nearest = dist.argmin(1)
        good = dist[np.arange(len(chunk)), nearest] <= radius
        counts += np.bincount(nearest[good], minlength=len(mu))
    return counts


def mode_coverage(samples: ArrayLike, means: ArrayLike, std: float, n_std: float = 3.0) -> Tuple[int, float]:
    r"""Modes covered and fraction of high-quality samples (VEEGAN Table 1, PacGAN Table 1).

    With :math:`c_k` from :func:`mode_counts` and :math:`N` samples,

    .. math::

        \text{modes covered} = \#\{k : c_k \ge 1\}, \qquad
        \text{high-quality fraction} = \frac1N \sum_{k=1}^K c_k ,

    i.e. a sample is high quality when :math:`\min_k \|x - \mu_k\|_2 \le n_{std}\,\sigma`, and a
    mode is covered when at least one high-quality sample is nearest to it. The papers use
    :math:`N = 2{,}500` and :math:`n_{std} = 3`, and report the fraction as a percentage.

    Args:
        samples: generator samples, shape ``(N, dim)`` (or ``(N,)``), numpy array or tensor.
        means: mode centres :math:`\mu_k`, shape ``(K, dim)`` (or ``(K,)``).
        std: the components' standard deviation :math:`\sigma`.
        n_std: radius in standard deviations.

    Returns:
        ``(modes_covered, high_quality_fraction)``: an ``int`` in ``0..K`` and a ``float`` in [0, 1].

    Raises:
        TypeError or ValueError: as :func:`mode_counts`.
    """
    counts = mode_counts(samples, means, std, n_std)
    n = _checks.points(samples, "samples").shape[0]
    return int(np.count_nonzero(counts)), float(counts.sum() / n)


def mode_spread(samples: ArrayLike, means: ArrayLike, std: float, names: Optional[List[str]] = None) -> Dict[str, float]:
    r"""How a 1-D generator spreads over the modes of a Gaussian mixture of equal widths: for each mode,
    the share of the samples nearest to it and their interquartile range over one mode's,
    :math:`2\,\Phi^{-1}(\tfrac34)\,\sigma`; then :func:`mode_coverage`'s modes covered and high-quality
    percentage. A mode squeezed to a spike has a ratio near 0, one split or smeared a ratio above 1.

    Args:
        samples: 1-D generator samples ``(N,)``.
        means, std: the mixture's modes (``(K,)``) and their common standard deviation.
        names: one name per mode for the keys (default ``0, 1, ...``).

    Returns:
        ``{"share NAME", "IQR NAME / data's"}`` per mode, ``"modes covered"``, ``"high quality %"``.

    Example:
        >>> import numpy as np
        >>> from ganlib.metrics import mode_spread
        >>> x = np.concatenate([np.random.default_rng(0).normal(-4, 0.25, 3000), np.full(1000, 4.0)])
        >>> {k: round(float(v), 1) for k, v in mode_spread(x, [-4.0, 4.0], 0.25, ["left", "right"]).items()}
        {'share left': 0.8, "IQR left / data's": 1.0, 'share right': 0.2, "IQR right / data's": 0.0, 'modes covered': 2.0, 'high quality %': 99.8}
    """
    from scipy.stats import norm

    x, mu = np.asarray(samples).reshape(-1), np.asarray(means).reshape(-1)
    names = [str(k) for k in range(len(mu))] if names is None else list(names)
    if len(names) != len(mu):
        raise ValueError(f"names must name each of the {len(mu)} modes, got {names!r}")
    nearest = np.abs(x[:, None] - mu[None, :]).argmin(1)
    one_mode = 2 * norm.ppf(0.75) * _checks.positive_float(std, "std")
    out: Dict[str, float] = {}
    for k, name in enumerate(names):
        mine = x[nearest == k]
        out[f"share {name}"] = len(mine) / len(x)
        out[f"IQR {name} / data's"] = (np.subtract(*np.percentile(mine, [75, 25])) if len(mine) > 1 else np.nan) / one_mode
    covered, hq = mode_coverage(samples, means, std)
    return {**out, "modes covered": covered, "high quality %": 100 * hq}


class ModeCoverageRecorder(Recorder):
    r"""Training callback: every ``every`` steps, :math:`G` maps a fixed noise batch (``n`` draws,
    2,500 as in the papers) and :func:`mode_coverage` scores the samples
    (``trainer.add_callback(recorder)``: also once before the first step).

    Uses only ``trainer.step``, ``trainer.G.sample_noise`` and ``trainer.sample(z=...)`` (see
    :class:`ganlib.engine.loop.Trainer`).

    Args:
        means, std, n_std: as in :func:`mode_coverage` (e.g. ``toy.means``, ``toy.std``).
        every: steps between records (> 0).
        n: samples per record.
        seed: seed of the fixed noise batch (the same :math:`z` at every record, so that the
            scatter plots show how :math:`G` moves the same points).
        keep_samples: also keep the samples (``(n, dim)`` numpy arrays), for scatter plots.

    Attributes:
        records: list of dicts ``{"step", "modes", "hq", "samples"}`` (``samples`` only with
            ``keep_samples``).
    """

    def __init__(self, means: ArrayLike, std: float, every: int, n: int = 2500, n_std: float = 3.0,
                 seed: int = 0, keep_samples: bool = True) -> None:
        self.means = _checks.points(means, "means")
        self.std, self.n_std = _checks.positive_float(std, "std"), _checks.positive_float(n_std, "n_std")
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(f"every must be an integer >= 1, got {every!r}")
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"n must be an integer >= 1, got {n!r}")
        self.every, self.n, self.seed, self.keep_samples = every, n, seed, keep_samples
        self.records: List[Dict[str, Any]] = []
        self._z: Optional[Tensor] = None

    def capture(self, trainer: Any) -> Dict[str, Any]:
        """Score the generator now (e.g. at step 0, before training) and return the record.

        For an ensemble (:class:`ganlib.engine.ensemble.EnsembleTrainer`, ``trainer.S`` members) every
        member maps the same noise batch, and ``modes``, ``hq`` (and ``samples``) are per member:
        lists of length S (and an ``(S, n, dim)`` array)."""
        if self._z is None:
            gen = torch.Generator().manual_seed(self.seed)
            self._z = trainer.G.sample_noise(self.n, generator=gen, device="cpu")
        members = getattr(trainer, "S", None)
        if members is None:
            x = trainer.sample(z=self._z).reshape(self.n, -1)
            modes, hq = mode_coverage(x, self.means, self.std, self.n_std)
        else:
            x = trainer.sample(z=self._z.expand(members, -1, -1)).reshape(members, self.n, -1)
            scores = [mode_coverage(x[s], self.means, self.std, self.n_std) for s in range(members)]
            modes, hq = [m for m, _ in scores], [h for _, h in scores]
        rec: Dict[str, Any] = {"step": int(trainer.step), "modes": modes, "hq": hq}
        if self.keep_samples:
            rec["samples"] = x.numpy()
        self.records.append(rec)
        return rec
