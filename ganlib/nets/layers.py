r"""Layers the paper's networks and their stabilisers are built from.

* :class:`Maxout` (Goodfellow et al., 2013), the units of the paper's MNIST discriminator, with a
  two-pass backward;
* :class:`FastDropout`, inverted dropout that draws 16 random bits per unit instead of a float;
* :func:`apply_spectral_norm` (Miyato et al., 2018), a Lipschitz bound on a discriminator;
* :class:`PackedDiscriminator` (PacGAN, Lin et al., 2018), a discriminator that judges packs of
  samples;
* :class:`MinibatchStd` (Karras et al., 2018), a feature that shows a discriminator how much the
  samples of a small group differ;
* :func:`mixing_block` and :func:`mixes_samples`: whether a network's output for one sample depends
  on the others in its batch (batch norm, the minibatch standard deviation), and over how many,
  which decides whether real and generated samples may share one forward pass.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils import parametrizations

__all__ = ["Maxout", "FastDropout", "apply_spectral_norm", "PackedDiscriminator", "MinibatchStd", "minibatch_std",
           "mixes_samples", "mixing_block", "BATCH_STATISTICS"]


def minibatch_std(h: Tensor, group: int, eps: float = 1e-8) -> Tensor:
    r"""Append to features ``h`` ``(N, C)`` the minibatch standard deviation of each sample's group
    (Karras et al., 2018, Sec. 3): the batch is cut into :math:`N / g` groups of :math:`g` =
    ``group`` consecutive samples (samples :math:`jg, \dots, jg + g - 1` form group :math:`j`),
    and each sample gets the mean over the features of its group's standard deviation,

    .. math:: s = \frac1C \sum_{c=1}^{C} \sqrt{\frac1g \sum_{i \in \text{group}}
              \big(h_{ic} - \bar h_c\big)^2 + \epsilon},

    as one more feature: ``(N, C) -> (N, C + 1)``. A generator that draws the same digit twice gives
    its groups a small :math:`s` that real groups rarely have, so the discriminator can see
    repetition, which it cannot in one sample. The :math:`\epsilon` keeps the gradient finite for
    identical samples. Groups of consecutive samples never straddle the boundary of two batches
    of a multiple of :math:`g` samples stacked one after the other, so real and generated batches
    may share one forward pass (:func:`mixing_block`). Under autocast the statistic is computed in
    float32 and returned in the input's precision (see :mod:`ganlib.engine.precision`).

    Example:
        >>> import torch
        >>> from ganlib.nets.layers import minibatch_std
        >>> h = torch.tensor([[0.0, 2.0], [2.0, 2.0], [4.0, 2.0], [6.0, 2.0]])
        >>> minibatch_std(h, group=2, eps=0.0)[:, -1]  # groups (0, 1) and (2, 3): feature stds 1 and 0
        tensor([0.5000, 0.5000, 0.5000, 0.5000])
    """
    n, c = h.shape
    if group < 1 or n % group:
        raise ValueError(f"a batch of {n} samples cannot be cut into groups of {group} for the minibatch "
                         f"standard deviation: use a multiple of {group}")
    # in float32 under autocast: float16 flushes eps = 1e-8 to 0 (its smallest step is 6e-8) and squares
    # of deviations below 2.4e-4 to 0, so the square root sits at 0 and its gradient is infinite
    grouped = h.reshape(n // group, group, c)
    if h.dtype in (torch.float16, torch.bfloat16):
        grouped = grouped.float()
    # the variance written out: Tensor.var over a middle dimension is 5-7x slower on the CPU (bench_kernels.py)
    deviation = grouped - grouped.mean(1, keepdim=True)
    s = (deviation.square().mean(1) + eps).sqrt().mean(1)  # (N / g,)
    return torch.cat([h, s.to(h.dtype).repeat_interleave(group).unsqueeze(1)], 1)


class MinibatchStd(nn.Module):
    """:func:`minibatch_std` as a layer: ``(N, C) -> (N, C + 1)``."""

    def __init__(self, group: int = 4) -> None:
        super().__init__()
        if isinstance(group, bool) or not isinstance(group, int) or group < 1:
            raise ValueError(f"group must be an integer >= 1, got {group!r}")
        self.group = group

    def forward(self, h: Tensor) -> Tensor:
        """Features ``(N, C)`` with their group's standard deviation appended: ``(N, C + 1)``."""
        return minibatch_std(h, self.group)

    def extra_repr(self) -> str:
        """Shown by ``print(module)``."""
        return f"group={self.group}"


#: Layers whose output for one sample depends on the rest of its batch (batch norm in training mode,
#: the minibatch standard deviation always).
BATCH_STATISTICS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.SyncBatchNorm, MinibatchStd)


def mixing_block(module: nn.Module) -> int:
    r"""How far ``module``'s output for one sample reaches into its batch (in training mode):

    * ``1``: not at all, every sample is judged alone;
    * ``b > 1``: within consecutive blocks of ``b`` samples only (:class:`MinibatchStd` groups;
      the least common multiple of their sizes);
    * ``0``: across the whole batch (a layer of :data:`BATCH_STATISTICS` other than
      :class:`MinibatchStd`: batch norm).

    Example:
        >>> from torch import nn
        >>> mixing_block(nn.Linear(2, 1)), mixing_block(nn.Sequential(MinibatchStd(2), MinibatchStd(3)))
        (1, 6)
        >>> mixing_block(nn.BatchNorm1d(4))
        0
    """
    block = 1
    for m in module.modules():
        if isinstance(m, MinibatchStd):
            block = math.lcm(block, m.group)
        elif isinstance(m, BATCH_STATISTICS):
            return 0
    return block


def mixes_samples(module: nn.Module, batch: int = 0) -> bool:
    r"""True when ``module`` contains a layer whose output for one sample depends on other samples
    of the batch (:data:`BATCH_STATISTICS`, :func:`mixing_block`), so that two batches of ``batch``
    samples each, stacked into one, would not be judged as they are one at a time. With the
    default ``batch=0``: whether it mixes samples at all.

    A discriminator that mixes them across its whole batch (batch norm) must see real and
    generated samples in separate forward passes: on one batch :math:`[x; G(z)]` its batch mean
    would mix the two distributions, and :math:`D` could not be trained on :math:`V(G, D)` of Eq. 1
    as written. One that mixes only within blocks of :math:`b` consecutive samples (the minibatch
    standard deviation) does not, when ``batch`` is a multiple of :math:`b`: no block straddles the
    two halves. Every other discriminator may take both halves in one forward pass (and in
    :class:`ganlib.engine.loop.Trainer`, does), which is faster.
    """
    block = mixing_block(module)
    return block != 1 and (block == 0 or batch % block != 0 or batch == 0)


class FastDropout(nn.Module):
    r"""Inverted dropout with keep probability ``keep`` (``p = 1 - keep`` of :class:`torch.nn.Dropout`).

    Same semantics as :func:`torch.nn.functional.dropout`: in training mode each unit is kept with
    probability :math:`q` = ``keep`` and scaled by :math:`1/q`, so
    :math:`\mathbb{E}[\tilde h] = h`; identity in eval mode. On the CPU it draws one 64-bit random
    integer per four units (16 bits each, threshold :math:`\lfloor q\,2^{16} \rceil`) instead of one
    random float per unit, which makes the paper's dropout-heavy discriminator noticeably faster;
    the keep rate is exact to :math:`2^{-16}`. On other devices it calls ``F.dropout``.
    """

    def __init__(self, keep: float) -> None:
        super().__init__()
        if not 0.0 < keep <= 1.0:
            raise ValueError(f"keep probability must be in (0, 1], got {keep}")
        self.keep = float(keep)
        self._threshold = int(round(self.keep * 65536))  # keep if uint16 < threshold

    def forward(self, x: Tensor) -> Tensor:
        """Apply dropout in training mode, identity in eval mode."""
        if not self.training or self.keep == 1.0:
            return x
        if x.device.type != "cpu":
            return F.dropout(x, p=1.0 - self.keep, training=True)
        shape = x.shape
        if shape and shape[-1] % 4 == 0:  # one int64 word per 4 units of each row: a view, no slicing
            u16 = torch.randint(-(2**63), 2**63 - 1, (*shape[:-1], shape[-1] // 4), device=x.device).view(torch.int16)
        else:  # the same stream, drawn flat
            n = x.numel()
            u16 = torch.randint(-(2**63), 2**63 - 1, ((n + 3) // 4,), device=x.device).view(torch.int16)[:n].view(shape)
        # comparison written straight into a float tensor: a bool mask times a float costs an extra
        # conversion pass on the CPU, several times slower than this
        scale = torch.lt(u16, self._threshold - 32768, out=x.new_empty(shape)).mul_(1.0 / self.keep)
        return x * scale  # scale is 0 or 1/keep

    def extra_repr(self) -> str:
        """Shown by ``print(module)``."""
        return f"keep={self.keep}"


class _MaxOverPieces(torch.autograd.Function):
    r""":math:`h = \max_j y_{\cdot j \cdot}` over dimension ``-2`` of ``y.unflatten(-1, (pieces, units))``,
    with a two-pass backward :math:`\partial h / \partial y_{ij} = [\,y_{ij} = h_i\,]` (a comparison
    written into a float tensor, then a product)."""

    @staticmethod
    def forward(ctx, y: Tensor, pieces: int) -> Tensor:
        v = y.unflatten(-1, (pieces, -1))
        h = v.amax(-2)
        ctx.save_for_backward(v, h)
        return h

    @staticmethod
    def backward(ctx, grad: Tensor):
        v, h = ctx.saved_tensors
        with torch.no_grad():  # which piece is maximal is piecewise constant: no gradient through it
            # written straight into a float tensor (a bool mask would cost a slow conversion pass)
            mask = torch.eq(v, h.unsqueeze(-2), out=grad.new_empty(v.shape))
        g = grad.unsqueeze(-2)
        # out of place when building a graph (double backward, e.g. WGAN-GP's penalty through D)
        return (mask * g if torch.is_grad_enabled() else mask.mul_(g)).flatten(-2), None


class Maxout(nn.Module):
    r"""Maxout layer (Goodfellow et al., 2013): :math:`h_i = \max_{j \le k} (W x + b)_{ij}`.

    One :class:`~torch.nn.Linear` produces ``units * pieces`` outputs, viewed as
    ``(N, pieces, units)``; the maximum over pieces is a single reduction (one matrix product
    instead of ``pieces`` of them). The backward pass sends each unit's gradient to its maximal
    piece, :math:`\partial h_i / \partial (Wx+b)_{ij} = [\,(Wx+b)_{ij} = h_i\,]`, in two
    elementwise passes (``torch.amax``'s own backward takes five, one of them a slow bool-to-float
    conversion on the CPU: it splits the gradient between tied pieces). The two agree except at
    exact ties between pieces, which have probability zero for real-valued inputs and distinct
    weights; there every tied piece gets the full gradient.
    """

    def __init__(self, in_features: int, units: int, pieces: int) -> None:
        super().__init__()
        self.units, self.pieces = units, pieces
        self.linear = nn.Linear(in_features, units * pieces)

    def forward(self, x: Tensor) -> Tensor:
        """Return ``(N, units)``: the max over the ``pieces`` affine pieces of each unit."""
        return _MaxOverPieces.apply(self.linear(x), self.pieces)


def apply_spectral_norm(module: nn.Module) -> nn.Module:
    r"""Spectrally normalise every :class:`~torch.nn.Linear` and convolution in ``module`` (in place).

    Miyato et al. (2018) replace each weight matrix :math:`W` by

    .. math::

        \bar W_{SN} = \frac{W}{\sigma(W)}, \qquad \sigma(W) = \max_{\|h\|_2 \le 1} \|W h\|_2
        \quad\text{(Miyato et al., 2018, Eq. 8)},

    its largest singular value, estimated by one step of power iteration per training-mode forward
    pass (:func:`torch.nn.utils.parametrizations.spectral_norm`; a convolution's kernel is reshaped
    to a matrix ``(out_channels, -1)``). Each layer then has Lipschitz constant :math:`\le 1`
    (for a convolution, approximately), so a network of such layers and 1-Lipschitz activations
    (ReLU, LeakyReLU, max) is 1-Lipschitz: :math:`\|f\|_{Lip} \le \prod_l \sigma(\bar W_l) = 1`.

    Returns:
        ``module`` (for chaining).
    """
    if not isinstance(module, nn.Module):
        raise TypeError(f"apply_spectral_norm expects an nn.Module, got {type(module).__name__}")
    for m in list(module.modules()):
        if isinstance(m, (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)):
            parametrizations.spectral_norm(m)
    return module


class PackedDiscriminator(nn.Module):
    r"""PacGAN packing (Lin et al., 2018): the discriminator judges ``pack`` samples at once.

    The batch ``(N, ...)`` is cut into :math:`N / m` packs of :math:`m` = ``pack`` consecutive
    samples, each pack is flattened into one vector
    :math:`(x^{(1)}, \dots, x^{(m)}) \in \mathbb{R}^{m d}` and ``base`` (a discriminator for
    inputs of dimension :math:`m d`) returns one logit per pack. The packed game is Eq. 1 on product
    distributions,

    .. math::

        \min_G \max_D\;
        \mathbb{E}_{x^{(1..m)} \sim p_{data}^{\,m}}\big[\log D(x^{(1)}, \dots, x^{(m)})\big]
        + \mathbb{E}_{z^{(1..m)} \sim p_z^{\,m}}\big[\log\big(1 - D(G(z^{(1)}), \dots, G(z^{(m)}))\big)\big]
        \quad\text{(Lin et al., 2018, Sec. 3)},

    whose optimum is still :math:`p_g = p_{data}` but which penalises mode collapse more: a pack
    of :math:`m` generated samples that all sit on the same few modes is easier to tell apart.

    To keep the loop's convention (one logit per sample, shape ``(N,)``), each pack's logit is
    repeated for its :math:`m` members: the mean of any per-sample loss over the ``N`` samples is
    then exactly the mean over the packs, with the same gradients. Packs must not mix real and
    generated samples: use a batch size that is a multiple of ``pack`` (with
    :class:`ganlib.engine.loop.Trainer`, whose shape check sends 2 samples, ``pack`` must divide 2 as
    well, i.e. PacGAN2).

    Args:
        base: discriminator taking ``(N / pack, pack * d)`` and returning logits ``(N / pack,)``,
            e.g. :class:`ganlib.nets.models.MLPDiscriminator` with ``in_dim = pack * d``.
        pack: samples per pack :math:`m \ge 1` (``pack = 1`` is the ordinary discriminator).

    Raises:
        TypeError or ValueError: ``base`` not a module, ``pack`` not a positive int; in
            :meth:`forward`, a batch size that is not a multiple of ``pack``.
    """

    def __init__(self, base: nn.Module, pack: int = 2) -> None:
        super().__init__()
        if not isinstance(base, nn.Module):
            raise TypeError(f"base must be an nn.Module returning logits, got {type(base).__name__}")
        if isinstance(pack, bool) or not isinstance(pack, int) or pack < 1:
            raise ValueError(f"pack must be an integer >= 1, got {pack!r}")
        self.base, self.pack = base, pack

    def forward(self, x: Tensor) -> Tensor:
        """Return logits ``(N,)``: the logit of each sample's pack, repeated ``pack`` times."""
        n = x.shape[0]
        if n % self.pack:
            raise ValueError(f"batch of {n} samples cannot be cut into packs of {self.pack}: "
                             f"use a multiple of {self.pack}")
        logits = self.base(x.reshape(n // self.pack, -1)).reshape(-1)
        return logits.repeat_interleave(self.pack)

    def extra_repr(self) -> str:
        """Shown by ``print(module)``."""
        return f"pack={self.pack}"
