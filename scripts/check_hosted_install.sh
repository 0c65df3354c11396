#!/usr/bin/env bash
# The hosted demo from a browse-only install, as a host builds it (CI runs this once, after `make test`):
#   1. a fresh venv, and in it exactly the Dockerfile's `RUN pip install ...` (requirements-dashboard.txt, from the
#      package index; read from the Dockerfile by deploy/recipe.py), its size printed;
#   2. tests/test_hosted_install.py with EXPERTS_HOSTED_VENV set: no torch/transformers/accelerate/gguf/numba in it,
#      every page served by the Dockerfile's CMD and by the Community Cloud entrypoint renders in Chromium.
# No Docker engine is used (none runs where this project is developed): the image itself is never built here.
# Usage: scripts/check_hosted_install.sh [VENV_DIR]   (default: a new temporary folder, removed afterwards)
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x /usr/bin/chromium ] || { echo "no /usr/bin/chromium: apt-get install chromium (make chromium)"; exit 1; }
PY=${PY:-.venv/bin/python}   # the project's venv: pytest and Playwright drive the browser from there
if [ $# -ge 1 ]; then VENV=$1; rm -rf "$VENV"; else TMP=$(mktemp -d); VENV=$TMP/venv; trap 'rm -rf "$TMP"' EXIT; fi
INSTALL=$($PY deploy/recipe.py install)
BASE=$($PY -c "from deploy.recipe import base_image; print(base_image())")
echo "Dockerfile: FROM $BASE; install: $INSTALL; start: $($PY deploy/recipe.py start)"
start=$(date +%s)
python3 -m venv "$VENV"
(export PATH="$VENV/bin:$PATH" VIRTUAL_ENV="$VENV"; unset PYTHONPATH; sh -c "$INSTALL") >"$VENV.install.log" 2>&1 ||
  { tail -30 "$VENV.install.log"; echo "the Dockerfile's install failed"; exit 1; }
echo "browse-only venv ($("$VENV/bin/python" -V)): installed in $(( $(date +%s) - start )) s, $(du -sm "$VENV" | cut -f1) MB on disk"
EXPERTS_HOSTED_VENV=$(cd "$VENV" && pwd) $PY -m pytest -q -p no:cacheprovider -rs tests/test_hosted_install.py
echo "hosted install check: passed"
