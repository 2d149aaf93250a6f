"""Sphinx extension: autodoc rules for the API reference (book/api/), so that it documents each of
ganlib's public objects once, where it is defined, and nothing that --nitpick could not resolve.

- A module documents only the members of its ``__all__`` that it defines: a name it re-exports
  from another module (``ganlib.engine.loop.TrainConfig``, defined in ``ganlib.engine.config``) is documented
  on that module's page. (autodoc would otherwise document every name of ``__all__``, imported or
  not, once per module that lists it.)
- Private base classes (``_NoiseMixin``) are left out of a class's "Bases:" line: they have no
  page to link to.
- A class attribute that merely holds a function defined elsewhere (a dataclass field's default,
  e.g. ``GANLoss.link = torch.sigmoid``) is not documented as a method of the class, with the
  other function's docstring: the class's ``Attributes:`` section documents the field.
- A reference to a re-exported name (``ganlib.metrics.missing_classes``, defined and documented
  as ``ganlib.metrics.classifier.missing_classes``) resolves to the object where it is defined,
  provided that object is documented. A reference to anything else that is not documented stays
  an error under --nitpick: nothing is ignored here, references are only followed.
"""
from __future__ import annotations

import importlib
import inspect

from sphinx.ext.autodoc import ModuleDocumenter


class OwnMembersModuleDocumenter(ModuleDocumenter):
    """``automodule`` that skips imported members even when the module has an ``__all__``."""

    def get_object_members(self, want_all):
        _, members = super().get_object_members(want_all)
        return True, members  # check_module: each member must belong to this module


def drop_private_bases(app, name, obj, options, bases: list) -> None:
    bases[:] = [b for b in bases if not getattr(b, "__name__", "").startswith("_")]


def skip_aliased_functions(app, what, name, obj, skip, options):
    if what == "class" and (inspect.isroutine(obj) or inspect.isclass(obj)):
        if getattr(obj, "__name__", name) != name:
            return True
    return None


def _lookup(path: str):
    """The object named by a dotted path (module, then attributes), or None."""
    parts = path.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except Exception:
            continue
        try:
            for attr in parts[i:]:
                obj = getattr(obj, attr)
        except AttributeError:
            return None
        return obj
    return None


def resolve_reexports(app, env, node, contnode):
    if node.get("refdomain") != "py":
        return None
    target = node.get("reftarget", "")
    if target.startswith("ganlib."):
        candidates = [target]
    else:
        module, cls = node.get("py:module"), node.get("py:class")
        if not (module or "").startswith("ganlib"):
            return None
        candidates = ([f"{module}.{cls}.{target}"] if cls else []) + [f"{module}.{target}"]
    domain = env.get_domain("py")
    for path in candidates:
        obj = _lookup(path)
        if inspect.ismodule(obj):
            canonical = obj.__name__
        elif inspect.isroutine(obj) or inspect.isclass(obj):
            canonical = f"{getattr(obj, '__module__', '')}.{getattr(obj, '__qualname__', '')}"
        else:
            continue
        if canonical != path and canonical.startswith("ganlib.") and canonical in domain.objects:
            return domain.resolve_xref(env, node["refdoc"], app.builder, node["reftype"], canonical, node, contnode)
    return None


def setup(app):
    app.setup_extension("sphinx.ext.autodoc")
    app.add_autodocumenter(OwnMembersModuleDocumenter, override=True)
    app.connect("autodoc-process-bases", drop_private_bases)
    app.connect("autodoc-skip-member", skip_aliased_functions)
    app.connect("missing-reference", resolve_reexports)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
