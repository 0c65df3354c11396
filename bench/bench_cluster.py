"""The Ray engine vs the local engine on the same small-model grid, measured in one run on this machine (prints only).

1. Fixed costs, apart: Ray's own start (``ray.init``), starting the actors, and each actor's model load.
2. Steady state: every task of the grid (2 revisions of a small GPT-NeoX × ``--concepts`` concepts, 1 concept per
   task) computed by warm models, in this process (the local engine's loop) and on 2 warm Ray actors (``Worker.run``,
   parts back as bytes), interleaved over ``--rounds`` rounds (``bench/rounds.py``); the median of each round's
   ratio with its range, each side's tasks/s, and the load average seen. The default grid (the paper's 400 and 1000
   sentences) is a local pass of over a minute of compute on an idle 2-core machine (150 and 300 took 26 s), so
   fixed costs do not decide the ratio.
3. Ray's overhead per task: the median round trip of a task to a warm actor and its parts back as bytes
   (the transport ``--engine ray`` adds to each task; computing and ingesting are the same in both engines).

Both sides give the same APs (checked here). Usage: ``python bench/bench_cluster.py [--concepts 32] [--rounds 3]``
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


def local_pass(model, groups, cfg, pools, tasks, out: str) -> list[str]:
    """Every task computed in this process by warm models (per run: ``model``, ``groups``, negative ``pools`` kept
    across tasks as ``extract`` and each Ray actor keep them), parts into ``out``."""
    from core.extraction.extract import run_task

    paths = []
    for task in tasks:
        rid = task.run_id
        paths += run_task(task, model[rid], groups[rid], cfg[rid], out, None, None, pools[rid])
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concepts", type=int, default=32, help="concepts per run (of the tiny vocabulary)")
    parser.add_argument("--n-pos", type=int, default=400, help="the paper's set sizes (400 and 1000)")
    parser.add_argument("--n-neg", type=int, default=1000)
    parser.add_argument("--hidden", type=int, default=384)
    parser.add_argument("--layers", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds of local and Ray passes")
    parser.add_argument("--calls", type=int, default=200, help="round trips timed for the per-task overhead")
    args = parser.parse_args()

    import numpy as np
    import pandas as pd
    import ray

    from bench.rounds import interleaved
    from core.config import DatasetConfig, ExtractConfig, ModelSpec, RunConfig
    from core.extraction.cluster import Worker
    from core.extraction.extract import plan_tasks, prepare
    from core.extraction.grid import grid_configs
    from core.model.loading import load_model
    from core.model.units import hook_groups
    from core.storage.store import Store
    from tests.tiny import WORDS

    class BenchWorker(Worker):
        def imports(self) -> None:  # what a fresh worker's first task pays for, timed apart from the load
            import torch  # noqa: F401
            import transformers  # noqa: F401

            transformers.AutoModelForCausalLM  # noqa: B018  (its lazy import of the model classes)

    concepts = tuple([w for w in dict.fromkeys(WORDS) if w.isalpha() and len(w) > 2][: args.concepts])
    tmp = tempfile.mkdtemp(prefix="bench_cluster_")
    ckpt = make_checkpoints(os.path.join(tmp, "ckpt"), args.hidden, args.layers)
    base = RunConfig(
        ModelSpec(ckpt), DatasetConfig(concepts, n_pos=args.n_pos, n_neg=args.n_neg, folds=1), ExtractConfig()
    )
    cfgs = grid_configs(base, [(ckpt, "step1"), (ckpt, "step2")])
    store = Store(os.path.join(tmp, "bench.duckdb"))
    fill(store, concepts, args.n_pos + args.n_neg)
    cfg_of, tasks_of = {}, {}
    for cfg in cfgs:
        plan, rid = prepare(store, cfg)
        cfg_of[rid] = cfg
        tasks_of[rid] = plan_tasks(cfg, plan, rid, {(c, 0) for c in concepts}, 1)
    tasks = [t for ts in tasks_of.values() for t in ts]
    print(f"grid: 2 revisions x {len(concepts)} concepts (1 fold, {args.n_pos} pos + {args.n_neg} neg sentences each)")
    print(f"      small GPT-NeoX (hidden {args.hidden}, {args.layers} layers), 1 concept per task: {len(tasks)} tasks")

    t = time.perf_counter()
    model, groups = {}, {}
    for rid, cfg in cfg_of.items():
        model[rid] = load_model(cfg.model)
        groups[rid] = hook_groups(model[rid].base, model[rid].config)
    t_local_load = time.perf_counter() - t

    t = time.perf_counter()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, _node_ip_address="127.0.0.1")
    t_init = time.perf_counter() - t
    t = time.perf_counter()
    actors = [ray.remote(BenchWorker).options(num_cpus=1).remote(None) for _ in cfg_of]
    ray.get([a.pid.remote() for a in actors])
    t_actors = time.perf_counter() - t
    t = time.perf_counter()
    ray.get([a.imports.remote() for a in actors])  # a fresh worker's first torch/transformers import, apart
    t_imports = time.perf_counter() - t
    loads = []
    for actor, (rid, cfg) in zip(actors, cfg_of.items()):  # one after the other: each load timed alone
        t = time.perf_counter()
        ray.get(actor.describe.remote(cfg, rid))
        loads.append(time.perf_counter() - t)

    def ray_pass() -> list:
        refs = [
            (rid, actor.run.remote(cfg_of[rid], task)) for actor, rid in zip(actors, cfg_of) for task in tasks_of[rid]
        ]
        return [(rid, part) for rid, ref in refs for part in ray.get(ref)]

    from core.extraction.extract import NegativePools

    outs, pools = [], {rid: NegativePools() for rid in cfg_of}

    def local() -> None:
        outs.append(local_pass(model, groups, cfg_of, pools, tasks, tempfile.mkdtemp(dir=tmp)))

    ray_parts = []
    rounds = interleaved({"local": local, "ray": lambda: ray_parts.append(ray_pass())}, args.rounds)

    import io

    first = {(os.path.basename(os.path.dirname(p)), os.path.basename(p)): p for p in outs[0]}
    same = all(
        pd.read_parquet(io.BytesIO(data)).equals(pd.read_parquet(first[rid, name]))
        for rid, (name, data) in ray_parts[0]
    ) and len(first) == len(ray_parts[0])
    print(f"  fixed costs: Ray start {t_init:.1f} s; 2 actors started in {t_actors:.1f} s, their imports "
        f"{t_imports:.1f} s; model load per actor "
          + ", ".join(f"{x:.2f} s" for x in loads) + f" (in this process: {t_local_load / 2:.2f} s per model)")  # fmt: skip
    n = len(tasks)
    for name in ("local", "ray"):
        label = "local engine (this process)" if name == "local" else "ray, 2 warm actors"
        print(
            f"  steady state, {label:28s} {rounds.median(name):7.1f} s per pass   {n / rounds.median(name):6.2f} tasks/s"
        )
    print(f"  steady-state ratio local / ray (2 workers) {rounds.ratio_text('local', 'ray')}x   APs identical: {same}")
    print(f"  {rounds.load_text()}")

    # per-task overhead: a task to a warm actor and a typical task's parts back as bytes, with no compute
    sizes = [len(data) for _, (_, data) in ray_parts[0]]
    part_bytes = int(np.median(sizes)) if sizes else 0
    task = tasks[0]

    class Echo(Worker):
        def echo(self, cfg, task, nbytes: int):
            return [(f"{c}__f{task.fold}.parquet", b"\0" * nbytes) for c in task.concepts]

    for a in actors:
        ray.kill(a)
    actor = ray.remote(Echo).options(num_cpus=1).remote(None)
    ray.get(actor.echo.remote(cfgs[0], task, part_bytes))
    times = []
    for _ in range(args.calls):
        t = time.perf_counter()
        ray.get(actor.echo.remote(cfgs[0], task, part_bytes))
        times.append(time.perf_counter() - t)
    ms = 1e3 * statistics.median(times)
    per_task = rounds.median("local") / n
    print(
        f"  ray overhead per task            {ms:7.2f} ms  (median of {args.calls} round trips, {task.n_sentences} "
        f"sentences out, {part_bytes / 1e3:.0f} kB of parts back; {100 * ms / 1e3 / per_task:.2f}% of a task's "
        f"{per_task * 1e3:.0f} ms of local compute)"
    )
    ray.shutdown()


if __name__ == "__main__":
    main()
