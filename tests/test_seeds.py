"""Many seeds of one configuration (ganlib.recipes.seeds.run_seeds) and the players and measurements the
toy chapters hand it (MLPPlayers, figure1_state, mode_spread, generator_alone)."""
import copy

import numpy as np
import pandas as pd
import pytest
import torch

from ganlib.data import toy_data
from ganlib.engine.config import TrainConfig
from ganlib.engine.ensemble import EnsembleTrainer
from ganlib.metrics import JSDRecorder, mode_spread
from ganlib.data.toy import gaussian_1d
from ganlib.nets.layers import PackedDiscriminator
from ganlib.nets.models import MLPDiscriminator, MLPGenerator
from ganlib.nets.players import MLPPlayers
from ganlib.recipes.experiments import generator_alone
from ganlib.recipes.seeds import run_seeds
from ganlib.viz import figure1_state

pytestmark = pytest.mark.usefixtures("one_thread")

DATA = toy_data("gaussian_1d", n=1024, seed=0)
CFG = TrainConfig(batch_size=64, max_steps=30, lr_d=2e-3, lr_g=1e-3, device="cpu", progress=False, snapshot_every=-1,
                  log_every=10)
PLAYERS = MLPPlayers(dim=1, g_hidden=(8,), d_hidden=(8,), noise="uniform")
XS, Z = np.linspace(1.0, 7.0, 61), np.linspace(-1.7, 1.7, 9)


def test_mlp_players_build_the_pairs_the_chapters_wrote_out():
    for players, written in [
        (MLPPlayers(dim=1, noise="uniform"), lambda: (MLPGenerator(1, 1, (32, 32), noise="uniform"), MLPDiscriminator(1, (64, 64)))),
        (MLPPlayers(dim=2, g_hidden=(16, 16), d_hidden=(16,), pack=2),
         lambda: (MLPGenerator(2, 2, (16, 16)), PackedDiscriminator(MLPDiscriminator(4, (16,)), pack=2))),
        (MLPPlayers(dim=2, g_hidden=(16,), d_hidden=(16,), batch_norm=True, spectral_norm=True),
         lambda: (MLPGenerator(2, 2, (16,), batch_norm=True), MLPDiscriminator(2, (16,), spectral_norm=True)))]:
        torch.manual_seed(3)
        a = [m.state_dict() for m in players()]
        torch.manual_seed(3)
        b = [m.state_dict() for m in written()]
        assert all(x.keys() == y.keys() and all(torch.equal(x[k], y[k]) for k in x) for x, y in zip(a, b))


def test_run_seeds_keeps_each_members_history_records_samples_and_measure():
    rec = JSDRecorder(gaussian_1d(4.0, 0.5), every=10, n=200, seed=1)
    runs = run_seeds(CFG, PLAYERS, DATA, [5, 6, 7], recorder=rec, n_samples=50, noise_seed=100,
                     measure=lambda G, D: {"g_mean": float(G(G.sample_noise(100)).mean())}, chunk=2)
    assert [r["seed"] for r in runs] == [5, 6, 7] and rec.records == []  # the recorder given stays untouched
    ens = EnsembleTrainer(CFG, PLAYERS, DATA, seeds=[5, 6])  # the first chunk, by hand
    again = copy.deepcopy(rec)
    ens.add_callback(again)
    ens.run()
    hist = pd.DataFrame(ens.history)
    z = torch.stack([ens.G.sample_noise(50, generator=torch.Generator().manual_seed(100 + s)) for s in (5, 6)])
    for s in range(2):
        r = runs[s]
        assert r["finished"] and r["failed_step"] is None and r["seconds"] > 0
        pd.testing.assert_frame_equal(r["history"], hist[hist.member == s].reset_index(drop=True))
        assert r["records"]["step"] == [0, 10, 20, 30] == [x["step"] for x in again.records]
        assert r["records"]["jsd"] == [x["jsd"][s] for x in again.records]
        assert np.array_equal(r["samples"], ens.sample(z)[s].numpy())
        assert isinstance(r["g_mean"], float)
    assert runs[2]["records"]["jsd"] != runs[0]["records"]["jsd"]  # seeds differ


def test_run_seeds_results_do_not_depend_on_the_number_of_processes():
    one, two = (run_seeds(CFG, PLAYERS, DATA, [0, 1, 2, 3], n_samples=20, chunk=2, processes=p) for p in (1, 2))
    assert all(np.array_equal(a["samples"], b["samples"]) for a, b in zip(one, two))


def test_run_seeds_refuses_a_bad_sample_count():
    with pytest.raises(ValueError, match="n_samples"):
        run_seeds(CFG, PLAYERS, DATA, [0], n_samples=-1)


def test_figure1_state_is_what_a_panel_needs_and_is_seeded():
    torch.manual_seed(0)
    G, D = PLAYERS()
    a, b = (figure1_state(G, D, XS, Z, n=500, seed=1, p_data=gaussian_1d(4.0, 0.5), wide=np.linspace(-5, 12, 2001))
            for _ in range(2))
    assert np.array_equal(a["samples"], b["samples"]) and a["gz"].shape == Z.shape and a["d"].shape == XS.shape
    assert 0 <= a["jsd"] <= np.log(2) + 1e-9 and a["w1"] > 0 and a["logit_wide"].shape == a["d_wide"].shape
    assert not np.array_equal(figure1_state(G, D, XS, Z, n=500, seed=2)["samples"], a["samples"])


def test_mode_spread_finds_a_dropped_mode_and_a_squeezed_one():
    rng = np.random.default_rng(0)
    both = np.concatenate([rng.normal(-4, 0.25, 5000), rng.normal(4, 0.25, 5000)])
    squeezed = np.concatenate([rng.normal(-4, 0.25, 5000), rng.normal(4, 0.025, 5000)])
    one = rng.normal(4, 0.25, 10_000)
    s = mode_spread(both, [-4.0, 4.0], 0.25, ["left", "right"])
    assert abs(s["share left"] - 0.5) < 0.02 and abs(s["IQR right / data's"] - 1) < 0.05 and s["modes covered"] == 2
    assert abs(mode_spread(squeezed, [-4.0, 4.0], 0.25)["IQR 1 / data's"] - 0.1) < 0.01
    dropped = mode_spread(one, [-4.0, 4.0], 0.25)
    assert dropped["share 0"] == 0 and np.isnan(dropped["IQR 0 / data's"]) and dropped["modes covered"] == 1
    with pytest.raises(ValueError, match="name each"):
        mode_spread(one, [-4.0, 4.0], 0.25, ["only one"])


def test_generator_alone_freezes_d_and_moves_g():
    from ganlib.engine.runtime import seed_everything

    seed_everything(CFG.seed)
    G0, _ = PLAYERS()  # the same seed's untrained generator (generator_alone seeds before building)
    G, D = generator_alone(CFG, PLAYERS, DATA, d_steps=20, g_steps=15)
    assert not torch.equal(G.net[0].weight, G0.net[0].weight)
    st = generator_alone(CFG, PLAYERS, DATA, d_steps=20, g_steps=15, measure=lambda g, d: {"w": g.net[0].weight.clone()})
    assert torch.equal(st["w"], G.net[0].weight)  # seeded: the same run twice
