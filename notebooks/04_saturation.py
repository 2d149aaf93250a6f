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
# # Saturation: why the generator maximises log D(G(z))
#
# The minimax game of Eq. 1 asks the generator to *minimise* $\log(1 - D(G(z)))$. Right after
# stating it, the paper {cite:p}`goodfellow2014gan` warns that this is not what one should train:
#
# > "In practice, equation 1 may not provide sufficient gradient for $G$ to learn well. Early in
# > learning, when $G$ is poor, $D$ can reject samples with high confidence because they are clearly
# > different from the training data. In this case, $\log(1 - D(G(z)))$ saturates. Rather than
# > training $G$ to minimize $\log(1 - D(G(z)))$ we can train $G$ to maximize $\log D(G(z))$. This
# > objective function results in the same fixed point of the dynamics of $G$ and $D$ but provides
# > much stronger gradients early in learning."
#
# This chapter makes "saturates" precise: it derives the gradient each loss sends back to the
# generator, plots where one of them vanishes, and then races the two losses from the same bad
# start with the same seed, counting the steps each needs to move $p_g$ halfway to
# $p_\text{data}$.

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
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

from ganlib import theory
from ganlib.data import toy
from ganlib.game import losses, registry
from ganlib.recipes import experiments
from ganlib.engine.runtime import describe_run, quick_mode, seed_everything

seed_everything(0)
run_info = describe_run(data_source="analytic 1-D Gaussian p_data = N(0, 1) (no data set)", device="cpu")
print("device=cpu on purpose, on a GPU runtime too: the race trains 1-D networks of a few thousand weights, "
      "and a GPU spends longer launching each step's small kernels than the CPU spends computing them")

# %% [markdown]
# ## Two losses for the generator
#
# Both losses depend on the generator only through $D(G(z))$. In `ganlib.game.losses` they are written
# on the discriminator's logit $\ell$, with $D(G(z)) = \sigma(\ell)$:
#
# | name | $G$ minimises | on the logit | `ganlib.game.losses` |
# |---|---|---|---|
# | saturating (minimax, Eq. 1) | $\mathbb{E}_z\big[\log(1 - D(G(z)))\big]$ | $-\operatorname{softplus}(\ell)$ | `generator_loss_saturating` |
# | non-saturating (Section 3) | $-\mathbb{E}_z\big[\log D(G(z))\big]$ | $\operatorname{softplus}(-\ell)$ | `generator_loss_non_saturating` |
#
# Both push $D(G(z))$ up, and both are stationary at the same place: the game's fixed point
# $p_g = p_\text{data}$, $D = \tfrac12$ is unchanged (Exercise 1). What differs is the *size* of
# the push.
#
# ## Their gradients, as functions of $D(G(z))$
#
# The generator's parameters $\theta_g$ reach the loss through the chain
# $\theta_g \to x = G(z) \to \ell(x) \to D = \sigma(\ell)$, so by the chain rule
#
# $$
# \nabla_{\theta_g} \mathcal L_G
#   = \underbrace{\frac{\partial \mathcal L_G}{\partial \ell}}_{\text{depends only on } D(G(z))}
#     \cdot \frac{\partial \ell}{\partial x} \cdot \frac{\partial G(z)}{\partial \theta_g} .
# $$
#
# The first factor is the only one that differs between the two losses. With
# $\sigma'(\ell) = \sigma(\ell)\,(1 - \sigma(\ell))$:
#
# $$
# \frac{\partial}{\partial \ell} \log\big(1 - \sigma(\ell)\big)
#   = -\frac{\sigma(\ell)\,(1 - \sigma(\ell))}{1 - \sigma(\ell)} = -\sigma(\ell) = -D(G(z)),
# \qquad
# \frac{\partial}{\partial \ell} \Big(-\log \sigma(\ell)\Big)
#   = -\frac{\sigma(\ell)\,(1 - \sigma(\ell))}{\sigma(\ell)} = -\big(1 - D(G(z))\big).
# $$
#
# Early in training $D$ rejects the generated samples, $D(G(z)) \to 0$: the saturating factor goes
# to 0 with it, the non-saturating one goes to $-1$. (Differentiating with respect to $D$ instead of
# the logit hides this: $\partial_D \log(1 - D) = -1/(1 - D)$ does not vanish. The vanishing comes
# from the sigmoid, $\partial D / \partial \ell = D(1 - D)$, and a network computes $\ell$, not $D$.)
#
# `ganlib.game.losses.generator_logit_gradient` is this closed form. Checked against PyTorch's
# autograd through the two loss functions, for logits from $-20$ to $20$
# ($D(G(z))$ from $2 \times 10^{-9}$ to $1 - 2 \times 10^{-9}$):

# %%
logits = torch.linspace(-20.0, 20.0, 401, dtype=torch.float64)
worst = 0.0
for kind in ["saturating", "non_saturating"]:
    ell = logits.clone().requires_grad_()
    registry.get_loss(kind).generator(ell).backward()  # batch mean: each logit gets (1/n) dL/dl
    autograd = ell.grad * len(ell)
    closed = losses.generator_logit_gradient(torch.sigmoid(logits), kind)
    worst = max(worst, (autograd - closed).abs().max().item())
assert worst < 1e-12
print(f"closed-form dL/dl matches autograd for both losses (max difference < 1e-12): {worst < 1e-12}")

# %%
d = torch.logspace(-8, 0, 801, dtype=torch.float64).clamp(max=1 - 1e-12)
grad_sat = losses.generator_logit_gradient(d, "saturating").abs()
grad_ns = losses.generator_logit_gradient(d, "non_saturating").abs()
fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(11, 3.8))
ax0.loglog(d, grad_sat, "r", label=r"saturating: $|\partial_\ell \log(1 - D)| = D$")
ax0.loglog(d, grad_ns, "b", label=r"non-saturating: $|\partial_\ell (-\log D)| = 1 - D$")
ax0.axvspan(1e-8, 1e-2, color="0.92", zorder=0)
ax0.text(2e-8, 2e-2, "early training:\n$D$ rejects $G(z)$", fontsize=8)
ax0.set_xlabel(r"$D(G(z))$")
ax0.set_ylabel(r"$|\partial \mathcal{L}_G / \partial \ell|$ per sample")
ax0.set_ylim(1e-9, 3)
ax0.legend(fontsize=8, loc="lower right")
ax0.set_title("Gradient reaching $G$ through the logit")
ax1.semilogx(d, torch.log1p(-d), "r", label=r"saturating: $\log(1 - D)$, minimised")
ax1.semilogx(d, -torch.log(d), "b", label=r"non-saturating: $-\log D$, minimised")
ax1.axvspan(1e-8, 1e-2, color="0.92", zorder=0)
ax1.set_xlabel(r"$D(G(z))$")
ax1.set_ylabel("loss per sample")
ax1.legend(fontsize=8)
ax1.set_title("The losses: one is flat where the other is steep")
fig.tight_layout()
plt.show()

# %% [markdown]
# On the left, the gradient of the saturating loss is $D(G(z))$ itself: at $D(G(z)) = 10^{-4}$ it
# is $10^{4}$ times smaller than the non-saturating one (Exercise 2). The two gradient curves meet
# at $D = \tfrac12$, where both are $-\tfrac12$. On the right, the reason in terms of the losses:
# as a function of $\log D$, $\log(1 - D)$ is flat near $D = 0$ and $-\log D$ is a straight line
# of slope $-1$.
#
# ## The race: same seed, poor start, two losses
#
# Now the dynamics. `ganlib.recipes.experiments.race_generator_losses` trains a 1-D GAN with the training
# engine `ganlib.engine.loop.Trainer` (Algorithm 1, $k = 1$), once per generator loss, with everything
# else identical:
#
# - data $p_\text{data} = \mathcal N(0, 1)$ (20,000 samples);
# - an affine generator $G(z) = a + b z$, $z \sim \mathcal N(0, 1)$, so $p_g = \mathcal N(a, b^2)$
#   and the mean of $p_g$ is $a$. It starts at $a = -6$, $b = 0.5$: six data standard deviations
#   away;
# - the **poor start**: before the race, $D$ (an MLP with two hidden layers of 32 units) is trained
#   against this initial $G$, as in the previous chapters, so that it rejects the generated
#   samples with high confidence, exactly the situation the paper describes;
# - the paper's optimiser, SGD with momentum 0.5, learning rate 0.05 for both players, minibatches
#   of 256; the same seed for both runs.
#
# We record the mean of $p_g$ after every step and count the steps until it has covered half the
# distance to the data's mean ($|a - 0| \le 3$; `ganlib.recipes.experiments.steps_to_halfway`).

# %% tags=["nbval-ignore-output"]
steps = 300 if quick_mode() else 3000
p_data = toy.gaussian_1d(0.0, 1.0)
t0 = time.perf_counter()
history, summary = experiments.race_generator_losses(p_data, start_mean=-6.0, start_std=0.5, steps=steps, seed=0)
print(f"{steps} steps per loss, {time.perf_counter() - t0:.1f} s")
start_d = history[history["step"] == 1].set_index("loss")["d_fake"]
print(f"D(G(z)) at the start: {start_d['saturating']:.1e} (the same in both runs)")
summary

# %% [markdown]
# The checks, in words that hold for any budget: the non-saturating generator gets halfway within
# a few dozen steps, and the saturating one needs at least 20 times as many, or does not get there
# within the budget at all.

# %%
s = summary.set_index("loss")["steps_to_halfway"]
ns_steps, sat_steps = s["non_saturating"], s["saturating"]
ns_fast = not pd.isna(ns_steps) and ns_steps <= 50
sat_slow = pd.isna(sat_steps) or sat_steps >= 20 * ns_steps
assert ns_fast and sat_slow
print(f"non-saturating loss: p_g's mean halfway to p_data's within 50 steps: {ns_fast}")
print(f"saturating loss: at least 20x as many steps, or stalled within the budget: {sat_slow}")

# %%
fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(11, 3.8))
colors = {"saturating": "r", "non_saturating": "b"}
for loss_name, run in history.groupby("loss", sort=False):
    ax0.plot(run["step"], run["mean_g"], color=colors[loss_name], label=loss_name.replace("_", "-"))
    ax1.plot(run["step"], run["d_fake"], color=colors[loss_name], lw=0.8, label=loss_name.replace("_", "-"))
ax0.axhline(-3.0, color="k", ls=":", lw=1, label="halfway")
ax0.axhline(0.0, color="k", lw=1, label=r"mean of $p_\mathrm{data}$")
ax0.set_xscale("log")
ax0.set_xlabel("step (log scale)")
ax0.set_ylabel(r"mean of $p_g$")
ax0.legend(fontsize=8)
ax0.set_title(r"$p_g$'s mean from $-6$ towards 0")
ax1.set_xscale("log")
ax1.set_yscale("log")
ax1.axhline(0.5, color="k", ls="--", lw=0.8)
ax1.set_xlabel("step (log scale)")
ax1.set_ylabel(r"mean $D(G(z))$ on the batch")
ax1.legend(fontsize=8)
ax1.set_title(r"$D(G(z))$: the saturating factor")
fig.tight_layout()
plt.show()

# %% [markdown]
# Read the right panel as the left panel's cause. Both runs start with $D(G(z)) = 2.0 \cdot 10^{-4}$
# (printed above).
# The non-saturating generator receives a gradient factor near $-1$, jumps to the data within a few
# steps, and $D(G(z))$ rises to the equilibrium value $\tfrac12$. The saturating generator receives
# a factor equal to $D(G(z)) \approx 2 \cdot 10^{-4}$: its mean barely moves for hundreds of steps, while the
# discriminator keeps rejecting its samples, which keeps the factor small. In the default-mode run
# (3,000 steps) its small steps do eventually bring the samples to where $D$ is less certain, and
# then it catches up; in the quick-mode budget (300 steps) it never leaves the plateau. Either way,
# the same seed, the same networks and the same data take one to two orders of magnitude more steps.
# {cite:t}`arjovsky2017principled` analyse this regime in general: as the discriminator approaches
# optimality on nearly disjoint supports, the saturating generator's gradient goes to zero.
#
# The measured step counts of the run shown:

# %% tags=["nbval-ignore-output"]
for loss_name, n in s.items():
    print(f"{loss_name:>15}: " + (f"halfway after {n} steps" if not pd.isna(n) else f"not halfway after {steps} steps (stalled)"))

# %% [markdown]
# The paper's remedy does not change what the game is *about*: with an optimal discriminator both
# generators are pushed towards $p_\text{data}$, and the fixed point is the same. It changes how
# hard the push is when the generator is bad, which is when it matters. (It also changes the
# objective away from the fixed point, so Proposition 2's convergence argument, which is about the
# minimax $C(G)$, no longer applies to it as stated.)
#
# ## Exercises
#
# **Exercise 1 (same fixed point).** Show that at the game's fixed point, $p_g = p_\text{data}$ and
# $D = D^*_G = \tfrac12$, the two per-sample logit gradients are equal. More generally, show that
# with an optimal discriminator the ratio of the two factors is
# $\frac{1 - D^*_G(x)}{D^*_G(x)} = \frac{p_g(x)}{p_\text{data}(x)}$.
#
# :::{admonition} Solution
# :class: dropdown
# At $D = \tfrac12$ both factors are $-\tfrac12$. With $D = D^*_G = p_\text{data}/(p_\text{data} + p_g)$,
# $1 - D^*_G = p_g/(p_\text{data} + p_g)$, so the ratio is $p_g/p_\text{data}$: where the
# generator puts too much mass relative to the data, the non-saturating loss pushes harder, and
# where the two densities agree the factors agree. The cell checks both statements with
# `ganlib.theory.optimal_discriminator`.
# :::

# %% tags=["hide-input"]
half = torch.tensor([0.5], dtype=torch.float64)
assert losses.generator_logit_gradient(half, "saturating") == losses.generator_logit_gradient(half, "non_saturating") == -0.5
xs = np.linspace(-3.0, 3.0, 61)
pd_x, pg_x = p_data.pdf(xs), toy.gaussian_1d(1.0, 0.8).pdf(xs)
d_star = torch.from_numpy(theory.optimal_discriminator(pd_x, pg_x))
ratio = losses.generator_logit_gradient(d_star, "non_saturating") / losses.generator_logit_gradient(d_star, "saturating")
assert np.allclose(ratio.numpy(), pg_x / pd_x, rtol=1e-10)
print("equal factors at D = 1/2; ratio (1 - D*)/D* = p_g/p_data: PASS")

# %% [markdown]
# **Exercise 2 (how much weaker?).** Show that the ratio of the saturating to the non-saturating
# logit gradient is $e^{\ell}$, with $\ell$ the logit of $D(G(z))$. How many times weaker is the
# saturating gradient when $D(G(z)) = 2 \cdot 10^{-4}$, the value at the start of the race?
#
# :::{admonition} Solution
# :class: dropdown
# $\frac{\sigma(\ell)}{1 - \sigma(\ell)} = \frac{1/(1 + e^{-\ell})}{e^{-\ell}/(1 + e^{-\ell})} = e^{\ell}$,
# the odds of $D(G(z))$. At $D = 2 \cdot 10^{-4}$ the odds are $2 \cdot 10^{-4}/(1 - 2 \cdot 10^{-4})
# \approx 2 \cdot 10^{-4}$, so the saturating gradient is about 5,000 times weaker. With SGD the step size scales with the
# gradient, which is why the saturating run crawls.
# :::

# %% tags=["hide-input"]
ell = torch.linspace(-15.0, 15.0, 31, dtype=torch.float64)
ratio = losses.generator_logit_gradient(torch.sigmoid(ell), "saturating") / losses.generator_logit_gradient(torch.sigmoid(ell), "non_saturating")
assert torch.allclose(ratio, torch.exp(ell), rtol=1e-9)
d_start = torch.tensor([2e-4], dtype=torch.float64)
weaker = (losses.generator_logit_gradient(d_start, "non_saturating") / losses.generator_logit_gradient(d_start, "saturating")).item()
assert 4_900 < weaker < 5_000
print(f"ratio = exp(logit); at D(G(z)) = 2e-4 the saturating gradient is {weaker:,.0f} times weaker: PASS")

# %% [markdown]
# **Exercise 3 (Adam hides it).** Repeat the race with Adam (learning rate 0.01,
# $\beta = (0.5, 0.999)$, the usual GAN setting) instead of SGD, for 1,000 steps. Does the saturating
# generator still stall? Why, or why not?
#
# :::{admonition} Solution
# :class: dropdown
# It does not stall: with Adam the saturating run gets halfway in a few hundred steps, about as fast
# as the non-saturating one. Adam {cite:p}`kingma2015adam` divides each parameter's update by a running root mean square
# of its gradient, so a gradient that is consistently $10^{4}$ times smaller, but of a steady sign,
# still produces steps of size about the learning rate. The saturation is still there in the
# gradient; the optimiser rescales it away. This is one reason the problem is less visible in
# modern code than in 2014, when GANs were trained with SGD and momentum; it comes back with
# plain SGD, or whenever the tiny gradient is drowned by noise. (The budget here is fixed, the same
# in quick and default mode.)
# :::

# %% tags=["hide-input"]
_, adam_summary = experiments.race_generator_losses(
    p_data, start_mean=-6.0, start_std=0.5, steps=1000, optimizer="Adam",
    optimizer_kwargs={"betas": (0.5, 0.999)}, lr=0.01, seed=0,
)
adam = adam_summary.set_index("loss")["steps_to_halfway"]
assert not pd.isna(adam["saturating"]) and adam["saturating"] < 2 * adam["non_saturating"]
print("with Adam the saturating generator reaches halfway, within 2x the non-saturating steps: PASS")

# %% tags=["hide-input", "nbval-ignore-output"]
print(f"Adam: steps to halfway: saturating {adam['saturating']}, non-saturating {adam['non_saturating']}")

# %% [markdown]
# ## What's next
#
# The theory chapters end here: the game (chapter 01), its best discriminator (Proposition 1), the
# divergence the generator minimises against it (Theorem 1), and the loss the generator actually
# uses. The next part of the book watches the game being played, starting with the paper's
# Figure 1 on a 1-D toy.
