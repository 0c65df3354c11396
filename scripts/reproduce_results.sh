#!/usr/bin/env bash
# Reproduces results/ and cache/demo.duckdb: SmolLM2-135M-Instruct on sentences mined from the shared English
# Wikipedia sample. Resumable: parts already under results/parts/ are ingested, not recomputed, so this also
# continues the MEN-test run where an earlier session stopped. Hours on 2 CPU cores.
set -euo pipefail
cd "$(dirname "$0")/.."
. .venv/bin/activate
S=${EXPERTS_STORE:-cache/experts.duckdb}
SHARED=${SHARED:-../shared/data}
C=$SHARED/corpus/enwiki2015_sample/sentences.jsonl.gz
MEN=$SHARED/men
python -m core --store "$S" mine "$C" --concepts-file data/domains.txt --limit 1500 --quiet
python -m core --store "$S" mine "$C" --men-split test --men-dir "$MEN" --limit 1500 --quiet
# Fig. 3: the 10 x 4 domain concepts at the paper's sizes (cheetah has 214 sentences, hence --min-pos)
python -m core --store "$S" extract --concepts-file data/domains.txt --n-pos 400 --min-pos 200 --n-neg 1000 --parts results/parts
# Fig. 1: stability across 3 folds, one concept per domain
STAB=cat,red,bus,driver,football,bread,guitar,shirt,chair,rain
python -m core --store "$S" extract --concepts $STAB --n-pos 100 --n-neg 1000 --folds 3 --parts results/parts
# ... and against set sizes: fewer/more positives, fewer negatives (same concepts and folds)
for sizes in "50 1000" "200 1000" "100 250" "100 500"; do
  set -- $sizes
  python -m core --store "$S" extract --concepts $STAB --n-pos "$1" --n-neg "$2" --folds 3 --parts results/parts
done
# Fig. 2 at the last checkpoint: the MEN test words (400 positives, or all down to 50), in pair-coverage order
python -m core --store "$S" extract --men-split test --men-dir "$MEN" --n-pos 400 --min-pos 50 --skip-short \
  --n-neg 1000 --parts results/parts
# Fig. 2 over training: a checkpointed Pythia-architecture family trained here (about 2 CPU-hours for the three
# sizes; resumable, skipped once done), then the same MEN-test words swept over 11 checkpoints of each size with
# smaller sets (100 positives, or all down to 50; 500 negatives) so the sweep fits the CPU budget. Parts are
# committed under results/checkpoints/parts, so with the checkpoints present this ingests instead of recomputing.
CK=${CHECKPOINTS:-cache/checkpoints}
python scripts/train_checkpoints.py --corpus "$C" --out "$CK" --steps 2048 --every 256 --batch-size 32 --lr 2e-3 \
  --warmup 100 --threads 1 --tokenizer results/checkpoints/tokenizer.json --summary "$CK/summary.json" >/dev/null
REVS=step0,step1,step4,step16,step64,step256,step512,step768,step1024,step1536,step2048
for name in wiki-neox-100k wiki-neox-336k wiki-neox-1.2m; do
  python -m core --store "$S" extract --model "$CK/$name" --revisions "$REVS" --men-split test --men-dir "$MEN" \
    --n-pos 100 --min-pos 50 --skip-short --n-neg 500 --parts results/checkpoints/parts
done
python -m core --store "$S" report --out results --men-dir "$MEN"
python -m core --store "$S" build-demo --men-dir "$MEN" --force   # + MEN-test alignment at every slider tau (no ratings)
