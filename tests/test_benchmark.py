"""The benchmark's FLOP counts (from layer shapes) equal what torch's FlopCounterMode measures
on the real loops: the textbook step and one Trainer step in both G-update modes."""

import importlib.util
import time
from pathlib import Path

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from ganlib.nets.models import PaperDiscriminator, PaperGenerator
from ganlib.engine.config import TrainConfig
from ganlib.engine.loop import Trainer

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("bench_train", ROOT / "benchmarks" / "bench_train.py")
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)

M = 10  # batch size; FLOPs per image do not depend on it


def models():
    torch.manual_seed(0)
    return PaperGenerator(), PaperDiscriminator()


def measured(fn):
    with FlopCounterMode(display=False) as counter:
        fn()
    return counter.get_total_flops()


def test_textbook_flops_match_flop_counter():
    G, D = models()
    bce = torch.nn.BCEWithLogitsLoss()
    real = torch.rand(M, 784)

    def textbook_step():  # the loop of bench_train.Textbook.run, one step
        out = D(real)
        bce(out, torch.ones(M)).backward()
        fake = G(G.sample_noise(M))
        bce(D(fake.detach()), torch.zeros(M)).backward()
        bce(D(fake), torch.ones(M)).backward()

    assert measured(textbook_step) == M * bench.textbook_flops_per_image(G, D)


@pytest.mark.parametrize("reuse", [False, True])
def test_ganlib_flops_match_flop_counter(reuse):
    G, D = models()
    cfg = TrainConfig(batch_size=M, max_steps=1, progress=False, snapshot_every=-1, checkpoint_every=-1,
                      reuse_fakes=reuse)
    trainer = Trainer(cfg, G, D, torch.rand(50, 784))
    assert measured(trainer.train_step) == M * bench.ganlib_flops_per_image(G, D, reuse)


def test_reusing_fakes_saves_one_generator_forward():
    G, D = models()
    g_forward = bench.linear_flops(G, input_grad=False)[0]
    assert bench.ganlib_flops_per_image(G, D, False) - bench.ganlib_flops_per_image(G, D, True) == g_forward


def test_matmul_replay_replays_every_matrix_product_of_a_step():
    G, D = models()
    cfg = TrainConfig(batch_size=M, max_steps=1, progress=False, snapshot_every=-1, checkpoint_every=-1,
                      reuse_fakes=True)
    run, flops = bench.matmul_replay(Trainer(cfg, G, D, torch.rand(50, 784)))
    assert flops == M * bench.ganlib_flops_per_image(G, D, True)
    assert measured(run) == flops


def test_matmul_time_in_loop_times_real_steps():
    G, D = models()
    cfg = TrainConfig(batch_size=M, max_steps=10, progress=False, snapshot_every=-1, checkpoint_every=-1)
    trainer = Trainer(cfg, G, D, torch.rand(50, 784))
    t0 = time.perf_counter()
    seconds = bench.matmul_time_in_loop(trainer, steps=3)
    wall = time.perf_counter() - t0
    assert trainer.step == 3 and len(trainer.history["step"]) == 3
    assert 0 < 3 * seconds < wall


def _load(name):
    spec_ = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec_)
    spec_.loader.exec_module(module)
    return module


def test_sampling_benchmark_prints_both_samplers_side_by_side(capsys):
    _load("bench_sampling").main(["--batch", "20", "--rounds", "1"])
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[2].startswith("GAN generator, one forward pass") and "RBM 784-500, 1000 Gibbs" in lines[-2]
    fields = dict(item.split("=") for item in lines[-1].split())
    assert set(fields) == {"generator_ms", "sweep_ms", "sweeps_per_generator_pass"}
    assert float(fields["generator_ms"]) > 0 and float(fields["sweep_ms"]) > 0


def test_sampling_benchmark_refuses_a_zero_batch_in_one_line(capsys):
    with pytest.raises(SystemExit) as exit_:
        _load("bench_sampling").main(["--batch", "0"])
    assert exit_.value.code == 2 and "--batch" in capsys.readouterr().err.strip().splitlines()[-1]


def test_mnist_ablation_rows_keep_the_base_recipe_and_the_balance_row_is_the_preset():
    from torch.nn.utils import parametrize

    from ganlib.nets.layers import MinibatchStd
    from ganlib.recipes.presets import get_preset, players_from_meta

    ablation = _load("ablate_mnist")
    preset = get_preset("mnist")

    def d_changes(meta):
        _, D = players_from_meta(meta, (784,))
        return (any(parametrize.is_parametrized(m) for m in D.modules()), any(isinstance(m, MinibatchStd) for m in D.modules()))

    for label in [*ablation.LEVERS, "the base recipe", "recipe, WGAN-GP"]:
        cfg, meta = ablation.row_setup(label, 0, 2000)
        if meta["model"] == "dcgan":
            continue
        assert not cfg.reuse_fakes, label  # the stored tables were trained with a fresh G(z) for G's update
        assert d_changes(meta) == (label == "recipe, spectral norm in D", False), label
    cfg, meta = ablation.row_setup("recipe, SN + minibatch std 2, G(z) reused", 0, preset.config["max_steps"])
    assert meta == preset.meta() and cfg == preset.train_config(seed=0, device="cpu", quick=False, progress=False,
                                                                 snapshot_every=-1, checkpoint_every=-1)
    assert d_changes(meta) == (True, True) and cfg.reuse_fakes


def test_mnist_ablation_prints_one_row_per_lever_and_writes_every_run(capsys, tmp_path):
    out, grids = tmp_path / "runs.json", tmp_path / "samples.pt"
    _load("ablate_mnist").main(["--steps", "5", "--seeds", "0", "--rows", "Adam, lr_G = 4 lr_D (TTUR)",
                                "recipe + PacGAN packs of 2", "recipe, WGAN-GP", "--json", str(out), "--samples", str(grids)])
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("5 D updates per run (G updates: that over k), seeds [0]")
    assert lines[2].startswith("Adam, lr_G = 4 lr_D (TTUR)") and lines[3].startswith("recipe + PacGAN packs of 2")
    assert lines[4].startswith("recipe, WGAN-GP")
    assert lines[-1].startswith("recipe_confident=")
    import json

    runs = json.loads(out.read_text())
    assert [r["row"] for r in runs] == ["Adam, lr_G = 4 lr_D (TTUR)", "recipe + PacGAN packs of 2", "recipe, WGAN-GP"]
    assert all(0 <= r["confident"] <= 1 and r["wall_s"] > 0 and r["fid"] > 0 for r in runs)
    assert [r["g_steps"] for r in runs] == [5, 5, 1]  # the same D updates: WGAN-GP's k = 5 leaves it one G update
    samples = torch.load(grids)
    assert set(samples) == {(r["row"], 0) for r in runs}
    assert all(s.dtype == torch.uint8 and s.shape == (64, 1, 28, 28) for s in samples.values())


def test_kernel_benchmark_prints_each_kernel_beside_its_alternatives(capsys):
    _load("bench_kernels").main(["--quick", "--threads", "1"])
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[1].startswith("Adam step") and lines[2].split()[0] == "fused" and "Tensor.var" in lines[7]
    assert lines[-2].split()[0] == "Adam" and "Tensor.var" in lines[-2]
    fields = dict(item.split("=") for item in lines[-1].split())
    assert set(fields) == {"adam_fused_speedup", "mbstd_speedup", "step_speedup"}
    assert all(float(v) > 0 for v in fields.values())


def test_the_kernel_benchmarks_var_form_is_the_same_feature():
    h = torch.randn(8, 5, dtype=torch.float64)
    from ganlib.nets.layers import minibatch_std
    assert torch.allclose(_load("bench_kernels").var_minibatch_std(h, 2), minibatch_std(h, 2))


def test_checkpoint_benchmark_prints_the_write_beside_the_step(capsys, tmp_path):
    _load("bench_checkpoint").main(["--quick", "--threads", "1", "--dir", str(tmp_path)])
    lines = capsys.readouterr().out.strip().splitlines()
    assert "checkpoint" in lines[0] and lines[0].rstrip().endswith("MB")
    assert lines[1].strip().startswith("training step, no checkpoints") and "the preset" in lines[5]
    fields = {k: float(v) for k, v in (item.split("=") for item in lines[-1].split())}
    assert set(fields) == {"checkpoint_ms", "step_ms", "every_epoch_overhead", "preset_overhead"}
    assert fields["step_ms"] > 0 and fields["checkpoint_ms"] >= 0
    # the overheads are the write spread over 40 and 1,000 steps, as fractions of the step
    assert abs(fields["every_epoch_overhead"] - fields["checkpoint_ms"] / 40 / fields["step_ms"]) < 2e-3
    assert abs(fields["preset_overhead"] - fields["checkpoint_ms"] / 1000 / fields["step_ms"]) < 2e-4
    assert not list(tmp_path.iterdir())  # its checkpoints are removed


def test_precision_benchmark_reprints_its_stored_table_and_figure(tmp_path, capsys, monkeypatch):
    """bench_precision.py --replot: the Performance page's table and figure come from the stored run."""
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))  # it imports ablate_mnist beside it
    spec = importlib.util.spec_from_file_location("bench_precision", ROOT / "benchmarks" / "bench_precision.py")
    precision = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(precision)
    results = ROOT / "benchmarks" / "results"
    figure = tmp_path / "precision.png"
    precision.main(["--replot", str(results / "precision_2k.json"), str(results / "precision_2k_samples.pt"),
                    "--figure", str(figure)])
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith("| ") and not line.startswith("| precision")]
    assert [r.split("|")[1].strip() for r in rows] == ["float32", "bf16", "fp16"]
    assert "(1.00x)" in rows[0] and rows[2].rstrip(" |").endswith("65536")  # fp16's scale never shrank
    assert figure.stat().st_size > 10_000
    page = (ROOT / "book" / "performance.md").read_text()
    table = (results / "precision_2k.md").read_text().strip()
    assert table in page and all(r in table for r in rows), "the Performance page's table is not the benchmark's output"
