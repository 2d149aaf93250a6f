#!/usr/bin/env python3
"""Pin every notebook's setup cell, and the book's launch buttons, to the ganlib version the stored outputs were made with.

    python3 scripts/pin_version.py          # rewrite each pin to ganlib.__version__
    python3 scripts/pin_version.py --check  # exit 1, naming each file whose pin differs

The setup cell (`GANLIB = "X.Y.Z"`) installs `ganlib[data] @ git+<repository>@vX.Y.Z` wherever this
ganlib is missing: a tag, never a moving branch, so a reader gets the library the pages were run with.
The launch buttons open the notebooks of that same tag (`repository: branch: vX.Y.Z` in _config.yml),
so the notebook a reader opens on Colab is the one written for the library it installs. The version
is read from `ganlib/__init__.py` (`__version__`); `.github/workflows/release.yml` creates the tag
`v<version>` when that version first reaches main with green tests. Bump the version, run this
script, then re-run the chapters and commit (scripts/test.sh and scripts/execute-notebooks.sh refuse
to start while a pin differs: the setup cells would install the old release over the checkout). Only the pins change (in notebooks/*.py, the paired
.ipynb, _config.yml and the README's Colab badge): the outputs and cell metadata stay as they are, so the jupytext pairs
still agree.

Standard library only. `--root DIR` works on another checkout (the tests use a temporary copy).
"""
from __future__ import annotations

import argparse
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
VERSION = re.compile(r'^__version__\s*=\s*["\']([^"\']+)["\']', re.MULTILINE)
#: The pin of the setup cell: `GANLIB = "0.2.0"` (`GANLIB = \"0.2.0\"` in .ipynb JSON).
PIN = re.compile(r'(^\s*"?GANLIB = \\?")([0-9][0-9A-Za-z.+-]*)(?=\\?")', re.MULTILINE)
#: The README's Colab badge: `colab.research.google.com/github/OWNER/REPO/blob/v0.2.0/notebooks/...`.
BADGE = re.compile(r'(colab\.research\.google\.com/github/[^/\s]+/[^/\s]+/blob/)v?([^/\s]+)')
#: The launch buttons' ref in _config.yml: `  branch: v0.2.0`.
BRANCH = re.compile(r'(^\s+branch: )v?(\S+)', re.MULTILINE)


def ganlib_version(root: pathlib.Path) -> str:
    m = VERSION.search((root / "ganlib" / "__init__.py").read_text())
    if not m:
        raise SystemExit(f"{root / 'ganlib' / '__init__.py'} has no __version__")
    return m.group(1)


def pins(root: pathlib.Path) -> dict[str, list[str]]:
    """{file: the versions it pins}: the setup cell of notebooks/*.py and *.ipynb, the branch of _config.yml,
    the README's Colab badge."""
    found = {}
    for path in sorted(root.glob("notebooks/*.py")) + sorted(root.glob("notebooks/*.ipynb")):
        found[path.relative_to(root).as_posix()] = [m.group(2) for m in PIN.finditer(path.read_text(encoding="utf-8"))]
    found["_config.yml"] = [m.group(2) for m in BRANCH.finditer((root / "_config.yml").read_text(encoding="utf-8"))]
    if (root / "README.md").exists():
        found["README.md"] = sorted({m.group(2) for m in BADGE.finditer((root / "README.md").read_text(encoding="utf-8"))})
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only report notebooks whose pin differs")
    parser.add_argument("--root", type=pathlib.Path, default=ROOT, help="checkout to work on (default: this one)")
    args = parser.parse_args(argv)
    version = ganlib_version(args.root)
    wrong = {name: v for name, v in pins(args.root).items() if v != [version]}
    if args.check:
        for name, v in wrong.items():
            print(f"{name}: pins {', '.join(v) or 'nothing'}, ganlib is {version}", file=sys.stderr)
        return 1 if wrong else 0
    for name, v in wrong.items():
        if not v:
            raise SystemExit(f"{name}: no pin (`GANLIB = \"...\"` in the setup cell, `branch: v...` in _config.yml); "
                             "copy the setup cell of chapter 01")
        path = args.root / name
        text = path.read_text(encoding="utf-8")
        pattern, repl = {"_config.yml": (BRANCH, rf"\g<1>v{version}"), "README.md": (BADGE, rf"\g<1>v{version}")}.get(
            name, (PIN, rf"\g<1>{version}"))
        text = pattern.sub(repl, text)
        path.write_text(text, encoding="utf-8")
        print(f"  {name}: v{', v'.join(v)} -> v{version}")
    print(f"every setup cell and the launch buttons pin v{version}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
