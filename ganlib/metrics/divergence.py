r"""How far :math:`p_g` is from a one-dimensional :math:`p_{data}` over a run, and when it got close.

Theorem 1 measures a generator by the Jensen-Shannon divergence: :math:`C(G) = -\log 4 +
2\,\mathrm{JSD}(p_{data} \Vert p_g)`, zero exactly at :math:`p_g = p_{data}`. For a 1-D toy
:math:`p_{data}` (:mod:`ganlib.data.toy`, known density) :class:`JSDRecorder` evaluates

.. math::

    \mathrm{JSD}(p_{data} \Vert \hat p_g) = \tfrac12 \mathrm{KL}(p_{data} \Vert M) + \tfrac12 \mathrm{KL}(\hat p_g \Vert M),
    \qquad M = \tfrac12 (p_{data} + \hat p_g),

by quadrature (:func:`ganlib.theory.jensen_shannon`), with :math:`\hat p_g` a Gaussian kernel
density estimate of a fixed noise batch mapped by :math:`G` (:func:`ganlib.theory.kde_pdf`), every
``every`` steps of a :class:`ganlib.engine.loop.Trainer` or of every member of a
:class:`ganlib.engine.ensemble.EnsembleTrainer`. :func:`steps_to_converge` reads off when each run got
below a threshold for good.
"""

from __future__ import annotations

import math

from typing import Any, Dict, List, Optional, Sequence

import numpy as np
import torch
from scipy.integrate import simpson

from ganlib.engine.callbacks import Recorder
from ganlib import theory

__all__ = ["JSDRecorder", "steps_to_converge"]


class JSDRecorder(Recorder):
    """Training callback (``trainer.add_callback(recorder)``: before the first step and every ``every``
    steps): the KDE-JSD of every game.

    Args:
        toy: the run's :math:`p_{data}`, a 1-D :class:`ganlib.data.toy.Toy` (``pdf``, ``means``, ``std``).
        every: steps between records (> 0).
        n: samples of the fixed noise batch (the same :math:`z` at every record).
        grid: the quadrature grid (default: 4,001 points from 12 standard deviations below the
            lowest mode to 12 above the highest, widened to take in every sample, and refined
            around the samples where the kernels are narrower than its spacing, as for a
            collapsed generator). The kernel estimate is normalised on it by Simpson's rule.
        seed: seed of the fixed noise batch.

    Attributes:
        records: one dict per record, ``{"step": int, "jsd": [float, ...]}``, one JSD per game
            (a list of one for a single :class:`~ganlib.engine.loop.Trainer`).

    Example:
        >>> import torch
        >>> from ganlib.metrics import JSDRecorder
        >>> from ganlib.data.toy import gaussian_1d
        >>> class Perfect:  # a "trainer" whose generator is exact: z -> 4 + 0.5 z
        ...     step = 0
        ...     class G:
        ...         @staticmethod
        ...         def sample_noise(n, generator=None, device=None):
        ...             return torch.randn(n, 1, generator=generator)
        ...     def sample(self, z):
        ...         return 4 + 0.5 * z
        >>> rec = JSDRecorder(gaussian_1d(4.0, 0.5), every=1, n=5000)
        >>> rec.capture(Perfect())["jsd"][0] < 0.01
        True
    """

    def __init__(self, toy: Any, every: int, n: int = 1000, grid: Optional[np.ndarray] = None, seed: int = 0) -> None:
        if getattr(toy, "dim", None) != 1 or not hasattr(toy, "pdf"):
            raise TypeError(f"toy must be a 1-D ganlib.data.toy.Toy, got {type(toy).__name__}")
        for name, value in (("every", every), ("n", n)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        self.toy, self.every, self.n, self.seed = toy, every, n, seed
        means, std = np.asarray(toy.means, dtype=np.float64), float(np.max(np.asarray(toy.std, dtype=np.float64)))
        lo, hi = float(means.min()) - 12 * std, float(means.max()) + 12 * std
        self.grid = None if grid is None else np.asarray(grid, dtype=np.float64)
        self._span = (lo, hi)
        self.records: List[Dict[str, Any]] = []
        self._z: Optional[torch.Tensor] = None

    def capture(self, trainer: Any) -> Dict[str, Any]:
        """Score every game now (e.g. before training starts) and return the record."""
        if self._z is None:
            self._z = trainer.G.sample_noise(self.n, generator=torch.Generator().manual_seed(self.seed), device="cpu")
        members = getattr(trainer, "S", None)
        z = self._z if members is None else self._z.expand(members, -1, -1)
        x = trainer.sample(z=z).reshape(members or 1, self.n).double().numpy()
        jsd = []
        for s in x:
            grid = self.grid
            if grid is None:
                finite = s[np.isfinite(s)]
                lo = min(self._span[0], float(finite.min()) - 1.0) if finite.size else self._span[0]
                hi = max(self._span[1], float(finite.max()) + 1.0) if finite.size else self._span[1]
                grid = np.linspace(lo, hi, 4001)
            if not np.all(np.isfinite(s)):
                jsd.append(float("nan"))  # a diverged game: no density to compare
                continue
            if np.ptp(s) == 0:  # every sample the same point: a point mass against a density
                jsd.append(math.log(2.0))
                continue
            h = max(float(np.std(s)) * len(s) ** -0.2, 1e-9)  # the kernels' width (Scott's rule)
            if h < 4 * float(np.min(np.diff(grid))):  # a collapsed G: kernels narrower than the grid's spacing
                n_fine = int(min(20001, max(201, np.ceil((np.ptp(s) + 16 * h) / (h / 4)) + 1)))
                grid = np.union1d(grid, np.linspace(s.min() - 8 * h, s.max() + 8 * h, n_fine))
            q = theory.kde_pdf(s, grid)
            q = q / simpson(q, x=grid)  # the rule the divergence checks its densities with
            jsd.append(theory.jensen_shannon(self.toy.pdf(grid), q, grid))
        rec = {"step": int(trainer.step), "jsd": jsd}
        self.records.append(rec)
        return rec


def steps_to_converge(records: Sequence[Dict[str, Any]], threshold: float) -> List[Optional[int]]:
    """For each game of :class:`JSDRecorder` ``records``, the first recorded step from which its
    JSD stays below ``threshold`` up to the last record; ``None`` for a game that does not end
    below it (or whose JSD is NaN at the end).

    Example:
        >>> from ganlib.metrics import steps_to_converge
        >>> recs = [{"step": 0, "jsd": [0.6, 0.6]}, {"step": 100, "jsd": [0.02, 0.5]},
        ...         {"step": 200, "jsd": [0.01, 0.03]}]
        >>> steps_to_converge(recs, 0.05)
        [100, 200]
    """
    if not records:
        raise ValueError("steps_to_converge needs at least one record")
    if not 0 < threshold:
        raise ValueError(f"threshold must be > 0, got {threshold!r}")
    steps = np.array([r["step"] for r in records])
    values = np.array([r["jsd"] for r in records], dtype=np.float64)  # (records, games)
    out: List[Optional[int]] = []
    for g in range(values.shape[1]):
        below = values[:, g] < threshold  # NaN compares False
        if not below[-1]:
            out.append(None)
            continue
        first = len(below) - int(np.argmin(below[::-1])) if not below.all() else 0
        out.append(int(steps[first]))
    return out
