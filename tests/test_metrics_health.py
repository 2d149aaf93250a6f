"""HealthMonitor: the signals of a run, and its warnings on the two failure signatures."""
import math
import warnings

import numpy as np
import pytest
import torch

from ganlib.data import toy
from ganlib.engine.config import TrainConfig
from ganlib.data import toy_data
from ganlib.engine.ensemble import EnsembleTrainer
from ganlib.recipes.experiments import train_pair
from ganlib.metrics.health import HealthMonitor, HealthWarning
from ganlib.nets.models import MLPDiscriminator, MLPGenerator

pytestmark = pytest.mark.usefixtures("one_thread")
GAUSS = toy.gaussian_1d(4.0, 0.5)
DATA = toy_data(GAUSS, n=4000, seed=0)


def players(centred):
    def make():
        G, D = MLPGenerator(1, 1, (32, 32), noise="uniform"), MLPDiscriminator(1, (64, 64))
        if centred:
            with torch.no_grad():
                G.net[-1].bias.fill_(4.0)
        return G, D
    return make


def run(loss, k, centred, steps=400):
    monitor = HealthMonitor(GAUSS, n=1000, patience=3)
    cfg = TrainConfig(loss=loss, k=k, batch_size=128, max_steps=steps, lr_d=2e-3, lr_g=5e-4, device="cpu",
                      progress=False, log_every=25, snapshot_every=-1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        train_pair(cfg, players(centred), DATA, callbacks={"on_log": monitor})
    return monitor, [w for w in caught if issubclass(w.category, HealthWarning)]


def test_a_saturated_minimax_run_warns_that_the_discriminator_wins():
    monitor, caught = run("saturating", 5, centred=False)
    assert [kind for _, kind, _ in monitor.alerts] == ["discriminator wins"]
    assert len(caught) == 1 and "D separates real from generated" in str(caught[0].message)
    last = monitor.records[-1]
    assert last["d_real"] > 0.98 and last["d_fake"] < 0.02 and last["jsd"] > 0.6  # disjoint: JSD near log 2


def test_a_healthy_run_raises_no_warning_and_approaches_the_equilibrium():
    # k = 3: with k = 1 this D sits at 1/2 while p_g is still too narrow (JSD 0.42), which only the JSD shows
    monitor, caught = run("non_saturating", 3, centred=True, steps=600)
    assert not caught and not monitor.alerts
    last = monitor.records[-1]
    assert abs(last["d_real"] - 0.5) < 0.1 and abs(last["d_fake"] - 0.5) < 0.1
    # over seeds 0-5 the last JSD lies between 0.01 and 0.11 (the estimate on 1,000 samples, and G
    # still moving), far below k = 1's 0.42 and the disjoint case's log 2
    assert abs(last["value_gap"]) < 0.1 and last["jsd"] < 0.15 and last["modes"] == 1
    assert len(monitor.records) == 600 // 25 and monitor.frame().shape[0] == len(monitor.records)


class _Stub:
    """Just what the monitor reads: a history, the loss's link, G's noise and samples."""

    def __init__(self, rings):
        self.history = {c: [] for c in ("step", "d_real", "d_fake", "value")}
        self.loss = type("L", (), {"link": staticmethod(torch.sigmoid)})()
        self.G = type("G", (), {"sample_noise": staticmethod(lambda n, generator=None, device=None: torch.zeros(n, 1))})()
        self.rings, self.read = rings, 0

    def log(self, step):
        for c, v in (("step", step), ("d_real", 0.6), ("d_fake", 0.4), ("value", -1.3)):
            self.history[c].append(v)

    def sample(self, z):
        covered = self.rings[min(self.read, len(self.rings) - 1)]
        self.read += 1
        t = toy.ring_of_gaussians(8, 1.0, 0.01)
        return t.means[torch.arange(len(z)) % covered].float()


def test_modes_falling_below_their_best_warns_once():
    ring = toy.ring_of_gaussians(8, 1.0, 0.01)
    stub = _Stub([8, 8, 6, 5, 5, 4, 4])
    monitor = HealthMonitor(ring, n=400, patience=3)
    with pytest.warns(HealthWarning, match="5 modes covered for 3 reads, down from 8"):
        for step in range(1, 8):
            stub.log(step)
            monitor(stub)
    assert [kind for _, kind, _ in monitor.alerts] == ["modes lost"]
    assert [r["modes"] for r in monitor.records] == [8, 8, 6, 5, 5, 4, 4]
    assert monitor.records[0]["value_gap"] == pytest.approx(-1.3 + math.log(4))


def test_bad_arguments_and_an_ensemble_are_clear_errors():
    with pytest.raises(ValueError, match="patience"):
        HealthMonitor(patience=0)
    with pytest.raises(TypeError, match="ganlib.data.toy.Toy"):
        HealthMonitor(toy=np.zeros(3))
    cfg = TrainConfig(batch_size=64, max_steps=2, device="cpu", progress=False, log_every=1, snapshot_every=-1)
    ens = EnsembleTrainer(cfg, players(True), DATA, members=2)
    ens.add_callback("on_log", HealthMonitor(GAUSS))
    with pytest.raises(TypeError, match="one game"):
        ens.run()


# --- JSDRecorder and steps_to_converge (ganlib.metrics.divergence) ---------------------------------

import math as _math

from ganlib.metrics import JSDRecorder, steps_to_converge
from ganlib.data.toy import gaussian_1d as _gaussian_1d


class _FixedGenerator:
    """A stand-in trainer whose G maps z to a + b z (S members when ``members`` is set)."""

    def __init__(self, a, b, members=None):
        self.step, self.a, self.b = 0, torch.as_tensor(a, dtype=torch.float32), torch.as_tensor(b, dtype=torch.float32)
        if members is not None:
            self.S = members

    class G:
        @staticmethod
        def sample_noise(n, generator=None, device=None):
            return torch.randn(n, 1, generator=generator)

    def sample(self, z):
        if hasattr(self, "S"):
            return self.a.reshape(-1, 1, 1) + self.b.reshape(-1, 1, 1) * z
        return self.a + self.b * z


def test_jsd_recorder_is_near_zero_for_the_data_and_log2_far_from_it():
    rec = JSDRecorder(_gaussian_1d(4.0, 0.5), every=1, n=4000)
    close, far = rec.capture(_FixedGenerator(4.0, 0.5))["jsd"][0], rec.capture(_FixedGenerator(-20.0, 0.5))["jsd"][0]
    assert close < 0.01 and abs(far - _math.log(2)) < 1e-3


def test_jsd_recorder_scores_every_member_of_an_ensemble():
    rec = JSDRecorder(_gaussian_1d(4.0, 0.5), every=1, n=3000)
    jsd = rec.capture(_FixedGenerator([4.0, 5.0, 40.0], [0.5, 0.5, 1e-4], members=3))["jsd"]
    assert len(jsd) == 3 and jsd[0] < 0.01 < jsd[1] < jsd[2]
    assert abs(jsd[2] - _math.log(2)) < 1e-3  # a collapsed spike, narrower than the grid's spacing


def test_steps_to_converge_needs_the_run_to_stay_below():
    recs = [{"step": s, "jsd": v} for s, v in [(0, [0.6, 0.6, 0.6]), (10, [0.01, 0.01, 0.2]),
                                                  (20, [0.3, 0.02, 0.03]), (30, [0.01, 0.01, float("nan")])]]
    assert steps_to_converge(recs, 0.05) == [30, 10, None]


def test_jsd_recorder_gives_log2_for_a_point_mass():
    rec = JSDRecorder(_gaussian_1d(4.0, 0.5), every=1, n=100)
    assert rec.capture(_FixedGenerator(4.0, 0.0))["jsd"] == [_math.log(2)]


def test_an_image_run_is_scored_every_few_reads_by_its_score_function():
    from ganlib.metrics import DigitScore
    from ganlib.nets.models import build_models

    class ThreeIfBright(torch.nn.Module):  # a classifier: a confident 3 for bright images, unsure otherwise
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(1))

        def forward(self, x):
            logits = torch.zeros(len(x), 10)
            logits[:, 3] = 20.0 * (x.reshape(len(x), -1).mean(1) > 0.5).float()
            return logits + self.w

    images = torch.rand(200, 784)
    calls = []

    def score(samples):
        calls.append(samples.shape)
        return DigitScore(ThreeIfBright())(samples)

    monitor = HealthMonitor(n=50, score=score, score_every=3)
    cfg = TrainConfig(batch_size=20, max_steps=40, device="cpu", progress=False, log_every=5, snapshot_every=-1)
    train_pair(cfg, lambda: build_models("paper", (784,)), images, callbacks={"on_log": monitor})
    scored = [r for r in monitor.records if "confident_share" in r]
    assert len(monitor.records) == 8 and [r["step"] for r in scored] == [5, 20, 35]
    assert calls == [torch.Size([50, 784])] * 3
    assert all(0.0 <= r["confident_share"] <= 1.0 for r in scored)
    with pytest.raises(TypeError, match="without a toy"):
        HealthMonitor(GAUSS, score=score)
    with pytest.raises(ValueError, match="score_every"):
        HealthMonitor(score=score, score_every=0)


def test_digit_score_counts_confident_classes_and_gives_an_fid_with_features():
    from ganlib.metrics import DigitScore

    class Onehot(torch.nn.Module):  # reads the digit from the brightest of the first ten pixels
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(1))

        def forward(self, x):
            return 50.0 * x.reshape(len(x), -1)[:, :10] + self.w

    x = torch.zeros(40, 784)
    x[torch.arange(30), torch.arange(30) % 3] = 1.0  # 30 confident samples: digits 0, 1, 2 (10 each)
    s = DigitScore(Onehot())(x)
    assert s["confident_share"] == pytest.approx(0.75)
    assert s["max_class_share"] == pytest.approx(1 / 3) and s["min_class_share"] == 0.0
    assert math.isnan(DigitScore(Onehot())(torch.zeros(5, 784))["min_class_share"])

    class Feat(torch.nn.Module):
        num_features = 4

        def forward(self, x):
            x = x.reshape(len(x), -1)
            return torch.stack([x[:, :196].mean(1), x[:, 196:392].mean(1), x[:, 392:588].mean(1), x[:, 588:].mean(1)], 1)

    g = torch.Generator().manual_seed(0)
    real = torch.rand(300, 784, generator=g)
    near = DigitScore(Onehot(), real=real, features=Feat())(torch.rand(300, 784, generator=g))["fid"]
    far = DigitScore(Onehot(), real=real, features=Feat())(torch.rand(300, 784, generator=g) * 0.3)["fid"]
    assert 0 <= near < far
    with pytest.raises(ValueError, match="real images"):
        DigitScore(Onehot(), features=Feat())
