#!/usr/bin/env bash
# Create the project virtualenv and install the pinned requirements into it.
# Re-run only when requirements*.txt change (the Makefile tracks the stamp file).
set -euo pipefail
venv=$1
repo=$(cd "$(dirname "$0")/../.." && pwd)
python=${PYTHON:-python3.11}
command -v "$python" >/dev/null || python=python3
start=$SECONDS
if [ ! -x "$venv/bin/python" ]; then
  echo "bootstrap: creating virtualenv $venv with $($python --version)"
  "$python" -m venv "$venv"
fi
echo "bootstrap: installing pinned requirements (requirements-dev.txt)"
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet -r "$repo/requirements-dev.txt"
touch "$venv/.installed"
echo "bootstrap: virtualenv ready in $((SECONDS - start))s"
