"""Drawing samples: one forward pass of a GAN generator against Gibbs sweeps of a Boltzmann machine.

The paper's first advantage of adversarial nets is that "no Markov chains are needed": its MNIST
generator (z in R^100 -> 1200 -> 1200 -> 784, ReLU, sigmoid output; ``ganlib.nets.models.PaperGenerator``)
draws an independent sample in one forward pass. A restricted Boltzmann machine of the size used
for MNIST at the time (784 visible, 500 hidden binary units; Salakhutdinov and Hinton 2009 use
500-500-1000 for their DBM) draws one by block Gibbs sampling, each sweep

    h ~ Bernoulli(sigmoid(v W + c)),   v ~ Bernoulli(sigmoid(h W^T + b)),

repeated until the chain has forgotten its start. How many sweeps that takes depends on the model
and is not known in advance; the benchmark therefore prints the cost of one sweep and of chains of
10, 100 and 1,000 sweeps, all against one generator pass, for the same batch of samples. The
RBM's weights are random (its cost does not depend on their values).

Usage: ``python benchmarks/bench_sampling.py [--batch 1000] [--threads 1] [--rounds 7]``.
The last line: ``generator_ms=<ms> sweep_ms=<ms> sweeps_per_generator_pass=<x.xx>``.
"""
from __future__ import annotations

import argparse
import time

import torch
from torch.distributions import Bernoulli

from ganlib.nets.models import PaperGenerator


def best_ms(fn, rounds: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1000 * min(times)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--batch", type=int, default=1000, help="samples drawn at once")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    p.add_argument("--rounds", type=int, default=7, help="timed rounds; the best is kept")
    args = p.parse_args(argv)
    if args.batch < 1 or args.threads < 1 or args.rounds < 1:
        p.error("--batch, --threads and --rounds must be >= 1")
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    G = PaperGenerator().eval()
    W, b, c = 0.01 * torch.randn(784, 500), torch.zeros(784), torch.zeros(500)
    v = torch.bernoulli(torch.full((args.batch, 784), 0.5))

    @torch.no_grad()
    def generator_pass():
        return G(G.sample_noise(args.batch))

    @torch.no_grad()
    def gibbs_sweep():
        h = Bernoulli(logits=v @ W + c).sample()
        return Bernoulli(logits=h @ W.T + b).sample()

    g_ms, sweep_ms = best_ms(generator_pass, args.rounds), best_ms(gibbs_sweep, args.rounds)
    print(f"{args.batch} samples of 784 pixels, {args.threads} thread(s), best of {args.rounds} rounds")
    print(f"{'sampler':42s} {'ms':>10s} {'x generator':>12s}")
    print(f"{'GAN generator, one forward pass':42s} {g_ms:10.2f} {1.0:12.2f}")
    for sweeps in (1, 10, 100, 1000):
        print(f"{f'RBM 784-500, {sweeps} Gibbs sweep(s)':42s} {sweeps * sweep_ms:10.2f} {sweeps * sweep_ms / g_ms:12.2f}")
    print(f"generator_ms={g_ms:.3f} sweep_ms={sweep_ms:.3f} sweeps_per_generator_pass={g_ms / sweep_ms:.2f}")


if __name__ == "__main__":
    main()
