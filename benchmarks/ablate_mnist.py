"""The MNIST recipe, lever by lever: one table, the same seeds and the same number of steps per row.

The first five rows build the base recipe up from the paper's own optimiser, one change per row; the
later ones try one more lever on top of it (the last swaps the paper's networks for the ``mnist-dcgan``
preset): the table of chapter 07, the default. The base recipe is the ``mnist`` preset
(:data:`ganlib.recipes.presets.PRESETS`) without what it does for the class balance (spectral norm and a
minibatch standard deviation in D, one G(z) per step for both players). More rows, outside the
default (``--rows`` picks them): ``"the base recipe"`` (bf16 only where the CPU has bfloat16
instructions) and ``"recipe, WGAN-GP"``, with the spectral-norm row the base recipe's comparison
(``benchmarks/results/base_recipe_9k.json``); the two class-balance rows, the second of which is the
``mnist`` preset as it is; and ``"preset, no spectral norm"`` and ``"preset, WGAN-GP"``, which with
the preset are chapter 08's comparison (``compare_mnist.json``) on the preset's networks and budget;
``"preset, G 600 units, D 160 x 5"`` is the preset on narrower networks (``narrow_12k.json``).
``torch.compile`` is not a row: it slows the training step on this CPU (``benchmarks/bench_train.py --compile``) and does not
change the maths. Every run trains on the
4,000-digit offline split (or full MNIST online), then 10,000 samples of its generator (the moving
average when the row keeps one) are scored with ganlib's digit classifier
(:func:`ganlib.metrics.digit_report`). The runs go two at a time, one per core, one thread each
(:func:`ganlib.engine.workers.parallel_map`), so the wall times are those of one thread. Every row gets the same
number of discriminator updates (a row with ``k`` = 5 makes a fifth of the generator updates). Each run
also reports the FID on the classifier's features (500 samples against the training digits, the
protocol of chapter 07), and ``--samples F`` keeps 64 samples of each run (uint8) for the book's grids.

Usage: ``python benchmarks/ablate_mnist.py [--steps 2000] [--seeds 0 1 2] [--rows NAME ...] [--json F] [--samples F]``.
The last line: ``recipe_confident=<share> recipe_inception_like=<score>`` (means over seeds).
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from ganlib import metrics
from ganlib.data import load_mnist
from ganlib.recipes.experiments import train_pair
from ganlib.recipes.presets import get_preset, players_from_meta
from ganlib.engine.workers import parallel_map

NO_EXTRAS = dict(ema_decay=None, amp=None)
SN_MBSTD = {"spectral_norm": True, "minibatch_std": 2}
#: WGAN-GP with Gulrajani et al.'s settings: 5 critic updates per G update, Adam 1e-4 for both, betas (0.5, 0.9)
WGAN_GP = dict(loss="wgan-gp", k=5, lr_d=1e-4, lr_g=1e-4, optimizer_kwargs={"betas": (0.5, 0.9)})
#: the base recipe: the "mnist" preset without its two changes to D (spectral norm, minibatch std) and
#: with a fresh G(z) for G's update, which is what the "mnist" preset was before it took them
BASE = dict(reuse_fakes=False)


def _d(**kwargs):
    """Meta overrides that give the base recipe's D these keyword arguments (none: the plain maxout D)."""
    return dict(model_kwargs={"discriminator_kwargs": kwargs})


#: label -> (preset, config overrides, meta overrides); the first five rows build the base recipe up,
#: the rows "recipe ..." change one thing in it ("recipe" alone is the base recipe with bf16 autocast)
ROWS = {
    "paper SGD (lr 0.1, momentum schedule)": ("mnist", dict(optimizer="paper", lr_d=0.1, lr_g=0.1, optimizer_kwargs={}, **NO_EXTRAS, **BASE), _d()),
    "Adam 2e-4 for both players": ("mnist", dict(lr_d=2e-4, lr_g=2e-4, **NO_EXTRAS, **BASE), _d()),
    "Adam, lr_G = 4 lr_D (TTUR)": ("mnist", dict(NO_EXTRAS, **BASE), _d()),
    "+ moving average of G (EMA)": ("mnist", dict(amp=None, **BASE), _d()),
    # bf16 asked for: the preset's "auto" is bf16 only on CPUs with bfloat16 instructions (the stored table's had them)
    "+ bf16 autocast (the recipe)": ("mnist", dict(amp="bf16", **BASE), _d()),
    "recipe + PacGAN packs of 2": ("mnist", dict(BASE), dict(pack=2, **_d())),
    "recipe + 2-pixel translations": ("mnist", dict(BASE), dict(augment={"translation": 2 / 28}, **_d())),
    "recipe, cosine learning-rate decay": ("mnist", dict(schedule="cosine", lr_floor=0.05, **BASE), _d()),
    "recipe, hinge loss": ("mnist", dict(loss="hinge", **BASE), _d()),
    "recipe, spectral norm in D": ("mnist", dict(BASE), _d(spectral_norm=True)),
    # the base recipe's comparison (base_recipe_9k.json): the base recipe as it resolves on this machine
    # (amp "auto"), and two changes to it
    "the base recipe": ("mnist", dict(BASE), _d()),
    "recipe, WGAN-GP": ("mnist", dict(WGAN_GP, **BASE), _d()),
    "recipe, batch 50": ("mnist", dict(batch_size=50, **BASE), _d()),
    # the class balance (not in the default table): spectral norm and the minibatch std in D, then
    # one G(z) per step for both players: the "mnist" preset as it is
    "recipe, SN + minibatch std 2 in D": ("mnist", dict(BASE), _d(**SN_MBSTD)),
    "recipe, SN + minibatch std 2, G(z) reused": ("mnist", {}, {}),
    "DCGAN recipe (preset mnist-dcgan)": ("mnist-dcgan", {}, {}),
    # chapter 08's comparison on the "mnist" preset's networks and budget: the preset (an SN-GAN), the
    # preset without spectral norm (the vanilla GAN) and WGAN-GP on the preset's networks, the gradient
    # penalty in place of spectral norm (as in ProGAN, the minibatch std stays)
    "preset, no spectral norm": ("mnist", {}, _d(minibatch_std=2)),
    "preset, WGAN-GP": ("mnist", dict(WGAN_GP), _d(minibatch_std=2)),
    # the width lever on the preset: half G's hidden units and two thirds of D's maxout units, which
    # makes a float32 step about 40 % cheaper on a 2-core CPU without bfloat16 instructions
    "preset, G 600 units, D 160 x 5": ("mnist", {}, dict(model_kwargs={"generator_kwargs": {"hidden": 600},
                                                                        "discriminator_kwargs": {**SN_MBSTD, "units": 160}})),
}
#: rows outside chapter 07's lever table: the base recipe's comparison (with the spectral-norm row), the
#: class-balance lever and chapter 08's comparison on the preset
NOT_LEVERS = ("the base recipe", "recipe, WGAN-GP", "recipe, SN + minibatch std 2 in D",
              "recipe, SN + minibatch std 2, G(z) reused", "preset, no spectral norm", "preset, WGAN-GP",
              "preset, G 600 units, D 160 x 5")
#: the rows of chapter 07's lever table (the default)
LEVERS = [label for label in ROWS if label not in NOT_LEVERS]


def row_setup(label, seed, steps):
    """The row's ``(TrainConfig, checkpoint meta)`` for one seed and ``steps`` D updates."""
    name, overrides, meta_changes = ROWS[label]
    preset = get_preset(name)
    meta = {**preset.meta(), **meta_changes}
    if "model_kwargs" in meta_changes:
        meta["model_kwargs"] = {**preset.meta()["model_kwargs"], **meta_changes["model_kwargs"]}
    k = overrides.get("k", preset.config.get("k", 1))
    cfg = preset.train_config(seed=seed, device="cpu", quick=False, max_steps=steps // k, progress=False,
                              snapshot_every=-1, checkpoint_every=-1, **overrides)
    return cfg, meta


def run(item):
    label, seed, steps = item
    cfg, meta = row_setup(label, seed, steps)
    train = load_mnist("train", flatten=meta["model"] != "dcgan", verbose=False)
    validation, test = (load_mnist(s, source=train.source, verbose=False).images for s in ("validation", "test"))
    images = train.images
    start = time.perf_counter()
    trainer = train_pair(cfg, lambda: players_from_meta(meta, tuple(images.shape[1:]), images.mean(0)), images, meta=meta)
    wall = time.perf_counter() - start
    return {"row": label, "seed": seed, "wall_s": wall, "g_steps": cfg.max_steps, **score(trainer, train, validation, test, seed)}


def score(trainer, train, validation, test, seed):
    """The digit figures of 10,000 samples of ``trainer``'s generator (noise seeded by ``seed``), its FID,
    64 samples (uint8) and every 10th step of its training curve."""
    held = torch.cat([validation, test])
    classifier = metrics.load_or_train_classifier(train.images.reshape(-1, 1, 28, 28), train.labels, device="cpu", verbose=False)
    x = trainer.sample(n=10_000, seed=1000 + seed, chunk=1000).reshape(-1, 1, 28, 28)  # as chapter 07 samples
    r = metrics.digit_report(classifier, x, train.images.reshape(-1, 1, 28, 28), held.reshape(-1, 1, 28, 28))
    fid = metrics.fid_score(metrics.ClassifierFeatures(classifier), train.images.reshape(-1, 1, 28, 28), x[:len(test)])
    shares = np.array(r["confident_class_shares"])
    none = np.isnan(shares).all()  # no confident sample: no class shares
    return {"confident": r["confident_share"], "inception_like": r["inception_like"],
            "min_share": float("nan") if none else float(np.nanmin(shares)),
            "max_share": float("nan") if none else float(np.nanmax(shares)), "memorised": r["memorised_share"],
            "stray_ink": r["stray_ink_share"], "fid": fid,
            "class_shares": r["class_shares"], "confident_class_shares": r["confident_class_shares"],
            "samples": (x[:64] * 255).round().to(torch.uint8),
            # every 10th step of the training curve (Eq. 1's batch estimate, or the critic's W)
            "history": {c: [round(float(v), 4) for v in trainer.history[c][9::10]] for c in ("step", "value")}}


def print_table(results, rows, steps):
    """Print mean [min, max] over seeds of every figure, one line per row (the stored ``.txt`` tables)."""
    per_row = {label: sorted(r["seed"] for r in results if r["row"] == label) for label in rows}
    seeds = next(iter(per_row.values())) if len({tuple(v) for v in per_row.values()}) == 1 else \
        "; ".join(f"{label}: {v}" for label, v in per_row.items())
    print(f"{steps} D updates per run (G updates: that over k), seeds {seeds}; 10,000 samples per run; "
          "mean [min, max] over seeds")
    cols = ["confident", "inception_like", "min_share", "max_share", "memorised", "stray_ink", "fid", "wall_s"]
    print(f"{'row':40s} " + " ".join(f"{c:>20s}" for c in cols))
    means = {}
    for label in rows:
        rs = [r for r in results if r["row"] == label]
        cells = []
        for c in cols:
            v = np.array([r[c] for r in rs])
            means[(label, c)] = v.mean()
            fmt = "{:.0f}" if c == "wall_s" else "{:.1f}" if c == "fid" else ("{:.2f}" if c == "inception_like" else "{:.3f}")
            cells.append(f"{fmt.format(v.mean())} [{fmt.format(v.min())}, {fmt.format(v.max())}]")
        print(f"{label:40s} " + " ".join(f"{x:>20s}" for x in cells))
    recipe = "+ bf16 autocast (the recipe)" if "+ bf16 autocast (the recipe)" in rows else rows[0]
    print(f"recipe_confident={means[(recipe, 'confident')]:.3f} recipe_inception_like={means[(recipe, 'inception_like')]:.2f}")


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=2000,
                   help="D updates per run, G updates where k = 1 (default 2000: 50 epochs of batch 100)")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--rows", nargs="+", default=LEVERS, choices=list(ROWS), metavar="ROW",
                   help="rows to train (default: chapter 07's lever table, every row but NOT_LEVERS)")
    p.add_argument("--json", default=None, help="also write every run's figures to this file")
    p.add_argument("--samples", default=None, help="also write 64 samples of every run (uint8, torch.save) to this file")
    args = p.parse_args(argv)
    items = [(label, seed, args.steps) for label in args.rows for seed in args.seeds]
    results = parallel_map(run, items)
    if args.samples:
        torch.save({(r["row"], r["seed"]): r["samples"] for r in results}, args.samples)
    for r in results:
        del r["samples"]
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    print_table(results, args.rows, args.steps)


if __name__ == "__main__":
    main()
