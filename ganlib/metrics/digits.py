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
  held-out digits are (below their 1st percentile) is counted as a possible copy.

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

from typing import Any, Dict, Sequence

import numpy as np
import torch
from torch import Tensor, nn

from ganlib.metrics.parzen import nearest_neighbours

__all__ = ["class_probabilities", "inception_like_score", "digit_report"]


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


def digit_report(classifier: nn.Module, samples: Tensor, train_images: Tensor, held_out: Tensor,
                 confidence: float = 0.9, quantiles: Sequence[float] = (0.01, 0.05, 0.25, 0.5)) -> Dict[str, Any]:
    """The figures of the module docstring for ``samples`` (images ``(N, ...)`` in [0, 1]), with the
    same figures of the real ``held_out`` digits beside them.

    Returns a dict: ``confident_share``, ``inception_like``, ``class_shares`` (argmax over all
    samples), ``confident_class_shares`` (over the confident ones; NaN if there are none),
    ``memorised_share`` and ``memorised_threshold`` (the held-out digits' 1st-percentile distance),
    ``nn_quantiles`` and ``held_out_nn_quantiles`` (the nearest-training-image distances at
    ``quantiles``), and ``real_confident_share``, ``real_inception_like`` of ``held_out``.
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), e.g. 0.9, got {confidence!r}")
    flat = lambda t: t.reshape(len(t), -1).float()  # noqa: E731
    probs, real = class_probabilities(classifier, flat(samples)), class_probabilities(classifier, flat(held_out))
    sure = probs.max(1).values >= confidence
    k = probs.shape[1]
    shares = torch.bincount(probs.argmax(1), minlength=k).double() / len(probs)
    sure_shares = (torch.bincount(probs[sure].argmax(1), minlength=k).double() / sure.sum()
                   if sure.any() else torch.full((k,), float("nan"), dtype=torch.float64))
    d_fake, _ = nearest_neighbours(flat(samples), flat(train_images))
    d_real, _ = nearest_neighbours(flat(held_out), flat(train_images))
    threshold = float(np.quantile(d_real.numpy(), 0.01))
    return {
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
    }
