"""The loop's callbacks (ganlib.engine.callbacks): everything around Algorithm 1 saves and restores its
own state, runs in a fixed order, and reads the statistics by name."""
import pytest
import torch

from ganlib.engine.callbacks import Callback, History, MovingAverage, Snapshots
from ganlib.engine.config import TrainConfig
from ganlib.engine.loop import STAT_COLUMNS, Trainer
from ganlib.nets.players import MLPPlayers
from ganlib.recipes.experiments import train_pair

pytestmark = pytest.mark.usefixtures("one_thread")

DATA = torch.randn(256, 2, generator=torch.Generator().manual_seed(0)) + 2.0
PLAYERS = MLPPlayers(dim=2, g_hidden=(8,), d_hidden=(8,))


def cfg(**kw):
    return TrainConfig(**{**dict(batch_size=32, max_steps=12, device="cpu", progress=False, log_every=4,
                                 snapshot_every=4), **kw})


class Counter(Callback):
    """Counts steps and keeps the count in checkpoints (what any stateful callback does)."""

    def __init__(self):
        self.steps, self.seen = 0, []

    def on_step_end(self, loop):
        self.steps += 1
        self.seen.append(type(loop.callbacks[0]).__name__)

    def state_dict(self):
        return {"counter": self.steps}

    def load_state_dict(self, state):
        self.steps = state.get("counter", 0)


def test_statistics_are_named_tensors_on_the_device():
    tr = train_pair(cfg(), PLAYERS, DATA, run=False)
    tr.train_step()
    assert set(tr.stats) == set(STAT_COLUMNS) and all(v.shape == () for v in tr.stats.values())


def test_a_callbacks_state_travels_with_the_checkpoint(tmp_path):
    full = train_pair(cfg(), PLAYERS, DATA, callbacks=[Counter()])
    first = train_pair(cfg(), PLAYERS, DATA, callbacks=[Counter()], run=False)
    first.run(steps=5)
    path = first.save_checkpoint(tmp_path / "c.pt")
    assert torch.load(path, weights_only=True)["counter"] == 5
    second = train_pair(cfg(), PLAYERS, DATA, callbacks=[Counter()], run=False).load_checkpoint(path)
    assert next(cb for cb in second.callbacks if isinstance(cb, Counter)).steps == 5
    second.run()
    assert next(cb for cb in second.callbacks if isinstance(cb, Counter)).steps == 12
    assert second.history == full.history and [s for s, _ in second.snapshots] == [s for s, _ in full.snapshots]


def test_the_moving_average_runs_first_and_snapshots_see_it():
    tr = train_pair(cfg(ema_decay=0.5), PLAYERS, DATA, callbacks=[Counter()], run=False)
    kinds = [type(cb) for cb in tr.callbacks]
    assert kinds.index(MovingAverage) < kinds.index(History) < kinds.index(Counter) < kinds.index(Snapshots)
    tr.run()
    step, x = tr.snapshots[-1]
    assert step == 12 and torch.equal(x, tr.sample(tr.fixed_noise))  # the average, as sample() gives it
    assert not torch.equal(x, tr.sample(tr.fixed_noise, ema=False))


def test_a_callback_object_and_a_function_can_listen_to_the_same_event():
    tr = train_pair(cfg(), PLAYERS, DATA, run=False)
    steps = []
    tr.add_callback(Counter()).add_callback("on_step_end", lambda t: steps.append(t.step))
    tr.run()
    assert steps == list(range(1, 13)) and next(cb for cb in tr.callbacks if isinstance(cb, Counter)).steps == 12


def test_seeded_samples_in_chunks_equal_one_batch():
    tr = train_pair(cfg(), PLAYERS, DATA)
    assert torch.equal(tr.sample(n=50, seed=3, chunk=50), tr.sample(n=50, seed=3))
    assert tr.sample(n=50, seed=3, chunk=7).shape == (50, 2)
    assert not torch.equal(tr.sample(n=50, seed=3), tr.sample(n=50, seed=4))
    assert "12 steps" in tr.describe() and "D(G(z))" in tr.describe()
