"""The static optimal-discriminator explorer: every number it shows is ganlib.theory's."""
import json
import re

import numpy as np
import pytest

from ganlib import theory
from ganlib.data import toy
from ganlib.viz import explorer


def test_frames_hold_theorys_numbers():
    f = explorer.discriminator_frames([-1.0, 2.0], [0.5, 1.5], n_plot=51)
    xq = np.linspace(-20.0, 20.0, 8001)
    pd = toy.gaussian_1d(0.0, 1.0).pdf(xq)
    for i, m in enumerate(f["means"]):
        for j, s in enumerate(f["stds"]):
            pg = toy.gaussian_1d(m, s).pdf(xq)
            frame = f["frames"][i][j]
            assert frame["c"] == pytest.approx(theory.virtual_criterion(pd, pg, xq), abs=1e-12)
            assert frame["jsd"] == pytest.approx(theory.jensen_shannon(pd, pg, xq), abs=1e-12)
            assert frame["c"] == pytest.approx(-np.log(4) + 2 * frame["jsd"], abs=1e-6)  # Eq. 5
            x = np.asarray(f["x"])
            want = theory.optimal_discriminator(toy.gaussian_1d(0, 1).pdf(x), toy.gaussian_1d(m, s).pdf(x))
            np.testing.assert_allclose(frame["d_star"], want, atol=1e-4)


def test_html_embeds_the_frames_and_starts_at_the_nearest_setting():
    f = explorer.discriminator_frames([0.0, 1.0, 2.0], [1.0, 2.0])
    page = explorer.explorer_html(f, mean=1.1, std=1.9)
    embedded = json.loads(re.search(r"const root = document.getElementById\(\"[^\"]+\"\), F = (\{.*?\});", page).group(1))
    assert embedded == json.loads(json.dumps(f))
    assert 'class="gan-explorer-mean" min="0" max="2" step="1" value="1"' in page
    assert 'class="gan-explorer-std" min="0" max="1" step="1" value="1"' in page
    assert f["frames"][1][1]["label"] in page and "http" not in page  # nothing fetched from the network


@pytest.mark.parametrize("means,stds,match", [([], [1.0], "at least one"), ([0.0], [0.0], "positive")])
def test_bad_settings_are_one_clear_error(means, stds, match):
    with pytest.raises(ValueError, match=match):
        explorer.discriminator_frames(means, stds)
