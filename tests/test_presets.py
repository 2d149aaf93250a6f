"""Presets (ganlib.recipes.presets, `python -m ganlib train --preset NAME`): a quick-mode smoke run of each,
sampling with the moving average, resuming, and the options a preset refuses."""

import pytest
import torch

from ganlib.__main__ import _parser, _preset_run, main
from ganlib.nets.augment import AugmentedDiscriminator
from ganlib.recipes.presets import PRESETS, get_preset, players_from_meta


@pytest.fixture(scope="module")
def mnist_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("preset") / "mnist"
    mp = pytest.MonkeyPatch()
    mp.setenv("GANLIB_QUICK", "1")
    try:
        assert main(["train", "--preset", "mnist", "--out", str(out), "--no-progress"]) == 0
    finally:
        mp.undo()
    return out


def test_quick_run_keeps_the_preset_and_the_average(mnist_run):
    state = torch.load(mnist_run / "checkpoint.pt", weights_only=True)
    preset = get_preset("mnist")
    assert state["step"] == preset.quick_steps and state["meta"]["preset"] == "mnist"
    assert state["config"]["ema_decay"] == preset.config["ema_decay"] and state["generator_ema"] is not None
    assert state["meta"]["augment"] == dict(preset.augment) and state["config"]["amp"] == preset.config["amp"]
    assert state["meta"]["model"] == "paper" and state["meta"]["pack"] == 1
    assert state["config"]["optimizer"] == "Adam" and state["config"]["lr_g"] == 4 * state["config"]["lr_d"]


def test_the_preset_checkpoints_at_its_own_interval_unless_told(mnist_run, tmp_path):
    # a checkpoint of the paper's networks with Adam's moments is ~55 MB written with fsync: every
    # epoch of the 4,000-digit split (40 steps) would write 300 of them in a 12,000-step run
    assert torch.load(mnist_run / "checkpoint.pt", weights_only=True)["config"]["checkpoint_every"] == 1000
    parse = lambda *extra: _parser().parse_args(["train", "--preset", "mnist", *extra])  # noqa: E731
    assert _preset_run(parse(), tmp_path)[0].checkpoint_every == get_preset("mnist").config["checkpoint_every"]
    assert _preset_run(parse("--checkpoint-every", "0"), tmp_path)[0].checkpoint_every == 0
    assert _parser().parse_args(["train"]).checkpoint_every is None  # so a preset's own value is not overwritten


def test_sample_writes_images_in_the_unit_interval(mnist_run, tmp_path):
    assert main(["sample", "--checkpoint", str(mnist_run / "checkpoint.pt"), "--n", "300", "--out",
                 str(tmp_path / "s.pt")]) == 0
    x = torch.load(tmp_path / "s.pt")
    assert x.shape == (300, 1, 28, 28) and x.dtype == torch.float32 and 0 <= x.min() and x.max() <= 1


def test_resume_rebuilds_the_players(mnist_run, monkeypatch):
    monkeypatch.setenv("GANLIB_QUICK", "1")
    steps = get_preset("mnist").quick_steps + 4
    assert main(["train", "--resume", "--out", str(mnist_run), "--max-steps", str(steps), "--no-progress"]) == 0
    assert torch.load(mnist_run / "checkpoint.pt", weights_only=True)["step"] == steps


@pytest.mark.parametrize("flag", [["--loss", "hinge"], ["--batch-size", "32"], ["--model", "paper"], ["--lr-d", "1e-3"]])
def test_options_the_preset_sets_are_refused_in_one_line(flag, tmp_path, capsys):
    assert main(["train", "--preset", "mnist", *flag, "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: --preset mnist sets {flag[0]} itself"), err
    assert not (tmp_path / "x").exists()  # refused before any work


def test_every_preset_states_its_budget_and_builds_its_players():
    for name, preset in PRESETS.items():
        assert "steps" in preset.budget and "minutes" in preset.budget
        shape = (1, 28, 28) if preset.model == "dcgan" else (784,)  # the data layout the command line trains on
        G, D = players_from_meta(preset.meta(), shape)
        assert isinstance(D, AugmentedDiscriminator) == bool(preset.augment)
        assert G(G.sample_noise(4)).reshape(4, 784).shape == (4, 784) and D(torch.rand(4, *shape)).shape == (4,)
    with pytest.raises(ValueError, match="unknown preset 'cifar'; valid: mnist"):
        get_preset("cifar")


def test_the_dcgan_preset_augments_and_packing_wraps_a_flat_discriminator():
    from ganlib.nets.layers import PackedDiscriminator

    G, D = players_from_meta(get_preset("mnist-dcgan").meta(), (1, 28, 28))
    assert isinstance(D, AugmentedDiscriminator) and D.policy == ("translation",)
    meta = {**get_preset("mnist").meta(), "pack": 2}
    G, D = players_from_meta(meta, (784,))
    assert isinstance(D, PackedDiscriminator) and D(torch.rand(8, 784)).shape == (8,)
    with pytest.raises(ValueError, match="packing needs a flat model"):
        players_from_meta({**get_preset("mnist-dcgan").meta(), "pack": 2}, (1, 28, 28))
