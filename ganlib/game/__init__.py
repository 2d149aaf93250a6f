r"""The game: the value function :math:`V(G, D)` of Eq. 1, the players' losses and the critics that
came after it, each loss pair named in one registry.

- :mod:`ganlib.game.losses`: Eq. 1 estimated on a minibatch, the discriminator's loss and the
  generator's two losses (Eq. 1's saturating one and Section 3's non-saturating one);
- :mod:`ganlib.game.critics`: WGAN, WGAN-GP and the hinge loss;
- :mod:`ganlib.game.registry`: :class:`~ganlib.game.registry.GANLoss`, a named pair of losses with
  the hooks the training loop calls (a penalty, weight clipping), and the registry of them.

It depends on ``ganlib._checks`` only: the networks (:mod:`ganlib.nets`) and the loop
(:mod:`ganlib.engine`) are built on it, never the other way round.
"""
