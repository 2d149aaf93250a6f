#!/usr/bin/env python3
"""Change the book's repository URL everywhere it is written, from the one in _config.yml.

    python3 scripts/set_repository_url.py https://github.com/OWNER/REPO

`repository: url:` in _config.yml is the single source: Jupyter Book's launch buttons (Colab) and
repository button read it. Its copies are rewritten to match:

- the Colab setup cell of every notebook (`git+URL`, in notebooks/*.py and the paired .ipynb; only
  that text changes, outputs and cell metadata stay as they are, so the jupytext pairs still agree);
- README.md (badges, links, the Colab badge), CITATION.cff, pyproject.toml (Homepage) and book/*.md (`git clone`);
- the published book's address, derived from the URL: https://github.com/OWNER/REPO is published
  at https://OWNER.github.io/REPO/ (GitHub Pages).

Standard library only (no virtual environment needed). `--root DIR` works on another checkout
(the tests use a temporary copy). tests/test_colab.py and tests/test_workflows.py check that the
copies agree with _config.yml.
"""
from __future__ import annotations

import argparse
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
# Every file that may hold a copy of the URL (globs, relative to the root).
FILES = [
    "_config.yml",
    "README.md",
    "CITATION.cff",
    "pyproject.toml",
    "environment.yml",
    "book/*.md",
    "notebooks/*.py",
    "notebooks/*.ipynb",
    ".github/workflows/*.yml",
]
GITHUB = re.compile(r"^https://github\.com/(?P<owner>[A-Za-z0-9-]+)/(?P<repo>[A-Za-z0-9._-]+)$")
CONFIG_URL = re.compile(r"^(repository:\s*\n(?:[ \t]+.*\n|\s*\n)*?[ \t]+url:[ \t]*)(\S+)", re.MULTILINE)


def normalise(url: str) -> str:
    url = url.strip().rstrip("/")
    if url.endswith(".git"):
        url = url[: -len(".git")]
    if not GITHUB.match(url):
        raise SystemExit(f"not a GitHub repository URL (https://github.com/OWNER/REPO): {url!r}; Colab opens only GitHub")
    return url


def pages_url(url: str) -> str:
    """https://github.com/OWNER/REPO -> https://owner.github.io/REPO, no trailing slash (GitHub Pages;
    a user site, REPO = owner.github.io, is published at the root https://owner.github.io)."""
    m = GITHUB.match(url)
    host = f"{m['owner'].lower()}.github.io"
    return f"https://{host}" if m["repo"].lower() == host else f"https://{host}/{m['repo']}"


def repo_name(url: str) -> str:
    return GITHUB.match(url)["repo"]


def current_url(root: pathlib.Path) -> str:
    m = CONFIG_URL.search((root / "_config.yml").read_text())
    if not m:
        raise SystemExit(f"{root / '_config.yml'} has no `repository: url:`")
    return m.group(2).strip("'\"")


def replace_url(text: str, old: str, new: str) -> tuple[str, int]:
    """Replace `old` where it is a whole URL (not the prefix of a longer one: gan-book-2, ...)."""
    pattern = re.compile(re.escape(old) + r"(?![A-Za-z0-9_.-])")
    return pattern.subn(new, text)


def set_repository_url(root: pathlib.Path, new: str) -> dict[str, int]:
    """Rewrite every copy of the repository URL (and the Pages URL) under root; returns {file: count}."""
    new = normalise(new)
    old = current_url(root)
    colab = lambda url: url.replace("https://github.com/", "https://colab.research.google.com/github/", 1)  # noqa: E731
    pairs = [(old, new), (pages_url(old), pages_url(new)), (colab(old), colab(new))]
    changed: dict[str, int] = {}
    if old == new:
        return changed
    for pattern in FILES:
        for path in sorted(root.glob(pattern)):
            if not path.is_file():
                continue
            text = path.read_text(encoding="utf-8")
            total = 0
            for a, b in pairs:
                text, n = replace_url(text, a, b)
                total += n
            # `git clone URL && cd REPO`: the folder a clone creates is named after the repository.
            clone_cd = re.compile(rf"(git clone {re.escape(new)}\s*&&\s*cd\s+){re.escape(repo_name(old))}(?![A-Za-z0-9_.-])")
            text, n = clone_cd.subn(rf"\g<1>{repo_name(new)}", text)
            total += n
            if total:
                path.write_text(text, encoding="utf-8")
                changed[path.relative_to(root).as_posix()] = total
    if current_url(root) != new:
        raise SystemExit("_config.yml's repository url was not rewritten: edit it by hand")
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", help="the new repository, https://github.com/OWNER/REPO")
    parser.add_argument("--root", type=pathlib.Path, default=ROOT, help="checkout to rewrite (default: this one)")
    args = parser.parse_args(argv)
    old = current_url(args.root)
    changed = set_repository_url(args.root, args.url)
    if not changed:
        print(f"repository URL is already {old}")
        return 0
    new = current_url(args.root)
    print(f"repository URL: {old} -> {new}")
    print(f"published book: {pages_url(old)}/ -> {pages_url(new)}/")
    for name, n in changed.items():
        print(f"  {name}: {n} replaced")
    print("Review with `git diff`, then commit (the notebooks' .ipynb must be committed for Colab).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
