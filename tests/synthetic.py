"""A synthetic store with known structure, built through the real store API.

Concepts fall into planted domains: every concept of a domain has AP > 0.9 on a
block of units shared with its domain, AP in (0.6, 0.8) on units of its own,
and scattered APs in [0.5, 0.6) elsewhere. Word and sentence vectors point in
the domain's direction plus noise. Several revisions of one model can be made,
and several folds (the same experts up to a little noise).
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from core.config import DatasetConfig, ModelSpec, RunConfig
from core.storage.manifests import write_manifest
from core.storage.parts import write_part
from core.storage.store import Store

DOMAINS = {
    "animal": ["cat", "dog", "horse", "cheetah"],
    "vehicle": ["car", "bus", "bike", "truck"],
}


def unit_frame(n_layers: int = 4, per_layer: int = 250) -> pd.DataFrame:
    kinds = ["attn_q", "attn_out", "mlp_neuron", "mlp_out"]
    rows = []
    unit = 0
    for layer in range(n_layers):
        for kind in kinds:
            size = per_layer // len(kinds)
            for i in range(size):
                rows.append((unit, layer, f"layers.{layer}.{kind}", kind, i, -1, ""))
                unit += 1
    return pd.DataFrame(rows, columns=["unit", "layer", "module", "kind", "index", "head", "role"]).astype(
        {"unit": "int32", "layer": "int16", "index": "int32", "head": "int16"}
    )


def make_store(
    path: str,
    domains: dict[str, list[str]] = DOMAINS,
    revisions=(None,),
    folds: int = 2,
    model: str = "synthetic/toy-10m",
    seed: int = 0,
    sentences: bool = True,
    run_prefix: str = "synthetic",
    n_pos: int = 6,
    n_neg: int = 20,
    n_params: int = 10_000_000,
) -> tuple[Store, list[str]]:
    """Build a store at ``path`` (or add to it); return it and the run ids (one per revision)."""
    rng = np.random.default_rng(seed)
    store = Store(path)
    units = unit_frame()
    n_units = len(units)
    dim = 16
    concepts = [c for cs in domains.values() for c in cs]
    if sentences:
        for c in concepts:
            store.add_sentences(c, [f"The {c} number {i} was seen here today." for i in range(6)], source="synthetic")
    domain_dirs = {d: rng.normal(size=dim) for d in domains}
    run_ids = []
    for r, revision in enumerate(revisions):
        run_id = f"{run_prefix}{r:02d}"
        step = int(revision[4:]) if revision and revision.startswith("step") else None
        dataset = DatasetConfig(tuple(concepts), n_pos=n_pos, n_neg=n_neg, folds=folds)
        config = RunConfig(ModelSpec(model, revision), dataset)
        row = {
            "run_id": run_id,
            "model": model,
            "revision": revision,
            "step": step,
            "family": "toy",
            "n_params": n_params,
            "n_units": n_units,
            "n_layers": 4,
            "unit_table": "synthetic-units",
            "dataset_hash": "synthetic",
            "config": config.to_json(),
            "versions": "{}",
        }
        store.add_run(row, units)
        write_manifest(store.parts_dir, row, units)  # as extraction does: parts alone rebuild the store
        strength = (r + 1) / len(revisions)  # later revisions have cleaner domain structure
        for d_i, (domain, cs) in enumerate(domains.items()):
            shared = np.arange(d_i * 100, d_i * 100 + 60)
            for c_i, c in enumerate(cs):
                own = 400 + 50 * (d_i * len(cs) + c_i) + np.arange(20)
                noise = rng.choice(np.arange(800, n_units), size=30, replace=False)
                for fold in range(folds):
                    ap = np.concatenate(
                        [
                            rng.uniform(0.9, 1.0, len(shared))
                            if strength >= 0.5
                            else rng.uniform(0.5, 0.7, len(shared)),
                            rng.uniform(0.6, 0.8, len(own)),
                            rng.uniform(0.5, 0.6, len(noise)),
                        ]
                    )
                    unit_ids = np.concatenate([shared, own, noise])
                    order = np.argsort(unit_ids)
                    vec = {}
                    if fold == 0:
                        vec = {
                            k: (domain_dirs[domain] * strength + rng.normal(size=dim)).round(5).tolist()
                            for k in ("word", "sentence")
                        }
                    meta = {
                        "run_id": run_id,
                        "concept": c,
                        "fold": fold,
                        "n_pos": n_pos,
                        "n_neg": n_neg,
                        "n_units": n_units,
                        "n_stored": len(unit_ids),
                        "ap_floor": 0.5,
                        "max_ap": float(ap.max()),
                        "mean_ap": 0.3,
                        "vectors": vec,
                    }
                    part = write_part(
                        os.path.join(store.parts_dir, run_id, f"{c}__f{fold}.parquet"), meta, unit_ids[order], ap[order]
                    )
                    store.ingest(part)
        run_ids.append(run_id)
    return store, run_ids


def write_benchmark(path: str, domains: dict[str, list[str]] = DOMAINS, missing: str | None = "zebra") -> str:
    """A MEN-style benchmark over the synthetic concepts: same-domain pairs score high."""
    where = {c: d for d, cs in domains.items() for c in cs}
    concepts = list(where)
    lines = []
    for i, a in enumerate(concepts):
        for b in concepts[i + 1 :]:
            score = 40 + (i % 7) if where[a] == where[b] else 5 + (i % 5)
            lines.append(f"{a}-n {b}-n {score}.000000")
    if missing:
        lines.append(f"{concepts[0]}-n {missing}-n 30.000000")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path
