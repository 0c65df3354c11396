"""A store shaped like the paper's grid, written through the project's own ingest path, to measure at that scale.

The paper's grid is Pythia 70m, 1b and 12b × their 154 checkpoints × the 613 MEN-test words: 462 runs. This writes
``--runs N`` of them (evenly spread over the three models and their checkpoints; N = 462 is all) into a store:

- **Runs and unit tables** as extraction registers them: the run row of ``EleutherAI/pythia-<size>`` at revision
  ``step<k>`` (a ``RunConfig`` with the MEN-test words, 400/1000 sentences, 1 fold), and the unit table of the real
  architecture, built by ``core.model.units`` from the model's Hub configuration instantiated on PyTorch's meta
  device (no weights): 27,648 / 294,912 / 1,658,880 units.
- **AP rows drawn from a real run**, ``--template`` (default: this repository's SmolLM2 MEN-test run,
  ``results/parts/bbc0a28e6b81c726``, 109,440 units, 224,349 rows above 0.5). Each template unit has a home in the
  target model at the same relative depth; a model with k times the units gives it about k units there (a fixed
  choice per model, the same for every concept), so per-concept counts scale with the unit count (a 12b run stores
  about 3.4M rows), their spread is the template's, and concepts that share units in the real run share them here:
  related concepts overlap, and ρ with MEN comes out near the real run's. Over training a checkpoint keeps a share
  ``0.15 + 0.85 · log(1 + step) / log(1 + 143000)`` of each concept's drawn rows and replaces the rest with units
  drawn uniformly (APs resampled from the concept's own), so early checkpoints align less. step0 is drawn as step1
  (the published step0 and step1 weights are the same, EleutherAI/pythia#83).
- **Embedding vectors** (word, sentence) of the model's hidden size: the template's, projected by a fixed random
  map, with noise that shrinks over training.

Each run is written as one pack (``core.storage.packs.write_pack``) beside its manifest in a parts folder shared by
every scale (``--parts``, default ``cache/grid/parts``), then ingested by ``Store.ingest_pending`` (the path a
grid's parts take), so stores of 10, 100 and 462 runs hold the same runs. Rerunning resumes: packs already written
are reused, runs already stored are skipped. Prints the time to write and to ingest each run, the AP rows per run
and the store's size per run.

Usage: ``python bench/grid_store.py --runs 462 [--out cache/grid/grid_462.duckdb]``
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from bench.grid_estimate import PYTHIA  # noqa: E402  (parameter counts from the model cards)

TEMPLATE = os.path.join(ROOT, "results", "parts", "bbc0a28e6b81c726")
GRID_DIR = os.path.join(ROOT, "cache", "grid")
SIZES = {"70m": (6, 512, 8), "1b": (16, 2048, 8), "12b": (36, 5120, 40)}  # layers, hidden, heads (model cards)
REVISIONS = ["step0"] + [f"step{2**i}" for i in range(10)] + [f"step{k}" for k in range(1000, 143001, 1000)]
LAST_STEP = 143_000


def pythia_config(size: str):
    """The Hub configuration of ``EleutherAI/pythia-<size>`` (its architecture fields, from the model card)."""
    from transformers import GPTNeoXConfig

    layers, hidden, heads = SIZES[size]
    return GPTNeoXConfig(
        vocab_size=50_304,
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        intermediate_size=4 * hidden,
        rotary_pct=0.25,
        max_position_embeddings=2048,
        use_parallel_residual=True,
        tie_word_embeddings=False,
    )


def unit_table_of(size: str):
    """The unit table of the real architecture, built on the meta device (no weights are allocated)."""
    import torch
    from transformers import AutoModel

    from core.model.units import hook_groups, unit_table

    config = pythia_config(size)
    with torch.device("meta"):
        base = AutoModel.from_config(config)
    return unit_table(hook_groups(base, config))


def grid_runs(n: int, sizes: tuple[str, ...] = tuple(SIZES)) -> list[tuple[str, str]]:
    """``n`` (size, revision) runs of the grid, evenly spread over the models and the checkpoints of each (both ends
    kept; one run of a model is its final checkpoint)."""
    if not 1 <= n <= len(sizes) * len(REVISIONS):
        raise ValueError(f"--runs must be 1..{len(sizes) * len(REVISIONS)}")
    out = []
    for i, size in enumerate(sizes):
        k = n // len(sizes) + (1 if i < n % len(sizes) else 0)
        last = len(REVISIONS) - 1
        picks = [last] if k == 1 else sorted({round(j * last / (k - 1)) for j in range(k)})
        out += [(size, REVISIONS[j]) for j in picks]
    return out


class Template:
    """The real run the AP rows are drawn from: per concept its (unit, ap) rows of fold 0 and its vectors."""

    def __init__(self, folder: str):
        from core.storage.manifests import read_manifest
        from core.storage.parts import part_files, read_results

        rid = os.path.basename(folder.rstrip("/"))
        self.rows: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self.vectors: dict[str, dict[str, np.ndarray]] = {}
        self.mean_ap: dict[str, float] = {}  # over all units: the template's (what a real run would show)
        for _, path in part_files(os.path.dirname(folder.rstrip("/")), rid):
            metas, rows = read_results(path)
            for meta in metas:
                if meta["fold"] != 0:
                    continue
                c = meta["concept"]
                mine = rows[(rows["concept"] == c) & (rows["fold"] == 0)]
                self.rows[c] = (mine["unit"].to_numpy(np.int64), mine["ap"].to_numpy(np.float32))
                self.vectors[c] = {k: np.asarray(v, np.float32) for k, v in (meta.get("vectors") or {}).items()}
                self.mean_ap[c] = float(meta["mean_ap"])
        manifest = read_manifest(os.path.dirname(folder.rstrip("/")), rid)
        if manifest is None or not self.rows:
            raise ValueError(f"{folder}: not a stored run with a manifest beside it")
        self.n_units = int(manifest[0]["n_units"])
        self.concepts = tuple(sorted(self.rows))


def maturity(revision: str) -> float:
    step = max(int(revision.removeprefix("step")), 1)  # step0 has the weights of step1
    return math.log1p(step) / math.log1p(LAST_STEP)


def draw_run(t: Template, size: str, revision: str, n_units: int, run_id: str, seed: int = 0) -> list[tuple]:
    """The (meta, units, ap) of every concept of one grid run (see the module docstring)."""
    k = n_units / t.n_units
    width = max(1, math.ceil(k))
    fixed = np.random.default_rng([seed, list(SIZES).index(size)])  # the same for every checkpoint of a model
    home = np.arange(t.n_units, dtype=np.int64) * n_units // t.n_units
    keep = fixed.random((t.n_units, width)) < k / width  # which of a template unit's homes it has in this model
    targets = np.minimum(home[:, None] + np.arange(width)[None, :], n_units - 1)
    hidden = SIZES[size][1]
    projection = fixed.standard_normal((576, hidden)).astype(np.float32) / math.sqrt(576)
    rng = np.random.default_rng([seed, list(SIZES).index(size), REVISIONS.index(revision) or 1])
    share = 0.15 + 0.85 * maturity(revision)
    out = []
    for c in t.concepts:
        units_t, ap_t = t.rows[c]
        chosen = keep[units_t]
        units = targets[units_t][chosen]
        ap = np.repeat(ap_t, width).reshape(-1, width)[chosen]
        signal = rng.random(units.size) < share
        n_noise = int((~signal).sum())
        units = np.concatenate([units[signal], rng.integers(0, n_units, n_noise)])
        ap = np.concatenate([ap[signal], rng.choice(ap_t, n_noise) if n_noise else ap[:0]])
        ap = np.clip(ap + rng.normal(0, 0.01, ap.size).astype(np.float32), 0.5001, 1.0)
        units, first = np.unique(units, return_index=True)
        ap = ap[first].astype(np.float32)
        vectors = {}
        for kind, v in t.vectors[c].items():
            w = v[: projection.shape[0]] @ projection
            noise = rng.standard_normal(hidden).astype(np.float32) * float(np.linalg.norm(w)) / math.sqrt(hidden)
            vectors[kind] = (w + (1 - maturity(revision)) * noise).astype(np.float32).tolist()
        meta = {
            "run_id": run_id,
            "concept": c,
            "fold": 0,
            "n_pos": 400,
            "n_neg": 1000,
            "n_units": n_units,
            "n_stored": int(units.size),
            "ap_floor": 0.5,
            "max_ap": float(ap.max()) if ap.size else 0.5,
            "mean_ap": t.mean_ap[c],
            "vectors": vectors,
        }
        out.append((meta, units.astype(np.int32), ap))
    return out


def run_row(size: str, revision: str, concepts: tuple[str, ...], table) -> dict:
    """The ``runs`` row extraction would register for this checkpoint (``core.extraction.extract._run_row``'s fields)."""
    from core.config import DatasetConfig, ModelSpec, RunConfig, stable_hash
    from core.extraction.extract import model_family
    from core.model.checkpoints import parse_step
    from core.model.units import unit_table_id

    model = f"EleutherAI/pythia-{size}"
    cfg = RunConfig(ModelSpec(model, revision), DatasetConfig(concepts, n_pos=400, n_neg=1000, folds=1))
    return {
        "run_id": stable_hash([cfg.config_id, "grid_store"]),
        "model": model,
        "revision": revision,
        "step": parse_step(revision),
        "family": model_family(model),
        "n_params": PYTHIA[size],
        "n_units": len(table),
        "n_layers": SIZES[size][0],
        "unit_table": unit_table_id(table),
        "dataset_hash": cfg.dataset_hash,
        "config": cfg.to_json(),
        "versions": '{"generator": "bench/grid_store.py"}',
        "weights_hash": None,
    }


def build(n: int, out: str, parts: str, template: str = TEMPLATE, sizes: tuple[str, ...] = tuple(SIZES)) -> dict:
    """Write (or complete) the store ``out`` of ``n`` grid runs (of the models ``sizes``); what was measured."""
    from core.storage.manifests import read_manifest, write_manifest
    from core.storage.packs import write_pack
    from core.storage.parts import pack_path
    from core.storage.store import Store

    t = Template(template)
    store = Store(out, parts_dir=parts)
    have = {r.run_id for r in store.runs() if r.n_results}
    tables: dict = {}
    written, ingested = [], []
    for size, revision in grid_runs(n, sizes):
        if size not in tables:
            tables[size] = unit_table_of(size)
        row = run_row(size, revision, t.concepts, tables[size])
        rid = row["run_id"]
        if rid in have:
            continue
        if not os.path.exists(pack_path(parts, rid)) or read_manifest(parts, rid) is None:
            t0 = time.perf_counter()
            results = draw_run(t, size, revision, len(tables[size]), rid)
            write_manifest(parts, row, tables[size])
            write_pack(parts, rid, results)
            written.append((size, time.perf_counter() - t0))
        t0 = time.perf_counter()
        store.ingest_pending(rid)
        ingested.append((size, time.perf_counter() - t0))
        rows = int(store.results(rid)["n_stored"].sum())
        print(
            f"  pythia-{size:<4} {revision:<10} run {rid}: {rows:>9,} AP rows, ingested in {ingested[-1][1]:5.1f} s",
            flush=True,
        )
    store.checkpoint()
    return {"written": written, "ingested": ingested}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="runs of the grid (462 = all)")
    parser.add_argument("--out", help="the store (default cache/grid/grid_<runs>.duckdb)")
    parser.add_argument("--parts", default=os.path.join(GRID_DIR, "parts"), help="packs shared by every scale")
    parser.add_argument("--template", default=TEMPLATE, help="the real run the AP rows are drawn from")
    parser.add_argument("--sizes", default=",".join(SIZES), help="Pythia sizes of the grid (of 70m,1b,12b)")
    args = parser.parse_args()
    out = args.out or os.path.join(GRID_DIR, f"grid_{args.runs}.duckdb")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    t0 = time.perf_counter()
    done = build(args.runs, out, args.parts, args.template, tuple(args.sizes.split(",")))
    report(out, done, time.perf_counter() - t0)


def report(out: str, done: dict, seconds: float) -> None:
    from core.storage.store import Store

    store = Store(out, read_only=True)
    runs = store.runs()
    size = os.path.getsize(out)
    counts = store.counts()
    print(f"\n{out}: {len(runs)} runs, {counts['ap_rows']:,} AP rows, {size / 2**30:.2f} GiB ({seconds:.0f} s)")
    print(f"  store size per run: {size / max(len(runs), 1) / 2**20:.1f} MiB on average")
    for size_name in SIZES:
        n_rows = [r for r in runs if r.model.endswith(size_name)]
        ing = [s for k, s in done["ingested"] if k == size_name]
        wr = [s for k, s in done["written"] if k == size_name]
        if ing:
            print(
                f"  pythia-{size_name}: {len(n_rows)} runs; drawing + writing a pack "
                + (f"{statistics.median(wr):.1f} s, " if wr else "(packs reused), ")
                + f"ingest median {statistics.median(ing):.1f} s, max {max(ing):.1f} s (target 60 s for a 12b run)"
            )


if __name__ == "__main__":
    main()
