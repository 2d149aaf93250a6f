#!/usr/bin/env bash
# README command (b): every test. Unit tests, the notebook pairing check, nbval over every notebook
# in quick mode, and the book build with warnings as errors (inside pytest, tests/test_book.py).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh test
export GANLIB_QUICK=1           # shrink every training budget (see ganlib.runtime.quick_mode)
unset MPLBACKEND                # notebooks use the inline backend, as when they were stored
start=$(date +%s)
python -m pytest --nbval --nbval-current-env --nbval-cell-timeout=600 \
  --nbval-sanitize-with tests/nbval_sanitize.cfg "$@"
echo "[test] finished in $(( $(date +%s) - start )) s"
