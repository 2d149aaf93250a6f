r"""How good are generated digits? Four figures from our own digit classifier and the pixels.

For samples :math:`x_1..x_N` of :math:`G` and the classifier's :math:`p(y \mid x)`:

* **confident share**: the fraction with :math:`\max_y p(y \mid x) \ge 0.9`, samples the classifier
  reads as one clear digit (most real digits are: report the real share beside it);
* **class shares over confident samples**: how the confident samples split over the ten digits
  (an argmax over *all* samples would count an illegible scribble as a digit);
* **Inception-score-like** :math:`\exp\big(\mathbb E_x \operatorname{KL}(p(y \mid x) \,\Vert\, p(y))\big)`
  with :math:`p(y) = \mathbb E_x p(y \mid x)` (Salimans et al., 2016, on our classifier instead
  of Inception): 10 for confident samples spread evenly over ten digits, 1 for a generator whose
  samples all look alike or are all ambiguous;
* **memorisation**: each sample's pixel :math:`L_2` distance to its nearest training image, against
  the same distance for *held-out* real digits. A sample closer to a training image than 99 % of
  held-out digits are (below their 1st percentile) is counted as a possible copy;
* **stray ink** (:func:`stray_ink_share`): the fraction of samples with a bright pixel where
  (almost) no training digit has ink, e.g. on the image's border.

:func:`digit_report` computes them all in one call.

Example:
    >>> import torch
    >>> from ganlib.metrics.digits import inception_like_score
    >>> round(inception_like_score(torch.eye(10)), 6)  # ten confident, different digits
    10.0
    >>> round(inception_like_score(torch.full((5, 10), 0.1)), 6)  # every sample ambiguous
    1.0
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Sequence

import numpy as np
import torch
from torch import Tensor, nn

from ganlib.metrics.fid import fid_score
from ganlib.metrics.parzen import nearest_neighbours

__all__ = ["class_probabilities", "inception_like_score", "stray_ink_share", "digit_report", "score_generator", "share_range", "report_line",
           "summary_row", "DigitScore"]


@torch.no_grad()
def class_probabilities(classifier: nn.Module, images: Tensor, batch_size: int = 1000) -> Tensor:
    r""":math:`p(y \mid x)` of ``classifier`` (softmax of its logits, eval mode), float64 ``(N, classes)`` on the CPU."""
    if not isinstance(images, Tensor) or not images.is_floating_point() or len(images) == 0:
        raise ValueError("images must be a non-empty floating-point tensor")
    p = next(classifier.parameters())
    was = classifier.training
    classifier.eval()
    try:
        out = [classifier(images[i : i + batch_size].to(p.device, p.dtype)).double().softmax(1).cpu()
               for i in range(0, len(images), batch_size)]
    finally:
        classifier.train(was)
    return torch.cat(out)


def inception_like_score(probs: Tensor) -> float:
    r""":math:`\exp\big(\frac1N \sum_i \operatorname{KL}(p(y \mid x_i) \,\Vert\, \bar p(y))\big)`,
    :math:`\bar p = \frac1N \sum_i p(y \mid x_i)`, for rows of class probabilities ``(N, classes)``."""
    probs = torch.as_tensor(probs, dtype=torch.float64)
    if probs.dim() != 2 or len(probs) == 0 or not torch.allclose(probs.sum(1), torch.ones(len(probs), dtype=probs.dtype)):
        raise ValueError("probs must be rows of class probabilities (N, classes), each summing to 1")
    marginal = probs.mean(0, keepdim=True)
    kl = (torch.special.xlogy(probs, probs) - torch.special.xlogy(probs, marginal)).sum(1)
    return float(kl.mean().exp())


def _confident(probs: Tensor, confidence: float):
    """The mask of samples read with ``max p(y|x) >= confidence`` and the class shares among them (NaN if none)."""
    sure = probs.max(1).values >= confidence
    k = probs.shape[1]
    shares = (torch.bincount(probs[sure].argmax(1), minlength=k).double() / sure.sum()
              if sure.any() else torch.full((k,), float("nan"), dtype=torch.float64))
    return sure, shares


def stray_ink_share(samples: Tensor, train_images: Tensor, ink: float = 0.5, rare: float = 0.001) -> float:
    r"""The fraction of ``samples`` with ink (a pixel above ``ink``) on a pixel where at most a share
    ``rare`` of the ``train_images`` have ink: isolated bright pixels in places real digits never
    touch (the border of MNIST's 28x28 frame: its top row is blank in every training digit).

    Example:
        >>> import torch
        >>> from ganlib.metrics.digits import stray_ink_share
        >>> train = torch.zeros(100, 1, 28, 28); train[:, :, 10:18, 12:16] = 1.0  # ink in the centre only
        >>> fake = train[:4].clone(); fake[0, 0, 0, 5] = 0.9  # one sample with a lit top-row pixel
        >>> stray_ink_share(fake, train)
        0.25
    """
    if not (0 < ink < 1) or not (0 <= rare < 1):
        raise ValueError(f"ink must be in (0, 1) and rare in [0, 1), got ink={ink!r}, rare={rare!r}")
    flat_s, flat_t = samples.reshape(len(samples), -1), train_images.reshape(len(train_images), -1)
    if flat_s.shape[1] != flat_t.shape[1]:
        raise ValueError(f"samples have {flat_s.shape[1]} pixels, training images {flat_t.shape[1]}")
    blank = (flat_t > ink).double().mean(0) <= rare
    return float(((flat_s[:, blank] > ink).any(1)).double().mean())


def digit_report(classifier: nn.Module, samples: Tensor, train_images: Tensor, held_out: Tensor,
                 confidence: float = 0.9, quantiles: Sequence[float] = (0.01, 0.05, 0.25, 0.5)) -> Dict[str, Any]:
    """The figures of the module docstring for ``samples`` (images ``(N, ...)`` in [0, 1]), with the
    same figures of the real ``held_out`` digits beside them.

    Returns a dict: ``n_samples``, ``confident_share``, ``inception_like``, ``class_shares`` (argmax over all
    samples), ``confident_class_shares`` (over the confident ones; NaN if there are none),
    ``memorised_share`` and ``memorised_threshold`` (the held-out digits' 1st-percentile distance),
    ``nn_quantiles`` and ``held_out_nn_quantiles`` (the nearest-training-image distances at
    ``quantiles``), ``real_confident_share``, ``real_inception_like`` of ``held_out``, and
    ``stray_ink_share`` and ``real_stray_ink_share`` (:func:`stray_ink_share` of the samples and of ``held_out``).
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), e.g. 0.9, got {confidence!r}")
    flat = lambda t: t.reshape(len(t), -1).float()  # noqa: E731
    probs, real = class_probabilities(classifier, flat(samples)), class_probabilities(classifier, flat(held_out))
    sure, sure_shares = _confident(probs, confidence)
    shares = torch.bincount(probs.argmax(1), minlength=probs.shape[1]).double() / len(probs)
    d_fake, _ = nearest_neighbours(flat(samples), flat(train_images))
    d_real, _ = nearest_neighbours(flat(held_out), flat(train_images))
    threshold = float(np.quantile(d_real.numpy(), 0.01))
    return {
        "n_samples": len(samples),
        "confident_share": float(sure.double().mean()),
        "inception_like": inception_like_score(probs),
        "class_shares": shares.tolist(),
        "confident_class_shares": sure_shares.tolist(),
        "memorised_share": float((d_fake < threshold).double().mean()),
        "memorised_threshold": threshold,
        "nn_quantiles": np.quantile(d_fake.numpy(), quantiles).tolist(),
        "held_out_nn_quantiles": np.quantile(d_real.numpy(), quantiles).tolist(),
        "quantiles": list(quantiles),
        "real_confident_share": float((real.max(1).values >= confidence).double().mean()),
        "real_inception_like": inception_like_score(real),
        "stray_ink_share": stray_ink_share(samples, train_images),
        "real_stray_ink_share": stray_ink_share(held_out, train_images),
    }


def score_generator(trainer: Any, classifier: nn.Module, train_images: Tensor, held_out: Tensor, n: int = 10_000,
                    seed: int = 1, chunk: int = 2000, ema: bool = True) -> Dict[str, Any]:
    """:func:`digit_report` of ``n`` samples of a trained generator (``trainer.sample``: the moving
    average when the run keeps one, unless ``ema=False``) from noise seeded by ``seed``, drawn
    ``chunk`` at a time: how chapter 07 and ``benchmarks/ablate_mnist.py`` score a run."""
    samples = trainer.sample(n=n, seed=seed, chunk=chunk, ema=ema).reshape(n, -1)
    return digit_report(classifier, samples, train_images, held_out)


def share_range(report: Dict[str, Any]) -> str:
    """The smallest and the largest class share over the confident samples of a :func:`digit_report`,
    as text (``"none confident"`` when no sample is).

    Example:
        >>> from ganlib.metrics import share_range
        >>> share_range({"confident_class_shares": [0.05, 0.2, 0.75]})
        '5.0% to 75.0%'
    """
    shares = np.array(report["confident_class_shares"], dtype=np.float64)
    return "none confident" if np.isnan(shares).all() else f"{np.nanmin(shares):.1%} to {np.nanmax(shares):.1%}"


def report_line(report: Dict[str, Any]) -> str:
    """One line on a :func:`digit_report`: confident share, Inception-like score and stray ink, each
    beside the held-out real digits', and the range of the confident samples per digit."""
    r = report
    return (f"{r['confident_share']:.1%} of samples confident (real digits {r['real_confident_share']:.1%}), "
            f"Inception-like {r['inception_like']:.2f} (real {r['real_inception_like']:.2f}); confident samples "
            f"per digit {share_range(r)}; stray ink {r['stray_ink_share']:.1%} (real {r['real_stray_ink_share']:.1%})")


def summary_row(report: Dict[str, Any], fid: float, parzen: Optional[Sequence[float]] = None) -> Dict[str, Any]:
    """A row of a table of generators: a :func:`digit_report` rounded for reading, with the FID and
    the Parzen log-likelihood (``(mean, standard error, ...)`` of :func:`ganlib.metrics.parzen_score`)."""
    r = report
    row = {"confident (%)": round(100 * r["confident_share"], 1), "Inception-like": round(r["inception_like"], 2),
           "confident per digit": share_range(r), "memorised (%)": round(100 * r["memorised_share"], 2),
           "stray ink (%)": round(100 * r["stray_ink_share"], 1), "FID (ours)": round(fid, 1)}
    if parzen is not None:
        row["Parzen LL (nats)"] = f"{parzen[0]:.0f} ± {parzen[1]:.1f}"
    return row


class DigitScore:
    r"""The quick figures of a batch of generated digits, for
    :class:`ganlib.metrics.HealthMonitor` ``(score=...)`` while a run trains: ``confident_share``,
    the smallest and largest class share over the confident samples (``min_class_share``,
    ``max_class_share``; NaN when none is confident), and with ``features`` the FID
    (:func:`ganlib.metrics.fid_score`) against the ``real`` images.

    Example:
        >>> import torch
        >>> from ganlib.metrics.digits import DigitScore
        >>> clf = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 10))
        >>> sorted(DigitScore(clf)(torch.rand(20, 1, 28, 28)))
        ['confident_share', 'max_class_share', 'min_class_share']
    """

    def __init__(self, classifier: nn.Module, real: Optional[Tensor] = None, features: Optional[nn.Module] = None,
                 confidence: float = 0.9) -> None:
        if features is not None and real is None:
            raise ValueError("the FID needs the real images: give real= with features=")
        if not 0 < confidence < 1:
            raise ValueError(f"confidence must be in (0, 1), e.g. 0.9, got {confidence!r}")
        self.classifier, self.real, self.features, self.confidence = classifier, real, features, confidence

    def __call__(self, samples: Tensor) -> Dict[str, float]:
        sure, shares = _confident(class_probabilities(self.classifier, samples.reshape(len(samples), -1).float()),
                                  self.confidence)
        out = {"confident_share": float(sure.double().mean()),  # min/max of NaN shares are NaN: none confident
               "min_class_share": float(shares.min()), "max_class_share": float(shares.max())}
        if self.features is not None:
            out["fid"] = fid_score(self.features, self.real, samples)
        return out
