"""Pictures: sample grids, the sample-evolution GIF, discriminator curves and loss plots.

The training loop draws nothing; these functions are called from callbacks
(:meth:`ganlib.train.Trainer.add_callback`), notebooks and the CLI. Matplotlib is imported only
by the plotting functions.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Sequence, Tuple, Union

import numpy as np
import torch
from torch import Tensor, nn

__all__ = [
    "to_images",
    "image_grid",
    "save_grid",
    "save_gif",
    "discriminator_curve",
    "DiscriminatorCurveRecorder",
    "GridWriter",
    "plot_history",
    "plot_toy_1d",
]


def to_images(samples: Tensor) -> Tensor:
    """Reshape samples ``(N, 784)`` or ``(N, 1, 28, 28)`` (or ``(N, C, H, W)``) to image batches,
    clamped to [0, 1]."""
    x = samples.detach().float().cpu()
    if x.dim() == 2:
        side = int(round(x.shape[1] ** 0.5))
        if side * side != x.shape[1]:
            raise ValueError(f"cannot view samples of dimension {x.shape[1]} as square images")
        x = x.view(-1, 1, side, side)
    return x.clamp(0, 1)


def image_grid(samples: Tensor, nrow: int = 8, padding: int = 2) -> Tensor:
    """A ``(3, H, W)`` grid of samples with :func:`torchvision.utils.make_grid`."""
    from torchvision.utils import make_grid

    return make_grid(to_images(samples), nrow=nrow, padding=padding, pad_value=1.0)


def save_grid(samples: Tensor, path: Union[str, Path], nrow: int = 8) -> Path:
    """Write a PNG grid of samples with :func:`torchvision.utils.save_image`; returns the path."""
    from torchvision.utils import save_image

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_image(to_images(samples), str(path), nrow=nrow, padding=2, pad_value=1.0)
    return path


def save_gif(frames: Sequence[Union[Tensor, Tuple[int, Tensor]]], path: Union[str, Path], nrow: int = 8,
             duration_ms: int = 200) -> Path:
    """Write the sample-evolution GIF: one grid per frame (``samples`` or ``(step, samples)``,
    e.g. :attr:`ganlib.train.Trainer.snapshots`); the last frame is held three times as long."""
    from PIL import Image

    if not frames:
        raise ValueError("save_gif needs at least one frame")
    pics = []
    for f in frames:
        x = f[1] if isinstance(f, tuple) else f
        g = image_grid(x, nrow=nrow).mul(255).round().byte().permute(1, 2, 0).numpy()
        pics.append(Image.fromarray(g))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    durations = [duration_ms] * (len(pics) - 1) + [duration_ms * 3]
    pics[0].save(path, save_all=True, append_images=pics[1:], duration=durations, loop=0)
    return path


@torch.no_grad()
def discriminator_curve(discriminator: nn.Module, xs: Union[np.ndarray, Tensor]) -> np.ndarray:
    r""":math:`D(x) = \sigma(\text{logit}(x))` on a 1-D grid ``xs`` (eval mode), as a numpy array.

    For a fixed :math:`G`, the optimal discriminator is
    :math:`D^*_G(x) = \frac{p_{data}(x)}{p_{data}(x) + p_g(x)}` (Proposition 1); at the global
    optimum :math:`p_g = p_{data}` it is :math:`\tfrac12` everywhere.
    """
    p = next(discriminator.parameters())
    x = torch.as_tensor(np.asarray(xs, dtype=np.float32)).reshape(-1, 1).to(p.device)
    was = discriminator.training
    discriminator.eval()
    try:
        return torch.sigmoid(discriminator(x).float()).reshape(-1).cpu().numpy()
    finally:
        discriminator.train(was)


class DiscriminatorCurveRecorder:
    """Callback recording :func:`discriminator_curve` on ``xs`` and a histogram-ready sample of
    :math:`G` every ``every`` steps (``trainer.add_callback("on_step_end", recorder)``).

    Attributes:
        records: list of dicts ``{"step", "d", "samples"}`` (numpy arrays).
    """

    def __init__(self, xs: np.ndarray, every: int = 100, n_samples: int = 2000) -> None:
        self.xs, self.every, self.n_samples = np.asarray(xs), every, n_samples
        self.records: List[Dict[str, Any]] = []

    def __call__(self, trainer: Any) -> None:
        """Record when ``trainer.step`` is a multiple of ``every``."""
        if trainer.step % self.every:
            return
        samples = trainer.sample(n=self.n_samples).reshape(-1).numpy()
        self.records.append({"step": trainer.step, "d": discriminator_curve(trainer.D, self.xs), "samples": samples})


class GridWriter:
    """Callback writing ``samples_step_XXXXXXX.png`` for every snapshot of the fixed noise
    (``trainer.add_callback("on_snapshot", GridWriter(folder))``)."""

    def __init__(self, folder: Union[str, Path], nrow: int = 8) -> None:
        self.folder, self.nrow = Path(folder), nrow

    def __call__(self, trainer: Any) -> None:
        """Save the latest snapshot as a PNG grid."""
        step, x = trainer.snapshots[-1]
        if x.dim() == 2 and int(round(x.shape[1] ** 0.5)) ** 2 != x.shape[1]:
            return  # toy data: not images
        save_grid(x, self.folder / f"samples_step_{step:07d}.png", nrow=self.nrow)


def plot_history(history: Dict[str, Sequence[float]], ax: Any = None, columns: Sequence[str] = ("d_real", "d_fake")) -> Any:
    """Plot history columns against ``step`` (default: mean D(x) and mean D(G(z)), with the
    equilibrium value 1/2 dashed); returns the matplotlib axes."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3))
    for c in columns:
        ax.plot(history["step"], history[c], label=c)
    if set(columns) & {"d_real", "d_fake"}:
        ax.axhline(0.5, color="k", ls="--", lw=0.8)
    ax.set_xlabel("step")
    ax.legend()
    return ax


def plot_toy_1d(ax: Any, xs: np.ndarray, data_pdf: np.ndarray, samples: np.ndarray, d_curve: np.ndarray,
                bins: int = 60) -> Any:
    """Figure-1-style panel: :math:`p_{data}` (black), a histogram of :math:`G` samples (green)
    and :math:`D(x)` (blue dashed) on the grid ``xs``; returns ``ax``."""
    ax.plot(xs, data_pdf, "k-", lw=1.5, label=r"$p_{data}$")
    ax.hist(samples, bins=bins, range=(float(xs[0]), float(xs[-1])), density=True, color="g", alpha=0.4, label=r"$p_g$")
    ax.plot(xs, d_curve, "b--", label=r"$D(x)$")
    ax.set_ylim(0, max(1.05, float(np.max(data_pdf)) * 1.1))
    ax.legend(loc="upper right", fontsize=8)
    return ax
