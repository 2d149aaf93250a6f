"""Checkpoints: atomic writes, weights_only loads, RNG round trips, bit-identical resume."""

import os
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from ganlib.engine.checkpoint import get_rng_state, load_checkpoint, save_checkpoint, set_rng_state
from ganlib.nets.models import MLPDiscriminator, MLPGenerator
from ganlib.engine.config import TrainConfig
from ganlib.engine.loop import Trainer

ROOT = Path(__file__).resolve().parents[1]


def test_atomic_write_keeps_previous_file_on_failure(tmp_path, monkeypatch):
    path = tmp_path / "c.pt"
    save_checkpoint({"a": torch.ones(3)}, path)

    def broken_save(obj, f):
        f.write(b"partial")
        raise RuntimeError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(RuntimeError, match="disk full"):
        save_checkpoint({"a": torch.zeros(3)}, path)
    monkeypatch.undo()
    assert torch.equal(load_checkpoint(path)["a"], torch.ones(3))
    assert [p.name for p in tmp_path.iterdir()] == ["c.pt"]  # no temporary file left behind


def test_load_missing_raises(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_checkpoint(tmp_path / "nope.pt")


def test_rng_state_round_trip_through_weights_only_file(tmp_path):
    g = torch.Generator().manual_seed(5)
    random.seed(1), np.random.seed(2), torch.manual_seed(3)
    np.random.randn()  # leaves a cached gaussian in numpy's state
    save_checkpoint({"rng": get_rng_state(g)}, tmp_path / "r.pt")
    first = (random.random(), np.random.rand(), torch.rand(2), torch.rand(2, generator=g))
    set_rng_state(torch.load(tmp_path / "r.pt", weights_only=True)["rng"], g)
    second = (random.random(), np.random.rand(), torch.rand(2), torch.rand(2, generator=g))
    assert first[:2] == second[:2]
    assert torch.equal(first[2], second[2]) and torch.equal(first[3], second[3])


def test_trainer_checkpoint_contents_load_with_weights_only(tmp_path):
    data = torch.randn(64, 2)
    cfg = TrainConfig(batch_size=16, max_steps=3, progress=False, out_dir=str(tmp_path), checkpoint_every=1)
    tr = Trainer(cfg, MLPGenerator(2, 2), MLPDiscriminator(2), data, meta={"model": "mlp"})
    tr.run()
    state = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    for key in ("generator", "discriminator", "optim_d", "optim_g", "step", "rng", "config", "pending"):
        assert key in state
    assert state["step"] == 3 and state["config"] == cfg.to_dict() and state["meta"] == {"model": "mlp"}
    assert set(state["rng"]) >= {"python", "numpy", "torch", "generator"}


def test_resume_in_new_process_is_bit_identical(tmp_path):
    worker = str(ROOT / "tests" / "_resume_worker.py")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    ckpt, full, resumed = tmp_path / "half.pt", tmp_path / "full.pt", tmp_path / "resumed.pt"
    n = 8  # 10 steps per epoch: the checkpoint is mid-epoch and the resumed run crosses an epoch
    for args in (["fresh", ckpt, full, n], ["resume", ckpt, resumed, n]):
        subprocess.run([sys.executable, worker, *map(str, args)], check=True, env=env, timeout=120)
    a, b = torch.load(full, weights_only=True), torch.load(resumed, weights_only=True)
    for net in ("G", "D"):
        for k in a[net]:
            assert torch.equal(a[net][k], b[net][k]), f"{net}.{k} differs after resume"
    assert a["history"] == b["history"] and len(a["history"]["step"]) == 2 * n
    assert len(a["snapshots"]) == len(b["snapshots"]) == 5  # steps 0, 5, 10, 15 and the end (16)
    assert all(torch.equal(x, y) for x, y in zip(a["snapshots"], b["snapshots"]))
