r"""Networks of S independent games stacked along a leading *member* axis, for the ensemble loop.

:func:`stack_players` turns S generator/discriminator pairs of :mod:`ganlib.nets.models` (the toy
MLPs, with or without batch norm in :math:`G` or spectral norm in :math:`D`, and PacGAN packing
around an MLP discriminator) into one :class:`StackedGenerator` and one
:class:`StackedDiscriminator`. A batch has shape ``(S, B, ...)``: member :math:`s` sees only
``x[s]``, through its own weights. Each layer is one batched matrix product,

.. math:: y_s = x_s W_s^\top + b_s, \qquad s = 1, \dots, S \qquad (\texttt{torch.baddbmm}),

so S small models cost one kernel per layer instead of S. Nothing is shared between members:
batch norm takes its statistics over each member's own batch, spectral norm runs one power
iteration per member (Miyato et al., 2018, Algorithm 1), and the optimiser's moments are
elementwise. :meth:`StackedGenerator.unstack` / :meth:`StackedDiscriminator.unstack` give a
member back as an ordinary module with the same weights.

Not supported, and why: the paper's MNIST networks (dropout draws from the global random stream,
so S members could not each reproduce their own single run) and the DCGAN pair (convolutions; a
grouped convolution would do, but the toy chapters do not need it).
"""

from __future__ import annotations

import copy
from typing import List, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganlib.nets.layers import PackedDiscriminator
from ganlib.nets.models import MLPDiscriminator, MLPGenerator, _NoiseMixin

__all__ = ["StackedLinear", "StackedBatchNorm", "StackedGenerator", "StackedDiscriminator", "stack_players"]


def _stack(tensors: Sequence[Tensor]) -> Tensor:
    return torch.stack([t.detach() for t in tensors])  # a new tensor: no storage shared with the members


class StackedLinear(nn.Module):
    r"""S linear layers at once: ``(S, B, in) -> (S, B, out)``, :math:`y_s = x_s W_s^\top + b_s`,
    optionally spectrally normalised per member (:math:`W_s / \sigma(W_s)`, one power iteration
    per training-mode forward, as :func:`torch.nn.utils.parametrizations.spectral_norm`)."""

    def __init__(self, layers: Sequence[nn.Linear]) -> None:
        super().__init__()
        sn = [getattr(getattr(m, "parametrizations", None), "weight", None) for m in layers]
        self.spectral = sn[0] is not None
        if any((s is not None) != self.spectral for s in sn):
            raise ValueError("members differ: spectral norm on some layers only")
        weights = [s.original if self.spectral else m.weight for s, m in zip(sn, layers)]
        self.weight = nn.Parameter(_stack(weights))  # (S, out, in)
        self.bias = nn.Parameter(_stack([m.bias for m in layers]))  # (S, out)
        if self.spectral:
            p = sn[0][0]
            self.eps = p.eps
            self.register_buffer("_u", _stack([s[0]._u for s in sn]))  # (S, out)
            self.register_buffer("_v", _stack([s[0]._v for s in sn]))  # (S, in)

    def effective_weight(self) -> Tensor:
        """:math:`W_s`, or :math:`W_s / \\sigma(W_s)` with spectral norm (power iteration in training mode)."""
        w = self.weight
        if not self.spectral:
            return w
        if self.training:
            with torch.no_grad():
                F.normalize(torch.bmm(w, self._v.unsqueeze(-1)).squeeze(-1), dim=-1, eps=self.eps, out=self._u)
                F.normalize(torch.bmm(w.transpose(1, 2), self._u.unsqueeze(-1)).squeeze(-1), dim=-1, eps=self.eps,
                            out=self._v)
        u, v = self._u.clone(), self._v.clone()
        sigma = (u * torch.bmm(w, v.unsqueeze(-1)).squeeze(-1)).sum(-1)
        return w / sigma.view(-1, 1, 1)

    def forward(self, x: Tensor) -> Tensor:
        """``(S, B, in) -> (S, B, out)``. A layer with one input (an outer product) is a broadcast
        multiply-add, cheaper for that shape than a batched matrix product, forward and backward."""
        w = self.effective_weight()
        if w.shape[2] == 1:
            return torch.addcmul(self.bias.unsqueeze(1), x, w.transpose(1, 2))
        return torch.baddbmm(self.bias.unsqueeze(1), x, w.transpose(1, 2))

    def unstack(self, s: int, like: nn.Linear) -> None:
        """Write member ``s``'s weights (and power-iteration vectors) into ``like``."""
        with torch.no_grad():
            if self.spectral:
                p = like.parametrizations.weight
                p.original.copy_(self.weight[s])
                p[0]._u.copy_(self._u[s])
                p[0]._v.copy_(self._v[s])
            else:
                like.weight.copy_(self.weight[s])
            like.bias.copy_(self.bias[s])


class StackedBatchNorm(nn.Module):
    r"""S :class:`torch.nn.BatchNorm1d` layers at once, on ``(S, B, C)``: each member normalises
    with the mean and variance of its own batch, :math:`\hat h = \gamma_s \odot
    (h - \mu_{B,s}) / \sqrt{\sigma^2_{B,s} + \epsilon} + \beta_s`, and keeps its own running
    statistics (used in eval mode)."""

    def __init__(self, layers: Sequence[nn.BatchNorm1d]) -> None:
        super().__init__()
        first = layers[0]
        if not (first.affine and first.track_running_stats and first.momentum is not None):
            raise ValueError("only affine BatchNorm1d with running statistics and a momentum is supported")
        self.eps, self.momentum = first.eps, first.momentum
        self.weight = nn.Parameter(_stack([m.weight for m in layers]))
        self.bias = nn.Parameter(_stack([m.bias for m in layers]))
        self.register_buffer("running_mean", _stack([m.running_mean for m in layers]))
        self.register_buffer("running_var", _stack([m.running_var for m in layers]))
        self.register_buffer("num_batches_tracked", _stack([m.num_batches_tracked for m in layers]))

    def forward(self, x: Tensor) -> Tensor:
        """``(S, B, C) -> (S, B, C)``."""
        if self.training:
            mean, var = x.mean(1), x.var(1, unbiased=False)
            with torch.no_grad():
                n = x.shape[1]
                m = self.momentum
                self.running_mean.mul_(1 - m).add_(mean * m)
                self.running_var.mul_(1 - m).add_(var * (n / max(n - 1, 1)) * m)
                self.num_batches_tracked.add_(1)
        else:
            mean, var = self.running_mean, self.running_var
        return (x - mean.unsqueeze(1)) * torch.rsqrt(var.unsqueeze(1) + self.eps) * self.weight.unsqueeze(1) \
            + self.bias.unsqueeze(1)

    def unstack(self, s: int, like: nn.BatchNorm1d) -> None:
        """Write member ``s``'s parameters and running statistics into ``like``."""
        with torch.no_grad():
            for name in ("weight", "bias", "running_mean", "running_var", "num_batches_tracked"):
                getattr(like, name).copy_(getattr(self, name)[s])


def _in_place(layer: nn.Module) -> nn.Module:
    """``layer`` computing in place where that gives the same numbers and gradients: ReLU and
    LeakyReLU with a positive slope (their backward needs only the output's sign). Each follows a
    stacked linear or batch-norm layer, whose backward does not read its output, so nothing saved
    for backward is overwritten (autograd's version counter would refuse it if it were). The
    stacked activations are megabytes: writing them in place spares a pass over fresh memory
    (the ring's ensemble at S = 8, 2 threads, both versions interleaved in one process: 9.00 -> 8.42 ms
    per step)."""
    if isinstance(layer, nn.ReLU) or (isinstance(layer, nn.LeakyReLU) and layer.negative_slope > 0):
        layer.inplace = True
    return layer


def _stack_sequential(nets: Sequence[nn.Sequential]) -> nn.Sequential:
    """One stacked layer per position of S structurally identical ``nn.Sequential`` MLPs."""
    layers: List[nn.Module] = []
    for i, layer in enumerate(nets[0]):
        column = [net[i] for net in nets]
        kind = lambda m: nn.Linear if isinstance(m, nn.Linear) else type(m)  # noqa: E731 (parametrized types differ)
        if any(kind(m) is not kind(layer) for m in column):
            raise ValueError(f"members differ at layer {i}: {sorted({type(m).__name__ for m in column})}")
        if isinstance(layer, nn.Linear):
            # (in_features, out_features): reading .weight of a spectrally normalised layer in training
            # mode would run a power iteration
            if any((m.in_features, m.out_features) != (layer.in_features, layer.out_features) for m in column):
                raise ValueError(f"members differ in the shape of layer {i}")
            layers.append(StackedLinear(column))
        elif isinstance(layer, nn.BatchNorm1d):
            layers.append(StackedBatchNorm(column))
        elif isinstance(layer, (nn.ReLU, nn.ELU, nn.LeakyReLU, nn.Tanh, nn.Sigmoid, nn.Identity)):
            layers.append(_in_place(copy.deepcopy(layer)))  # elementwise: the same for every member
        else:
            raise ValueError(f"layer {type(layer).__name__} is not supported by the ensemble")
    return nn.Sequential(*layers)


def _unstack_sequential(stacked: nn.Sequential, s: int, like: nn.Sequential) -> None:
    for mine, theirs in zip(stacked, like):
        if hasattr(mine, "unstack"):
            mine.unstack(s, theirs)


class StackedGenerator(_NoiseMixin, nn.Module):
    """S :class:`ganlib.nets.models.MLPGenerator` at once: noise ``(S, B, latent_dim)`` to samples
    ``(S, B, out_dim)``. ``sample_noise`` draws one member's noise exactly as its generator does."""

    def __init__(self, members: Sequence[MLPGenerator]) -> None:
        super().__init__()
        first = members[0]
        if any((m.latent_dim, m.noise, m.out_dim) != (first.latent_dim, first.noise, first.out_dim) for m in members):
            raise ValueError("members differ in latent_dim, noise or out_dim")
        self.latent_dim, self.noise, self.out_dim, self.members = first.latent_dim, first.noise, first.out_dim, len(members)
        self.net = _stack_sequential([m.net for m in members])
        self._like = (copy.deepcopy(first),)  # a template for unstack, kept out of parameters()

    def forward(self, z: Tensor) -> Tensor:
        """``(S, B, latent_dim) -> (S, B, out_dim)``."""
        return self.net(z)

    def sample_members(self, n: int, generators: Sequence[torch.Generator], device=None) -> Tensor:
        """Noise ``(S, n, latent_dim)``: member ``s``'s from ``generators[s]``, the same numbers its
        own generator's ``sample_noise`` draws (each member's draws go straight into one buffer)."""
        z = torch.empty(len(generators), n, self.latent_dim, device=device)
        for s, g in enumerate(generators):
            self.raw_noise(n, g, device, out=z[s])
        return self.scale_noise(z)

    def unstack(self, s: int) -> MLPGenerator:
        """Member ``s`` as an ordinary :class:`~ganlib.nets.models.MLPGenerator` (a copy)."""
        g = copy.deepcopy(self._like[0]).to(self.net[0].weight.device)
        _unstack_sequential(self.net, s, g.net)
        return g.train(self.training)


class StackedDiscriminator(nn.Module):
    """S :class:`ganlib.nets.models.MLPDiscriminator` (optionally inside
    :class:`ganlib.nets.layers.PackedDiscriminator`) at once: samples ``(S, B, d)`` to logits ``(S, B)``."""

    def __init__(self, members: Sequence[nn.Module]) -> None:
        super().__init__()
        first = members[0]
        self.pack = first.pack if isinstance(first, PackedDiscriminator) else 1
        bases = [m.base if isinstance(m, PackedDiscriminator) else m for m in members]
        if any((m.pack if isinstance(m, PackedDiscriminator) else 1) != self.pack for m in members):
            raise ValueError("members differ in their packing")
        if not all(isinstance(b, MLPDiscriminator) for b in bases):
            raise ValueError("the ensemble supports MLPDiscriminator (optionally packed) discriminators only")
        self.members = len(members)
        self.net = _stack_sequential([b.net for b in bases])
        self._like = (copy.deepcopy(first),)  # a template for unstack, kept out of parameters()

    def forward(self, x: Tensor) -> Tensor:
        """``(S, B, d) -> (S, B)``: each pack's logit repeated for its members, as PacGAN's."""
        s, n = x.shape[:2]
        if n % self.pack:
            raise ValueError(f"batch of {n} samples cannot be cut into packs of {self.pack}")
        logits = self.net(x.reshape(s, n // self.pack, -1)).squeeze(-1)
        return logits.repeat_interleave(self.pack, dim=1) if self.pack > 1 else logits

    def unstack(self, s: int) -> nn.Module:
        """Member ``s`` as an ordinary discriminator (a copy)."""
        d = copy.deepcopy(self._like[0]).to(self.net[0].weight.device)
        _unstack_sequential(self.net, s, (d.base if isinstance(d, PackedDiscriminator) else d).net)
        return d.train(self.training)


def stack_players(pairs: Sequence[Tuple[nn.Module, nn.Module]]) -> Tuple[StackedGenerator, StackedDiscriminator]:
    """One :class:`StackedGenerator` and one :class:`StackedDiscriminator` from S ``(G, D)`` pairs
    of the same architecture (member ``s`` = ``pairs[s]``, weights copied).

    Raises:
        ValueError: no pairs, an unsupported network (see the module docstring), or members whose
            architectures differ.
    """
    if not pairs:
        raise ValueError("stack_players needs at least one (G, D) pair")
    gens, discs = zip(*pairs)
    if not all(isinstance(g, MLPGenerator) for g in gens):
        raise ValueError("the ensemble supports MLPGenerator generators only (see ganlib.nets.stacked)")
    return StackedGenerator(gens), StackedDiscriminator(discs)
