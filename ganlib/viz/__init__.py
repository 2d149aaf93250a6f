r"""Pictures: the figures of the chapters (:mod:`ganlib.viz.figures`, re-exported here, so
``from ganlib import viz`` then ``viz.image_grid(...)``) and the interactive explorer of the optimal
discriminator (:mod:`ganlib.viz.explorer`).
"""
from ganlib.viz import figures as _figures
from ganlib.viz.figures import *  # noqa: F401,F403

__all__ = list(_figures.__all__)
