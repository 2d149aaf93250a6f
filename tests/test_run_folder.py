"""A run folder is a unit (python -m ganlib train / sample): a resume continues the run it finds, on the
data, model and config it records, and refuses in one line any option that contradicts them; nothing
is overwritten unless asked; a checkpoint is good only with finite weights; zero is a value."""
import json
from pathlib import Path

import pytest
import torch

from ganlib.__main__ import main
from ganlib.engine.checkpoint import FORMAT_VERSION, save_checkpoint

pytestmark = pytest.mark.usefixtures("one_thread")  # the subprocesses below get OMP_NUM_THREADS=1 too

TOY = ["--dataset", "ring", "--batch-size", "32", "--no-progress", "--snapshot-every", "-1"]


def _weights(path):
    state = torch.load(path, weights_only=True)
    return {**{f"G.{k}": v for k, v in state["generator"].items()}, **{f"D.{k}": v for k, v in state["discriminator"].items()}}


def _one_line(capsys):
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: "), err
    return err[0]


def test_resume_rebuilds_the_data_it_was_trained_on(tmp_path, monkeypatch):
    """Seed 7 and 512 toy samples, interrupted at step 40 and resumed without repeating either option:
    bit-identical to 80 steps straight (the data used to be rebuilt from the defaults, seed 0 and 10,000)."""
    monkeypatch.chdir(tmp_path)
    common = [*TOY, "--n-toy", "512", "--seed", "7", "--checkpoint-every", "20"]
    assert main(["train", *common, "--max-steps", "80", "--out", "straight"]) == 0
    assert main(["train", *common, "--max-steps", "40", "--out", "parts"]) == 0
    assert main(["train", "--resume", "--max-steps", "80", "--no-progress", "--out", "parts"]) == 0
    a, b = _weights("straight/checkpoint.pt"), _weights("parts/checkpoint.pt")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    meta = json.loads(Path("parts/config.json").read_text())["meta"]
    assert (meta["n_toy"], meta["data_seed"], meta["n_data"]) == (512, 7, 512)


@pytest.mark.parametrize("option", [["--lr-d", "0.5"], ["--loss", "hinge"], ["--k", "3"], ["--seed", "1"],
                                    ["--n-toy", "64"], ["--preset", "mnist"], ["--model", "dcgan"],
                                    ["--loss-option", "gp_weight=5"], ["--dry-run"]])
def test_resume_refuses_an_option_that_changes_the_run(tmp_path, capsys, option):
    out = str(tmp_path / "run")
    assert main(["train", *TOY, "--n-toy", "256", "--max-steps", "4", "--out", out]) == 0
    before = (tmp_path / "run" / "checkpoint.pt").read_bytes()
    capsys.readouterr()
    assert main(["train", "--resume", "--max-steps", "8", "--out", out, *option]) == 2
    line = _one_line(capsys)
    assert option[0] in line and "--resume continues" in line
    assert (tmp_path / "run" / "checkpoint.pt").read_bytes() == before
    assert main(["train", "--resume", "--max-steps", "6", "--no-progress", "--out", out, "--seed", "0"]) == 0  # same value


def test_a_run_is_not_overwritten_unless_asked(tmp_path, capsys):
    out = str(tmp_path / "run")
    assert main(["train", *TOY, "--n-toy", "256", "--max-steps", "8", "--out", out]) == 0
    before = (tmp_path / "run" / "checkpoint.pt").read_bytes()
    capsys.readouterr()
    assert main(["train", *TOY, "--n-toy", "256", "--max-steps", "2", "--out", out]) == 2
    assert "holds a run" in _one_line(capsys) and (tmp_path / "run" / "checkpoint.pt").read_bytes() == before
    ckpt = str(tmp_path / "run" / "checkpoint.pt")
    assert main(["sample", "--checkpoint", ckpt, "--out", ckpt]) == 2
    assert "the checkpoint itself" in _one_line(capsys) and (tmp_path / "run" / "checkpoint.pt").read_bytes() == before
    assert main(["train", *TOY, "--n-toy", "256", "--max-steps", "2", "--out", out, "--overwrite"]) == 0
    assert torch.load(ckpt, weights_only=True)["step"] == 2


def test_zero_is_a_value_not_the_default(tmp_path):
    out = tmp_path / "run"
    assert main(["train", *TOY, "--n-toy", "256", "--max-steps", "2", "--lr-d", "0", "--lr-g", "0", "--out", str(out)]) == 0
    config = json.loads((out / "config.json").read_text())["config"]
    assert (config["lr_d"], config["lr_g"]) == (0.0, 0.0)


def test_dry_run_and_max_steps_are_one_clear_error(tmp_path, capsys):
    assert main(["train", "--dry-run", "--max-steps", "50", "--out", str(tmp_path / "r")]) == 2
    assert "--dry-run" in _one_line(capsys)


def test_a_checkpoint_with_non_finite_weights_is_never_written(tmp_path):
    """Weights blown up at step 3 (losses may still be finite): the checkpoint of step 3 is refused and
    the error names the last good one, of step 2, whose weights are finite."""
    from ganlib.engine.callbacks import NonFiniteLossError
    from ganlib.engine.config import TrainConfig
    from ganlib.nets.players import MLPPlayers
    from ganlib.recipes.experiments import train_pair

    cfg = TrainConfig(batch_size=32, max_steps=6, device="cpu", progress=False, snapshot_every=-1,
                      checkpoint_every=1, out_dir=str(tmp_path))
    data = torch.randn(256, 2, generator=torch.Generator().manual_seed(0))
    tr = train_pair(cfg, MLPPlayers(dim=2, g_hidden=(8,), d_hidden=(8,)), data, run=False)
    tr.add_callback("on_step_end", lambda t: t.G.net[0].weight.data.fill_(float("inf")) if t.step == 3 else None)
    with pytest.raises(NonFiniteLossError, match="non-finite weights at step 3.*checkpoint.pt"):
        tr.run()
    state = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    assert state["step"] == 2 and all(torch.isfinite(v).all() for v in state["generator"].values())


def test_sample_refuses_non_finite_weights(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", *TOY, "--n-toy", "256", "--max-steps", "2", "--out", str(out)]) == 0
    state = torch.load(out / "checkpoint.pt", weights_only=True)
    state["generator"] = {k: torch.full_like(v, float("nan")) if v.is_floating_point() else v
                          for k, v in state["generator"].items()}
    save_checkpoint(state, tmp_path / "nan.pt")  # a well-formed checkpoint (its checksum matches) of NaN weights
    capsys.readouterr()
    assert main(["sample", "--checkpoint", str(tmp_path / "nan.pt"), "--out", str(tmp_path / "s.pt")]) == 2
    assert "non-finite generator weights" in _one_line(capsys) and not (tmp_path / "s.pt").exists()


def test_a_changed_or_future_checkpoint_is_refused_in_one_line(tmp_path, capsys):
    """One flipped byte in a weight tensor loaded silently before; a format_version of 99 was accepted.
    A checkpoint of ganlib 0.2 (no version, no checksum) still loads."""
    out = tmp_path / "run"
    assert main(["train", *TOY, "--n-toy", "256", "--max-steps", "2", "--out", str(out)]) == 0
    good = torch.load(out / "checkpoint.pt", weights_only=True)
    assert good["format_version"] == FORMAT_VERSION and len(good["checksum"]) == 64
    raw = bytearray((out / "checkpoint.pt").read_bytes())
    w = good["generator"]["net.0.weight"].numpy().tobytes()
    at = bytes(raw).find(w)  # the first generator weight's bytes, as stored
    assert at > 0
    raw[at + 1] ^= 0x10
    (tmp_path / "flipped.pt").write_bytes(bytes(raw))
    future = {**good, "format_version": 99}
    torch.save(future, tmp_path / "future.pt")
    old = {k: v for k, v in good.items() if k not in ("format_version", "checksum")}
    torch.save(old, tmp_path / "old.pt")
    capsys.readouterr()
    for name, words in (("flipped.pt", "is corrupt"), ("future.pt", "newer than this ganlib")):
        assert main(["sample", "--checkpoint", str(tmp_path / name), "--out", str(tmp_path / "s.pt")]) == 2
        assert words in _one_line(capsys)
    assert main(["sample", "--checkpoint", str(tmp_path / "old.pt"), "--out", str(tmp_path / "s.pt")]) == 0


def _env(tmp_path):
    import os

    root = Path(__file__).resolve().parents[1]
    return {**os.environ, "PYTHONPATH": str(root), "GANLIB_DATA": str(tmp_path / "data"), "OMP_NUM_THREADS": "1"}


SIGNAL_RUN = ["--n-toy", "512", "--max-steps", "6000", "--checkpoint-every", "1500"]


@pytest.fixture(scope="module")
def straight_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("signals") / "straight"
    assert main(["train", *TOY, *SIGNAL_RUN, "--out", str(out)]) == 0
    return out


@pytest.mark.parametrize("signame", ["SIGINT", "SIGTERM"])
def test_a_signal_finishes_the_step_writes_a_checkpoint_and_resume_is_bit_identical(tmp_path, signame, straight_run):
    """SIGINT printed a traceback and SIGTERM killed the run, each losing up to a checkpoint interval.
    Now the step finishes, a checkpoint is written, one line names it, the exit code is 128 + the
    signal, and --resume reaches the uninterrupted run's weights bit for bit."""
    import signal
    import subprocess
    import sys
    import time

    proc = subprocess.Popen([sys.executable, "-m", "ganlib", "train", *TOY, *SIGNAL_RUN, "--out", str(tmp_path / "cut")],
                            env=_env(tmp_path), cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while not (tmp_path / "cut" / "config.json").exists() and time.time() < deadline:  # training has started
        time.sleep(0.05)
    time.sleep(0.2)
    proc.send_signal(getattr(signal, signame))
    _, err = proc.communicate(timeout=120)
    lines = err.strip().splitlines()
    if proc.returncode == 0:
        pytest.skip("the run finished before the signal arrived (a very fast machine)")
    assert proc.returncode == 128 + getattr(signal, signame) and len(lines) == 1, err
    assert lines[0].startswith(f"error: stopped by {signame} at step ") and "--resume" in lines[0]
    stopped = torch.load(tmp_path / "cut" / "checkpoint.pt", weights_only=True)
    assert 0 < stopped["step"] < 6000 and stopped["step"] % 1500 != 0  # not a regular checkpoint: the signal's
    rows = (tmp_path / "cut" / "history.csv").read_text().strip().splitlines()
    assert len(rows) - 1 == stopped["step"]  # the history matches the checkpoint
    assert not (tmp_path / "cut" / ".lock").exists()
    assert main(["train", "--resume", "--no-progress", "--out", str(tmp_path / "cut")]) == 0
    a, b = _weights(straight_run / "checkpoint.pt"), _weights(tmp_path / "cut" / "checkpoint.pt")
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_one_writer_per_run_folder_and_stale_temporary_files_go(tmp_path, capsys):
    import os

    out = tmp_path / "run"
    out.mkdir()
    (out / ".lock").write_text(str(os.getpid()))  # a live holder: this very process
    assert main(["train", *TOY, "--n-toy", "256", "--max-steps", "2", "--out", str(out)]) == 2
    assert f"pid {os.getpid()}" in _one_line(capsys) and not (out / "checkpoint.pt").exists()
    (out / ".lock").write_text("999999999")  # a holder that is gone
    (out / ".checkpoint.pt.abc123.tmp").write_bytes(b"half a checkpoint")  # left by a killed writer
    assert main(["train", *TOY, "--n-toy", "256", "--max-steps", "2", "--out", str(out)]) == 0
    assert not list(out.glob(".*.tmp")) and not (out / ".lock").exists()
    assert main(["train", "--k", "0", *TOY, "--out", str(tmp_path / "bad")]) == 2
    assert not (tmp_path / "bad").exists()  # a refused command leaves no folder behind


@pytest.mark.parametrize("bad, words", [
    (torch.full((64, 2), float("nan")), "NaN or inf in 64 of its 64 samples"),
    (torch.cat([torch.randn(63, 2), torch.tensor([[float("inf"), 0.0]])]), "the first at index 63"),
    ((torch.rand(64, 2) * 255).to(torch.uint8), "divided by 255"),
    (torch.randn(64, 2, dtype=torch.complex64), "real floating point"),
])
def test_bad_data_is_refused_before_training(bad, words):
    """NaN data used to surface as a non-finite loss at step 4 or 11, uint8 and complex data were cast."""
    from ganlib.engine.config import TrainConfig
    from ganlib.nets.players import MLPPlayers
    from ganlib.recipes.experiments import train_pair

    cfg = TrainConfig(batch_size=16, max_steps=2, device="cpu", progress=False, snapshot_every=-1)
    with pytest.raises(ValueError, match=words):
        train_pair(cfg, MLPPlayers(dim=2, g_hidden=(4,), d_hidden=(4,)), bad, run=False)


@pytest.mark.parametrize("options, words", [
    (["--optimizer", "LBFGS"], "needs a closure"), (["--optimizer", "SparseAdam"], "sparse gradients"),
    (["--optimizer", "Optimizer"], "unknown optimizer"), (["--seed", str(10**23)], "seed must be"),
    (["--n-toy", "0"], "--n-toy must be"), (["--k", str(10**11)], "k (discriminator steps"),
    (["--max-steps", str(10**23)], "max_steps must be"), (["--log-every", str(10**11)], "log_every must be"),
])
def test_out_of_range_options_are_one_line_before_any_work(tmp_path, capsys, options, words):
    """These were tracebacks, ran forever or tried to allocate terabytes."""
    assert main(["train", *TOY, *options, "--out", str(tmp_path / "r")]) == 2
    assert words in _one_line(capsys) and not (tmp_path / "r").exists()


def test_sample_options_out_of_range_and_no_checkpoint_when_told(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", *TOY, "--n-toy", "256", "--max-steps", "3", "--checkpoint-every", "-1", "--out", str(out)]) == 0
    assert not (out / "checkpoint.pt").exists()  # -1: none at all, as the help says
    assert main(["train", *TOY, "--n-toy", "256", "--max-steps", "3", "--out", str(tmp_path / "kept")]) == 0
    capsys.readouterr()
    ckpt = str(tmp_path / "kept" / "checkpoint.pt")
    for options, words in ((["--nrow", "0"], "--nrow must be"), (["--n", str(10**9)], "--n must be")):
        assert main(["sample", "--checkpoint", ckpt, "--out", str(tmp_path / "s.csv"), *options]) == 2
        assert words in _one_line(capsys)


def test_operating_system_errors_and_pickles_are_one_line(tmp_path, capsys):
    """--out an existing file, an unwritable folder and an empty --out were tracebacks (or wrote into the
    current folder); a checkpoint pickling os/posix functions lacked the pickled-objects message."""
    import os

    (tmp_path / "file").write_text("not a folder")
    for out, words in ((tmp_path / "file", "File exists"), ("", "--out must name")):
        assert main(["train", *TOY, "--n-toy", "64", "--max-steps", "1", "--out", str(out)]) == 2
        assert words in _one_line(capsys)
    if os.geteuid() != 0:  # root writes anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        assert main(["train", *TOY, "--n-toy", "64", "--max-steps", "1", "--out", str(locked / "run")]) == 2
        assert "Permission denied" in _one_line(capsys)
    torch.save({"f": os.getcwd}, tmp_path / "posix.pt")
    assert main(["sample", "--checkpoint", str(tmp_path / "posix.pt"), "--out", str(tmp_path / "s.pt")]) == 2
    assert "holds pickled Python objects" in _one_line(capsys)
