"""Two kernel choices behind the ``mnist`` preset's step time, each beside its alternatives, in one run.

1. Adam's update over the paper's two networks (the 1200-unit G and the maxout D with spectral
   norm, 3.7 million weights): ``fused=True`` (what :func:`ganlib.engine.optim.make_optimizers` picks on
   the CPU and CUDA), ``foreach=True`` (its choice before) and one tensor at a time (torch's own
   default on the CPU).
2. The minibatch standard deviation of D's 240 features at batch 200 in groups of 2, forward and
   backward: :func:`ganlib.nets.layers.minibatch_std` (the variance written out) against the same
   formula with ``Tensor.var`` over the group dimension.
3. The preset's whole training step (``reuse_fakes``, EMA, spectral norm, minibatch std) as
   ganlib takes it, with Adam ``foreach`` instead, and with both earlier kernels (Adam ``foreach``
   and ``Tensor.var``).

Rounds are interleaved and the best round of each variant is kept (slower repeats measure other
processes on a shared machine, not the code). Times are per call in milliseconds; the last line
reads ``adam_fused_speedup=<x> mbstd_speedup=<y> step_speedup=<z>`` (each the alternative's
best time over ganlib's; the step's against both earlier kernels). ``--quick`` is a smoke run.

Usage: ``python benchmarks/bench_kernels.py [--rounds 5] [--threads 2] [--quick]``.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from unittest import mock

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ganlib.nets import layers  # noqa: E402
from ganlib.data import load_mnist  # noqa: E402
from ganlib.recipes.experiments import train_pair  # noqa: E402
from ganlib.nets.layers import minibatch_std  # noqa: E402
from ganlib.recipes.presets import get_preset, players_from_meta  # noqa: E402


def best_of(fns, rounds, calls):
    """Best time per call (ms) of each function in ``fns`` over interleaved rounds."""
    best = {name: float("inf") for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            fn()  # untimed: its own data in the caches
            start = time.perf_counter()
            for _ in range(calls):
                fn()
            best[name] = min(best[name], (time.perf_counter() - start) / calls * 1e3)
    return best


def var_minibatch_std(h, group, eps=1e-8):
    """The same feature as :func:`ganlib.nets.layers.minibatch_std`, through ``Tensor.var``."""
    n, c = h.shape
    s = (h.reshape(n // group, group, c).var(1, unbiased=False) + eps).sqrt().mean(1)
    return torch.cat([h, s.repeat_interleave(group).unsqueeze(1)], 1)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--quick", action="store_true", help="a smoke run: 1 round, few calls")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    rounds, calls, steps = (1, 2, 3) if args.quick else (args.rounds, 20, 40)
    preset = get_preset("mnist")
    images = load_mnist("train", verbose=False).images
    make = lambda: players_from_meta(preset.meta(), tuple(images.shape[1:]), images.mean(0))  # noqa: E731

    G, D = make()
    params = list(G.parameters()) + list(D.parameters())
    for q in params:
        q.grad = torch.randn_like(q) * 1e-3
    kernels = {"fused": {"fused": True}, "foreach": {"foreach": True}, "one tensor at a time": {"foreach": False}}
    opts = {name: torch.optim.Adam(params, lr=0.0, betas=(0.5, 0.999), **kw) for name, kw in kernels.items()}
    adam = best_of({name: opt.step for name, opt in opts.items()}, rounds, calls)

    h = torch.randn(200, 240, requires_grad=True)
    mbstd = best_of({"written out (ganlib)": lambda: minibatch_std(h, 2).sum().backward(),
                     "Tensor.var": lambda: var_minibatch_std(h, 2).sum().backward()}, rounds, calls * 5)

    trainers = {}
    for name, kw in (("ganlib", {"fused": True}), ("Adam foreach", {"foreach": True}),
                     ("Adam foreach, Tensor.var", {"foreach": True})):
        cfg = preset.train_config(seed=0, device="cpu", quick=False, max_steps=10 ** 6, progress=False,
                                  snapshot_every=-1, checkpoint_every=-1,
                                  optimizer_kwargs={**preset.config["optimizer_kwargs"], **kw})
        trainers[name] = train_pair(cfg, make, images, meta=preset.meta(), run=False)

    def timed(name, t):
        if "Tensor.var" not in name:
            return lambda: t.run(steps)
        # MinibatchStd calls ganlib.nets.layers.minibatch_std: swap in the Tensor.var form for this run only
        return lambda: mock.patch.object(layers, "minibatch_std", var_minibatch_std)(t.run)(steps)
    step = best_of({name: timed(name, t) for name, t in trainers.items()}, rounds, 1)
    step = {name: ms / steps for name, ms in step.items()}

    print(f"{args.threads} threads, best of {rounds} interleaved rounds, ms per call")
    for title, table in (("Adam step, both players of the mnist preset", adam),
                         ("minibatch std, (200, 240) in groups of 2, forward + backward", mbstd),
                         ("mnist preset training step (batch 100)", step)):
        print(title)
        for name, ms in table.items():
            print(f"  {name:28s} {ms:8.2f}")
    print(f"adam_fused_speedup={adam['foreach'] / adam['fused']:.2f} "
          f"mbstd_speedup={mbstd['Tensor.var'] / mbstd['written out (ganlib)']:.2f} "
          f"step_speedup={step['Adam foreach, Tensor.var'] / step['ganlib']:.2f}")


if __name__ == "__main__":
    main()
