#!/usr/bin/env bash
# README command (b): every test. Unit tests, the notebook pairing check, nbval over every notebook
# in quick mode, and the book build with warnings as errors (inside pytest, tests/test_book.py).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh test
# The setup cell installs its pinned ganlib wherever another version is found: with a bumped
# __version__ and old pins it would replace this checkout's editable install, so refuse first.
python3 scripts/pin_version.py --check || { echo "$(basename "$0"): the setup cells pin another ganlib than ganlib/__init__.py: run python3 scripts/pin_version.py" >&2; exit 1; }
# tests/test_browser.py opens the built book in headless Chromium. Install Debian's package when no
# Chromium/Chrome is on the PATH (as root, or with sudo, where apt-get exists); otherwise nothing.
if [ -z "${CHROMIUM:-}" ] && ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1 \
   && ! command -v google-chrome >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo -n"
  echo "[test] installing Debian's chromium for tests/test_browser.py"
  { $sudo apt-get update -qq && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
    || echo "[test] could not install chromium: tests/test_browser.py will fail"
fi
export GANLIB_QUICK=1           # shrink every training budget (see ganlib.engine.runtime.quick_mode)
unset MPLBACKEND                # notebooks use the inline backend, as when they were stored
start=$(date +%s)
python -m pytest --nbval --nbval-current-env --nbval-cell-timeout=600 \
  --nbval-sanitize-with tests/nbval_sanitize.cfg "$@"
echo "[test] finished in $(( $(date +%s) - start )) s"
