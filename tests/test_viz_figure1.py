"""Figure 1 from a run: the recorder of D(x), samples and the mapping x = G(z), the panel, the animation."""

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from ganlib.nets.models import MLPDiscriminator, MLPGenerator  # noqa: E402
from ganlib.engine.config import TrainConfig  # noqa: E402
from ganlib.engine.loop import Trainer  # noqa: E402
from ganlib.theory import discriminator_curve  # noqa: E402
from ganlib.viz import Figure1Recorder, animate_figure1, plot_figure1_panel  # noqa: E402

XS = np.linspace(-3, 3, 61)
Z = np.linspace(-math.sqrt(3), math.sqrt(3), 7)


def _trainer(steps=4):
    torch.manual_seed(0)
    G, D = MLPGenerator(1, 1, (8,), noise="uniform"), MLPDiscriminator(1, (8,))
    return Trainer(TrainConfig(batch_size=16, max_steps=steps, progress=False, snapshot_every=-1), G, D,
                   torch.randn(64, 1))


def test_recorder_keeps_the_mapping_of_the_z_grid():
    tr = _trainer()
    rec = Figure1Recorder(XS, Z, every=2, n_samples=50)
    rec.capture(tr)
    tr.add_callback("on_step_end", rec)
    tr.run()
    assert [r["step"] for r in rec.records] == [0, 2, 4]
    last = rec.records[-1]
    with torch.no_grad():
        expected = tr.G(torch.tensor(Z, dtype=torch.float32).reshape(-1, 1)).reshape(-1).numpy()
    assert np.allclose(last["gz"], expected) and np.array_equal(last["z"], Z.astype(np.float32))
    assert np.allclose(last["d"], discriminator_curve(tr.D, XS))
    assert last["samples"].shape == (50,)
    assert not np.allclose(rec.records[0]["gz"], last["gz"])  # G moved during training


def test_panel_draws_one_segment_per_z_and_the_optimal_discriminator():
    fig, ax = plt.subplots()
    pdf = np.exp(-XS**2 / 2) / math.sqrt(2 * math.pi)
    gz = np.linspace(-1, 1, len(Z))
    plot_figure1_panel(ax, XS, pdf, pdf, np.full_like(XS, 0.5), Z, gz, d_star=np.full_like(XS, 0.5))
    segments = [ln for ln in ax.lines if len(ln.get_ydata()) == 2 and ln.get_ydata()[0] < ln.get_ydata()[1] < 0]
    assert len(segments) == len(Z)
    # each segment ends at its image G(z) on the x line (above) and starts on the z line (below)
    ends = sorted(ln.get_xdata()[1] for ln in segments)
    assert np.allclose(ends, gz)
    assert {ln.get_label() for ln in ax.lines} >= {r"$p_{data}$", r"$p_g$", r"$D(x)$", r"$D^*_G(x)$"}
    plt.close(fig)


def test_panel_top_is_fixed_when_given():
    fig, ax = plt.subplots()
    spike = np.where(np.abs(XS) < 0.05, 40.0, 0.0)
    plot_figure1_panel(ax, XS, spike * 0, spike, np.full_like(XS, 0.5), Z, np.zeros(len(Z)), top=1.2)
    assert ax.get_ylim()[1] == pytest.approx(1.2 * 1.08)
    plt.close(fig)


def _recorded_animation(steps):
    """A toy run of ``steps`` steps recorded every step, and its Figure 1 animation."""
    tr = _trainer(steps=steps)
    rec = Figure1Recorder(XS, Z, every=1, n_samples=40)
    rec.capture(tr)
    tr.add_callback("on_step_end", rec)
    tr.run()
    return rec, animate_figure1(rec.records, XS, np.exp(-XS**2 / 2) / math.sqrt(2 * math.pi), dpi=30)


def test_animation_has_one_frame_per_record():
    rec, anim = _recorded_animation(steps=3)
    html = anim.to_jshtml()
    assert html.count("data:image/png;base64") == len(rec.records) == 4
    with pytest.raises(ValueError):
        animate_figure1([], XS, XS)


def test_animation_html_requests_nothing_from_the_network():
    from ganlib.viz import animation_html

    _, anim = _recorded_animation(steps=2)
    raw, html = anim.to_jshtml(), animation_html(anim)
    assert "font-awesome" in raw and "http" in raw  # what matplotlib writes
    assert "http" not in html and 'class="fa ' not in html  # nothing external, no icon font needed
    assert html.count("data:image/png;base64") == 3 and "play_animation" in html
    assert "\u25b6" in html and "\u275a\u275a" in html  # play and pause as plain characters
