"""The minibatch standard deviation (Karras et al., 2018) and the paper's discriminator that uses it."""

import pytest
import torch

from ganlib.layers import MinibatchStd, minibatch_std, mixes_samples
from ganlib.models import PaperDiscriminator, PaperGenerator
from ganlib.train import Trainer
from ganlib.config import TrainConfig


def test_the_feature_is_the_mean_feature_std_of_each_samples_group():
    h = torch.randn(12, 5, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    out = minibatch_std(h, group=3, eps=0.0)
    assert out.shape == (12, 6) and torch.equal(out[:, :5], h)
    for i in range(12):
        members = h[[i % 4, i % 4 + 4, i % 4 + 8]]  # groups: i, i + N/g, i + 2N/g
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


def test_the_discriminator_with_it_mixes_samples_so_the_loop_judges_real_and_fake_apart():
    D = PaperDiscriminator(minibatch_std=2)
    assert mixes_samples(D) and not mixes_samples(PaperDiscriminator())
    assert D.net[-1].in_features == 241 and D(torch.rand(4, 784)).shape == (4,)
    # a repeated sample changes the logits of its group only through the new feature
    x = torch.rand(4, 784)
    D.eval()
    twin = x.clone()
    twin[2] = twin[0]  # sample 0's group partner (0 and 0 + N/2) is now its copy
    assert not torch.allclose(D(x)[0], D(twin)[0])
    trainer = Trainer(TrainConfig(batch_size=4, max_steps=2, progress=False, snapshot_every=-1, checkpoint_every=-1),
                      PaperGenerator(hidden=32), D.train(), torch.rand(16, 784))
    assert trainer._fuse is False
    trainer.run()
    assert all(torch.isfinite(torch.tensor(trainer.history[c])).all() for c in ("d_loss", "g_loss"))
