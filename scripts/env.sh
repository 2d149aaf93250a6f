#!/usr/bin/env bash
# Create (or reuse) the project's virtual environment and install ganlib with one extra.
# Usage: source scripts/env.sh [extra]   (extra: book | test; default test)
#
# By default the environment is the one the suite was tested with: pip installs pyproject.toml's
# ranges under constraints.txt (the exact versions of jupytext, nbval, jupyter-book, Sphinx, pytest,
# matplotlib, ...), so a fresh clone gets what passed, whatever was released since. torch and
# torchvision are not in constraints.txt: they resolve from pyproject.toml's ranges as before (on this
# project's CI machines pip's own constraint file picks the wheels on local disk).
# GANLIB_NEWEST=1 installs the newest releases instead (no constraints.txt, every package upgraded),
# into .venv-newest: what .github/workflows/newest.yml runs weekly, so drift shows before it breaks
# a reader's install. GANLIB_VENV=DIR picks another environment folder.
# Re-installs only when pyproject.toml or constraints.txt changed since the last install for that extra
# (with GANLIB_NEWEST=1, also on a new day).
set -euo pipefail
extra=${1:-test}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
newest=${GANLIB_NEWEST:-0}
if [ "$newest" = 1 ]; then
  venv=${GANLIB_VENV:-$root/.venv-newest}
  pins=()
else
  venv=${GANLIB_VENV:-$root/.venv}
  pins=(-c "$root/constraints.txt")
fi
if [ ! -x "$venv/bin/python" ]; then
  echo "[env] creating $venv"
  python3 -m venv "$venv"
fi
stamp="$venv/.ganlib-$extra.stamp"
want=$(cat "$root/pyproject.toml" "$root/constraints.txt" | sha256sum | cut -d' ' -f1)-newest$newest
[ "$newest" = 1 ] && want="$want-$(date +%F)"  # the newest releases: resolved again each day
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  if [ "$newest" = 1 ]; then
    echo "[env] installing ganlib[$extra] with the newest releases into $venv"
    "$venv/bin/python" -m pip install --quiet --upgrade pip
    "$venv/bin/python" -m pip install --quiet --upgrade --upgrade-strategy eager -e "$root[$extra]"
  else
    echo "[env] installing ganlib[$extra] into $venv under constraints.txt (first time: a few minutes, mostly torch)"
    "$venv/bin/python" -m pip install --quiet --upgrade pip
    "$venv/bin/python" -m pip install --quiet "${pins[@]}" -e "$root[$extra]"
  fi
  echo "$want" > "$stamp"
fi
export PATH="$venv/bin:$PATH"
"$venv/bin/python" -c "import torch, torchvision, ganlib, jupytext; print(f'[env] ganlib {ganlib.__version__}, torch {torch.__version__}, torchvision {torchvision.__version__}, jupytext {jupytext.__version__}')"
