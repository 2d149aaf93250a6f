r"""Many seeds of one experiment: the chapters' comparisons are over seeds, and a seed is cheap only
when it trains beside others.

* :func:`run_seeds`: one configuration over many seeds, in ensembles of ``chunk`` seeds
  (:class:`ganlib.engine.ensemble.EnsembleTrainer`: one stacked forward and backward serve them all),
  the ensembles in parallel processes, one per CPU core; one result per seed, with what the
  chapter asked to keep (a recorder's series, samples, a measurement of the players) and its time.
* :func:`map_seeds`: the same chunking for any job.

The chunks are fixed (``seeds[0:chunk]``, ``seeds[chunk:2 chunk]``, ...) whatever the machine, so the
results do not depend on its number of cores. A seed's run in an ensemble keeps its own initial
weights, minibatches and noise, but the stacked computation rounds differently from a separate run,
so over thousands of steps it is not bit-for-bit the run :func:`ganlib.recipes.experiments.train_pair`
would give with that seed: an equally valid run of the same recipe.
"""

from __future__ import annotations

import copy
from typing import Any, Callable, Dict, List, Optional, Sequence

import pandas as pd
import torch

from ganlib.engine.config import TrainConfig
from ganlib.engine.ensemble import EnsembleTrainer
from ganlib.engine.workers import parallel_map

__all__ = ["run_seeds", "map_seeds"]


def run_seeds(config: TrainConfig, players: Callable[[], Any], data: Any, seeds: Sequence[int], *,
              recorder: Any = None, measure: Optional[Callable[[Any, Any], Dict[str, Any]]] = None,
              n_samples: int = 0, noise_seed: int = 0, chunk: int = 5, processes: Optional[int] = None
              ) -> List[Dict[str, Any]]:
    """Train ``config`` from every seed of ``seeds`` (see the module docstring) and return one dict per
    seed, in the order of ``seeds``:

    - ``seed``; ``finished`` (no loss turned non-finite) and ``failed_step`` (else the step it did);
    - ``seconds``: its ensemble's wall time over its number of seeds;
    - ``history``: its rows of the ensemble's history (a DataFrame);
    - ``records`` (with ``recorder``): the recorder's series for this seed, ``{key: [value per record]}``;
      ``recorder`` is a callback with ``records`` (e.g. :class:`ganlib.metrics.JSDRecorder`), copied
      for each ensemble, whose per-member entries are lists over the members;
    - ``samples`` (with ``n_samples``): ``n_samples`` draws of its generator (the moving average when
      the config keeps one) from noise seeded by ``noise_seed + seed``, as a numpy array;
    - everything ``measure(G, D)`` returns for its trained players (plain modules), computed in the
      worker.

    Args:
        config: the run (its ``seed`` is replaced by each seed's).
        players: a function of no arguments returning a fresh ``(G, D)`` (called after seeding), e.g.
            :class:`ganlib.nets.players.MLPPlayers`.
        data: the training samples, shared by every seed.
        chunk, processes: seeds per ensemble, and worker processes (default: one per core).

    Example:
        >>> import torch
        >>> from ganlib.engine.config import TrainConfig
        >>> from ganlib.nets.players import MLPPlayers
        >>> from ganlib.recipes.seeds import run_seeds
        >>> cfg = TrainConfig(batch_size=32, max_steps=5, device="cpu", progress=False, snapshot_every=-1)
        >>> data = torch.randn(256, 2, generator=torch.Generator().manual_seed(0))
        >>> runs = run_seeds(cfg, MLPPlayers(dim=2, g_hidden=(8,), d_hidden=(8,)), data, [0, 1, 2], n_samples=10, chunk=2)
        >>> [(r["seed"], r["finished"], len(r["history"]), r["samples"].shape) for r in runs]
        [(0, True, 5, (10, 2)), (1, True, 5, (10, 2)), (2, True, 5, (10, 2))]
    """
    if isinstance(n_samples, bool) or not isinstance(n_samples, int) or n_samples < 0:
        raise ValueError(f"n_samples must be an integer >= 0, got {n_samples!r}")

    def job(part: list) -> list:
        ens = EnsembleTrainer(config, players, data, seeds=part)
        rec = copy.deepcopy(recorder)
        if rec is not None:
            ens.add_callback(rec)
        ens.run()
        hist, summary = pd.DataFrame(ens.history), ens.summary()
        if n_samples:
            z = torch.stack([ens.G.sample_noise(n_samples, generator=torch.Generator().manual_seed(noise_seed + seed))
                             for seed in part])
            samples = ens.sample(z)
        out = []
        for s, seed in enumerate(part):
            run = {"seed": seed, "finished": summary[s]["finished"], "failed_step": summary[s]["failed_step"],
                   "seconds": ens.wall_time / len(part), "history": hist[hist.member == s].reset_index(drop=True)}
            if rec is not None:
                run["records"] = {key: [r[key][s] if isinstance(r[key], (list, tuple)) or getattr(r[key], "ndim", 0)
                                        else r[key] for r in rec.records] for key in rec.records[0]}
            if n_samples:
                run["samples"] = samples[s].numpy()
            if measure is not None:
                run.update(measure(*ens.member(s)))
            out.append(run)
        return out

    return map_seeds(job, seeds, chunk=chunk, processes=processes)


def map_seeds(job: Callable[[list], Sequence[Any]], seeds: Sequence[int], chunk: int = 5,
              processes: Optional[int] = None) -> list:
    """Run ``job`` on the seeds in chunks of ``chunk``, the chunks in parallel processes.

    ``job(chunk_of_seeds)`` trains those seeds (typically one
    :class:`ganlib.engine.ensemble.EnsembleTrainer` with ``seeds=chunk_of_seeds``) and returns one
    picklable result per seed, in order. The chunks are always the same (``seeds[0:chunk]``,
    ``seeds[chunk:2 chunk]``, ...), whatever the number of cores, so the results do not depend on
    the machine's core count; :func:`ganlib.engine.workers.parallel_map` spreads them over ``processes``
    forked workers of one thread each (all cores by default).

    Returns:
        the results of every seed, in the order of ``seeds``.

    Raises:
        ValueError: ``chunk`` below 1, no seeds, or a job that returned a number of results other
            than the number of seeds it was given.

    Example:
        >>> from ganlib.recipes.seeds import map_seeds
        >>> map_seeds(lambda part: [10 * s for s in part], [0, 1, 2, 3, 4], chunk=2)
        [0, 10, 20, 30, 40]
    """
    seeds = list(seeds)
    if isinstance(chunk, bool) or not isinstance(chunk, int) or chunk < 1:
        raise ValueError(f"chunk must be an integer >= 1, got {chunk!r}")
    if not seeds:
        raise ValueError("map_seeds needs at least one seed")
    parts = [seeds[i:i + chunk] for i in range(0, len(seeds), chunk)]
    out = []
    for part, results in zip(parts, parallel_map(job, parts, processes)):
        results = list(results)
        if len(results) != len(part):
            raise ValueError(f"job returned {len(results)} results for the {len(part)} seeds {part}")
        out.extend(results)
    return out
