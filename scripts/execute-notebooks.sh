#!/usr/bin/env bash
# Re-execute every notebook in DEFAULT mode (the book's real results), store the outputs in the
# .ipynb files, and rebuild the book. Pass notebook paths to re-run only those.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh test
# The setup cell installs its pinned ganlib wherever another version is found: with a bumped
# __version__ and old pins it would replace this checkout's editable install, so refuse first.
python3 scripts/pin_version.py --check || { echo "$(basename "$0"): the setup cells pin another ganlib than ganlib/__init__.py: run python3 scripts/pin_version.py" >&2; exit 1; }
unset GANLIB_QUICK
unset MPLBACKEND
start=$(date +%s)
nbs=("$@"); [ ${#nbs[@]} -gt 0 ] || nbs=(notebooks/*.py)
for py in "${nbs[@]}"; do
  py=${py%.ipynb}; py=${py%.py}.py
  t0=$(date +%s)
  # The .py is the source: execute it into its paired .ipynb (outputs replaced).
  jupytext --execute --to ipynb "$py" -o "${py%.py}.ipynb"
  # Saved ipywidgets state makes the page load require.js and the widget manager from a CDN; the
  # book must work offline, and interactive cells are tagged remove-output (static figures follow).
  python - "${py%.py}.ipynb" <<'PY'
import json, sys
path = sys.argv[1]
nb = json.load(open(path))
if nb["metadata"].pop("widgets", None) is not None:
    with open(path, "w") as f:
        json.dump(nb, f, indent=1, ensure_ascii=False)
        f.write("\n")
PY
  echo "[execute] $py: $(( $(date +%s) - t0 )) s"
done
echo "[execute] all notebooks: $(( $(date +%s) - start )) s"
bash scripts/build-book.sh
