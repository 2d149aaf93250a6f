"""The losses, the network pairs, the toy data, the presets and the augmentations share one registry
shape (ganlib._registry.Registry): one way to add an entry, to look one up, to list them."""
from __future__ import annotations

import pytest

from ganlib._registry import Registry
from ganlib.data.toy import TOYS, Toy
from ganlib.game.registry import LOSSES, GANLoss
from ganlib.nets.augment import AUGMENTATIONS
from ganlib.nets.models import MODELS
from ganlib.recipes.presets import PRESETS, Preset

REGISTRIES = {"GAN loss": LOSSES, "model": MODELS, "toy": TOYS, "preset": PRESETS, "augmentation": AUGMENTATIONS}


@pytest.mark.parametrize("kind", REGISTRIES)
def test_every_registry_of_ganlib_is_one_registry_with_a_line_per_entry(kind):
    registry = REGISTRIES[kind]
    assert isinstance(registry, Registry) and registry.kind == kind and len(registry) >= 2
    descriptions = registry.descriptions()
    assert list(descriptions) == list(registry) and all(isinstance(d, str) and d for d in descriptions.values())


@pytest.mark.parametrize("kind", REGISTRIES)
def test_an_unknown_name_is_one_error_that_lists_the_valid_ones(kind):
    registry = REGISTRIES[kind]
    with pytest.raises(ValueError, match=f"^unknown {kind} 'nope'; valid: {', '.join(sorted(registry))}$"):
        registry.lookup("nope")
    with pytest.raises(TypeError, match="must be a str"):
        registry.lookup(3)


def test_entries_are_what_their_registry_promises():
    assert all(isinstance(v, GANLoss) for v in LOSSES.values()) and all(isinstance(v, Preset) for v in PRESETS.values())
    assert all(isinstance(make(), Toy) for make in TOYS.values()) and all(callable(v.build) for v in MODELS.values())


def test_a_name_is_registered_once():
    r = Registry("thing")
    r.register("a", 1, "the first")
    with pytest.raises(ValueError, match="a thing named 'a' is already registered; known: a"):
        r.register("a", 2)
    assert r.lookup("a") == 1 and r.descriptions() == {"a": "the first"}
