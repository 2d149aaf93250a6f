r"""Differentiable augmentation for GANs trained on little data (DiffAugment, Zhao et al., 2020).

With few training images, :math:`D` memorises them and its feedback to :math:`G` stops being
useful. Augmenting only the real images would teach :math:`G` to produce augmented images;
DiffAugment applies the same random transformation :math:`T` to **every** input of :math:`D`, real
and generated, in both players' updates, and back-propagates through :math:`T` into :math:`G`:

.. math::

    \max_D\; \mathbb E_x[\log D(T(x))] + \mathbb E_z[\log(1 - D(T(G(z))))], \qquad
    \min_G\; -\mathbb E_z[\log D(T(G(z)))].

The game is unchanged up to :math:`T`: the optimum still has :math:`p_g = p_\text{data}` when
:math:`T` is invertible in distribution, which random translations and cutout are not, but they are
mild enough that :math:`G` is not pushed to produce them (Zhao et al., 2020, Sec. 3).

Two transformations of Zhao et al. are implemented, per sample and independently:

* ``"translation"``: shift by up to ``ratio x size`` pixels in each direction (zero padding);
* ``"cutout"``: zero a square of side ``ratio x size`` at a random position.

:class:`AugmentedDiscriminator` wraps any :math:`D` so that the training loop needs no change. The
random draws use torch's global generator (as dropout does), which the checkpoints save.

Example:
    >>> import torch
    >>> from ganlib.nets.augment import diff_augment
    >>> x = torch.zeros(2, 1, 8, 8); x[:, :, 3:5, 3:5] = 1.0
    >>> y = diff_augment(x, ("translation",), generator=torch.Generator().manual_seed(0))
    >>> y.shape, y.sum().item()  # the bright square moved but kept its mass
    (torch.Size([2, 1, 8, 8]), 8.0)
"""

from __future__ import annotations

from typing import Dict, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganlib._registry import Registry

__all__ = ["POLICIES", "AUGMENTATIONS", "translate", "cutout", "diff_augment", "AugmentedDiscriminator"]

#: The transformations by name, with the default ``ratio`` of Zhao et al. (2020).
POLICIES: Dict[str, float] = {"translation": 0.125, "cutout": 0.5}


def _check_images(x: Tensor) -> None:
    if not isinstance(x, Tensor) or x.dim() != 4 or not x.is_floating_point():
        raise ValueError(f"expected a floating-point image batch (N, C, H, W), got "
                         f"{tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__}")


def _sizes(x: Tensor, ratio: float) -> Tuple[int, int, int, int]:
    """``(n, h, w)`` of an image batch and ``ratio`` of its height and width in pixels, after checking ``x``."""
    _check_images(x)
    n, _, h, w = x.shape
    return n, h, w, int(ratio * h + 0.5), int(ratio * w + 0.5)


def _draws(low: int, high: int, n: int, generator: Optional[torch.Generator], device: torch.device) -> Tensor:
    """``n`` integers uniform in ``[low, high)``, shape ``(n, 1, 1)``, drawn on the CPU (reproducible anywhere)."""
    return torch.randint(low, high, (n, 1, 1), generator=generator, device="cpu").to(device)


def translate(x: Tensor, ratio: float = POLICIES["translation"], generator: Optional[torch.Generator] = None) -> Tensor:
    r"""Shift each image by its own integer offset :math:`(\delta_y, \delta_x)`, each uniform in
    :math:`\{-s, \dots, s\}` with :math:`s = \lfloor \text{ratio} \cdot \text{size} + \tfrac12 \rfloor`;
    pixels shifted in from outside are 0. Differentiable in ``x`` (a gather).

    Example:
        >>> import torch
        >>> from ganlib.nets.augment import translate
        >>> x = torch.arange(16.0).view(1, 1, 4, 4)
        >>> translate(x, ratio=0.0).equal(x)  # s = 0: no shift
        True
    """
    n, h, w, sy, sx = _sizes(x, ratio)
    if sy == 0 and sx == 0:
        return x
    dy, dx = _draws(-sy, sy + 1, n, generator, x.device), _draws(-sx, sx + 1, n, generator, x.device)
    padded = F.pad(x, (sx, sx, sy, sy))
    rows = (torch.arange(h, device=x.device).view(1, h, 1) + sy - dy).expand(n, h, w)
    cols = (torch.arange(w, device=x.device).view(1, 1, w) + sx - dx).expand(n, h, w)
    flat = (rows * (w + 2 * sx) + cols).view(n, 1, h * w).expand(-1, x.shape[1], -1)
    return padded.flatten(2).gather(2, flat).view_as(x)


def cutout(x: Tensor, ratio: float = POLICIES["cutout"], generator: Optional[torch.Generator] = None) -> Tensor:
    r"""Zero, in each image, a square of side :math:`\lfloor \text{ratio} \cdot \text{size} + \tfrac12 \rfloor`
    whose centre is uniform over the image (the square is clipped at the borders).

    Example:
        >>> import torch
        >>> from ganlib.nets.augment import cutout
        >>> y = cutout(torch.ones(3, 1, 8, 8), ratio=0.5, generator=torch.Generator().manual_seed(0))
        >>> bool(((y == 0).flatten(1).sum(1) <= 16).all())  # at most a 4 x 4 square per image
        True
    """
    n, h, w, ch, cw = _sizes(x, ratio)
    if ch == 0 or cw == 0:
        return x
    cy, cx = _draws(0, h + (1 - ch % 2), n, generator, x.device), _draws(0, w + (1 - cw % 2), n, generator, x.device)
    rows = torch.arange(h, device=x.device).view(1, h, 1)
    cols = torch.arange(w, device=x.device).view(1, 1, w)
    inside = ((rows - cy + ch // 2) >= 0) & ((rows - cy + ch // 2) < ch) & ((cols - cx + cw // 2) >= 0) & ((cols - cx + cw // 2) < cw)
    return x * (~inside).unsqueeze(1).to(x.dtype)


#: The transformations by name (a ``ganlib._registry.Registry``; their default ratios: :data:`POLICIES`).
AUGMENTATIONS = Registry("augmentation")
AUGMENTATIONS.register("translation", translate, "shift by up to ratio x the image size, zero-padded")
AUGMENTATIONS.register("cutout", cutout, "zero one square of ratio x the image size")


def diff_augment(x: Tensor, policy: Sequence[str] = ("translation", "cutout"), generator: Optional[torch.Generator] = None,
                 ratios: Optional[Dict[str, float]] = None) -> Tensor:
    r""":math:`T(x)`: the transformations of ``policy`` (names of :data:`POLICIES`) applied in order,
    each with its own random draw per sample. Differentiable in ``x``.

    Example:
        >>> import torch
        >>> from ganlib.nets.augment import diff_augment
        >>> x = torch.rand(4, 1, 28, 28, requires_grad=True)
        >>> diff_augment(x, generator=torch.Generator().manual_seed(0)).sum().backward()
        >>> x.grad.shape
        torch.Size([4, 1, 28, 28])
    """
    ratios = {**POLICIES, **(ratios or {})}
    for name in policy:
        x = AUGMENTATIONS.lookup(name)(x, ratios[name], generator=generator)
    return x


class AugmentedDiscriminator(nn.Module):
    r""":math:`D(T(x))`: a discriminator that augments every input (real or generated) with
    :func:`diff_augment` in training mode; in evaluation mode it is :math:`D` itself.

    Args:
        discriminator: the :math:`D` to wrap (any module mapping a batch to logits ``(N,)``).
        policy: names of :data:`POLICIES`, applied in order.
        image_shape: ``(C, H, W)`` of one image; flat inputs ``(N, C*H*W)`` (the paper's MLP
            discriminator) are reshaped for the transformation and flattened back.
        ratios: per-transformation ratios, overriding :data:`POLICIES`.

    Example:
        >>> import torch
        >>> from ganlib.nets.augment import AugmentedDiscriminator
        >>> from ganlib.nets.models import DCGANDiscriminator
        >>> D = AugmentedDiscriminator(DCGANDiscriminator(width=8))
        >>> D(torch.rand(5, 1, 28, 28)).shape
        torch.Size([5])
    """

    def __init__(self, discriminator: nn.Module, policy: Sequence[str] = ("translation", "cutout"),
                 image_shape: Tuple[int, int, int] = (1, 28, 28), ratios: Optional[Dict[str, float]] = None) -> None:
        super().__init__()
        for name in policy:
            AUGMENTATIONS.lookup(name)  # one ValueError naming the valid transformations
        self.discriminator, self.policy = discriminator, tuple(policy)
        self.image_shape, self.ratios = tuple(image_shape), dict(ratios or {})

    def forward(self, x: Tensor) -> Tensor:
        """Logits of ``D(T(x))`` in training mode, ``D(x)`` in evaluation mode."""
        if self.training and self.policy:
            shape = x.shape
            x = diff_augment(x.reshape(-1, *self.image_shape), self.policy, ratios=self.ratios).reshape(shape)
        return self.discriminator(x)
