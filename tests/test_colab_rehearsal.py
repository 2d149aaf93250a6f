"""A Colab rehearsal: the setup cell run for real, in a fresh environment shaped like Colab's.

1. A local git repository stands in for the book's GitHub repository: this checkout's package,
   committed and tagged ``v<ganlib.__version__>``, then one more commit on the branch that sets
   another version (a moving branch the cell must not install).
2. A fresh virtual environment holds only what the setup cell would find preinstalled on Colab:
   every package of the test environment (torch, numpy, matplotlib, mlxtend, ...) linked in as a
   read-only "system" directory, except ganlib itself, torchmetrics (Colab has none) and
   ipywidgets, replaced by the 7.7.1 that Colab ships. A stand-in ``google.colab`` module is
   imported first, as Colab's kernel does.
3. Chapters 01 and 02 run in quick mode in that environment (02 builds its ipywidgets sliders),
   their setup cell installing from the local repository (``GANLIB_REPOSITORY``).

It fails if the cell installs another ref than the tag, reinstalls or upgrades torch or
ipywidgets, or if a chapter fails. Colab's Python (3.13) is not rehearsed: this machine has the
test environment's Python only. Needs git and PyPI (for torchmetrics and the build backend).
"""
from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys
import sysconfig
import textwrap

import pytest

import ganlib

ROOT = pathlib.Path(__file__).resolve().parents[1]
CHAPTERS = ["01_value_function.py", "02_optimal_discriminator.py"]
#: Not linked into the rehearsal environment: ganlib (the cell installs it), what Colab lacks
#: (torchmetrics and its helper), what Colab ships in another version (ipywidgets 7.7), pip's own.
LEFT_OUT = ("ganlib", "__editable__", "torchmetrics", "lightning_utilities", "ipywidgets", "widgetsnbextension",
            "jupyterlab_widgets", "pip", "setuptools", "_distutils_hack", "distutils-precedence", "wheel")
COLAB_IPYWIDGETS = "7.7.1"
MOVED_VERSION = "99.0.0.dev0"  # what the branch head says after the tag

RUNNER = textwrap.dedent('''
    import runpy, sys
    import google.colab  # the stand-in: in sys.modules, as in Colab's kernel
    runpy.run_path(sys.argv[1], run_name="__main__")
''')

REPORT = textwrap.dedent('''
    import importlib.metadata as md, json
    import torch, ipywidgets
    try:
        import ganlib
        version, where = ganlib.__version__, ganlib.__file__
    except ImportError:
        version = where = None
    print(json.dumps({"ganlib": version, "ganlib_file": where, "torch_file": torch.__file__,
                      "torch": md.version("torch"), "ipywidgets": ipywidgets.__version__}))
''')


def _run(cmd, **kw):
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kw)
    if proc.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, cmd))} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc


def _local_repository(path: pathlib.Path) -> str:
    """This checkout's package as a git repository: tag v<version>, then a moved branch head."""
    for name in ("ganlib", "LICENSES"):
        shutil.copytree(ROOT / name, path / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(ROOT / name, path / name)
    git = ["git", "-C", path, "-c", "user.name=rehearsal", "-c", "user.email=rehearsal@example.invalid"]
    _run(["git", "init", "-q", "-b", "main", path])
    _run([*git, "add", "-A"])
    _run([*git, "commit", "-q", "-m", "release"])
    _run([*git, "tag", f"v{ganlib.__version__}"])
    init = path / "ganlib" / "__init__.py"
    init.write_text(init.read_text().replace(f'"{ganlib.__version__}"', f'"{MOVED_VERSION}"'))
    _run([*git, "commit", "-q", "-am", "work after the release"])
    return f"file://localhost{path}"  # a host: the packaging of older pips refuses file:///


def _colab_like_venv(path: pathlib.Path) -> pathlib.Path:
    """A fresh venv whose site-packages sees the test environment's packages, minus LEFT_OUT."""
    _run([sys.executable, "-m", "venv", path])
    python = path / "bin" / "python"
    site = pathlib.Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip())
    system = path / "colab-system-packages"
    system.mkdir()
    ours = pathlib.Path(sysconfig.get_paths()["purelib"])
    for entry in ours.iterdir():
        if entry.name.endswith(".pth") or entry.name.lower().replace("-", "_").startswith(LEFT_OUT):
            continue
        (system / entry.name).symlink_to(entry)
    (site / "colab-system-packages.pth").write_text(f"{system}\n")
    stub = path / "stub" / "google" / "colab"  # a namespace package: google.protobuf etc. stay importable
    stub.mkdir(parents=True)
    (stub / "__init__.py").write_text('"""Stand-in for Colab\'s google.colab module."""\n')
    (site / "colab-stub.pth").write_text(f"{path / 'stub'}\n")
    _run([python, "-m", "pip", "install", "-q", "--disable-pip-version-check", f"ipywidgets=={COLAB_IPYWIDGETS}"])
    return python


@pytest.fixture(scope="module")
def rehearsal(tmp_path_factory):
    if shutil.which("git") is None:
        pytest.fail("the Colab rehearsal needs git (the setup cell installs from a git repository)")
    tmp = tmp_path_factory.mktemp("colab")
    url = _local_repository(tmp / "repository")
    python = _colab_like_venv(tmp / "venv")
    work = tmp / "work"
    work.mkdir()
    (work / "runner.py").write_text(RUNNER)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "JPY", "GANLIB_REPO"))}
    env.update(GANLIB_QUICK="1", GANLIB_REPOSITORY=url, MPLBACKEND="Agg", PIP_DISABLE_PIP_VERSION_CHECK="1",
               PATH=f"{python.parent}{os.pathsep}{env.get('PATH', '')}")
    import json

    before = json.loads(_run([python, "-c", REPORT], cwd=work, env=env).stdout)
    assert before["ganlib"] is None, f"the rehearsal environment already has ganlib ({before['ganlib_file']})"
    runs = {}
    for chapter in CHAPTERS:
        runs[chapter] = subprocess.run([python, work / "runner.py", ROOT / "notebooks" / chapter], cwd=work, env=env,
                                       capture_output=True, text=True, timeout=900)
    after = json.loads(_run([python, "-c", REPORT], cwd=work, env=env).stdout)
    return {"before": before, "after": after, "runs": runs, "venv": tmp / "venv"}


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_runs_after_the_setup_cell_in_a_colab_like_environment(rehearsal, chapter):
    run = rehearsal["runs"][chapter]
    assert run.returncode == 0, f"{chapter} failed in the Colab rehearsal:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"


def test_setup_cell_installed_the_tag_not_the_branch(rehearsal):
    after = rehearsal["after"]
    assert after["ganlib"] == ganlib.__version__, (
        f"the setup cell installed ganlib {after['ganlib']}, not the tag v{ganlib.__version__}"
        + (" (the branch head)" if after["ganlib"] == MOVED_VERSION else ""))
    assert str(rehearsal["venv"]) in after["ganlib_file"], f"ganlib imported from {after['ganlib_file']}, not the rehearsal's"


def test_setup_cell_left_torch_and_ipywidgets_as_colab_shipped_them(rehearsal):
    before, after = rehearsal["before"], rehearsal["after"]
    assert after["torch_file"] == before["torch_file"] and "colab-system-packages" in after["torch_file"], (
        f"torch was reinstalled: {before['torch_file']} -> {after['torch_file']}")
    assert after["torch"] == before["torch"]
    assert after["ipywidgets"] == COLAB_IPYWIDGETS, f"ipywidgets became {after['ipywidgets']}"
    own = pathlib.Path(_run([rehearsal["venv"] / "bin" / "python", "-c",
                             "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip())
    assert not list(own.glob("torch")) and not list(own.glob("torch-*")), "pip installed a torch into the environment"
