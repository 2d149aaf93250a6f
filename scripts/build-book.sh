#!/usr/bin/env bash
# README command (a): build the whole book to _build/html (from the committed notebook outputs).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh book
start=$(date +%s)
jupyter-book build . --warningiserror --nitpick --keep-going
echo "[book] built in $(( $(date +%s) - start )) s: open $(pwd)/_build/html/index.html"
