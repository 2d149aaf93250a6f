"""Pictures: sample grids, the sample-evolution GIF, the paper's Figures 1-3, and training curves.

The training loop draws nothing; these functions are called from callbacks
(:meth:`ganlib.engine.loop.Trainer.add_callback`), notebooks and the CLI. Matplotlib is imported only
by the plotting functions.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Dict, List, Sequence, Tuple, Union

import numpy as np
import torch
from torch import Tensor

from ganlib.nets.models import SQRT3
from ganlib.theory import discriminator_curve, kde_pdf

__all__ = [
    "to_images", "image_grid", "save_grid", "save_gif", "GridWriter", "plot_history",
    "plot_value_curves", "Figure1Recorder", "plot_figure1_panel", "animate_figure1", "animation_html", "show_grid",
    "HIGHLIGHT", "neighbour_grid", "latent_interpolation", "plot_class_histogram", "plot_health",
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


class Figure1Recorder:
    r"""Callback recording what the paper's Figure 1 draws, every ``every`` steps: :math:`D(x)` on
    ``xs``, a sample of :math:`G` (for :math:`p_g`, the law of :math:`G(z)`, :math:`z \sim p_z`),
    and the mapping :math:`x = G(z)` on a fixed grid ``z`` of noise values
    (``trainer.add_callback("on_step_end", recorder)``).

    Attributes:
        records: list of dicts ``{"step", "d", "samples", "z", "gz"}`` (numpy arrays; ``gz`` is
            :math:`G(z)` on the grid).
    """

    def __init__(self, xs: np.ndarray, z: np.ndarray, every: int = 100, n_samples: int = 2000) -> None:
        self.xs, self.every, self.n_samples = np.asarray(xs), every, n_samples
        self.z = np.asarray(z, dtype=np.float32).reshape(-1)
        self.records: List[Dict[str, Any]] = []

    def capture(self, trainer: Any) -> Dict[str, Any]:
        """Record the current state now (e.g. before training starts) and return the record."""
        gz = trainer.sample(z=torch.from_numpy(self.z).reshape(-1, 1)).reshape(-1).numpy()
        rec = {"step": trainer.step, "d": discriminator_curve(trainer.D, self.xs),
               "samples": trainer.sample(n=self.n_samples).reshape(-1).numpy(), "z": self.z.copy(), "gz": gz}
        self.records.append(rec)
        return rec

    def __call__(self, trainer: Any) -> None:
        """Record when ``trainer.step`` is a multiple of ``every``."""
        if trainer.step % self.every == 0:
            self.capture(trainer)


def plot_figure1_panel(ax: Any, xs: np.ndarray, data_pdf: np.ndarray, g_pdf: np.ndarray, d_curve: np.ndarray,
                       z: np.ndarray, gz: np.ndarray, d_star: Any = None, title: str = "",
                       z_range: Tuple[float, float] = (-SQRT3, SQRT3), legend: bool = True,
                       top: Any = None) -> Any:
    r"""One panel of the paper's Figure 1 on ``ax``: above, :math:`p_{data}` (black dots),
    :math:`p_g` (green, solid) and :math:`D(x)` (blue, dashed) on the grid ``xs``, with the optimal
    :math:`D^*_G(x) = \frac{p_{data}(x)}{p_{data}(x) + p_g(x)}` (Proposition 1) dotted when ``d_star``
    is given; below, two horizontal lines, :math:`x` and :math:`z`, joined by a segment from each
    noise value ``z`` to its image ``gz`` :math:`= G(z)`: where the segments crowd together,
    :math:`G` contracts and :math:`p_g` is high.

    The :math:`z` line is drawn under the plotted :math:`x` range, ``z_range`` (the noise's
    support, by default the paper's uniform prior on :math:`[-\sqrt3, \sqrt3]`) mapped affinely onto
    it. ``top`` fixes the height of the upper part (default: the largest of 1 and the two densities'
    maxima), so that panels drawn side by side share one scale; taller curves are cut off.
    Returns ``ax``.
    """
    xs = np.asarray(xs, dtype=np.float64)
    lo, hi = float(xs[0]), float(xs[-1])
    if top is None:
        top = max(1.0, float(np.max(data_pdf)), float(np.max(g_pdf)))
    y_x, y_z = -0.18 * top, -0.62 * top
    step = max(1, len(xs) // 80)
    ax.plot(xs[::step], np.asarray(data_pdf)[::step], "k.", ms=3, label=r"$p_{data}$")
    ax.plot(xs, g_pdf, color="tab:green", lw=1.8, label=r"$p_g$")
    ax.plot(xs, d_curve, color="tab:blue", ls="--", lw=1.5, label=r"$D(x)$")
    if d_star is not None:
        ax.plot(xs, d_star, color="navy", ls=":", lw=1.5, label=r"$D^*_G(x)$")
    z = np.asarray(z, dtype=np.float64).reshape(-1)
    gz = np.asarray(gz, dtype=np.float64).reshape(-1)
    z_pos = lo + (z - z_range[0]) / (z_range[1] - z_range[0]) * (hi - lo)
    keep = (gz >= lo) & (gz <= hi)  # images outside the plotted x range are clipped at its edge
    gx = np.clip(gz, lo, hi)
    for a, b, k in zip(z_pos, gx, keep):
        ax.plot([a, b], [y_z, y_x], color="0.45" if k else "0.8", lw=0.7)
    ax.hlines([y_x, y_z], lo, hi, color="k", lw=1.0)
    ax.text(lo, y_x, "x ", ha="right", va="center", fontsize=10)
    ax.text(lo, y_z, "z ", ha="right", va="center", fontsize=10)
    ax.set_xlim(lo, hi)
    ax.set_ylim(y_z - 0.06 * top, 1.08 * top)
    ax.set_yticks([0, 0.5, 1.0])
    ax.axhline(0.5, color="0.85", lw=0.6, zorder=0)
    if title:
        ax.set_title(title, fontsize=10)
    if legend:
        ax.legend(loc="upper left", fontsize=7, frameon=False)
    return ax


def animate_figure1(records: Sequence[Dict[str, Any]], xs: np.ndarray, data_pdf: np.ndarray,
                    bandwidth: Any = "scott", interval: int = 150, figsize: Tuple[float, float] = (6.0, 3.6),
                    z_range: Tuple[float, float] = (-SQRT3, SQRT3), dpi: int = 72) -> Any:
    r"""A :class:`matplotlib.animation.FuncAnimation` of :class:`Figure1Recorder` records, one
    :func:`plot_figure1_panel` per frame with :math:`p_g` estimated by
    :func:`ganlib.theory.kde_pdf` (``bandwidth``) from each record's samples,
    :math:`\hat p_g(x) = \frac{1}{nh}\sum_i \varphi\big((x - G(z_i))/h\big)`: the game of
    Figure 1 played out, :math:`D` flattening towards :math:`\tfrac12` as :math:`p_g \to p_{data}`
    (Theorem 1). All frames share one vertical scale; ``dpi`` sets the frames' resolution (and so
    the size of the embedded animation, about 40 kB per frame at the defaults). Display it with
    ``IPython.display.HTML(anim.to_jshtml())``; the figure is closed so that it is not drawn twice.
    """
    import matplotlib.pyplot as plt
    from matplotlib.animation import FuncAnimation

    if not records:
        raise ValueError("animate_figure1 needs at least one record")
    pdfs = [kde_pdf(r["samples"], xs, bandwidth) for r in records]
    top = max(1.0, 1.15 * float(np.max(data_pdf)))
    fig, ax = plt.subplots(figsize=figsize, dpi=dpi)

    def draw(i: int) -> List[Any]:
        ax.clear()
        r = records[i]
        plot_figure1_panel(ax, xs, data_pdf, pdfs[i], r["d"], r["z"], r["gz"], z_range=z_range,
                           title=f"step {r['step']}", top=top)
        return []

    anim = FuncAnimation(fig, draw, frames=len(records), interval=interval, blit=False)
    plt.close(fig)
    return anim


#: Text stand-ins for the Font Awesome icons of matplotlib's ``to_jshtml`` controls.
_ANIMATION_GLYPHS = {
    "fa fa-minus": "\u2212", "fa fa-plus": "+", "fa fa-fast-backward": "\u21e4", "fa fa-fast-forward": "\u21e5",
    "fa fa-step-backward": "\u2039", "fa fa-step-forward": "\u203a", "fa fa-play fa-flip-horizontal": "\u25c0",
    "fa fa-play": "\u25b6", "fa fa-pause": "\u275a\u275a",
}


def animation_html(anim: Any, default_mode: str = "once") -> str:
    r"""Self-contained HTML of a :class:`matplotlib.animation.Animation` (e.g. from
    :func:`animate_figure1`), for ``IPython.display.HTML`` in a book page that must work offline.

    :meth:`~matplotlib.animation.Animation.to_jshtml` embeds every frame as a base64 PNG, but it
    also links Font Awesome's style sheet from a CDN for the icons of its buttons. This function
    drops that link and writes the icons as plain characters (play, pause, step, first/last frame,
    slower/faster), so the page requests nothing from the network. Each frame :math:`t` shows the
    state of the game at that step, e.g. :math:`D_t(x)` and :math:`p_{g_t}` for Figure 1.

    Args:
        anim: the animation.
        default_mode: ``"once"``, ``"loop"`` or ``"reflect"`` (matplotlib's playback modes).

    Returns:
        the HTML string (frames, controls and the script that plays them).
    """
    import re

    html = anim.to_jshtml(default_mode=default_mode)
    html = re.sub(r'<link rel="stylesheet"\s*href="https?://[^"]*font-awesome[^"]*"\s*/?>', "", html)
    for cls, glyph in _ANIMATION_GLYPHS.items():
        html = html.replace(f'<i class="{cls}"></i>', f'<span aria-hidden="true">{glyph}</span>')
    return html


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
