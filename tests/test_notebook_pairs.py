"""Every chapter is a jupytext pair: the `.py` (percent format) is the source, the `.ipynb` holds the
outputs of a default-mode run. These tests fail when a pair is missing or has drifted apart."""
from __future__ import annotations

import json
import pathlib

import pytest

from _pairs import content, pair_agrees, pair_text

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
PY = sorted(NOTEBOOKS.glob("*.py"))
IPYNB = sorted(NOTEBOOKS.glob("*.ipynb"))


def test_there_are_notebooks():
    assert IPYNB, "notebooks/ has no .ipynb"


@pytest.mark.parametrize("py", PY, ids=lambda p: p.name)
def test_every_py_has_an_ipynb(py):
    assert py.with_suffix(".ipynb").exists(), f"{py.name} has no paired .ipynb: run jupytext --sync {py}"


@pytest.mark.parametrize("nb", IPYNB, ids=lambda p: p.name)
def test_every_ipynb_has_a_py(nb):
    assert nb.with_suffix(".py").exists(), f"{nb.name} has no paired .py: run jupytext --sync {nb}"


@pytest.mark.parametrize("nb", IPYNB, ids=lambda p: p.name)
def test_py_and_ipynb_agree(nb):
    py = nb.with_suffix(".py")
    if not py.exists():
        pytest.skip("no pair (reported by test_every_ipynb_has_a_py)")
    assert pair_agrees(nb, py), (
        f"{py.name} and {nb.name} disagree: run `jupytext --sync {py}` and re-execute the notebook "
        "(bash scripts/execute-notebooks.sh) if code changed"
    )


def test_the_pair_check_ignores_the_jupytext_version_and_nothing_else(tmp_path):
    """A new jupytext release rewrites only its version line: that passes, a changed line of code fails."""
    nb = IPYNB[0]
    text = pair_text(nb)
    assert "jupytext_version:" in text
    newer = tmp_path / "newer.py"
    newer.write_text(text.replace("jupytext_version:", "jupytext_version: 99.0 #", 1))
    assert content(newer.read_text()) == content(text) and pair_agrees(nb, newer)
    changed = tmp_path / "changed.py"
    changed.write_text(text.replace("import ", "import  ", 1))
    assert not pair_agrees(nb, changed)


def _outputs(nb: pathlib.Path) -> list[str]:
    data = json.loads(nb.read_text())
    texts = []
    for cell in data["cells"]:
        if cell["cell_type"] != "code":
            continue
        chunk = []
        for out in cell.get("outputs", []):
            if "text" in out:
                chunk.append("".join(out["text"]))
            for key in ("text/plain", "text/html", "text/markdown"):
                if key in out.get("data", {}):
                    chunk.append("".join(out["data"][key]))
        texts.append("\n".join(chunk))
    return texts


@pytest.mark.parametrize("nb", IPYNB, ids=lambda p: p.name)
def test_committed_outputs_come_from_a_default_run(nb):
    outs = [o for o in _outputs(nb) if o]
    assert outs, f"{nb.name} is committed without outputs: run bash scripts/execute-notebooks.sh {nb}"
    assert "mode=default" in outs[0], (
        f"{nb.name}: the first output must state the run mode, and the committed one must be a "
        f"default-mode run; it reads {outs[0][:200]!r}"
    )
    assert not any("mode=quick" in o for o in outs), f"{nb.name} holds quick-mode outputs"


@pytest.mark.parametrize("nb", IPYNB, ids=lambda p: p.name)
def test_no_error_outputs(nb):
    data = json.loads(nb.read_text())
    errors = [o for c in data["cells"] for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, f"{nb.name} has committed error outputs: {errors[0].get('ename')}"
