"""Benchmarks of the core engine, measured in one run on this machine (prints, never asserts).

1. AP of every unit at once (``core.expertise.average_precision``) vs the
   reference code's way: ``sklearn.metrics.average_precision_score`` per unit.
   The sklearn loop is timed on ``--sklearn-units`` units and scaled linearly
   to all units (it is a loop of identical calls).
2. Extraction throughput (hooked forward passes with pooling) vs a plain
   forward pass of the same base model on the same length-bucketed batches,
   with the peak resident memory of each.

Usage: ``python bench/bench_core.py [--sentences 256] [--units 109440]``
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

CORPUS = os.path.join(
    os.path.dirname(__file__), "..", "..", "shared", "data", "corpus", "enwiki2015_sample", "sentences.jsonl.gz"
)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_ap(n_units: int, n_pos: int, n_neg: int, sklearn_units: int) -> None:
    from sklearn.metrics import average_precision_score

    from core.expertise import average_precision

    rng = np.random.default_rng(0)
    pos = rng.normal(0.1, 1, (n_pos, n_units)).astype(np.float32)
    neg = rng.normal(0, 1, (n_neg, n_units)).astype(np.float32)
    average_precision(pos[:, :2048], neg[:, :2048])  # warm up
    t = time.perf_counter()
    ours = average_precision(pos, neg)
    t_ours = time.perf_counter() - t

    y = np.r_[np.ones(n_pos), np.zeros(n_neg)]
    t = time.perf_counter()
    ref = [average_precision_score(y, np.r_[pos[:, u], neg[:, u]]) for u in range(sklearn_units)]
    t_sk_unit = (time.perf_counter() - t) / sklearn_units
    t_sk = t_sk_unit * n_units
    err = float(np.abs(ours[:sklearn_units] - np.array(ref)).max())
    print(f"AP, {n_units:,} units x ({n_pos} pos + {n_neg} neg):")
    print(f"  vectorised        {t_ours:8.2f} s")
    print(f"  sklearn per unit  {t_sk:8.2f} s  ({t_sk_unit * 1e3:.3f} ms/unit, timed on {sklearn_units} units)")
    print(f"  speed ratio       {t_sk / t_ours:8.1f}x   (target >= 100x)   max |diff| = {err:.1e}")


def bench_extraction(n_sentences: int, batch_tokens: int, repeats: int) -> None:
    import torch

    from core.activations import ActivationRecorder, length_batches
    from core.config import ModelSpec
    from core.models import load_model
    from core.units import n_units, unit_groups

    with gzip.open(CORPUS, "rt") as f:
        texts = [json.loads(line)["text"] for _, line in zip(range(n_sentences), f)]
    model = load_model(ModelSpec("smollm2"))
    tok = model.tokenizer
    encoded = tok(texts, truncation=True, max_length=128)["input_ids"]
    lengths = [len(e) for e in encoded]
    batches = []
    for idx in length_batches(lengths, batch_tokens):
        width = max(lengths[i] for i in idx)
        ids = torch.full((len(idx), width), tok.pad_token_id)
        mask = torch.zeros((len(idx), width), dtype=torch.long)
        for r, i in enumerate(idx):
            ids[r, : lengths[i]] = torch.tensor(encoded[i])
            mask[r, : lengths[i]] = 1
        batches.append((ids, mask))
    n_tokens = sum(lengths)
    groups = unit_groups(model.base, model.config)

    def plain() -> None:
        with torch.inference_mode():
            for ids, mask in batches:
                model.base(input_ids=ids, attention_mask=mask, use_cache=False)

    def hooked() -> None:
        with ActivationRecorder(model.base, groups) as rec:
            for ids, mask in batches:
                rec.run(ids, mask)

    plain()  # warm up
    times = {"plain": [], "hooked": []}
    for _ in range(repeats):  # interleaved, best of each: the machine is noisy
        for name, fn in (("plain", plain), ("hooked", hooked)):
            t = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t)
    best = {k: min(v) for k, v in times.items()}
    print(
        f"Extraction, SmolLM2-135M ({n_units(groups):,} units), {n_sentences} corpus sentences, {n_tokens:,} tokens,"
        f" {len(batches)} length-bucketed batches, {torch.get_num_threads()} threads:"
    )
    for k in ("plain", "hooked"):
        print(f"  {k:7s} forward  {n_sentences / best[k]:7.1f} sentences/s  {n_tokens / best[k]:8.0f} tokens/s")
    print(f"  throughput ratio hooked/plain = {best['plain'] / best['hooked']:.2f}   (target >= 0.8)")
    print(
        f"  peak RSS of this process: {peak_rss_mb():.0f} MB (model + batches; pooled buffer per batch "
        f"<= {max(len(b[0]) for b in batches) * n_units(groups) * 4 / 2**20:.0f} MB)"
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--units", type=int, default=109_440, help="SmolLM2-135M has 109,440 units")
    p.add_argument("--n-pos", type=int, default=400)
    p.add_argument("--n-neg", type=int, default=1000)
    p.add_argument("--sklearn-units", type=int, default=2000)
    p.add_argument("--sentences", type=int, default=192)
    p.add_argument("--batch-tokens", type=int, default=4096)
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--skip-model", action="store_true")
    a = p.parse_args()
    bench_ap(a.units, a.n_pos, a.n_neg, a.sklearn_units)
    if not a.skip_model:
        bench_extraction(a.sentences, a.batch_tokens, a.repeats)


if __name__ == "__main__":
    main()
