"""Timing of the analysis layer at a realistic size (no model, no store needed).

A random ExpertIndex with the concepts of a MEN-sized benchmark (or of the real
MEN test split, if ``--men-dir`` is given) is queried at a new τ, as the
dashboard does when its slider moves:

    python bench/analysis_timing.py [--men-dir /work/shared/data/men] [--units 100000]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import core.analysis.alignment as alignment_module  # noqa: E402
from core.analysis.alignment import method_alignment  # noqa: E402
from core.analysis.domains import domain_analysis  # noqa: E402
from core.analysis.similarity import pair_similarities  # noqa: E402
from core.experts.index import ExpertIndex  # noqa: E402
from core.text.benchmarks import load_men, words_of  # noqa: E402
from core.text.concepts import read_domains  # noqa: E402


def random_index(concepts: list[str], n_units: int, frac: float, dim: int, seed: int = 0) -> ExpertIndex:
    """An index where each concept has AP > 0.5 on ``frac`` of the units (one fold)."""
    rng = np.random.default_rng(seed)
    n_rows = int(frac * n_units)
    ci = np.repeat(np.arange(len(concepts)), n_rows)
    unit = np.concatenate([rng.choice(n_units, n_rows, replace=False) for _ in concepts])
    ap = rng.uniform(0.5, 1.0, ci.size).astype(np.float32) ** 2 * 0.5 + 0.5
    vecs = {k: {c: rng.normal(size=dim).astype(np.float32) for c in concepts} for k in ("word", "sentence")}
    return ExpertIndex(concepts, ci, np.zeros(ci.size), unit, ap, n_units=n_units, vectors=vecs)


def best_of(f, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return min(times) * 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--men-dir")
    ap.add_argument("--units", type=int, default=100_000)
    ap.add_argument("--frac", type=float, default=0.1, help="fraction of units with AP > 0.5 per concept")
    args = ap.parse_args()
    if args.men_dir:
        pairs = load_men("test", args.men_dir)
    else:
        rng = np.random.default_rng(1)
        words = [f"w{i}" for i in range(640)]
        pairs = pd.DataFrame(
            {"word1": rng.choice(words, 1000), "word2": rng.choice(words, 1000), "score": rng.integers(0, 51, 1000)}
        )
    domains = read_domains()
    concepts = sorted(set(words_of(pairs)) | set(domains))
    t = time.perf_counter()
    index = random_index(concepts, args.units, args.frac, 576)
    print(
        f"index: {len(concepts)} concepts x {args.units} units, {index._unit.size} rows, "
        f"built in {time.perf_counter() - t:.2f} s"
    )

    taus = iter(np.linspace(0.5, 0.99, 400))

    def alignment() -> None:
        sims = pair_similarities(index, index.vectors["word"], index.vectors["sentence"], pairs, next(taus))
        method_alignment(sims, n_boot=1000, seed=0)

    def domains_at_new_tau() -> None:
        domain_analysis(index, domains, next(taus))

    t = time.perf_counter()
    sims = pair_similarities(index, index.vectors["word"], index.vectors["sentence"], pairs, 0.5)
    print(
        f"first pair_similarities (builds AP matrix, set sizes, pair overlaps, cosines): "
        f"{(time.perf_counter() - t) * 1000:.0f} ms"
    )
    cold = best_of(lambda: (alignment_module._BOOT_CACHE.clear(), alignment()))
    print(f"alignment, {len(sims)} pairs x 3 methods, new tau, cold bootstrap: {cold:.0f} ms")
    print(f"alignment, {len(sims)} pairs x 3 methods, new tau, warm bootstrap: {best_of(alignment):.0f} ms")
    print(f"domain graph + scores, 40 concepts, new tau: {best_of(domains_at_new_tau):.1f} ms")


if __name__ == "__main__":
    main()
