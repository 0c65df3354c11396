#!/usr/bin/env bash
# Checks the README's promise on a fresh clone with a fresh virtual environment:
#   `make run` serves the app on its port with the embedded demo store, `pip install -e .` gives the
#   `expert-neurons` command, and `make test` passes.
# Usage: scripts/check_fresh_clone.sh [--serve-only] [--here]
#   --serve-only  skip `make test` (CI runs it already)
#   --here        use this checkout instead of cloning (CI's checkout is itself a fresh clone)
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
SERVE_ONLY=0; HERE=0
for a in "$@"; do case "$a" in --serve-only) SERVE_ONLY=1;; --here) HERE=1;; *) echo "unknown option $a"; exit 2;; esac; done
if [ "$HERE" = 1 ]; then
  DIR=$SRC
else
  DIR=$(dirname "$SRC")/fresh-clone-check   # beside the checkout, so ../shared resolves as in CI
  rm -rf "$DIR"
  git clone -q "$SRC" "$DIR"
fi
cd "$DIR"
PORT=${PORT:-8765}
LOG=$(mktemp)
start=$(date +%s)
make run PORT="$PORT" >"$LOG" 2>&1 &
RUN_PID=$!
trap 'pkill -P $RUN_PID 2>/dev/null || true; kill $RUN_PID 2>/dev/null || true' EXIT
for _ in $(seq 1 900); do
  if curl -sf "http://127.0.0.1:$PORT/_stcore/health" >/dev/null 2>&1; then break; fi
  if ! kill -0 $RUN_PID 2>/dev/null; then echo "make run exited:"; tail -20 "$LOG"; exit 1; fi
  sleep 1
done
curl -sf "http://127.0.0.1:$PORT/_stcore/health" >/dev/null || { echo "app not serving on $PORT"; tail -20 "$LOG"; exit 1; }
echo "make run: serving on port $PORT after $(( $(date +%s) - start )) s"
store=$(.venv/bin/python -c "import os; from ui.settings import resolve_settings; print(resolve_settings(os.environ).store)")
case "$store" in
  */cache/demo.duckdb) [ -f "$store" ] && echo "store: embedded demo store $store" || { echo "demo store missing: $store"; exit 1; } ;;
  *) echo "expected the demo store, got $store"; exit 1 ;;
esac
.venv/bin/python - "$store" <<'PY'
import sys
from core.storage.store import Store
runs = Store(sys.argv[1], read_only=True).runs()
assert runs and sum(r.n_results for r in runs) > 0, "demo store has no results"
print(f"demo store: {len(runs)} runs, {sum(r.n_results for r in runs)} results")
PY
kill $RUN_PID; pkill -P $RUN_PID 2>/dev/null || true
.venv/bin/python -m pip install -q -e .   # the library as a package: `core` plus the console command
.venv/bin/expert-neurons --help >/dev/null && .venv/bin/python -m core --help >/dev/null
echo "pip install -e .: expert-neurons --help and python -m core --help run"
if [ "$SERVE_ONLY" = 0 ]; then
  make test
  echo "make test: passed"
fi
