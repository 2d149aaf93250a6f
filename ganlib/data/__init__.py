r"""The data distributions :math:`p_\text{data}`: the toy densities of the 1-D and 2-D chapters
(:mod:`ganlib.data.toy`) and MNIST (:mod:`ganlib.data.mnist`, re-exported here, so
``from ganlib.data import load_mnist``).
"""
from ganlib.data import mnist as _mnist
from ganlib.data.mnist import *  # noqa: F401,F403

__all__ = list(_mnist.__all__)
