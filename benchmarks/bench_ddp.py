"""One game on N processes: ganlib's Trainer under torchrun (DistributedDataParallel) against one process.

For two models, global batch m (each of N processes trains m/N samples per update), images per
second of training (one image = one real sample through one update of D and one of G, k = 1):

* ``dcgan``: the DCGAN pair of ``--preset mnist-dcgan`` (width 64) on 28x28 images, m = 64;
* ``ring``: the toy MLPs of chapters 06 and 08 (G 2-128-128-128-2, D 2-128-128-1), m = 256;

three ways on the same machine: one process with T threads, one process with 1 thread, and
``torchrun --nproc_per_node=N`` with T/N threads per process (gloo on the CPU, NCCL on CUDA, one
GPU per process). Each way runs in a fresh subprocess: 5 untimed steps, then the best of 5
rounds of ``--steps`` steps (ranks wait for each other at the start and end of a round).

Usage: ``python benchmarks/bench_ddp.py [--nproc 2] [--threads 2] [--steps 20] [--device cpu]``.
The last line: ``ddp_speedup=<x.xx> nproc=<N> device=<cpu|cuda>`` (DCGAN, N processes against
one process with the same total thread count).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

import torch

MODELS = {"dcgan": 64, "ring": 256}


def worker(args) -> None:
    from ganlib.engine.config import TrainConfig
    from ganlib.engine.distributed import init_from_env, world
    from ganlib.recipes.experiments import train_pair
    from ganlib.nets.models import MLPDiscriminator, MLPGenerator, build_models

    torch.set_num_threads(args.threads)
    init_from_env(args.device)
    rank, n = world()
    m = MODELS[args.model]
    if args.model == "dcgan":
        data = torch.rand(4000, 1, 28, 28, generator=torch.Generator().manual_seed(0))
        players = lambda: build_models("dcgan", (1, 28, 28), generator_kwargs={"width": 64}, discriminator_kwargs={"width": 64})  # noqa: E731,E501
    else:
        data = torch.randn(20_000, 2, generator=torch.Generator().manual_seed(0))
        players = lambda: (MLPGenerator(2, 2, (128, 128, 128)), MLPDiscriminator(2, (128, 128)))  # noqa: E731
    cfg = TrainConfig(batch_size=m, max_steps=10**9, device=args.device, progress=False, log_every=10,
                      snapshot_every=-1, checkpoint_every=-1)
    t = train_pair(cfg, players, data, run=False)
    sync = (lambda: torch.distributed.barrier()) if n > 1 else (lambda: None)  # noqa: E731
    cuda = t.device.type == "cuda"
    for _ in range(5):
        t.train_step()
    best = float("inf")
    for _ in range(5):
        if cuda:
            torch.cuda.synchronize()
        sync()
        start = time.perf_counter()
        for _ in range(args.steps):
            t.train_step()  # its callbacks read the statistics back every log_every steps
        if cuda:
            torch.cuda.synchronize()
        sync()
        best = min(best, time.perf_counter() - start)
    if rank == 0:
        print(f"RESULT {m * args.steps / best:.1f}")
    if n > 1:
        torch.distributed.destroy_process_group()


def measure(model: str, nproc: int, threads: int, steps: int, device: str) -> float:
    here = os.path.abspath(__file__)
    cmd = [here, "--worker", "--model", model, "--threads", str(threads), "--steps", str(steps), "--device", device]
    if nproc > 1:
        cmd = ["-m", "torch.distributed.run", f"--nproc_per_node={nproc}", "--max-restarts=0", "--standalone", *cmd]
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    out = subprocess.run([sys.executable, *cmd], capture_output=True, text=True, env=env)
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("RESULT ")]
    if out.returncode != 0 or not lines:
        raise SystemExit(f"error: {model} with {nproc} process(es) failed: {out.stderr.strip().splitlines()[-1:]}")
    return float(lines[-1].split()[1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--nproc", type=int, default=2)
    p.add_argument("--threads", type=int, default=2, help="total threads (per process: threads / nproc)")
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--device", default="cpu")
    p.add_argument("--model", default="dcgan", choices=sorted(MODELS))
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        return worker(args)
    per = max(1, args.threads // args.nproc)
    print(f"device={args.device} torch={torch.__version__} cpus={os.cpu_count()} steps={args.steps}x5 rounds, best "
          f"round; images/s (global batch through one D and one G update)")
    print(f"{'model':6s} {'batch':>5s} {'1 proc x ' + str(args.threads) + ' thr':>16s} {'1 proc x 1 thr':>15s} "
          f"{str(args.nproc) + ' proc x ' + str(per) + ' thr':>16s} {'speed-up':>9s}")
    speedup = {}
    for model, m in MODELS.items():
        one = measure(model, 1, args.threads, args.steps, args.device)
        single_thread = measure(model, 1, 1, args.steps, args.device)
        many = measure(model, args.nproc, per, args.steps, args.device)
        speedup[model] = many / one
        print(f"{model:6s} {m:5d} {one:16.0f} {single_thread:15.0f} {many:16.0f} {speedup[model]:8.2f}x")
    print(f"ddp_speedup={speedup['dcgan']:.2f} nproc={args.nproc} device={args.device}")


if __name__ == "__main__":
    main()
