"""Pictures: sample grids, the sample-evolution GIF, the paper's Figures 2 and 3, training curves and the
picture of a trained MNIST run (Figure 1 has its own module, :mod:`ganlib.viz.figure1`).

The training loop draws nothing; these functions are called from callbacks
(:meth:`ganlib.engine.loop.Trainer.add_callback`), notebooks and the CLI. Matplotlib is imported only
by the plotting functions.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Dict, Sequence, Tuple, Union

import numpy as np
import torch
from torch import Tensor


__all__ = [
    "to_images", "image_grid", "save_grid", "save_gif", "GridWriter", "plot_history",
    "plot_value_curves", "show_grid",
    "HIGHLIGHT", "neighbour_grid", "latent_interpolation", "plot_class_histogram", "plot_health", "plot_run",
    "plot_discriminator_frame",
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
    e.g. :attr:`ganlib.engine.loop.Trainer.snapshots`); the last frame is held three times as long."""
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


def plot_value_curves(runs: Dict[str, Tuple[Any, int, bool]], title: str = "", window: int = 50) -> Any:
    r"""Training curves of several runs against *discriminator* updates: the batch estimate
    :math:`\hat V(G, D)` of Eq. 1 on the left (with :math:`-\log 4`, its value at the global
    optimum, dotted), a critic's :math:`\hat W = \bar f(x) - \bar f(G(z))` (WGAN Eq. 3) on the right.

    Args:
        runs: ``{label: (history, k, is_critic)}``; ``history`` has ``step`` and ``value``
            columns (a :class:`pandas.DataFrame` of :attr:`ganlib.engine.loop.Trainer.history`), ``k``
            D updates per step put the runs on one axis, ``is_critic`` picks the right panel.
        title: figure title.
        window: rolling-mean window in steps.

    Returns:
        the matplotlib figure.
    """
    import math

    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
    for label, (history, k, is_critic) in runs.items():
        ax = axes[1] if is_critic else axes[0]
        ax.plot(history.step * k, history.value.rolling(window, min_periods=1).mean(), label=label)
    axes[0].axhline(-math.log(4), color="k", lw=1, ls=":", label=r"$-\log 4$")
    axes[0].set_ylabel(r"$\hat V(G, D)$ (Eq. 1)")
    axes[1].set_ylabel(r"critic's $\hat W = \bar f(x) - \bar f(G(z))$")
    for ax in axes:
        ax.set_xlabel("discriminator updates")
        ax.legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def show_grid(ax: Any, grid: Tensor, title: str = "") -> Any:
    """Draw a ``(3, H, W)`` image grid (e.g. from :func:`image_grid`) on ``ax`` without axes."""
    ax.imshow(grid.permute(1, 2, 0).numpy(), interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize=9)
    return ax


#: Colour of the nearest-neighbour column of :func:`neighbour_grid` (RGB in [0, 1]).
HIGHLIGHT = (1.0, 0.84, 0.0)


def neighbour_grid(samples: Tensor, neighbours: Tensor, nrow: int, padding: int = 2,
                   highlight: Tuple[float, float, float] = HIGHLIGHT) -> Tensor:
    r"""The layout of the paper's Figure 2: ``len(neighbours)`` rows of ``nrow`` samples, and a last
    column (framed in ``highlight``, after a gap) holding each row's ``neighbours[r]``, e.g. the
    training image nearest to the row's last sample, :math:`\arg\min_j \lVert x_j - G(z)\rVert_2`.

    Returns:
        a ``(3, H, W)`` tensor in [0, 1] (draw it with :func:`show_grid`).

    Raises:
        ValueError: ``len(samples) != nrow * len(neighbours)``.
    """
    x, nb = to_images(samples), to_images(neighbours)
    if len(x) != nrow * len(nb):
        raise ValueError(f"need nrow * len(neighbours) = {nrow * len(nb)} samples, got {len(x)}")
    left = image_grid(x, nrow=nrow, padding=padding)
    _, h, w = nb.shape[1:]
    p = padding
    col = torch.ones(3, left.shape[1], w + 2 * p)
    for r in range(len(nb)):
        y = p + r * (h + p)
        col[:, y - p : y + h + p, :] = torch.tensor(highlight).view(3, 1, 1)
        col[:, y : y + h, p : p + w] = nb[r].expand(3, h, w)
    gap = torch.ones(3, left.shape[1], 2 * p)
    return torch.cat([left, gap, col], dim=2)


def latent_interpolation(z0: Tensor, z1: Tensor, steps: int) -> Tensor:
    r"""Linear interpolation in :math:`z` space (the paper's Figure 3):
    :math:`z_t = (1 - t)\, z_0 + t\, z_1` for ``steps`` values of :math:`t` evenly spaced in
    :math:`[0, 1]`.

    Args:
        z0, z1: start and end points, ``(R, d)`` each (one row of the figure per pair).
        steps: points per row (>= 2), both ends included.

    Returns:
        ``(R * steps, d)``, row-major (the ``steps`` points of pair 0, then of pair 1, ...), ready
        for :func:`image_grid` with ``nrow=steps``.
    """
    if z0.shape != z1.shape or z0.dim() != 2:
        raise ValueError(f"z0 and z1 must both be (R, d); got {tuple(z0.shape)} and {tuple(z1.shape)}")
    if steps < 2:
        raise ValueError(f"steps must be >= 2, got {steps}")
    t = torch.linspace(0, 1, steps, dtype=z0.dtype, device=z0.device).view(1, steps, 1)
    return ((1 - t) * z0[:, None, :] + t * z1[:, None, :]).reshape(-1, z0.shape[1])


def plot_class_histogram(ax: Any, counts: Union[Tensor, Sequence[int]], title: str = "",
                         min_fraction: float = 0.01) -> Any:
    """Bar chart of predicted digit classes of generator samples (a mode-coverage check): the share
    of each class, the uniform share :math:`1/K` dashed, and the classes under ``min_fraction``
    of the samples (:func:`ganlib.metrics.missing_classes`) in red, labelled "missing"."""
    h = np.asarray(counts.cpu() if isinstance(counts, Tensor) else counts, dtype=np.float64)
    if not (np.isfinite(h).all() and (h >= 0).all() and h.sum() > 0):
        raise ValueError("counts must be finite, non-negative and not all zero")
    share = h / h.sum()
    missing = share < min_fraction
    ax.bar(np.arange(len(h)), share, color=np.where(missing, "tab:red", "tab:blue"))
    ax.axhline(1.0 / len(h), color="k", ls="--", lw=0.8)
    for c in np.flatnonzero(missing):
        ax.text(c, 0.005, "missing", rotation=90, ha="center", va="bottom", fontsize=7, color="tab:red")
    ax.set_xticks(np.arange(len(h)))
    ax.set_xlabel("predicted digit")
    ax.set_ylabel("share of samples")
    if title:
        ax.set_title(title, fontsize=9)
    return ax


def plot_health(monitors: Dict[str, Any], width: float = 13.0) -> Any:
    r"""Runs side by side through their :class:`ganlib.metrics.HealthMonitor` records: mean
    :math:`D(x)` (solid) and :math:`D(G(z))` (dashed) against :math:`\tfrac12`, :math:`\hat V`
    against :math:`-\log 4`, and the JSD to :math:`p_{data}` (1-D toys) or the modes covered, or for
    digits scored by :class:`ganlib.metrics.digits.DigitScore` the confident share (and the FID when
    recorded); a warning given is marked by a cross at its step. Returns the figure."""
    import matplotlib.pyplot as plt

    recs = {k: m.records for k, m in monitors.items() if m.records}
    has = lambda key: any(key in r for rows in recs.values() for r in rows)  # noqa: E731
    if all("jsd" in r[0] for r in recs.values()):
        extra = ["jsd"]
    elif has("confident_share"):
        extra = ["confident_share"] + (["fid"] if has("fid") else [])
    else:
        extra = ["modes"]
    titles = {"jsd": ("JSD", "JSD(p_data, KDE of p_g)"), "modes": ("modes", "modes covered"),
              "confident_share": ("share of samples", "digits read with confidence >= 0.9"),
              "fid": ("FID (ours)", "FID to the training digits")}
    fig, axes = plt.subplots(1, 2 + len(extra), figsize=(width, 3.3))
    for i, (label, rows) in enumerate(recs.items()):
        colour, steps = f"C{i}", [r["step"] for r in rows]
        axes[0].plot(steps, [r["d_real"] for r in rows], "-", color=colour, label=f"{label}: D(x)")
        axes[0].plot(steps, [r["d_fake"] for r in rows], "--", color=colour, label=f"{label}: D(G(z))")
        axes[1].plot(steps, [r["value"] for r in rows], color=colour, label=label)
        for ax, key in zip(axes[2:], extra):
            scored = [r for r in rows if key in r]
            if scored:
                style = "-" if key in ("jsd", "modes") else ".-"  # digit scores: sparse reads, marked
                ax.plot([r["step"] for r in scored], [r[key] for r in scored], style, color=colour, label=label)
        for step, kind, _ in monitors[label].alerts:
            axes[0].plot([step], [1.0], "x", color=colour, ms=9, mew=2)
            axes[0].annotate(kind, (step, 1.0), textcoords="offset points", xytext=(4, -12), fontsize=7, color=colour)
    axes[0].axhline(0.5, color="0.5", lw=0.8, ls=":")
    axes[1].axhline(-math.log(4), color="0.5", lw=0.8, ls=":")
    axes[0].set(ylim=(-0.03, 1.08), ylabel="mean on recent batches", title=r"$D(x)$ and $D(G(z))$ (1/2 at equilibrium)")
    axes[1].set(ylabel=r"$\hat V(G, D)$", title=r"batch $V$ ($-\log 4$ at equilibrium)")
    for ax, key in zip(axes[2:], extra):
        ax.set(ylabel=titles[key][0], title=titles[key][1])
    if "fid" in extra:
        axes[-1].set_yscale("log")
    for ax in axes:
        ax.set_xlabel("step")
    axes[0].legend(fontsize=7, loc="center right", bbox_to_anchor=(1.0, 0.72))  # between 1/2 and 1
    axes[2].legend(fontsize=7)
    fig.tight_layout()
    return fig


def plot_run(trainer: Any, report: Dict[str, Any], title: str = "") -> Any:
    """A trained image run at a glance, one row of four panels: the fixed noise batch at the first
    snapshot after the start and at the end, the discriminator's mean outputs per step, and the digits
    of the confident samples of ``report`` (a :func:`ganlib.metrics.digit_report`; when none is
    confident, where the classifier's argmax puts them all). Returns the figure."""
    import matplotlib.pyplot as plt

    (s1, x1), (s2, x2) = trainer.snapshots[1], trainer.snapshots[-1]
    fig, axes = plt.subplots(1, 4, figsize=(15, 3.6), gridspec_kw=dict(width_ratios=[1, 1, 1.3, 1.3]))
    show_grid(axes[0], image_grid(x1), f"step {s1}")
    show_grid(axes[1], image_grid(x2), f"step {s2} (the end)")
    plot_history(trainer.history, ax=axes[2])
    axes[2].set_title("mean D(x) and D(G(z)) per step", fontsize=9)
    n = report["n_samples"]
    sure = round(report["confident_share"] * n)
    if sure:
        plot_class_histogram(axes[3], np.array(report["confident_class_shares"]) * sure, f"digits of the {sure} confident samples")
    else:
        plot_class_histogram(axes[3], np.array(report["class_shares"]) * n, f"no sample confident: argmax of all {n}")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_discriminator_frame(ax: Any, frames: Dict[str, Any], i: int = 0, j: int = 0) -> Any:
    r"""Frame ``[i][j]`` of :func:`ganlib.viz.explorer.discriminator_frames` on ``ax``: :math:`p_{data}`,
    :math:`p_g` and :math:`D^*_G`, with :math:`C(G)` and the JSD in the title. Returns ``ax``."""
    f, x = frames["frames"][i][j], frames["x"]
    ax.plot(x, frames["p_data"], "k", lw=1, label=r"$p_\mathrm{data}$")
    ax.plot(x, f["p_g"], "g", lw=1, label=r"$p_g$")
    ax.plot(x, f["d_star"], "b", lw=2, label=r"$D^*_G$")
    ax.axhline(0.5, color="0.6", ls=":", lw=1)
    ax.set_xlim(x[0], x[-1])
    ax.set_ylim(-0.02, 1.02)
    ax.set_title(f"$\\mu_g$={frames['means'][i]:g}, $s_g$={frames['stds'][j]:g}: $C(G)$={f['c']:.3f}, "
                 f"JSD={f['jsd']:.3f}", fontsize=9)
    return ax
