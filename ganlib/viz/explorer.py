r"""The optimal-discriminator explorer of chapter 02, for a page without a kernel.

Move :math:`p_g = \mathcal N(\mu_g, s_g^2)` against a fixed :math:`p_{data}` and watch

.. math::

    D^*_G(x) = \frac{p_{data}(x)}{p_{data}(x) + p_g(x)} \quad\text{(Proposition 1)}, \qquad
    C(G) = V(G, D^*_G) = -\log 4 + 2\,\mathrm{JSD}(p_{data} \,\Vert\, p_g) \quad\text{(Eq. 5)}

change. :func:`discriminator_frames` computes every frame with :mod:`ganlib.theory` (the curves and
both numbers, by quadrature on a grid); :func:`explorer_html` turns the frames into one
self-contained block of HTML with two sliders and a canvas. Its script only looks up the frame of
the sliders' position and draws the precomputed curves: no number shown is computed in JavaScript,
and nothing is loaded from the network, so the explorer works in the published book, offline,
in Jupyter and on Colab alike.
"""

from __future__ import annotations

import html
import json
import uuid
from typing import Any, Dict, Optional, Sequence

import numpy as np

from ganlib import theory
from ganlib.data import toy

__all__ = ["discriminator_frames", "explorer_html"]


def discriminator_frames(means: Sequence[float], stds: Sequence[float], data: Optional[toy.Toy] = None,
                         x_min: float = -4.0, x_max: float = 5.0, n_plot: int = 181,
                         x_quadrature: Optional[np.ndarray] = None) -> Dict[str, Any]:
    r"""Every frame of the explorer: for each :math:`(\mu_g, s_g)` of ``means`` x ``stds``,
    :math:`p_g`, :math:`D^*_G` on ``n_plot`` points of ``[x_min, x_max]``, and :math:`C(G)` and
    :math:`\mathrm{JSD}(p_{data} \Vert p_g)` by quadrature on ``x_quadrature`` (default 8,001
    points on :math:`[-20, 20]`, wide enough for every slider position).

    Args:
        means, stds: the slider positions (each non-empty; stds positive).
        data: :math:`p_{data}`, a 1-D :class:`ganlib.data.toy.Toy` (default :math:`\mathcal N(0, 1)`).

    Returns:
        ``{"x", "p_data", "means", "stds", "frames"}``, ``frames[i][j]`` for ``means[i]``,
        ``stds[j]``: ``{"p_g", "d_star", "c", "jsd", "label"}`` (lists and floats, JSON-ready).

    Example:
        >>> from ganlib.viz.explorer import discriminator_frames
        >>> f = discriminator_frames([0.0], [1.0])["frames"][0][0]  # p_g = p_data
        >>> round(f["c"], 4), round(f["jsd"], 4), set(f["d_star"])  # -log 4, 0, D* = 1/2 everywhere
        (-1.3863, 0.0, {0.5})
    """
    if not len(means) or not len(stds):
        raise ValueError("the explorer needs at least one mean and one standard deviation")
    if any(not s > 0 for s in stds):
        raise ValueError(f"standard deviations of p_g must be positive, got {list(stds)}")
    data = data or toy.gaussian_1d(0.0, 1.0)
    xq = np.linspace(-20.0, 20.0, 8001) if x_quadrature is None else np.asarray(x_quadrature, dtype=np.float64)
    x = np.linspace(x_min, x_max, n_plot)
    pq, px = data.pdf(xq), data.pdf(x)
    frames = []
    for m in means:
        row = []
        for s in stds:
            g = toy.gaussian_1d(float(m), float(s))
            c = theory.virtual_criterion(pq, g.pdf(xq), xq)
            jsd = theory.jensen_shannon(pq, g.pdf(xq), xq)
            pg = g.pdf(x)
            row.append({"p_g": np.round(pg, 4).tolist(), "d_star": np.round(theory.optimal_discriminator(px, pg), 4).tolist(),
                        "c": float(c), "jsd": float(jsd),
                        "label": f"\u03bc_g = {m:g}, s_g = {s:g}:  C(G) = V(G, D*) = {c:.3f},  JSD = {jsd:.3f}"})
        frames.append(row)
    return {"x": np.round(x, 4).tolist(), "p_data": np.round(px, 4).tolist(), "means": [float(m) for m in means],
            "stds": [float(s) for s in stds], "frames": frames}


_SCRIPT = """
(function () {
  const root = document.getElementById(%(id)s), F = %(frames)s;
  const mean = root.querySelector(".gan-explorer-mean"), std = root.querySelector(".gan-explorer-std");
  const out = root.querySelector(".gan-explorer-readout"), cv = root.querySelector("canvas");
  const ctx = cv.getContext("2d"), W = cv.width, H = cv.height, pad = 28;
  const X = (v) => pad + (v - F.x[0]) / (F.x[F.x.length - 1] - F.x[0]) * (W - 2 * pad);
  const Y = (v) => H - pad - v / 1.05 * (H - 2 * pad);
  function line(ys, colour, width, dash) {
    ctx.beginPath(); ctx.setLineDash(dash || []); ctx.strokeStyle = colour; ctx.lineWidth = width;
    ys.forEach((v, i) => (i ? ctx.lineTo(X(F.x[i]), Y(Math.min(v, 1.05))) : ctx.moveTo(X(F.x[i]), Y(Math.min(v, 1.05)))));
    ctx.stroke();
  }
  function draw() {
    const f = F.frames[+mean.value][+std.value];
    ctx.clearRect(0, 0, W, H); ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, W, H);
    ctx.strokeStyle = "#999"; ctx.lineWidth = 1; ctx.setLineDash([]);
    ctx.strokeRect(pad, pad, W - 2 * pad, H - 2 * pad);
    ctx.fillStyle = "#333"; ctx.font = "11px sans-serif";
    [0, 0.5, 1].forEach((v) => ctx.fillText(String(v), 4, Y(v) + 4));
    [-4, -2, 0, 2, 4].forEach((v) => ctx.fillText(String(v), X(v) - 4, H - 10));
    line(F.x.map(() => 0.5), "#aaa", 1, [2, 3]);
    line(F.p_data, "#000", 1.5); line(f.p_g, "#2a2", 1.5); line(f.d_star, "#14c", 2.5);
    out.textContent = f.label;
    root.querySelector(".gan-explorer-mean-value").textContent = F.means[+mean.value];
    root.querySelector(".gan-explorer-std-value").textContent = F.stds[+std.value];
    root.dataset.frame = mean.value + "," + std.value;
  }
  mean.addEventListener("input", draw); std.addEventListener("input", draw); draw();
})();
"""


def explorer_html(frames: Dict[str, Any], mean: Optional[float] = None, std: Optional[float] = None,
                  width: int = 640, height: int = 260) -> str:
    """One self-contained HTML block (two sliders, a canvas, a read-out) showing ``frames`` of
    :func:`discriminator_frames`, starting at the frame nearest ``mean``/``std`` (default: the
    middle ones). Display it with ``IPython.display.HTML``.

    Example:
        >>> from ganlib.viz.explorer import discriminator_frames, explorer_html
        >>> page = explorer_html(discriminator_frames([0.0, 1.0], [1.0]))
        >>> page.count('type="range"'), "C(G) = V(G, D*) = -1.386" in page
        (2, True)
    """
    means, stds = frames["means"], frames["stds"]
    i = len(means) // 2 if mean is None else int(np.argmin(np.abs(np.asarray(means) - mean)))
    j = len(stds) // 2 if std is None else int(np.argmin(np.abs(np.asarray(stds) - std)))
    uid = f"gan-explorer-{uuid.uuid4().hex[:8]}"
    label = html.escape(frames["frames"][i][j]["label"])
    legend = ('<span style="color:#000">&#9472; p<sub>data</sub></span> &nbsp; <span style="color:#2a2">&#9472; '
              'p<sub>g</sub></span> &nbsp; <span style="color:#14c">&#9473; D*<sub>G</sub></span> &nbsp; '
              '<span style="color:#888">&#8943; 1/2</span>')
    slider = ('<label style="margin-right:1.5em">{name} <input type="range" class="gan-explorer-{cls}" min="0" '
              'max="{top}" step="1" value="{v}" style="vertical-align:middle"> <b class="gan-explorer-{cls}-value">'
              '{shown:g}</b></label>')
    return (f'<div class="gan-explorer" id="{uid}" style="font:13px sans-serif; max-width:{width}px">'
            + slider.format(name="mean of p<sub>g</sub>", cls="mean", top=len(means) - 1, v=i, shown=means[i])
            + slider.format(name="std of p<sub>g</sub>", cls="std", top=len(stds) - 1, v=j, shown=stds[j])
            + f'<div>{legend}</div><canvas width="{width}" height="{height}" style="max-width:100%"></canvas>'
            + f'<div class="gan-explorer-readout" style="font-family:monospace">{label}</div>'
            + "<script>" + _SCRIPT % {"id": json.dumps(uid), "frames": json.dumps(frames, separators=(",", ":"))}
            + "</script></div>")
