"""The training loop with critic losses: WGAN weight clipping, WGAN-GP's penalty, hinge, n_critic."""

import pandas as pd
import pytest
import torch

from ganlib.game.critics import critic_loss_wasserstein, generator_loss_wasserstein, wasserstein_estimate
from ganlib.game.registry import LOSSES, GANLoss
from ganlib.nets.models import MLPDiscriminator, MLPGenerator
from ganlib.engine.config import TrainConfig
from ganlib.engine.loop import Trainer

DATA = torch.randn(64, 2)


pytestmark = pytest.mark.usefixtures("one_thread")


def small(**kw):
    base = dict(batch_size=16, max_steps=6, progress=False, log_every=3, snapshot_every=-1, k=5)
    base.update(kw)
    return TrainConfig(**base)


def toy_pair(d=2, sn=False):
    torch.manual_seed(0)
    return MLPGenerator(d, d, (8,)), MLPDiscriminator(d, (8,), spectral_norm=sn)


def test_wasserstein_clips_every_critic_parameter_after_each_update():
    G, D = toy_pair()
    with torch.no_grad():  # start far outside the box: only the clipping can bring them back
        for p in D.parameters():
            p.fill_(0.5)
    cfg = small(loss="wasserstein", optimizer="RMSprop", lr_d=5e-5, lr_g=5e-5, optimizer_kwargs={})
    tr = Trainer(cfg, G, D, DATA)
    tr.run()
    assert all(p.abs().max().item() <= 0.01 + 1e-9 for p in D.parameters())
    assert any(p.abs().max().item() == pytest.approx(0.01) for p in D.parameters())


def test_wasserstein_history_records_the_critic_w1_estimate():
    G, D = toy_pair()
    df = pd.DataFrame(Trainer(small(loss="wasserstein"), G, D, DATA).run())
    # value = mean f(x) - mean f(G(z)) = d_real - d_fake, and the (penalty-free) critic loss is -value
    assert ((df.d_real - df.d_fake) - df.value).abs().max() < 1e-6
    assert (df.d_loss + df.value).abs().max() < 1e-6


def test_critic_history_records_raw_scores_not_sigmoids():
    G, D = toy_pair()
    with torch.no_grad():
        D.net[-1].weight.zero_()
        D.net[-1].bias.fill_(-3.0)  # f = -3 everywhere: sigmoid would record 0.047
    cfg = small(loss="hinge", k=1, max_steps=1, log_every=1, lr_d=1e-12, lr_g=1e-12)
    df = pd.DataFrame(Trainer(cfg, G, D, DATA).run())
    assert df.d_real[0] == pytest.approx(-3.0) and df.d_fake[0] == pytest.approx(-3.0)


def test_wgan_gp_adds_the_penalty_to_the_critic_loss():
    G, D = toy_pair()
    with torch.no_grad():  # a steep critic: gradient norm far from 1, so the penalty is large
        for p in D.parameters():
            p.mul_(10.0)
    df = pd.DataFrame(Trainer(small(loss="wgan-gp", max_steps=2, log_every=1), G, D, DATA).run())
    penalty = df.d_loss + df.value  # d_loss = -W_hat + 10 * GP
    assert (penalty > 1.0).all()


def test_penalty_and_clip_hooks_are_generic_and_called_once_per_critic_update():
    calls = []

    def counting_penalty(critic, real, fake, generator=None):
        calls.append((real.shape, fake.shape, isinstance(generator, torch.Generator)))
        return critic(real).mean() * 0.0 + 1.0  # adds exactly 1 to the loss and keeps the graph

    name = "test_counting_critic"
    LOSSES.pop(name, None)
    LOSSES[name] = GANLoss(name, critic_loss_wasserstein, generator_loss_wasserstein, "test",
                           penalty=counting_penalty, clip_value=0.2, value=wasserstein_estimate,
                           link=lambda t: t)
    try:
        G, D = toy_pair()
        tr = Trainer(small(loss=name, k=3, max_steps=4), G, D, DATA)
        df = pd.DataFrame(tr.run())
        assert len(calls) == 3 * 4
        assert all(r == (16, 2) and f == (16, 2) and g for r, f, g in calls)
        assert (df.d_loss + df.value - 1.0).abs().max() < 1e-6
        assert max(p.abs().max().item() for p in D.parameters()) <= 0.2 + 1e-6
    finally:
        LOSSES.pop(name)


def test_n_critic_is_k_discriminator_updates_per_generator_update():
    G, D = toy_pair()
    tr = Trainer(small(loss="wgan-gp", k=5, max_steps=3), G, D, DATA)
    n = {"d": 0, "g": 0}
    tr.optim_d.optimizer.register_step_post_hook(lambda *a: n.__setitem__("d", n["d"] + 1))
    tr.optim_g.optimizer.register_step_post_hook(lambda *a: n.__setitem__("g", n["g"] + 1))
    tr.run()
    assert n == {"d": 15, "g": 3}


@pytest.mark.parametrize("loss, sn", [("hinge", True), ("wgan-gp", True), ("non_saturating", True)])
def test_critic_losses_and_spectral_norm_run_and_stay_finite(loss, sn):
    G, D = toy_pair(sn=sn)
    df = pd.DataFrame(Trainer(small(loss=loss, max_steps=4), G, D, DATA).run())
    assert len(df) == 4 and df[["d_loss", "g_loss", "value", "d_real", "d_fake"]].notna().all().all()


def test_paper_losses_still_record_probabilities():
    G, D = toy_pair()
    df = pd.DataFrame(Trainer(small(loss="non_saturating", k=1), G, D, DATA).run())
    assert df.d_real.between(0, 1).all() and df.d_fake.between(0, 1).all()
    assert (df.d_loss + df.value).abs().max() < 1e-5


def test_resume_with_gradient_penalty_is_bit_identical(tmp_path):
    cfg = small(loss="wgan-gp", k=2, max_steps=6)
    G, D = toy_pair(sn=True)
    full = Trainer(cfg, G, D, DATA)
    full.run()
    G, D = toy_pair(sn=True)
    first = Trainer(cfg, G, D, DATA)
    first.run(steps=3)
    first.save_checkpoint(tmp_path / "c.pt")
    G, D = toy_pair(sn=True)
    second = Trainer(cfg, G, D, DATA).load_checkpoint(tmp_path / "c.pt")
    second.run()
    for a, b in zip(full.G.parameters(), second.G.parameters()):
        assert torch.equal(a, b)
    assert full.history["d_loss"] == second.history["d_loss"]


def test_wgan_gp_learns_a_shifted_gaussian():
    """p_data = N((2, -1.5), 0.5^2 I), G(z) = A z + b: WGAN-GP (Adam 1e-2, betas (0.5, 0.9), n_critic 5).

    (In 1-D the two-sided penalty can trap the critic with the wrong sign of slope, since turning
    f' = -1 into f' = +1 passes through f' = 0 where the penalty is 10; in 2-D the gradient rotates.)
    """
    g = torch.Generator().manual_seed(0)
    mu = torch.tensor([2.0, -1.5])
    data = torch.randn(4096, 2, generator=g) * 0.5 + mu
    torch.manual_seed(0)
    G, D = MLPGenerator(2, 2, hidden=()), MLPDiscriminator(2, (32, 32))
    cfg = TrainConfig(loss="wgan-gp", k=5, max_steps=300, batch_size=128, lr_d=1e-2, lr_g=1e-2,
                      optimizer_kwargs={"betas": (0.5, 0.9)}, progress=False, log_every=100, snapshot_every=-1)
    tr = Trainer(cfg, G, D, data)
    assert (tr.sample(n=5000).mean(0) - mu).norm() > 2.0
    tr.run()
    x = tr.sample(n=20000)
    assert (x.mean(0) - mu).abs().max().item() < 0.25 and (x.std(0) - 0.5).abs().max().item() < 0.2
    # the critic's W1 estimate (once trained) shrinks with the distance
    assert tr.history["value"][-1] < 0.2 * max(tr.history["value"][:100])
