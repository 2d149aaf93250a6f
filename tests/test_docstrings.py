"""Every public function and class of ganlib has a docstring, and no docstring carries control
characters (the sign of a LaTeX backslash eaten by a non-raw string: "\\frac" -> form feed)."""
from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import ganlib

MODULES = sorted(m.name for m in pkgutil.walk_packages(ganlib.__path__, "ganlib.") if m.name != "ganlib.__main__")


def public_objects(module):
    names = getattr(module, "__all__", None) or [n for n in vars(module) if not n.startswith("_")]
    for name in names:
        obj = getattr(module, name)
        if (inspect.isfunction(obj) or inspect.isclass(obj)) and getattr(obj, "__module__", "") == module.__name__:
            yield name, obj


@pytest.mark.parametrize("modname", MODULES)
def test_public_api_is_documented(modname):
    module = importlib.import_module(modname)
    assert inspect.getdoc(module), f"{modname} has no module docstring"
    missing = [name for name, obj in public_objects(module) if not inspect.getdoc(obj)]
    assert not missing, f"{modname}: public objects without a docstring: {missing}"


@pytest.mark.parametrize("modname", MODULES)
def test_docstrings_have_no_control_characters(modname):
    module = importlib.import_module(modname)
    docs = [("module", module.__doc__ or "")]
    for name, obj in public_objects(module):
        docs.append((name, obj.__doc__ or ""))
        if inspect.isclass(obj):
            docs += [(f"{name}.{m}", f.__doc__ or "") for m, f in vars(obj).items() if callable(f) and f.__doc__]
    bad = [name for name, d in docs if any(c in d for c in "\x07\x08\x0b\x0c\t")]
    assert not bad, f"{modname}: docstrings with control characters (use r-strings for LaTeX): {bad}"
