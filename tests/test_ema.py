"""The moving average of G's weights (TrainConfig.ema_decay, ganlib.engine.callbacks.GeneratorEMA)."""

import pytest
import torch

from ganlib.engine.config import TrainConfig
from ganlib.engine.ensemble import EnsembleTrainer
from ganlib.nets.models import MLPDiscriminator, MLPGenerator
from ganlib.engine.callbacks import GeneratorEMA
from ganlib.engine.loop import Trainer
from ganlib.recipes.experiments import train_pair

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


def test_ensemble_member_average_equals_the_single_runs_average(float64, one_thread):
    """The ensemble keeps the same moving average: member s's averaged G is its seed's single run's."""
    data = DATA.double()
    config = cfg(ema_decay=0.9, max_steps=30, device="cpu")
    players = lambda: (MLPGenerator(2, 2, (8,)), MLPDiscriminator(2, (8,)))  # noqa: E731
    ens = EnsembleTrainer(config, players, data, seeds=[3, 5])
    ens.run()
    for s, seed in enumerate([3, 5]):
        single = train_pair(config.replace(seed=seed), players, data)  # seeds, then builds the players
        averaged, _ = ens.member(s, ema=True)
        flat = lambda m: torch.cat([p.detach().reshape(-1) for p in m.parameters()])  # noqa: E731
        torch.testing.assert_close(flat(averaged), flat(single.ema.module), atol=1e-9, rtol=0)
        assert not torch.allclose(flat(averaged), flat(ens.member(s)[0]))  # the average is not the last G
    z = ens.fixed_noise
    assert not torch.allclose(ens.sample(z), ens.sample(z, ema=False))

