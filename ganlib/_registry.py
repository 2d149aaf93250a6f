"""One shape for every registry of ganlib: the losses, the network pairs, the toy data, the presets and
the augmentations are each a :class:`Registry`, a ``dict`` from a name to an entry with a line of
description, whose lookup of an unknown name is one :class:`ValueError` that lists the valid ones.

Example:
    >>> from ganlib._registry import Registry
    >>> colours = Registry("colour")
    >>> colours.register("red", (1, 0, 0), "the colour of the error messages")
    (1, 0, 0)
    >>> colours.lookup("red"), colours.descriptions()
    ((1, 0, 0), {'red': 'the colour of the error messages'})
    >>> colours.lookup("blue")
    Traceback (most recent call last):
    ...
    ValueError: unknown colour 'blue'; valid: red
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Optional

__all__ = ["Registry"]


class Registry(dict):
    """Named entries of one ``kind`` (``"GAN loss"``, ``"model"``, ...), each with a description.

    A ``dict`` (``name in R``, ``R[name]``, ``sorted(R)`` work as usual) with :meth:`register`, which
    refuses a name twice, :meth:`lookup`, which names the valid entries when a name is unknown, and
    :meth:`descriptions` (for ``--help`` and tables). An entry's description is the one given to
    :meth:`register`, else ``describe(entry)`` (by default the entry's ``description`` attribute).
    """

    def __init__(self, kind: str, describe: Optional[Callable[[Any], str]] = None) -> None:
        super().__init__()
        self.kind = kind
        self._describe = describe or (lambda entry: str(getattr(entry, "description", "")))
        self._descriptions: Dict[str, str] = {}

    def register(self, name: str, entry: Any, description: Optional[str] = None) -> Any:
        """Add ``entry`` under ``name``; returns ``entry``. A name already taken is a ValueError."""
        if not isinstance(name, str) or not name:
            raise TypeError(f"a {self.kind} name must be a non-empty str, got {name!r}")
        if name in self:
            raise ValueError(f"a {self.kind} named {name!r} is already registered; known: {', '.join(sorted(self))}")
        self[name] = entry
        if description is not None:
            self._descriptions[name] = description
        return entry

    def lookup(self, name: str) -> Any:
        """The entry called ``name``; a ValueError lists the valid names, a TypeError rejects a non-str."""
        if not isinstance(name, str):
            raise TypeError(f"a {self.kind} name must be a str, got {type(name).__name__}")
        try:
            return self[name]
        except KeyError:
            raise ValueError(f"unknown {self.kind} {name!r}; valid: {', '.join(sorted(self))}") from None

    def descriptions(self) -> Dict[str, str]:
        """``{name: one line}`` for every entry, in registration order."""
        return {name: self._descriptions.get(name) or self._describe(entry) for name, entry in self.items()}
