"""Command line (python -m ganlib train / sample) and the benchmark's --quick smoke run."""

import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from PIL import Image

from ganlib.__main__ import main

ROOT = Path(__file__).resolve().parents[1]


def _env(tmp_path):
    return {**os.environ, "PYTHONPATH": str(ROOT), "GANLIB_DATA": str(tmp_path / "data")}


def test_dry_run_writes_run_folder_then_resume_and_sample(tmp_path, monkeypatch):
    out = tmp_path / "run"
    r = subprocess.run([sys.executable, "-m", "ganlib", "train", "--dry-run", "--out", str(out), "--no-progress"],
                       capture_output=True, text=True, env=_env(tmp_path), timeout=300, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "source=" in r.stdout
    names = {p.name for p in out.iterdir()}
    assert {"checkpoint.pt", "config.json", "history.csv", "samples_final.png", "evolution.gif"} <= names
    assert {"samples_step_0000000.png", "samples_step_0000004.png"} <= names
    rows = list(csv.DictReader(open(out / "history.csv")))
    assert len(rows) == 4 and set(rows[0]) == {"step", "epoch", "d_loss", "g_loss", "value", "d_real", "d_fake",
                                               "lr_d", "lr_g"}
    assert Image.open(out / "evolution.gif").n_frames == 3  # steps 0, 2, 4
    state = torch.load(out / "checkpoint.pt", weights_only=True)
    assert state["step"] == 4 and state["config"]["k"] == 1

    # resume (in-process: same code path as the console script) and continue to step 6
    monkeypatch.setenv("GANLIB_DATA", str(tmp_path / "data"))
    assert main(["train", "--resume", "--out", str(out), "--max-steps", "6", "--no-progress"]) == 0
    assert len(list(csv.DictReader(open(out / "history.csv")))) == 6
    assert torch.load(out / "checkpoint.pt", weights_only=True)["step"] == 6

    assert main(["sample", "--checkpoint", str(out / "checkpoint.pt"), "--out", str(tmp_path / "s.png"), "--n", "16",
                 "--nrow", "4"]) == 0
    assert Image.open(tmp_path / "s.png").size == (122, 122)


def test_toy_run_and_errors(tmp_path, capsys):
    out = tmp_path / "toy"
    assert main(["train", "--dataset", "ring", "--max-steps", "3", "--batch-size", "32", "--n-toy", "256", "--out",
                 str(out), "--no-progress", "--snapshot-every", "-1"]) == 0
    assert (out / "samples_final.csv").is_file() and (out / "checkpoint.pt").is_file()
    assert main(["train", "--dataset", "ring", "--k", "0", "--out", str(out)]) == 2
    assert "k (discriminator steps" in capsys.readouterr().err
    assert main(["train", "--resume", "--out", str(tmp_path / "none")]) == 2


def test_help_is_complete(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = capsys.readouterr().out
    for opt in ("--dataset", "--model", "--loss", "--k", "--epochs", "--max-steps", "--device", "--out", "--resume",
                "--dry-run", "--optimizer", "--amp", "--compile", "--reuse-fakes", "--no-progress", "non_saturating", "saturating"):
        assert opt in text
    with pytest.raises(SystemExit):
        main(["sample", "--help"])
    assert "--checkpoint" in capsys.readouterr().out


def test_benchmark_quick_last_line(tmp_path):
    r = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_train.py"), "--quick"], capture_output=True,
                       text=True, env=_env(tmp_path), timeout=300, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    last = r.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"speedup_vs_textbook=\d+\.\d\d fraction_of_peak=\d+\.\d\d device=(cpu|cuda)", last), last


# ------------------------------------------------------------------- bad input: one line, exit 2
def _cli(args, tmp_path):
    r = subprocess.run([sys.executable, "-m", "ganlib", *args], capture_output=True, text=True, env=_env(tmp_path),
                       timeout=300, cwd=tmp_path)
    return r.returncode, r.stderr.strip().splitlines()


@pytest.fixture(scope="module")
def toy_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "toy"
    assert main(["train", "--dataset", "ring", "--max-steps", "4", "--batch-size", "32", "--n-toy", "256",
                 "--out", str(out), "--no-progress", "--snapshot-every", "-1", "--checkpoint-every", "2"]) == 0
    return out


def test_sample_refuses_bad_checkpoints_in_one_line(tmp_path, toy_run):
    good = (toy_run / "checkpoint.pt").read_bytes()
    (tmp_path / "text.pt").write_text("hello")
    (tmp_path / "notes.pt").write_text("not a checkpoint\n")  # torch reads it as an unknown pickle opcode
    (tmp_path / "cut.pt").write_bytes(good[: len(good) // 2])
    torch.save({"obj": Path("x")}, tmp_path / "pickled.pt")  # a Python object: refused by weights_only=True
    torch.save({"step": 1}, tmp_path / "other.pt")
    cases = {
        "missing.pt": f"error: no checkpoint at {tmp_path / 'missing.pt'}",
        "text.pt": f"error: {tmp_path / 'text.pt'} is not a checkpoint (not a file written by torch.save)",
        "notes.pt": f"error: {tmp_path / 'notes.pt'} is not a checkpoint (not a file written by torch.save)",
        "cut.pt": f"error: {tmp_path / 'cut.pt'} is not a readable checkpoint (truncated or corrupt)",
        "pickled.pt": f"error: {tmp_path / 'pickled.pt'} holds pickled Python objects, which a checkpoint must not "
                      "(refused by torch.load(weights_only=True), so no code in it ran)",
        "other.pt": f"error: {tmp_path / 'other.pt'} is not a checkpoint of 'python -m ganlib train' "
                    "(no meta, generator, model, data_shape)",
    }
    for name, first in cases.items():
        code, err = _cli(["sample", "--checkpoint", str(tmp_path / name), "--out", str(tmp_path / "s.csv")], tmp_path)
        assert (code, err) == (2, [first]), name


def test_sample_writes_raw_tensors(tmp_path, toy_run):
    for out in ("s.pt", "s.npy"):
        assert main(["sample", "--checkpoint", str(toy_run / "checkpoint.pt"), "--n", "10", "--out",
                     str(tmp_path / out)]) == 0
    x = torch.load(tmp_path / "s.pt", weights_only=True)
    import numpy as np

    assert x.shape == (10, 2) and np.allclose(np.load(tmp_path / "s.npy"), x.numpy())
    code, err = _cli(["sample", "--checkpoint", str(toy_run / "checkpoint.pt"), "--out", str(tmp_path / "s.png")],
                     tmp_path)
    assert (code, err) == (2, [f"error: --out {tmp_path / 's.png'}: write toy samples to .csv, .pt or .npy"])


def test_a_diverging_run_is_one_line_and_keeps_its_history(tmp_path):
    out = tmp_path / "div"
    code, err = _cli(["train", "--dataset", "ring", "--max-steps", "200", "--batch-size", "32", "--n-toy", "256",
                      "--lr-d", "1e8", "--lr-g", "1e8", "--optimizer", "SGD", "--log-every", "1",
                      "--checkpoint-every", "1", "--snapshot-every", "-1", "--no-progress", "--out", str(out)], tmp_path)
    assert code == 2 and len(err) == 1, err
    m = re.fullmatch(r"error: non-finite loss at step (\d+) \(.*\); training stopped; last good checkpoint: (.*)", err[0])
    assert m, err
    bad, ckpt = int(m.group(1)), Path(m.group(2))
    rows = list(csv.DictReader(open(out / "history.csv")))
    assert len(rows) == bad - 1 and torch.load(ckpt, weights_only=True)["step"] == bad - 1


def test_other_bad_inputs(tmp_path, toy_run):
    code, err = _cli(["train", "--dataset", "mnist", "--resume", "--out", str(toy_run)], tmp_path)
    assert (code, err) == (2, [f"error: --resume continues {toy_run / 'checkpoint.pt'} as it was trained (--dataset "
                               "ring), not with --dataset mnist: drop --dataset, or train a new run with another --out"])
    code, err = _cli(["train", "--dataset", "ring", "--optimizer", "SGD", "--max-steps", "2", "--batch-size", "32",
                      "--n-toy", "64", "--no-progress", "--snapshot-every", "-1", "--out", str(tmp_path / "sgd")],
                     tmp_path)
    assert code == 0, err  # SGD gets no Adam betas
    with pytest.raises(ValueError, match="optimizer SGD takes no 'betas'"):
        from ganlib.engine.config import TrainConfig

        TrainConfig(optimizer="SGD").validate()


def test_help_states_each_default_once(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = capsys.readouterr().out
    assert "(default: None)" not in text and "(default: runs/gan)" in text


@pytest.mark.parametrize("amp", ["bf16", "fp16"])
def test_amp_trains_saves_its_scalers_and_resumes(tmp_path, amp):
    out = tmp_path / amp
    args = ["train", "--dataset", "ring", "--batch-size", "32", "--n-toy", "256", "--amp", amp, "--no-progress",
            "--snapshot-every", "-1", "--out", str(out)]
    assert main([*args, "--max-steps", "3"]) == 0
    state = torch.load(out / "checkpoint.pt", weights_only=True)
    assert state["config"]["amp"] == amp and sorted(state["scalers"]) == (["d", "g"] if amp == "fp16" else [])
    assert main(["train", "--resume", "--out", str(out), "--max-steps", "5", "--no-progress"]) == 0
    assert torch.load(out / "checkpoint.pt", weights_only=True)["step"] == 5
    code, err = _cli(["train", "--dataset", "ring", "--amp", "fp8", "--out", str(tmp_path / "x")], tmp_path)
    assert code == 2 and len(err) == 1 and err[0].startswith("error: argument --amp: invalid choice: 'fp8'"), err
    assert err[0].endswith("(see python -m ganlib train --help)")


def test_sample_uses_the_moving_average_unless_told_not_to(tmp_path):
    out = tmp_path / "ema"
    assert main(["train", "--dataset", "ring", "--max-steps", "30", "--batch-size", "32", "--n-toy", "256",
                 "--ema-decay", "0.9", "--no-progress", "--snapshot-every", "-1", "--out", str(out)]) == 0
    ckpt = str(out / "checkpoint.pt")
    assert main(["sample", "--checkpoint", ckpt, "--n", "50", "--out", str(tmp_path / "avg.pt")]) == 0
    assert main(["sample", "--checkpoint", ckpt, "--n", "50", "--out", str(tmp_path / "last.pt"), "--no-ema"]) == 0
    avg, last = torch.load(tmp_path / "avg.pt"), torch.load(tmp_path / "last.pt")
    assert avg.shape == last.shape == (50, 2) and not torch.allclose(avg, last)
    from ganlib.nets.models import build_models

    state = torch.load(ckpt, weights_only=True)
    G, _ = build_models("mlp", (2,))
    G.load_state_dict({k.removeprefix("module."): v for k, v in state["generator_ema"].items() if k != "n_averaged"})
    z = G.sample_noise(50, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(G.eval()(z), avg)


def test_loss_options_reach_the_config_and_a_wrong_one_is_one_line(tmp_path, capsys):
    out = tmp_path / "gp"
    assert main(["train", "--dataset", "ring", "--loss", "wgan-gp", "--loss-option", "gp_weight=2.5", "--max-steps", "2",
                 "--batch-size", "32", "--n-toy", "64", "--no-progress", "--snapshot-every", "-1", "--out", str(out)]) == 0
    assert json.loads((out / "config.json").read_text())["config"]["loss_kwargs"] == {"gp_weight": 2.5}
    code, err = _cli(["train", "--dataset", "ring", "--loss", "hinge", "--loss-option", "gp_weight=2.5", "--out",
                      str(tmp_path / "hinge")], tmp_path)
    assert (code, err) == (2, ["error: loss 'hinge' has no option 'gp_weight'; its options: none"])
    code, err = _cli(["train", "--preset", "mnist", "--loss-option", "gp_weight=2.5", "--out", str(tmp_path / "p")], tmp_path)
    assert code == 2 and len(err) == 1 and "--preset mnist sets --loss-option itself" in err[0]


def test_every_config_field_is_an_option_with_its_documentation(capsys):
    """The train options are generated from TrainConfig: a field added to the config is an option, with
    the field's own comment as help and the registries' names as choices."""
    import dataclasses

    from ganlib.__main__ import _NOT_OPTIONS, _flag
    from ganlib.engine.config import TrainConfig, field_help
    from ganlib.game.registry import LOSSES

    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for f in dataclasses.fields(TrainConfig):
        if f.name not in _NOT_OPTIONS:
            assert _flag(f.name) in text, f.name
            assert " ".join(field_help()[f.name].split()[:4]) in text, f.name
    assert "{" + ",".join(sorted(LOSSES)) + "}" in text


def test_a_new_run_takes_the_model_defaults_then_the_options(tmp_path, monkeypatch):
    """No model special-cased in the command line: the paper's pair brings its optimiser (registry),
    the optimiser its learning rates (optimizer_defaults), and an option given wins over both."""
    import ganlib.__main__ as cli
    from ganlib.engine.config import TrainConfig

    seen = {}
    monkeypatch.setattr(cli, "_load_data", lambda *args: (_ for _ in ()).throw(SystemExit(0)))
    monkeypatch.setattr(TrainConfig, "validate", lambda self: seen.setdefault("cfg", self))
    for argv, expect in ((["--model", "paper"], dict(optimizer="paper", lr_d=0.1, optimizer_kwargs={})),
                         (["--model", "paper", "--optimizer", "Adam", "--lr-d", "0.01"],
                          dict(optimizer="Adam", lr_d=0.01, lr_g=2e-4, optimizer_kwargs={"betas": (0.5, 0.999)})),
                         (["--dataset", "ring", "--optimizer", "SGD"], dict(optimizer="SGD", optimizer_kwargs={}))):
        seen.clear()
        with pytest.raises(SystemExit):
            cli._train_here(cli._parser().parse_args(["train", *argv, "--out", str(tmp_path / "o")]))
        assert {k: getattr(seen["cfg"], k) for k in expect} == expect, argv
