r"""Pictures: the figures of the chapters (:mod:`ganlib.viz.figures`), the paper's Figure 1 from real runs
(:mod:`ganlib.viz.figure1`), both re-exported here (``from ganlib import viz`` then
``viz.image_grid(...)``), and the interactive explorer of the optimal discriminator (:mod:`ganlib.viz.explorer`).
"""
from ganlib.viz import figure1 as _figure1
from ganlib.viz import figures as _figures
from ganlib.viz.figure1 import *  # noqa: F401,F403
from ganlib.viz.figures import *  # noqa: F401,F403

__all__ = list(_figures.__all__) + list(_figure1.__all__)
