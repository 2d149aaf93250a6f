"""What a trainer asks of its inputs before it starts: the data as one tensor of finite, real floating
point values, checked against the batch size and cast to the players' precision, and a generator and
a discriminator that fit it.

Each check raises one clear error that names the problem before any work is done (``ganlib._checks``
holds the checks of single arguments).
"""

from __future__ import annotations

from typing import Optional

import torch

from ganlib.nets.layers import mixing_block

__all__ = ["training_data", "float_dtype", "players_fit"]


def training_data(data: object, batch_size: int, dims: Optional[int] = None) -> "torch.Tensor":
    """A trainer's data as a tensor ``(N, ...)`` (or ``data.images``), checked against the batch size."""
    data = getattr(data, "images", data)
    if not isinstance(data, torch.Tensor) or data.dim() < 2 or (dims is not None and data.dim() != dims):
        want = "(N, d)" if dims == 2 else "(N, ...)"
        raise ValueError(f"data must be a tensor {want} or have an .images tensor of that shape")
    if batch_size > len(data):
        raise ValueError(f"batch_size {batch_size} is larger than the dataset ({len(data)} samples)")
    if not data.is_floating_point():
        hint = ": images stored as 0..255 integers must be divided by 255 first" if data.dtype == torch.uint8 else ""
        raise ValueError(f"data must be real floating point, got {data.dtype}{hint}")
    finite = torch.isfinite(data.reshape(len(data), -1)).all(dim=1)
    if not bool(finite.all()):
        bad = (~finite).nonzero().reshape(-1)
        raise ValueError(f"data holds NaN or inf in {len(bad)} of its {len(data)} samples (the first at index {int(bad[0])})")
    return data

def float_dtype(module: "torch.nn.Module") -> "torch.dtype":
    """The dtype of ``module``'s first floating-point parameter (float32 without one): what the
    training data is cast to, so a float64 game (the equivalence tests) trains on float64 data."""
    for p in module.parameters():
        if p.is_floating_point():
            return p.dtype
    return torch.float32

@torch.no_grad()
def players_fit(G: "torch.nn.Module", D: "torch.nn.Module", data: "torch.Tensor", device: "torch.device",
                batch: int = 0) -> None:
    """G's samples have the data's shape and D returns one logit per sample (one eval-mode forward on
    2 samples, or on two of D's groups when it mixes samples in groups), and ``batch`` (when given)
    is a multiple of those groups."""
    block = mixing_block(D)
    if block > 1 and batch % block:
        raise ValueError(f"D mixes samples in groups of {block} (its minibatch standard deviation): the batch per "
                         f"process ({batch}) must be a multiple of {block}")
    n = 2 * max(block, 1)
    was = (G.training, D.training)
    G.eval(), D.eval()
    try:
        fake = G(G.sample_noise(n, generator=torch.Generator(device).manual_seed(0), device=device))
        if tuple(fake.shape[1:]) != tuple(data.shape[1:]):
            raise ValueError(f"G's output shape {tuple(fake.shape[1:])} does not match the data's sample shape "
                             f"{tuple(data.shape[1:])} (D's input)")
        try:
            out = D(fake)
        except RuntimeError as e:
            raise ValueError(f"D cannot take G's output of shape {tuple(fake.shape)}: {e}") from e
        if out.shape != (n,):
            raise ValueError(f"D must return one logit per sample, shape (N,); got {tuple(out.shape)} for N={n}")
    finally:
        G.train(was[0]), D.train(was[1])
