"""Subprocess worker for the bit-identical resume test (tests/test_checkpoint.py).

usage: python _resume_worker.py fresh CKPT FULL_OUT N   -- train N steps, save CKPT; then a fresh
                                                          trainer trains 2N steps, saves weights to FULL_OUT
       python _resume_worker.py resume CKPT OUT N       -- load CKPT, train N more steps, save weights to OUT
"""

import sys

import torch

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)

from ganlib.nets.models import build_models  # noqa: E402
from ganlib.engine.config import TrainConfig  # noqa: E402
from ganlib.engine.loop import Trainer  # noqa: E402


def make_trainer(total_steps: int) -> Trainer:
    data = torch.rand(200, 784, generator=torch.Generator().manual_seed(123))
    torch.manual_seed(7)
    G, D = build_models("paper", (784,), pixel_means=data.mean(0))
    cfg = TrainConfig(optimizer="paper", lr_d=0.1, lr_g=0.1, batch_size=20, max_steps=total_steps, seed=3,
                      device="cpu", log_every=3, progress=False, snapshot_every=5)
    return Trainer(cfg, G, D, data)


def weights(tr: Trainer) -> dict:
    return {"G": tr.G.state_dict(), "D": tr.D.state_dict(), "history": tr.history,
            "snapshots": [x for _, x in tr.snapshots]}


if __name__ == "__main__":
    mode, ckpt, out, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    if mode == "fresh":
        half = make_trainer(2 * n)
        half.run(n)
        half.save_checkpoint(ckpt)
        full = make_trainer(2 * n)
        full.run()
        torch.save(weights(full), out)
    else:
        tr = make_trainer(2 * n).load_checkpoint(ckpt)
        tr.run()
        torch.save(weights(tr), out)
