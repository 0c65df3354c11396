"""The Ray engine vs the local engine on the same tiny-model grid, measured in one run on this machine (prints only).

1. Wall time of the whole grid (2 revisions of a small GPT-NeoX × ``--concepts`` concepts): the local engine in this
   process, then ``--engine ray`` on a local Ray with 2 workers (actor start and model loads included; Ray's own start
   is timed apart), and the ratio. On a 2-core machine expect about 1-2x: the point is that it scales with workers.
2. Ray's overhead per task: the median round trip of a task to a warm actor and its parts back as bytes
   (the transport ``--engine ray`` adds to each task; computing and ingesting are the same in both engines).

Both runs give the same APs (checked here too). Usage: ``python bench/bench_cluster.py [--concepts 16]``
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")


def make_checkpoints(root: str, hidden: int, layers: int) -> str:
    """Two revision folders (``step1``, ``step2``) of a small random GPT-NeoX with the tests' word-level tokenizer."""
    import torch
    from transformers import AutoModelForCausalLM

    from tests.tiny import save_tokenizer, tiny_config

    for i, rev in enumerate(("step1", "step2")):
        path = os.path.join(root, rev)
        save_tokenizer(path)
        torch.manual_seed(i)
        cfg = tiny_config("gpt_neox", hidden_size=hidden, intermediate_size=4 * hidden, num_hidden_layers=layers)
        AutoModelForCausalLM.from_config(cfg).save_pretrained(path)
    return root


def fill(store, concepts, n: int) -> None:
    from tests.tiny import WORDS

    rng = random.Random(0)
    filler = [w for w in WORDS if w.isalpha() and w not in concepts]
    for c in concepts:
        texts = set()
        while len(texts) < n:
            words = rng.sample(filler, 12)
            words.insert(rng.randrange(13), c)
            texts.add(" ".join(words) + " .")
        store.add_sentences(c, sorted(texts), source="bench")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concepts", type=int, default=16, help="concepts per run (of the tiny vocabulary)")
    parser.add_argument("--n-pos", type=int, default=60)
    parser.add_argument("--n-neg", type=int, default=120)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--calls", type=int, default=200, help="round trips timed for the per-task overhead")
    args = parser.parse_args()

    import numpy as np
    import ray

    from core.config import DatasetConfig, ExtractConfig, ModelSpec, RunConfig
    from core.extraction.cluster import Worker
    from core.extraction.extract import plan_tasks, prepare
    from core.extraction.grid import grid_configs, plan_grid, run_grid
    from core.storage.store import Store
    from tests.tiny import WORDS

    concepts = tuple([w for w in dict.fromkeys(WORDS) if w.isalpha() and len(w) > 2][: args.concepts])
    tmp = tempfile.mkdtemp(prefix="bench_cluster_")
    ckpt = make_checkpoints(os.path.join(tmp, "ckpt"), args.hidden, args.layers)
    base = RunConfig(
        ModelSpec(ckpt), DatasetConfig(concepts, n_pos=args.n_pos, n_neg=args.n_neg, folds=1), ExtractConfig()
    )
    cfgs = grid_configs(base, [(ckpt, "step1"), (ckpt, "step2")])
    stores = {}
    for name in ("local", "ray"):
        stores[name] = Store(os.path.join(tmp, f"{name}.duckdb"))
        fill(stores[name], concepts, args.n_pos + args.n_neg)
    tasks = sum(len(j.tasks) for j in plan_grid(stores["local"], cfgs, 1))
    print(f"grid: 2 revisions x {len(concepts)} concepts (1 fold, {args.n_pos} pos + {args.n_neg} neg sentences each)")
    print(f"      small GPT-NeoX (hidden {args.hidden}, {args.layers} layers), 1 concept per task: {tasks} tasks")

    t = time.perf_counter()
    run_grid(stores["local"], cfgs, "local", concepts_per_task=1, show_progress=False)
    t_local = time.perf_counter() - t

    t = time.perf_counter()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, _node_ip_address="127.0.0.1")
    t_init = time.perf_counter() - t
    t = time.perf_counter()
    run_grid(stores["ray"], cfgs, "ray", concepts_per_task=1, show_progress=False, workers=2)
    t_ray = time.perf_counter() - t

    same = all(
        stores["local"].ap(r, fold=None, above=0).equals(stores["ray"].ap(r, fold=None, above=0))
        for r in [run.run_id for run in stores["local"].runs()]
    )
    print(f"  local engine (this process)      {t_local:7.1f} s")
    print(f"  ray engine, 2 workers            {t_ray:7.1f} s   (+ {t_init:.1f} s to start Ray itself)")
    print(f"  speed ratio local / ray          {t_local / t_ray:7.2f}x   APs identical: {same}")

    # per-task overhead: a task to a warm actor and a typical task's parts back as bytes, with no compute
    store = stores["local"]
    sizes = [os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(store.parts_dir) for f in fs]
    part_bytes = int(np.median(sizes)) if sizes else 0
    plan, rid = prepare(store, cfgs[0])
    task = plan_tasks(cfgs[0], plan, rid, {(c, 0) for c in concepts}, 1)[0]

    class Echo(Worker):
        def echo(self, cfg, task, nbytes: int):
            return [(f"{c}__f{task.fold}.parquet", b"\0" * nbytes) for c in task.concepts]

    actor = ray.remote(Echo).options(num_cpus=1).remote(None)
    ray.get(actor.echo.remote(cfgs[0], task, part_bytes))
    times = []
    for _ in range(args.calls):
        t = time.perf_counter()
        ray.get(actor.echo.remote(cfgs[0], task, part_bytes))
        times.append(time.perf_counter() - t)
    ms = 1e3 * statistics.median(times)
    per_task = t_local / tasks
    print(
        f"  ray overhead per task            {ms:7.2f} ms  (median of {args.calls} round trips, {task.n_sentences} "
        f"sentences out, {part_bytes / 1e3:.0f} kB of parts back; {100 * ms / 1e3 / per_task:.2f}% of a task's "
        f"{per_task * 1e3:.0f} ms of local compute)"
    )
    ray.shutdown()


if __name__ == "__main__":
    main()
