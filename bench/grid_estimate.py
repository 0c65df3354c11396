"""Compute estimate of the paper's grid (Pythia sizes × checkpoints on the MEN-test words), printed with its inputs.

Inputs, and where each comes from:
- sentences per run: the stored MEN-test run's parts (``results/parts/<run>``: each part's ``n_pos``, plus its
  shared negative pool ``n_neg`` once per fold) — what this repository's own MEN-test extraction encoded;
- tokens per sentence: measured here with SmolLM2's tokenizer (a 49k GPT-2-style BPE, as Pythia's 50k one) on a
  sample of the shared corpus those sentences were mined from, truncated at ``--max-length`` as extraction does;
- parameters: the published sizes of the Pythia models (``PYTHIA``; model cards, Biderman et al. 2023);
- checkpoints: Pythia's 154 (step0, 10 log-spaced steps 1…512, then every 1000 steps to 143000).
A forward pass costs 2 × parameters FLOPs per token (Kaplan et al. 2020); the GPU time divides that by an assumed
sustained throughput ``--tflops`` (default 300 TFLOP/s: about 30% of an H100's dense bf16 peak), which is the one
number not measured here. Downloads are the checkpoints' fp16 weights (2 bytes per parameter).

Usage: ``python bench/grid_estimate.py [--run bbc0a28e6b81c726] [--tflops 300] [--sample 5000]``
"""

from __future__ import annotations

import argparse
import glob
import gzip
import itertools
import json
import os
import random
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
CORPUS = os.path.join(ROOT, "..", "shared", "data", "corpus", "enwiki2015_sample", "sentences.jsonl.gz")
PYTHIA = {  # parameters, from the Pythia model cards
    "70m": 70_426_624,
    "160m": 162_322_944,
    "410m": 405_334_016,
    "1b": 1_011_781_632,
    "1.4b": 1_414_647_808,
    "2.8b": 2_775_208_960,
    "6.9b": 6_857_302_016,
    "12b": 11_846_072_320,
}
CHECKPOINTS = 1 + 10 + 143  # step0, step1…step512 (powers of two), step1000…step143000


def sentences_per_run(run_dir: str) -> tuple[int, int]:
    """(sentences encoded, concepts) of a stored run: every part's positives + each fold's shared negatives once."""
    import pyarrow.parquet as pq

    metas = [
        json.loads(pq.read_schema(f).metadata[b"expert_part"]) for f in glob.glob(os.path.join(run_dir, "*.parquet"))
    ]
    if not metas:
        raise SystemExit(f"no parts in {run_dir}")
    negatives = {m["fold"]: m["n_neg"] for m in metas}
    return sum(m["n_pos"] for m in metas) + sum(negatives.values()), len({m["concept"] for m in metas})


def tokens_per_sentence(sample: int, max_length: int) -> float:
    from transformers import AutoTokenizer

    from core.model.loading import SMOLLM2_GGUF, smollm2_dir

    tok = AutoTokenizer.from_pretrained(smollm2_dir(), gguf_file=SMOLLM2_GGUF)
    with gzip.open(CORPUS, "rt") as f:
        lines = list(itertools.islice(f, 200_000))
    texts = [json.loads(line)["text"] for line in random.Random(0).sample(lines, min(sample, len(lines)))]
    lengths = [min(len(ids), max_length) for ids in tok(texts, add_special_tokens=False)["input_ids"]]
    return sum(lengths) / len(lengths)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", default="bbc0a28e6b81c726", help="stored MEN-test run under results/parts/")
    parser.add_argument("--tflops", type=float, default=300.0, help="assumed sustained TFLOP/s of one GPU")
    parser.add_argument("--sample", type=int, default=5000, help="corpus sentences tokenized for the mean length")
    parser.add_argument("--max-length", type=int, default=128)
    args = parser.parse_args()

    n_sent, n_concepts = sentences_per_run(os.path.join(ROOT, "results", "parts", args.run))
    tps = tokens_per_sentence(args.sample, args.max_length)
    tokens = n_sent * tps
    print(
        f"per run: {n_sent:,} sentences ({n_concepts} MEN-test words) x {tps:.1f} tokens = {tokens / 1e6:.2f} M tokens"
    )
    print(f"GPU throughput assumed: {args.tflops:g} TFLOP/s sustained; forward = 2 x params FLOPs per token")
    print(f"{'model':>6} {'GPU-min/run':>12} {'GPU-h, 154 ckpts':>17} {'download, 154 ckpts':>20}")
    grids = {"paper (70m, 1b, 12b)": ("70m", "1b", "12b"), "all 8 sizes": tuple(PYTHIA)}
    for size, params in PYTHIA.items():
        seconds = 2 * params * tokens / (args.tflops * 1e12)
        print(
            f"{size:>6} {seconds / 60:12.2f} {seconds * CHECKPOINTS / 3600:17.1f} {2 * params * CHECKPOINTS / 1e12:17.2f} TB"
        )
    for name, sizes in grids.items():
        params = sum(PYTHIA[s] for s in sizes)
        hours = 2 * params * tokens * CHECKPOINTS / (args.tflops * 1e12) / 3600
        print(
            f"{name}: {len(sizes) * CHECKPOINTS} runs, {hours:.0f} GPU-hours, {2 * params * CHECKPOINTS / 1e12:.1f} TB of checkpoints"
        )


if __name__ == "__main__":
    main()
