"""Mixed precision (ganlib.engine.precision, TrainConfig.amp): bf16 and fp16 train, a scaler skips overflows,
the gradient penalty survives float16, and a resumed fp16 run is bit-identical."""

import math

import pytest
import torch
from torch import nn

from ganlib.engine.config import TrainConfig
from ganlib.game.critics import gradient_penalty
from ganlib.data import toy_data
from ganlib.engine.ensemble import EnsembleTrainer
from ganlib.nets.models import MLPDiscriminator, MLPGenerator
from ganlib.engine.precision import Precision, resolve_amp
from ganlib.data.toy import gaussian_1d
from ganlib.engine.loop import NonFiniteLossError, Trainer

CPU = torch.device("cpu")


def small(**kw):
    base = dict(batch_size=16, max_steps=6, progress=False, log_every=3, snapshot_every=-1)
    return TrainConfig(**{**base, **kw})


def pair(d=2, seed=0):
    torch.manual_seed(seed)
    return MLPGenerator(d, d, (8,)), MLPDiscriminator(d, (8,))


DATA = torch.randn(64, 2, generator=torch.Generator().manual_seed(0))


def test_auto_is_bf16_only_on_a_cpu_with_bf16_instructions_and_modes_map_to_dtypes(monkeypatch):
    from ganlib.engine import precision

    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: False)
    assert not precision.native_bf16_cpu() and resolve_amp("auto", CPU) is None  # AVX2: bf16 would be emulated
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: True)
    assert precision.native_bf16_cpu() and resolve_amp("auto", CPU) == torch.bfloat16
    assert resolve_amp("auto", torch.device("mps")) is None and resolve_amp(None, CPU) is None
    assert resolve_amp("bf16", CPU) == torch.bfloat16 and resolve_amp("fp16", CPU) == torch.float16
    assert Precision("bf16", CPU).scalers == {} and sorted(Precision("fp16", CPU).scalers) == ["d", "g"]
    with pytest.raises(ValueError, match="amp must be one of"):
        TrainConfig(amp="fp8").validate()


def test_checkpoints_of_ganlib_0_1_read_bf16_as_amp():
    assert TrainConfig.from_dict({"bf16": True}).amp == "bf16"
    assert TrainConfig.from_dict({"bf16": False}).amp is None


@pytest.mark.parametrize("amp", ["bf16", "fp16"])
def test_mixed_precision_learns_a_1d_gaussian_within_0_1(amp):
    """The float32 test's setting (p_data = N(4, 0.5^2), G(z) = a z + b) under autocast."""
    data = toy_data(gaussian_1d(4.0, 0.5), n=4096, seed=0)
    torch.manual_seed(0)
    G, D = MLPGenerator(1, 1, hidden=()), MLPDiscriminator(1, (32, 32))
    cfg = TrainConfig(max_steps=1500, batch_size=256, lr_d=1e-2, lr_g=1e-2, schedule="cosine", lr_floor=0.0,
                      amp=amp, progress=False, log_every=100, snapshot_every=-1)
    tr = Trainer(cfg, G, D, data)
    tr.run()
    x = tr.sample(n=20000)
    assert abs(x.mean().item() - 4.0) < 0.1 and abs(x.std().item() - 0.5) < 0.1, (x.mean().item(), x.std().item())
    if amp == "fp16":
        assert tr.precision.scalers["d"].get_scale() > 1.0  # the scaler did scale


class Poison:
    """A gradient hook on one parameter of D that turns its gradient into inf at one armed step."""

    def __init__(self, param):
        self.armed = False
        param.register_hook(lambda g: g * math.inf if self.armed else g)


def test_forced_overflow_is_skipped_by_the_scaler_not_a_nan_error():
    G, D = pair()
    tr = Trainer(small(max_steps=6, amp="fp16"), G, D, DATA)
    poison = Poison(next(D.parameters()))
    seen = {}

    def arm(t):
        poison.armed = t.step == 2  # the D update of step 3 overflows
        if t.step == 2:
            seen["before"] = [p.detach().clone() for p in D.parameters()]
            seen["scale"] = t.precision.scalers["d"].get_scale()
        if t.step == 3:
            seen["after"] = [p.detach().clone() for p in D.parameters()]

    tr.add_callback("on_step_end", arm)
    tr.run()  # no NonFiniteLossError
    assert tr.step == 6 and all(math.isfinite(v) for v in tr.history["d_loss"])
    assert all(torch.equal(a, b) for a, b in zip(seen["before"], seen["after"]))  # the step was skipped
    assert tr.precision.scalers["d"].get_scale() == seen["scale"] / 2  # and the scale halved
    assert all(torch.isfinite(p).all() for p in D.parameters())


def test_the_same_overflow_without_a_scaler_stops_training():
    G, D = pair()
    tr = Trainer(small(max_steps=6), G, D, DATA)
    poison = Poison(next(D.parameters()))
    tr.add_callback("on_step_end", lambda t: setattr(poison, "armed", t.step == 2))
    with pytest.raises(NonFiniteLossError):
        tr.run()


def test_resume_with_scalers_is_bit_identical(tmp_path):
    cfg = small(max_steps=6, amp="fp16", loss="wgan-gp", k=2)
    full = Trainer(cfg, *pair(), DATA)
    full.run()
    first = Trainer(cfg, *pair(), DATA)
    first.run(steps=3)
    first.save_checkpoint(tmp_path / "c.pt")
    state = torch.load(tmp_path / "c.pt", weights_only=True)
    assert sorted(state["scalers"]) == ["d", "g"] and state["scalers"]["d"]["scale"] > 0
    second = Trainer(cfg, *pair(), DATA).load_checkpoint(tmp_path / "c.pt")
    second.run()
    for a, b in zip(list(full.G.parameters()) + list(full.D.parameters()),
                    list(second.G.parameters()) + list(second.D.parameters())):
        assert torch.equal(a, b)
    assert repr(full.history["d_loss"]) == repr(second.history["d_loss"])  # NaN on a step the scaler skipped
    assert full.precision.state_dict() == second.precision.state_dict()


def tiny_critic():
    """Two layers with weights 1e-4: D's input gradient is ~1e-8, below float16's smallest subnormal."""
    torch.manual_seed(0)
    critic = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 1), nn.Flatten(0))
    with torch.no_grad():
        for p in critic.parameters():
            p.mul_(1e-4 / p.abs().max())
    return critic


def penalty_grads(critic, scale=None, fp16=False):
    real, fake = torch.ones(8, 2), torch.zeros(8, 2)
    critic.zero_grad()
    with torch.autocast("cpu", dtype=torch.float16, enabled=fp16):
        gp = gradient_penalty(critic, real, fake, generator=torch.Generator().manual_seed(0), grad_scale=scale)
    gp.backward()
    return gp.item(), critic[0].weight.grad.clone()


def test_gradient_penalty_under_the_scale_matches_float32():
    critic = tiny_critic()
    gp32, grad32 = penalty_grads(critic)
    gp16, grad16 = penalty_grads(critic, scale=torch.tensor(65536.0), fp16=True)
    _, grad_unscaled = penalty_grads(critic, fp16=True)
    assert abs(gp16 - gp32) < 1e-3
    assert grad32.abs().max() > 0 and torch.allclose(grad16, grad32, rtol=0.05, atol=1e-3 * grad32.abs().max().item())
    # without the scale float16 flushes the input gradient to zero and the penalty stops training D
    assert not torch.allclose(grad_unscaled, grad32, rtol=0.05, atol=1e-3 * grad32.abs().max().item())


def test_scaled_penalty_equals_plain_penalty_in_float32():
    critic = tiny_critic()
    gp_plain, grad_plain = penalty_grads(critic)
    gp_scaled, grad_scaled = penalty_grads(critic, scale=torch.tensor(1024.0))
    assert math.isclose(gp_plain, gp_scaled, rel_tol=1e-6) and torch.allclose(grad_plain, grad_scaled, rtol=1e-5)


def test_ensemble_refuses_fp16_with_a_clear_error():
    with pytest.raises(ValueError, match="ensemble does not support amp='fp16'"):
        EnsembleTrainer(small(amp="fp16"), lambda: pair(2), DATA, members=2)
