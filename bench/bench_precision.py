"""What a half-precision forward pass costs in fidelity: expert sets found in fp32 vs bf16 (prints, never asserts).

A few concepts are mined from the shared Wikipedia sample, their sets drawn as
an extraction draws them (``core.text.sampling``, shared negatives), and each is
extracted twice by ``core.extraction.extract.run_task`` with every AP kept: once with the
forward pass in float32, once in ``--dtype`` (bf16 by default; pooling and AP
are float32 in both). For each concept and τ it prints the sizes of the two
expert sets and their Jaccard, and the largest AP difference.

CPU bf16 is slow: the defaults are 3 concepts x (40 positives + 120 negatives).
On a GPU: ``--device cuda --n-pos 400 --n-neg 1000 --concepts cat,dog,...``.

Usage: ``python bench/bench_precision.py [--device cpu|cuda] [--dtype bf16|fp16] [--concepts a,b,c]``
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import tempfile
import time

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

CORPUS = os.path.join(
    os.path.dirname(__file__), "..", "..", "shared", "data", "corpus", "enwiki2015_sample", "sentences.jsonl.gz"
)
TAUS = (0.5, 0.7, 0.9)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="smollm2")
    p.add_argument("--device", default="cpu")
    p.add_argument("--dtype", default="bf16")
    p.add_argument("--concepts", default="music,river,war")
    p.add_argument("--n-pos", type=int, default=40)
    p.add_argument("--n-neg", type=int, default=120)
    p.add_argument("--corpus-lines", type=int, default=200_000, help="corpus lines to mine")
    a = p.parse_args()

    import pyarrow.parquet as pq

    from core.config import DatasetConfig, ExtractConfig, ModelSpec, RunConfig
    from core.experts.ap import experts
    from core.extraction.extract import NegativePools, plan_tasks, run_task
    from core.model.loading import load_model
    from core.model.units import hook_groups
    from core.storage.store import sentence_id
    from core.text.sampling import make_plan
    from core.text.sentences import iter_corpus, mine

    concepts = tuple(c.strip() for c in a.concepts.split(",") if c.strip())
    found = mine(itertools.islice(iter_corpus(CORPUS), a.corpus_lines), concepts, limit=4 * a.n_pos)
    rows = [(c, sentence_id(t), t) for c in concepts for t in found[c]]
    sentences = pd.DataFrame(rows, columns=["concept", "sid", "text"]).drop_duplicates(["concept", "sid"])
    dataset = DatasetConfig(concepts, a.n_pos, a.n_neg)
    plan = make_plan(dataset, sentences)
    ap: dict[str, dict[str, np.ndarray]] = {}
    print(
        f"{a.model} on {a.device}: {len(concepts)} concepts x ({a.n_pos} positives + {a.n_neg} shared negatives), "
        "every unit's AP computed with the forward pass in each dtype"
    )
    for dtype in ("fp32", a.dtype):
        cfg = RunConfig(ModelSpec(a.model, dtype=dtype, device=a.device), dataset, ExtractConfig(ap_floor=0.0))
        model = load_model(cfg.model)
        groups = hook_groups(model.base, model.config)
        todo = {(c, 0) for c in concepts}
        parts = tempfile.mkdtemp(prefix=f"bench_precision_{dtype}_")
        t = time.perf_counter()
        ap[dtype] = {}
        pools = NegativePools()
        for task in plan_tasks(cfg, plan, "bench", todo, concepts_per_task=len(concepts)):
            for path in run_task(task, model, groups, cfg, parts, None, None, pools):
                table = pq.read_table(path).to_pandas()
                concept = os.path.basename(path).split("__f")[0]
                values = np.zeros(len(table), dtype=np.float64)
                values[table["unit"].to_numpy()] = table["ap"].to_numpy()
                ap[dtype][concept] = values
        print(f"  {cfg.model.dtype:9s} extraction {time.perf_counter() - t:7.1f} s")
        del model
    print(f"  {'concept':10s} {'tau':>4s} {'fp32':>7s} {a.dtype:>7s} {'Jaccard':>8s}   max |AP diff|")
    for c in concepts:
        x, y = ap["fp32"][c], ap[a.dtype][c]
        for tau in TAUS:
            e1, e2 = set(experts(x, tau).tolist()), set(experts(y, tau).tolist())
            union = len(e1 | e2)
            jac = len(e1 & e2) / union if union else float("nan")
            diff = f"{np.abs(x - y).max():.2e}" if tau == TAUS[0] else ""
            print(f"  {c:10s} {tau:4.1f} {len(e1):7d} {len(e2):7d} {jac:8.3f}   {diff}")


if __name__ == "__main__":
    main()
