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
# Setup, on any host (Colab, Kaggle, JupyterHub, a laptop): install the ganlib these pages were run with,
# a release tag of the book's repository with its MNIST and FID extras, when this Python has no ganlib
# or another version; pip keeps the host's torch where it satisfies ganlib's range. Where that ganlib
# is installed (as after `pip install -e .` in a clone) the cell does nothing. On Colab it then
# reports the GPU. GANLIB_REPOSITORY points it at another copy (the tests use a local clone); the URL
# and the version are kept in step by scripts/set_repository_url.py and scripts/pin_version.py.
import os
import shutil
import subprocess
import sys

GANLIB = "0.2.1"
try:
    import ganlib
except ImportError:
    ganlib = None
if ganlib is None or ganlib.__version__ != GANLIB:
    repository = os.environ.get("GANLIB_REPOSITORY", "https://github.com/gan-book/gan-book")
    subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", f"ganlib[data] @ git+{repository}@v{GANLIB}"])
    if ganlib is not None:  # the old version is imported in this kernel: stop before the chapter uses it
        raise SystemExit(f"Installed ganlib {GANLIB} over {ganlib.__version__}: restart the kernel, then run the chapter again.")
if "google.colab" in sys.modules:
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

from ganlib import theory, viz
from ganlib.data import toy_data
from ganlib.data.toy import get_toy
from ganlib.engine.config import TrainConfig
from ganlib.engine.runtime import describe_run, quick_mode, seed_everything
from ganlib.metrics import HealthMonitor, HealthWarning
from ganlib.nets.models import MLPDiscriminator, MLPGenerator
from ganlib.nets.players import MLPPlayers
from ganlib.recipes import experiments
from ganlib.theory import propositions

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
# - **Noise.** $z \sim \mathcal N(0, 1)$, one-dimensional. The lower half of each panel draws 40
#   noise values at equally spaced *quantiles* $u = \Phi(z) \in (0, 1)$ (with $\Phi$ the normal
#   distribution function), and places each at $u$ on the $z$ line: a uniform grid, as in the
#   paper's drawing, in which every line carries the same probability, so the images $G(z)$
#   crowd together exactly where $p_g$ is high. (The paper's caption samples $z$ uniformly; with
#   a bounded $z$ the generator's density ends abruptly at the edges of its range, and there
#   $D^*_G$ jumps from below $\tfrac12$ to 1, a step no smooth discriminator can follow.)
# - **Networks.** $G$: an MLP $1 \to 32 \to 32 \to 1$ with ReLUs; $D$: an MLP $1 \to 64 \to 64 \to 1$
#   with leaky ReLUs, returning a logit ($D = \sigma(\text{logit})$).
# - **Where $G$ starts.** Off the data, as in the paper's panel (a): $G$'s biases are set so that
#   every ReLU is on for $|z| \le 5$, which makes $G$ an affine map there, and its output layer
#   is scaled and shifted so that $p_g = \mathcal N(3, 0.5^2)$: the data's shape, displaced by
#   two standard deviations. (The paper's code also initialises the generator's output bias from
#   the data, for MNIST.) A generator with random ReLU kinks would start with a density of many
#   little jumps, and $D^*_G$ would jump with it.
# - **Training.** Algorithm 1 with $k = 3$ discriminator steps per generator step (the paper used
#   $k = 1$; the measurement of $k$ at the end of the chapter shows what $k = 1$ does here), the
#   non-saturating generator loss $-\log D(G(z))$ (Section 3), minibatches of $m = 256$, and Adam
#   with learning rates $2\cdot10^{-3}$ for $D$ and $5\cdot10^{-4}$ for $G$, both decayed along a
#   cosine to 5 % of their start by the last step, so that the game settles instead of circling
#   its equilibrium.
#
# `Trainer.run` only trains. The pictures are recorded by a callback,
# `ganlib.viz.Figure1Recorder`, which every few steps evaluates $D$ on a grid of $x$, draws a
# sample of $G$ (for $p_g$), and maps the 40 fixed noise values through $G$
# (`ganlib.viz.figure1_state`, which also draws the four panels below).
#
# The one function this chapter writes is the start of $G$: it is the set-up above, in code.

# %% tags=["nbval-ignore-output"]
p_data = get_toy("gaussian_1d")
data = toy_data("gaussian_1d", n=20_000, seed=0)
MU, SIGMA, START = 4.0, 0.5, 3.0  # the data's mean and std; the mean of p_g at the start
xs = np.linspace(1.0, 6.5, 551)  # the plotted x range
x_wide = np.linspace(-6.0, 14.0, 8001)  # a wide grid for quadrature (normalised densities)
data_pdf, data_pdf_wide = p_data.pdf(xs), p_data.pdf(x_wide)
u_grid = (np.arange(40) + 0.5) / 40  # equally spaced quantiles of the noise ...
z_grid = torch.distributions.Normal(0.0, 1.0).icdf(torch.from_numpy(u_grid)).numpy()  # ... and their z

STEPS = 1500 if quick_mode() else 6000
K_MAIN = 3  # discriminator steps per generator step
print(f"{data.describe()}; {STEPS} steps of Algorithm 1")


def players():
    """G and D of the Figure-1 run (``experiments.train_pair`` seeds before calling this): G starts
    as an affine map of z with p_g = N(START, SIGMA^2)."""
    G, D = MLPGenerator(1, 1, (32, 32)), MLPDiscriminator(1, (64, 64))
    first, second, out = G.net[0], G.net[2], G.net[4]
    with torch.no_grad():
        first.bias.copy_(5.0 * first.weight.abs().reshape(-1) + 0.1)  # every first-layer ReLU on for |z| <= 5
        z = torch.linspace(-5.0, 5.0, 201).reshape(-1, 1)
        second.bias.sub_(second(torch.relu(first(z))).min(0).values - 0.1)  # and every second-layer one
        slope = (G(z[-1:]) - G(z[:1])).reshape(()) / 10.0  # G is affine on |z| <= 5: one slope
        out.weight.mul_(SIGMA / slope.abs())
        out.bias.add_(START - G(torch.zeros(1, 1)).reshape(()))
    return G, D


# this chapter's runs: Adam, batch 256, seed 0, both learning rates decayed along a cosine to 5 % over
# the run (D's over its k x steps updates); `.replace(...)` changes one setting, and a learning rate
# of 0 freezes that player
RUN = TrainConfig(k=1, batch_size=256, lr_d=2e-3, lr_g=5e-4, device="cpu", seed=0, progress=False, snapshot_every=-1,
                  log_every=100, schedule="cosine", lr_floor=0.05)
# the players of the measurement of k: PyTorch's default initialisation, uniform noise; G's samples
# start near 0, far from the data
players_far = MLPPlayers(dim=1, g_hidden=(32, 32), d_hidden=(64, 64), noise="uniform")
# what a Figure 1 panel needs of two players: samples, G on the noise grid, D, the densities, JSD and W1
panel = dict(xs=xs, z=z_grid, n=20_000, seed=1, p_data=p_data, wide=x_wide)


# %% [markdown]
# ## Panels (a), (b) and (c): one iteration of Algorithm 1, its halves made visible
#
# All three panels start from the same players, $G$ off the data and a freshly initialised $D$.
#
# **(a)** $D$ takes 50 steps against the frozen $G$: a partially accurate classifier.
#
# **(b)** The inner loop of Algorithm 1, run until it has converged: $D$ continues for 2,000 more
# steps against the same frozen $G$ (Adam, minibatches of 512, its learning rate decayed along a
# cosine to 0.1 % of its start, so that the minibatch noise averages out). This is one outer
# iteration of `ganlib`'s trainer with $k = 2000$ and a generator optimiser whose learning rate
# is 0, so the generator step at the end leaves $G$ unchanged. Proposition 1 says that $D$ should
# approach
#
# $$
# D^*_G(x) = \frac{p_\text{data}(x)}{p_\text{data}(x) + p_g(x)} ,
# $$
#
# which we compute from $p_\text{data}$ and an estimate of $p_g$: a Gaussian kernel density
# estimate of 20,000 samples of $G$ (`ganlib.theory.kde_pdf`).
#
# **(c)** Then the other half: $G$ takes 5 steps against that trained discriminator, now frozen
# (the trainer's $D$ optimiser has learning rate 0), with the non-saturating loss and a small
# learning rate, $10^{-4}$, so that the step stays a local one.
#
# **(d)** is the end of the full run of Algorithm 1 from the same start, in the next section.

# %% tags=["nbval-ignore-output"]
K_A, K_B, STEPS_C, LR_C = 50, 2000, 5, 1e-4
seed_everything(0)
G_0, D_0 = players()
G_a, D_a = copy.deepcopy(G_0), copy.deepcopy(D_0)
experiments.train_pair(RUN.replace(max_steps=1, k=K_A, lr_g=0.0, schedule="constant"), (G_a, D_a), data)  # G frozen
G_b, D_b = copy.deepcopy(G_a), copy.deepcopy(D_a)
experiments.train_pair(RUN.replace(max_steps=1, k=K_B, lr_g=0.0, lr_d=3e-3, batch_size=512, lr_floor=0.001,
                                   optimizer_kwargs={"betas": (0.9, 0.999)}), (G_b, D_b), data)
G_c, D_c = copy.deepcopy(G_b), copy.deepcopy(D_b)
experiments.train_pair(RUN.replace(max_steps=STEPS_C, lr_d=0.0, lr_g=LR_C, schedule="constant"), (G_c, D_c), data)  # D frozen

panels = {key: viz.figure1_state(G_, D_, **panel) for key, (G_, D_) in zip("abc", [(G_a, D_a), (G_b, D_b), (G_c, D_c)])}
assert np.array_equal(panels["a"]["gz"], panels["b"]["gz"]), "G must be frozen in panels (a) and (b)"
d_star_b = theory.optimal_discriminator(data_pdf, panels["b"]["g_pdf"])
err = {key: propositions.discriminator_error(panels[key]["d_wide"], data_pdf_wide, panels[key]["g_pdf_wide"], x_wide,
                                             mass=0.95) for key in "ab"}
for key in "abc":
    p = panels[key]
    print(f"panel ({key}): p_g mean {p['samples'].mean():.3f}, std {p['samples'].std():.3f}; "
          f"JSD(p_data, p_g) {p['jsd']:.3f}, W1 {p['w1']:.3f}")
print(f"max |D - D*| on the central 95 % of the mixture: panel (a) {err['a']:.3f}, panel (b) {err['b']:.3f}")

# %% [markdown]
# ## Panel (d): the whole run
#
# One run of Algorithm 1 from the players of panel (a)'s start ($G$ off the data, $D$ fresh),
# recorded by the callback every 5 steps up to step 150, while $p_g$ moves fast, then every 300.

# %% tags=["nbval-ignore-output"]
FRAMES = set(range(0, 151, 5)) | set(range(300, STEPS + 1, 300))  # dense while p_g moves fast, then sparse
recorder = viz.Figure1Recorder(xs, z_grid, n_samples=4000, steps=FRAMES)  # and step 0, the untrained players
trainer = experiments.train_pair(RUN.replace(max_steps=STEPS, k=K_MAIN), (copy.deepcopy(G_0), copy.deepcopy(D_0)), data,
                                 callbacks=[recorder])
for record in recorder.records:  # draw each noise value at its quantile u = Phi(z) (see the set-up)
    record["z"] = u_grid
panels["d"] = viz.figure1_state(trainer.G, trainer.D, **panel)
final = panels["d"]
print(f"trained {trainer.step} steps in {trainer.wall_time:.1f} s; {len(recorder.records)} records")
print(f"final p_g: mean {final['samples'].mean():.3f}, std {final['samples'].std():.3f} "
      f"(p_data: mean {MU}, std {SIGMA}); JSD {final['jsd']:.4f}, W1 {final['w1']:.4f}")
print("p_g along the run (step: mean, std): " + "; ".join(
    f"{r['step']}: {r['samples'].mean():.2f}, {r['samples'].std():.2f}" for r in recorder.records
    if r["step"] in (0, 10, 20, 50, 100, 150, 300, 1200, 3000, STEPS)))

# %%
fig, axes = plt.subplots(1, 4, figsize=(16, 3.9), sharey=True)
titles = {
    "a": f"(a) D after {K_A} steps: partially accurate",
    "b": f"(b) D trained {K_B} more steps, G frozen",
    "c": f"(c) after {STEPS_C} G steps",
    "d": f"(d) step {STEPS}: p_g ≈ p_data, D ≈ 1/2",
}
for ax, key in zip(axes, "abcd"):
    p = panels[key]
    viz.plot_figure1_panel(ax, xs, data_pdf, p["g_pdf"], p["d"], u_grid, p["gz"], z_range=(0.0, 1.0),
                           d_star=d_star_b if key == "b" else None, title=titles[key], legend=key in "ab", top=1.1)
fig.tight_layout()
plt.show()

# %% [markdown]
# Read the figure the way the paper's caption does (the description is of the committed
# default-mode run).
#
# - **(a)** $p_g$ sits two standard deviations to the left of $p_\text{data}$, with the data's
#   shape. $D$ is partially accurate: it already rises from left to right, but too gently.
# - **(b)** Trained alone, the discriminator settles on the dotted $D^*_G$ computed from the two
#   densities: for two Gaussians of equal spread $D^*_G$ is a logistic curve, $\tfrac12$ where
#   the densities cross, at $x = 3.5$. Its largest error on the central 95 % of the mass falls
#   from 0.148 in panel (a) to 0.012 (printed above): Proposition 1, observed.
# - **(c)** Five small generator steps later, the samples have flowed up the slope of that $D$,
#   towards the data: $p_g$'s mean moves from 3.00 to 3.29, the JSD to $p_\text{data}$ falls from
#   0.335 to 0.204 and the Wasserstein distance $W_1$ from 1.003 to 0.711 (printed above), and the
#   images $G(z)$ have all moved right.
# - **(d)** After the whole run, $p_g$ covers $p_\text{data}$ and $D$ is flat at $\tfrac12$ over the
#   data's bulk. The lower half shows the mapping $x = G(z)$ of equally likely noise values: evenly
#   spread on the $u$ line, their images are squeezed together in the middle (high density) and
#   spread out towards the ends.
#
# The numbers behind the panels are checked here: $D$ moved towards $D^*_G$ in (b), the $G$ step
# of (c) brought $p_g$ closer to $p_\text{data}$ in both distances, and the end of the run has $D$
# within $\tfrac12 \pm 0.1$ on the data's bulk ($\mu \pm 2\sigma$) and $p_g$'s mean within 0.1 of
# the data's.

# %%
support = (xs >= MU - 2 * SIGMA) & (xs <= MU + 2 * SIGMA)
d_end = panels["d"]["d"][support]
mean_gap = abs(panels["d"]["samples"].mean() - MU)
checks_end = {
    "(b) D is closer to D* than in (a)": err["b"] < err["a"],
    "(b) max |D - D*| < 0.05 on the central 95 %": err["b"] < 0.05,
    "(c) the G step lowers JSD(p_data, p_g)": panels["c"]["jsd"] < panels["b"]["jsd"],
    "(c) the G step lowers W1(p_data, p_g)": panels["c"]["w1"] < panels["b"]["w1"],
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
# Every record of the run, one frame each (the slider steps through them, the buttons play,
# pause and step; the frame's title gives its step). Watch the phases, which the line of means and
# standard deviations printed with the run above puts in numbers: within 10 steps $G$ overshoots,
# its samples land beyond the data's mean (mean 4.72); $p_g$ then swings back and forth across
# $p_\text{data}$, narrowing as it goes, while $D$ tilts one way and the other. By step 300 the
# swinging has died down but $p_g$ is half as wide as the data (standard deviation 0.24), and at
# step 1,200 it has shrunk to a spike (0.03): the one-dimensional version of the collapse of the
# next chapter. It then spreads out again and wanders (mean 3.58 at step 3,000) and only as the
# learning rates decay does it settle onto $p_\text{data}$ (mean 4.01, standard deviation 0.50 at
# the end), with $D$'s curve flat at $\tfrac12$ over the data's bulk.

# %% tags=["nbval-ignore-output"]
anim = viz.animate_figure1(recorder.records, xs, data_pdf, interval=150, z_range=(0.0, 1.0))
anim_html = viz.animation_html(anim)  # matplotlib's to_jshtml, made self-contained (no CDN icons)
print(f"{len(recorder.records)} frames, {len(anim_html) / 1e6:.2f} MB of HTML")
display(HTML(anim_html))

# %% [markdown]
# ## Algorithm 1's $k$ and the two generator losses, over ten seeds
#
# Algorithm 1 takes $k$ discriminator steps for every generator step and "used $k = 1$, the least
# expensive option" in the experiments; Section 3 also warns that early in learning
# $\log(1 - D(G(z)))$ *saturates* (when $D$ rejects the samples confidently, its gradient
# vanishes) and recommends maximising $\log D(G(z))$ instead. We measure both: $k \in \{1, 2, 3, 5,
# 10\}$ crossed with the saturating loss $\log(1 - D(G(z)))$ (Eq. 1) and the non-saturating
# $-\log D(G(z))$, each from the same 10 seeds and for the same number of generator steps. These
# runs start *without* the affine initialisation: PyTorch's default weights and uniform noise
# $z \sim \mathcal U[-\sqrt3, \sqrt3]$, so $G$'s samples begin near 0, far from the data at 4,
# which is the early-learning regime Section 3 is about. The rest is the set-up of the Figure-1
# run (Adam, batch 256, cosine decay).
#
# A callback, `ganlib.metrics.JSDRecorder`, scores every run every 100 generator steps by
# $\mathrm{JSD}(p_\text{data} \Vert \hat p_g)$, the divergence of Theorem 1 by quadrature, with
# $\hat p_g$ a kernel density estimate of a fixed batch of 2,000 noise values mapped by $G$ (0 for
# a perfect generator, up to the estimate's own error, below 0.001; $\log 2 \approx 0.693$ for
# disjoint supports). Per configuration the table gives the final JSD (its median over the seeds
# with a 95 % bootstrap interval, `ganlib.metrics.seed_interval`, and its interquartile range), the
# share of runs that *converged* (final JSD below 0.05), the share that
# *failed* (final JSD above 0.5, or a loss that turned non-finite), and the median number of
# generator steps after which a converged run stayed below 0.05.
#
# **A second question** (an old claim about Algorithm 1): do $k$ discriminator steps per
# generator step just act like a generator learning rate $k$ times lower? The last two rows
# answer it with the same seeds: $k = 1$ with $G$'s learning rate divided by 5 and five times as
# many iterations, i.e. the same number of discriminator updates and the same total generator
# step size as $k = 5$.
#
# The ten seeds of a configuration train as two ensembles of five
# (`ganlib.engine.ensemble.EnsembleTrainer`), the two on the two CPU cores at once
# (`ganlib.recipes.seeds.run_seeds`).

# %% tags=["nbval-ignore-output"]
from ganlib.metrics import JSDRecorder, format_interval, seed_interval, separated, steps_to_converge
from ganlib.recipes.seeds import run_seeds

K_STEPS = 200 if quick_mode() else 2000
SEEDS_K = [0, 1] if quick_mode() else list(range(10))
CHUNK = 1 if quick_mode() else 5
CONVERGED, FAILED = 0.05, 0.5
K_RUNS = [(loss, k, 1) for loss in ("non_saturating", "saturating") for k in (1, 2, 3, 5, 10)]
K_RUNS += [(loss, 1, 5) for loss in ("non_saturating", "saturating")]  # k = 1, lr_G / 5, 5x the steps

k_results, finals, rows = {}, {}, []
for loss, k, slow in K_RUNS:  # slow: G's learning rate divided by it, its steps multiplied by it
    runs = k_results[(loss, k, slow)] = run_seeds(
        RUN.replace(max_steps=K_STEPS * slow, k=k, loss=loss, lr_g=5e-4 / slow), players_far, data, SEEDS_K,
        recorder=JSDRecorder(p_data, every=100 * slow, n=2000, seed=1), chunk=CHUNK)
    for r in runs:  # the JSD curve, against generator steps of a k = 1 run
        r["curve"], r["steps"] = r["records"]["jsd"], [st / slow for st in r["records"]["step"]]
    final = np.array([r["curve"][-1] for r in runs])
    finals[(loss, k, slow)] = final
    failed = np.array([not r["finished"] or not np.isfinite(c) or c > FAILED for r, c in zip(runs, final)])
    converge = steps_to_converge([{"step": st, "jsd": [r["curve"][i] for r in runs]}
                                  for i, st in enumerate(runs[0]["steps"])], CONVERGED)
    done = [c * slow for c in converge if c is not None]  # in generator steps of that run
    median = seed_interval(final, statistic=np.median) if len(final) > 1 else (np.median(final),) * 3
    rows.append({"loss": loss, "k": k if slow == 1 else f"1, lr_G/{slow}",
                 "final JSD: median [95 % CI]": format_interval(median, "{:.3f}"),
                 "IQR": f"{np.percentile(final, 25):.3f}-{np.percentile(final, 75):.3f}",
                 "converged %": 100 * np.mean(final < CONVERGED),
                 "failed %": 100 * failed.mean(), "G steps to converge": np.median(done) if done else np.nan,
                 "s per seed": np.mean([r["seconds"] for r in runs])})
k_table = pd.DataFrame(rows).set_index(["loss", "k"])
print(f"{len(SEEDS_K)} seeds per row, {K_STEPS} generator steps (the lr_G/5 rows: {5 * K_STEPS})")
k_table.round(3)

# %% tags=["nbval-ignore-output"]
# which differences ten seeds resolve: neighbouring k, and k = 5 against k = 1 with lr_G / 5 (same seeds)
name = {run: f"k={run[1]}" if run[2] == 1 else f"k=1, lr_G/{run[2]}" for run in K_RUNS}
for loss in ("non_saturating", "saturating"):
    for a, b in [((loss, 1, 1), (loss, 2, 1)), ((loss, 2, 1), (loss, 3, 1)), ((loss, 3, 1), (loss, 5, 1)),
                 ((loss, 5, 1), (loss, 10, 1)), ((loss, 5, 1), (loss, 1, 5))]:
        if len(finals[a]) > 1:
            ia, ib = (seed_interval(finals[x], statistic=np.median) for x in (a, b))
            print(f"{loss:14s} {name[a]:12s} vs {name[b]:12s}: median JSD "
                  f"{'separated' if separated(ia, ib) else 'not resolved'} "
                  f"({format_interval(ia, '{:.3f}')} vs {format_interval(ib, '{:.3f}')}); lower in "
                  f"{int(np.sum(finals[b] < finals[a]))} of {len(finals[a])} seeds for {name[b]}")

# %%
fig, axes = plt.subplots(1, 2, figsize=(13, 3.8), sharey=True)
for ax, loss in zip(axes, ("non_saturating", "saturating")):
    for (l, k, slow), runs in k_results.items():
        if l != loss:
            continue
        curves = np.array([r["curve"] for r in runs])
        label = f"k={k}" if slow == 1 else f"k=1, lr_G/{slow} (x-axis: steps/{slow})"
        ax.plot(runs[0]["steps"], np.nanmedian(curves, axis=0), ls="-" if slow == 1 else ":", lw=1.4, label=label)
    ax.axhline(CONVERGED, color="k", lw=0.6, ls="--")
    ax.set_yscale("log")
    ax.set_xlabel("generator steps")
    ax.set_title(f"{loss}: median JSD over {len(SEEDS_K)} seeds")
    ax.legend(fontsize=7)
axes[0].set_ylabel(r"JSD$(p_{data} \Vert \hat p_g)$")
fig.tight_layout()
plt.show()

# %% [markdown]
# What the committed default run shows (a quick run, two seeds and 200 steps, says little):
#
# - **Non-saturating loss.** Every run with $k \ge 2$ converged; with $k = 1$ only half of them
#   did, and the median final JSD, 0.047, sits at the threshold. Going from $k = 1$ to $k = 2$ is
#   the one step the intervals separate (0.047 against 0.018). From $k = 2$ on the medians (0.018,
#   0.013, 0.012, 0.012) are not resolved by their intervals, although $k = 3$ ends below $k = 2$
#   in nine seeds of ten; $k = 10$ is no better than $k = 5$ (lower in 4 of 10 seeds), while the cost
#   per seed keeps growing with $k$ (1.9 s at $k = 1$, 7.7 s at $k = 10$). The converged runs got
#   there in 900 generator steps at $k = 1$, 550 at $k = 2$ and 300 from $k = 3$ on.
# - **Saturating loss.** The failure Section 3 predicts, and it grows with $k$: no run failed at
#   $k \le 2$, one in ten at $k = 3$, six at $k = 5$ and eight at $k = 10$. A discriminator that
#   takes more steps rejects the initial samples confidently (mean $D(G(z))$ drops to 0, the health
#   monitor below shows it), $\nabla \log(1 - D(G(z)))$ vanishes with it, $G$ never leaves its
#   starting point and the JSD stays at $\log 2$ (in the right-hand plot the medians of $k = 5$,
#   $k = 10$ and the slow generator of the next point stay near $\log 2$ throughout: more than
#   half of those runs never leave the start). Where most runs escape, the saturating loss ends
#   about as close to the data as the non-saturating one at the same $k$ (medians over all ten seeds
#   0.019 against 0.013 at $k = 3$, with overlapping intervals).
# - **$k$ discriminator steps against a $k$ times slower generator.** With the non-saturating loss,
#   $k = 1$ with $G$'s learning rate divided by 5 (and five times the generator steps) ends at a
#   median JSD of 0.008 against 0.012 for $k = 5$. The two intervals overlap, but the seeds are the
#   same, and seed by seed the slow generator ends lower in all ten (a sign test: $p = 2 \cdot
#   2^{-10} \approx 0.002$); both converged after 1,500 discriminator updates (1,500 generator steps
#   against 300). With the saturating loss the slow generator fails in six runs of ten, exactly as
#   often as $k = 5$. In both losses, then, what decides the outcome is how fast $D$ learns
#   relative to $G$, not how the discriminator updates are grouped: $k$ acts like a lower
#   generator learning rate, as claimed, and here the slower generator is even slightly better, at
#   a higher price (6.3 s per seed against 4.5 s, for the extra generator steps).
#
# ## Is my run healthy?
#
# A `ganlib.metrics.HealthMonitor` is a callback that, at each read of the loop's statistics (every
# 100 steps here), records what a reader should watch, namely mean $D(x)$ and $D(G(z))$ against
# $\tfrac12$, the batch $\hat V$ against $-\log 4$, and for a toy the JSD between $p_\text{data}$
# and a kernel estimate of $p_g$ (and the modes covered). It warns, with a Python
# `HealthWarning`, on the two known failure signatures: $D(x) \to 1$ with $D(G(z)) \to 0$ for three
# reads in a row (the discriminator wins and the minimax loss saturates), and a number of modes
# covered that stays below its best (mode collapse, chapter 06). Two runs of the table side by
# side, seed 0 with $k = 5$, one per generator loss:

# %% tags=["nbval-ignore-output"]
health = {}
for loss in ("non_saturating", "saturating"):  # seed 0 of the k = 5 rows of the table, trained alone
    health[loss] = HealthMonitor(p_data, n=2000, patience=3)  # reads every log_every = 100 steps
    with warnings.catch_warnings():  # its warnings are printed below, with the curves
        warnings.simplefilter("ignore", HealthWarning)
        steps = max(K_STEPS, 300)  # at least three reads, so that a quick run can warn too
        experiments.train_pair(RUN.replace(max_steps=steps, k=5, loss=loss), players_far, data,
                               callbacks={"on_log": health[loss]})

# %%
for loss, monitor in health.items():
    said = "; ".join(f"step {step}: {kind}" for step, kind, _ in monitor.alerts) or "no warning"
    print(f"{loss:15s} k=5: {said}")
    for step, kind, message in monitor.alerts:
        print(f"    HealthWarning: {message}")
fig = viz.plot_health({"non-saturating, k=5": health["non_saturating"], "saturating, k=5": health["saturating"]})
plt.show()

# %% [markdown]
# The healthy run has the equilibrium's signature: both means of $D$ settle at $\tfrac12$,
# $\hat V$ close to $-\log 4$, and the JSD falls towards 0. The saturated one has the other signature
# from its first read: $D(x) = 1$, $D(G(z)) = 0$, $\hat V$ near 0 (its largest value, $D$ is
# right about everything) and the JSD pinned at $\log 2$ (disjoint supports), and the monitor
# says so. $D$ near $\tfrac12$ is necessary, not sufficient: a flat $D$ earns $-\log 4$ against
# any generator (Exercise 2 below), which is why the monitor also follows the JSD.
#
# ## Exercises
#
# **Exercise 1 (change of variables).** For a monotone $G$ and $z \sim \mathcal N(0, 1)$ with
# density $\varphi$, show that $p_g(G(z)) = \frac{\varphi(z)}{|G'(z)|}$: the density of $p_g$ is
# high exactly where $G$ contracts. Check it on the final generator by finite differences on a
# fine $z$ grid against the kernel estimate $\hat p_g$.
#
# :::{admonition} Solution
# :class: dropdown
# For increasing $G$, $P(G(z) \le G(z_0)) = P(z \le z_0)$; differentiating in $z_0$,
# $p_g(G(z_0))\,G'(z_0) = \varphi(z_0)$ (for decreasing $G$ the sign flips, hence $|G'|$). The
# cell compares the two sides for $|z| \le 1.5$ (the central 87 % of the noise; the kernel
# estimate is blurred where the density is low) and checks that the median relative difference
# is below 15 %. A ReLU generator is piecewise linear, so $G'$ is piecewise constant: the
# finite differences are taken on a grid fine enough that each kink touches only a few points.
# :::

# %% tags=["hide-input"]
z_fine = torch.linspace(-1.5, 1.5, 401).reshape(-1, 1)
with torch.no_grad():
    g_fine = trainer.G(z_fine).reshape(-1).double().numpy()
slope = np.gradient(g_fine, z_fine.reshape(-1).double().numpy())
predicted = np.exp(-0.5 * z_fine.reshape(-1).double().numpy() ** 2) / math.sqrt(2 * math.pi) / np.abs(slope)
estimated = theory.kde_pdf(panels["d"]["samples"], g_fine)
rel = np.median(np.abs(predicted / estimated - 1))
assert np.all(slope > 0) and rel < 0.15
print(f"G is increasing on the grid, and phi(z) / |G'| matches the kernel estimate of p_g (median error < 15 %): PASS")

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
