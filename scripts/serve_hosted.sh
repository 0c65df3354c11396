#!/bin/sh
# Serve the dashboard as a hosted demo: read-only store, no Extract page, no model loaded (EXPERTS_HOSTED=1).
# One start command for every recipe: `make serve-hosted`, the Dockerfile's CMD (a Hugging Face Space), and the CI
# check of a browse-only install (scripts/check_hosted_install.sh runs exactly this file).
#   HOST           address to bind: 127.0.0.1 unless asked (the Dockerfile sets 0.0.0.0 inside its container)
#   PORT           port (default 8501; a Space serves 7860)
#   BASE_URL_PATH  path prefix behind a reverse proxy, e.g. `demo` for https://example.org/demo/ (default: none)
#   XSRF           server.enableXsrfProtection (default true; it only guards file uploads, which the dashboard has none of)
#   EXPERTS_STORE  the store to serve (default: cache/experts.duckdb if present, else the demo store cache/demo.duckdb)
# Needs `streamlit` on PATH (a venv from requirements-dashboard.txt is enough) and runs from the repository root.
set -eu
cd "$(dirname "$0")/.."
export EXPERTS_HOSTED=1
exec streamlit run app.py \
  --server.address="${HOST:-127.0.0.1}" \
  --server.port="${PORT:-8501}" \
  --server.baseUrlPath="${BASE_URL_PATH:-}" \
  --server.enableXsrfProtection="${XSRF:-true}" \
  --server.headless=true \
  --browser.gatherUsageStats=false
