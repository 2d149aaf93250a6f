"""The ensemble loop: member s of S stacked games reproduces the single Trainer run of its seed.

The comparisons run in float64 (the ``float64`` fixture says why): there the two paths agree to
within 4e-16 after 50 steps on any CPU, where float32 drifts by up to 4e-3 depending on its kernels."""
import math

import pandas as pd
import pytest
import torch

from ganlib.engine.config import TrainConfig
from ganlib.engine.ensemble import ENSEMBLE_COLUMNS, EnsembleTrainer
from ganlib.recipes.experiments import train_pair
from ganlib.nets.layers import PackedDiscriminator
from ganlib.nets.models import MLPDiscriminator, MLPGenerator
from ganlib.nets.stacked import stack_players

pytestmark = pytest.mark.usefixtures("one_thread", "float64")

DATA_2D = (torch.randn(512, 2, generator=torch.Generator().manual_seed(1)) * 0.5 + 1.0).double()
DATA_1D = (torch.randn(512, 1, generator=torch.Generator().manual_seed(2)) * 0.5 + 4.0).double()
SEEDS = [3, 7, 11]


def cfg(**kw):
    base = dict(batch_size=32, max_steps=50, lr_d=2e-3, lr_g=1e-3, device="cpu", progress=False, log_every=25,
                snapshot_every=-1)
    base.update(kw)
    return TrainConfig(**base)


def ring_players(sn=False, bn=False, pack=1):
    def players():
        G = MLPGenerator(2, 2, (16, 16), batch_norm=bn)
        D = MLPDiscriminator(2 * pack, (16, 16), spectral_norm=sn)
        return G, (PackedDiscriminator(D, pack) if pack > 1 else D)
    return players


def one_d_players():
    return MLPGenerator(1, 1, (8, 8), noise="uniform"), MLPDiscriminator(1, (16,))


def flat(module):
    return torch.cat([p.detach().reshape(-1) for p in module.parameters()])


def assert_members_match_single_runs(config, players, data, atol=1e-8):
    ens = EnsembleTrainer(config, players, data, seeds=SEEDS)
    ens.run()
    hist = pd.DataFrame(ens.history)
    for s, seed in enumerate(SEEDS):
        single = train_pair(config.replace(seed=seed), players, data)
        G, D = ens.member(s)
        torch.testing.assert_close(flat(G), flat(single.G), atol=atol, rtol=0)
        torch.testing.assert_close(flat(D), flat(single.D), atol=atol, rtol=0)
        mine = hist[hist.member == s]
        for col in ("d_loss", "g_loss", "d_real", "d_fake"):
            torch.testing.assert_close(torch.tensor(mine[col].tolist()), torch.tensor(single.history[col]),
                                       atol=10 * atol, rtol=0)
    return ens


@pytest.mark.parametrize("loss", ["non_saturating", "saturating", "wgan-gp", "hinge"])
@pytest.mark.parametrize("k", [1, 3])
def test_member_matches_the_single_run_of_its_seed(loss, k):
    assert_members_match_single_runs(cfg(loss=loss, k=k), ring_players(), DATA_2D)


@pytest.mark.parametrize("variant", ["spectral_norm", "pacgan2", "one_d", "wasserstein_clip", "gp_weight_3"])
def test_supported_networks_match_too(variant):
    if variant == "gp_weight_3":  # a loss option from the config reaches every member's penalty
        assert_members_match_single_runs(cfg(loss="wgan-gp", loss_kwargs={"gp_weight": 3.0}), ring_players(), DATA_2D)
    elif variant == "one_d":
        assert_members_match_single_runs(cfg(schedule="cosine"), one_d_players, DATA_1D)
    elif variant == "wasserstein_clip":
        assert_members_match_single_runs(cfg(loss="wasserstein", optimizer="RMSprop", optimizer_kwargs={},
                                             lr_d=5e-5, lr_g=5e-5, k=3), ring_players(), DATA_2D)
    else:
        players = ring_players(sn=variant == "spectral_norm", pack=2 if variant == "pacgan2" else 1)
        assert_members_match_single_runs(cfg(), players, DATA_2D)


def test_batch_norm_in_g_matches_where_the_game_can_see_it():
    """With batch norm after a linear layer, that layer's bias has no effect on G's training-mode
    output (the batch mean removes it) and its true gradient is 0; Adam divides the rounding noise
    of that 0 by its own size and moves the bias by about lr per step in a direction set by the
    rounding. Those biases (and the running means that track them) are therefore not comparable;
    everything the game depends on is: D, every other weight of G, and G's training-mode samples."""
    players = ring_players(bn=True)
    ens = EnsembleTrainer(cfg(), players, DATA_2D, seeds=SEEDS)
    ens.run()
    z = torch.randn(64, 2, generator=torch.Generator().manual_seed(0))
    for s, seed in enumerate(SEEDS):
        single = train_pair(cfg(seed=seed), players, DATA_2D)
        G, D = ens.member(s)
        torch.testing.assert_close(flat(D), flat(single.D), atol=1e-8, rtol=0)
        mine, theirs = dict(G.named_parameters()), dict(single.G.named_parameters())
        for name in mine:
            if name not in ("net.0.bias", "net.3.bias"):  # the linear layers before a batch norm
                torch.testing.assert_close(mine[name], theirs[name], atol=1e-8, rtol=0)
        with torch.no_grad():
            torch.testing.assert_close(G.train()(z), single.G.train()(z), atol=1e-7, rtol=0)


def test_a_poisoned_member_is_frozen_and_the_others_are_untouched():
    def poison(t):
        if t.step == 10:
            with torch.no_grad():
                t.D.net[0].weight[1].fill_(float("nan"))

    clean = EnsembleTrainer(cfg(max_steps=30), ring_players(), DATA_2D, seeds=SEEDS)
    clean.run()
    sick = EnsembleTrainer(cfg(max_steps=30), ring_players(), DATA_2D, seeds=SEEDS)
    sick.add_callback("on_step_end", poison)
    frozen = {}
    sick.add_callback("on_step_end", lambda t: frozen.setdefault(t.step, flat(t.member(1)[0])) if t.step in (11, 30) else None)
    sick.run()
    for s in (0, 2):
        assert torch.equal(flat(sick.member(s)[0]), flat(clean.member(s)[0]))
        assert torch.equal(flat(sick.member(s)[1]), flat(clean.member(s)[1]))
    assert torch.equal(frozen[11], frozen[30])  # G of member 1 stopped moving at step 11
    report = sick.summary()
    assert [r["finished"] for r in report] == [True, False, True]
    assert report[1]["failed_step"] == 11 and report[1]["failed_loss"] == "d_loss" and report[1]["seed"] == 7
    hist = pd.DataFrame(sick.history)
    assert not hist[(hist.member == 1) & (hist.step >= 11)].alive.any() and hist[hist.member != 1].alive.all()


def test_history_is_long_format_with_a_member_column():
    ens = EnsembleTrainer(cfg(max_steps=4, log_every=2), ring_players(), DATA_2D, members=2)
    df = pd.DataFrame(ens.run())
    assert tuple(df.columns) == ENSEMBLE_COLUMNS and len(df) == 8
    assert df.groupby("member").step.apply(list).tolist() == [[1, 2, 3, 4]] * 2 and ens.seeds == [0, 1]


def test_snapshots_hold_every_members_fixed_noise_and_resume_is_bit_identical(tmp_path):
    config = cfg(max_steps=12, snapshot_every=4, loss="wgan-gp", schedule="cosine")
    full = EnsembleTrainer(config, ring_players(bn=True), DATA_2D, seeds=SEEDS)
    full.run()
    assert [s for s, _ in full.snapshots] == [0, 4, 8, 12] and full.snapshots[0][1].shape == (3, 64, 2)
    half = EnsembleTrainer(config, ring_players(bn=True), DATA_2D, seeds=SEEDS)
    half.run(steps=5)
    path = half.save_checkpoint(tmp_path / "e.pt")
    again = EnsembleTrainer(config, ring_players(bn=True), DATA_2D, seeds=SEEDS).load_checkpoint(path)
    again.run()
    assert torch.equal(flat(again.G), flat(full.G)) and torch.equal(flat(again.D), flat(full.D))
    assert again.history == full.history
    assert all(torch.equal(a, b) for (_, a), (_, b) in zip(again.snapshots, full.snapshots))


def test_members_share_no_statistic():
    """Changing one member's data leaves every other member's batch-norm and spectral-norm state alone."""
    torch.manual_seed(0)
    G, D = stack_players([ring_players(sn=True, bn=True)() for _ in range(3)])
    x, z = torch.randn(3, 32, 2), torch.randn(3, 32, 2)
    D(x), G(z)
    x2, z2 = x.clone(), z.clone()
    x2[0] += 100.0
    z2[0] *= 50.0
    torch.manual_seed(0)
    G2, D2 = stack_players([ring_players(sn=True, bn=True)() for _ in range(3)])
    D2(x2), G2(z2)
    bn, bn2 = G.net[1], G2.net[1]
    assert torch.equal(bn.running_mean[1:], bn2.running_mean[1:]) and not torch.equal(bn.running_mean[0], bn2.running_mean[0])
    assert torch.equal(D.net[0]._u[1:], D2.net[0]._u[1:])


def test_unsupported_networks_and_options_are_clear_errors():
    from ganlib.nets.models import PaperDiscriminator, PaperGenerator

    with pytest.raises(ValueError, match="MLPGenerator"):
        EnsembleTrainer(cfg(), lambda: (PaperGenerator(), PaperDiscriminator()), torch.rand(64, 784), members=2)
    with pytest.raises(ValueError, match="compile"):
        EnsembleTrainer(cfg(compile=True), ring_players(), DATA_2D, members=2)
    with pytest.raises(ValueError, match="distinct"):
        EnsembleTrainer(cfg(), ring_players(), DATA_2D, seeds=[1, 1])
    assert math.isnan(EnsembleTrainer(cfg(), ring_players(), DATA_2D, members=2).wall_time)


def test_mode_coverage_recorder_scores_every_member_like_its_single_run():
    from ganlib.metrics import ModeCoverageRecorder

    means, std = torch.tensor([[1.0, 1.0], [0.0, 0.0]]), 0.5
    rec_e = ModeCoverageRecorder(means, std, every=10, n=200, seed=5)
    ens = EnsembleTrainer(cfg(max_steps=20), ring_players(), DATA_2D, seeds=SEEDS)
    ens.add_callback("on_step_end", rec_e).run()
    assert [r["step"] for r in rec_e.records] == [10, 20] and rec_e.records[-1]["samples"].shape == (3, 200, 2)
    for s, seed in enumerate(SEEDS):
        rec = ModeCoverageRecorder(means, std, every=10, n=200, seed=5)
        train_pair(cfg(max_steps=20, seed=seed), ring_players(), DATA_2D, callbacks={"on_step_end": rec})
        assert [r["modes"] for r in rec.records] == [r["modes"][s] for r in rec_e.records]
        assert [r["hq"] for r in rec.records] == pytest.approx([r["hq"][s] for r in rec_e.records], abs=2e-2)
