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
# # The two-player game and its value function
#
# A generative adversarial net {cite:p}`goodfellow2014gan` is two models trained against each other:
#
# - a **generator** $G$ maps noise $z \sim p_z$ to data space; the distribution of $G(z)$ is the
#   model $p_g$;
# - a **discriminator** $D$ maps a point $x$ to a probability $D(x) \in (0, 1)$ that $x$ came from
#   the data $p_\text{data}$ rather than from $G$.
#
# $D$ is trained to tell the two apart and $G$ to fool it. The paper writes the contest as one
# number, the **value function** $V(G, D)$, which $D$ maximises and $G$ minimises (Eq. 1):
#
# $$
# \min_G \max_D V(D, G) = \mathbb{E}_{x \sim p_\text{data}(x)}\big[\log D(x)\big]
#   + \mathbb{E}_{z \sim p_z(z)}\big[\log\big(1 - D(G(z))\big)\big].
# $$
#
# This chapter makes that number concrete: what it measures, how it is the loss of an ordinary
# classifier, how `ganlib` estimates it on a minibatch, and how it is computed exactly when the
# densities are known. Later chapters use the same two functions to check Proposition 1 and
# Theorem 1.

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

from ganlib import theory
from ganlib.data import toy
from ganlib.game import losses
from ganlib.engine.runtime import describe_run, quick_mode, seed_everything

seed_everything(0)
run_info = describe_run(data_source="analytic 1-D Gaussians (no data set)", device="cpu")
print("device=cpu on purpose, on a GPU runtime too: no training here, only closed forms and small tensors, which "
      "a GPU would not speed up")

# %% [markdown]
# ## The value function is a classifier's log-likelihood
#
# Label real points $y = 1$ and generated points $y = 0$. A classifier that outputs
# $D(x) = \Pr(y = 1 \mid x)$ has the Bernoulli log-likelihood $y \log D(x) + (1 - y)\log(1 - D(x))$
# on one example. Averaged over a real minibatch $\{x^{(i)}\}_{i=1}^m$ and a generated one
# $\{G(z^{(i)})\}_{i=1}^m$ this is
#
# $$
# \hat V(G, D) = \frac1m \sum_{i=1}^m \log D\big(x^{(i)}\big)
#              + \frac1m \sum_{i=1}^m \log\Big(1 - D\big(G(z^{(i)})\big)\Big),
# $$
#
# the minibatch estimate of Eq. 1, and it is exactly the **negative binary cross-entropy**. So
# "$D$ maximises $V$" is "$D$ is trained as a logistic classifier", and Prince's discriminator loss
# $L[\phi]$ (see the {doc}`../book/notation` page) is $-\hat V$.
#
# Networks output a **logit** $\ell$ and $D = \sigma(\ell)$. Writing the two logarithms in the
# logit avoids computing $\sigma$ and then $\log$, which underflows once $D$ is confident:
#
# $$
# \log D = \log \sigma(\ell) = -\operatorname{softplus}(-\ell), \qquad
# \log(1 - D) = \log \sigma(-\ell) = -\operatorname{softplus}(\ell).
# $$
#
# `ganlib.game.losses.value_function` takes logits for this reason. Here is the check that it is the
# negated cross-entropy PyTorch computes, and that it stays finite where the naive formula does not:

# %%
logits_real = torch.tensor([-100.0, -3.0, 0.0, 2.5, 100.0])
logits_fake = torch.tensor([-100.0, -1.0, 0.0, 4.0, 100.0])
bce = torch.nn.functional.binary_cross_entropy_with_logits
v = losses.value_function(logits_real, logits_fake)
minus_bce = -(bce(logits_real, torch.ones(5)) + bce(logits_fake, torch.zeros(5)))
naive = torch.log(torch.sigmoid(logits_real)).mean() + torch.log(1 - torch.sigmoid(logits_fake)).mean()
print(f"ganlib V       = {v.item():.4f}")
print(f"-(BCE + BCE)   = {minus_bce.item():.4f}")
print(f"naive log(sig) = {naive.item()}  (log(sigmoid(-100)) underflows to log 0 in float32)")
print("PASS" if torch.isclose(v, minus_bce) and torch.isfinite(v) else "FAIL")

# %% [markdown]
# ## A concrete game in one dimension
#
# To see $V$ as a number we can also compute exactly, take
#
# - data $p_\text{data} = \mathcal N(0, 1)$;
# - a generator that is a *map*, $G(z) = \mu_g + s_g z$ with $z \sim \mathcal N(0, 1)$, so that
#   $p_g = \mathcal N(\mu_g, s_g^2)$ — the paper's point that $p_g$ is defined implicitly, as the
#   distribution of $G(z)$;
# - a fixed logistic discriminator $D(x) = \sigma(w x + b)$ that calls points on the left "real".
#
# With densities in hand, Eq. 1 is an integral over $x$ (the change of variables $x = G(z)$ used
# in the proof of Proposition 1):
#
# $$
# V(G, D) = \int_x p_\text{data}(x) \log D(x) + p_g(x) \log\big(1 - D(x)\big)\, dx ,
# $$
#
# which `ganlib.theory.value_function` evaluates by Simpson quadrature on a grid.

# %%
p_data = toy.gaussian_1d(0.0, 1.0)
mu_g, s_g = 1.5, 0.7
w, b = -1.5, 1.0  # D's logit is w*x + b


def G(z: torch.Tensor) -> torch.Tensor:
    """The generator of this chapter: an affine map of the noise."""
    return mu_g + s_g * z


def D_logit(x: torch.Tensor) -> torch.Tensor:
    """The fixed discriminator's logit."""
    return w * x + b


x = np.linspace(-9.0, 10.0, 4001)
pdf_data = p_data.pdf(x)
pdf_g = toy.gaussian_1d(mu_g, s_g).pdf(x)
d_curve = 1.0 / (1.0 + np.exp(-(w * x + b)))
v_exact = theory.value_function(d_curve, pdf_data, pdf_g, x)
print(f"V(G, D) by quadrature = {v_exact:.6f}")

# %% [markdown]
# Now estimate the same number the way training does: draw a minibatch of $m$ real points and $m$
# noise vectors, push the noise through $G$, and average. The estimate is unbiased, and its
# standard error shrinks like $1/\sqrt m$. We repeat each batch size many times (same seed every
# run) and compare the spread with the quadrature value.

# %% tags=["nbval-ignore-output"]
gen = torch.Generator().manual_seed(1)
repeats = 20 if quick_mode() else 200
batch_sizes = [10, 100, 1_000, 10_000] if quick_mode() else [10, 100, 1_000, 10_000, 100_000]
estimates = {}
for m in batch_sizes:
    vals = []
    for _ in range(repeats):
        real = p_data.sample(m, generator=gen)
        fake = G(torch.randn(m, 1, generator=gen))
        vals.append(losses.value_function(D_logit(real), D_logit(fake)).item())
    estimates[m] = np.array(vals)
    se = estimates[m].std(ddof=1) / math.sqrt(repeats)  # standard error of the mean of the repeats
    print(f"m = {m:>7}: mean {estimates[m].mean():+.4f}, std {estimates[m].std(ddof=1):.4f}, "
          f"|mean - V| = {abs(estimates[m].mean() - v_exact) / se:.1f} standard errors")

# %% [markdown]
# The check: at every batch size the mean of the estimates lies within 4 standard errors of the
# exact value (an unbiased estimator passes this with overwhelming probability; a biased one, e.g.
# one that clamps $D$ or drops the $\log(1-D)$ term, fails it at large $m$).

# %%
ok = all(abs(e.mean() - v_exact) < 4 * e.std(ddof=1) / math.sqrt(len(e)) for e in estimates.values())
print("PASS: the minibatch estimate is unbiased for the quadrature value" if ok else "FAIL")

# %%
fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(11, 3.8))
ax0.plot(x, pdf_data, "k", label=r"$p_\mathrm{data} = \mathcal{N}(0, 1)$")
ax0.plot(x, pdf_g, "g", label=r"$p_g$: law of $G(z) = 1.5 + 0.7z$")
ax0.plot(x, d_curve, "b--", label=r"$D(x) = \sigma(-1.5x + 1)$")
ax0.plot(x, theory.optimal_discriminator(pdf_data, pdf_g), "b:", alpha=0.6, label=r"$D^*_G$ (next chapter)")
ax0.set_xlim(-4, 5)
ax0.set_xlabel("$x$")
ax0.legend(fontsize=8, loc="upper right")
ax0.set_title("The game's ingredients")
ms = np.array(batch_sizes)
means = np.array([estimates[m].mean() for m in batch_sizes])
stds = np.array([estimates[m].std(ddof=1) for m in batch_sizes])
ax1.errorbar(ms, means, yerr=stds, fmt="o", capsize=3, label=r"minibatch $\hat V$ (mean $\pm$ 1 sd)")
ax1.axhline(v_exact, color="k", lw=1, label="quadrature $V(G, D)$")
ax1.set_xscale("log")
ax1.set_xlabel("minibatch size $m$")
ax1.set_ylabel("$V$ (nats)")
ax1.legend(fontsize=8)
ax1.set_title(r"$\hat V$ on samples vs $V$ by quadrature")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## The value of the game at its optimum is $-\log 4$, not $\log 4$
#
# It is easy to write that at the optimum "$V(G, D) = \log(4)$". The
# sign is wrong, and it is worth seeing why. When $p_g = p_\text{data}$ the best discriminator
# cannot do better than a coin flip, $D(x) = \tfrac12$ everywhere (Proposition 1, next chapter).
# Then both expectations in Eq. 1 are $\log \tfrac12$:
#
# $$
# V = \mathbb{E}_{p_\text{data}}\big[\log \tfrac12\big] + \mathbb{E}_{p_g}\big[\log \tfrac12\big]
#   = 2 \log \tfrac12 = -\log 4 \approx -1.386 .
# $$
#
# $V$ is a sum of logarithms of probabilities, so it can never be positive: $\log 4 > 0$ is out of
# reach for *any* $G$ and $D$. In fact $D \equiv \tfrac12$ gives $V = -\log 4$ for *every* $G$,
# since it ignores $x$; what makes $p_g = p_\text{data}$ special is that there $D$ cannot do any
# better (Theorem 1). Both facts, computed:

# %%
half = np.full_like(x, 0.5)
print(f"-log 4                          = {-math.log(4):.6f}")
print(f"V(G, D=1/2) by quadrature       = {theory.value_function(half, pdf_data, pdf_g, x):.6f}")
print(f"C(G) = max_D V at p_g = p_data  = {theory.virtual_criterion(pdf_data, pdf_data, x):.6f}")
print(f"C(G) for this chapter's G       = {theory.virtual_criterion(pdf_data, pdf_g, x):.6f}  (> -log 4)")

# %% [markdown]
# The last line previews Theorem 1: for a generator that differs from the data, the best
# discriminator earns *more* than $-\log 4$, and the gap is $2\,\mathrm{JSD}(p_\text{data} \Vert p_g)$.
#
# ## How $V$ depends on the discriminator
#
# For this fixed $G$, sweep the discriminator's slope $w$ (keeping the boundary
# $x = -b/w$ between the two modes) and watch $V$: the discriminator's best choice is where the
# curve peaks, and no logistic $D$ can exceed $C(G)$, which is attained by $D^*_G$.

# %%
slopes = np.linspace(-6, 0, 61)
boundary = 0.75
# Pass logits, not D itself: a steep sigmoid rounds to exactly 0 or 1 in float64 where the other
# density still has mass, and log(0) = -inf; value_function_logits uses log-sigmoid throughout.
v_of_slope = [theory.value_function_logits(s * (x - boundary), pdf_data, pdf_g, x) for s in slopes]
c_g = theory.virtual_criterion(pdf_data, pdf_g, x)
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(slopes, v_of_slope, label=r"$V(G, D_w)$, $D_w(x) = \sigma(w(x - 0.75))$")
ax.axhline(c_g, color="b", ls=":", label=r"$C(G) = V(G, D^*_G)$")
ax.axhline(-math.log(4), color="k", lw=1, label=r"$-\log 4$")
ax.set_xlabel("slope $w$")
ax.set_ylabel("$V$ (nats)")
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()
print(f"best logistic D: w = {slopes[int(np.argmax(v_of_slope))]:.1f}, V = {max(v_of_slope):.4f} <= C(G) = {c_g:.4f}")

# %% [markdown]
# At $w = 0$ the discriminator is the coin flip and $V = -\log 4$, whatever $G$ is. As $w$ grows
# more negative $D$ separates the two densities better, until it becomes over-confident and pays
# $\log(1-D)$ on the generated points that fall left of the boundary.
#
# ## Exercises
#
# **Exercise 1.** Show that $V(G, D) \le 0$ for every $G$ and $D$, and that $V(G, D) = 0$ would need
# $D = 1$ on the support of $p_\text{data}$ and $D = 0$ on the support of $p_g$. Why is this
# impossible when the supports overlap?
#
# :::{admonition} Solution
# :class: dropdown
# Both $\log D(x)$ and $\log(1 - D(x))$ are $\le 0$ since $D \in (0, 1)$, so each expectation is
# $\le 0$, with equality only if $D(x) = 1$ $p_\text{data}$-almost everywhere and $D(x) = 0$
# $p_g$-almost everywhere. Where both densities are positive, $D$ would have to be 0 and 1 at once.
# The cell below checks the sign on 1,000 random logistic discriminators.
# :::

# %% tags=["hide-input"]
rng = np.random.default_rng(0)
vals = [theory.value_function_logits(a * x + c, pdf_data, pdf_g, x) for a, c in rng.normal(0, 3, (1000, 2))]
assert max(vals) < 0
print(f"max V over 1,000 random discriminators: {max(vals):.3f} < 0: PASS")

# %% [markdown]
# **Exercise 2.** The minibatch estimate uses $m$ real and $m$ generated points. Its variance is
# $\operatorname{Var}_{p_\text{data}}[\log D(x)]/m + \operatorname{Var}_{p_g}[\log(1 - D(x))]/m$.
# Compute it by quadrature for this chapter's $G$ and $D$ and compare with the spread of the
# estimates at the largest $m$.
#
# :::{admonition} Solution
# :class: dropdown
# The two sums are independent, so their variances add; each is a variance of a function of $x$
# under a known density, i.e. $\int p\, f^2 - (\int p\, f)^2$. The cell below computes it and
# checks that the empirical standard deviation agrees within 25 %.
# :::

# %% tags=["hide-input", "nbval-ignore-output"]
from scipy.integrate import simpson

log_d, log_1md = np.log(d_curve), np.log1p(-d_curve)
var_real = simpson(pdf_data * log_d**2, x=x) - simpson(pdf_data * log_d, x=x) ** 2
var_fake = simpson(pdf_g * log_1md**2, x=x) - simpson(pdf_g * log_1md, x=x) ** 2
m = batch_sizes[-1]
predicted = math.sqrt((var_real + var_fake) / m)
observed = estimates[m].std(ddof=1)
print(f"m = {m}: predicted sd {predicted:.5f}, observed sd {observed:.5f}")

# %% tags=["hide-input"]
assert abs(observed / predicted - 1) < 0.25
print("observed and predicted standard deviations agree within 25 %: PASS")

# %% [markdown]
# ## What's next
#
# The discriminator in this chapter was fixed by hand. The next step in the paper is to ask which
# $D$ maximises $V$ for a given $G$ — Proposition 1's $D^*_G$, drawn dotted above — and what $V$
# becomes there: the virtual criterion $C(G)$ of Theorem 1.
