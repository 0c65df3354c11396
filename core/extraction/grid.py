"""A grid of runs: every (model, revision) with the same seeded sets, planned at once and run longest first.

``plan_grid`` turns run configurations into ``RunJob``s: what each run still needs (parts left on disk are ingested
first, stored results are skipped). An engine then runs the jobs: ``local`` runs them one after the other in this
process (``core.extraction.extract.extract``); ``ray`` spreads them over a Ray cluster (``core.extraction.cluster``). Either way the process
that called ``run_grid`` is the only one that writes the store, so rerunning the same grid resumes it.
"""

from __future__ import annotations

import glob
import os
import re
from dataclasses import dataclass, replace

from core.config import RunConfig
from core.storage.store import Store

from .extract import ExtractSummary, Task, check_parts, ingest_parts, plan_tasks, prepare

ENGINES = ("local", "ray")


@dataclass
class RunJob:
    """One (model, revision) run of a grid and the tasks it still needs."""

    cfg: RunConfig
    run_id: str
    tasks: list[Task]
    registered: bool  # the run's row and unit table are in the store
    summary: ExtractSummary

    @property
    def cost(self) -> float:
        """Relative compute: sentences still to encode × model size."""
        return size_hint(self.cfg.model.model, self.cfg.model.revision) * sum(t.n_sentences for t in self.tasks)


def grid_configs(base: RunConfig, runs: list[tuple[str, str | None]]) -> list[RunConfig]:
    """``base`` for each (model, revision): same concepts, sets and settings, other weights."""
    return [replace(base, model=replace(base.model, model=m, revision=r)) for m, r in runs]


def size_hint(model: str, revision: str | None = None) -> float:
    """Parameters of a model, roughly, without loading it: weight-file bytes of a local folder, else the name's size.

    Only used to order runs (longest first); ``pythia-12b`` → 12e9, ``pythia-70m`` → 7e7, unknown → 1.
    """
    folder = os.path.join(model, revision) if revision and os.path.isdir(os.path.join(model, revision)) else model
    if os.path.isdir(folder):
        files = [f for ext in ("safetensors", "bin", "gguf") for f in glob.glob(os.path.join(folder, f"*.{ext}"))]
        if files:
            return sum(os.path.getsize(f) for f in files) / 4
    m = re.search(r"(\d+(?:\.\d+)?)([mb])\b", os.path.basename(model.rstrip("/")).lower())
    return float(m.group(1)) * (1e6 if m.group(2) == "m" else 1e9) if m else 1.0


def plan_grid(
    store: Store, cfgs: list[RunConfig], concepts_per_task: int = 8, max_tasks: int | None = None
) -> list[RunJob]:
    """Every run of the grid with what it still needs, longest first (finished runs last, with no tasks)."""
    from core.model.loading import resolve

    jobs = []
    for cfg in cfgs:
        resolve(cfg.model)  # a missing model folder or revision: refuse before anything is written
        plan, rid = prepare(store, cfg)  # may raise (too few sentences) before anything is written
        check_parts(store, rid, cfg)  # parts made under other settings: refuse before anything runs
        ingested = ingest_parts(store, rid)
        done = store.done(rid)
        wanted = {(c, f) for c in cfg.dataset.concepts for f in range(cfg.dataset.folds)}
        todo = wanted - done
        registered = store.unit_table_of(rid) is not None
        tasks = plan_tasks(cfg, plan, rid, todo, concepts_per_task)[:max_tasks] if todo else []
        summary = ExtractSummary(rid, len(done & wanted) - ingested, 0, ingested, len(wanted))
        jobs.append(RunJob(cfg, rid, tasks, registered, summary))
    return sorted(jobs, key=lambda j: -j.cost)


def run_grid(
    store: Store,
    cfgs: list[RunConfig],
    engine: str = "local",
    concepts_per_task: int = 8,
    max_tasks: int | None = None,
    show_progress: bool = True,
    **engine_options,
) -> list[ExtractSummary]:
    """Compute and store every run of ``cfgs`` that is not stored yet; one summary per run, in run order.

    ``engine_options`` go to ``core.extraction.cluster.RayEngine`` (address, workers, num_gpus_per_worker, shared_parts, ...).
    """
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}: use one of {', '.join(ENGINES)}")
    jobs = plan_grid(store, cfgs, concepts_per_task, max_tasks)
    from core.model.loading import check_loadable

    for job in jobs:  # a broken local revision fails here, not after the runs before it were computed
        check_loadable(job.cfg.model)
    if engine == "local":
        from .extract import extract

        by_run = {}
        for job in jobs:
            by_run[job.run_id] = extract(
                store, job.cfg, concepts_per_task=concepts_per_task, show_progress=show_progress, max_tasks=max_tasks
            )
            by_run[job.run_id].ingested += job.summary.ingested
            by_run[job.run_id].done_before -= job.summary.ingested
    else:
        from .cluster import RayEngine

        RayEngine(**engine_options).run(store, jobs, show_progress=show_progress)
        by_run = {j.run_id: j.summary for j in jobs}
    order = {cfg: i for i, cfg in enumerate(cfgs)}
    return [by_run[j.run_id] for j in sorted(jobs, key=lambda j: order[j.cfg])]
