"""What checkpointing costs the ``mnist`` preset's run, beside its training step, in one run.

A checkpoint of the preset (the 1200-unit G, the maxout D with spectral norm, Adam's two moments for
both, the moving average of G, the history) is written by :meth:`ganlib.engine.loop.Loop.save_checkpoint`:
``torch.save`` to a temporary file, ``fsync``, rename. The benchmark trains the preset for 400 steps
(ten epochs of the 4,000-digit split) with a checkpoint at every epoch, the command line's default
before presets set their own interval, and without checkpoints, in interleaved rounds, keeping
each variant's best round. Within a round the ten writes follow each other as in a real run, so
the page cache and the disk's write-back are part of their cost. The difference over ten is the
cost of one checkpoint; the last line gives what it adds per step at both intervals.

The last line reads ``checkpoint_ms=<a> step_ms=<b> every_epoch_overhead=<x> preset_overhead=<y>``
(the overheads as fractions of the step time without checkpoints). ``--quick`` is a smoke run.

Usage: ``python benchmarks/bench_checkpoint.py [--rounds 5] [--threads 2] [--dir DIR] [--quick]``.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ganlib.data import load_mnist  # noqa: E402
from ganlib.recipes.experiments import train_pair  # noqa: E402
from ganlib.recipes.presets import get_preset, players_from_meta  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_kernels import best_of  # noqa: E402


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--dir", default=None, help="folder to write the checkpoints in (default: a temporary one)")
    p.add_argument("--quick", action="store_true", help="a smoke run: 1 round, few calls")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    rounds, epochs = (1, 1) if args.quick else (args.rounds, 10)
    preset = get_preset("mnist")
    images = load_mnist("train", verbose=False).images
    epoch = len(images) // preset.config["batch_size"]
    steps = epochs * epoch
    with tempfile.TemporaryDirectory(dir=args.dir) as folder:
        trainers = {}
        for name, every in (("every epoch", 0), ("none", -1)):
            cfg = preset.train_config(seed=0, device="cpu", quick=False, max_steps=10 ** 6, progress=False,
                                      snapshot_every=-1, checkpoint_every=every, out_dir=folder)
            trainers[name] = train_pair(cfg, lambda: players_from_meta(preset.meta(), tuple(images.shape[1:]),
                                                                       images.mean(0)), images, meta=preset.meta(), run=False)
        best = best_of({name: (lambda t=t: t.run(steps)) for name, t in trainers.items()}, rounds, 1)
        size = (Path(folder) / "checkpoint.pt").stat().st_size / 1e6
    step = best["none"] / steps
    save = max(best["every epoch"] - best["none"], 0.0) / epochs
    intervals = {f"every epoch ({epoch} steps)": epoch,
                 f"every {preset.config['checkpoint_every']:,} steps (the preset)": preset.config["checkpoint_every"]}
    print(f"{args.threads} threads, {steps} steps a round, best of {rounds} interleaved rounds; checkpoint {size:.1f} MB")
    print(f"  {'training step, no checkpoints':40s} {step:8.2f} ms")
    print(f"  {'training step, a checkpoint every epoch':40s} {best['every epoch'] / steps:8.2f} ms")
    print(f"  {'one checkpoint (save, fsync, rename)':40s} {save:8.2f} ms")
    for name, n in intervals.items():
        print(f"  checkpoint {name:29s} {save / n:8.2f} ms per step, {save / n / step:6.1%} of the step")
    over = [save / n / step for n in intervals.values()]
    print(f"checkpoint_ms={save:.1f} step_ms={step:.2f} every_epoch_overhead={over[0]:.3f} preset_overhead={over[1]:.4f}")

if __name__ == "__main__":
    main()
