r"""A small MNIST classifier trained by our own code, cached by content hash, and what it measures.

The classifier is the feature network of the offline FID (:mod:`ganlib.metrics.fid`, its
penultimate layer) and the judge of the digit-class histogram of generator samples, a
mode-coverage check in the spirit of Salimans et al. (2016) and Srivastava et al. (2017):

.. math::

    h_c = \#\{\, i : \operatorname*{arg\,max}_k f_k\big(G(z^{(i)})\big) = c \,\}, \qquad c = 0..9,

where :math:`f` is the classifier's logit vector. A generator that has collapsed onto a few
digits leaves some :math:`h_c` near zero (:func:`missing_classes`).

:func:`load_or_train_classifier` trains once per (training data, architecture and
hyper-parameters, torch version) and keeps the weights under :func:`default_cache_dir`, in a file
named by the SHA-256 of those three ingredients (:func:`classifier_cache_key`), so a fresh machine
trains it and later runs load it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import List, Union

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganlib.engine.checkpoint import load_checkpoint, save_checkpoint
from ganlib.engine.runtime import resolve_device

__all__ = [
    "ClassifierConfig",
    "MNISTClassifier",
    "ClassifierFeatures",
    "train_classifier",
    "classifier_cache_key",
    "default_cache_dir",
    "load_or_train_classifier",
    "predict_classes",
    "classifier_accuracy",
    "class_histogram",
    "missing_classes",
]

#: Bump when the architecture or the training code changes in a way the config does not capture.
CLASSIFIER_VERSION = 1


@dataclass(frozen=True)
class ClassifierConfig:
    """Architecture and training hyper-parameters of :class:`MNISTClassifier` (all in the cache key)."""

    width: int = 32  #: channels of the first convolution (the second has 2 * width)
    num_features: int = 128  #: size of the penultimate layer (the FID features)
    dropout: float = 0.25  #: dropout before the last layer (training only)
    steps: int = 2000  #: Adam updates
    batch_size: int = 64
    lr: float = 1e-3
    shift: int = 2  #: random translations of up to this many pixels (augmentation); 0 = none
    seed: int = 0


class MNISTClassifier(nn.Module):
    r"""A small convolutional digit classifier for 28x28 images in [0, 1].

    .. math::

        x \to \text{ReLU}(\text{conv}_{4\times4,\,/2}^{w})
          \to \text{ReLU}(\text{conv}_{4\times4,\,/2}^{2w})
          \to \underbrace{\text{ReLU}(\text{Linear}_{F})}_{\phi(x)\ \text{(features)}}
          \to \text{drop} \to \text{Linear}_{10} = f(x)

    Attributes:
        num_features: :math:`F`, the dimension of :meth:`features` (what torchmetrics reads).
    """

    def __init__(self, config: ClassifierConfig = ClassifierConfig()) -> None:
        super().__init__()
        w = config.width
        self.num_features = int(config.num_features)
        self.body = nn.Sequential(
            nn.Conv2d(1, w, 4, stride=2, padding=1), nn.ReLU(),  # 14x14
            nn.Conv2d(w, 2 * w, 4, stride=2, padding=1), nn.ReLU(),  # 7x7
            nn.Flatten(), nn.Linear(2 * w * 7 * 7, self.num_features), nn.ReLU(),
        )
        self.head = nn.Sequential(nn.Dropout(config.dropout), nn.Linear(self.num_features, 10))

    @staticmethod
    def _images(x: Tensor) -> Tensor:
        if not isinstance(x, Tensor) or not x.is_floating_point():
            raise TypeError("the classifier takes a floating-point tensor of images in [0, 1]")
        if x.dim() == 2 and x.shape[1] == 784:
            return x.view(-1, 1, 28, 28)
        if x.dim() == 4 and tuple(x.shape[1:]) == (1, 28, 28):
            return x
        raise ValueError(f"expected images (N, 784) or (N, 1, 28, 28), got {tuple(x.shape)}")

    def features(self, x: Tensor) -> Tensor:
        r"""Penultimate activations :math:`\phi(x)`, shape ``(N, num_features)``."""
        return self.body(self._images(x))

    def forward(self, x: Tensor) -> Tensor:
        """Class logits ``(N, 10)``."""
        return self.head(self.features(x))


class ClassifierFeatures(nn.Module):
    r"""Feature extractor for :class:`torchmetrics.image.fid.FrechetInceptionDistance`:
    :math:`x \mapsto \phi(x)` of a trained :class:`MNISTClassifier`, always in eval mode and
    without gradients. It has the ``num_features`` attribute torchmetrics reads (so it never
    probes the module with a 299x299 dummy image)."""

    def __init__(self, classifier: MNISTClassifier) -> None:
        super().__init__()
        if not isinstance(classifier, MNISTClassifier):
            raise TypeError(f"expected an MNISTClassifier, got {type(classifier).__name__}")
        self.classifier = classifier
        self.num_features = classifier.num_features
        self.train(False)

    def train(self, mode: bool = True) -> "ClassifierFeatures":
        """Stay in eval mode whatever the caller asks (dropout off)."""
        return super().train(False)

    @torch.no_grad()
    def forward(self, x: Tensor) -> Tensor:
        """Features ``(N, num_features)`` of images ``(N, 784)`` or ``(N, 1, 28, 28)`` in [0, 1]."""
        p = next(self.classifier.parameters())
        return self.classifier.features(x.to(p.device, p.dtype))


def _check_data(images: object, labels: object) -> tuple:
    if not isinstance(images, Tensor) or not images.is_floating_point():
        raise TypeError("images must be a floating-point tensor (N, 784) or (N, 1, 28, 28) in [0, 1]")
    if not isinstance(labels, Tensor) or labels.dtype not in (torch.int64, torch.int32, torch.uint8):
        raise TypeError("labels must be an integer tensor (N,)")
    if images.shape[0] != labels.shape[0] or labels.dim() != 1:
        raise ValueError(f"{images.shape[0]} images but labels of shape {tuple(labels.shape)}")
    if images.shape[0] == 0:
        raise ValueError("no training images")
    if int(labels.min()) < 0 or int(labels.max()) > 9:
        raise ValueError("labels must be digits 0..9")
    return MNISTClassifier._images(images.float()), labels.long()


def _random_shift(x: Tensor, shift: int, gen: torch.Generator) -> Tensor:
    """Translate each image ``(N, 1, H, W)`` by an integer offset in [-shift, shift]^2 (zero fill):
    pad by ``shift`` and gather one ``H x W`` crop per image."""
    if shift <= 0:
        return x
    n, _, h, w = x.shape
    padded = F.pad(x, (shift, shift, shift, shift))
    off = torch.randint(0, 2 * shift + 1, (n, 2), generator=gen, device=x.device)
    rows = (off[:, 0, None] + torch.arange(h, device=x.device))[:, :, None]  # (n, h, 1)
    cols = (off[:, 1, None] + torch.arange(w, device=x.device))[:, None, :]  # (n, 1, w)
    return padded[torch.arange(n, device=x.device)[:, None, None], 0, rows, cols].unsqueeze(1)


def train_classifier(images: Tensor, labels: Tensor, config: ClassifierConfig = ClassifierConfig(),
                     device: Union[str, torch.device, None] = "auto") -> MNISTClassifier:
    r"""Train an :class:`MNISTClassifier` by minimising the cross-entropy with Adam,

    .. math:: \min_\theta \; -\frac1m \sum_{i=1}^m \log \operatorname{softmax}\big(f_\theta(\tilde x_i)\big)_{y_i},

    on ``config.steps`` minibatches drawn from a seeded :class:`torch.Generator`, where
    :math:`\tilde x_i` is :math:`x_i` shifted by up to ``config.shift`` pixels.

    The global random state is left as it was (:func:`torch.random.fork_rng`): training seeds
    itself from ``config.seed``, so whether a caller trains or loads a cached classifier does not
    change what it draws afterwards.

    Returns:
        the trained classifier, in eval mode, on ``device``.
    """
    x, y = _check_data(images, labels)
    dev = resolve_device(device)
    x, y = x.to(dev), y.to(dev)
    with torch.random.fork_rng(devices=[dev] if dev.type == "cuda" else [], device_type=dev.type):
        torch.manual_seed(config.seed)
        model = MNISTClassifier(config).to(dev)
        gen = torch.Generator(device=dev).manual_seed(config.seed)
        opt = torch.optim.Adam(model.parameters(), lr=config.lr)
        model.train()
        for _ in range(config.steps):
            idx = torch.randint(0, len(x), (min(config.batch_size, len(x)),), generator=gen, device=dev)
            loss = F.cross_entropy(model(_random_shift(x[idx], config.shift, gen)), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    return model.eval()


def classifier_cache_key(images: Tensor, labels: Tensor, config: ClassifierConfig = ClassifierConfig()) -> str:
    """SHA-256 (hex) of the training data's bytes, the architecture and hyper-parameters
    (``config``, ``CLASSIFIER_VERSION``, the module's ``repr``) and ``torch.__version__``."""
    x, y = _check_data(images, labels)
    h = hashlib.sha256()
    h.update(np.ascontiguousarray(x.detach().cpu().to(torch.float32).numpy()).tobytes())
    h.update(np.ascontiguousarray(y.detach().cpu().numpy().astype(np.int64)).tobytes())
    h.update(json.dumps(dataclasses.asdict(config), sort_keys=True).encode())
    with torch.random.fork_rng(devices=[]):  # building the module for its repr draws random weights
        arch = repr(MNISTClassifier(config))
    h.update(f"v{CLASSIFIER_VERSION}|{arch}|torch {torch.__version__}".encode())
    return h.hexdigest()


def default_cache_dir() -> Path:
    """``$GANLIB_CACHE/classifiers``, else ``~/.cache/ganlib/classifiers`` (outside the repository)."""
    root = os.environ.get("GANLIB_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "ganlib")
    return Path(root) / "classifiers"


def load_or_train_classifier(images: Tensor, labels: Tensor, config: ClassifierConfig = ClassifierConfig(),
                             cache_dir: Union[str, Path, None] = None, device: Union[str, torch.device, None] = "auto",
                             verbose: bool = True) -> MNISTClassifier:
    """Load the classifier for this data and config from the cache, or train and cache it.

    The file is ``<cache_dir>/mnist_classifier_<first 16 hex digits of classifier_cache_key>.pt``
    (weights only, written atomically, loaded with ``weights_only=True``). The returned model has
    ``cache_path`` and ``cache_hit`` attributes. Either way the global random state is left as it
    was, so a notebook draws the same numbers afterwards on a fresh machine and on a cached one.
    """
    key = classifier_cache_key(images, labels, config)
    path = Path(cache_dir or default_cache_dir()) / f"mnist_classifier_{key[:16]}.pt"
    dev = resolve_device(device)
    model, hit = None, False
    if path.is_file():
        try:
            state = load_checkpoint(path, map_location="cpu")
            if state.get("key") == key:
                with torch.random.fork_rng(devices=[]):  # the random init is overwritten: draw nothing
                    model = MNISTClassifier(config)
                model.load_state_dict(state["state_dict"])
                model = model.to(dev).eval()
                hit = True
        except Exception:  # noqa: BLE001  (corrupt, truncated or foreign file: retrain and overwrite)
            model = None
    if model is None:
        model = train_classifier(images, labels, config, device=dev)
        sd = {k: v.detach().cpu() for k, v in model.state_dict().items()}
        save_checkpoint({"key": key, "config": dataclasses.asdict(config), "torch": str(torch.__version__),
                         "state_dict": sd}, path)
    model.cache_path, model.cache_hit = path, hit
    if verbose:
        print(f"classifier {'loaded from' if hit else 'trained and saved to'} {path}")
    return model


@torch.no_grad()
def predict_classes(classifier: nn.Module, images: Tensor, batch_size: int = 1000) -> Tensor:
    r"""Predicted digits :math:`\operatorname{arg\,max}_k f_k(x)` (eval mode), int64 ``(N,)`` on the CPU."""
    if not isinstance(images, Tensor) or not images.is_floating_point():
        raise TypeError("images must be a floating-point tensor")
    p = next(classifier.parameters())
    was = classifier.training
    classifier.eval()
    try:
        out = [classifier(images[i : i + batch_size].to(p.device, p.dtype)).argmax(1).cpu()
               for i in range(0, len(images), batch_size)]
    finally:
        classifier.train(was)
    return torch.cat(out) if out else torch.empty(0, dtype=torch.int64)


def classifier_accuracy(classifier: nn.Module, images: Tensor, labels: Tensor) -> float:
    r"""Fraction of correctly classified images, :math:`\frac1N \sum_i [\hat y_i = y_i]`."""
    pred = predict_classes(classifier, images)
    if pred.shape != labels.shape:
        raise ValueError(f"{len(pred)} predictions but labels of shape {tuple(labels.shape)}")
    return float((pred == labels.cpu()).double().mean())


def class_histogram(classifier: nn.Module, samples: Tensor, num_classes: int = 10, batch_size: int = 1000) -> Tensor:
    r"""Counts of predicted classes over ``samples``:
    :math:`h_c = \#\{i : \operatorname{arg\,max}_k f_k(x_i) = c\}`, int64 ``(num_classes,)``
    summing to ``len(samples)``."""
    if samples.shape[0] == 0:
        raise ValueError("class_histogram needs at least one sample")
    pred = predict_classes(classifier, samples, batch_size)
    if int(pred.max()) >= num_classes:
        raise ValueError(f"the classifier predicted class {int(pred.max())} >= num_classes={num_classes}")
    return torch.bincount(pred, minlength=num_classes)


def missing_classes(counts: Union[Tensor, np.ndarray, List[int]], min_fraction: float = 0.01) -> List[int]:
    r"""Classes holding less than ``min_fraction`` of all samples,
    :math:`\{c : h_c < \tau \sum_k h_k\}` (default :math:`\tau = 1\%`, a tenth of a uniform
    generator's share of 10 %): the digits a collapsed generator has dropped."""
    h = np.asarray(counts.cpu() if isinstance(counts, Tensor) else counts, dtype=np.float64)
    if h.ndim != 1 or h.size == 0 or np.any(h < 0) or h.sum() <= 0:
        raise ValueError("counts must be a non-empty 1-D array of non-negative counts with a positive total")
    if not 0.0 <= min_fraction < 1.0:
        raise ValueError(f"min_fraction must be in [0, 1), got {min_fraction}")
    return [int(c) for c in np.flatnonzero(h < min_fraction * h.sum())]
