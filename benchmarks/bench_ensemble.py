"""Many games at once: ganlib's EnsembleTrainer against S separate Trainer runs, side by side.

For the toy chapters' networks, member-steps per second (one member-step = one iteration of
Algorithm 1 for one seed: a D update and a G update, batch 256):

* ``1-D``: G 1-32-32-1 (uniform noise), D 1-64-64-1 (the networks of chapters 05 and 06);
* ``ring``: G 2-128-128-128-2, D 2-128-128-1 (the 2-D ring and grid of chapters 06 and 08);

with ``ganlib.engine.loop.Trainer`` (one seed; S seeds run one after another give the same member-steps
per second) and with ``ganlib.engine.ensemble.EnsembleTrainer`` for S = 1, 4, 8, 16, plus, at S = 8, the
same game written with PyTorch's model-ensembling recipe (``torch.func.stack_module_state`` +
``functional_call`` + ``vmap``) instead of ganlib's batched layers. Every loop runs in the same
process with the same thread count, interleaved over several rounds (the machine is shared), best
round reported. The matrix products of each step are counted with ``FlopCounterMode`` and divided
by the device's float32 peak, measured in the same run.

The ``faults/step`` column counts the minor page faults of the timed steps (``getrusage``): the
ensemble's stacked activations are megabyte-sized, and with glibc's default ``malloc`` settings
they are unmapped when freed and faulted in again the next step. ``EnsembleTrainer`` therefore calls
:func:`ganlib.engine.workers.keep_freed_memory` on the CPU (process-wide, so the ``Trainer`` rows of the
same run get it too). This process cannot show what that buys (the peak measurement's large
matrices raise glibc's adaptive thresholds as a side effect), so fresh subprocesses train the
ring's ensemble at S = 8 with and without it (ABBA order, three times) and print the median faults
and time per step. The last lines
give each model's marginal cost of one more member (from S = 8 to S = 16) and the speed-up it
bounds: no S can beat ``Trainer step / marginal cost``.

Usage: ``python benchmarks/bench_ensemble.py [--rounds 15] [--steps 20] [--threads 2]``.
The last line, for the 1-D models: ``ensemble_speedup_s8=<x.xx> device=<cpu|cuda>``.
"""
from __future__ import annotations

import argparse
import copy
import sys
import time
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

from ganlib.engine.config import TrainConfig
from ganlib.engine.ensemble import EnsembleTrainer
from ganlib.recipes.experiments import train_pair
from ganlib.game.losses import discriminator_loss, generator_loss_non_saturating
from ganlib.nets.models import MLPDiscriminator, MLPGenerator
from ganlib.engine.runtime import resolve_device

try:
    import resource

    def _faults() -> int:
        return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
except ImportError:  # not on Unix
    def _faults() -> int:
        return 0

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_train import _sync, peak_flops  # noqa: E402  (the same peak measurement as the training benchmark)

MODELS = {
    "1-D": (lambda: (MLPGenerator(1, 1, (32, 32), noise="uniform"), MLPDiscriminator(1, (64, 64))), 1),
    "ring": (lambda: (MLPGenerator(2, 2, (128, 128, 128)), MLPDiscriminator(2, (128, 128))), 2),
}
SIZES = (1, 4, 8, 16)


class VmapGame:
    """The same game (non-saturating loss, k = 1, Adam) for S members with torch.func: stacked
    parameters, ``functional_call`` mapped over the member axis with ``vmap``. Plain MLPs only."""

    def __init__(self, players, data, members, batch, device):
        from torch.func import stack_module_state

        pairs = []
        for s in range(members):
            torch.manual_seed(s)
            pairs.append(players())
        self.g_proto = copy.deepcopy(pairs[0][0]).to("meta")
        self.d_proto = copy.deepcopy(pairs[0][1]).to("meta")
        g_params, _ = stack_module_state([g.to(device) for g, _ in pairs])
        d_params, _ = stack_module_state([d.to(device) for _, d in pairs])
        self.g_params = {k: v.detach().requires_grad_() for k, v in g_params.items()}
        self.d_params = {k: v.detach().requires_grad_() for k, v in d_params.items()}
        self.opt_g = torch.optim.Adam(self.g_params.values(), lr=2e-4, betas=(0.5, 0.999))
        self.opt_d = torch.optim.Adam(self.d_params.values(), lr=2e-4, betas=(0.5, 0.999))
        self.data, self.S, self.m, self.device = data.to(device), members, batch, device
        self.latent = pairs[0][0].latent_dim

    def _g(self, params, z):
        from torch.func import functional_call
        return functional_call(self.g_proto, params, (z,))

    def _d(self, params, x):
        from torch.func import functional_call
        return functional_call(self.d_proto, params, (x,))

    def step(self):
        from torch.func import vmap

        S, m = self.S, self.m
        x = self.data[torch.randint(len(self.data), (S, m), device=self.device)]
        z = torch.randn(S, m, self.latent, device=self.device)
        with torch.no_grad():
            fake = vmap(self._g)(self.g_params, z)
        logits = vmap(self._d)(self.d_params, torch.cat([x, fake], 1))
        d_loss = vmap(discriminator_loss)(logits[:, :m], logits[:, m:]).sum()
        self.opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        self.opt_d.step()
        z = torch.randn(S, m, self.latent, device=self.device)
        frozen = {k: v.detach() for k, v in self.d_params.items()}
        g_loss = vmap(generator_loss_non_saturating)(vmap(self._d)(frozen, vmap(self._g)(self.g_params, z))).sum()
        self.opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        self.opt_g.step()


def config(device):
    return TrainConfig(batch_size=256, max_steps=10**9, lr_d=2e-4, lr_g=2e-4, device=device, progress=False,
                       log_every=50, snapshot_every=-1, checkpoint_every=-1)


def stepper(trainer):
    """One step of ``trainer.run()``'s loop: a train step (whose callbacks read the statistics back every
    ``log_every`` steps)."""
    return trainer.train_step


def loops(name, device):
    """``{label: (step function, members)}`` for one model kind."""
    players, dim = MODELS[name]
    data = torch.randn(20_000, dim, generator=torch.Generator().manual_seed(0))
    out = {"Trainer (1 seed)": (stepper(train_pair(config(device), players, data, run=False)), 1)}
    for s in SIZES:
        out[f"ensemble S={s}"] = (stepper(EnsembleTrainer(config(device), players, data, members=s)), s)
    out["torch.func vmap S=8"] = (VmapGame(players, data, 8, 256, device).step, 8)
    return out


_FRESH = """
import sys, time, torch
sys.path.insert(0, {here!r})
import ganlib.engine.runtime
if {default}:
    ganlib.engine.workers._KEPT = False  # as if keep_freed_memory had run and found no glibc
from bench_ensemble import MODELS, config, stepper, _faults
from ganlib.engine.ensemble import EnsembleTrainer
torch.set_num_threads({threads})
players, dim = MODELS["ring"]
step = stepper(EnsembleTrainer(config(torch.device("cpu")), players, torch.randn(20_000, dim), members=8))
for _ in range(20):
    step()
best, faults = float("inf"), 0
for _ in range(5):
    f0, t = _faults(), time.perf_counter()
    for _ in range(20):
        step()
    best, faults = min(best, (time.perf_counter() - t) / 20), faults + _faults() - f0
print(f"{{1e3 * best:.2f}} {{faults / 100:.1f}}")
"""


def fresh_process_faults(threads: int, pairs: int = 3) -> None:
    """Ring ensemble, S = 8, in fresh processes: glibc's malloc defaults against keep_freed_memory,
    run in the order ABBA ``pairs`` times (the machine's speed drifts), medians reported."""
    import statistics
    import subprocess

    here = str(Path(__file__).resolve().parent)
    runs = {True: [], False: []}
    for default in [True, False, False, True] * pairs:
        out = subprocess.run([sys.executable, "-c", _FRESH.format(here=here, default=default, threads=threads)],
                             capture_output=True, text=True, check=True).stdout.split()
        runs[default].append((float(out[0]), float(out[1])))
    for default, label in ((True, "glibc malloc defaults"), (False, "keep_freed_memory (what the ensemble does)")):
        ms, faults = (statistics.median(v) for v in zip(*runs[default]))
        print(f"ring ensemble S=8, {2 * pairs} fresh processes, {label:42s}: median {ms:6.2f} ms/step "
              f"{faults:7.1f} page faults/step")


def flops_per_member_step(step, members):
    with FlopCounterMode(display=False) as counter:
        step()
    return counter.get_total_flops() / members


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rounds", type=int, default=15)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--device", default="auto")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    all_loops = {name: loops(name, device) for name in MODELS}
    flops = {(n, k): flops_per_member_step(fn, s) for n, ls in all_loops.items() for k, (fn, s) in ls.items()}
    best = {(n, k): float("inf") for n, ls in all_loops.items() for k in ls}
    faults = {key: 0 for key in best}
    peaks = []
    for _ in range(args.rounds):
        peaks.append(peak_flops(device, 2048, 5))
        for n, ls in all_loops.items():
            for k, (fn, s) in ls.items():
                for _ in range(3):  # warm, with this loop's own tensors in the caches
                    fn()
                _sync(device)
                f0, t = _faults(), time.perf_counter()
                for _ in range(args.steps):
                    fn()
                _sync(device)
                best[n, k] = min(best[n, k], (time.perf_counter() - t) / args.steps)
                faults[n, k] += _faults() - f0
    top = max(peaks)
    print(f"device={device.type} torch={torch.__version__} threads={args.threads} batch=256 "
          f"rounds={args.rounds}x(3 untimed + {args.steps} timed) steps, best round; peak fp32 matmul {top / 1e9:.1f} GFLOP/s")
    speedup_s8 = {}
    for n, ls in all_loops.items():
        base = 1 / best[n, "Trainer (1 seed)"]
        print(f"\n{n} models: {'loop':22s} {'ms/step':>8s} {'member-steps/s':>15s} {'vs Trainer':>10s} {'% of peak':>9s} "
              f"{'faults/step':>11s}")
        for k, (_, s) in ls.items():
            rate = s / best[n, k]
            print(f"{'':12s}{k:22s} {1e3 * best[n, k]:8.2f} {rate:15.0f} {rate / base:9.2f}x "
                  f"{100 * flops[n, k] * rate / top:8.2f}% {faults[n, k] / (args.rounds * args.steps):11.1f}")
        speedup_s8[n] = (8 / best[n, "ensemble S=8"]) / base
    for n in all_loops:
        marginal = (best[n, "ensemble S=16"] - best[n, "ensemble S=8"]) / 8
        print(f"{n} models: one more member costs {1e3 * marginal:.2f} ms (S=8 to 16), a Trainer step "
              f"{1e3 * best[n, 'Trainer (1 seed)']:.2f} ms: no S beats {best[n, 'Trainer (1 seed)'] / marginal:.2f}x")
    if device.type == "cpu":
        fresh_process_faults(args.threads)
    print(f"\nensemble at S=8 vs Trainer: 1-D {speedup_s8['1-D']:.2f}x, ring {speedup_s8['ring']:.2f}x")
    print(f"ensemble_speedup_s8={speedup_s8['1-D']:.2f} device={device.type}")


if __name__ == "__main__":
    main()
