#!/usr/bin/env bash
# Re-execute every notebook in DEFAULT mode (the book's real results), store the outputs in the
# .ipynb files, and rebuild the book. Pass notebook paths to re-run only those.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh test
unset GANLIB_QUICK
export MPLBACKEND=module://matplotlib_inline.backend_inline
start=$(date +%s)
nbs=("$@"); [ ${#nbs[@]} -gt 0 ] || nbs=(notebooks/*.py)
for py in "${nbs[@]}"; do
  py=${py%.ipynb}; py=${py%.py}.py
  t0=$(date +%s)
  jupytext --sync "$py" >/dev/null
  jupytext --execute --set-kernel python3 --update --to ipynb "$py" -o "${py%.py}.ipynb"
  jupytext --sync "${py%.py}.ipynb" >/dev/null
  echo "[execute] $py: $(( $(date +%s) - t0 )) s"
done
echo "[execute] all notebooks: $(( $(date +%s) - start )) s"
bash scripts/build-book.sh
