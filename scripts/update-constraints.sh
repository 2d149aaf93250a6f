#!/usr/bin/env bash
# Rewrite constraints.txt from the environment the suite just passed in: the exact version of every
# package installed in .venv (or $GANLIB_VENV), except ganlib itself and the torch stack (torch,
# torchvision, their CUDA wheels, triton, sympy, mpmath, networkx), which keep resolving from
# pyproject.toml's ranges: Colab's preinstalled torch, a CPU wheel in CI, the wheels on this disk.
# Usage: bash scripts/test.sh && bash scripts/update-constraints.sh
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${GANLIB_VENV:-.venv}
{
  echo "# The versions the test suite passed with (scripts/env.sh installs them with pip's -c; users get the"
  echo "# ranges in pyproject.toml). Rewritten by scripts/update-constraints.sh; the weekly workflow"
  echo "# .github/workflows/newest.yml runs the suite without this file, on the newest releases."
  echo "# Python $("$venv/bin/python" -c 'import platform; print(platform.python_version())')"
  "$venv/bin/python" -m pip freeze --exclude-editable 2>/dev/null | grep '==' \
    | grep -v -i -E '^(ganlib|torch|torchvision|triton|sympy|mpmath|networkx|nvidia-[a-z0-9-]+|cuda-[a-z-]+)==' \
    | LC_ALL=C sort -f
} > constraints.txt
echo "[constraints] wrote $(grep -c '==' constraints.txt) pins to constraints.txt"
