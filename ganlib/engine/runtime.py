"""Where a run runs and how it is repeated: the budget mode, the device, the seeds, and the banner that
says all three (CPU worker processes are :mod:`ganlib.engine.workers`).

* :func:`quick_mode`: ``GANLIB_QUICK=1`` shrinks budgets (CI, quick previews of the notebooks).
* :func:`resolve_device`: CUDA, then Apple MPS, then CPU, unless told otherwise.
* :func:`seed_everything`: seed Python's ``random``, NumPy and PyTorch.
* :func:`describe_run`: the one-line "mode=... device=... torch=... data=..." banner notebooks print
  first.
"""

from __future__ import annotations

import os
import random
from typing import Optional, Union

import numpy as np
import torch

__all__ = ["quick_mode", "resolve_device", "seed_everything", "describe_run"]

_TRUE = {"1", "true", "yes", "on"}


def quick_mode() -> bool:
    """True when the environment variable ``GANLIB_QUICK`` is ``1``/``true``/``yes``/``on``."""
    return os.environ.get("GANLIB_QUICK", "").strip().lower() in _TRUE


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def resolve_device(device: Union[str, torch.device, None] = "auto") -> torch.device:
    """Return the device to train on.

    ``"auto"`` (or ``None``) picks CUDA if available, then Apple MPS, then CPU. Anything else is
    parsed by :class:`torch.device` and checked for availability.

    Raises:
        ValueError: unknown device string, or a device that is not available here.
    """
    if device is None or (isinstance(device, str) and device.strip().lower() == "auto"):
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as e:
        raise ValueError(f"unknown device {device!r}; use 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'") from e
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} requested but CUDA is not available; use 'auto' or 'cpu'")
    if dev.type == "cuda" and dev.index is not None and dev.index >= torch.cuda.device_count():
        raise ValueError(f"device {device!r} requested but only {torch.cuda.device_count()} CUDA device(s) exist")
    if dev.type == "mps" and not _mps_available():
        raise ValueError(f"device {device!r} requested but Apple MPS is not available; use 'auto' or 'cpu'")
    if dev.type not in ("cpu", "cuda", "mps"):
        raise ValueError(f"unsupported device {device!r}; use 'auto', 'cpu', 'cuda' or 'mps'")
    return dev


def seed_everything(seed: int) -> None:
    """Seed Python's :mod:`random`, NumPy's global generator and PyTorch (all devices)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)  # also seeds every CUDA device


def describe_run(data_source: Optional[str] = None, device: Union[str, torch.device, None] = "auto") -> str:
    """Return (and print) ``"mode=quick|default device=... torch=... data=..."``.

    Notebooks print this as their first output so a reader sees how the figures were made.
    """
    mode = "quick" if quick_mode() else "default"
    dev = resolve_device(device)
    line = f"mode={mode} device={dev.type} torch={torch.__version__} data={data_source or 'n/a'}"
    print(line)
    return line
