#!/usr/bin/env bash
# Write a Hugging Face Space folder (Docker SDK) that serves a demo store in hosted mode: the dashboard's files
# (tracked ones, as in this working tree), the Dockerfile, the store as cache/demo.duckdb, and README.md with the
# Space's front matter (deploy/space/README.md). Push the folder to the Space's git repository (README: "Share a
# demo link"). The store goes through Git LFS (.gitattributes): Hugging Face refuses pushed files over 10 MB otherwise.
# Usage: scripts/make_space.sh OUT_DIR [STORE]   (STORE default: cache/demo.duckdb, e.g. from `python -m core build-demo`)
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
[ $# -ge 1 ] || { echo "usage: scripts/make_space.sh OUT_DIR [STORE]"; exit 2; }
OUT=$1
STORE=${2:-$SRC/cache/demo.duckdb}
[ -f "$STORE" ] || { echo "no store at $STORE: build one with python -m core build-demo"; exit 1; }
if [ -e "$OUT" ] && [ -n "$(ls -A "$OUT")" ]; then echo "$OUT exists and is not empty: pick a new folder"; exit 1; fi
mkdir -p "$OUT/cache"
OUT=$(cd "$OUT" && pwd)
(cd "$SRC" && git ls-files -z -- app.py pages ui core data .streamlit scripts/serve_hosted.sh Dockerfile .dockerignore \
  requirements-dashboard.txt | xargs -0 cp --parents -t "$OUT")
cp "$STORE" "$OUT/cache/demo.duckdb"
cp "$SRC/deploy/space/README.md" "$OUT/README.md"
echo "*.duckdb filter=lfs diff=lfs merge=lfs -text" > "$OUT/.gitattributes"
echo "Space folder $OUT: $(find "$OUT" -type f | wc -l) files, store $(du -m "$OUT/cache/demo.duckdb" | cut -f1) MB"
