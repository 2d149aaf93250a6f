"""Command line (python -m ganlib train / sample) and the benchmark's --quick smoke run."""

import csv
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
                "--dry-run", "--optimizer", "--bf16", "--compile", "--reuse-fakes", "--no-progress", "non_saturating", "saturating"):
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
