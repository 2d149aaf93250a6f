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
# # Stabilising the game: Wasserstein critics, gradient penalty, spectral normalisation
#
# The paper {cite:p}`goodfellow2014gan` trains $D$ and $G$ by alternating gradient steps
# (Algorithm 1, with $k$ discriminator steps per generator step; the paper uses the one-step
# heuristic $k = 1$), and it warns about the failure it could not fix: if $G$ is trained too much
# without updating $D$ it "collapses too many values of $z$ to the same value of $x$" (the
# "Helvetica scenario", Section 6). The earlier chapters met both problems live: the minimax loss
# saturates, the 2-D ring and grid lose modes, and on MNIST the paper's recipe collapses onto
# almost a single image when its learning rate is halved (chapter 07's Run 2).
#
# This chapter is about the remedies that came later and are now standard:
#
# - **Wasserstein GANs** {cite:p}`arjovsky2017wgan` replace the Jensen-Shannon divergence of
#   Theorem 1 by the earth mover's distance $W_1$, estimated by a *critic* kept Lipschitz by
#   **weight clipping**;
# - **WGAN-GP** {cite:p}`gulrajani2017wgangp` keeps the critic Lipschitz by a **gradient penalty**
#   instead;
# - **spectral normalisation** {cite:p}`miyato2018spectral` divides every weight matrix of $D$ by its
#   largest singular value; and **batch normalisation**, as in DCGAN {cite:p}`radford2016dcgan`,
#   normalises activations inside $G$ (and, for the classic loss, $D$).
#
# First the reason, computed exactly: why the JSD gives $G$ no gradient when the two distributions do
# not overlap, while $W_1$ does. Then the losses in `ganlib`, each checked, and two experiments:
# the classic GAN, WGAN with weight clipping, WGAN-GP, a spectrally normalised GAN and the classic
# GAN with batch normalisation in $G$ on the 2-D ring and grid, ten seeds each, with confidence
# intervals; and on MNIST, on the networks and the budget of chapter 07's recipe, the classic GAN,
# WGAN-GP and the SN-GAN, three seeds each.

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
import json
import math
import time
from functools import partial
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from IPython.display import display
from scipy import stats

from ganlib import theory
from ganlib.game import critics
from ganlib.data import load_mnist, toy_data
from ganlib.data.toy import get_toy
from ganlib.recipes.seeds import run_seeds
from ganlib.metrics import (ClassifierFeatures, fid_score, format_interval, load_or_train_classifier, seed_interval,
                            mode_coverage, separated)
from ganlib.nets.models import MLPDiscriminator
from ganlib.engine.runtime import describe_run, quick_mode, seed_everything
from ganlib.engine.config import TrainConfig
from ganlib.nets.players import MLPPlayers
from ganlib.viz import image_grid, plot_value_curves, show_grid

seed_everything(0)
torch.set_num_threads(min(2, torch.get_num_threads()))  # two threads: the seeds run stacked, in larger kernels
mnist = load_mnist("train", verbose=False)
mnist_test = load_mnist("test", verbose=False)
run_info = describe_run(data_source=f"2-D ring and grid (ganlib.data.toy); MNIST: {mnist.describe()}; {mnist_test.describe()}",
                        device="cpu")
print("2-D toys: device=cpu on purpose, on a GPU runtime too (networks of a few thousand weights: a GPU spends "
      "longer launching each step's small kernels than the CPU computing them)")

# %% [markdown]
# ## Why the JSD gives no gradient where $W_1$ does
#
# Theorem 1 says that against the optimal discriminator the generator minimises
# $C(G) = -\log 4 + 2\,\mathrm{JSD}(p_\text{data} \Vert p_g)$. Take two densities with **disjoint
# supports**: $p_\text{data}$ a bump on $[-\tfrac14, \tfrac14]$ and $p_g$ the same bump shifted by
# $\theta$ (a raised cosine, `scipy.stats.cosine`, which is exactly zero outside its interval).
# As soon as $|\theta| \ge \tfrac12$ the supports do not meet, $D^*_G$ is 1 on one bump and 0 on the
# other, and
#
# $$
# \mathrm{JSD}(p_\text{data} \Vert p_g) = \tfrac12 \int p_\text{data} \log\frac{2 p_\text{data}}{p_\text{data}}
#   + \tfrac12 \int p_g \log\frac{2 p_g}{p_g} = \log 2 \quad \text{for every such } \theta,
# $$
#
# so $\partial C / \partial \theta = 0$: moving $p_g$ towards the data does not change the criterion
# at all. The earth mover's distance, the cost of transporting one distribution onto the other
# {cite:p}`arjovsky2017wgan`,
#
# $$
# W_1(p_\text{data}, p_g) = \inf_{\gamma \in \Pi(p_\text{data}, p_g)} \mathbb{E}_{(x, y) \sim \gamma} \lVert x - y \rVert
#   = \int_{\mathbb{R}} \lvert F_\text{data}(x) - F_g(x) \rvert\, dx \quad \text{(in 1-D)},
# $$
#
# is $|\theta|$ for a translate: it shrinks linearly as $p_g$ moves closer, and its gradient is
# $\operatorname{sign}\theta$ however far apart the two are. Both computed by quadrature with
# `ganlib.theory`:

# %%
x_grid = np.linspace(-3.0, 3.0, 60_001)
width = 0.5  # each bump lives on an interval of this length
# a raised-cosine density on [loc - width/2, loc + width/2], zero outside: bump(loc=centre)
bump = partial(stats.cosine.pdf, x_grid, scale=width / (2 * np.pi))


p_data_1d = bump(loc=0.0)
shifts = np.linspace(-2.5, 2.5, 201)
jsd = np.array([theory.jensen_shannon(p_data_1d, bump(loc=s), x_grid) for s in shifts])
w1 = np.array([theory.wasserstein_1(p_data_1d, bump(loc=s), x_grid) for s in shifts])
disjoint = np.abs(shifts) >= width
print(f"{disjoint.sum()} shifts with disjoint supports, |shift| from {np.abs(shifts[disjoint]).min()} to {np.abs(shifts).max()}")
print("JSD = log 2 to 1e-6 at every disjoint shift:", bool(np.all(np.abs(jsd[disjoint] - math.log(2)) < 1e-6)))
print("W1 = |shift| to 1e-3 at every shift:       ", bool(np.all(np.abs(w1 - np.abs(shifts)) < 1e-3)))
inner = np.abs(shifts) > width + (shifts[1] - shifts[0])  # central differences stay in the disjoint region
print("dJSD/dshift = 0 and |dW1/dshift| = 1 there:",
      bool(np.all(np.abs(np.gradient(jsd, shifts)[inner]) < 1e-6)),
      bool(np.all(np.abs(np.abs(np.gradient(w1, shifts)[inner]) - 1) < 1e-3)))
assert np.all(np.abs(jsd[disjoint] - math.log(2)) < 1e-6) and np.all(np.abs(w1 - np.abs(shifts)) < 1e-3)
print("PASS: JSD is constant (log 2) for disjoint supports while W1 = |shift|")

# %%
fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(11, 3.6))
for s, c in ((0.0, "k"), (0.75, "g"), (1.5, "g"), (2.25, "g")):
    ax0.plot(x_grid, bump(loc=s), c, alpha=1.0 if s == 0 else 0.5,
             label=r"$p_\mathrm{data}$" if s == 0 else rf"$p_g$, $\theta = {s}$")
ax0.set_xlim(-0.6, 2.6)
ax0.set_xlabel("$x$")
ax0.legend(fontsize=8)
ax0.set_title("Disjoint supports: a bump and its translates")
ax1.plot(shifts, jsd, "b", label=r"$\mathrm{JSD}(p_\mathrm{data} \Vert p_g)$")
ax1.plot(shifts, w1, "r", label=r"$W_1(p_\mathrm{data}, p_g)$")
ax1.axhline(math.log(2), color="b", ls=":", lw=1, label=r"$\log 2$")
ax1.axvspan(-width, width, color="0.9", label="supports overlap")
ax1.set_xlabel(r"shift $\theta$ of $p_g$")
ax1.set_ylabel("nats / distance")
ax1.legend(fontsize=8, loc="upper center")
ax1.set_title(r"JSD is flat (no gradient); $W_1$ is not")
fig.tight_layout()
plt.show()

# %% [markdown]
# Inside the grey band the supports overlap and the JSD falls to 0 at $\theta = 0$; outside it, the
# criterion of Theorem 1 is a plateau. Real data lie on thin sets in pixel space, and early in
# training $p_g$ and $p_\text{data}$ hardly overlap, which is one explanation of why a
# near-optimal $D$ leaves $G$ without a useful signal (the saturation of Section 3 is the same
# effect seen through the logit).
#
# ## The critic losses
#
# $W_1$ has a dual form, the Kantorovich-Rubinstein duality, which a neural network can estimate:
#
# $$
# W(P_r, P_\theta) = \sup_{\lVert f \rVert_L \le 1} \mathbb{E}_{x \sim P_r}[f(x)] - \mathbb{E}_{x \sim P_\theta}[f(x)]
# \qquad \text{(WGAN, Eq. 3)}.
# $$
#
# The discriminator becomes a **critic** $f$ with a real-valued output (no sigmoid: the "logit" is
# the score). `ganlib.game.critics` defines three new loss pairs, registered in `ganlib.game.losses` beside the
# paper's and used by the same trainer through `TrainConfig(loss=...)`:
#
# | name | critic / discriminator minimises | generator minimises | Lipschitz control |
# |---|---|---|---|
# | `wasserstein` | $\bar f(G(z)) - \bar f(x)$ | $-\bar f(G(z))$ | clip every weight to $\pm 0.01$ after each step |
# | `wgan-gp` | $\bar f(G(z)) - \bar f(x) + \lambda\, \overline{(\lVert \nabla f(\hat x) \rVert - 1)^2}$ | $-\bar f(G(z))$ | gradient penalty, $\lambda = 10$ |
# | `hinge` | $\overline{\max(0, 1 - D(x))} + \overline{\max(0, 1 + D(G(z)))}$ | $-\bar D(G(z))$ | (pair it with spectral norm) |
#
# (bars are batch means). The gradient penalty {cite:p}`gulrajani2017wgangp` is evaluated at
# $\hat x = \epsilon x + (1 - \epsilon) G(z)$ with one $\epsilon \sim U[0, 1]$ per pair (WGAN-GP,
# Eq. 3), because the optimal critic has gradient norm 1 on the segments between coupled points.
# For a linear critic $f(x) = w^\top x + b$ the gradient is $w$ everywhere, so the penalty is
# exactly $(\lVert w \rVert - 1)^2$, zero for a unit vector:

# %%
g = torch.Generator().manual_seed(0)
real_pts, fake_pts = torch.randn(256, 5, generator=g), torch.randn(256, 5, generator=g) + 3.0
for norm in (1.0, 0.5, 2.0):
    critic = torch.nn.Linear(5, 1)
    with torch.no_grad():
        critic.weight.copy_(torch.tensor([[1.0, -2.0, 0.5, 0.0, 1.5]]))
        critic.weight.mul_(norm / critic.weight.norm())
    gp = critics.gradient_penalty(critic, real_pts, fake_pts).item()
    print(f"||w|| = {norm}: penalty {gp:.6f}, (||w|| - 1)^2 = {(norm - 1) ** 2:.6f}")
    assert abs(gp - (norm - 1) ** 2) < 1e-5
print("PASS: gradient_penalty equals (||w|| - 1)^2 for a linear critic")

# %% [markdown]
# **Spectral normalisation** {cite:p}`miyato2018spectral` constrains every layer instead:
# $\bar W_{SN} = W / \sigma(W)$ with $\sigma(W)$ the largest singular value (Miyato et al., Eq. 8),
# estimated by one power iteration per training step. A stack of such layers with 1-Lipschitz
# activations is 1-Lipschitz. `MLPDiscriminator(..., spectral_norm=True)` (and the same option on the
# paper's and the DCGAN discriminators) wraps every weight with
# `torch.nn.utils.parametrizations.spectral_norm`:

# %%
torch.manual_seed(0)
d_sn = MLPDiscriminator(2, (128, 128), spectral_norm=True)
with torch.no_grad():
    for _ in range(100):  # training-mode forwards run the power iteration
        d_sn(torch.randn(64, 2))
    sigmas = [torch.linalg.matrix_norm(m.weight, ord=2).item() for m in d_sn.modules() if isinstance(m, torch.nn.Linear)]
print("largest singular value of each layer within 1e-2 of 1:", all(abs(s - 1) < 1e-2 for s in sigmas))
assert all(abs(s - 1) < 1e-2 for s in sigmas)
print("PASS: every spectrally normalised layer has sigma(W) = 1")

# %% [markdown]
# The optimiser settings follow the papers, with one exception stated below:
#
# | method | loss | $D$ updates per $G$ update ($k$, WGAN's $n_\text{critic}$) | optimiser |
# |---|---|---|---|
# | classic GAN (here "vanilla") | `non_saturating` (Section 3) | 1 | Adam $2\cdot 10^{-4}$, $\beta = (0.5, 0.999)$ {cite:p}`radford2016dcgan` |
# | WGAN {cite:p}`arjovsky2017wgan` | `wasserstein` | 5 | RMSprop $5\cdot 10^{-5}$, clip $0.01$ |
# | WGAN-GP {cite:p}`gulrajani2017wgangp` | `wgan-gp` | 5 | Adam $10^{-4}$, $\beta = (0.5, 0.9)$ |
# | SN-GAN {cite:p}`miyato2018spectral` | `non_saturating` + `spectral_norm=True` | 1 | Adam $2\cdot 10^{-4}$, $\beta = (0.5, 0.999)$ |
#
# For the SN-GAN we keep the classic non-saturating loss so that spectral normalisation is the
# *only* change from the vanilla run (`hinge` is the other common choice). Batch normalisation
# enters as one more toy row, "vanilla, BN in G": the vanilla run with a `BatchNorm1d` before every
# ReLU of the generator, as in DCGAN's and PacGAN's generators; its discriminator is unchanged. It
# stays out of every critic: a critic trained with a gradient penalty must not use it, since the
# penalty is per sample and batch norm mixes the samples of a batch {cite:p}`gulrajani2017wgangp`
# (hence `DCGANDiscriminator(batch_norm=False)`). The MNIST runs keep chapter 07's networks, which
# have none (their discriminator's minibatch standard deviation also reads pairs of samples;
# Progressive GAN trains such a critic with the gradient penalty {cite:p}`karras2018progressive`,
# and so do we), and leave out WGAN with clipping, which WGAN-GP was designed to replace (on the toys
# below its generator spreads into a diffuse cloud: many modes touched, few samples on them).
#
# **The budget.** Each toy run gets the same number of **discriminator updates**, 4,000 on
# minibatches of 256 (the MNIST runs get their own budget, in their section). The WGANs spend five critic
# updates per generator update, so they get a fifth of the generator updates (800 on the toys); a
# critic update with its penalty costs about as much as a vanilla discriminator-plus-generator
# step, so the budgets are also roughly equal in compute (the time columns of the tables show it).
# The toy budget is the one at which one configuration learns the ring: the vanilla GAN with
# batch normalisation in $G$ covers all 8 modes in eight of its ten seeds. The papers train for
# $10^5$ generator updates and more; the numbers here are what the methods do in the first few
# thousand.

# %% tags=["nbval-ignore-output"]
TOY_SEEDS = [0] if quick_mode() else list(range(10))
TOY_D_UPDATES = 100 if quick_mode() else 4000  # per run, every method
TOY_BATCH = 256
# each method in its standard form: a run of Algorithm 1 (`.replace(...)` changes one setting) ...
VANILLA = TrainConfig(loss="non_saturating", k=1, batch_size=TOY_BATCH, optimizer="Adam", lr_d=2e-4, lr_g=2e-4,
                      optimizer_kwargs={"betas": (0.5, 0.999)}, device="cpu", progress=False, log_every=100,
                      snapshot_every=-1)
METHODS = {
    "vanilla": VANILLA,
    "WGAN (clip)": VANILLA.replace(loss="wasserstein", k=5, optimizer="RMSprop", lr_d=5e-5, lr_g=5e-5, optimizer_kwargs={}),
    "WGAN-GP": VANILLA.replace(loss="wgan-gp", k=5, lr_d=1e-4, lr_g=1e-4, optimizer_kwargs={"betas": (0.5, 0.9)}),
    "SN-GAN": VANILLA,
    "vanilla, BN in G": VANILLA,
}
# ... and its players: G maps z in R^2 through three ReLU layers of 128 units, D has two LeakyReLU layers of 128
PLAYERS = {method: MLPPlayers(dim=2, g_hidden=(128, 128, 128), d_hidden=(128, 128), spectral_norm=method == "SN-GAN",
                              batch_norm=method == "vanilla, BN in G") for method in METHODS}
print(f"2-D: seeds {TOY_SEEDS}, {TOY_D_UPDATES} D updates per run")

# %% [markdown]
# ## Mode coverage on the ring and the grid
#
# The two 2-D benchmarks of the earlier chapters (VEEGAN's and PacGAN's
# {cite:p}`srivastava2017veegan,lin2018pacgan`): a ring of 8 Gaussians (radius 1, standard deviation
# 0.01) and a grid of 25 (spacing 2, standard deviation 0.05). The same networks for every method:
# $G$ maps $z \in \mathbb{R}^2$ through three ReLU layers of 128 units, $D$ has two LeakyReLU layers
# of 128 units. After training, 2,500 samples are scored with `ganlib.metrics.mode_coverage`: a
# sample is *high quality* within 3 standard deviations of its nearest mode, and a mode is
# *covered* if it has at least one high-quality sample.
#
# Ten seeds a method. Five seeds train together, stacked in one `ganlib.engine.ensemble.EnsembleTrainer`
# run, and two such ensembles run at once, one on each CPU core (`ganlib.recipes.seeds.run_seeds`):
# each seed keeps its own initial weights, minibatches and noise, but the stacked computation
# rounds differently from separate runs, so a seed's trajectory here is not the one a separate run
# with the same seed would follow (an equally valid run of the same recipe). The time printed is
# the wall time of the method's ten seeds.

# %% tags=["nbval-ignore-output"]
TOYS = {name: get_toy(name) for name in ("ring", "grid")}
toy_sets = {name: toy_data(name, n=100_000, seed=0).images for name in TOYS}

toy_rows, toy_runs = [], {}
for name, t in TOYS.items():
    for method, run in METHODS.items():  # every seed, then 2,500 samples of each from noise seeded 1000 + seed
        started = time.perf_counter()
        runs = run_seeds(run.replace(max_steps=TOY_D_UPDATES // run.k), PLAYERS[method], toy_sets[name], TOY_SEEDS,
                         n_samples=2500, noise_seed=1000)
        toy_runs[name, method] = (runs[0]["history"], runs[0]["samples"])  # the first seed's, for the pictures
        for r in runs:
            modes, hq = mode_coverage(r["samples"], t.means, t.std)
            toy_rows.append(dict(data=name, method=method, seed=r["seed"], modes=modes, hq=100 * hq, wall_s=r["seconds"]))
        got = [r for r in toy_rows if r["data"] == name and r["method"] == method]
        print(f"{name:4s} {method:16s} modes {[r['modes'] for r in got]}, high quality % "
              f"{[round(r['hq'], 1) for r in got]}; {time.perf_counter() - started:.0f} s")
toy_df = pd.DataFrame(toy_rows)

# %%
fig, axes = plt.subplots(2, len(METHODS), figsize=(16, 6.8))
for row, (name, t) in enumerate(TOYS.items()):
    lim = 1.6 if name == "ring" else 5.5
    for col, method in enumerate(METHODS):
        ax = axes[row, col]
        _, x = toy_runs[name, method]
        ax.scatter(x[:, 0], x[:, 1], s=2, alpha=0.3, color="g", label="$G(z)$")
        ax.scatter(t.means[:, 0], t.means[:, 1], s=12, color="k", marker="x", label="modes")
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-lim, lim)
        ax.set_aspect("equal")
        ax.set_title(f"{name}: {method} (seed 0)", fontsize=10)
axes[0, 0].legend(fontsize=8, loc="upper right")
fig.tight_layout()
plt.show()

# %% [markdown]
# The pictures say more than the scores. On the ring only the vanilla GAN with batch
# normalisation in $G$ has learnt the ring: its samples lie on the circle and crowd onto the 8
# modes. The plain vanilla GAN has collapsed onto a streak from the mode at $(-1, 0)$ towards the
# one at $(0, 1)$, the WGAN-GP generator is a half-disc outside the ring on the right, the SN-GAN
# a short thin streak outside the ring beside the mode at $(1, 0)$, and the clipped WGAN a broad
# ring-shaped cloud: it
# reaches more modes than any method but the batch-normalised one (6.3 on average), but only by
# being everywhere, with 1.4 % of its samples high quality. On the grid the vanilla GAN is again
# a thin streak, the WGAN-GP generator a curved band along the middle row, the SN-GAN a square
# filling the grid, densest along its edges, the clipped WGAN a diffuse cloud densest just above the
# middle row, and the batch-normalised vanilla GAN puts its samples on the grid's rows and
# columns, with dense clusters on the modes and streaks between them.
#
# **Training curves.** The `value` column of the trainer's history is the loss's own statistic: for
# the classic loss the minibatch $\hat V(G, D)$ of Eq. 1 (it sits at $-\log 4$ when $D$ cannot
# separate the two), for the Wasserstein losses the critic's estimate
# $\hat W = \bar f(x) - \bar f(G(z))$ of WGAN Eq. 3 (the `d_real` / `d_fake` columns then hold raw
# critic scores, not probabilities). The WGAN papers' selling point is that $\hat W$ is a loss curve
# that *means* something: with a well-trained critic it falls as the samples improve. Whether it
# does here is for the curves to show. Plotted against discriminator updates (grid, first seed;
# rolling means over 50 steps):

# %%
plot_value_curves({method: (toy_runs["grid", method][0], run.k, run.loss != "non_saturating")
                   for method, run in METHODS.items()},
                  "Training curves on the grid of 25 Gaussians")
plt.show()

# %% [markdown]
# The vanilla $\hat V$ oscillates well above $-\log 4$ (between about $-1.35$ and $-1.0$): its
# discriminator keeps winning and the generator hops around. The spectrally normalised
# discriminator's logit is 1-Lipschitz, so on modes 2 apart it cannot become confident: after a
# short excursion in the first 200 updates its $\hat V$ stays at $-\log 4$, which is the point of
# the method. With batch normalisation in $G$, $\hat V$ also starts at $-\log 4$ and creeps up
# slowly (to about $-1.34$): this $D$ learns to separate a little while $G$ puts its samples on the
# modes. The WGAN-GP critic's $\hat W$ rises to about 4 in the first 700 updates while the critic
# learns, then falls below zero (to about $-1.5$ near update 3,100), and climbs back to about 3.5 at
# the end. A falling $\hat W$ is the pattern the WGAN papers describe, but it is an *estimate*
# that is only as good as the critic: a value below zero means the critic currently scores
# generated points above real ones (the true $W_1$ is never negative), and at the end the WGAN-GP
# samples are a band, not the grid. The clipped critic's $\hat W$ stays close to zero at the
# scale of this plot: with every weight in $[-0.01, 0.01]$ the critic is a function of tiny slope,
# and its $\hat W$ estimates $W_1$ only up to that (unknown) Lipschitz constant.
#
# ## The toy tables
#
# The toys: the mean over the ten seeds of modes covered and high-quality percentage, with its
# 95 % bootstrap confidence interval in brackets (`ganlib.metrics.seed_interval`), and the wall
# time per seed on this CPU (five seeds train together in an ensemble, two ensembles at a time on
# the two cores; the time is an ensemble's divided by its five seeds). Under the table, every pair
# of methods is called *separated* where their intervals do not overlap and *not resolved* where
# they do.

# %% tags=["nbval-ignore-output"]
toy_intervals, toy_table = {}, {}
for method in METHODS:
    row = {}
    for name in TOYS:
        runs = toy_df[(toy_df.data == name) & (toy_df.method == method)]
        for col, label in (("modes", f"{name}: modes (of {len(TOYS[name].means)})"), ("hq", f"{name}: high quality %")):
            if len(runs) > 1:  # the mean over the seeds and its 95 % bootstrap interval
                toy_intervals[name, col, method] = seed_interval(runs[col])
                row[label] = format_interval(toy_intervals[name, col, method])
            else:
                row[label] = f"{runs[col].mean():.1f}"
        row[f"{name}: s per seed"] = f"{runs.wall_s.mean():.0f}"
    toy_table[method] = row
toy_summary = pd.DataFrame(toy_table).T
toy_summary.index.name = f"{len(TOY_SEEDS)} seeds, {TOY_D_UPDATES} D updates"
toy_summary

# %% tags=["nbval-ignore-output"]
# which differences ten seeds resolve: the pairs whose 95 % intervals do not overlap
names = list(METHODS)
for key in [(name, col) for name in TOYS for col in ("modes", "hq")]:
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            if (*key, a) in toy_intervals:
                ia, ib = toy_intervals[(*key, a)], toy_intervals[(*key, b)]
                print(f"{key[0]} {key[1]:5s} {a:16s} vs {b:16s}: {'separated' if separated(ia, ib) else 'not resolved'} "
                      f"({format_interval(ia)} vs {format_interval(ib)})")

# %% [markdown]
# What to read from them (a small budget on a CPU: every run is seeded, but a GAN's trajectory
# amplifies rounding differences, so expect the numbers, not only their last digits, to move on
# another machine or thread count). The toy claims below are the ones the separation lines
# support; everything else is called unresolved.
#
# - **Batch normalisation in $G$ is the one change that learns both toys at this budget.** It
#   covers 7.8 of the 8 ring modes (interval 7.5 to 8.0) with 34.5 % of its samples high quality,
#   and 23.0 of the 25 grid modes (22.0 to 24.0) with 18.9 %; every comparison with another method
#   is separated, in modes and in quality, on both toys.
# - **A gradient penalty does not, here, protect against mode collapse.** WGAN-GP covers 0.8 ring
#   modes and 9.8 grid modes against the vanilla GAN's 1.1 and 2.4: neither difference is
#   resolved by ten seeds, and neither is the difference in high-quality samples (0.1 and 1.9 %
#   against 3.3 and 1.2 %). The claim that the penalty helps against collapse
#   would need more than this budget (800 generator updates) to show.
# - **The clipped WGAN covers more modes by being everywhere.** It reaches 6.3 ring modes and 16.3
#   grid modes, separated from the vanilla GAN and from WGAN-GP on both toys, but with 1.4 % and
#   1.5 % of its samples high quality: its scatter plots are diffuse clouds, and chapter 06
#   estimates that 2,500 samples spread evenly over the grid's square cover some 20 modes by
#   chance with about 2 % of them high quality. Mode counts mean something only next to the
#   quality column.
# - **Spectral normalisation: more grid modes, by spreading.** On the grid the SN-GAN covers 15.3
#   modes against the vanilla GAN's 2.4 (separated), with 4.1 % of its samples high quality,
#   separated from both WGANs' 1.5 and 1.9 % but not from the vanilla GAN's 1.2 %; its samples fill
#   the grid's square (the scatter plot), so its count, like the clipped WGAN's, owes much to being
#   everywhere. On the ring (0.7 modes) it is unresolved against the vanilla GAN and WGAN-GP.
# - **WGAN-GP pays for its stability in generator updates.** Five critic updates with a
#   double-backward penalty per generator update leave it a fifth of the generator updates at
#   equal discriminator work.
# - **How far from the data.** VEEGAN's vanilla GAN puts 99.3 % of its samples on one ring mode and
#   PacGAN's covers 6.3 of the 8 after about 400,000 generator steps (chapter 06); our vanilla runs
#   of 4,000 updates collapse the same way in nine seeds of ten (seed 8 covers all 8 ring modes,
#   with 29.5 % of its samples high quality), and only the batch-normalised generator gets near the
#   data in every seed.
#
# ## MNIST, on the recipe's networks
#
# On MNIST the three methods share chapter 07's **recipe**, the `mnist` preset: the paper's
# 1200-unit generator and maxout discriminator with its dropout and a minibatch standard deviation,
# Adam with $G$'s learning rate four times $D$'s, one $G(z)$ per step for both players, a moving
# average of $G$, bf16 where the processor has it (these runs had none: float32), minibatches of
# 100 from the 4,000 training digits, 12,000 discriminator updates. The preset already normalises
# $D$ spectrally, so it is the SN-GAN here; the other two take spectral norm out:
#
# | method | what changes in the `mnist` preset | $D$ updates | $G$ updates |
# |---|---|---|---|
# | vanilla | `spectral_norm` off in $D$ | 12,000 | 12,000 |
# | SN-GAN | nothing: the preset as it is (chapter 07's Run 4 recipe) | 12,000 | 12,000 |
# | WGAN-GP | `spectral_norm` off; loss `wgan-gp`, $k = 5$, Adam $10^{-4}$ for both, $\beta = (0.5, 0.9)$ | 12,000 | 2,400 |
#
# Every run gets the preset's 12,000 discriminator updates and three seeds. Each run is then
# scored as chapter 07 scores its runs, with our own digit classifier: the share of 10,000
# samples (of the moving average) that it reads as one digit with confidence at least 0.9, the
# Inception-like score, the smallest and the largest digit's share of those confident samples
# (10 % each for a perfect generator), and the FID on the classifier's features between 500
# samples and the training digits. Nine runs of 15 to 19 minutes each (on one thread) do not fit
# in this page's budget: `benchmarks/ablate_mnist.py` trains them (the command is in the repository's CONTRIBUTING.md)
# and this page reads what it wrote, `benchmarks/results/compare_mnist.json` with 64 samples of
# every run beside it; the wall times are those of one thread (two runs at a time on the two
# cores of a CPU without bfloat16 instructions).
#
# The first line printed below is the **floor** of this FID: the 500 held-out test digits (a
# random draw of every class, the size of a run's sample) against the same training digits. A
# perfect generator would score about this; estimating covariances from 500 samples keeps it
# above 0.

# %% tags=["nbval-ignore-output"]
classifier = load_or_train_classifier(mnist.images, mnist.labels, verbose=False)
fid_floor = fid_score(ClassifierFeatures(classifier), mnist.images, mnist_test.images)
print(f"FID floor ({len(mnist_test.images)} test digits vs the {len(mnist.images)} training digits): {fid_floor:.1f}")
# the benchmark's rows on the mnist preset, by the name this chapter gives each method
MNIST_ROWS = {"vanilla": "preset, no spectral norm", "SN-GAN": "recipe, SN + minibatch std 2, G(z) reused",
              "WGAN-GP": "preset, WGAN-GP"}
# the files sit in the book's repository: look for them from here upwards (a Colab copy of this page has none)
found = [p / "benchmarks" / "results" for p in (Path.cwd(), *Path.cwd().parents)]
results_dir = next((d for d in found if (d / "compare_mnist.json").is_file()), None)
if results_dir is None:
    compare = None
    print("benchmarks/results/compare_mnist.json is not here: see the table in the published book")
else:
    compare = pd.DataFrame(json.loads((results_dir / "compare_mnist.json").read_text()))
    compare["method"] = compare.row.map({row: method for method, row in MNIST_ROWS.items()})
    compare_samples = torch.load(results_dir / "compare_mnist_samples.pt")
    columns = {"confident": "confident share", "inception_like": "Inception-like", "min_share": "smallest digit",
               "max_share": "largest digit", "fid": "FID", "memorised": "memorised", "wall_s": "s per run"}
    by_method = {m: compare[compare.method == m] for m in MNIST_ROWS}  # one row per seed
    ranges = {(m, col): (runs[col].mean(), runs[col].min(), runs[col].max())  # over the seeds
              for m, runs in by_method.items() for col in columns}
    cells = {}
    for method, runs in by_method.items():
        cells[method] = {"seeds": len(runs), "G updates": int(runs.g_steps.iloc[0])}
        for col, label in columns.items():
            fmt = "{:.0f}" if col == "wall_s" else "{:.1f}" if col == "fid" else "{:.2f}" if col == "inception_like" else "{:.3f}"
            cells[method][label] = format_interval(ranges[method, col], fmt)
    display(pd.DataFrame(cells).T.rename_axis("mean [min, max] over seeds"))
    # which differences three seeds resolve: the pairs whose seed ranges do not overlap
    names = list(MNIST_ROWS)
    for col in ("confident", "inception_like", "min_share", "max_share", "fid"):
        for i, a in enumerate(names):
            for b in names[i + 1:]:
                ra, rb = ranges[a, col], ranges[b, col]
                print(f"{columns[col]:16s} {a:8s} vs {b:8s}: {'separated' if separated(ra, rb) else 'not resolved'} "
                      f"([{ra[1]:.3f}, {ra[2]:.3f}] vs [{rb[1]:.3f}, {rb[2]:.3f}])")

# %% tags=["nbval-ignore-output"]
if compare is not None:
    seeds = sorted(compare.seed.unique())
    fig, axes = plt.subplots(len(MNIST_ROWS), len(seeds), figsize=(2.6 * len(seeds), 2.8 * len(MNIST_ROWS)),
                             squeeze=False)
    for row, (method, name) in enumerate(MNIST_ROWS.items()):
        for col, seed in enumerate(seeds):
            x = compare_samples[(name, int(seed))][:36].float() / 255
            show_grid(axes[row, col], image_grid(x.view(-1, 1, 28, 28), nrow=6), f"{method}, seed {seed}")
    fig.suptitle("36 samples of every run (moving average of G)")
    fig.tight_layout()
    plt.show()

# %% tags=["nbval-ignore-output"]
if compare is not None:
    first = compare[compare.seed == compare.seed.min()].set_index("method")
    plot_value_curves({method: (pd.DataFrame(first.loc[method, "history"]), METHODS[method].k,
                                METHODS[method].loss != "non_saturating") for method in MNIST_ROWS},
                      f"Training curves on MNIST (seed {compare.seed.min()}, every 10th step)", window=5)
    plt.show()

# %% [markdown]
# **What the MNIST runs say** (three seeds a method, 12,000 discriminator updates each; the
# lines under the table say which differences the seeds' ranges resolve):
#
# - **Spectral normalisation balances the digits; it does not make them more legible.** Without
#   it the 1s take 17.1 to 18.2 % of the confident samples (the 1s are the largest digit in every
#   run of both methods) and the rarest digit, the 2s, falls to 4.2-6.4 %; with it, the preset,
#   the 1s hold 12.8-13.2 % and the rarest digit, the 8s, 6.6-6.7 %: both differences are
#   separated, and only the SN-GAN keeps every digit between 6 % and 14 % in all three seeds. Its
#   FID is 27.2 (24.6 to 32.0) against 67.1 (57.9 to 79.7) and its Inception-like score 8.42
#   (8.40 to 8.45) against 8.16 (8.08 to 8.22), both separated; the share of samples read as one
#   clear digit is the same within the seeds (81.5-82.3 % against 81.8-82.9 %, not resolved).
#   The minibatch std and the longer run do not replace it: the vanilla runs have both. Its price
#   is a power iteration per layer and update, 1,042 s per run against 921 s (13 % more).
# - **WGAN-GP is far behind at this budget.** Its five critic updates per generator update leave it
#   2,400 generator updates, a fifth of the others'. Its samples are faint and blurred, many of
#   them recognisable digits: 58.0 % are confident (56.7 to 58.8), the Inception-like score is
#   6.14 and the FID 191.7, each separated from both other methods; its rarest digit (the 8s)
#   falls to 1.8-3.0 % and its 3s take 16.9-17.6 %. It is also the slowest per run (1,123 s):
#   the penalty's double backward in each of its 12,000 critic updates costs more than the
#   9,600 generator updates it does without. Whether more generator updates would close the gap
#   is not tested here.
# - **The curves.** The vanilla run's $\hat V$ climbs from about $-1.35$ to about $-1.1$ in the
#   first 1,000 updates and then stays between about $-1.25$ and $-1.0$: its discriminator stays a
#   little ahead. The SN-GAN's starts higher (about $-0.95$), peaks near $-0.63$ around update 700
#   and then falls steadily to about $-1.3$ by update 8,000, where it stays, close to $-\log 4$:
#   the normalised discriminator separates real from generated digits less and less. The
#   critic's $\hat W$ rises from about $-0.4$ to a peak of about 4.6 near update 800, falls to
#   about 2.5 by update 3,000, then drifts down to about 2.1 at the end, a falling estimate of
#   $W_1$ as the WGAN papers describe, even though the samples stay blurred.
# - **How far from the data.** The best run here scores an FID of 24.6 (an SN-GAN seed). The floor
#   printed above (15.5) scores the test digits with this page's classifier, which is trained on
#   the machine that runs the page, while the runs were scored by the benchmark with the one it
#   trained: two classifiers trained alike on different processors, so the floor is a guide to the
#   scale, not a bound to the last unit. At most 0.3 % of any run's samples are
#   nearer a training image than 99 % of the held-out digits are (the `memorised` column), so the
#   better FIDs are not copies of training digits.
#
# ## Exercises
#
# **Exercise 1.** For the disjoint bumps above, compute the virtual criterion $C(G) = \max_D V(G, D)$
# of Eq. 4 for several shifts $|\theta| \ge \tfrac12$. What value do you get, and what does it mean
# for a generator trained against the optimal discriminator?
#
# :::{admonition} Solution
# :class: dropdown
# $D^*_G$ is 1 on the data's bump and 0 on the generator's, so both logarithms in Eq. 1 vanish and
# $C(G) = 0 = -\log 4 + 2 \log 2$, the maximum of Theorem 1, for every disjoint shift. The
# criterion is flat: the optimal discriminator passes no gradient to $\theta$. The cell checks it
# with `ganlib.theory.virtual_criterion`.
# :::

# %% tags=["hide-input"]
c_values = [theory.virtual_criterion(p_data_1d, bump(loc=s), x_grid) for s in (0.5, 0.9, 1.7, -2.3)]
assert all(abs(c) < 1e-9 for c in c_values)
print("C(G) = 0 (the maximum, -log 4 + 2 log 2) at every disjoint shift: PASS")

# %% [markdown]
# **Exercise 2.** WGAN keeps the critic Lipschitz by clipping every weight to $[-c, c]$. For an MLP
# with layer sizes $n_0, n_1, \dots, n_L$ and 1-Lipschitz activations, show that the Lipschitz
# constant is at most $\prod_l c \sqrt{n_{l-1} n_l}$, and compare the bound with the largest gradient
# norm of a clipped `MLPDiscriminator` on random points. Why is clipping called a crude way to
# enforce the constraint?
#
# :::{admonition} Solution
# :class: dropdown
# $\lVert f(x) - f(y) \rVert \le \prod_l \lVert W_l \rVert_2 \lVert x - y \rVert$, and
# $\lVert W_l \rVert_2 \le \lVert W_l \rVert_F \le c \sqrt{n_{l-1} n_l}$ when every entry is in
# $[-c, c]$. The bound holds but is loose by orders of magnitude, and the critic's actual Lipschitz
# constant depends on how many weights sit at $\pm c$: clipping does not set it to 1, it only caps
# it, and it pushes weights to the box's corners {cite:p}`gulrajani2017wgangp`. The cell trains
# nothing: it clips a random critic and measures input-gradient norms.
# :::

# %% tags=["hide-input"]
c = critics.WGAN_CLIP
torch.manual_seed(0)
critic = MLPDiscriminator(2, (64, 64))
with torch.no_grad():
    for p in critic.parameters():
        p.copy_(torch.where(torch.rand_like(p) < 0.5, -c, c))  # every weight at a corner of the box
sizes = [2, 64, 64, 1]
bound = math.prod(c * math.sqrt(a * b) for a, b in zip(sizes[:-1], sizes[1:]))
pts = (torch.randn(4096, 2, generator=torch.Generator().manual_seed(1)) * 3).requires_grad_(True)
(grad,) = torch.autograd.grad(critic(pts).sum(), pts)
largest = grad.norm(dim=1).max().item()
assert largest <= bound
print(f"largest gradient norm {largest:.2e} <= bound {bound:.2e}: PASS")

# %% [markdown]
# ## What's next
#
# Stabilising the game changes the objective (a distance with gradients everywhere instead of a
# divergence that saturates) or the discriminator's function class (Lipschitz by construction). The
# generator side of the Helvetica scenario has its own remedies, packing several samples into one
# discriminator input and unrolling the discriminator {cite:p}`lin2018pacgan,metz2017unrolled`,
# which the mode-collapse chapters use.
