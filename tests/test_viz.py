"""Sample grids, the evolution GIF, discriminator curves and plots."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402

from ganlib.nets.models import MLPDiscriminator, MLPGenerator  # noqa: E402
from ganlib.engine.config import TrainConfig  # noqa: E402
from ganlib.engine.loop import Trainer  # noqa: E402
from ganlib.theory import discriminator_curve  # noqa: E402
from ganlib.viz import Figure1Recorder, GridWriter, image_grid, plot_history, save_gif, save_grid, to_images  # noqa: E402


def test_grid_and_png(tmp_path):
    x = torch.rand(10, 784)
    assert to_images(x).shape == (10, 1, 28, 28)
    g = image_grid(x, nrow=5)
    assert g.shape == (3, 2 + 2 * 30, 2 + 5 * 30)
    path = save_grid(x, tmp_path / "a" / "grid.png", nrow=5)
    assert Image.open(path).size == (152, 62)
    with pytest.raises(ValueError):
        to_images(torch.rand(3, 10))


def test_gif_has_one_frame_per_snapshot(tmp_path):
    frames = [(s, torch.full((4, 784), s / 3)) for s in range(4)]
    path = save_gif(frames, tmp_path / "evo.gif", nrow=2)
    im = Image.open(path)
    assert im.n_frames == 4
    with pytest.raises(ValueError):
        save_gif([], tmp_path / "x.gif")


def test_discriminator_curve_and_recorder_callback(tmp_path):
    torch.manual_seed(0)
    G, D = MLPGenerator(1, 1, (8,)), MLPDiscriminator(1, (8,))
    xs = np.linspace(-3, 3, 50)
    d = discriminator_curve(D, xs)
    assert d.shape == (50,) and ((d > 0) & (d < 1)).all()
    tr = Trainer(TrainConfig(batch_size=16, max_steps=4, progress=False, snapshot_every=-1), G, D, torch.randn(64, 1))
    rec = Figure1Recorder(xs, np.linspace(-1, 1, 5), every=2, n_samples=100)
    tr.add_callback("on_step_end", rec)
    tr.run()
    assert [r["step"] for r in rec.records] == [2, 4] and rec.records[0]["samples"].shape == (100,)
    np.testing.assert_array_equal(rec.records[-1]["d"], discriminator_curve(tr.D, xs))
    import matplotlib.pyplot as plt

    ax2 = plot_history(tr.history)
    assert len(ax2.lines) == 3
    plt.close("all")


def test_grid_writer_callback(tmp_path):
    G, D = MLPGenerator(4, 784, (8,)), MLPDiscriminator(784, (8,))
    tr = Trainer(TrainConfig(batch_size=8, max_steps=2, progress=False, snapshot_every=1, n_snapshot=4), G, D,
                 torch.rand(16, 784))
    tr.add_callback("on_snapshot", GridWriter(tmp_path))
    tr.run()
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"samples_step_{s:07d}.png" for s in (0, 1, 2)]


def test_value_curves_put_critics_right_on_a_common_update_axis():
    import math

    import pandas as pd

    from ganlib.viz import plot_value_curves

    hist = pd.DataFrame({"step": [1, 2, 3, 4], "value": [-1.0, -1.2, -1.4, -1.3]})
    fig = plot_value_curves({"vanilla": (hist, 1, False), "wgan-gp": (hist, 5, True)}, "t", window=1)
    left, right = fig.axes
    (v,), (w,) = [[ln for ln in ax.get_lines() if ln.get_label() in ("vanilla", "wgan-gp")] for ax in (left, right)]
    assert v.get_label() == "vanilla" and w.get_label() == "wgan-gp"
    assert list(w.get_xdata()) == [5, 10, 15, 20] and list(v.get_ydata()) == hist.value.tolist()
    assert any(np.allclose(ln.get_ydata(), -math.log(4)) for ln in left.get_lines())
