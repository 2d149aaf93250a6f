"""The loop under torch.distributed: 2 CPU processes (gloo) train the single-process game.

One spawn of two processes runs every multi-process check (starting them costs seconds): each
config trains 20 steps with a per-rank batch of m/2 and is compared with one process at batch m
(same seed, hence the same initial weights and the same global batches); the weights of both
ranks are compared through an all-gather of their hash; a run checkpointed at step 5 and resumed
in a fresh Trainer matches the uninterrupted run bit for bit; batch norm in D (its two forwards
in one wrapped call) and in G keeps the ranks identical. Everything runs in float64 (the ``float64``
fixture of conftest.py says why): the comparisons then hold to 1e-9 whatever kernels the CPU runs. Two torchrun launches check the
command line (--dry-run) and that a rank killed mid-run ends the launch with an error, not a hang.
"""
import hashlib
import os
import socket
import subprocess
import sys
import textwrap
import time

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from ganlib.engine.config import TrainConfig
from ganlib.engine.distributed import Shard, world
from ganlib.recipes.experiments import train_pair
from ganlib.nets.models import MLPDiscriminator, MLPGenerator, build_models

CONFIGS = [("non_saturating", 1), ("non_saturating", 3), ("wgan-gp", 1), ("wgan-gp", 3)]
DATA = (torch.randn(512, 2, generator=torch.Generator().manual_seed(1)) * 0.5 + 1.0).double()
STEPS = 20


def players():
    return MLPGenerator(2, 2, (16, 16)), MLPDiscriminator(2, (16, 16))


def cfg(loss, k, **kw):
    # SGD with momentum (the paper's optimiser): Adam divides each gradient by its running size, so
    # on its first steps a near-zero gradient whose rounding differs between one and two processes
    # (1e-7) moves by a full learning rate either way, which would hide the sums under test
    base = dict(loss=loss, k=k, batch_size=32, max_steps=STEPS, optimizer="SGD", optimizer_kwargs={"momentum": 0.5},
                lr_d=0.02, lr_g=0.02, device="cpu", progress=False, log_every=10, snapshot_every=-1,
                checkpoint_every=-1, seed=5)
    return TrainConfig(**{**base, **kw})


def flat(trainer):
    return torch.cat([p.detach().reshape(-1) for m in (trainer.G, trainer.D) for p in m.parameters()])


def digest(t):
    return hashlib.sha256(t.numpy().tobytes()).hexdigest()


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(rank, world_size, port, out_dir):
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    torch.set_default_dtype(torch.float64)
    dist.init_process_group("gloo", rank=rank, world_size=world_size)
    try:
        results = {}
        for loss, k in CONFIGS:
            t = train_pair(cfg(loss, k), players, DATA)
            hashes = [None] * world_size
            dist.all_gather_object(hashes, digest(flat(t)))
            results[loss, k] = {"weights": flat(t), "history": t.history, "hashes": hashes}
        # checkpoint at step 5, resume in a fresh Trainer: bit-identical to the uninterrupted run
        path = os.path.join(out_dir, "checkpoint.pt")
        c = cfg("wgan-gp", 1, max_steps=10, out_dir=out_dir)
        a = train_pair(c, players, DATA, run=False)
        a.run(steps=5)
        a.save_checkpoint(path)
        a.run()
        b = train_pair(c, players, DATA, run=False).load_checkpoint(path)
        b.run()
        results["resume"] = bool(torch.equal(flat(a), flat(b))) and a.history == b.history
        results["shard"] = (Shard(32, torch.device("cpu")).local, world())
        # batch norm: in D (two D forwards in one wrapped call) and in G (running statistics broadcast)
        bn = {}
        for name, pair in (("D", lambda: build_models("dcgan", (1, 28, 28), generator_kwargs={"width": 4},
                                                      discriminator_kwargs={"width": 4})),
                           ("G", lambda: (MLPGenerator(2, 2, (16, 16), batch_norm=True), MLPDiscriminator(2, (16,))))):
            data = torch.rand(64, 1, 28, 28, generator=torch.Generator().manual_seed(0)) if name == "D" else DATA
            t = train_pair(cfg("non_saturating", 2, max_steps=4, batch_size=16), pair, data)
            hashes = [None] * world_size
            dist.all_gather_object(hashes, digest(flat(t)))
            bn[name] = (t._fuse, hashes, bool(torch.isfinite(flat(t)).all()))
        results["batch_norm"] = bn
        if rank == 0:
            torch.save(results, os.path.join(out_dir, "results.pt"))
    finally:
        dist.destroy_process_group()


@pytest.fixture(scope="module")
def two_ranks(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("ddp"))
    mp.spawn(_worker, args=(2, _free_port(), out), nprocs=2, join=True)
    return torch.load(os.path.join(out, "results.pt"), weights_only=False)


@pytest.mark.parametrize("loss,k", CONFIGS)
def test_two_ranks_at_half_batch_match_one_process_at_full_batch(two_ranks, one_thread, float64, loss, k):
    single = train_pair(cfg(loss, k), players, DATA)
    ranked = two_ranks[loss, k]
    assert ranked["weights"].dtype == torch.float64
    torch.testing.assert_close(ranked["weights"], flat(single), atol=1e-9, rtol=0)
    for col in ("d_loss", "g_loss", "d_real", "d_fake"):  # the history holds the mean over ranks
        torch.testing.assert_close(torch.tensor(ranked["history"][col]), torch.tensor(single.history[col]),
                                   atol=1e-9, rtol=0)


@pytest.mark.parametrize("loss,k", CONFIGS)
def test_weights_identical_across_ranks(two_ranks, loss, k):
    hashes = two_ranks[loss, k]["hashes"]
    assert len(hashes) == 2 and hashes[0] == hashes[1]


def test_resume_under_two_ranks_is_bit_identical(two_ranks):
    assert two_ranks["resume"] is True


def test_each_rank_trains_half_the_global_batch(two_ranks):
    assert two_ranks["shard"] == (16, (0, 2))


@pytest.mark.parametrize("where", ["D", "G"])
def test_batch_norm_under_two_ranks_keeps_the_ranks_identical(two_ranks, where):
    fused, hashes, finite = two_ranks["batch_norm"][where]
    assert fused is (where == "G")  # a D with batch norm takes x and G(z) in two forwards
    # the weights; running statistics are each rank's own (rank 0's are checkpointed and sampled with)
    assert finite and hashes[0] == hashes[1]


def test_batch_not_divisible_by_the_ranks_is_one_clear_error(monkeypatch):
    monkeypatch.setattr("ganlib.engine.distributed.world", lambda: (0, 3))
    with pytest.raises(ValueError, match="batch_size 32 .* divisible by the 3 processes"):
        Shard(32, torch.device("cpu"))


def _torchrun(args, cwd, timeout):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": os.getcwd()}
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--max-restarts=0",
                           "--master-port", str(_free_port()), *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)
    return proc, time.perf_counter() - start


def test_dry_run_under_torchrun_writes_the_run_folder_once(tmp_path):
    proc, _ = _torchrun(["-m", "ganlib", "train", "--dataset", "ring", "--dry-run", "--no-progress",
                         "--out", str(tmp_path / "run")], tmp_path, timeout=180)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.count("training mlp") == 1 and "2 processes, 10 samples each per batch" in proc.stdout
    assert {p.name for p in (tmp_path / "run").iterdir()} >= {"config.json", "checkpoint.pt", "history.csv",
                                                              "samples_final.csv"}


def test_a_rank_killed_mid_run_ends_the_launch_with_an_error(tmp_path):
    script = tmp_path / "die.py"
    script.write_text(textwrap.dedent(f"""
        import os, torch
        from ganlib.engine.distributed import init_from_env, world
        from ganlib.recipes.experiments import train_pair
        from ganlib.engine.config import TrainConfig
        from ganlib.nets.models import MLPDiscriminator, MLPGenerator, build_models
        init_from_env("cpu")
        def die(t):
            if world()[0] == 1 and t.step == 5:
                os._exit(7)  # a crashed process: no exception, no clean-up
        cfg = TrainConfig(batch_size=32, max_steps=10_000, device="cpu", progress=False, log_every=10,
                          snapshot_every=-1, checkpoint_every=-1)
        train_pair(cfg, lambda: (MLPGenerator(2, 2, (16,)), MLPDiscriminator(2, (16,))), torch.randn(512, 2),
                   callbacks={{"on_step_end": die}})
    """))
    proc, seconds = _torchrun([str(script)], tmp_path, timeout=300)
    assert proc.returncode != 0
    assert "exitcode" in proc.stderr and "7" in proc.stderr, proc.stderr[-2000:]
    assert seconds < 120, f"the launch took {seconds:.0f} s to end after a rank died"
