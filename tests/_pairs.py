"""What a notebook pair is compared on: its content, not the version of the tool that wrote it.

jupytext writes its own version into the `.py` header (``jupytext_version: 1.19.7``). Every new
jupytext release changes that line, so comparing whole files would fail every pair on every machine
that installs the new release; the comparisons drop that one line and keep everything else (a
release that changes the format itself still fails them, as it should).
"""
from __future__ import annotations

import pathlib
import re

import jupytext

_VERSION_LINE = re.compile(r"^#\s+jupytext_version: .*\n", re.MULTILINE)


def content(py_text: str) -> str:
    """A percent-format `.py` text without the line naming the jupytext version."""
    return _VERSION_LINE.sub("", py_text)


def pair_text(ipynb: pathlib.Path) -> str:
    """What `jupytext --to py:percent` writes for this notebook."""
    return jupytext.writes(jupytext.read(ipynb), fmt="py:percent")


def pair_agrees(ipynb: pathlib.Path, py: pathlib.Path) -> bool:
    """Whether `py` is what jupytext writes for `ipynb`, the tool's version line aside."""
    return content(pair_text(ipynb)) == content(py.read_text())
