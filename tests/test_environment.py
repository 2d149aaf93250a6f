"""pyproject.toml and environment.yml list the same requirements; torch stays a loose range."""
from __future__ import annotations

import pathlib
import re
import tomllib

import yaml
from packaging.requirements import Requirement

ROOT = pathlib.Path(__file__).resolve().parents[1]


def pyproject_requirements() -> set[str]:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(meta["dependencies"])
    for extra in meta["optional-dependencies"].values():
        reqs += [r for r in extra if not r.startswith("ganlib")]
    return {str(Requirement(r)) for r in reqs}


def environment_requirements() -> set[str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    return {str(Requirement(r)) for r in pip if not r.startswith("-e")}


def test_environment_yml_matches_pyproject():
    py, env = pyproject_requirements(), environment_requirements()
    assert py == env, f"only in pyproject: {sorted(py - env)}; only in environment.yml: {sorted(env - py)}"


def test_environment_yml_installs_the_package():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    assert "-e ." in pip


def test_torch_is_a_range_not_a_pin():
    for r in map(Requirement, pyproject_requirements()):
        if r.name in {"torch", "torchvision"}:
            assert not any(s.operator in {"==", "==="} for s in r.specifier), f"{r} pins torch: Colab would reinstall it"
            assert any(s.operator in {">=", ">"} for s in r.specifier), f"{r} has no floor"


def test_jupyter_book_is_1x_with_a_floor():
    (jb,) = [Requirement(r) for r in pyproject_requirements() if r.startswith("jupyter-book")]
    assert jb.specifier.contains("1.0.4.post1") and not jb.specifier.contains("2.0.0")
    assert not jb.specifier.contains("0.15.1"), "an old 0.x jupyter-book could be resolved"


def test_installed_version_matches_package():
    import ganlib

    assert re.fullmatch(r"\d+\.\d+\.\d+", ganlib.__version__)
