r"""Fréchet distance between feature statistics (FID, Heusel et al., 2017), computed by
:class:`torchmetrics.image.fid.FrechetInceptionDistance` on features of *our* network.

Fit a Gaussian to the features :math:`\phi(x)` of each image set and compute the Fréchet
(2-Wasserstein) distance between the two Gaussians:

.. math::

    \mathrm{FID} = \lVert \mu_1 - \mu_2 \rVert^2
        + \operatorname{Tr}\big(\Sigma_1 + \Sigma_2 - 2 (\Sigma_1 \Sigma_2)^{1/2}\big),

with sample means and (unbiased) sample covariances. The usual FID uses Inception-v3 features of
299x299 RGB images; offline and for MNIST we use the penultimate layer of a small digit
classifier (:class:`ganlib.metrics.classifier.ClassifierFeatures`), so values are **not**
comparable with published Inception FIDs, only with each other and with the real-vs-real floor
at the same sample sizes (FID is biased upwards for finite samples).
"""

from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor, nn

__all__ = ["fid_score"]


def _check_images(x: object, name: str) -> Tensor:
    if not isinstance(x, Tensor) or not x.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor of images")
    if x.shape[0] < 2:
        raise ValueError(f"{name}: FID needs at least 2 images per set, got {x.shape[0]}")
    return x


def fid_score(feature_net: nn.Module, real: Tensor, fake: Tensor, batch_size: int = 500,
              device: Optional[torch.device] = None) -> float:
    r"""FID between two image sets, on the features of ``feature_net`` (torchmetrics does the maths).

    .. math::

        \mathrm{FID} = \lVert \mu_r - \mu_g \rVert^2
            + \operatorname{Tr}\big(\Sigma_r + \Sigma_g - 2 (\Sigma_r \Sigma_g)^{1/2}\big)

    Args:
        feature_net: module mapping a batch of images to features ``(N, d)``, with an integer
            ``num_features = d`` (e.g. :class:`~ganlib.metrics.classifier.ClassifierFeatures`).
        real, fake: the two image sets (any shape ``feature_net`` accepts, floats in [0, 1]).
        batch_size: images per feature forward.
        device: where to run (default: ``feature_net``'s device).

    Returns:
        the FID as a Python float (0 for identical sets, up to round-off).

    Raises:
        TypeError: ``feature_net`` has no integer ``num_features``; non-float images.
        ValueError: fewer than 2 images in a set.
    """
    from torchmetrics.image.fid import FrechetInceptionDistance

    if not isinstance(feature_net, nn.Module) or not isinstance(getattr(feature_net, "num_features", None), int):
        raise TypeError("feature_net must be an nn.Module with an integer `num_features` attribute "
                        "(e.g. ganlib.metrics.ClassifierFeatures(classifier))")
    real, fake = _check_images(real, "real"), _check_images(fake, "fake")
    if device is None:
        p = next(iter(feature_net.parameters()), None)
        device = p.device if p is not None else torch.device("cpu")
    metric = FrechetInceptionDistance(feature=feature_net, normalize=True).to(device)
    for images, is_real in ((real, True), (fake, False)):
        for i in range(0, len(images), batch_size):
            metric.update(images[i : i + batch_size].to(device, torch.float32), real=is_real)
    return float(metric.compute())
