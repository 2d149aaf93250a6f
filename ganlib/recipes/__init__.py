r"""Recipes: the runs the chapters share and the tuned presets.

- :mod:`ganlib.recipes.experiments`: :func:`~ganlib.recipes.experiments.train_pair` (seed, build
  the players, train them), a discriminator fitted to two fixed distributions (Proposition 1), the
  race of the two generator losses (Section 3);
- :mod:`ganlib.recipes.presets`: the tuned recipes by name (``--preset mnist``).
"""
