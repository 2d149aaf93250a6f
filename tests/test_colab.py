"""The setup cell every notebook starts with, the launch buttons, and the one repository URL.

- `_config.yml` holds the repository URL once (`repository: url:`) and asks for Colab launch buttons,
  which open the notebooks of the tag `v<ganlib.__version__>` (`repository: branch:`), the tag the
  setup cell installs: the notebook a reader opens is the one written for the library it gets.
- Every notebooks/*.py starts (first code cell) with the setup cell: on any host, it pip-installs
  `ganlib[data] @ git+<that URL>@v<ganlib.__version__>` (a release tag, never a moving branch;
  `GANLIB_REPOSITORY` overrides the URL) when `import ganlib` fails or gives another version, and does
  nothing where that version is installed; on Colab it also reports the GPU. Both are checked by
  running the cell, with subprocess stubbed. The cell's input is hidden on the published pages (tag
  `hide-input`). tests/test_colab_rehearsal.py runs the cell for real, in a fresh environment.
- scripts/set_repository_url.py rewrites the URL in _config.yml and in every copy, on a temporary
  copy of the project here, without touching the notebooks' outputs.
(The built pages' Colab buttons are checked in test_notebook_pages_have_a_colab_button.)
"""
from __future__ import annotations

import ast
import json
import pathlib
import shutil
import subprocess
import sys
import types

import jupytext
import pytest
import yaml

import ganlib
from _pairs import pair_agrees

ROOT = pathlib.Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
REPO_URL = CONFIG["repository"]["url"]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.py"))
SCRIPT = ROOT / "scripts" / "set_repository_url.py"
PIN_SCRIPT = ROOT / "scripts" / "pin_version.py"
INSTALL = f"ganlib[data] @ git+{REPO_URL}@v{ganlib.__version__}"  # what the setup cell must install


def setup_cell_tags(path: pathlib.Path) -> list:
    return [c for c in jupytext.read(path).cells if c.cell_type == "code"][0].metadata.get("tags", [])


def setup_cell(path: pathlib.Path) -> str:
    nb = jupytext.read(path)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, f"{path.name} has no code cell"
    return code[0].source


def test_config_keeps_the_repository_and_asks_for_colab():
    assert REPO_URL.startswith("https://github.com/"), "Colab opens notebooks from GitHub only"
    assert CONFIG["repository"].get("branch") == f"v{ganlib.__version__}", (
        "the launch buttons must open the notebooks of the tag the setup cells install: run `python3 scripts/pin_version.py`")
    assert CONFIG["launch_buttons"]["colab_url"] == "https://colab.research.google.com"


def test_there_are_notebooks():
    assert NOTEBOOKS


@pytest.mark.parametrize("py", NOTEBOOKS, ids=lambda p: p.name)
def test_first_code_cell_is_the_setup_cell(py):
    src = setup_cell(py)
    tree = ast.parse(src)
    # Imports, the pin, the try-import of ganlib and two `if`s (install; on Colab, report the GPU): nothing else.
    kinds = [type(n).__name__ for n in tree.body if not isinstance(n, (ast.Import, ast.ImportFrom))]
    assert kinds == ["Assign", "Try", "If", "If"], f"{py.name}: the first code cell must be the setup cell only ({kinds})"
    assert ast.unparse(tree.body[[type(n) for n in tree.body].index(ast.Assign)]) == f"GANLIB = {ganlib.__version__!r}"
    install, colab = [n for n in tree.body if isinstance(n, ast.If)]
    assert ast.unparse(install.test) == "ganlib is None or ganlib.__version__ != GANLIB", (
        f"{py.name}: the setup cell must install only where ganlib is missing or another version")
    body = "\n".join(ast.unparse(n) for n in install.body)
    assert repr(REPO_URL) in body and "pip" in body and "install" in body and "git+{repository}@v{GANLIB}" in body, (
        f"{py.name}: the setup cell must pip-install git+{REPO_URL}@v<GANLIB> (the URL in _config.yml)"
    )
    assert ast.unparse(colab.test) == "'google.colab' in sys.modules" and not colab.orelse
    gpu = "\n".join(ast.unparse(n) for n in colab.body)
    assert "nvidia-smi" in gpu or "get_device_name" in gpu, f"{py.name}: the setup cell must report the GPU on Colab"


@pytest.mark.parametrize("py", NOTEBOOKS, ids=lambda p: p.name)
def test_every_github_url_in_a_notebook_is_the_configured_one(py):
    import re

    for path in (py, py.with_suffix(".ipynb")):
        if path.exists():
            urls = set(re.findall(r"git\+(https://[^\s\"'\\]+)", path.read_text()))
            urls |= set(re.findall(r"(https://github\.com/[^\s\"'\\/]+/[^\s\"'\\/)]+)", setup_cell(path)))
            assert urls <= {REPO_URL}, f"{path.name} installs from {urls - {REPO_URL}}, _config.yml says {REPO_URL}"


@pytest.mark.parametrize("py", NOTEBOOKS, ids=lambda p: p.name)
def test_setup_cell_pins_the_version_the_outputs_were_made_with(py):
    for path in (py, py.with_suffix(".ipynb")):
        cell = setup_cell(path)
        assert f'GANLIB = "{ganlib.__version__}"' in cell and "git+{repository}@v{GANLIB}\"" in cell, (
            f"{path.name}: the setup cell must install the tag v{ganlib.__version__} (ganlib.__version__); "
            "run `python3 scripts/pin_version.py`")
    assert subprocess.run([sys.executable, str(PIN_SCRIPT), "--check"], capture_output=True).returncode == 0


@pytest.mark.parametrize("py", NOTEBOOKS, ids=lambda p: p.name)
def test_setup_cell_input_is_hidden_on_the_published_pages(py):
    assert "hide-input" in setup_cell_tags(py) and "hide-input" in setup_cell_tags(py.with_suffix(".ipynb"))


def test_pin_script_rewrites_and_checks_the_pins(tmp_path):
    for rel in ["ganlib/__init__.py", "_config.yml", "README.md", *[p.relative_to(ROOT) for p in ROOT.glob("notebooks/*.py")],
                *[p.relative_to(ROOT) for p in ROOT.glob("notebooks/*.ipynb")]]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, tmp_path / rel)
    init = tmp_path / "ganlib" / "__init__.py"
    init.write_text(init.read_text().replace(f'"{ganlib.__version__}"', '"9.8.7"'))
    run = lambda *a: subprocess.run([sys.executable, str(PIN_SCRIPT), "--root", str(tmp_path), *a],  # noqa: E731
                                    capture_output=True, text=True)
    check = run("--check")
    assert check.returncode == 1 and f"pins {ganlib.__version__}, ganlib is 9.8.7" in check.stderr
    assert run().returncode == 0 and run("--check").returncode == 0
    config = yaml.safe_load((tmp_path / "_config.yml").read_text())
    assert config["repository"]["branch"] == "v9.8.7" and config["repository"]["url"] == REPO_URL
    assert "/blob/v9.8.7/notebooks/" in (tmp_path / "README.md").read_text(), "the README's Colab badge was not re-pinned"
    for py in tmp_path.glob("notebooks/*.py"):
        assert 'GANLIB = "9.8.7"' in setup_cell(py)
        nb = py.with_suffix(".ipynb")
        assert pair_agrees(nb, py), f"{nb.name} and {py.name} drifted"
        assert _outputs(nb) == _outputs(ROOT / "notebooks" / nb.name), f"{nb.name}: outputs or cell metadata changed"


class _Recorder:
    def __init__(self, gpu: bool):
        self.calls: list[list[str]] = []
        self.gpu = gpu

    def __call__(self, cmd, *args, **kwargs):
        self.calls.append([str(c) for c in cmd])
        if cmd[0] == "nvidia-smi" and not self.gpu:
            raise FileNotFoundError("nvidia-smi")  # a CPU runtime has no nvidia-smi
        return subprocess.CompletedProcess(cmd, 0, stdout="GPU 0: Tesla T4 (UUID: GPU-0)\n", stderr="")


def _run_cell(src: str, monkeypatch, *, colab: bool, gpu: bool, installed=None, recorder=None) -> _Recorder:
    """Run the setup cell with subprocess stubbed; ``installed``: the ganlib version `import ganlib`
    finds (None: the import fails); ``recorder``: where the calls go (default: a new one)."""
    rec = recorder if recorder is not None else _Recorder(gpu)
    if installed is None:
        monkeypatch.setitem(sys.modules, "ganlib", None)  # `import ganlib` raises ImportError
    else:
        monkeypatch.setitem(sys.modules, "ganlib", types.SimpleNamespace(__version__=installed))
    monkeypatch.delenv("GANLIB_REPOSITORY", raising=False)
    for name in ("check_call", "run", "call", "check_output", "Popen"):
        monkeypatch.setattr(subprocess, name, rec)
    monkeypatch.setattr(shutil, "which", lambda cmd, *a, **k: f"/usr/bin/{cmd}" if (gpu or cmd != "nvidia-smi") else None)
    monkeypatch.setattr("os.system", rec)
    if colab:
        monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    else:
        monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    exec(compile(src, "<setup cell>", "exec"), {"__name__": "__main__"})
    return rec


@pytest.mark.parametrize("colab", [False, True], ids=["any-host", "colab"])
@pytest.mark.parametrize("py", NOTEBOOKS, ids=lambda p: p.name)
def test_setup_cell_installs_nothing_where_the_pinned_ganlib_is_installed(py, colab, monkeypatch, capsys):
    rec = _run_cell(setup_cell(py), monkeypatch, colab=colab, gpu=True, installed=ganlib.__version__)
    assert not [c for c in rec.calls if "pip" in c], f"{py.name}: the setup cell ran pip with ganlib {ganlib.__version__} installed"
    if not colab:
        assert rec.calls == [] and capsys.readouterr().out == "", f"{py.name}: the setup cell acted: {rec.calls}"


@pytest.mark.parametrize("installed", [None, "0.0.1"], ids=["missing", "another-version"])
@pytest.mark.parametrize("py", NOTEBOOKS, ids=lambda p: p.name)
def test_setup_cell_installs_the_pinned_ganlib_on_any_host(py, installed, monkeypatch):
    """Kaggle, SageMaker Studio Lab, JupyterHub, a laptop: no google.colab, no ganlib (or another one)."""
    rec = _Recorder(gpu=False)
    if installed is None:
        _run_cell(setup_cell(py), monkeypatch, colab=False, gpu=False, installed=installed, recorder=rec)
    else:  # another ganlib is imported in this kernel: the chapter must not go on with it
        with pytest.raises(SystemExit, match="restart the kernel") as stop:
            _run_cell(setup_cell(py), monkeypatch, colab=False, gpu=False, installed=installed, recorder=rec)
        assert installed in str(stop.value) and ganlib.__version__ in str(stop.value)
    assert rec.calls == [[sys.executable, "-m", "pip", "install", "-q", INSTALL]], f"{py.name}: {rec.calls}"


@pytest.mark.parametrize("gpu", [True, False], ids=["gpu-runtime", "cpu-runtime"])
@pytest.mark.parametrize("py", NOTEBOOKS, ids=lambda p: p.name)
def test_setup_cell_in_colab_installs_ganlib_and_reports_the_gpu(py, gpu, monkeypatch, capsys):
    src = setup_cell(py)
    try:
        rec = _run_cell(src, monkeypatch, colab=True, gpu=gpu)
    except Exception as exc:  # noqa: BLE001
        runtime = "a GPU runtime" if gpu else "a CPU runtime (no GPU, no nvidia-smi)"
        pytest.fail(
            f"{py.name}: the setup cell raised {exc!r} in Colab on {runtime}; copy the setup cell of "
            "notebooks/01_value_function.py (it calls nvidia-smi only where shutil.which finds it)"
        )
    installs = [c for c in rec.calls if "pip" in c and "install" in c]
    assert installs and installs[0][-1] == INSTALL, f"{py.name}: no pip install of {INSTALL}: {rec.calls}"
    out = capsys.readouterr().out
    if "get_device_name" not in src:
        reported = any(c[0] == "nvidia-smi" for c in rec.calls) if gpu else "gpu" in out.lower()
        assert reported, f"{py.name}: the setup cell did not report the GPU (calls {rec.calls}, printed {out!r})"


def test_setup_cell_honours_ganlib_repository(monkeypatch):
    src = setup_cell(NOTEBOOKS[0])
    rec = _Recorder(gpu=False)
    for name in ("check_call", "run"):
        monkeypatch.setattr(subprocess, name, rec)
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    monkeypatch.setitem(sys.modules, "ganlib", None)
    monkeypatch.setenv("GANLIB_REPOSITORY", "file:///tmp/clone")
    exec(compile(src, "<setup cell>", "exec"), {"__name__": "__main__"})
    assert rec.calls[0][-1] == f"ganlib[data] @ git+file:///tmp/clone@v{ganlib.__version__}"


# --------------------------------------------------------------------------------------------------
# scripts/set_repository_url.py, on a temporary copy of every file that may hold the URL.

COPIED = ["_config.yml", "README.md", "CITATION.cff", "pyproject.toml", "environment.yml", "book/*.md", "notebooks/*"]


def _outputs(nb_path: pathlib.Path) -> list:
    return [(c.get("outputs"), c.get("metadata")) for c in json.loads(nb_path.read_text())["cells"]]


def test_set_repository_url_rewrites_every_copy(tmp_path):
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        import set_repository_url as tool
    finally:
        sys.path.pop(0)
    for pattern in COPIED:
        for src in ROOT.glob(pattern):
            if src.is_file():
                dst = tmp_path / src.relative_to(ROOT)
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, dst)
    old, new = REPO_URL, "https://github.com/Example-Org/my-gan-book"
    old_pages, new_pages = tool.pages_url(old), "https://example-org.github.io/my-gan-book"
    before = {p: p.read_text() for p in tmp_path.rglob("*") if p.is_file()}
    outputs_before = {p: _outputs(p) for p in tmp_path.glob("notebooks/*.ipynb")}

    proc = subprocess.run([sys.executable, str(SCRIPT), new + ".git", "--root", str(tmp_path)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "_config.yml" in proc.stdout

    after = {p: p.read_text() for p in before}
    assert yaml.safe_load(after[tmp_path / "_config.yml"])["repository"]["url"] == new
    for path, text in after.items():
        rel = path.relative_to(tmp_path)
        assert old not in text and old_pages not in text, f"{rel} still holds the old URL"
        n_old = before[path].count(old) + before[path].count(old_pages)
        assert text.count(new) + text.count(new_pages) >= n_old, f"{rel}: not every copy was replaced"
        if n_old == 0:
            assert text == before[path], f"{rel} changed though it held no URL"
    for py in tmp_path.glob("notebooks/*.py"):
        assert f"\"{new}\"" in setup_cell(py)
        nb = py.with_suffix(".ipynb")
        if not nb.exists():
            continue  # an unpaired .py is reported by tests/test_notebook_pairs.py
        assert pair_agrees(nb, py), f"{nb.name} and {py.name} drifted"
        assert _outputs(nb) == outputs_before[nb], f"{nb.name}: outputs or cell metadata changed"
    assert f"colab.research.google.com/github/Example-Org/my-gan-book/blob/" in after[tmp_path / "README.md"]
    intro = after.get(tmp_path / "book" / "intro.md", "")
    if f"git clone {new}" in intro:
        assert f"git clone {new} && cd my-gan-book" in intro, "book/intro.md: the clone's folder name was not updated"
    cff = yaml.safe_load(after[tmp_path / "CITATION.cff"]) if (tmp_path / "CITATION.cff").exists() else None
    if cff:
        assert cff["repository-code"] == new and cff["url"] == new_pages + "/"

    # A second run with the same URL changes nothing; a URL that is not GitHub is refused.
    again = subprocess.run([sys.executable, str(SCRIPT), new, "--root", str(tmp_path)], capture_output=True, text=True)
    assert again.returncode == 0 and "already" in again.stdout
    bad = subprocess.run([sys.executable, str(SCRIPT), "https://gitlab.com/a/b", "--root", str(tmp_path)], capture_output=True, text=True)
    assert bad.returncode != 0 and "GitHub" in bad.stderr
    assert yaml.safe_load((tmp_path / "_config.yml").read_text())["repository"]["url"] == new


def test_pages_url_matches_the_rule_in_the_readme():
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        import set_repository_url as tool
    finally:
        sys.path.pop(0)
    assert tool.pages_url("https://github.com/gan-book/gan-book") == "https://gan-book.github.io/gan-book"
    assert tool.pages_url("https://github.com/Ann/Ann.github.io") == "https://ann.github.io"


# --------------------------------------------------------------------------------------------------
# The built book: a Colab button on every notebook page, pointing at the configured repository.


def test_notebook_pages_have_a_colab_button(built_book):
    """Each chapter's button opens that chapter at the tag its setup cell installs, not at main."""
    branch = f"v{ganlib.__version__}"
    repo_path = REPO_URL.removeprefix("https://github.com/")
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    chapters = [ch["file"] for part in toc["parts"] for ch in part["chapters"] if ch["file"].startswith("notebooks/")]
    assert chapters, "_toc.yml lists no notebook"
    for chapter in chapters:
        page = (built_book / f"{chapter}.html").read_text()
        want = f"https://colab.research.google.com/github/{repo_path}/blob/{branch}/{chapter}.ipynb"
        assert want in page, f"{chapter}.html has no Colab launch button to {want}"


def test_setup_cell_is_collapsed_on_every_chapter_page(built_book):
    import re

    for py in NOTEBOOKS:
        page = (built_book / "notebooks" / f"{py.stem}.html").read_text()
        first = page.index("google.colab")  # the setup cell's source comes first on the page
        opening = [m for m in re.finditer(r'<div class="cell ([^"]*)"', page) if m.start() < first][-1]
        assert "tag_hide-input" in opening.group(1).split(), f"{py.stem}.html: the setup cell is not collapsed"
