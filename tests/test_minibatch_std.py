"""The minibatch standard deviation (Karras et al., 2018) and the paper's discriminator that uses it."""

import pytest
import torch

from ganlib.nets.layers import MinibatchStd, minibatch_std, mixes_samples, mixing_block
from ganlib.nets.models import PaperDiscriminator, PaperGenerator
from ganlib.engine.loop import Trainer
from ganlib.engine.config import TrainConfig


def test_the_feature_is_the_mean_feature_std_of_each_samples_group():
    h = torch.randn(12, 5, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    out = minibatch_std(h, group=3, eps=0.0)
    assert out.shape == (12, 6) and torch.equal(out[:, :5], h)
    for i in range(12):
        j = i // 3 * 3
        members = h[j : j + 3]  # groups of consecutive samples
        assert torch.isclose(out[i, 5], members.std(0, unbiased=False).mean())


def test_gradient_is_finite_for_identical_samples_and_gradcheck_passes_in_float64():
    same = torch.ones(4, 3, requires_grad=True)
    minibatch_std(same, group=2).sum().backward()
    assert torch.isfinite(same.grad).all()
    h = torch.randn(6, 4, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: minibatch_std(t, 2), (h,))


def test_a_batch_that_is_not_a_multiple_of_the_group_is_one_clear_error():
    with pytest.raises(ValueError, match="groups of 4"):
        minibatch_std(torch.zeros(6, 3), group=4)
    with pytest.raises(ValueError, match="group must be"):
        MinibatchStd(0)


def test_the_discriminator_with_it_mixes_samples_within_its_groups_only():
    D = PaperDiscriminator(minibatch_std=2)
    assert mixes_samples(D) and not mixes_samples(PaperDiscriminator()) and mixing_block(D) == 2
    assert D.net[-1].in_features == 241 and D(torch.rand(4, 784)).shape == (4,)
    x = torch.rand(4, 784)
    D.eval()
    twin = x.clone()
    twin[1] = twin[0]  # sample 0's group partner is now its copy
    assert not torch.allclose(D(x)[0], D(twin)[0])  # its logit moves, through the new feature only
    assert torch.equal(D(x)[2:], D(twin)[2:])  # the other group does not see it


def test_real_and_generated_batches_share_one_pass_when_the_batch_is_a_multiple_of_the_group():
    D = PaperDiscriminator(minibatch_std=2).eval()
    x, fake = torch.rand(4, 784), torch.rand(4, 784)
    assert torch.allclose(D(torch.cat([x, fake])), torch.cat([D(x), D(fake)]), atol=1e-6)
    assert not mixes_samples(D, 4) and mixes_samples(D, 6 + 1) and mixes_samples(PaperDiscriminator(minibatch_std=4), 6)
    assert mixes_samples(torch.nn.BatchNorm1d(3), 4)  # batch norm mixes the whole batch, always


@pytest.mark.parametrize("group", [2, 3])
def test_the_loop_fuses_real_and_generated_batches_whose_size_is_a_multiple_of_the_group(group):
    cfg = TrainConfig(batch_size=6, max_steps=2, progress=False, snapshot_every=-1, checkpoint_every=-1)
    trainer = Trainer(cfg, PaperGenerator(hidden=32), PaperDiscriminator(minibatch_std=group), torch.rand(18, 784))
    assert trainer._fuse is True
    trainer.run()
    assert all(torch.isfinite(torch.tensor(trainer.history[c])).all() for c in ("d_loss", "g_loss"))


def test_a_batch_the_groups_do_not_divide_is_one_clear_error_before_training():
    cfg = TrainConfig(batch_size=6, max_steps=2, progress=False, snapshot_every=-1, checkpoint_every=-1)
    with pytest.raises(ValueError, match=r"groups of 4 .*batch per process \(6\) must be a multiple of 4"):
        Trainer(cfg, PaperGenerator(hidden=32), PaperDiscriminator(minibatch_std=4), torch.rand(18, 784))
