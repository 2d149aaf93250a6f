"""The shape of ganlib: one home per concept, dependencies pointing one way, modules a reader can hold."""
from __future__ import annotations

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PKG = ROOT / "ganlib"
#: ganlib's packages, the book's parts, from the bottom up: a module may import its own package and the
#: packages of a lower rank, never one of the same or a higher rank. A new module inherits its package's
#: rank. ``_checks`` (the argument checks) and ``_registry`` (the one shape of every registry) are below everything; the command line is above everything.
RANKS = {"_checks": 0, "_registry": 0, "theory": 1, "data": 2, "game": 3, "nets": 3, "engine": 4, "metrics": 5, "recipes": 6,
         "viz": 6, "__main__": 7}
MAX_LINES = 430  # "about 400", runnable examples included


def module_files(pkg: pathlib.Path = PKG) -> dict[str, pathlib.Path]:
    files = {}
    for path in sorted(pkg.rglob("*.py")):
        rel = path.relative_to(pkg).with_suffix("")
        parts = [p for p in rel.parts if p != "__init__"]
        files[".".join(["ganlib", *parts])] = path
    return files


def imported_modules(path: pathlib.Path, name: str) -> set[str]:
    """Absolute names of the ganlib modules that ``path`` (module ``name``) imports."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            out.add(base)
            out.update(f"{base}.{a.name}" for a in node.names)  # `from ganlib import theory`
    return {m for m in out if m == "ganlib" or m.startswith("ganlib.")}


def package_of(module: str) -> str | None:
    """The top-level package of a ganlib module name (``ganlib.engine.loop`` -> ``engine``); None for ``ganlib``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def forbidden_imports(pkg: pathlib.Path = PKG) -> list[str]:
    bad = []
    files = module_files(pkg)
    for name, path in files.items():
        own = package_of(name)
        if own is None:
            continue  # ganlib/__init__.py
        if own not in RANKS:
            bad.append(f"{name} is in no package of RANKS: add its package to the layering")
            continue
        for m in sorted(imported_modules(path, name)):
            other = package_of(m)
            if other is None or other == own or (other not in RANKS and m not in files):
                continue  # `from ganlib import x` names its module, checked as ganlib.x; names inside modules
            if other not in RANKS or RANKS[other] >= RANKS[own]:
                bad.append(f"{name} imports {m}")
    return bad


def test_packages_import_only_the_packages_below_them():
    assert forbidden_imports() == []


def test_every_module_lives_in_a_package_of_the_book():
    loose = [n for n in module_files() if n.count(".") == 1 and package_of(n) not in RANKS]
    assert loose == [], f"modules outside the packages of RANKS: {loose}"


def test_the_dependency_check_fails_on_a_forbidden_import(tmp_path):
    """The check above can fail: each kind of forbidden import, added to a copy of the package, is reported."""
    import shutil

    cases = (("game/losses", "from ganlib.engine.loop import Trainer", "ganlib.game.losses imports ganlib.engine.loop"),
             ("metrics/modes", "from ganlib import viz", "ganlib.metrics.modes imports ganlib.viz"),
             ("viz/figures", "import ganlib.__main__", "ganlib.viz.figures imports ganlib.__main__"),
             ("theory/closed_forms", "from ganlib.recipes.experiments import train_pair",
              "ganlib.theory.closed_forms imports ganlib.recipes.experiments"),
             ("nets/models", "from ganlib.game import losses", "ganlib.nets.models imports ganlib.game.losses"),
             ("engine/new_module", "from ganlib.metrics import fid_score", "ganlib.engine.new_module imports ganlib.metrics"))
    for i, (module, line, expect) in enumerate(cases):
        fake = tmp_path / str(i) / "ganlib"
        shutil.copytree(PKG, fake)
        target = fake / f"{module}.py"
        target.write_text((target.read_text() if target.exists() else '"""A new module."""\n') + f"\n{line}\n")
        assert expect in forbidden_imports(fake), forbidden_imports(fake)


def test_every_module_is_about_four_hundred_lines_or_less():
    long = {name: n for name, path in module_files().items() if (n := len(path.read_text().splitlines())) > MAX_LINES}
    assert long == {}


def test_one_home_per_concept():
    files = module_files()
    assert "ganlib.checks" not in files
    defined: dict[str, list[str]] = {}
    for name, path in files.items():
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and not node.name.startswith("_"):
                defined.setdefault(node.name, []).append(name)
    twice = {k: v for k, v in defined.items() if len(v) > 1 and k != "main"}
    # value_function: V(G, D) on logits (losses, Eq. 1) and as an integral on a grid (theory, Eq. 3)
    assert twice == {"value_function": ["ganlib.game.losses", "ganlib.theory.closed_forms"]}


@pytest.mark.parametrize("module", ["game.losses", "game.registry", "game.critics", "theory.closed_forms", "engine.optim",
                                    "engine.precision", "nets.augment"])
def test_public_functions_carry_a_runnable_example(module):
    import importlib

    mod = importlib.import_module(f"ganlib.{module}")
    missing = [n for n in mod.__all__ if callable(getattr(mod, n)) and not isinstance(getattr(mod, n), type)
               and ">>>" not in (getattr(mod, n).__doc__ or "")]
    assert missing == [], f"ganlib.{module}: no '>>>' example in {missing}"


def test_train_step_reads_like_algorithm_1_in_at_most_25_lines():
    """The loop a reader holds in their head: ``Loop.train_step``'s code, docstring excluded."""
    import inspect
    import textwrap

    from ganlib.engine.loop import Loop

    fn = ast.parse(textwrap.dedent(inspect.getsource(Loop.train_step))).body[0]
    body = fn.body[1:] if isinstance(fn.body[0], ast.Expr) and isinstance(fn.body[0].value, ast.Constant) else fn.body
    lines = {n for node in body for n in range(node.lineno, node.end_lineno + 1)}
    assert len(lines) <= 25, f"train_step has {len(lines)} lines of code"


def test_command_line_special_cases_no_model_or_data_set():
    """python -m ganlib's options come from TrainConfig and the registries: no model, data set or image
    size is named in its code (string constants and the 784 pixels of MNIST)."""
    from ganlib.data.sources import DATASETS
    from ganlib.nets.models import MODELS

    names = set(MODELS) | set(DATASETS)
    found = []
    for node in ast.walk(ast.parse((PKG / "__main__.py").read_text())):
        if isinstance(node, ast.Constant) and (node.value in names or node.value == 784):
            found.append(f"line {node.lineno}: {node.value!r}")
    assert found == []
