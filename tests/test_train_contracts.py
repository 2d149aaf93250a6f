"""The loop's contracts: optimizer pairs built from the config (or checked when given), frozen players,
side-effect-free state, the shared train_pair helper, and batch-norm-aware fusing of D's forward."""
import math

import pytest
import torch
from torch import nn

from ganlib.engine.config import TrainConfig
from ganlib.recipes.experiments import train_pair
from ganlib.nets.layers import mixes_samples
from ganlib.nets.models import MLPDiscriminator, MLPGenerator
from ganlib.engine.optim import CosineToFloor, OptimizerPair, make_optimizers
from ganlib.engine.loop import Trainer

DATA = torch.randn(64, 2, generator=torch.Generator().manual_seed(5))


def small(**kw):
    base = dict(batch_size=16, max_steps=6, progress=False, log_every=4, snapshot_every=-1, device="cpu")
    base.update(kw)
    return TrainConfig(**base)


def players():
    return MLPGenerator(2, 2, (8,)), MLPDiscriminator(2, (8,))


def weights(module):
    return torch.cat([p.detach().reshape(-1) for p in module.parameters()])


def test_cosine_schedule_from_the_config_equals_the_same_lambdalr_written_by_hand():
    cfg = small(k=2, schedule="cosine", lr_floor=0.05, lr_d=2e-3, lr_g=5e-4, max_steps=8)
    a = train_pair(cfg, players, DATA)
    torch.manual_seed(cfg.seed)
    G, D = players()
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-3, betas=(0.5, 0.999), fused=True)  # the config's kernel on the CPU
    opt_g = torch.optim.Adam(G.parameters(), lr=5e-4, betas=(0.5, 0.999), fused=True)
    cosine = lambda n: lambda t: 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(t, n) / n))  # noqa: E731
    b = Trainer(cfg, G, D, DATA, optimizers=((opt_d, torch.optim.lr_scheduler.LambdaLR(opt_d, cosine(16))),
                                             (opt_g, torch.optim.lr_scheduler.LambdaLR(opt_g, cosine(8)))))
    b.run()
    assert torch.equal(weights(a.G), weights(b.G)) and torch.equal(weights(a.D), weights(b.D))
    assert a.history["lr_d"] == b.history["lr_d"] and a.history["lr_g"][-1] == pytest.approx(0.05 * 5e-4)


def test_cosine_to_floor_runs_from_one_to_the_floor():
    f = CosineToFloor(10, 0.01)
    assert f(0) == 1.0 and f(5) == pytest.approx(0.505) and f(10) == pytest.approx(0.01) and f(99) == f(10)


def test_adam_takes_the_fused_kernel_on_the_cpu_unless_the_config_picks_one():
    G, D = players()
    (opt_d, _), (opt_g, _) = make_optimizers(small(), G, D, total_steps=10, steps_per_epoch=2)
    assert opt_d.param_groups[0]["fused"] and opt_g.param_groups[0]["fused"]
    (opt_d, _), _ = make_optimizers(small(optimizer_kwargs={"foreach": True}), G, D, 10, 2)
    assert opt_d.param_groups[0]["foreach"] and not opt_d.param_groups[0]["fused"]
    (opt_d, _), _ = make_optimizers(small(optimizer="RMSprop", optimizer_kwargs={}), G, D, 10, 2)  # no fused kernel
    assert opt_d.param_groups[0]["foreach"]


def test_fused_and_foreach_adam_take_the_same_steps_up_to_rounding(float64):
    runs = []
    for kernel in ({"fused": True}, {"foreach": True}):
        runs.append(train_pair(small(optimizer_kwargs={"betas": (0.5, 0.999), **kernel}), players, DATA.double()))
    torch.manual_seed(small().seed)
    start = weights(players()[0])
    assert weights(runs[0].G).dtype == torch.float64
    assert torch.allclose(weights(runs[0].G), weights(runs[1].G), rtol=0, atol=1e-9)
    assert (weights(runs[0].G) - start).abs().max() > 1e-3  # both trained, the same way


def test_make_optimizers_spans_k_updates_of_d_per_step_and_the_paper_preset():
    G, D = players()
    (opt_d, sd), (opt_g, sg) = make_optimizers(small(k=3, schedule="cosine"), G, D, total_steps=10, steps_per_epoch=2)
    assert sd.lr_lambdas[0].updates == 30 and sg.lr_lambdas[0].updates == 10
    (opt_d, sd), (opt_g, sg) = make_optimizers(small(optimizer="paper", lr_d=0.1, lr_g=0.1, k=2), G, D, 10, 4)
    assert isinstance(opt_d, torch.optim.SGD) and sd.steps_per_epoch == 8 and sg.steps_per_epoch == 4


def test_learning_rate_zero_freezes_that_player():
    G, D = players()
    g0, d0 = weights(G).clone(), weights(D).clone()
    tr = train_pair(small(lr_g=0.0), (G, D), DATA)
    assert torch.equal(weights(tr.G), g0) and not torch.equal(weights(tr.D), d0)
    G, D = players()
    d0 = weights(D).clone()
    tr = train_pair(small(lr_d=0.0, schedule="cosine"), (G, D), DATA)
    assert torch.equal(weights(tr.D), d0)


def test_a_scheduler_must_drive_the_optimizer_it_is_paired_with():
    G, D = players()
    opt_d, opt_g = torch.optim.SGD(D.parameters(), lr=0.1), torch.optim.SGD(G.parameters(), lr=0.1)
    other = torch.optim.SGD(D.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="drives another optimizer"):
        Trainer(small(), G, D, DATA, optimizers=((opt_d, torch.optim.lr_scheduler.StepLR(other, 1)), (opt_g, None)))
    with pytest.raises(ValueError, match="exactly G's parameters"):
        Trainer(small(), G, D, DATA, optimizers=((opt_d, None), (torch.optim.SGD(D.parameters(), lr=0.1), None)))
    with pytest.raises(TypeError, match="optimizer pair for D"):
        Trainer(small(), G, D, DATA, optimizers=(opt_d, (opt_g, None)))


def test_optimizer_pairs_are_saved_and_restored_as_pairs(tmp_path):
    cfg = small(schedule="cosine", max_steps=8, out_dir=str(tmp_path), checkpoint_every=-1)
    tr = train_pair(cfg, players, DATA, run=False)
    tr.run(steps=3)
    path = tr.save_checkpoint(tmp_path / "c.pt")
    again = train_pair(cfg, players, DATA, run=False).load_checkpoint(path)
    assert isinstance(again.optim_d, OptimizerPair)
    assert again.optim_d.scheduler.last_epoch == 3 and again.optim_g.scheduler.last_epoch == 3
    tr.run()
    again.run()
    assert torch.equal(weights(tr.G), weights(again.G)) and tr.history == again.history


def test_state_dict_has_no_side_effects_and_keeps_unread_statistics():
    tr = train_pair(small(log_every=50, max_steps=10), players, DATA, run=False)
    logs = []
    tr.add_callback("on_log", lambda t: logs.append(t.step))
    for _ in range(3):
        tr.train_step()
    state = tr.state_dict()
    assert logs == [] and tr.history["step"] == [] and len(state["pending"]) == 3
    tr.log.buffer[0, 0] = float("nan")  # a NaN not yet read back: saving the state must not raise
    state = tr.state_dict()
    fresh = train_pair(small(log_every=50, max_steps=10), players, DATA, run=False)
    fresh.load_state_dict(state)
    with pytest.raises(FloatingPointError, match="non-finite loss at step 1"):
        fresh.flush()


def test_train_pair_seeds_before_building_the_players():
    torch.manual_seed(123)
    a = train_pair(small(seed=4), players, DATA)
    torch.rand(1000)  # whatever ran before does not change the initial weights
    b = train_pair(small(seed=4), players, DATA)
    assert torch.equal(weights(a.G), weights(b.G))
    assert a.wall_time > 0 and a.throughput == pytest.approx(6 * 16 / a.wall_time)
    assert isinstance(a.rng, torch.Generator) and not hasattr(a, "gen")


def test_train_pair_attaches_callbacks_by_event():
    seen = {"start": 0, "step": 0}
    train_pair(small(), players, DATA, callbacks={"on_train_start": lambda t: seen.__setitem__("start", t.step),
                                                  "on_step_end": [lambda t: seen.__setitem__("step", t.step)]})
    assert seen == {"start": 0, "step": 6}


class BatchNormD(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(2, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 1))

    def forward(self, x):
        return self.net(x).squeeze(-1)


def test_a_discriminator_with_batch_norm_sees_real_and_fake_in_separate_passes():
    assert mixes_samples(BatchNormD()) and not mixes_samples(MLPDiscriminator(2, (8,)))
    sizes = []
    D = BatchNormD()
    D.register_forward_pre_hook(lambda m, args: sizes.append(len(args[0])))
    tr = train_pair(small(max_steps=1), (MLPGenerator(2, 2, (8,)), D), DATA, run=False)
    sizes.clear()
    tr.run()
    assert sizes == [16, 16, 16]  # real, fake, then G's update
    sizes.clear()
    D2 = MLPDiscriminator(2, (8,))
    D2.register_forward_pre_hook(lambda m, args: sizes.append(len(args[0])))
    tr = train_pair(small(max_steps=1), (MLPGenerator(2, 2, (8,)), D2), DATA, run=False)
    sizes.clear()
    tr.run()
    assert sizes == [32, 16]  # one pass on [x; G(z)]


@pytest.mark.parametrize("bad, match", [({"schedule": "linear"}, "unknown schedule"),
                                        ({"optimizer": "paper", "schedule": "cosine"}, "its own schedule"),
                                        ({"lr_floor": 1.5}, "lr_floor"), ({"fuse_d_batches": False}, "unknown config key")])
def test_schedule_options_are_checked(bad, match):
    with pytest.raises(ValueError, match=match):
        small(**bad).validate() if "fuse_d_batches" not in bad else TrainConfig.from_dict(bad)
