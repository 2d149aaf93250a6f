r"""The players of the toy chapters as one picklable recipe: :class:`MLPPlayers` builds a fresh
:math:`(G, D)` pair of MLPs each time it is called, after the caller has seeded the random number
generators (:func:`ganlib.recipes.experiments.train_pair` and
:class:`ganlib.engine.ensemble.EnsembleTrainer` do), so the pair's initial weights depend on the seed
alone. Being a plain dataclass rather than a closure, it can be sent to worker processes
(:func:`ganlib.recipes.seeds.run_seeds`) and printed.

Example:
    >>> import torch
    >>> from ganlib.nets.players import MLPPlayers
    >>> players = MLPPlayers(dim=2, g_hidden=(16,), d_hidden=(16,), pack=2)
    >>> _ = torch.manual_seed(0)
    >>> G, D = players()
    >>> G(G.sample_noise(4)).shape, D(torch.zeros(4, 2)).shape  # D judges pairs: one logit per sample
    (torch.Size([4, 2]), torch.Size([4]))
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence, Tuple

from torch import nn

from ganlib.nets.layers import PackedDiscriminator
from ganlib.nets.models import MLPDiscriminator, MLPGenerator

__all__ = ["MLPPlayers"]


@dataclass(frozen=True)
class MLPPlayers:
    """A generator :class:`~ganlib.nets.models.MLPGenerator` ``latent -> g_hidden -> dim`` and a
    discriminator :class:`~ganlib.nets.models.MLPDiscriminator` ``dim -> d_hidden -> 1``.

    Attributes:
        dim: the data's dimension (and, by default, the noise's).
        g_hidden, d_hidden: hidden widths of G and D.
        noise: ``"normal"`` or ``"uniform"`` (the paper's :math:`\\mathcal U[-\\sqrt3, \\sqrt3]`).
        latent: the noise's dimension (default ``dim``).
        batch_norm: batch normalisation before every ReLU of G (PacGAN's generator).
        spectral_norm: spectral normalisation of D's layers (SN-GAN).
        pack: PacGAN packing, the number of samples D judges together
            (:class:`~ganlib.nets.layers.PackedDiscriminator` around a D of input ``pack * dim``).
    """

    dim: int = 1
    g_hidden: Sequence[int] = (32, 32)
    d_hidden: Sequence[int] = (64, 64)
    noise: str = "normal"
    latent: int = 0
    batch_norm: bool = False
    spectral_norm: bool = False
    pack: int = 1

    def __call__(self) -> Tuple[nn.Module, nn.Module]:
        G = MLPGenerator(self.latent or self.dim, self.dim, tuple(self.g_hidden), noise=self.noise, batch_norm=self.batch_norm)
        D = MLPDiscriminator(self.pack * self.dim, tuple(self.d_hidden), spectral_norm=self.spectral_norm)
        return G, (PackedDiscriminator(D, self.pack) if self.pack > 1 else D)
