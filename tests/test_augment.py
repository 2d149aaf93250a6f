"""DiffAugment (ganlib.nets.augment): translation and cutout per sample, differentiable, a wrapper for D."""

import pytest
import torch

from ganlib.nets.augment import AugmentedDiscriminator, cutout, diff_augment, translate
from ganlib.nets.models import DCGANDiscriminator, PaperDiscriminator


def seeded(seed=0):
    return torch.Generator().manual_seed(seed)


def test_translation_moves_each_image_by_its_own_shift_and_keeps_interior_mass():
    x = torch.zeros(64, 1, 28, 28)
    x[:, :, 10:18, 10:18] = torch.rand(64, 1, 8, 8)
    y = translate(x, ratio=0.125, generator=seeded())  # shifts up to 4 px: the patch stays inside
    assert torch.allclose(y.sum((1, 2, 3)), x.sum((1, 2, 3)))
    # each output is an exact shifted copy: find the shift by the patch's top-left corner
    corners = {tuple(torch.nonzero(img[0])[0].tolist()) for img in y}
    assert len(corners) > 10 and all(6 <= r <= 14 and 6 <= c <= 14 for r, c in corners)


def test_translation_fills_with_zeros_from_outside():
    y = translate(torch.ones(256, 1, 8, 8), ratio=0.25, generator=seeded())  # shifts up to 2
    zeros = (y == 0).flatten(1).sum(1)
    assert zeros.max() <= 2 * 8 + 2 * 8 - 4 and zeros.max() > 0 and ((y == 0) | (y == 1)).all()


def test_cutout_zeroes_one_square_of_the_stated_side():
    y = cutout(torch.ones(500, 1, 28, 28), ratio=0.5, generator=seeded())  # 14 x 14
    zeros = (y == 0).flatten(1).sum(1)
    assert zeros.max() == 14 * 14 and zeros.min() >= 7 * 7  # whole inside, or clipped at a corner
    rows = (y[:, 0] == 0).any(2).sum(1)
    cols = (y[:, 0] == 0).any(1).sum(1)
    assert torch.equal(rows * cols, zeros)  # the zeros form a rectangle


@pytest.mark.parametrize("fn", [translate, cutout])
def test_gradcheck_float64(fn):
    x = torch.rand(3, 1, 6, 6, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: fn(t, 0.34, generator=seeded(1)), (x,))


def test_policy_is_reproducible_under_a_seed_and_rejects_unknown_names():
    x = torch.rand(8, 1, 28, 28)
    assert torch.equal(diff_augment(x, generator=seeded(3)), diff_augment(x, generator=seeded(3)))
    assert not torch.equal(diff_augment(x, generator=seeded(3)), diff_augment(x, generator=seeded(4)))
    with pytest.raises(ValueError, match="unknown augmentation 'color'"):
        diff_augment(x, ("color",))
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        translate(torch.rand(8, 784))


def test_wrapper_augments_in_training_only_and_takes_flat_inputs():
    torch.manual_seed(0)
    D = AugmentedDiscriminator(PaperDiscriminator(units=16, pieces=2), ("translation", "cutout")).eval()
    x = torch.rand(6, 784)
    assert torch.equal(D(x), D.discriminator(x))  # eval: D itself
    D.train()
    torch.manual_seed(1)
    a = D(x)
    torch.manual_seed(1)
    assert torch.equal(a, D(x)) and a.shape == (6,)  # the global generator drives it, as dropout
    D.discriminator.eval()  # dropout off: any difference now is the augmentation
    torch.manual_seed(2)
    assert not torch.allclose(D(x), D.discriminator(x))


def test_gradient_reaches_the_generator_through_the_augmentation():
    torch.manual_seed(0)
    D = AugmentedDiscriminator(DCGANDiscriminator(width=8, batch_norm=False))
    fake = torch.rand(4, 1, 28, 28, requires_grad=True)
    D(fake).sum().backward()
    assert fake.grad is not None and fake.grad.abs().sum() > 0
