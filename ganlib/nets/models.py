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
  (the losses in :mod:`ganlib.game.losses` take logits);
* image generators output pixels in :math:`[0, 1]`.

This module never imports :mod:`ganlib.engine.loop`.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Dict, NamedTuple, Optional, Sequence, Tuple

import torch
from torch import Tensor, nn

from ganlib._registry import Registry
from ganlib.nets.layers import FastDropout, Maxout, MinibatchStd, apply_spectral_norm

__all__ = [
    "SQRT3",
    "PaperGenerator",
    "PaperDiscriminator",
    "DCGANGenerator",
    "DCGANDiscriminator",
    "MLPGenerator",
    "MLPDiscriminator",
    "MODELS",
    "NetworkPair",
    "build_models",
    "pixel_logit_bias",
]

#: :math:`\sqrt 3`: the paper's uniform noise :math:`z \sim \mathcal U[-\sqrt3, \sqrt3]^d` has unit variance.
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
        return self.scale_noise(self.raw_noise(n, generator, dev))

    def raw_noise(self, n: int, generator: Optional[torch.Generator], device, out: Optional[Tensor] = None) -> Tensor:
        """The random draws behind :meth:`sample_noise`, before :meth:`scale_noise`: ``U[0, 1]`` for
        uniform noise, ``N(0, 1)`` for normal noise (written into ``out`` when given)."""
        if self.noise not in ("uniform", "normal"):
            raise ValueError(f"unknown noise {self.noise!r}; use 'uniform' or 'normal'")
        draw = torch.rand if self.noise == "uniform" else torch.randn
        if out is not None:
            return draw(n, self.latent_dim, generator=generator, out=out)
        return draw(n, self.latent_dim, generator=generator, device=device)

    def scale_noise(self, z: Tensor) -> Tensor:
        r"""Map :meth:`raw_noise` to :math:`p_z` in place: :math:`u \mapsto 2\sqrt3\,u - \sqrt3` for uniform noise."""
        return z.mul_(2 * SQRT3).sub_(SQRT3) if self.noise == "uniform" else z


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
    singular value (:func:`apply_spectral_norm`, Miyato et al., 2018). ``minibatch_std=g`` (not in
    the paper) appends, after the second maxout layer, the minibatch standard deviation of groups
    of ``g`` samples (:class:`ganlib.nets.layers.MinibatchStd`, Karras et al., 2018); the batch size
    must then be a multiple of ``g``.
    """

    def __init__(self, in_features: int = 784, units: int = 240, pieces: int = 5, init_range: float = 0.005,
                 input_keep: float = 0.8, hidden_keep: float = 0.5, spectral_norm: bool = False,
                 minibatch_std: int = 0) -> None:
        super().__init__()
        self.in_features = in_features
        extra = [MinibatchStd(minibatch_std)] if minibatch_std else []
        self.net = nn.Sequential(
            FastDropout(input_keep),
            Maxout(in_features, units, pieces),
            FastDropout(hidden_keep),
            Maxout(units, units, pieces),
            *extra,
            FastDropout(hidden_keep),
            nn.Linear(units + len(extra), 1),
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

    ``activation="elu"`` replaces the ReLUs by ELUs, :math:`x \mapsto x` for :math:`x > 0` and
    :math:`e^x - 1` otherwise (Clevert et al., 2016), a smooth map: with ReLUs :math:`G` is
    piecewise linear, so :math:`p_g` jumps wherever a kink of :math:`G` changes its slope (change
    of variables: :math:`p_g(G(z)) = p_z(z) / |G'(z)|` in 1-D), and so does
    :math:`D^*_G = p_{data} / (p_{data} + p_g)`, which no smooth discriminator can then match.

    ``batch_norm=True`` (not in the paper) puts a :class:`~torch.nn.BatchNorm1d` before each ReLU,
    :math:`h \mapsto \mathrm{ReLU}\big(\gamma \odot \frac{h - \mu_B}{\sqrt{\sigma_B^2 + \epsilon}} + \beta\big)`
    (Ioffe and Szegedy, 2015), as in PacGAN's toy generator (Lin et al., 2018); in eval mode
    (e.g. :meth:`ganlib.engine.loop.Trainer.sample`) the running statistics are used."""

    def __init__(
        self, latent_dim: int = 1, out_dim: int = 1, hidden: Sequence[int] = (32, 32), noise: str = "normal",
        batch_norm: bool = False, activation: str = "relu",
    ) -> None:
        super().__init__()
        acts = {"relu": nn.ReLU, "elu": nn.ELU}
        if activation not in acts:
            raise ValueError(f"activation must be one of {sorted(acts)}, got {activation!r}")
        act = acts[activation]
        self.latent_dim, self.noise, self.out_dim = latent_dim, noise, out_dim
        if batch_norm:
            sizes, layers = [latent_dim, *hidden], []
            for a, b in zip(sizes[:-1], sizes[1:]):
                layers += [nn.Linear(a, b), nn.BatchNorm1d(b), act()]
            self.net = nn.Sequential(*layers, nn.Linear(sizes[-1], out_dim))
        else:
            self.net = _mlp([latent_dim, *hidden, out_dim], act)

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


def _build_paper(numel, pixel_means, latent_dim, hidden, spectral_norm, gk, dk):
    return (PaperGenerator(**{"latent_dim": latent_dim or 100, "out_features": numel, "pixel_means": pixel_means, **gk}),
            PaperDiscriminator(**{"in_features": numel, "spectral_norm": spectral_norm, **dk}))


def _build_dcgan(numel, pixel_means, latent_dim, hidden, spectral_norm, gk, dk):
    return (DCGANGenerator(**{"latent_dim": latent_dim or 100, **gk}),
            DCGANDiscriminator(**{"spectral_norm": spectral_norm, "batch_norm": not spectral_norm, **dk}))


def _build_mlp(numel, pixel_means, latent_dim, hidden, spectral_norm, gk, dk):
    return (MLPGenerator(**{"latent_dim": latent_dim or numel, "out_dim": numel, "hidden": hidden, **gk}),
            MLPDiscriminator(**{"in_dim": numel, "hidden": hidden, "spectral_norm": spectral_norm, **dk}))


class NetworkPair(NamedTuple):
    """An entry of :data:`MODELS`: how to build a pair, and what the rest of ganlib needs to know of it."""

    build: Callable[..., Tuple[nn.Module, nn.Module]]  #: ``build(numel, pixel_means, latent_dim, hidden, spectral_norm, gk, dk)``
    flat: bool  #: takes samples as flat vectors ``(N, d)`` (else images ``(N, 1, 28, 28)``)
    #: :class:`ganlib.engine.config.TrainConfig` values the pair is trained with when a run does not say
    config: Dict[str, Any] = {}
    #: the discriminator keyword that sets its input size (PacGAN's packing widens it), or None
    d_input: Optional[str] = None


#: The network pairs of :func:`build_models` (and the CLI's ``--model``) by name: a
#: ``ganlib._registry.Registry`` of :class:`NetworkPair`, each with one line of description.
MODELS = Registry("model")
MODELS.register("paper", NetworkPair(_build_paper, flat=True, config={"optimizer": "paper"}, d_input="in_features"),
                "the paper's MNIST MLPs: G 100-1200-1200-784 (uniform z), D maxout 240x5 x2 with dropout")
MODELS.register("dcgan", NetworkPair(_build_dcgan, flat=False), "small DCGAN pair for 28x28 images (normal z)")
MODELS.register("mlp", NetworkPair(_build_mlp, flat=True, d_input="in_dim"), "small MLPs for toy data in R^d (normal z)")


def build_models(
    name: str,
    data_shape: Tuple[int, ...],
    pixel_means: Optional[Tensor] = None,
    latent_dim: Optional[int] = None,
    hidden: Sequence[int] = (64, 64),
    spectral_norm: bool = False,
    generator_kwargs: Optional[Dict[str, Any]] = None,
    discriminator_kwargs: Optional[Dict[str, Any]] = None,
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
        generator_kwargs, discriminator_kwargs: further keyword arguments of the two classes (e.g.
            ``{"width": 32}`` for the DCGAN pair); they override the ones above.

    Raises:
        ValueError: unknown name.
    """
    build = MODELS.lookup(name).build
    numel = int(torch.Size(data_shape).numel())
    return build(numel, pixel_means, latent_dim, hidden, spectral_norm, dict(generator_kwargs or {}),
                 dict(discriminator_kwargs or {}))


