r""""Is my run healthy?": the signals to watch while a GAN trains, and the known failure signatures.

At the equilibrium of Eq. 1 (Theorem 1), :math:`p_g = p_{data}`, :math:`D^* = \tfrac12` everywhere
and :math:`V(G, D^*) = -\log 4`. :class:`HealthMonitor` records, at each host read of the loop's
statistics (the ``on_log`` event), how far a run is from that picture:

* mean :math:`D(x)` and :math:`D(G(z))` on the recent batches, against :math:`\tfrac12`;
* the batch value :math:`\hat V(G, D)` against :math:`-\log 4 \approx -1.386`;
* for a toy :math:`p_{data}` (:mod:`ganlib.data.toy`): the modes covered and the share of high-quality
  samples (:func:`ganlib.metrics.mode_coverage`) of a fixed noise batch, and for a 1-D toy the
  Jensen-Shannon divergence of Theorem 1 between :math:`p_{data}` and a kernel density estimate of
  :math:`p_g` (:func:`ganlib.theory.jensen_shannon`, by quadrature);
* for images, whatever a ``score`` function says of the fixed noise batch, e.g.
  :class:`ganlib.metrics.digits.DigitScore` (confident share, class shares, FID), every
  ``score_every`` reads.

It warns (:class:`HealthWarning`, once per kind) on two known signatures:

* **the discriminator wins**: mean :math:`D(x) \to 1` with :math:`D(G(z)) \to 0` for ``patience``
  reads in a row. :math:`D` separates the two perfectly, so the minimax loss saturates (Section 3)
  and :math:`G` learns little;
* **modes are being lost**: the number of modes covered stays below its best so far for
  ``patience`` reads in a row (the Helvetica scenario, Section 5).
"""

from __future__ import annotations

import math
import warnings
from typing import Any, Callable, Dict, List, Optional

import numpy as np
import torch

from ganlib import theory
from ganlib.metrics.modes import mode_coverage

__all__ = ["HealthWarning", "HealthMonitor"]

LOG4 = math.log(4.0)


class HealthWarning(UserWarning):
    """A training run shows a known failure signature (see :class:`HealthMonitor`)."""


class HealthMonitor:
    r"""Training callback for ``on_log``: records the run's health signals and warns on failure
    signatures (see the module docstring). Use with a single-game loop
    (``trainer.add_callback("on_log", monitor)``, or ``callbacks={"on_log": monitor}`` of
    :func:`ganlib.recipes.experiments.train_pair`).

    Args:
        toy: the run's :math:`p_{data}`, a :class:`ganlib.data.toy.Toy` with ``means`` and ``std``
            (mode coverage; for a 1-D toy also the KDE-JSD), or ``None`` (images: no sample scores).
        n: samples of the fixed noise batch scored at each read.
        patience: reads in a row a signature must hold before it warns.
        saturated: the threshold of "D wins": mean :math:`D(x) > 1 -` ``saturated`` and mean
            :math:`D(G(z)) <` ``saturated``.
        seed: seed of the fixed noise batch.
        score: for runs without a toy: a function of the fixed batch's samples (a CPU tensor from
            :meth:`ganlib.engine.loop.Trainer.sample`, so from the moving average of :math:`G` when the
            run keeps one) returning a dict of numbers added to the read's record.
        score_every: call ``score`` at every ``score_every``-th read only (and at the first).

    Attributes:
        records: one dict per read: ``step``, ``d_real``, ``d_fake``, ``value``, ``value_gap``
            (:math:`\hat V + \log 4`), and with a toy ``modes``, ``hq`` (and ``jsd`` for 1-D);
            with ``score`` its keys, on the reads where it was called.
        alerts: ``(step, kind, message)`` of every warning given (``kind`` is ``"discriminator
            wins"`` or ``"modes lost"``).
    """

    def __init__(self, toy: Optional[Any] = None, n: int = 2000, patience: int = 3, saturated: float = 0.02,
                 seed: int = 0, score: Optional[Callable[[torch.Tensor], Dict[str, float]]] = None,
                 score_every: int = 1) -> None:
        if isinstance(score_every, bool) or not isinstance(score_every, int) or score_every < 1:
            raise ValueError(f"score_every must be an integer >= 1, got {score_every!r}")
        if score is not None and (toy is not None or not callable(score)):
            raise TypeError("score must be a function of the samples, given without a toy")
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 1:
            raise ValueError(f"patience must be an integer >= 1, got {patience!r}")
        if not 0 < saturated < 0.5:
            raise ValueError(f"saturated must be in (0, 1/2), got {saturated!r}")
        if toy is not None and not (hasattr(toy, "means") and hasattr(toy, "std")):
            raise TypeError(f"toy must be a ganlib.data.toy.Toy with means and std, got {type(toy).__name__}")
        self.toy, self.n, self.patience, self.saturated, self.seed = toy, int(n), patience, float(saturated), seed
        self.score, self.score_every = score, score_every
        self.records: List[Dict[str, Any]] = []
        self.alerts: List[tuple] = []
        self._seen = 0  # history rows already read
        self._z: Optional[torch.Tensor] = None

    def __call__(self, trainer: Any) -> None:
        h = trainer.history
        if "member" in h:
            raise TypeError("HealthMonitor watches one game (Trainer); score an ensemble's members one by one")
        rows = slice(self._seen, len(h["step"]))
        self._seen = len(h["step"])
        if rows.start == rows.stop:
            return
        rec: Dict[str, Any] = {"step": int(h["step"][-1])}
        for col in ("d_real", "d_fake", "value"):
            rec[col] = float(np.mean(h[col][rows]))
        rec["value_gap"] = rec["value"] + LOG4
        if self.toy is not None:
            rec.update(self._score_samples(trainer))
        elif self.score is not None and len(self.records) % self.score_every == 0:
            rec.update(self.score(trainer.sample(z=self._fixed_noise(trainer))))
        self.records.append(rec)
        self._check(trainer)

    def _fixed_noise(self, trainer: Any) -> torch.Tensor:
        if self._z is None:
            self._z = trainer.G.sample_noise(self.n, generator=torch.Generator().manual_seed(self.seed), device="cpu")
        return self._z

    def _score_samples(self, trainer: Any) -> Dict[str, float]:
        x = trainer.sample(z=self._fixed_noise(trainer)).reshape(self.n, -1).numpy().astype(np.float64)
        modes, hq = mode_coverage(x, self.toy.means, self.toy.std)
        out = {"modes": modes, "hq": hq}
        if self.toy.dim == 1:
            s, means, std = x[:, 0], self.toy.means, self.toy.std  # a grid over the data and the samples
            grid = np.linspace(min(float(means.min()) - 8 * std, s.min() - 1.0),
                               max(float(means.max()) + 8 * std, s.max() + 1.0), 4001)
            out["jsd"] = theory.jensen_shannon(self.toy.pdf(grid), theory.kde_pdf(s, grid), grid)
        return out

    def _alert(self, step: int, kind: str, message: str) -> None:
        if any(k == kind for _, k, _ in self.alerts):
            return
        self.alerts.append((step, kind, message))
        warnings.warn(f"step {step}: {message}", HealthWarning, stacklevel=3)

    def _check(self, trainer: Any) -> None:
        last = self.records[-self.patience:]
        if len(last) < self.patience:
            return
        step, eps = last[-1]["step"], self.saturated
        probabilities = getattr(getattr(trainer, "loss", None), "link", None) is torch.sigmoid
        if probabilities and all(r["d_real"] > 1 - eps and r["d_fake"] < eps for r in last):
            self._alert(step, "discriminator wins",
                        f"mean D(x) = {last[-1]['d_real']:.3f} and mean D(G(z)) = {last[-1]['d_fake']:.3f} for "
                        f"{self.patience} reads: D separates real from generated perfectly and G's gradient may "
                        "vanish (the minimax loss saturates); try the non-saturating loss or a weaker D")
        if self.toy is not None:
            best = max(r["modes"] for r in self.records)
            if all(r["modes"] < best for r in last):
                self._alert(step, "modes lost",
                            f"{last[-1]['modes']} modes covered for {self.patience} reads, down from {best}: "
                            "G is dropping modes (mode collapse)")

    def frame(self):
        """The records as a :class:`pandas.DataFrame`, one row per read."""
        import pandas as pd

        return pd.DataFrame(self.records)
