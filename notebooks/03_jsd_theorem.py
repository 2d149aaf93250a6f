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
# # The Jensen–Shannon theorem (Theorem 1) and convergence (Proposition 2)
#
# Once the discriminator has won the inner game, $D = D^*_G$ (Proposition 1, previous chapter), the
# generator faces a single objective, the **virtual training criterion** {cite:p}`goodfellow2014gan`
#
# $$
# C(G) = \max_D V(G, D) = V(G, D^*_G)
#      = \mathbb{E}_{x \sim p_\text{data}}\Big[\log \frac{p_\text{data}(x)}{p_\text{data}(x) + p_g(x)}\Big]
#      + \mathbb{E}_{x \sim p_g}\Big[\log \frac{p_g(x)}{p_\text{data}(x) + p_g(x)}\Big].
#      \qquad \text{(Eq. 4)}
# $$
#
# > **Theorem 1.** The global minimum of the virtual training criterion $C(G)$ is achieved if and
# > only if $p_g = p_\text{data}$. At that point, $C(G)$ achieves the value $-\log 4$.
#
# The proof shows more: $C(G) = -\log 4 + 2\,\mathrm{JSD}(p_\text{data} \,\Vert\, p_g)$, so that
# training $G$ against an optimal $D$ minimises the Jensen–Shannon divergence
# {cite:p}`lin1991divergence` between the data and the model. This chapter derives that identity,
# checks it to $10^{-6}$ over a family of generators, corrects a sign slip about the value at the
# optimum, and then states Proposition 2, runs its idealised algorithm, and lists what breaks when
# the algorithm meets real networks.

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
import math

import matplotlib.pyplot as plt
import numpy as np
import torch
from scipy.integrate import simpson

from ganlib import theory
from ganlib.data import toy
from ganlib.game import losses
from ganlib.theory import propositions
from ganlib.engine.runtime import describe_run, seed_everything

seed_everything(0)
run_info = describe_run(data_source="analytic 1-D Gaussians and mixtures (no data set; no training, so both modes agree)",
                        device="cpu")
print("device=cpu on purpose, on a GPU runtime too: no training here, only closed forms on a grid, which a GPU "
      "would not speed up")

# %% [markdown]
# ## The derivation, line by line
#
# Write $M = \tfrac12 (p_\text{data} + p_g)$ for the even mixture of the two densities; it is a
# density too. Start from Eq. 4 and multiply and divide by 2 inside each logarithm:
#
# $$
# \log \frac{p_\text{data}(x)}{p_\text{data}(x) + p_g(x)}
# = \log \frac{p_\text{data}(x)}{2\,M(x)}
# = \log \frac{p_\text{data}(x)}{M(x)} - \log 2 ,
# $$
#
# and the same for the second term with $p_g$ in the numerator. Taking expectations, each
# $-\log 2$ comes out as a constant (both $p_\text{data}$ and $p_g$ integrate to 1):
#
# $$
# \begin{aligned}
# C(G) &= \mathbb{E}_{p_\text{data}}\Big[\log \frac{p_\text{data}}{M}\Big] - \log 2
#       + \mathbb{E}_{p_g}\Big[\log \frac{p_g}{M}\Big] - \log 2 \\
#      &= -\log 4 + \mathrm{KL}\big(p_\text{data} \,\big\Vert\, M\big) + \mathrm{KL}\big(p_g \,\big\Vert\, M\big)
#      && \text{(Eq. 5)} \\
#      &= -\log 4 + 2\,\mathrm{JSD}\big(p_\text{data} \,\big\Vert\, p_g\big),
#      && \text{(Eq. 6)}
# \end{aligned}
# $$
#
# the last line by the definition
# $\mathrm{JSD}(p \Vert q) = \tfrac12 \mathrm{KL}(p \Vert M) + \tfrac12 \mathrm{KL}(q \Vert M)$.
#
# **The minimum.** A KL divergence is $\ge 0$, with equality only when its two arguments agree, so
# $\mathrm{JSD}(p_\text{data} \Vert p_g) \ge 0$, with equality iff $p_\text{data} = M$ and $p_g = M$,
# i.e. iff $p_g = p_\text{data}$. Hence $C(G) \ge -\log 4$, and $-\log 4$ is reached at
# $p_g = p_\text{data}$ and nowhere else: Theorem 1.
#
# **The same value from Proposition 1 directly.** At $p_g = p_\text{data}$ the optimal
# discriminator is $D^*_G \equiv \tfrac12$, and Eq. 4 reads
# $\mathbb{E}_{p_\text{data}}[\log \tfrac12] + \mathbb{E}_{p_g}[\log \tfrac12] = -\log 4$.
#
# Each line is computed by a different `ganlib.theory` integral: Eq. 4 by `virtual_criterion`,
# Eq. 5 by two `kl_divergence` calls against $M$, Eq. 6 by `jensen_shannon`. If a constant, a sign
# or a factor of 2 in the derivation were wrong, they would disagree. For one generator,
# $p_\text{data} = \mathcal N(0, 1)$ and $p_g = \mathcal N(1.5, 0.7^2)$:

# %%
x = np.linspace(-20.0, 20.0, 8001)
p_data = toy.gaussian_1d(0.0, 1.0).pdf(x)
p_g = toy.gaussian_1d(1.5, 0.7).pdf(x)
mixture = 0.5 * (p_data + p_g)
eq4 = theory.virtual_criterion(p_data, p_g, x)
kl_data, kl_g = theory.kl_divergence(p_data, mixture, x), theory.kl_divergence(p_g, mixture, x)
jsd = theory.jensen_shannon(p_data, p_g, x)
print(f"Eq. 4  C(G) = V(G, D*_G)                   = {eq4:.6f}")
print(f"Eq. 5  -log 4 + KL(p_data||M) + KL(p_g||M) = {-math.log(4):.6f} + {kl_data:.6f} + {kl_g:.6f} = {-math.log(4) + kl_data + kl_g:.6f}")
print(f"Eq. 6  -log 4 + 2 JSD(p_data||p_g)          = {-math.log(4):.6f} + 2 * {jsd:.6f} = {-math.log(4) + 2 * jsd:.6f}")

# %% [markdown]
# ## The check over a family of generators
#
# One generator could agree by luck. `ganlib.theory.propositions.theorem1_deviation` runs the three
# computations for every member of a family and returns the largest disagreement. The family:
# 17 shifts $p_g = \mathcal N(\mu, 1)$, $\mu \in [-4, 4]$, and 9 rescalings
# $p_g = \mathcal N(0, s^2)$, $s \in [0.4, 3]$, against $p_\text{data} = \mathcal N(0, 1)$ (26
# generators; $p_g = p_\text{data}$ is among them, as the shift $\mu = 0$ and as the scale $s = 1$). The quadrature runs on a grid of 8,001 points over
# $[-20, 20]$.

# %%
shifts = np.linspace(-4.0, 4.0, 17)
scales = np.array([0.4, 0.5, 0.7, 0.85, 1.0, 1.25, 1.5, 2.0, 3.0])
family = {f"N({m:g}, 1)": toy.gaussian_1d(float(m), 1.0).pdf(x) for m in shifts}
family.update({f"N(0, {s:g}^2)": toy.gaussian_1d(0.0, float(s)).pdf(x) for s in scales})
max_dev, table = propositions.theorem1_deviation(p_data, family, x)
assert len(family) >= 20 and max_dev < 1e-6
print(f"{len(family)} generators: max |C(G) - (-log 4 + 2 JSD)| (and vs Eq. 5) < 1e-6: {max_dev < 1e-6}")
at_min = table[np.abs(table["C(G)"] + math.log(4)) < 1e-6]["p_g"].tolist()
assert at_min == ["N(0, 1)", "N(0, 1^2)"]  # both spellings of p_g = p_data, and no other member
print(f"members with C(G) within 1e-6 of -log 4: {at_min} (both are p_g = p_data)")

# %% [markdown]
# The measured deviation itself (floating-point and quadrature error):

# %% tags=["nbval-ignore-output"]
print(f"max deviation = {max_dev:.2e}")
table.round(6)

# %%
is_shift = table["p_g"].str.endswith(", 1)")
fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(11, 3.8), sharey=True)
for ax, rows, xs, xlabel in [
    (ax0, table[is_shift], shifts, r"shift $\mu$ of $p_g = \mathcal{N}(\mu, 1)$"),
    (ax1, table[~is_shift], scales, r"scale $s$ of $p_g = \mathcal{N}(0, s^2)$"),
]:
    ax.plot(xs, rows["C(G)"], "o-", ms=4, label=r"$C(G)$ by quadrature (Eq. 4)")
    ax.plot(xs, rows["-log4+2JSD"], "k+", ms=9, label=r"$-\log 4 + 2\,\mathrm{JSD}$ (Eq. 6)")
    ax.axhline(-math.log(4), color="r", lw=1, ls="--", label=r"$-\log 4$")
    ax.axhline(0.0, color="0.5", lw=1, ls=":", label=r"$0 = -\log 4 + 2\log 2$")
    ax.set_xlabel(xlabel)
ax1.set_xscale("log")
ax1.minorticks_off()
ax1.set_xticks([0.4, 0.7, 1, 2, 3], ["0.4", "0.7", "1", "2", "3"])
ax0.set_ylabel("nats")
ax1.legend(fontsize=8, loc="center")
fig.suptitle(r"Theorem 1: $C(G) \geq -\log 4$, with equality only at $p_g = p_\mathrm{data} = \mathcal{N}(0, 1)$")
fig.tight_layout()
plt.show()

# %% [markdown]
# $C(G)$ touches $-\log 4$ once, at $p_g = p_\text{data}$, and never drops below it; it is bounded
# above by 0, which it approaches as the two densities separate ($\mathrm{JSD} \to \log 2$).
#
# ## The value at the optimum is $-\log 4$, not $\log 4$
#
# It is easy to write that at the optimum "$V(G, D) = \log(4)$". The
# sign is wrong. Two independent reasons:
#
# 1. $V(G, D)$ is a sum of expectations of $\log D$ and $\log(1 - D)$, logarithms of numbers in
#    $(0, 1)$, so $V \le 0$ always. A positive value such as $\log 4 \approx 1.386$ is impossible.
# 2. At the optimum $D^*_G \equiv \tfrac12$ and $V = 2 \log \tfrac12 = -\log 4 \approx -1.386$.
#
# The slip is easy to make because the number a training log prints is usually the
# **discriminator's loss**, the binary cross-entropy $-V(G, D)$ (see `ganlib.game.losses.discriminator_loss`),
# and *that* equals $+\log 4$ at the equilibrium. The same minibatch of logits (logit 0 means
# $D = \tfrac12$), read both ways:

# %%
logits_at_equilibrium = torch.zeros(1000)  # D(x) = sigmoid(0) = 1/2 on real and generated points
v_eq = losses.value_function(logits_at_equilibrium, logits_at_equilibrium).item()
d_loss_eq = losses.discriminator_loss(logits_at_equilibrium, logits_at_equilibrium).item()
print(f"value V(G, D)          = {v_eq:+.4f}   (-log 4 = {-math.log(4):+.4f})")
print(f"D's loss -V(G, D)      = {d_loss_eq:+.4f}   (+log 4 = {math.log(4):+.4f})")
print(f"C(G) at p_g = p_data   = {theory.virtual_criterion(p_data, p_data, x):+.4f}")
assert abs(v_eq + math.log(4)) < 1e-6 and abs(d_loss_eq - math.log(4)) < 1e-6
print("PASS: the game's value at the optimum is -log 4; +log 4 is the discriminator's loss there")

# %% [markdown]
# (Some code also averages the two cross-entropy terms instead of summing them, and then logs
# $\log 2 \approx 0.693$ at the equilibrium; the paper's reference implementation scales its
# discriminator loss by $\tfrac12$ in this way. Neither changes the optimum, only the number printed.)
#
# ## Proposition 2: convergence, under strong assumptions
#
# Theorem 1 says where the global minimum is. Proposition 2 says that the training procedure gets
# there, *if*:
#
# > **Proposition 2.** If $G$ and $D$ have enough capacity, and at each step of Algorithm 1 the
# > discriminator is allowed to reach its optimum given $G$, and $p_g$ is updated so as to improve
# > the criterion
# >
# > $$
# > \mathbb{E}_{x \sim p_\text{data}}[\log D^*_G(x)] + \mathbb{E}_{x \sim p_g}[\log(1 - D^*_G(x))],
# > $$
# >
# > then $p_g$ converges to $p_\text{data}$.
#
# **The argument.** Consider $U(p_g, D) = V(G, D)$ as a function of $p_g$ itself. It is linear, so
# convex, in $p_g$. $C(p_g) = \sup_D U(p_g, D)$ is a supremum of convex functions, hence convex,
# and Theorem 1 says it has a unique global minimum. The derivative of a supremum at a point
# includes the derivative of the function attaining it, here $U(\cdot, D^*_G)$, whose functional
# derivative with respect to $p_g(x)$ is $\log(1 - D^*_G(x))$. So a small enough descent step on
# $p_g$ along that derivative, with $D$ re-optimised each time, is gradient descent on a convex
# function with a unique minimiser, and converges to it.
#
# **Running it.** `ganlib.theory.propositions.proposition2_descent` runs exactly this idealised algorithm on a
# grid: at every step it recomputes $D^*_G$ and moves $p_g$ against the derivative
# $g(x) = \log(1 - D^*_G(x))$. To keep $p_g$ a density the step is multiplicative,
# $p_g \leftarrow p_g\, e^{-\eta g} / Z = p_g^{1-\eta} (p_\text{data} + p_g)^{\eta} / Z$ (mirror
# descent; with $\eta = 1$ it is exactly the mixture $\tfrac12(p_\text{data} + p_g)$, see
# Exercise 3). Below: a bimodal $p_\text{data}$ and a generator that starts as a single Gaussian on
# the wrong side, with $\eta = 0.5$.

# %%
p_bimodal = toy.gaussian_mixture_1d([-2.0, 2.0], [0.5, 0.5]).pdf(x)
p_start = toy.gaussian_1d(4.0, 0.7).pdf(x)
n_steps = 40
p_final, history = propositions.proposition2_descent(p_bimodal, p_start, x, steps=n_steps, lr=0.5)
assert np.all(np.diff(history["C(G)"]) < 0) and history["JSD"].iloc[-1] < 1e-6
print(f"C(G) decreases at every one of the {n_steps} steps: True")
print(f"JSD(p_data || p_g) after {n_steps} steps < 1e-6: {history['JSD'].iloc[-1] < 1e-6}")

# %%
fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(11, 3.8))
ax0.plot(x, p_bimodal, "k", lw=2, label=r"$p_\mathrm{data}$")
for t, color in zip([0, 1, 3, 8, n_steps], plt.cm.viridis(np.linspace(0.0, 0.85, 5))):
    p_t = p_start if t == 0 else propositions.proposition2_descent(p_bimodal, p_start, x, steps=t, lr=0.5)[0]
    ax0.plot(x, p_t, color=color, lw=1.2, label=f"$p_g$ after {t} steps")
ax0.set_xlim(-5, 6.5)
ax0.set_xlabel("$x$")
ax0.legend(fontsize=8)
ax0.set_title(r"$p_g$ updated in function space against $D^*_G$")
ax1.semilogy(history["step"], history["JSD"], "o-", ms=3)
ax1.set_xlabel("step")
ax1.set_ylabel(r"$\mathrm{JSD}(p_\mathrm{data}\,\Vert\,p_g)$ (nats)")
ax1.set_title(r"$C(G) + \log 4 = 2\,\mathrm{JSD} \to 0$")
fig.tight_layout()
plt.show()

# %% [markdown]
# ### What breaks in practice
#
# Every assumption of Proposition 2 fails for the networks of a real GAN, and each failure has a
# visible symptom later in the book.
#
# - **$G$ moves $\theta_g$, not $p_g$.** A network can only reach the densities its parameters can
#   express, and $C$ as a function of $\theta_g$ is not convex: there can be many critical points
#   and no guarantee of reaching the best one. The paper says so itself: "in practice, adversarial
#   nets represent a limited family of $p_g$ distributions via the function $G(z; \theta_g)$". In
#   Exercise 2 the best *Gaussian* $p_g$ for the bimodal data above stays far from $-\log 4$.
# - **$D$ is not optimal.** Algorithm 1 takes $k$ stochastic gradient steps on $D$ (the paper uses
#   $k = 1$), not the inner maximisation, so $G$ follows the gradient of $V(G, D)$ for a $D$ that
#   lags behind $D^*_G$, not the gradient of $C(G)$. Neither player is at a best response, and the
#   pair can cycle instead of converging.
# - **Minibatches.** Both players see noisy estimates of $V$ (chapter 01); the function-space argument
#   has no noise.
# - **The generator's loss is changed.** In practice $G$ maximises $\log D(G(z))$ instead of
#   minimising $\log(1 - D(G(z)))$ (the next chapter): same fixed point, but no longer the descent on
#   $C(G)$ that the proposition analyses.
# - **Disjoint supports flatten $C$.** If $p_g$ and $p_\text{data}$ hardly overlap (narrow
#   densities, or distributions on low-dimensional manifolds as for images), $\mathrm{JSD} \approx \log 2$
#   whatever the distance between them, so $C(G) \approx 0$ is flat and the gradient that
#   Proposition 2 relies on vanishes {cite:p}`arjovsky2017principled,arjovsky2017wgan`. For two
#   narrow Gaussians:

# %%
x_fine = np.linspace(-3.0, 3.0, 12001)
narrow_data = toy.gaussian_1d(0.0, 0.05).pdf(x_fine)
offsets = np.linspace(0.0, 2.0, 41)
c_narrow = [theory.virtual_criterion(narrow_data, toy.gaussian_1d(float(m), 0.05).pdf(x_fine), x_fine) for m in offsets]
w1_narrow = [theory.wasserstein_1(narrow_data, toy.gaussian_1d(float(m), 0.05).pdf(x_fine), x_fine) for m in offsets]
fig, ax = plt.subplots(figsize=(6.5, 3.5))
ax.plot(offsets, c_narrow, "o-", ms=3, label=r"$C(G)$ (left axis)")
ax.axhline(0.0, color="0.5", lw=1, ls=":")
ax.axhline(-math.log(4), color="r", lw=1, ls="--")
ax.set_xlabel(r"distance $\mu$ between $p_\mathrm{data} = \mathcal{N}(0, 0.05^2)$ and $p_g = \mathcal{N}(\mu, 0.05^2)$")
ax.set_ylabel("$C(G)$ (nats)")
ax_w = ax.twinx()
ax_w.plot(offsets, w1_narrow, "C1--", label=r"$W_1(p_\mathrm{data}, p_g)$ (right axis), for contrast")
ax_w.set_ylabel("$W_1$ (units of $x$)")
lines = ax.get_lines()[:1] + ax_w.get_lines()
ax.legend(lines, [line.get_label() for line in lines], fontsize=8, loc="center right")
fig.tight_layout()
plt.show()
flat = [c for m, c in zip(offsets, c_narrow) if m >= 0.5]
print(f"C(G) within 1e-5 of its upper bound 0 for every offset >= 0.5 (10 standard deviations): {max(abs(c) for c in flat) < 1e-5}")

# %% [markdown]
# Beyond a few standard deviations the criterion no longer tells a near miss from a distant
# one: the generator gets no signal about which way to move. The Wasserstein distance, drawn for
# contrast, keeps growing with the distance; that observation is the starting point of the WGAN
# chapter later in the book.
#
# ## Exercises
#
# **Exercise 1 (the range of $C$).** Show that $\mathrm{JSD}(p \Vert q) \le \log 2$ and hence
# $-\log 4 \le C(G) \le 0$, with $C(G) = 0$ exactly when $p_\text{data}$ and $p_g$ have disjoint
# supports. Check the bounds on the family above and on two uniform densities with disjoint supports.
#
# :::{admonition} Solution
# :class: dropdown
# $\mathrm{KL}(p \Vert M) = \mathbb{E}_p[\log \frac{2p}{p + q}] \le \mathbb{E}_p[\log 2] = \log 2$,
# since $\frac{p}{p + q} \le 1$, with equality iff $q = 0$ wherever $p > 0$. The same holds for
# $\mathrm{KL}(q \Vert M)$, so $\mathrm{JSD} \le \log 2$ and $C(G) = -\log 4 + 2\,\mathrm{JSD} \le 0$,
# with equality iff the supports are disjoint (up to sets of measure zero). The lower bound is
# Theorem 1.
# :::

# %% tags=["hide-input"]
assert (table["C(G)"] >= -math.log(4) - 1e-9).all() and (table["C(G)"] <= 0.0).all()
xu = np.linspace(-1.0, 4.0, 5001)
u1 = ((xu >= 0.0) & (xu <= 1.0)).astype(float)
u2 = ((xu >= 2.0) & (xu <= 3.0)).astype(float)
u1, u2 = u1 / simpson(u1, x=xu), u2 / simpson(u2, x=xu)  # uniform densities, integrating to 1 on the grid
assert abs(theory.virtual_criterion(u1, u2, xu)) < 1e-12 and abs(theory.jensen_shannon(u1, u2, xu) - math.log(2)) < 1e-12
print("-log 4 <= C(G) <= 0 on the family; C(G) = 0 and JSD = log 2 for disjoint supports: PASS")

# %% [markdown]
# **Exercise 2 (limited capacity).** Let $p_\text{data}$ be the bimodal density of the Proposition 2
# demonstration, $\tfrac12\mathcal N(-2, 0.5^2) + \tfrac12\mathcal N(2, 0.5^2)$, and restrict $G$ to
# produce Gaussians, $p_g = \mathcal N(\mu, s^2)$ (e.g. $G(z) = \mu + s z$). Find the best $(\mu, s)$
# by a grid search over $C(G)$. How far above $-\log 4$ does it stay, and what does the best
# Gaussian look like?
#
# :::{admonition} Solution
# :class: dropdown
# By symmetry the best Gaussian is centred, $\mu = 0$, and it is wide ($s \approx 2$) so as to cover
# both modes: the JSD, unlike $\mathrm{KL}(p_g \Vert p_\text{data})$, punishes missing a mode as well
# as putting mass between the modes, and the optimum compromises. Its $C(G) \approx -0.98$ stays
# about $0.4$ nats above $-\log 4$: with this $G$ no amount of training reaches the global minimum of
# Theorem 1. That is the first broken assumption of Proposition 2.
# :::

# %% tags=["hide-input"]
grid_mu, grid_s = np.linspace(-2.0, 2.0, 21), np.linspace(0.5, 3.5, 31)
c_grid = np.array([[theory.virtual_criterion(p_bimodal, toy.gaussian_1d(float(m), float(s)).pdf(x), x) for s in grid_s] for m in grid_mu])
i_best, j_best = np.unravel_index(np.argmin(c_grid), c_grid.shape)
best_mu, best_s, best_c = grid_mu[i_best], grid_s[j_best], c_grid[i_best, j_best]
assert abs(best_mu) < 1e-9 and 1.5 < best_s < 2.5 and best_c > -math.log(4) + 0.3
print(f"best Gaussian p_g: mu = {best_mu:.1f}, s = {best_s:.2f}, C(G) = {best_c:.3f} > -log 4 + 0.3: PASS")

# %% [markdown]
# **Exercise 3 (the unit step).** Show that the update of `proposition2_descent` with $\eta = 1$,
# $p_g \leftarrow p_g\,e^{-\log(1 - D^*_G)} / Z$, is exactly $p_g \leftarrow \tfrac12(p_\text{data} + p_g)$.
# What is $p_g$ after $t$ such steps, and why does the JSD go to 0?
#
# :::{admonition} Solution
# :class: dropdown
# $1 - D^*_G = p_g / (p_\text{data} + p_g)$, so $p_g\,e^{-\log(1 - D^*_G)} = p_\text{data} + p_g$, which
# integrates to $Z = 2$: the new $p_g$ is the mixture $M$. By induction
# $p_g^{(t)} = p_\text{data} + 2^{-t}\,(p_g^{(0)} - p_\text{data})$: the distance to the data halves
# at every step, so $p_g^{(t)} \to p_\text{data}$ and, $\mathrm{JSD}$ being continuous, it goes to 0.
# :::

# %% tags=["hide-input"]
t = 6
p_t, hist_t = propositions.proposition2_descent(p_bimodal, p_start, x, steps=t, lr=1.0)
assert np.abs(p_t - (p_bimodal + 2.0**-t * (p_start - p_bimodal))).max() < 1e-9
assert np.all(np.diff(hist_t["JSD"]) < 0)
print(f"after {t} unit steps p_g = p_data + 2^-{t} (p_g0 - p_data), and the JSD fell at every step: PASS")

# %% [markdown]
# ## What's next
#
# Theorem 1 and Proposition 2 describe the minimax game, in which $G$ minimises
# $\log(1 - D(G(z)))$. The paper immediately warns that this objective gives $G$ almost no gradient
# early in training and proposes maximising $\log D(G(z))$ instead. The next chapter measures why.
