"""The MNIST chapter's drawings: Figure 2's neighbour column, Figure 3's z interpolation, the
class histogram."""

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402
import torch  # noqa: E402

from ganlib.viz import HIGHLIGHT, latent_interpolation, neighbour_grid, plot_class_histogram, show_grid  # noqa: E402


def test_neighbour_grid_puts_each_rows_neighbour_in_a_highlighted_last_column():
    samples = torch.rand(3 * 4, 784) * 0.5
    neighbours = torch.stack([torch.full((784,), 0.1 * (r + 1)) for r in range(3)])
    g = neighbour_grid(samples, neighbours, nrow=4, padding=2)
    p, s = 2, 28
    assert g.shape == (3, p + 3 * (s + p), (p + 4 * (s + p)) + 2 * p + (s + 2 * p))
    x0 = g.shape[2] - (s + 2 * p)  # first column of the neighbour strip
    for r in range(3):
        y = p + r * (s + p)
        cell = g[:, y : y + s, x0 + p : x0 + p + s]
        assert torch.allclose(cell, torch.full_like(cell, 0.1 * (r + 1)))  # the row's neighbour, unchanged
        frame = g[:, y - 1, x0 + p + 5]  # a pixel of the frame just above it
        assert torch.allclose(frame, torch.tensor(HIGHLIGHT))
    left = g[:, :, : p + 4 * (s + p)]
    assert not torch.isclose(left, torch.tensor(HIGHLIGHT).view(3, 1, 1)).all(0).any()  # samples stay unframed
    with pytest.raises(ValueError, match="nrow"):
        neighbour_grid(samples[:-1], neighbours, nrow=4)


def test_latent_interpolation_is_linear_with_both_ends_included():
    z0, z1 = torch.randn(2, 5), torch.randn(2, 5)
    z = latent_interpolation(z0, z1, steps=5).view(2, 5, 5)
    assert torch.allclose(z[:, 0], z0) and torch.allclose(z[:, -1], z1)
    assert torch.allclose(z[:, 2], (z0 + z1) / 2)
    steps = z[:, 1:] - z[:, :-1]
    assert torch.allclose(steps, steps[:, :1].expand_as(steps), atol=1e-6)  # equal steps: a straight line
    with pytest.raises(ValueError):
        latent_interpolation(z0, z1, steps=1)
    with pytest.raises(ValueError):
        latent_interpolation(z0, z1[:, :3], steps=3)


def test_class_histogram_plot_marks_missing_digits_in_red():
    import matplotlib.pyplot as plt

    fig, (ax, ax2) = plt.subplots(1, 2)
    plot_class_histogram(ax, torch.tensor([0, 50, 0, 30, 20, 0, 0, 0, 0, 100]), title="t")
    reds = [b for b in ax.patches if b.get_facecolor()[:3] == matplotlib.colors.to_rgb("tab:red")]
    assert len(ax.patches) == 10 and len(reds) == 6
    assert sum(t.get_text() == "missing" for t in ax.texts) == 6
    show_grid(ax2, torch.rand(3, 10, 12), "grid")
    assert ax2.get_title() == "grid" and not ax2.axison
    plt.close(fig)


def test_plot_health_draws_digit_scores_and_the_fid_on_their_own_panels():
    from types import SimpleNamespace

    from ganlib import viz

    rows = [{"step": s, "d_real": 0.6, "d_fake": 0.4, "value": -1.3} for s in (100, 200, 300, 400)]
    rows[0].update(confident_share=0.2, fid=300.0)
    rows[3].update(confident_share=0.7, fid=40.0)
    fig = viz.plot_health({"recipe": SimpleNamespace(records=rows, alerts=[])})
    axes = fig.axes
    assert len(axes) == 4 and "confidence" in axes[2].get_title() and axes[3].get_yscale() == "log"
    (line,) = axes[2].get_lines()
    assert list(line.get_xdata()) == [100, 400] and list(line.get_ydata()) == [0.2, 0.7]
    toy = [{"step": 1, "d_real": 0.5, "d_fake": 0.5, "value": -1.4, "modes": 8}]
    assert len(viz.plot_health({"toy": SimpleNamespace(records=toy, alerts=[])}).axes) == 3


def test_plot_class_histogram_refuses_counts_that_are_all_zero():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match="not all zero"):
        plot_class_histogram(ax, [0] * 10)
    with pytest.raises(ValueError, match="finite"):
        plot_class_histogram(ax, [float("nan")] + [1] * 9)
    plt.close(fig)
