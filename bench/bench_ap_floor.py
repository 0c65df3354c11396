"""What ``--ap-floor 0`` (every AP stored, for the raw-AP measures) costs in store size, measured on a tiny run.

Extracts the same tiny random model and sentences twice, with the default floor (0.5) and with 0, each into its
own store and parts folder, and prints per run: AP rows, the parts' bytes, the store file's bytes after a
checkpoint, and the ratios. With ``--store`` it also projects the row count of every run there if it were
extracted with floor 0 (results × units), at the bytes per row measured here.

    .venv/bin/python bench/bench_ap_floor.py [--store cache/experts.duckdb]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from core.config import DatasetConfig, ExtractConfig, ModelSpec, RunConfig  # noqa: E402
from core.extraction.extract import extract  # noqa: E402
from core.storage.store import Store  # noqa: E402

CONCEPTS = ("cat", "dog", "bus", "piano")
FILLER = "the a man woman child river road city house tree sky water sun moon night day big red green blue".split()


def fill(store: Store, n: int = 14, seed: int = 0) -> None:
    rng = random.Random(seed)
    for c in CONCEPTS:
        texts = set()
        while len(texts) < n:
            words = rng.sample(FILLER, 6)
            words.insert(rng.randrange(7), c)
            texts.add(" ".join(words) + " .")
        store.add_sentences(c, sorted(texts), source="bench")


def folder_bytes(path: str) -> int:
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(path) for f in files)


def measure(root: str, model_dir: str, floor: float) -> dict:
    path = os.path.join(root, f"floor{floor:g}.duckdb")
    parts = os.path.join(root, f"parts{floor:g}")
    store = Store(path, parts_dir=parts)
    fill(store)
    empty = (store.checkpoint(), os.path.getsize(path))[1]
    cfg = RunConfig(
        ModelSpec(model_dir), DatasetConfig(CONCEPTS, n_pos=6, n_neg=12, folds=2), ExtractConfig(ap_floor=floor)
    )
    run_id = extract(store, cfg, show_progress=False).run_id
    store.checkpoint()
    results = store.results(run_id)
    return {
        "floor": floor,
        "ap_rows": int(results["n_stored"].sum()),
        "results": len(results),
        "n_units": int(results["n_units"].max()),
        "parts_bytes": folder_bytes(parts),
        "store_bytes_added": os.path.getsize(path) - empty,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", help="project the floor-0 row counts of this store's runs")
    args = ap.parse_args()
    from tests.tiny import save_tiny_model

    with tempfile.TemporaryDirectory() as root:
        model_dir = save_tiny_model(os.path.join(root, "model"), "llama")
        rows = [measure(root, model_dir, f) for f in (0.5, 0.0)]
    for r in rows:
        print(
            f"floor {r['floor']:g}: {r['ap_rows']} AP rows over {r['results']} results × {r['n_units']} units, "
            f"parts {r['parts_bytes']:,} B, store +{r['store_bytes_added']:,} B"
        )
    base, full = rows
    per_row = (full["parts_bytes"] - base["parts_bytes"]) / max(1, full["ap_rows"] - base["ap_rows"])
    print(
        f"floor 0 / floor 0.5: AP rows × {full['ap_rows'] / max(1, base['ap_rows']):.2f}, parts × "
        f"{full['parts_bytes'] / max(1, base['parts_bytes']):.2f}, store growth × "
        f"{full['store_bytes_added'] / max(1, base['store_bytes_added']):.2f}; {per_row:.1f} part bytes per added row"
    )
    if args.store:
        store = Store(args.store, read_only=True)
        for run in store.runs():
            res = store.results(run.run_id)
            if res.empty:
                continue
            stored, every = int(res["n_stored"].sum()), int((res["n_units"]).sum())
            print(
                f"run {run.run_id} ({run.model}): {stored:,} AP rows stored, {every:,} with floor 0 "
                f"(× {every / max(1, stored):.1f}; about {(every - stored) * per_row / 2**20:,.0f} MiB more parts)"
            )


if __name__ == "__main__":
    main()
