"""ganlib.engine.workers.parallel_map and ganlib.recipes.seeds.map_seeds: independent runs on every core."""

import os

import pytest
import torch

from ganlib.engine.config import TrainConfig
from ganlib.engine.ensemble import EnsembleTrainer
from ganlib.recipes.seeds import map_seeds
from ganlib.nets.models import MLPDiscriminator, MLPGenerator
from ganlib.engine.workers import parallel_map


def test_results_keep_the_order_of_the_items_and_lambdas_need_no_pickling():
    offset = 7  # a closure over a local: nothing but the results crosses the process boundary
    assert parallel_map(lambda n: n * n + offset, range(6), processes=2) == [n * n + offset for n in range(6)]


def test_workers_are_other_processes_with_one_thread():
    out = parallel_map(lambda _: (os.getpid(), torch.get_num_threads()), range(4), processes=2)
    assert {threads for _, threads in out} == {1}
    assert os.getpid() not in {pid for pid, _ in out}


def test_one_process_runs_in_this_process():
    assert parallel_map(lambda _: os.getpid(), range(3), processes=1) == [os.getpid()] * 3


def test_an_exception_in_a_worker_is_raised_here():
    def fn(n):
        if n == 2:
            raise ValueError("item two is bad")
        return n

    with pytest.raises(ValueError, match="item two is bad"):
        parallel_map(fn, range(4), processes=2)


def test_a_killed_worker_raises_instead_of_hanging():
    def fn(n):
        if n == 1:
            os._exit(9)  # the worker dies without returning
        return n

    with pytest.raises(RuntimeError, match="worker process died"):
        parallel_map(fn, range(3), processes=2)


@pytest.mark.parametrize("processes", [0, -1, 1.5, True])
def test_bad_process_counts_are_refused(processes):
    with pytest.raises(ValueError, match="processes"):
        parallel_map(abs, [1], processes=processes)


def test_map_seeds_flattens_the_chunks_in_seed_order():
    assert map_seeds(lambda part: [(s, len(part)) for s in part], range(7), chunk=3) == \
        [(0, 3), (1, 3), (2, 3), (3, 3), (4, 3), (5, 3), (6, 1)]


def test_map_seeds_refuses_a_job_that_loses_a_seed():
    with pytest.raises(ValueError, match="returned 1 results for the 2 seeds"):
        map_seeds(lambda part: part[:1], [0, 1], chunk=2)
    with pytest.raises(ValueError, match="chunk"):
        map_seeds(lambda part: part, [0], chunk=0)


def _final_weights(processes):
    cfg = TrainConfig(batch_size=32, max_steps=20, device="cpu", progress=False, snapshot_every=-1, log_every=10)
    data = torch.randn(512, 1, generator=torch.Generator().manual_seed(0)) * 0.5 + 4

    def job(seeds):
        ens = EnsembleTrainer(cfg, lambda: (MLPGenerator(1, 1, (8,)), MLPDiscriminator(1, (8,))), data, seeds=seeds)
        ens.run()
        return [torch.cat([p.detach().reshape(-1) for p in ens.member(s)[0].parameters()]) for s in range(len(seeds))]

    return map_seeds(job, [0, 1, 2, 3], chunk=2, processes=processes)


def test_the_number_of_processes_does_not_change_the_results():
    one, two = _final_weights(1), _final_weights(2)
    assert all(torch.equal(a, b) for a, b in zip(one, two))
