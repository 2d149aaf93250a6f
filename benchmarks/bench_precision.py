"""The ``mnist`` preset in float32, bf16 and fp16 on this CPU: the step time and the digit figures, side by side.

Each precision trains the preset (seed 0, the offline 4,000-digit split or full MNIST online) for ``--steps``
steps, one run after the other on the same threads, and is scored like chapter 07's runs
(``ablate_mnist.score``: 10,000 samples of the moving average of G, ganlib's digit classifier, FID on its
features). The fp16 row is the precision ``amp="auto"`` picks on Colab's T4; on a CPU without float16
arithmetic it is emulated and slow, so its step time says nothing about a GPU, but its figures say whether
the recipe learns in float16. ``min scale`` is the smallest gradient-scaler scale read at the run's logs, every 100 steps (fp16 only):
below 1 the scaler is shrinking gradients, which happens only when they overflow at every scale.

Usage: ``python benchmarks/bench_precision.py [--steps 2000] [--json F] [--samples F] [--figure F]``;
``--replot JSON SAMPLES --figure F`` redraws the figure (36 samples of each precision, side by side) and
reprints the table from stored results, without training.
"""
from __future__ import annotations

import argparse
import json
import time

import torch

from ablate_mnist import score
from ganlib.data import load_mnist
from ganlib.recipes.presets import train_preset
from ganlib.engine.runtime import describe_run

PRECISIONS = {"float32": None, "bf16": "bf16", "fp16": "fp16"}


def run(precision: str, steps: int, train, validation, test) -> dict:
    scales = []

    def watch(trainer):
        scales.extend(s.get_scale() for s in trainer.precision.scalers.values())

    start = time.perf_counter()
    trainer = train_preset("mnist", train, seed=0, device="cpu", amp=PRECISIONS[precision], max_steps=steps,
                           progress=False, snapshot_every=-1, checkpoint_every=-1, callbacks={"on_log": watch})
    wall = time.perf_counter() - start
    last = {c: sum(trainer.history[c][-100:]) / len(trainer.history[c][-100:]) for c in ("d_real", "d_fake")}
    return {"precision": precision, "steps": steps, "wall_s": wall, "ms_per_step": 1000 * wall / steps,
            "min_scale": min(scales) if scales else None, **{f"{c}_last100": v for c, v in last.items()},
            **score(trainer, train, validation, test, seed=0)}


def plot(results, samples, path) -> None:
    """36 samples of each precision's run side by side, titled with its step time and digit figures."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ganlib.viz import image_grid, show_grid

    fig, axes = plt.subplots(1, len(results), figsize=(3.3 * len(results), 3.7))
    for ax, r in zip(axes, results):
        x = samples[r["precision"]][:36].float().div(255).reshape(-1, 1, 28, 28)
        title = (f"{r['precision']}: {r['ms_per_step']:.0f} ms/step\n{100 * r['confident']:.1f} % confident, "
                 f"IS-like {r['inception_like']:.2f}, FID {r['fid']:.0f}")
        show_grid(ax, image_grid(x, nrow=6))
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print(f"wrote {path}")


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=2000, help="training steps per precision (default 2000)")
    p.add_argument("--precisions", nargs="+", default=list(PRECISIONS), choices=list(PRECISIONS))
    p.add_argument("--json", default=None, help="also write every run's figures to this file")
    p.add_argument("--samples", default=None, help="also write 64 samples of every run (uint8, torch.save) to this file")
    p.add_argument("--figure", default=None, help="also draw 36 samples of every run side by side into this PNG")
    p.add_argument("--replot", nargs=2, metavar=("JSON", "SAMPLES"), default=None,
                   help="only redraw --figure from a stored --json and --samples")
    args = p.parse_args(argv)
    if args.replot:
        if not args.figure:
            p.error("--replot needs --figure")
        with open(args.replot[0]) as f:
            results = json.load(f)
        plot(results, torch.load(args.replot[1]), args.figure)
        print_table(results)
        return
    describe_run(data_source="MNIST", device="cpu")
    train = load_mnist("train", verbose=False)
    validation, test = (load_mnist(s, source=train.source, verbose=False).images for s in ("validation", "test"))
    results = []
    for precision in args.precisions:
        results.append(run(precision, args.steps, train, validation, test))
        print(f"[{precision}] {results[-1]['wall_s']:.0f} s", flush=True)
    samples = {r["precision"]: r.pop("samples") for r in results}
    if args.samples:
        torch.save(samples, args.samples)
    if args.figure:
        plot(results, samples, args.figure)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    print_table(results)


def print_table(results) -> None:
    """The runs side by side, as a Markdown table (readable in a terminal, rendered on the Performance page)."""
    base = results[0]["ms_per_step"]
    print(f"The `mnist` preset, seed 0, {results[0]['steps']:,} steps of batch 100 on {torch.get_num_threads()} CPU threads; "
          "10,000 samples of the moving average of G.\n")
    print(f"| precision | ms/step (vs {results[0]['precision']}) | D(x) / D(G(z)) | confident | IS-like | digit shares | FID | min scale |")
    print("|---" * 8 + "|")
    for r in results:
        scale = "-" if r["min_scale"] is None else f"{r['min_scale']:.0f}"
        print(f"| {r['precision']} | {r['ms_per_step']:.0f} ({r['ms_per_step'] / base:.2f}x) | "
              f"{r['d_real_last100']:.3f} / {r['d_fake_last100']:.3f} | {r['confident']:.3f} | {r['inception_like']:.2f} | "
              f"{100 * r['min_share']:.1f}-{100 * r['max_share']:.1f} % | {r['fid']:.1f} | {scale} |")

if __name__ == "__main__":
    main()
