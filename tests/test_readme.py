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
