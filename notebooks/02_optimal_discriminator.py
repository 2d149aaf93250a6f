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
# # The optimal discriminator (Proposition 1)
#
# The previous chapter fixed $G$ and $D$ by hand and computed the value $V(G, D)$. The first step of
# the paper's theory {cite:p}`goodfellow2014gan` is to fix only $G$ and ask which discriminator
# wins the inner game $\max_D V(G, D)$. The answer is a formula:
#
# > **Proposition 1.** For $G$ fixed, the optimal discriminator $D$ is
# >
# > $$
# > D^*_G(x) = \frac{p_\text{data}(x)}{p_\text{data}(x) + p_g(x)} . \qquad \text{(Eq. 2)}
# > $$
#
# This chapter derives it line by line, then checks it the hard way: a discriminator *network* is
# trained with `ganlib` on samples of a fixed $p_\text{data}$ and a fixed $p_g$, exactly as in the
# inner loop of Algorithm 1, and the curve it learns is compared with Eq. 2.

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
import torch
from IPython.display import HTML, display
from scipy.integrate import simpson

from ganlib import theory
from ganlib.data import toy
from ganlib.game import losses
from ganlib.recipes import experiments
from ganlib.theory import propositions
from ganlib import viz
from ganlib.viz import explorer
from ganlib.engine.runtime import describe_run, quick_mode, seed_everything

seed_everything(0)
run_info = describe_run(data_source="analytic 1-D Gaussians and mixtures (no data set)", device="cpu")
print("device=cpu on purpose, on a GPU runtime too: the discriminators fitted here have a few thousand "
      "weights, and a GPU spends longer launching each step's small kernels than the CPU spends computing "
      "them")

# %% [markdown]
# ## The derivation
#
# **Step 1: write $V$ as one integral over $x$.** The generator enters Eq. 1 only through the
# distribution of $G(z)$. Changing variables $x = G(z)$ in the second expectation,
# $\mathbb{E}_{z \sim p_z}[\log(1 - D(G(z)))] = \mathbb{E}_{x \sim p_g}[\log(1 - D(x))]$, so
#
# $$
# V(G, D) = \int_x p_\text{data}(x) \log D(x)\, dx + \int_z p_z(z) \log\big(1 - D(G(z))\big)\, dz
#         = \int_x \Big[ p_\text{data}(x) \log D(x) + p_g(x) \log\big(1 - D(x)\big) \Big] dx .
#         \qquad \text{(Eq. 3)}
# $$
#
# **Step 2: maximise pointwise.** $D$ is any function $x \mapsto (0, 1)$, and the integrand at a
# point $x$ involves only the single number $y = D(x)$. So the integral is maximised by
# maximising the integrand separately at every $x$. Write $a = p_\text{data}(x) \ge 0$ and
# $b = p_g(x) \ge 0$, and consider
#
# $$
# f(y) = a \log y + b \log(1 - y), \qquad y \in (0, 1).
# $$
#
# **Step 3: the scalar problem.** If $(a, b) \ne (0, 0)$:
#
# $$
# f'(y) = \frac{a}{y} - \frac{b}{1 - y} = 0
# \iff a(1 - y) = b y
# \iff y = \frac{a}{a + b},
# \qquad
# f''(y) = -\frac{a}{y^2} - \frac{b}{(1 - y)^2} < 0 .
# $$
#
# $f$ is strictly concave, so this stationary point is its unique maximum on $(0, 1)$ (when $a$ or
# $b$ is 0 the maximum moves to the boundary, $y = 1$ or $y = 0$, which the formula still gives).
#
# **Step 4: put $x$ back.** $D^*_G(x) = a / (a + b) = p_\text{data}(x) / (p_\text{data}(x) + p_g(x))$:
# Eq. 2. The argument needs $a + b > 0$; outside $\operatorname{supp}(p_\text{data}) \cup
# \operatorname{supp}(p_g)$ the integrand is 0 whatever $D$ does, so $D^*_G$ is only defined on
# the union of the supports (the paper's phrase "$D$ ... is defined on
# $\operatorname{Supp}(p_\text{data}) \cup \operatorname{Supp}(p_g)$"). `ganlib.theory.optimal_discriminator`
# returns $\tfrac12$ there.
#
# **A consequence.** If $p_g = p_\text{data}$, then $a = b$ at every $x$ and
# $D^*_G(x) = \tfrac12$ everywhere: the best discriminator is a coin flip.
#
# Before any network, the scalar claim of Step 3, checked by brute force: maximise $f$ over a fine
# grid of $y$ for several $(a, b)$ and compare the arg max with $a / (a + b)$.

# %%
y = np.linspace(1e-6, 1 - 1e-6, 200_001)
pairs = [(1.0, 1.0), (2.0, 1.0), (0.3, 1.2), (0.05, 0.4), (3.0, 0.01)]
fig, ax = plt.subplots(figsize=(6.5, 3.6))
worst = 0.0
for a, b in pairs:
    f = a * np.log(y) + b * np.log1p(-y)
    y_best = y[np.argmax(f)]
    y_formula = theory.optimal_discriminator(np.array([a]), np.array([b]))[0]
    worst = max(worst, abs(y_best - y_formula))
    ax.plot(y, f - f.max(), label=f"$a={a:g},\\ b={b:g}$")
    ax.plot(y_formula, 0.0, "k|", ms=12)
ax.set_ylim(-3, 0.3)
ax.set_xlabel("$y = D(x)$")
ax.set_ylabel(r"$f(y) - \max f$")
ax.set_title(r"$f(y) = a\log y + b\log(1-y)$ peaks at $a/(a+b)$ (ticks)")
ax.legend(fontsize=8, loc="lower center", ncol=3)
fig.tight_layout()
plt.show()
print(f"brute-force arg max agrees with a/(a+b) to the y-grid spacing (< 1e-5): {worst < 1e-5}")

# %% [markdown]
# ## A network learns $D^*_G$
#
# Now the real test. The data are $p_\text{data} = \mathcal N(0, 1)$, and $G$ is frozen, so $p_g$
# is a fixed distribution we can sample. We take three generators:
#
# 1. a Gaussian $p_g = \mathcal N(1.5, 0.7^2)$: narrower than the data, so $D^*_G$ is not
#    monotone (it rises again in both tails, where $p_\text{data}$ has more mass than $p_g$);
# 2. a bimodal $p_g = \tfrac12\mathcal N(-1.5, 0.6^2) + \tfrac12\mathcal N(2, 0.6^2)$: $D^*_G$
#    has two dips, one under each mode;
# 3. $p_g = p_\text{data}$: Proposition 1 predicts $D^*_G \equiv \tfrac12$.
#
# For each, `ganlib.recipes.experiments.fit_discriminator` trains `ganlib.nets.models.MLPDiscriminator` (two hidden
# layers of 64 units) by Algorithm 1's discriminator step alone: fresh minibatches of real and
# generated points, Adam on `ganlib.game.losses.discriminator_loss` $= -\hat V$. The network knows
# nothing about densities; it only sees samples.
#
# **What "close to $D^*_G$" means.** Far in the tails neither density puts mass, so no finite
# sample constrains $D$ there (Eq. 3 weighs $D(x)$ by $p_\text{data}(x)$ and $p_g(x)$). We therefore
# measure the error on the central region carrying 99 % of the mixture
# $\tfrac12(p_\text{data} + p_g)$, between its 0.5 % and 99.5 % quantiles
# (`ganlib.theory.propositions.central_region`):
#
# $$
# \operatorname{err}(D) = \max_{x \in R_{0.99}} \big| D(x) - D^*_G(x) \big| ,
# $$
#
# and the chapter asserts $\operatorname{err}(D) < 0.05$ for each of the three networks.

# %% tags=["nbval-ignore-output"]
x = np.linspace(-8.0, 9.0, 3401)
p_data = toy.gaussian_1d(0.0, 1.0)
generators = {
    "Gaussian p_g": toy.gaussian_1d(1.5, 0.7),
    "bimodal p_g": toy.gaussian_mixture_1d([-1.5, 2.0], [0.6, 0.6]),
    "p_g = p_data": toy.gaussian_1d(0.0, 1.0),
}
titles = {
    "Gaussian p_g": r"$p_g = \mathcal{N}(1.5, 0.7^2)$",
    "bimodal p_g": r"$p_g = \frac{1}{2}\mathcal{N}(-1.5, 0.6^2) + \frac{1}{2}\mathcal{N}(2, 0.6^2)$",
    "p_g = p_data": r"$p_g = p_\mathrm{data} = \mathcal{N}(0, 1)$",
}
steps, batch_size = (1500, 512) if quick_mode() else (4000, 2048)
gen = torch.Generator().manual_seed(2)
pdf_data = p_data.pdf(x)
results = {}
for name, p_g in generators.items():
    t0 = time.perf_counter()
    net = experiments.fit_discriminator(p_data, p_g, steps=steps, batch_size=batch_size, generator=gen)
    pdf_g = p_g.pdf(x)
    logits = theory.discriminator_curve(net, x, logits=True)
    results[name] = {
        "pdf_g": pdf_g,
        "d": theory.discriminator_curve(net, x),
        "d_star": theory.optimal_discriminator(pdf_data, pdf_g),
        "region": propositions.central_region(pdf_data, pdf_g, x),
        "err": propositions.discriminator_error(theory.discriminator_curve(net, x), pdf_data, pdf_g, x, mass=0.99),
        "v": theory.value_function_logits(logits, pdf_data, pdf_g, x),
        "c": theory.virtual_criterion(pdf_data, pdf_g, x),
    }
    r = results[name]
    print(
        f"{name:<13} steps={steps} m={batch_size}: max|D - D*| on the 99 % region = {r['err']:.4f}, "
        f"V(G, D) = {r['v']:.5f} vs C(G) = V(G, D*) = {r['c']:.5f}  ({time.perf_counter() - t0:.1f} s)"
    )

# %% [markdown]
# The check (mode-independent output: it prints `True` in quick and default mode alike):

# %%
for name, r in results.items():
    assert r["err"] < 0.05, f"{name}: max |D - D*| = {r['err']:.4f}"
    print(f"max |D - D*| < 0.05 on the 99 % region: {r['err'] < 0.05}   ({name})")

# %%
fig, axes = plt.subplots(2, 3, figsize=(13, 6.5), sharex=True, gridspec_kw={"height_ratios": [2.2, 1]})
for (name, r), top, bottom in zip(results.items(), axes[0], axes[1]):
    lo, hi = x[r["region"]][0], x[r["region"]][-1]
    for ax in (top, bottom):
        ax.axvspan(lo, hi, color="0.93", zorder=0)
    top.plot(x, pdf_data, "k", lw=1, label=r"$p_\mathrm{data}$")
    top.plot(x, r["pdf_g"], "g", lw=1, label=r"$p_g$")
    top.plot(x, r["d_star"], "b", lw=2.5, alpha=0.35, label=r"$D^*_G$ (Eq. 2)")
    top.plot(x, r["d"], "b--", lw=1.2, label="trained $D$")
    top.set_ylim(-0.02, 1.02)
    top.set_title(titles[name], fontsize=10)
    bottom.plot(x, np.abs(r["d"] - r["d_star"]), "r", lw=1)
    bottom.axhline(0.05, color="k", ls=":", lw=1)
    bottom.set_ylim(0, 0.1)
    bottom.set_xlim(-4.5, 5)
    bottom.set_xlabel("$x$")
axes[0, 0].legend(fontsize=8, loc="center left")
axes[1, 0].set_ylabel(r"$|D - D^*_G|$")
axes[1, 0].text(-4.3, 0.055, "tolerance 0.05", fontsize=8)
fig.suptitle("A discriminator trained on samples recovers $D^*_G$ (grey: region with 99 % of the mass)")
fig.tight_layout()
plt.show()

# %% [markdown]
# The trained curves lie on top of Eq. 2 inside the shaded region; the error panel shows where the
# remaining discrepancy lives: near the edges of the region, where few samples fall and $D^*_G$
# changes fastest. Outside the region the network extrapolates freely, which is why the check
# stops at the region's edge.
#
# Two more things to read off the run above.
#
# - **$V(G, D) \le C(G)$.** Each trained $D$ reaches a value $V(G, D)$ just below
#   $C(G) = V(G, D^*_G)$, the maximum over *all* functions $D$ (next chapter). No network can
#   exceed it; the gap is second order in the error $D - D^*_G$, because $D^*_G$ is a maximum.
# - **$D^*_G = \tfrac12$ at $p_g = p_\text{data}$.** In the third panel the network hovers at
#   $\tfrac12$: it cannot tell real from generated points, because there is nothing to tell. The
#   analytic statement and the learned one, checked:

# %%
assert all(r["v"] <= r["c"] for r in results.values())
print("V(G, D) <= C(G) = V(G, D*_G) for every trained D: True")
same = results["p_g = p_data"]
assert np.all(same["d_star"] == 0.5)
print(f"analytic D*_G == 1/2 exactly at every grid point when p_g = p_data: {bool(np.all(same['d_star'] == 0.5))}")
print(f"trained D within 0.05 of 1/2 on the 99 % region: {np.abs(same['d'][same['region']] - 0.5).max() < 0.05}")

# %% [markdown]
# ## A finite training set: $D$ learns the sample, not $D^*_G$
#
# Proposition 1 is about expectations: $D^*_G$ maximises $V(G, D)$, an integral against the true
# densities. Every network above saw fresh samples at each step, so it was, in effect, fitting that
# integral. A discriminator trained again and again on one *fixed*, small sample maximises
# something else, the empirical value on those points, and with enough capacity it can push that
# above anything attainable in expectation by memorising which points are real. Here the same
# network trains for the same number of steps on 40 draws from $p_\text{data}$ and 40 from the
# Gaussian $p_g$ above (`fit_discriminator(..., fixed_sample=...)`), and we compare it with
# $D^*_G$ of the true densities and with $D^*$ of the *empirical* distributions (kernel density
# estimates of the 40 + 40 points, bandwidth 0.2).

# %% tags=["nbval-ignore-output"]
p_gauss = generators["Gaussian p_g"]
gen_small = torch.Generator().manual_seed(3)
small = (p_data.sample(40, generator=gen_small), p_gauss.sample(40, generator=gen_small))
net_small = experiments.fit_discriminator(p_data, p_gauss, steps=steps, generator=torch.Generator().manual_seed(4),
                                          fixed_sample=small)
d_small = theory.discriminator_curve(net_small, x)
with torch.no_grad():
    v_train = losses.value_function(net_small(small[0]), net_small(small[1])).item()  # on its 80 points
fresh = results["Gaussian p_g"]
v_true = theory.value_function_logits(theory.discriminator_curve(net_small, x, logits=True), pdf_data, fresh["pdf_g"], x)
kde = {k: theory.kde_pdf(t.numpy().ravel(), x, bandwidth=0.2) for k, t in zip(("data", "g"), small)}
d_empirical = theory.optimal_discriminator(kde["data"], kde["g"])
err_small = propositions.discriminator_error(d_small, pdf_data, fresh["pdf_g"], x, mass=0.99)
region = fresh["region"]
print(f"D on fresh minibatches: max|D - D*| = {fresh['err']:.4f}, V(G, D) = {fresh['v']:.4f} (true densities)")
print(f"D on 40 + 40 fixed points: max|D - D*| = {err_small:.4f}, V(G, D) = {v_true:.4f} (true densities), "
      f"empirical V on its own points = {v_train:.4f}")
print(f"C(G) = max_D V(G, D) = {fresh['c']:.4f};  max|D - D* of the empirical densities| = "
      f"{np.abs(d_small - d_empirical)[region].max():.4f}")
assert v_train > fresh["c"] > fresh["v"] > v_true
print("the fixed-sample D beats C(G) on its own points and loses to D* on the true densities: PASS")

# %%
fig, ax = plt.subplots(figsize=(9, 3.6))
ax.plot(x, pdf_data, "k", lw=1, label=r"$p_\mathrm{data}$")
ax.plot(x, fresh["pdf_g"], "g", lw=1, label=r"$p_g$")
ax.plot(x, fresh["d_star"], "b", lw=2.5, label=r"$D^*_G$ (true densities)")
ax.plot(x, fresh["d"], "c--", lw=1.5, label="D, fresh minibatches")
ax.plot(x, d_empirical, ":", color="0.4", lw=1.5, label=r"$D^*$ of the empirical densities")
ax.plot(x, d_small, "r", lw=1.5, label="D, 40 + 40 fixed points")
ax.plot(small[0].numpy().ravel(), np.full(40, 1.03), "k|", ms=8)
ax.plot(small[1].numpy().ravel(), np.full(40, -0.03), "g|", ms=8)
ax.set_xlim(-3.5, 4.0)
ax.set_ylim(-0.08, 1.08)
ax.set_xlabel("$x$")
ax.set_title("the training points: real at the top, generated at the bottom", fontsize=9)
ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
fig.tight_layout()
plt.show()

# %% [markdown]
# The network trained on fresh minibatches lies on $D^*_G$ (largest error 0.0039). The one trained
# on the 80 fixed points does not (0.526): its curve has narrow peaks at single real points that
# fall among the generated ones (near $x \approx 0.95$ and $x \approx 2$) and dips at generated
# points among the real ones (near $x \approx -0.6$ and $-0.1$). Nor is it $D^*$ of a smooth
# density estimate of the sample (0.477 from the dotted curve): it separates the very points it
# saw. On those points its empirical value is $-0.472$, above $C(G) = -0.811$, the most any $D$
# can reach in expectation; under the true densities its value is $-1.479$, far below $C(G)$.
# Proposition 1 and Theorem 1 assume the $D$ of the expectation. With a small data set a
# discriminator can drift towards the memorising kind instead, which is the problem that
# augmenting $D$'s inputs (DiffAugment, used by `python -m ganlib train --preset mnist`) addresses
# {cite:p}`zhao2020diffaugment`.

# %% [markdown]
# ## Explore: move $p_g$ and watch $D^*_G$, $V$ and the JSD
#
# With $p_\text{data} = \mathcal N(0, 1)$ fixed, the sliders below move a Gaussian
# $p_g = \mathcal N(\mu_g, s_g^2)$. The plot redraws $D^*_G$, and the line under it reports
# $V(G, D^*_G) = C(G)$ and the Jensen–Shannon divergence $\mathrm{JSD}(p_\text{data} \Vert p_g)$,
# both by quadrature (`ganlib.theory`). Watch $C(G)$ fall to $-\log 4 \approx -1.386$ and the JSD
# to 0 as $p_g$ approaches $p_\text{data}$: the theorem of the next chapter.
#
# The sliders work on the published page as well as in a running notebook: `ganlib.viz.explorer`
# computed every one of the 150 frames (25 means, 6 standard deviations) when this notebook ran,
# and the page's script only shows the frame of the sliders' position.

# %% tags=["nbval-ignore-output"]
frames = explorer.discriminator_frames(means=np.round(np.arange(-3.0, 3.01, 0.25), 2),
                                       stds=[0.3, 0.5, 0.7, 1.0, 1.5, 2.5], data=p_data, n_plot=121)
at_data = frames["frames"][frames["means"].index(0.0)][frames["stds"].index(1.0)]  # p_g = p_data
assert abs(at_data["c"] + np.log(4)) < 1e-6 and at_data["jsd"] < 1e-9 and set(at_data["d_star"]) == {0.5}
display(HTML(explorer.explorer_html(frames, mean=1.5, std=0.7)))

# %% [markdown]
# Six of those settings side by side, from far away to $p_g = p_\text{data}$ (bottom right, where
# $D^*_G \equiv \tfrac12$, $C(G) = -\log 4$ and the JSD is 0).

# %%
settings = [(3.0, 0.7), (1.5, 0.7), (1.5, 1.5), (0.5, 2.5), (0.5, 1.0), (0.0, 1.0)]
fig, axes = plt.subplots(2, 3, figsize=(12, 5.5), sharex=True, sharey=True)
for ax, (mean_g, std_g) in zip(axes.flat, settings):  # one frame of the explorer each, drawn finer
    viz.plot_discriminator_frame(ax, explorer.discriminator_frames([mean_g], [std_g], data=p_data, n_plot=901))
axes[0, 0].legend(fontsize=8, loc="upper left")
fig.tight_layout()
plt.show()

# %% [markdown]
# Where $p_g$ has more mass than $p_\text{data}$, $D^*_G < \tfrac12$ (the discriminator votes
# "generated"); where it has less, $D^*_G > \tfrac12$. A wider $p_g$ than the data (third and fourth
# panels) makes $D^*_G$ dip in both tails; a narrower one makes it rise there.
#
# ## Exercises
#
# **Exercise 1 (unequal class weights).** Suppose the discriminator is trained with $\lambda$ times
# as much weight on generated samples, i.e. it maximises
# $V_\lambda(G, D) = \mathbb{E}_{p_\text{data}}[\log D(x)] + \lambda\,\mathbb{E}_{p_g}[\log(1 - D(x))]$
# (for example, minibatches with $\lambda m$ generated and $m$ real points, summed rather than
# averaged). Show that the maximiser is $D^*_\lambda(x) = p_\text{data}(x) / (p_\text{data}(x) + \lambda p_g(x))$.
#
# :::{admonition} Solution
# :class: dropdown
# Steps 1–3 are unchanged with $b = \lambda p_g(x)$: the integrand is $a \log y + b \log(1-y)$,
# maximised at $y = a / (a + b) = p_\text{data} / (p_\text{data} + \lambda p_g)$. So $D^*_\lambda$ is
# Eq. 2 with $p_g$ replaced by $\lambda p_g$, which is what `theory.optimal_discriminator(p_data, lam * p_g)` computes (the
# function does not require its inputs to be normalised). The cell below maximises the integrand
# by brute force at several points $x$ and compares.
# :::

# %% tags=["hide-input"]
lam = 3.0
pdf_g1 = generators["Gaussian p_g"].pdf(x)
idx = np.searchsorted(x, [-2.0, -0.5, 0.7, 1.5, 2.5])
brute = np.array([y[np.argmax(pdf_data[i] * np.log(y) + lam * pdf_g1[i] * np.log1p(-y))] for i in idx])
formula = theory.optimal_discriminator(pdf_data, lam * pdf_g1)[idx]
assert np.abs(brute - formula).max() < 1e-5
print(f"D*_lambda = p_data / (p_data + {lam:g} p_g) matches the brute-force maximiser: PASS")

# %% [markdown]
# **Exercise 2 (when is $D^*_G$ a logistic regression?).** Write $D^*_G = \sigma(\ell^*)$ and show
# that $\ell^*(x) = \log p_\text{data}(x) - \log p_g(x)$. For $p_\text{data} = \mathcal N(0, 1)$ and
# $p_g = \mathcal N(\mu, 1)$, find $w$ and $c$ with $D^*_G(x) = \sigma(w x + c)$. Why did this chapter
# need a network with hidden layers for $p_g = \mathcal N(1.5, 0.7^2)$?
#
# :::{admonition} Solution
# :class: dropdown
# $\sigma(\ell) = 1/(1 + e^{-\ell})$ and $D^*_G = 1/(1 + p_g/p_\text{data})$, so
# $e^{-\ell^*} = p_g / p_\text{data}$, i.e. $\ell^* = \log p_\text{data} - \log p_g$: the optimal
# logit is the log density ratio. For equal variances,
# $\ell^*(x) = -\tfrac{x^2}{2} + \tfrac{(x - \mu)^2}{2} = -\mu x + \tfrac{\mu^2}{2}$, so $w = -\mu$,
# $c = \mu^2/2$, and a logistic regression represents $D^*_G$ exactly. With unequal variances the
# log ratio has an $x^2$ term, $D^*_G$ is not monotone, and no $\sigma(wx + c)$ can match it (chapter
# 01's sweep of logistic discriminators stayed below $C(G)$ for that reason); a hidden layer can.
# :::

# %% tags=["hide-input"]
mu = 1.5
d_star_equal_var = theory.optimal_discriminator(pdf_data, toy.gaussian_1d(mu, 1.0).pdf(x))
logistic = 1.0 / (1.0 + np.exp(-(-mu * x + mu**2 / 2)))
inside = propositions.central_region(pdf_data, toy.gaussian_1d(mu, 1.0).pdf(x), x)
assert np.abs(logistic - d_star_equal_var)[inside].max() < 1e-5
print("D*_G = sigma(-mu x + mu^2 / 2) for p_g = N(mu, 1): PASS")

# %% [markdown]
# **Exercise 3 (outside the supports).** Take $p_\text{data}$ uniform on $[0, 1]$ and $p_g$ uniform on
# $[2, 3]$. What is $D^*_G$ on each interval, and what is it on $(1, 2)$? Show that changing $D$ on
# $(1, 2)$ does not change $V(G, D)$.
#
# :::{admonition} Solution
# :class: dropdown
# On $[0, 1]$, $a > 0 = b$, so $D^*_G = 1$; on $[2, 3]$, $D^*_G = 0$. On $(1, 2)$ both densities vanish,
# the integrand of Eq. 3 is $0 \cdot \log D + 0 \cdot \log(1 - D) = 0$ whatever $D$ is, and $D^*_G$ is
# not determined: Proposition 1 only speaks about the union of the supports. (Here $V(G, D^*_G) = 0$,
# the largest value $V$ can take: the supports are disjoint, and the next chapter shows this is
# where the JSD reaches $\log 2$.)
# :::

# %% tags=["hide-input"]
xu = np.linspace(-0.5, 3.5, 4001)
u_data = ((xu >= 0) & (xu <= 1)).astype(float)
u_g = ((xu >= 2) & (xu <= 3)).astype(float)
u_data, u_g = u_data / simpson(u_data, x=xu), u_g / simpson(u_g, x=xu)  # integrate to 1 by Simpson's rule
d_u = theory.optimal_discriminator(u_data, u_g)
gap = (xu > 1.0) & (xu < 2.0)
d_other = np.where(gap, 0.123, d_u)  # any value between the supports
v1, v2 = theory.value_function(d_u, u_data, u_g, xu), theory.value_function(d_other, u_data, u_g, xu)
assert np.all(d_u[u_data > 0] == 1.0) and np.all(d_u[u_g > 0] == 0.0) and v1 == v2 == 0.0
print("D* = 1 on supp(p_data), 0 on supp(p_g); V unchanged by D between the supports: PASS")

# %% [markdown]
# ## What's next
#
# Plugging $D^*_G$ back into $V$ gives the generator's objective once the discriminator has won
# the inner game, the virtual criterion $C(G) = V(G, D^*_G)$. The next chapter shows that it is a
# Jensen–Shannon divergence in disguise (Theorem 1).
