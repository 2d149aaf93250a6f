#!/usr/bin/env bash
# Create (or reuse) the project's virtual environment in .venv and install ganlib with one extra.
# Usage: source scripts/env.sh [extra]   (extra: book | test; default test)
# Re-installs only when pyproject.toml changed since the last install for that extra.
set -euo pipefail
extra=${1:-test}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv="$root/.venv"
if [ ! -x "$venv/bin/python" ]; then
  echo "[env] creating $venv"
  python3 -m venv "$venv"
fi
stamp="$venv/.ganlib-$extra.stamp"
want=$(cat "$root/pyproject.toml" | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "[env] installing ganlib[$extra] into $venv (first time: a few minutes, mostly torch)"
  "$venv/bin/python" -m pip install --quiet --upgrade pip
  # torch/torchvision are loose ranges in pyproject.toml; where pip has a local constraint file
  # (this project's CI machines) they resolve to the wheels on disk.
  "$venv/bin/python" -m pip install --quiet -e "$root[$extra]"
  echo "$want" > "$stamp"
fi
export PATH="$venv/bin:$PATH"
"$venv/bin/python" -c "import torch, torchvision, ganlib; print(f'[env] ganlib {ganlib.__version__}, torch {torch.__version__}, torchvision {torchvision.__version__}')"
