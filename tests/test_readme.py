"""README.md carries exactly two set-up commands, and CI runs the second one from the README itself."""
from __future__ import annotations

import pathlib
import re
import subprocess

ROOT = pathlib.Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def command_after(marker: str) -> str:
    m = re.search(rf"<!-- {marker} -->\s*```bash\n(.+?)\n```", README)
    assert m, f"README.md has no bash block after <!-- {marker} -->"
    return m.group(1).strip()


def test_two_marked_setup_commands_exist_and_point_at_scripts():
    book, test = command_after("book-command"), command_after("test-command")
    assert book != test
    for cmd in (book, test):
        script = cmd.split()[-1]
        assert (ROOT / script).is_file(), f"README command {cmd!r}: {script} does not exist"


def test_ci_runs_the_readme_test_command():
    """Extract the command the way .ci/run does (sed), and compare with the README's block."""
    out = subprocess.run(
        ["sed", "-n", "/<!-- test-command -->/{n;n;p;q}", "README.md"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == command_after("test-command")
    ci = (ROOT / ".ci" / "run").read_text()
    assert "test-command" in ci and "eval" in ci, ".ci/run must run the README's command, not a copy of it"
    assert "scripts/test.sh" not in ci, ".ci/run holds a copy of the test command that can drift"


def test_readme_says_where_the_html_lands():
    assert "_build/html/index.html" in README


def test_the_five_line_example_runs(monkeypatch):
    """The README's Python block, run as written (quick mode: the preset's 20 steps), gives 64 digits in [0, 1]."""
    m = re.search(r"```python\n(.+?)\n```", README, re.S)
    assert m, "README.md has no python block"
    code = m.group(1)
    assert len([line for line in code.splitlines() if line.strip()]) <= 5, "the library in five lines, not more"
    monkeypatch.setenv("GANLIB_QUICK", "1")
    scope: dict = {}
    exec(compile(code, "README.md", "exec"), scope)
    samples = scope["samples"]
    assert tuple(samples.shape) == (64, 784) and 0 <= float(samples.min()) and float(samples.max()) <= 1
    assert scope["trainer"].step == 20


def test_readme_is_short_enough_for_a_newcomer():
    assert len(README) <= 6000, f"README.md has {len(README)} characters; move detail to the book or CONTRIBUTING.md"
