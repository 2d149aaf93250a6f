"""The shape of ganlib: one home per concept, dependencies pointing one way, modules a reader can hold."""
from __future__ import annotations

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PKG = ROOT / "ganlib"
#: Modules below the training loop: none of them may import what sits above it.
BELOW_THE_LOOP = ("losses", "registry", "critics", "stacked", "theory", "propositions", "toy", "layers", "models", "metrics", "optim",
                  "precision", "augment", "config", "checkpoint", "runtime", "data", "_args")
ABOVE_THE_LOOP = {"ganlib.train", "ganlib.ensemble", "ganlib.experiments", "ganlib.presets", "ganlib.viz", "ganlib.__main__"}
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
            out.update(f"{base}.{a.name}" for a in node.names)  # `from ganlib import train`
    return {m for m in out if m == "ganlib" or m.startswith("ganlib.")}


def forbidden_imports(pkg: pathlib.Path = PKG) -> list[str]:
    bad = []
    for name, path in module_files(pkg).items():
        imports = imported_modules(path, name)
        if "ganlib.__main__" in imports:
            bad.append(f"{name} imports the command line")
        short = name.split(".")[1] if "." in name else ""
        if short in BELOW_THE_LOOP:
            for m in sorted(imports & ABOVE_THE_LOOP):
                bad.append(f"{name} imports {m}")
    return bad


def test_modules_below_the_loop_never_import_it_and_nothing_imports_the_command_line():
    assert forbidden_imports() == []


def test_the_dependency_check_fails_on_a_forbidden_import(tmp_path):
    """The check above can fail: each kind of forbidden import, added to a copy of the package, is reported."""
    import shutil

    cases = (("losses", "from ganlib.train import Trainer", "ganlib.losses imports ganlib.train"),
             ("metrics/modes", "from ganlib import viz", "ganlib.metrics.modes imports ganlib.viz"),
             ("viz", "import ganlib.__main__", "ganlib.viz imports the command line"),
             ("theory", "from .experiments import train_pair", "ganlib.theory imports ganlib.experiments"))
    for i, (module, line, expect) in enumerate(cases):
        fake = tmp_path / str(i) / "ganlib"
        shutil.copytree(PKG, fake)
        target = fake / f"{module}.py"
        target.write_text(target.read_text() + f"\n{line}\n")
        assert forbidden_imports(fake) == [expect]


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
    assert twice == {"value_function": ["ganlib.losses", "ganlib.theory"]}


@pytest.mark.parametrize("module", ["losses", "registry", "critics", "theory", "optim", "precision", "augment"])
def test_public_functions_carry_a_runnable_example(module):
    import importlib

    mod = importlib.import_module(f"ganlib.{module}")
    missing = [n for n in mod.__all__ if callable(getattr(mod, n)) and not isinstance(getattr(mod, n), type)
               and ">>>" not in (getattr(mod, n).__doc__ or "")]
    assert missing == [], f"ganlib.{module}: no '>>>' example in {missing}"
