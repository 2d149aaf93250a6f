r"""The players: the paper's maxout networks, the DCGAN pair and the toy MLPs, their building blocks,
and the same networks stacked along a member axis (many seeds in one forward).

- :mod:`ganlib.nets.layers`: maxout, dropout, the minibatch standard deviation, packing;
- :mod:`ganlib.nets.models`: the generator and discriminator pairs, by name;
- :mod:`ganlib.nets.augment`: differentiable augmentation of the discriminator's inputs;
- :mod:`ganlib.nets.stacked`: S networks of the same shape as one module with a member axis.

It knows nothing of the losses or of training.
"""
