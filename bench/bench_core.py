"""Benchmarks of the core engine, measured in one run on this machine (prints, never asserts).

1. AP of every unit for one concept, on random scores of the run's shape
   (``--units`` x (``--n-pos`` + ``--n-neg``)), by each implementation, as a
   ratio to the numba path (the CPU default):
   - the reference code's way, ``sklearn.metrics.average_precision_score`` per
     unit, timed on ``--sklearn-units`` units and scaled linearly to all units
     (it is a loop of identical calls);
   - numba (``core.experts.ap.ap_numba``, on the CPU whatever ``--device``);
   - torch on ``--device`` (``ap_torch``: sort both sets, searchsorted);
   - torch against a shared negative pool (``NegativePool``: the pool, with
     ``--left-out`` extra sentences the concept leaves out, sorted once per fold
     and timed apart; per concept only the positives are sorted).
   ``--units 1658880 --skip-model --device cuda`` is the Pythia-12b-sized mode.
2. Extraction throughput on ``--device`` in ``--dtype``: a bare forward pass of
   the base model, the hooked forward pass (max-pooling each run of
   equal-length rows over a slice), the same pooling through a masked copy of
   every hidden state (the way before; isolates the pooling cost), and the end-to-end
   extraction (``core.extraction.extract.run_task``: hooked passes over one task's
   positives and its shared negative pool, AP of every unit, parts written),
   each over the same corpus sentences, as a ratio to the bare pass (target
   >= 0.9 for the end-to-end one).
   Both parts time their variants interleaved (A B C A B C …, ``--rounds``
   rounds, ``bench/rounds.py``) and print the median of each round's ratio
   with its range and the load average seen, so a ratio does not depend on
   when other work started. The task has ``--e2e-concepts``
   concepts of ``--e2e-pos`` positives and a pool of ``--e2e-neg`` negatives
   (the paper's 400:1000 ratio, scaled down to fit a CPU).

Usage: ``python bench/bench_core.py [--device cpu|cuda] [--dtype fp32|bf16] [--skip-model] [--units N] [--threads 1]``
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import resource
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

CORPUS = os.path.join(
    os.path.dirname(__file__), "..", "..", "shared", "data", "corpus", "enwiki2015_sample", "sentences.jsonl.gz"
)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def device_line(device: str) -> str:
    import torch

    if device.startswith("cuda"):
        name = torch.cuda.get_device_name(torch.device(device))
    else:
        name = f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} threads"
    return f"device {device} ({name}); torch {torch.__version__}; CPU cores {os.cpu_count()}"


def timed(fn, device: str, repeats: int = 1):
    """Best wall time of ``fn()`` over ``repeats`` (synchronising an accelerator), and its last result (set-up steps)."""
    import torch

    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    best, out = float("inf"), None
    for _ in range(repeats):
        sync()
        t = time.perf_counter()
        out = fn()
        sync()
        best = min(best, time.perf_counter() - t)
    return best, out


def bench_ap(a) -> None:
    import torch

    from core.experts.ap import NegativePool, ap_numba, ap_torch

    rng = np.random.default_rng(0)
    n_units = a.units
    pos = rng.normal(0.1, 1, (a.n_pos, n_units)).astype(np.float32)
    pool_np = rng.normal(0, 1, (a.n_neg + a.left_out, n_units)).astype(np.float32)
    members = np.sort(rng.permutation(a.n_neg + a.left_out)[: a.n_neg])
    neg = pool_np[members]
    print(f"AP of one concept, {n_units:,} units x ({a.n_pos} pos + {a.n_neg} neg), random scores:")
    from bench.rounds import interleaved

    ap_numba(pos[:, :2048], neg[:, :2048])  # compile once
    ref = ap_numba(pos, neg)
    dev = a.device
    pos_t = torch.from_numpy(pos).to(dev)
    neg_t = torch.from_numpy(neg).to(dev)
    ap_torch(pos_t[:, :2048], neg_t[:, :2048])  # warm up
    err_torch = float(np.abs(ap_torch(pos_t, neg_t).cpu().numpy() - ref).max())
    pool = NegativePool(torch.from_numpy(pool_np).to(dev), backend="torch")
    t_sort, _ = timed(lambda: pool.sorted, dev)
    err_pool = float(np.abs(pool.average_precision(pos_t, members).cpu().numpy() - ref).max())
    variants = {
        "numba (CPU)": lambda: ap_numba(pos, neg),
        f"torch ({dev}, sort both sets)": lambda: ap_torch(pos_t, neg_t),
        f"torch ({dev}, sorted shared pool)": lambda: pool.average_precision(pos_t, members),
    }
    scale = {}
    if a.sklearn_units:
        from sklearn.metrics import average_precision_score

        k = min(a.sklearn_units, n_units)
        y = np.r_[np.ones(a.n_pos), np.zeros(a.n_neg)]
        sk = np.array([average_precision_score(y, np.r_[pos[:, u], neg[:, u]]) for u in range(k)])
        err_sk = float(np.abs(ref[:k] - sk).max())
        name = f"sklearn loop (CPU, {k} units timed, scaled)"
        variants[name] = lambda: [average_precision_score(y, np.r_[pos[:, u], neg[:, u]]) for u in range(k)]
        scale[name] = n_units / k
    sync = torch.cuda.synchronize if dev.startswith("cuda") else (lambda: None)
    rounds = interleaved(variants, a.rounds, sync)
    for name, factor in scale.items():  # a loop of identical calls: linear in units
        rounds.times[name] = [t * factor for t in rounds.times[name]]
    base = "numba (CPU)"
    for name in sorted(variants, key=lambda n: -rounds.median(n)):
        print(f"  {name:46s} {rounds.median(name):9.3f} s  {rounds.ratio_text(base, name)}x numba")
    print(
        f"  pool sort, once per fold ({a.n_neg + a.left_out} sentences): {t_sort:.3f} s;"
        f" max |AP diff| vs numba: torch {err_torch:.1e}, pool {err_pool:.1e}"
        + (f", sklearn {err_sk:.1e}" if a.sklearn_units else "")
    )
    print(f"  median time and median ratio per round (range); {rounds.load_text()}")


def corpus_texts(n: int, skip: int = 0) -> list[str]:
    with gzip.open(CORPUS, "rt") as f:
        lines = [json.loads(line)["text"] for _, line in zip(range(skip + n), f)]
    return lines[skip:]


def bench_extraction(a) -> None:
    import torch

    from core.config import DatasetConfig, ExtractConfig, ModelSpec, RunConfig
    from core.extraction.extract import NegativePools, Task, pooling_pass, run_task
    from core.model.activations import encode, length_batches
    from core.model.loading import load_model
    from core.model.units import hook_groups, n_units

    spec = ModelSpec(a.model, dtype=a.dtype, device=a.device)
    model = load_model(spec)
    groups = hook_groups(model.base, model.config)
    k, n_pos, n_neg = a.e2e_concepts, a.e2e_pos, a.e2e_neg
    texts = corpus_texts(k * n_pos + n_neg)
    positives = tuple(tuple(texts[i * n_pos : (i + 1) * n_pos]) for i in range(k))
    pool_texts = tuple(texts[k * n_pos :])
    task = Task("bench", 0, tuple(f"c{i}" for i in range(k)), positives, (tuple(range(n_neg)),) * k, pool_texts, True)
    cfg = RunConfig(spec, DatasetConfig(task.concepts, n_pos, n_neg), ExtractConfig(batch_tokens=a.batch_tokens))
    all_texts = [t for p in positives for t in p] + list(pool_texts)
    x = cfg.extract
    encoded = encode(model.tokenizer, all_texts, x.max_length)
    lengths = [len(e) for e in encoded]
    batches = []
    for idx in length_batches(lengths, x.batch_tokens):
        width = max(lengths[i] for i in idx)
        ids = torch.full((len(idx), width), model.tokenizer.pad_token_id)
        mask = torch.zeros((len(idx), width), dtype=torch.long)
        for r, i in enumerate(idx):
            ids[r, : lengths[i]] = torch.tensor(encoded[i])
            mask[r, : lengths[i]] = 1
        batches.append((ids.to(model.device), mask.to(model.device)))
    n_tokens = sum(lengths)
    parts = tempfile.mkdtemp(prefix="bench_core_parts_")

    def padded(sets: list[list[int]], max_padding: float = 0.1) -> tuple[int, int]:
        """Batches and tokens with padding when each set of lengths is batched on its own."""
        cut = [(ls, b) for ls in sets for b in length_batches(ls, x.batch_tokens, max_padding=max_padding)]
        return len(cut), sum(max(ls[i] for i in b) * len(b) for ls, b in cut)

    # what run_task batches: each concept's positives, and the pool, apart
    task_sets = [lengths[i * n_pos : (i + 1) * n_pos] for i in range(k)] + [lengths[k * n_pos :]]

    def bare() -> None:
        with torch.inference_mode():
            for ids, mask in batches:
                model.base(input_ids=ids, attention_mask=mask, use_cache=False)

    def hooked() -> None:
        with pooling_pass(model, groups, x) as acts:
            acts(all_texts)

    def hooked_masked() -> None:  # pooling by a masked copy of each hidden state, as before length runs
        import core.model.activations as activations

        runs, activations.length_runs = activations.length_runs, lambda *args: None
        try:
            hooked()
        finally:
            activations.length_runs = runs

    def end_to_end() -> None:  # a fresh parts folder each time: run_task skips parts that exist
        list(run_task(task, model, groups, cfg, tempfile.mkdtemp(dir=parts), None, None, NegativePools()))

    bare()  # warm up
    end_to_end()  # warm up (compiles the numba kernel)
    from bench.rounds import interleaved

    runs = {"bare": bare, "hooked": hooked, "hooked, masked pool": hooked_masked, "end-to-end": end_to_end}
    sync = torch.cuda.synchronize if a.device.startswith("cuda") else (lambda: None)
    rounds = interleaved(runs, a.rounds, sync)  # A B C D A B C D …: each round's variants share its load
    print(
        f"Extraction, {a.model} in {spec.dtype} ({n_units(groups):,} units): one task of {k} concepts x "
        f"{n_pos} positives + a shared pool of {n_neg} negatives = {len(all_texts)} corpus sentences, "
        f"{n_tokens:,} tokens, {len(batches)} length-bucketed batches:"
    )
    for name, sets in (("bare and hooked", [lengths]), ("end-to-end", task_sets)):
        (nb, tokens), (nb_budget, tokens_budget) = padded(sets), padded(sets, max_padding=float("inf"))
        print(
            f"  {name} pass {tokens:,} tokens with padding in {nb} batches "
            f"(cut by the token budget alone: {tokens_budget:,} in {nb_budget})"
        )
    for name in runs:
        t = rounds.median(name)
        print(
            f"  {name:19s} {len(all_texts) / t:8.1f} sentences/s {n_tokens / t:9.0f} tokens/s"
            f"  ratio to bare {rounds.ratio_text('bare', name)}" + ("  (target >= 0.9)" if name == "end-to-end" else "")
        )
    print(f"  median throughput, and the median of each round's ratio (range); {rounds.load_text()}")
    if a.device == "cpu":  # CPU seconds of this process: what other processes' load does not add
        ratios = ", ".join(f"{name} {rounds.ratio_text('bare', name, cpu=True)}" for name in runs if name != "bare")
        print(f"  ratio to bare by this process's CPU time: {ratios}")
    print(f"  peak RSS of this process: {peak_rss_mb():.0f} MB")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="cpu", help="cpu or cuda (torch AP and the extraction run there)")
    p.add_argument("--dtype", default="fp32", help="forward-pass dtype of the extraction: fp32, bf16, fp16")
    p.add_argument("--units", type=int, default=109_440, help="SmolLM2-135M has 109,440 units, Pythia-12b 1,658,880")
    p.add_argument("--n-pos", type=int, default=400)
    p.add_argument("--n-neg", type=int, default=1000)
    p.add_argument("--left-out", type=int, default=50, help="pool sentences the concept leaves out (contain it)")
    p.add_argument("--sklearn-units", type=int, default=1000, help="0 skips the sklearn loop")
    p.add_argument("--rounds", type=int, default=5, help="rounds of interleaved variants (A B C A B C …)")
    p.add_argument("--model", default="smollm2")
    p.add_argument("--e2e-concepts", type=int, default=2)
    p.add_argument("--e2e-pos", type=int, default=100)
    p.add_argument("--e2e-neg", type=int, default=250)
    p.add_argument("--batch-tokens", type=int, default=4096)
    p.add_argument("--skip-model", action="store_true", help="AP only")
    p.add_argument("--skip-ap", action="store_true", help="extraction only")
    p.add_argument(
        "--threads",
        type=int,
        help="CPU threads of torch and numba (default: theirs). 1 keeps a ratio steady under other load: with every "
        "core's thread in each parallel step, a step waits for whichever thread another process holds up",
    )
    a = p.parse_args()
    if a.threads:
        import numba
        import torch

        torch.set_num_threads(a.threads)
        numba.set_num_threads(min(a.threads, numba.config.NUMBA_NUM_THREADS))
    print(device_line(a.device))
    if not a.skip_ap:
        bench_ap(a)
    if not a.skip_model:
        bench_extraction(a)


if __name__ == "__main__":
    main()
