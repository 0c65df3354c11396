"""Benchmark of the checkpoint-series work, measured in one run on this machine (prints, never asserts).

1. Training throughput (tokens/s) of each size of ``scripts/train_checkpoints.py`` on the shared corpus,
   timed over ``--steps`` steps after one warm-up step (the same batch shape as the real run).
2. Extraction time of one checkpoint: the last checkpoint of each size is extracted on ``--concepts`` MEN-test
   words with the sweep's set sizes (100 positives, 500 shared negatives); the time per concept is then multiplied
   by the number of concepts of the real sweep (613 MEN-test words with at least 50 sentences) to give the time of
   one checkpoint of the sweep — a linear extrapolation from a measured rate, printed as such.

Usage: ``python bench/bench_checkpoints.py [--steps 20] [--concepts 8] [--threads 1]``
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import itertools
import os
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
SHARED = os.path.join(ROOT, "..", "shared", "data")
CORPUS = os.path.join(SHARED, "corpus", "enwiki2015_sample", "sentences.jsonl.gz")
SWEEP_CONCEPTS = 613  # MEN-test words with >= 50 corpus sentences (the sweep's --skip-short leaves 26 of 639 out)


def _train_module():
    spec = importlib.util.spec_from_file_location(
        "train_checkpoints", os.path.join(ROOT, "scripts", "train_checkpoints.py")
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--concepts", type=int, default=8)
    p.add_argument("--sentences", type=int, default=60000, help="corpus sentences to read (tokenizer + mining)")
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    import torch

    from core.cli.parser import main as cli

    torch.set_num_threads(args.threads)
    train = _train_module()
    work = tempfile.mkdtemp(prefix="bench_ckpt_")
    out = os.path.join(work, "ckpt")
    common = ["--corpus", CORPUS, "--out", out, "--limit", str(args.sentences), "--threads", str(args.threads)]
    common += ["--batch-size", "32", "--context", "128", "--warmup", "1"]
    print(f"training throughput ({args.steps} steps of 32 x 128 tokens after 1 warm-up step, {args.threads} thread):")
    for key, size in train.SIZES.items():
        train.main([*common, "--sizes", key, "--steps", "1"])  # the tokenizer, step 0 and the warm-up step
        t = time.perf_counter()
        train.main([*common, "--sizes", key, "--steps", str(1 + args.steps), "--every", str(1 + args.steps)])
        dt = time.perf_counter() - t
        print(f"  {size.name:16s} {args.steps * 32 * 128 / dt:8.0f} tokens/s  ({dt:.1f} s incl. one save)")

    store = os.path.join(work, "s.duckdb")
    men = os.path.join(SHARED, "men")
    subset = os.path.join(work, "corpus.jsonl.gz")  # mine the same first sentences the tokenizer saw
    with gzip.open(CORPUS, "rt") as f, gzip.open(subset, "wt") as g:
        g.writelines(itertools.islice(f, args.sentences))
    cli(["--store", store, "mine", subset, "--men-split", "test", "--men-dir", men, "--limit", "600", "--quiet"])
    print(f"extraction of one checkpoint ({args.concepts} MEN-test words x 100 positives / 500 negatives):")
    for size in train.SIZES.values():
        argv = [
            "--store",
            store,
            "extract",
            "--model",
            os.path.join(out, size.name),
            "--revision",
            f"step{1 + args.steps}",
        ]
        argv += ["--men-split", "test", "--men-dir", men, "--n-pos", "100", "--min-pos", "50", "--skip-short"]
        argv += ["--n-neg", "500", "--limit-concepts", str(args.concepts), "--quiet"]
        t = time.perf_counter()
        cli(argv)
        dt = time.perf_counter() - t
        per = dt / args.concepts
        print(
            f"  {size.name:16s} {per:6.2f} s/concept -> {per * SWEEP_CONCEPTS / 60:6.1f} min per checkpoint of the "
            f"sweep ({SWEEP_CONCEPTS} concepts, linear extrapolation; includes loading the model and the negatives)"
        )


if __name__ == "__main__":
    main()
