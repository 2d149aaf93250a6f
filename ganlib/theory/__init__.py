r"""The theory of Section 4 in numbers: the closed forms (:mod:`ganlib.theory.closed_forms`, re-exported
here, so ``from ganlib import theory`` then ``theory.optimal_discriminator(...)``) and the numerical
checks of Proposition 1, Theorem 1 and Proposition 2 (:mod:`ganlib.theory.propositions`).
"""
from ganlib.theory import closed_forms as _closed_forms
from ganlib.theory.closed_forms import *  # noqa: F401,F403

__all__ = list(_closed_forms.__all__)
