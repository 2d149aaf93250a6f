r"""The paper's Figure 1, from real runs: the state of a 1-D game (:func:`figure1_state`), a callback
that records it during training (:class:`Figure1Recorder`), one panel (:func:`plot_figure1_panel`)
and the whole run as an animation that plays offline (:func:`animate_figure1`, :func:`animation_html`).
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Set, Tuple

import numpy as np
import torch

from ganlib.engine.callbacks import Recorder
from ganlib.nets.models import SQRT3
from ganlib.theory import discriminator_curve, jensen_shannon, kde_pdf, wasserstein_1

__all__ = ["figure1_state", "Figure1Recorder", "plot_figure1_panel", "animate_figure1", "animation_html"]


def figure1_state(G: Any, D: Any, xs: np.ndarray, z: np.ndarray, n: int = 20_000, seed: Optional[int] = 1,
                  bandwidth: Any = "scott", p_data: Any = None, wide: Optional[np.ndarray] = None) -> Dict[str, Any]:
    r"""What a panel of Figure 1 needs, for a 1-D generator ``G`` and discriminator ``D`` (eval mode,
    no gradients): ``samples``, ``n`` draws of :math:`G(z)` from noise seeded by ``seed`` (``None``: the
    global generator); ``gz``, :math:`G` on the noise grid ``z``; ``d``, :math:`D(x)` on ``xs``; and
    ``g_pdf``, the kernel estimate :math:`\hat p_g` of the samples on ``xs``. With ``p_data`` (a 1-D
    :class:`ganlib.data.toy.Toy`) and a wide quadrature grid ``wide``, also ``d_wide``, ``logit_wide``
    and ``g_pdf_wide`` there, and :math:`\mathrm{JSD}(p_{data} \Vert \hat p_g)` (``jsd``) and
    :math:`W_1` (``w1``) by quadrature.

    Example:
        >>> import numpy as np, torch
        >>> from ganlib.nets.models import MLPDiscriminator, MLPGenerator
        >>> from ganlib.viz.figure1 import figure1_state
        >>> _ = torch.manual_seed(0)
        >>> st = figure1_state(MLPGenerator(1, 1, (8,)), MLPDiscriminator(1, (8,)), np.linspace(-3, 3, 61),
        ...                    np.linspace(-1, 1, 5), n=500)
        >>> st["samples"].shape, st["gz"].shape, st["d"].shape, st["g_pdf"].shape
        ((500,), (5,), (61,), (61,))
    """
    was = G.training
    G.eval()
    try:
        with torch.no_grad():
            gen = None if seed is None else torch.Generator().manual_seed(seed)
            samples = G(G.sample_noise(n, generator=gen)).reshape(-1).float().numpy()
            gz = G(torch.from_numpy(np.asarray(z, dtype=np.float32)).reshape(-1, 1)).reshape(-1).float().numpy()
    finally:
        G.train(was)
    out = {"samples": samples, "gz": gz, "d": discriminator_curve(D, xs), "g_pdf": kde_pdf(samples, xs, bandwidth)}
    if p_data is not None and wide is not None:
        g_wide, data_wide = kde_pdf(samples, wide, bandwidth), p_data.pdf(wide)
        out.update(d_wide=discriminator_curve(D, wide), logit_wide=discriminator_curve(D, wide, logits=True),
                   g_pdf_wide=g_wide, jsd=jensen_shannon(data_wide, g_wide, wide), w1=wasserstein_1(data_wide, g_wide, wide))
    return out


class Figure1Recorder(Recorder):
    r"""Callback recording what the paper's Figure 1 draws, before training and then every ``every``
    steps or at the given ``steps``: :math:`D(x)` on ``xs``, a sample of :math:`G` (for :math:`p_g`,
    the law of :math:`G(z)`, :math:`z \sim p_z`), and the mapping :math:`x = G(z)` on a fixed grid
    ``z`` of noise values (:func:`figure1_state`; ``trainer.add_callback(recorder)``).

    Attributes:
        records: list of dicts ``{"step", "d", "samples", "z", "gz"}`` (numpy arrays; ``gz`` is
            :math:`G(z)` on the grid).
    """

    def __init__(self, xs: np.ndarray, z: np.ndarray, every: int = 100, n_samples: int = 2000,
                 steps: Optional[Set[int]] = None) -> None:
        self.xs, self.every, self.n_samples, self.steps = np.asarray(xs), every, n_samples, steps
        self.z = np.asarray(z, dtype=np.float32).reshape(-1)
        self.records: List[Dict[str, Any]] = []

    def capture(self, trainer: Any) -> Dict[str, Any]:
        """Record the current state now (e.g. before training starts) and return the record; the
        samples come from the global random generator."""
        G = trainer.ema.module if getattr(trainer, "ema", None) is not None else trainer.G
        st = figure1_state(G, trainer.D, self.xs, self.z, n=self.n_samples, seed=None)
        rec = {"step": trainer.step, "d": st["d"], "samples": st["samples"], "z": self.z.copy(), "gz": st["gz"]}
        self.records.append(rec)
        return rec


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
