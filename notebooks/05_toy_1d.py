# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Figure 1 from a real run: the game in one dimension
#
# Figure 1 of the paper {cite:p}`goodfellow2014gan` is the picture most readers remember: a
# data distribution (black dots), the generator's distribution $p_g$ (green, solid), the
# discriminator $D$ (blue, dashed), and underneath, lines from a uniform grid of noise values $z$
# up to their images $x = G(z)$. Its four panels tell the story of training:
#
# - **(a)** near convergence: $p_g$ is similar to $p_\text{data}$ and $D$ is a partially accurate
#   classifier;
# - **(b)** in the inner loop of Algorithm 1 $D$ is trained to discriminate, converging to
#   $D^*(x) = \frac{p_\text{data}(x)}{p_\text{data}(x) + p_g(x)}$ (Proposition 1);
# - **(c)** after an update to $G$, the gradient of $D$ has guided $G(z)$ to flow to regions that
#   are more likely to be classified as data;
# - **(d)** after several steps, if $G$ and $D$ have enough capacity, they reach the point where
#   $p_g = p_\text{data}$ and neither can improve: $D(x) = \tfrac12$.
#
# In the paper the figure is a drawing: no code produced it. In this chapter every curve of it
# comes from an actual training run of `ganlib`'s Algorithm 1 on a one-dimensional toy, and the
# run is also shown as an animation. The second half looks at Algorithm 1's $k$ (discriminator
# steps per generator step) and at the two generator losses of Section 3.

# %% tags=["hide-input", "nbval-ignore-output"]
# Setup, only inside Google Colab: install the ganlib these pages were run with (a release tag of the
# book's repository, with its MNIST and FID extras), then report the GPU. Elsewhere it does nothing.
# GANLIB_REPOSITORY points it at another copy (the tests use a local clone); the URL and the tag
# are kept in step by scripts/set_repository_url.py and scripts/pin_version.py.
import os
import shutil
import subprocess
import sys

if "google.colab" in sys.modules:
    repository = os.environ.get("GANLIB_REPOSITORY", "https://github.com/gan-book/gan-book")
    subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", f"ganlib[data] @ git+{repository}@v0.2.0"])
    if shutil.which("nvidia-smi"):
        subprocess.run(["nvidia-smi", "-L"], check=False)
    else:
        print("No GPU found (Runtime > Change runtime type > GPU); the chapter also runs on the CPU.")

# %% tags=["nbval-ignore-output"]
import copy
import math
import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from IPython.display import HTML, display

from ganlib import experiments, propositions, theory, viz
from ganlib.config import TrainConfig
from ganlib.data import toy_data
from ganlib.metrics import HealthMonitor, HealthWarning
from ganlib.models import MLPDiscriminator, MLPGenerator
from ganlib.runtime import describe_run, quick_mode, seed_everything
from ganlib.toy import get_toy
from ganlib.train import Trainer

torch.set_num_threads(1)  # small networks: one thread is as fast as two, and leaves a core free
seed_everything(0)
run_info = describe_run(data_source="toy: N(4, 0.5^2) on the line (ganlib.data.toy_data('gaussian_1d'))", device="cpu")
print("device=cpu on purpose, on a GPU runtime too: these networks have a few thousand weights, and a GPU "
      "spends longer launching each step's small kernels than the CPU spends computing them")

# %% [markdown]
# ## The set-up
#
# - **Data.** $p_\text{data} = \mathcal N(4, 0.5^2)$, a fixed training set of 20,000 draws
#   (`ganlib.data.toy_data("gaussian_1d")`).
# - **Noise.** $z \sim \mathcal U[-\sqrt3, \sqrt3]$, one-dimensional: the paper's uniform prior
#   (unit variance). Uniform noise is what makes the lower half of Figure 1 readable: equally
#   spaced $z$ values, whose images crowd together where $G$ contracts, i.e. where $p_g$ is high.
# - **Networks.** $G$: an MLP $1 \to 32 \to 32 \to 1$ with ReLUs; $D$: an MLP $1 \to 64 \to 64 \to 1$
#   with leaky ReLUs, returning a logit ($D = \sigma(\text{logit})$). $G$'s output bias starts at
#   the mean of the training data, the one-dimensional version of what the paper's code does for
#   MNIST (the output bias is set from the data's pixel means); the rest is PyTorch's default
#   initialisation. Without it, $G$'s samples start near 0, far from the data, and $G$ may learn
#   a folded (non-monotone) map: a legitimate solution, but a confusing picture. (The comparison
#   of $k$ at the end starts that way on purpose.)
# - **Training.** Algorithm 1 with $k = 3$ discriminator steps per generator step (the paper used
#   $k = 1$; in this small set-up the $k = 1$ run of the comparison at the end, one seed, stops
#   seeing a mismatch in *spread* once the means agree), the
#   non-saturating generator loss $-\log D(G(z))$ (Section 3), minibatches of $m = 256$, and Adam
#   with learning rates $2\cdot10^{-3}$ for $D$ and $5\cdot10^{-4}$ for $G$, both decayed along a
#   cosine to 5 % of their start by the last step, so that the game settles instead of circling
#   its equilibrium.
#
# `Trainer.run` only trains. The pictures are recorded by a callback,
# `ganlib.viz.Figure1Recorder`, which every few steps evaluates $D$ on a grid of $x$, draws a
# sample of $G$ (for $p_g$), and maps a fixed uniform grid of 40 noise values through $G$.

# %% tags=["nbval-ignore-output"]
p_data = get_toy("gaussian_1d")
data = toy_data("gaussian_1d", n=20_000, seed=0)
MU, SIGMA = 4.0, 0.5
xs = np.linspace(1.5, 6.5, 501)  # the plotted x range
x_wide = np.linspace(-6.0, 14.0, 8001)  # a wide grid for quadrature (normalised densities)
data_pdf, data_pdf_wide = p_data.pdf(xs), p_data.pdf(x_wide)
z_grid = np.linspace(-math.sqrt(3), math.sqrt(3), 40)

STEPS = 1500 if quick_mode() else 6000
SNAP_A = STEPS // 5  # the state drawn in panel (a)
K_MAIN = 3  # discriminator steps per generator step
print(f"{data.describe()}; {STEPS} steps of Algorithm 1; panel (a) at step {SNAP_A}")


def players(centred: bool = True):
    """G and D of this chapter (``experiments.train_pair`` seeds before calling this); ``centred``:
    G's output bias starts at the data mean."""
    G, D = MLPGenerator(1, 1, (32, 32), noise="uniform"), MLPDiscriminator(1, (64, 64))
    if centred:
        with torch.no_grad():
            G.net[-1].bias.fill_(data.images.mean().item())
    return G, D


def config(steps: int, k: int = 1, loss: str = "non_saturating", lr_d: float = 2e-3, lr_g: float = 5e-4,
           decay: bool = True) -> TrainConfig:
    """This chapter's runs: Adam, batch 256, seed 0 and (``decay``) a cosine decay of both learning
    rates to 5 % over the run (D's over its k x steps updates). A learning rate of 0 freezes a player."""
    return TrainConfig(loss=loss, k=k, batch_size=256, max_steps=steps, lr_d=lr_d, lr_g=lr_g, device="cpu",
                       seed=0, progress=False, snapshot_every=-1, log_every=100,
                       optimizer_kwargs={"betas": (0.5, 0.999)},
                       schedule="cosine" if decay else "constant", lr_floor=0.05)


# %% [markdown]
# ## The run
#
# One run, recorded 50 times. A second callback keeps a copy of both players at step
# `SNAP_A`: panels (b) and (c) start from there.

# %% tags=["nbval-ignore-output"]
recorder = viz.Figure1Recorder(xs, z_grid, every=STEPS // 50, n_samples=4000)
saved = {}


def keep_players(tr: Trainer) -> None:
    """Callback: deep-copy G and D at step SNAP_A (the state of panel (a))."""
    if tr.step == SNAP_A:
        saved["G"], saved["D"] = copy.deepcopy(tr.G), copy.deepcopy(tr.D)


trainer = experiments.train_pair(config(STEPS, k=K_MAIN), players, data,
                                 callbacks={"on_train_start": recorder.capture,  # step 0: the untrained players
                                            "on_step_end": [recorder, keep_players]})
history = pd.DataFrame(trainer.history)
final = recorder.records[-1]
print(f"trained {trainer.step} steps in {trainer.wall_time:.1f} s; {len(recorder.records)} records")
print(f"final p_g: mean {final['samples'].mean():.3f}, std {final['samples'].std():.3f} "
      f"(p_data: mean {MU}, std {SIGMA})")

# %% [markdown]
# ## Panels (b) and (c): the two halves of one iteration, isolated
#
# **(b)** The inner loop of Algorithm 1 run on its own: starting from the discriminator of panel
# (a), $D$ takes 1,000 more steps against the *same*, frozen $G$ (its learning rate decayed along
# a cosine, so that it settles). This is one outer iteration of `ganlib`'s trainer with
# $k = 1000$ and a generator optimiser whose learning rate is 0, so the generator step at the end
# leaves $G$ unchanged. Proposition 1 says that $D$ should approach
#
# $$
# D^*_G(x) = \frac{p_\text{data}(x)}{p_\text{data}(x) + p_g(x)} ,
# $$
#
# which we compute from $p_\text{data}$ and an estimate of $p_g$: a Gaussian kernel density
# estimate of 20,000 samples of $G$ (`ganlib.theory.kde_pdf`).
#
# **(c)** Then the other half: $G$ takes 5 steps against that trained discriminator, now frozen
# (the trainer's $D$ optimiser has learning rate 0), with the non-saturating loss and the run's
# initial generator learning rate.

# %% tags=["nbval-ignore-output"]
K_B, STEPS_C = 1000, 5
G_a, D_a = saved["G"], saved["D"]
G_b, D_b = copy.deepcopy(G_a), copy.deepcopy(D_a)
experiments.train_pair(config(1, k=K_B, lr_g=0.0), (G_b, D_b), data)  # G frozen: learning rate 0
G_c, D_c = copy.deepcopy(G_b), copy.deepcopy(D_b)
experiments.train_pair(config(STEPS_C, lr_d=0.0, decay=False), (G_c, D_c), data)  # D frozen


def state(G_, D_, n: int = 20_000) -> dict:
    """Everything a Figure 1 panel needs, for players G_ and D_ (noise drawn from a fixed seed)."""
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        samples = G_(G_.sample_noise(n, generator=gen)).reshape(-1).numpy()
        gz = G_(torch.from_numpy(z_grid).float().reshape(-1, 1)).reshape(-1).numpy()
    return {"samples": samples, "gz": gz, "d": theory.discriminator_curve(D_, xs),
            "d_wide": theory.discriminator_curve(D_, x_wide),
            "logit_wide": theory.discriminator_curve(D_, x_wide, logits=True), "g_pdf": theory.kde_pdf(samples, xs),
            "g_pdf_wide": theory.kde_pdf(samples, x_wide)}


panels = {"a": state(G_a, D_a), "b": state(G_b, D_b), "c": state(G_c, D_c), "d": state(trainer.G, trainer.D)}
assert np.array_equal(panels["a"]["gz"], panels["b"]["gz"]), "G must be frozen in panel (b)"
d_star_b = theory.optimal_discriminator(data_pdf, panels["b"]["g_pdf"])
err_a = propositions.discriminator_error(panels["a"]["d_wide"], data_pdf_wide, panels["a"]["g_pdf_wide"], x_wide, mass=0.95)
err_b = propositions.discriminator_error(panels["b"]["d_wide"], data_pdf_wide, panels["b"]["g_pdf_wide"], x_wide, mass=0.95)
for key in "abcd":
    s = panels[key]["samples"]
    print(f"panel ({key}): p_g mean {s.mean():.3f}, std {s.std():.3f}")
print(f"max |D - D*| on the central 95 % of the mixture: panel (a) {err_a:.3f}, panel (b) {err_b:.3f}")

# %%
fig, axes = plt.subplots(1, 4, figsize=(16, 3.9), sharey=True)
titles = {
    "a": f"(a) step {SNAP_A}: D partially accurate",
    "b": f"(b) D trained {K_B} steps, G frozen",
    "c": f"(c) after {STEPS_C} G steps",
    "d": f"(d) step {STEPS}: p_g ≈ p_data, D ≈ 1/2",
}
for ax, key in zip(axes, "abcd"):
    p = panels[key]
    viz.plot_figure1_panel(ax, xs, data_pdf, p["g_pdf"], p["d"], z_grid, p["gz"],
                           d_star=d_star_b if key == "b" else None, title=titles[key], legend=key in "ab", top=1.1)
fig.tight_layout()
plt.show()

# %% [markdown]
# Read the figure the way the paper's caption does (the description is of the committed
# default-mode run).
#
# - **(a)** $p_g$ has found the data's location but not its shape: too much mass in a peak near
#   the centre and on two shoulders, none in the far tails. $D$ is partially accurate: it already
#   rises in both tails, where only data live, but is almost flat over the bulk.
# - **(b)** Trained alone, the discriminator moves towards the dotted $D^*_G$ computed from the
#   two densities: it dips below $\tfrac12$ where $p_g$ exceeds $p_\text{data}$ and climbs to 1 in
#   both tails, beyond the reach of $G$. It does not follow every wiggle of $D^*_G$, which comes
#   from the kernel estimate of a piecewise-linear generator's density, but its largest error on
#   the central 95 % of the mass drops by about half (printed above). Proposition 1, observed.
# - **(c)** Five generator steps later, the samples have flowed along the slope of that $D$, away
#   from where it is low: the shoulders thin out and the central peak grows.
# - **(d)** After the whole run, $p_g$ covers $p_\text{data}$ and $D$ is flat at $\tfrac12$ over the
#   data's bulk. $D$ still climbs to 1 in the far tails, and rightly so: uniform noise on a bounded
#   interval pushed through a ReLU network gives a $p_g$ with *bounded* support, so the data's
#   extreme tails are never generated, and there $D^*_G = 1$. The lower half shows the mapping
#   $x = G(z)$: the equally spaced $z$ values are squeezed together in the middle (high density)
#   and spread out towards the ends, the shape of the Gaussian quantile function, which is what
#   carries a uniform variable onto a Gaussian (Exercise 1).
#
# The numbers behind the panels are checked here: $D$ moved towards $D^*_G$ in (b), and the end
# of the run has $D$ within $\tfrac12 \pm 0.1$ on the data's bulk ($\mu \pm 2\sigma$) and $p_g$'s
# mean within 0.1 of the data's.

# %%
support = (xs >= MU - 2 * SIGMA) & (xs <= MU + 2 * SIGMA)
d_end = panels["d"]["d"][support]
mean_gap = abs(panels["d"]["samples"].mean() - MU)
checks_end = {
    "(b) D is closer to D* than in (a)": err_b < err_a,
    "(b) max |D - D*| < 0.15 on the central 95 %": err_b < 0.15,
    "(d) D within 1/2 +- 0.1 on mu +- 2 sigma": bool(np.all(np.abs(d_end - 0.5) < 0.1)),
    "(d) |mean(p_g) - mean(p_data)| < 0.1": mean_gap < 0.1,
}
for name, ok in checks_end.items():
    print(f"{name}: {'PASS' if ok else 'FAIL'}")
assert all(checks_end.values())

# %% tags=["nbval-ignore-output"]
print(f"final D on mu +- 2 sigma: min {d_end.min():.3f}, max {d_end.max():.3f}; |delta mean| = {mean_gap:.4f}; "
      f"std ratio {panels['d']['samples'].std() / SIGMA:.3f}")

# %% [markdown]
# ## The whole run, animated
#
# Every record of the run, one frame each (51 frames; the slider steps through them, the buttons
# play, pause and step). Watch the phases: at step 0 the generator is a narrow spike on the data's
# mean (its output bias); it first spreads out much too wide, then pulls back into a central
# peak while $D$ climbs in both tails, where only data live; finally $p_g$ settles onto
# $p_\text{data}$, $D$'s curve flattens towards $\tfrac12$ over the data's bulk, and the lines
# from $z$ take the shape of the Gaussian quantile function.

# %% tags=["nbval-ignore-output"]
anim = viz.animate_figure1(recorder.records, xs, data_pdf, interval=150)
anim_html = viz.animation_html(anim)  # matplotlib's to_jshtml, made self-contained (no CDN icons)
print(f"{len(recorder.records)} frames, {len(anim_html) / 1e6:.2f} MB of HTML")
display(HTML(anim_html))

# %% [markdown]
# ## Algorithm 1's $k$ and the two generator losses
#
# Algorithm 1 takes $k$ discriminator steps for every generator step and "used $k = 1$, the least
# expensive option" in the experiments; Section 3 also warns that early in learning
# $\log(1 - D(G(z)))$ *saturates* (when $D$ rejects the samples confidently, its gradient
# vanishes) and recommends maximising $\log D(G(z))$ instead. Four runs from the same initial
# players (seed 0) and the same number of generator steps: $k \in \{1, 5\}$ crossed with the
# saturating loss $\log(1 - D(G(z)))$ (Eq. 1) and the non-saturating $-\log D(G(z))$. These runs
# start *without* the centred output bias: $G$'s samples begin near 0, far from the data at 4,
# which is the early-learning regime Section 3 is about. Each run is scored at its end by
#
# - $|\Delta\text{mean}|$, the distance between the means of $p_g$ and $p_\text{data}$;
# - the ratio of standard deviations $\text{std}(p_g) / \text{std}(p_\text{data})$;
# - $\mathrm{JSD}(p_\text{data} \,\Vert\, \hat p_g)$, the Jensen-Shannon divergence of Theorem 1 by
#   quadrature (`ganlib.theory.jensen_shannon`), with $\hat p_g$ a kernel density estimate of
#   20,000 samples of $G$ (0 for a perfect generator; $\log 2 \approx 0.693$ for disjoint supports).

# %% tags=["nbval-ignore-output"]
K_STEPS = 300 if quick_mode() else 3000
rows, k_runs, health = [], {}, {}
for loss in ("non_saturating", "saturating"):
    for k in (1, 5):
        health[(loss, k)] = HealthMonitor(p_data, n=2000, patience=3)  # reads every log_every = 100 steps
        with warnings.catch_warnings():  # its warnings are printed in the next section, with the curves
            warnings.simplefilter("ignore", HealthWarning)
            tr = experiments.train_pair(config(K_STEPS, k=k, loss=loss), lambda: players(centred=False), data,
                                        callbacks={"on_log": health[(loss, k)]})
        hist = pd.DataFrame(tr.history)
        st = state(tr.G, tr.D)
        s = st["samples"]
        rows.append({"loss": loss, "k": k, "|Δmean|": abs(s.mean() - MU), "std ratio": s.std() / SIGMA,
                     "JSD(p_data, p̂_g)": theory.jensen_shannon(data_pdf_wide, st["g_pdf_wide"], x_wide),
                     "final mean D(x)": hist["d_real"].iloc[-1], "seconds": tr.wall_time})
        k_runs[(loss, k)] = (hist, st)
k_table = pd.DataFrame(rows).set_index(["loss", "k"])
k_table.round(3)

# %%
fig, axes = plt.subplots(1, 2, figsize=(12, 3.6))
for (loss, k), (hist, st) in k_runs.items():
    style = "-" if loss == "non_saturating" else "--"
    axes[0].plot(hist["step"], hist["d_fake"], style, lw=1, label=f"{loss}, k={k}")
    axes[1].plot(xs, st["g_pdf"], style, lw=1.2, label=f"{loss}, k={k}")
axes[0].set_xlabel("generator steps")
axes[0].set_ylabel(r"mean $D(G(z))$ on the batch")
axes[0].axhline(0.5, color="k", lw=0.6)
axes[0].legend(fontsize=7)
axes[1].plot(xs, data_pdf, "k.", ms=2, label=r"$p_{data}$")
axes[1].set_xlabel("$x$")
axes[1].set_title(r"final $\hat p_g$")
axes[1].legend(fontsize=7)
fig.tight_layout()
plt.show()

# %% [markdown]
# What the committed default run shows (a quick run is too short to settle and says little):
#
# - **Non-saturating, $k = 1$**: the mean is matched, but $p_g$ ends about 1.8 times too wide,
#   with $D$ flat at $\tfrac12$. Once the means agree, a discriminator that takes one step per
#   generator step barely registers a mismatch in spread, and the game stalls there. This is why
#   the Figure-1 run above uses $k = 3$.
# - **Non-saturating, $k = 5$**: mean, spread and JSD all close to their ideal values, at
#   about three times the cost.
# - **Saturating, $k = 5$**: the failure Section 3 predicts. The stronger discriminator rejects
#   the initial samples confidently, mean $D(G(z))$ drops to 0 within the first steps (left plot)
#   and $\nabla \log(1 - D(G(z)))$ vanishes with it: $G$ never leaves its starting point, $p_g$
#   and $p_\text{data}$ stay disjoint (JSD $= \log 2$) and $D(x) = 1$ on the data.
# - **Saturating, $k = 1$** is stuck too at first (mean $D(G(z)) \approx 0$ for some 300 steps),
#   but the weaker discriminator leaves it a small gradient, and it escapes. It ends with the
#   data's mean and spread ($|\Delta\text{mean}| = 0.003$, std ratio 1.009) but not its shape:
#   $\hat p_g$ has a spike of height 1.2 at $x \approx 3.45$ (right plot), and its JSD, 0.050, is
#   four times the non-saturating $k = 5$ run's 0.012. Saturation is a matter of degree, and $k$
#   sets the degree. The non-saturating loss, from the same start, climbs out of
#   $D(G(z)) \approx 0$ within about 100-150 steps (left plot).
#
# ## Is my run healthy?
#
# Every run above carried a `ganlib.metrics.HealthMonitor`: a callback that, at each read of the
# loop's statistics (every 100 steps here), records what a reader should watch, namely mean $D(x)$ and
# $D(G(z))$ against $\tfrac12$, the batch $\hat V$ against $-\log 4$, and for a toy the JSD
# between $p_\text{data}$ and a kernel estimate of $p_g$ (and the modes covered). It warns, with a
# Python `HealthWarning`, on the two known failure signatures: $D(x) \to 1$ with $D(G(z)) \to 0$ for
# three reads in a row (the discriminator wins and the minimax loss saturates), and a number of
# modes covered that stays below its best (mode collapse, chapter 06). Two of the runs above side
# by side, from the same start, with $k = 5$:

# %%
for (loss, k), monitor in health.items():
    said = "; ".join(f"step {step}: {kind}" for step, kind, _ in monitor.alerts) or "no warning"
    print(f"{loss:15s} k={k}: {said}")
    for step, kind, message in monitor.alerts:
        print(f"    HealthWarning: {message}")
fig = viz.plot_health({"non-saturating, k=5": health[("non_saturating", 5)],
                       "saturating, k=5": health[("saturating", 5)]})
plt.show()

# %% [markdown]
# The healthy run has the equilibrium's signature: both means of $D$ settle at $\tfrac12$,
# $\hat V$ close to $-\log 4$, and the JSD falls towards 0. The saturated one has the other signature
# from its first read: $D(x) = 1$, $D(G(z)) = 0$, $\hat V$ near 0 (its largest value, $D$ is
# right about everything) and the JSD pinned at $\log 2$ (disjoint supports), and the monitor
# says so. $D$ near $\tfrac12$ is necessary, not sufficient: in the non-saturating $k = 1$ run of
# the table, $D$ sits at $\tfrac12$ while $p_g$ is still too wide, which only the JSD shows.
#
# ## Exercises
#
# **Exercise 1 (change of variables).** For a monotone $G$ and $z \sim \mathcal U[-\sqrt3, \sqrt3]$,
# show that $p_g(G(z)) = \frac{1}{2\sqrt3\,|G'(z)|}$: the density of $p_g$ is high exactly where
# $G$ contracts. Check it on the final generator by finite differences on a fine $z$ grid against
# the kernel estimate $\hat p_g$.
#
# :::{admonition} Solution
# :class: dropdown
# For monotone $G$, $P(G(z) \le G(z_0)) = P(z \le z_0)$; differentiating in $z_0$,
# $p_g(G(z_0))\,G'(z_0) = p_z(z_0) = \frac{1}{2\sqrt3}$. The cell compares the two sides on the
# central 80 % of the noise range (the kernel estimate is blurred near the ends) and checks that
# the median relative difference is below 15 %.
# :::

# %% tags=["hide-input"]
z_fine = torch.linspace(-0.8 * math.sqrt(3), 0.8 * math.sqrt(3), 401).reshape(-1, 1)
with torch.no_grad():
    g_fine = trainer.G(z_fine).reshape(-1).double().numpy()
slope = np.gradient(g_fine, z_fine.reshape(-1).double().numpy())
predicted = 1.0 / (2 * math.sqrt(3) * np.abs(slope))
estimated = theory.kde_pdf(panels["d"]["samples"], g_fine)
rel = np.median(np.abs(predicted / estimated - 1))
assert np.all(slope > 0) and rel < 0.15
print(f"G is increasing on the grid, and p_z / |G'| matches the kernel estimate of p_g (median error < 15 %): PASS")

# %% [markdown]
# **Exercise 2 (is $D \approx \tfrac12$ a proof of success?).** At the end of the run $D$ is flat
# at $\tfrac12$. Compute $V(G, D)$ by quadrature (`ganlib.theory.value_function`) from the final
# $D$, $p_\text{data}$ and $\hat p_g$, and the virtual criterion $C(G) = \max_D V(G, D) =
# -\log 4 + 2\,\mathrm{JSD}(p_\text{data} \Vert p_g)$ that the *best* discriminator would earn
# against this $G$. What does a flat $D$ prove, and what does the gap $C(G) - V(G, D)$ measure?
#
# :::{admonition} Solution
# :class: dropdown
# A flat $D \equiv \tfrac12$ gives $V = -\log 4$ against *any* generator (chapter 1), so a flat
# curve alone proves nothing: the discriminator may simply have stopped looking. Theorem 1 is
# about the *best* $D$: $C(G) = -\log 4$ exactly when $p_g = p_\text{data}$. The gap
# $C(G) - V(G, D) \ge 0$ is what a better discriminator could still gain; together with the
# JSD it tells how far this run really is from the equilibrium. The cell checks that $V$ is within
# 0.05 of $-\log 4$ and that $-\log 4 \le C(G)$ and $V \le C(G)$, and prints the numbers.
# :::

# %% tags=["hide-input"]
# logits, not D: far out in the tails D rounds to exactly 0 or 1 and log 0 = -inf (see chapter 1)
v_end = theory.value_function_logits(panels["d"]["logit_wide"], data_pdf_wide, panels["d"]["g_pdf_wide"], x_wide)
c_end = theory.virtual_criterion(data_pdf_wide, panels["d"]["g_pdf_wide"], x_wide)
assert c_end >= v_end - 1e-9 and c_end >= -math.log(4) - 1e-9 and abs(v_end + math.log(4)) < 0.05
print("V(G, D) is within 0.05 of -log 4, and -log 4 <= C(G), V(G, D) <= C(G): PASS")

# %% tags=["hide-input", "nbval-ignore-output"]
print(f"V(G, D) = {v_end:.4f}, C(G) = {c_end:.4f}, -log 4 = {-math.log(4):.4f}, "
      f"JSD(p_data, p_g) = {(c_end + math.log(4)) / 2:.4f}")

# %% [markdown]
# ## What's next
#
# One dimension and one mode make the game look tame. The next chapter gives the data several
# modes and watches the failure the paper warns about in Section 6, the "Helvetica scenario" in
# which $G$ maps many values of $z$ to the same $x$.
