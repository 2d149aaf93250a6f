r"""Generator and discriminator networks.

* :class:`PaperGenerator` / :class:`PaperDiscriminator`: the MNIST networks of Goodfellow et al.
  (2014), from their code (``goodfeli/adversarial``, ``mnist.yaml``).
* :class:`DCGANGenerator` / :class:`DCGANDiscriminator`: a small DCGAN pair for 28x28 images.
* :class:`MLPGenerator` / :class:`MLPDiscriminator`: small MLPs for the 1-D / 2-D toys.

Conventions shared by every pair (the training loop relies on them):

* a generator has an integer attribute ``latent_dim`` and a method
  ``sample_noise(n, generator=None, device=None)`` drawing :math:`z \sim p_z`, so the loop and the
  notebooks draw noise the same way;
* a discriminator returns **logits** of shape ``(N,)``; :math:`D(x) = \sigma(\text{logit})`
  (the losses in :mod:`ganlib.losses` take logits);
* image generators output pixels in :math:`[0, 1]`.

This module never imports :mod:`ganlib.train`.
"""

from __future__ import annotations

import math
from typing import Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils import parametrizations

__all__ = [
    "Maxout",
    "FastDropout",
    "PaperGenerator",
    "PaperDiscriminator",
    "DCGANGenerator",
    "DCGANDiscriminator",
    "MLPGenerator",
    "MLPDiscriminator",
    "PackedDiscriminator",
    "MODELS",
    "build_models",
    "pixel_logit_bias",
    "PaperSGDSchedule",
    "paper_optimizer",
    "apply_spectral_norm",
]

SQRT3 = math.sqrt(3.0)


def _device_of(device, generator) -> Optional[torch.device]:
    if device is not None:
        return torch.device(device)
    if generator is not None:
        return generator.device
    return None


class _NoiseMixin:
    """Mixin giving a generator ``sample_noise``; subclasses set ``latent_dim`` and ``noise``."""

    latent_dim: int
    noise: str  # "uniform" (on [-sqrt3, sqrt3], unit variance) or "normal"

    def sample_noise(
        self, n: int, generator: Optional[torch.Generator] = None, device=None
    ) -> Tensor:
        r"""Draw ``n`` noise vectors :math:`z \sim p_z`, shape ``(n, latent_dim)``.

        ``noise == "uniform"``: :math:`z \sim \mathcal{U}[-\sqrt3, \sqrt3]^{d}` (unit variance, the
        paper's prior); ``noise == "normal"``: :math:`z \sim \mathcal{N}(0, I_d)`.

        Args:
            n: number of samples.
            generator: optional :class:`torch.Generator` (its device is used if ``device`` is None).
            device: where to draw; defaults to the generator's device, else the module's.
        """
        dev = _device_of(device, generator)
        if dev is None:
            p = next(iter(self.parameters()), None)  # type: ignore[attr-defined]
            dev = p.device if p is not None else torch.device("cpu")
        if self.noise == "uniform":
            z = torch.rand(n, self.latent_dim, generator=generator, device=dev)
            return z.mul_(2 * SQRT3).sub_(SQRT3)
        if self.noise == "normal":
            return torch.randn(n, self.latent_dim, generator=generator, device=dev)
        raise ValueError(f"unknown noise {self.noise!r}; use 'uniform' or 'normal'")


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


def pixel_logit_bias(pixel_means: Tensor, eps: float = 1e-3) -> Tensor:
    r"""Logit of per-pixel means, the initial output bias of the paper's generator.

    .. math:: b_j = \log\frac{\bar x_j}{1 - \bar x_j},\qquad \bar x_j
              = \text{clip}\big(\tfrac1N \textstyle\sum_n x_{nj}, \epsilon, 1-\epsilon\big)

    so that :math:`\sigma(b)` equals the data's pixel marginals (pylearn2's
    ``init_bias_from_marginals``).
    """
    m = pixel_means.detach().float().reshape(-1).clamp(eps, 1 - eps)
    return torch.log(m) - torch.log1p(-m)


class PaperGenerator(_NoiseMixin, nn.Module):
    r"""The paper's MNIST generator (``mnist.yaml``).

    .. math::

        z \sim \mathcal{U}[-\sqrt3, \sqrt3]^{100}
        \;\to\; \text{ReLU}(\text{Linear}_{1200})
        \;\to\; \text{ReLU}(\text{Linear}_{1200})
        \;\to\; \sigma(\text{Linear}_{784}) = G(z) \in [0, 1]^{784}

    Weights are uniform in :math:`\pm` ``init_range`` (0.05), biases zero, except the output bias,
    which is the logit of the data's per-pixel means when ``pixel_means`` is given
    (:func:`pixel_logit_bias`).
    """

    def __init__(
        self,
        latent_dim: int = 100,
        hidden: int = 1200,
        out_features: int = 784,
        init_range: float = 0.05,
        pixel_means: Optional[Tensor] = None,
        noise: str = "uniform",
    ) -> None:
        super().__init__()
        self.latent_dim, self.noise, self.out_features = latent_dim, noise, out_features
        self.net = nn.Sequential(
            nn.Linear(latent_dim, hidden), nn.ReLU(),
            nn.Linear(hidden, hidden), nn.ReLU(),
            nn.Linear(hidden, out_features),
        )
        for m in self.net:
            if isinstance(m, nn.Linear):
                nn.init.uniform_(m.weight, -init_range, init_range)
                nn.init.zeros_(m.bias)
        if pixel_means is not None:
            self.init_output_bias(pixel_means)

    @torch.no_grad()
    def init_output_bias(self, pixel_means: Tensor) -> None:
        """Set the output bias to the logit of the per-pixel means of the data."""
        self.net[-1].bias.copy_(pixel_logit_bias(pixel_means).to(self.net[-1].bias))

    def forward(self, z: Tensor) -> Tensor:
        """Map noise ``(N, latent_dim)`` to pixels ``(N, 784)`` in [0, 1]."""
        return torch.sigmoid(self.net(z))


class PaperDiscriminator(nn.Module):
    r"""The paper's MNIST discriminator (``mnist.yaml``), returning logits.

    .. math::

        x \to \text{drop}_{0.8} \to \text{maxout}(240 \times 5) \to \text{drop}_{0.5}
          \to \text{maxout}(240 \times 5) \to \text{drop}_{0.5} \to \text{Linear}_1 = \text{logit},
        \qquad D(x) = \sigma(\text{logit})

    where :math:`\text{drop}_q` keeps a unit with probability :math:`q` (inverted dropout).
    Weights are uniform in :math:`\pm` ``init_range`` (0.005), biases zero.
    ``spectral_norm=True`` (not in the paper) normalises every weight matrix by its largest
    singular value (:func:`apply_spectral_norm`, Miyato et al., 2018).
    """

    def __init__(
        self,
        in_features: int = 784,
        units: int = 240,
        pieces: int = 5,
        init_range: float = 0.005,
        input_keep: float = 0.8,
        hidden_keep: float = 0.5,
        spectral_norm: bool = False,
    ) -> None:
        super().__init__()
        self.in_features = in_features
        self.net = nn.Sequential(
            FastDropout(input_keep),
            Maxout(in_features, units, pieces),
            FastDropout(hidden_keep),
            Maxout(units, units, pieces),
            FastDropout(hidden_keep),
            nn.Linear(units, 1),
        )
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.uniform_(m.weight, -init_range, init_range)
                nn.init.zeros_(m.bias)
        if spectral_norm:
            apply_spectral_norm(self)

    def forward(self, x: Tensor) -> Tensor:
        """Return logits ``(N,)`` for images ``(N, 784)`` (any ``(N, ...)`` is flattened)."""
        return self.net(x.flatten(1)).squeeze(-1)


class DCGANGenerator(_NoiseMixin, nn.Module):
    r"""DCGAN-style generator for 28x28 single-channel images (Radford et al., 2016).

    :math:`z \sim \mathcal{N}(0, I)` :math:`\to` Linear to ``2*width`` x 7 x 7, BN, ReLU
    :math:`\to` ConvT 4/2 (14x14), BN, ReLU :math:`\to` ConvT 4/2 (28x28) :math:`\to` sigmoid.
    Output ``(N, 1, 28, 28)`` in [0, 1].
    """

    def __init__(self, latent_dim: int = 100, width: int = 64, noise: str = "normal") -> None:
        super().__init__()
        self.latent_dim, self.noise, self.width = latent_dim, noise, width
        self.fc = nn.Sequential(
            nn.Linear(latent_dim, 2 * width * 7 * 7, bias=False),
            nn.BatchNorm1d(2 * width * 7 * 7), nn.ReLU(),
        )
        self.conv = nn.Sequential(
            nn.ConvTranspose2d(2 * width, width, 4, 2, 1, bias=False),
            nn.BatchNorm2d(width), nn.ReLU(),
            nn.ConvTranspose2d(width, 1, 4, 2, 1),
        )
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
                nn.init.normal_(m.weight, 0.0, 0.02)

    def forward(self, z: Tensor) -> Tensor:
        """Map noise ``(N, latent_dim)`` to images ``(N, 1, 28, 28)`` in [0, 1]."""
        h = self.fc(z).view(-1, 2 * self.width, 7, 7)
        return torch.sigmoid(self.conv(h))


class DCGANDiscriminator(nn.Module):
    r"""DCGAN-style discriminator for 28x28 images, returning logits ``(N,)``.

    Conv 4/2 (14x14), LeakyReLU(0.2) :math:`\to` Conv 4/2 (7x7), BN, LeakyReLU(0.2)
    :math:`\to` Linear 1.

    ``batch_norm=False`` drops the BN layer (a critic trained with a gradient penalty must not mix
    samples within a batch; Gulrajani et al., 2017, Sec. 4); ``spectral_norm=True`` normalises every
    weight by its largest singular value (:func:`apply_spectral_norm`; use it with
    ``batch_norm=False``, as Miyato et al., 2018 do, or BN rescales the activations again).
    """

    def __init__(self, width: int = 64, spectral_norm: bool = False, batch_norm: bool = True) -> None:
        super().__init__()
        norm = [nn.BatchNorm2d(2 * width)] if batch_norm else []
        self.net = nn.Sequential(
            nn.Conv2d(1, width, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(width, 2 * width, 4, 2, 1, bias=not batch_norm), *norm, nn.LeakyReLU(0.2),
            nn.Flatten(), nn.Linear(2 * width * 7 * 7, 1),
        )
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.normal_(m.weight, 0.0, 0.02)
        if spectral_norm:
            apply_spectral_norm(self)

    def forward(self, x: Tensor) -> Tensor:
        """Return logits ``(N,)`` for images ``(N, 1, 28, 28)`` (flat ``(N, 784)`` is reshaped)."""
        return self.net(x.reshape(-1, 1, 28, 28)).squeeze(-1)


def _mlp(sizes: Sequence[int], act: type) -> nn.Sequential:
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(act())
    return nn.Sequential(*layers)


class MLPGenerator(_NoiseMixin, nn.Module):
    r"""Small MLP generator for the 1-D / 2-D toys: :math:`z \sim \mathcal{N}(0, I)` (default)
    :math:`\to` (Linear, ReLU) x ``len(hidden)`` :math:`\to` Linear to ``out_dim``; no output
    non-linearity (toy data live on :math:`\mathbb{R}^d`).

    ``batch_norm=True`` (not in the paper) puts a :class:`~torch.nn.BatchNorm1d` before each ReLU,
    :math:`h \mapsto \mathrm{ReLU}\big(\gamma \odot \frac{h - \mu_B}{\sqrt{\sigma_B^2 + \epsilon}} + \beta\big)`
    (Ioffe and Szegedy, 2015), as in PacGAN's toy generator (Lin et al., 2018); in eval mode
    (e.g. :meth:`ganlib.train.Trainer.sample`) the running statistics are used."""

    def __init__(
        self, latent_dim: int = 1, out_dim: int = 1, hidden: Sequence[int] = (32, 32), noise: str = "normal",
        batch_norm: bool = False,
    ) -> None:
        super().__init__()
        self.latent_dim, self.noise, self.out_dim = latent_dim, noise, out_dim
        if batch_norm:
            sizes, layers = [latent_dim, *hidden], []
            for a, b in zip(sizes[:-1], sizes[1:]):
                layers += [nn.Linear(a, b), nn.BatchNorm1d(b), nn.ReLU()]
            self.net = nn.Sequential(*layers, nn.Linear(sizes[-1], out_dim))
        else:
            self.net = _mlp([latent_dim, *hidden, out_dim], nn.ReLU)

    def forward(self, z: Tensor) -> Tensor:
        """Map noise ``(N, latent_dim)`` to samples ``(N, out_dim)``."""
        return self.net(z)


class MLPDiscriminator(nn.Module):
    r"""Small MLP discriminator for the toys: (Linear, LeakyReLU(0.2)) x ``len(hidden)`` :math:`\to`
    Linear 1; returns logits ``(N,)``, so :math:`D(x) = \sigma(\text{logit})` can be plotted on a grid.
    ``spectral_norm=True`` normalises every weight by its largest singular value
    (:func:`apply_spectral_norm`, Miyato et al., 2018), making :math:`D`'s logit 1-Lipschitz."""

    def __init__(self, in_dim: int = 1, hidden: Sequence[int] = (32, 32), spectral_norm: bool = False) -> None:
        super().__init__()
        self.in_dim = in_dim
        self.net = _mlp([in_dim, *hidden, 1], lambda: nn.LeakyReLU(0.2))
        if spectral_norm:
            apply_spectral_norm(self)

    def forward(self, x: Tensor) -> Tensor:
        """Return logits ``(N,)`` for samples ``(N, in_dim)``."""
        return self.net(x).squeeze(-1)


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
    :class:`ganlib.train.Trainer`, whose shape check sends 2 samples, ``pack`` must divide 2 as
    well, i.e. PacGAN2).

    Args:
        base: discriminator taking ``(N / pack, pack * d)`` and returning logits ``(N / pack,)``,
            e.g. :class:`MLPDiscriminator` with ``in_dim = pack * d``.
        pack: samples per pack :math:`m \ge 1` (``pack = 1`` is the ordinary discriminator).

    Raises:
        TypeError / ValueError: ``base`` not a module, ``pack`` not a positive int; in
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


#: Model-pair names accepted by :func:`build_models` (and the CLI's ``--model``).
MODELS = {
    "paper": "the paper's MNIST MLPs: G 100-1200-1200-784 (uniform z), D maxout 240x5 x2 with dropout",
    "dcgan": "small DCGAN pair for 28x28 images (normal z)",
    "mlp": "small MLPs for toy data in R^d (normal z)",
}


def build_models(
    name: str,
    data_shape: Tuple[int, ...],
    pixel_means: Optional[Tensor] = None,
    latent_dim: Optional[int] = None,
    hidden: Sequence[int] = (64, 64),
    spectral_norm: bool = False,
) -> Tuple[nn.Module, nn.Module]:
    """Build a ``(generator, discriminator)`` pair by name (see :data:`MODELS`).

    Args:
        name: ``"paper"``, ``"dcgan"`` or ``"mlp"``.
        data_shape: shape of one sample, e.g. ``(784,)``, ``(1, 28, 28)`` or ``(2,)``.
        pixel_means: per-pixel means for the paper generator's output bias (optional).
        latent_dim: noise dimension (default 100 for image models, ``max(1, d)`` for ``mlp``).
        hidden: hidden sizes of the toy MLPs.
        spectral_norm: spectrally normalise the discriminator (:func:`apply_spectral_norm`); for
            ``"dcgan"`` this also drops D's batch norm.

    Raises:
        ValueError: unknown name.
    """
    numel = int(torch.Size(data_shape).numel())
    if name == "paper":
        return (
            PaperGenerator(latent_dim or 100, out_features=numel, pixel_means=pixel_means),
            PaperDiscriminator(numel, spectral_norm=spectral_norm),
        )
    if name == "dcgan":
        return DCGANGenerator(latent_dim or 100), DCGANDiscriminator(spectral_norm=spectral_norm, batch_norm=not spectral_norm)
    if name == "mlp":
        return MLPGenerator(latent_dim or numel, numel, hidden), MLPDiscriminator(numel, hidden, spectral_norm=spectral_norm)
    raise ValueError(f"unknown model {name!r}; valid names: {', '.join(MODELS)}")


class PaperSGDSchedule:
    r"""The paper's SGD schedule (``mnist.yaml``), stepped once per minibatch update.

    .. math::

        \eta_t = \max\!\Big(\frac{\eta_0}{1.000004^{\,t}},\; 10^{-6}\Big), \qquad
        \mu_e = 0.5 + (0.7 - 0.5)\,\frac{\min(\max(e - 1, 0), 249)}{249}

    where :math:`t` counts updates and :math:`e = 1 + \lfloor t / \text{steps\_per\_epoch} \rfloor`
    is the (1-based) epoch: pylearn2's ``ExponentialDecay(1.000004, min_lr=1e-6)`` and
    ``MomentumAdjustor(final_momentum=0.7, start=1, saturate=250)``.
    Has ``step``, ``state_dict`` and ``load_state_dict`` like a torch LR scheduler.
    """

    def __init__(
        self,
        optimizer: torch.optim.Optimizer,
        steps_per_epoch: int,
        decay: float = 1.000004,
        min_lr: float = 1e-6,
        momentum: Tuple[float, float] = (0.5, 0.7),
        epochs: Tuple[int, int] = (1, 250),
    ) -> None:
        self.optimizer = optimizer
        self.steps_per_epoch = max(1, int(steps_per_epoch))
        self.decay, self.min_lr = decay, min_lr
        self.momentum, self.epochs = tuple(momentum), tuple(epochs)
        self.base_lrs = [g["lr"] for g in optimizer.param_groups]
        self.t = 0
        self._apply()

    def _apply(self) -> None:
        e = 1 + self.t // self.steps_per_epoch
        a, b = self.epochs
        frac = min(max(e - a, 0), b - a) / max(b - a, 1)
        mom = self.momentum[0] + (self.momentum[1] - self.momentum[0]) * frac
        for g, lr0 in zip(self.optimizer.param_groups, self.base_lrs):
            g["lr"] = max(lr0 * math.exp(-self.t * math.log(self.decay)), self.min_lr)
            g["momentum"] = mom

    def step(self) -> None:
        """Advance one update: decay the learning rate, set the epoch's momentum."""
        self.t += 1
        self._apply()

    def get_last_lr(self) -> list:
        """Current learning rates (one per parameter group)."""
        return [g["lr"] for g in self.optimizer.param_groups]

    def state_dict(self) -> dict:
        """Plain-data state (safe for ``torch.load(weights_only=True)``)."""
        return {"t": self.t, "base_lrs": list(self.base_lrs), "steps_per_epoch": self.steps_per_epoch}

    def load_state_dict(self, state: dict) -> None:
        """Restore from :meth:`state_dict`."""
        self.t = int(state["t"])
        self.base_lrs = list(state["base_lrs"])
        self.steps_per_epoch = int(state["steps_per_epoch"])
        self._apply()


def paper_optimizer(
    params, steps_per_epoch: int, lr: float = 0.1
) -> Tuple[torch.optim.SGD, PaperSGDSchedule]:
    r"""The paper's optimiser preset: SGD, :math:`\eta_0 = 0.1` decayed by :math:`1/1.000004` per
    update (floor :math:`10^{-6}`), momentum rising linearly 0.5 :math:`\to` 0.7 over epochs
    1-250 (see :class:`PaperSGDSchedule`); batch 100 and :math:`k = 1` are set in the training
    config. Returns ``(optimizer, scheduler)``."""
    params = list(params)
    fused = bool(params) and params[0].device.type in ("cpu", "cuda")  # one kernel per tensor, same maths
    opt = torch.optim.SGD(params, lr=lr, momentum=0.5, fused=fused or None)
    return opt, PaperSGDSchedule(opt, steps_per_epoch)
