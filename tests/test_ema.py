"""The moving average of G's weights (TrainConfig.ema_decay, ganlib.engine.optim.GeneratorEMA)."""

import pytest
import torch

from ganlib.engine.config import TrainConfig
from ganlib.engine.ensemble import EnsembleTrainer
from ganlib.nets.models import MLPDiscriminator, MLPGenerator
from ganlib.engine.optim import GeneratorEMA
from ganlib.engine.loop import Trainer

DATA = torch.randn(128, 2, generator=torch.Generator().manual_seed(0)) + 3.0


def pair():
    torch.manual_seed(0)
    return MLPGenerator(2, 2, (8,)), MLPDiscriminator(2, (8,))


def cfg(**kw):
    return TrainConfig(**{**dict(batch_size=32, max_steps=20, progress=False, log_every=5, snapshot_every=-1), **kw})


def test_average_follows_the_formula_step_by_step():
    G = torch.nn.Linear(3, 2)
    ema = GeneratorEMA(G, decay=0.9)
    values = []
    for t in range(40):
        with torch.no_grad():
            G.weight.normal_()
        values.append(G.weight.detach().clone())
        ema.update(G)
    expected = values[0]  # the first update copies
    for t, v in enumerate(values[1:], start=1):
        beta = min(0.9, (1 + t) / (10 + t))  # the warm-up
        expected = beta * expected + (1 - beta) * v
    assert torch.allclose(ema.module.weight, expected, atol=1e-6)


def test_training_is_unchanged_and_samples_come_from_the_average():
    plain = Trainer(cfg(), *pair(), DATA)
    plain.run()
    averaged = Trainer(cfg(ema_decay=0.9), *pair(), DATA)
    averaged.run()
    for a, b in zip(plain.G.parameters(), averaged.G.parameters()):
        assert torch.equal(a, b)  # the average does not feed back into training
    z = plain.fixed_noise
    assert torch.equal(averaged.sample(z, ema=False), plain.sample(z))
    assert not torch.allclose(averaged.sample(z), plain.sample(z))  # default: the average
    assert torch.allclose(averaged.sample(z), averaged.ema.module.eval()(z.to(averaged.device)).float())


def test_checkpoint_keeps_the_average_and_resume_is_bit_identical(tmp_path):
    full = Trainer(cfg(ema_decay=0.9), *pair(), DATA)
    full.run()
    first = Trainer(cfg(ema_decay=0.9), *pair(), DATA)
    first.run(steps=7)
    first.save_checkpoint(tmp_path / "c.pt")
    state = torch.load(tmp_path / "c.pt", weights_only=True)
    assert int(state["generator_ema"]["n_averaged"]) == 7
    second = Trainer(cfg(ema_decay=0.9), *pair(), DATA).load_checkpoint(tmp_path / "c.pt")
    second.run()
    for a, b in zip(full.ema.module.parameters(), second.ema.module.parameters()):
        assert torch.equal(a, b)


@pytest.mark.parametrize("bad", [0.0, 1.0, 1.5, True, "0.99"])
def test_bad_decay_is_one_clear_error(bad):
    with pytest.raises(ValueError, match="ema_decay must be None or in"):
        cfg(ema_decay=bad).validate()


def test_ensemble_refuses_an_average():
    with pytest.raises(ValueError, match="keeps no moving average"):
        EnsembleTrainer(cfg(ema_decay=0.9), pair, DATA, members=2)
