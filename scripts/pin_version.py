#!/usr/bin/env python3
"""Pin every notebook's Colab setup cell to the ganlib version the stored outputs were made with.

    python3 scripts/pin_version.py          # rewrite each `@vX.Y.Z` of the setup cells to ganlib.__version__
    python3 scripts/pin_version.py --check  # exit 1, naming each notebook whose pin differs

The setup cell installs `ganlib[data] @ git+<repository>@v<version>`: a tag, never a moving branch,
so a reader on Colab gets the library the pages were run with. The version is read from
`ganlib/__init__.py` (`__version__`); `.github/workflows/release.yml` creates the tag `v<version>`
when that version first reaches main with green tests. Bump the version, re-run the chapters, then
run this script and commit. Only the pin changes (in notebooks/*.py and the paired .ipynb): the
outputs and cell metadata stay as they are, so the jupytext pairs still agree.

Standard library only. `--root DIR` works on another checkout (the tests use a temporary copy).
"""
from __future__ import annotations

import argparse
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
VERSION = re.compile(r'^__version__\s*=\s*["\']([^"\']+)["\']', re.MULTILINE)
#: The pin inside the setup cell's install line: `...git+{repository}@v0.2.0"`.
PIN = re.compile(r'(git\+\{repository\}@v)([0-9][0-9A-Za-z.+-]*)(?=\\?")')  # \" in .ipynb JSON


def ganlib_version(root: pathlib.Path) -> str:
    m = VERSION.search((root / "ganlib" / "__init__.py").read_text())
    if not m:
        raise SystemExit(f"{root / 'ganlib' / '__init__.py'} has no __version__")
    return m.group(1)


def pins(root: pathlib.Path) -> dict[str, list[str]]:
    """{notebook file: the versions its setup cell pins} for notebooks/*.py and *.ipynb."""
    found = {}
    for path in sorted(root.glob("notebooks/*.py")) + sorted(root.glob("notebooks/*.ipynb")):
        found[path.relative_to(root).as_posix()] = [m.group(2) for m in PIN.finditer(path.read_text(encoding="utf-8"))]
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
            raise SystemExit(f"{name}: no `git+{{repository}}@v...` pin in its setup cell; copy the cell of chapter 01")
        path = args.root / name
        path.write_text(PIN.sub(rf"\g<1>{version}", path.read_text(encoding="utf-8")), encoding="utf-8")
        print(f"  {name}: v{', v'.join(v)} -> v{version}")
    print(f"every setup cell pins v{version}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
