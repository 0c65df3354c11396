"""The Ray engine: a grid's tasks across a Ray cluster, the store written by the driver only.

An actor per GPU (or per CPU slot) holds one loaded (model, revision) and computes tasks of it with
``core.extraction.extract.run_task``. The driver hands an idle actor a task of the run it holds, else of the longest run that no
actor holds yet (else of the run with the most tasks left), and ingests the parts as they come back, so the
dashboard sees a cluster run progress. Parts travel as files on shared storage (``shared_parts``: the store's parts
folder is one every node sees) or as bytes through Ray's object store.

Faults are left to Ray: a worker process that dies is restarted and its call retried (``max_restarts``,
``max_task_retries``); if an actor cannot come back, its task goes to another actor. A part has a deterministic name,
is written by atomic rename and is skipped when it exists, and the store ingests a (run, concept, fold) once, so
retries and reruns never duplicate or half-write a result. Ctrl-C kills the actors (and the local Ray this process
started); rerunning the same command resumes.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections import Counter, deque
from collections.abc import Callable

from core.storage.store import Store

from .extract import NegativePools, describe_run, register_run, run_task

os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # never phone home

import ray  # noqa: E402  (after the environment it reads)
import ray.exceptions  # noqa: E402


def connect(address: str | None = None, num_cpus: int | None = None) -> bool:
    """Join the cluster at ``address`` (or ``RAY_ADDRESS``), else start a local Ray; True if this call started it."""
    if ray.is_initialized():
        return False
    address = address or os.environ.get("RAY_ADDRESS") or None
    if address:
        ray.init(address=address, log_to_driver=False)
        return False
    # a local Ray stays on this machine: loopback address, no dashboard, no usage statistics
    options: dict = dict(num_cpus=num_cpus, include_dashboard=False, log_to_driver=False, _node_ip_address="127.0.0.1")
    try:
        ray.init(**options)
    except Exception:  # Ray gives its node 30 s to register: an overloaded machine can miss that once
        ray.shutdown()
        ray.init(**options)
    return True


class Worker:
    """A Ray actor: one loaded (model, revision) at a time, computing tasks of it."""

    def __init__(self, parts_dir: str | None):
        root = os.path.join(tempfile.gettempdir(), "expert-neurons-ray")
        self.shared = parts_dir is not None  # else parts are written here, then sent back as bytes
        self.parts_dir = parts_dir or os.path.join(root, f"parts-{os.getpid()}")
        self.scratch_dir = os.path.join(root, "scratch")  # negatives' activations, reused across tasks of a fold
        self.pools = NegativePools()  # the fold's sorted pool, kept on the device for the actor's next task
        self.spec = self.model = self.groups = None

    def pid(self) -> int:
        return os.getpid()

    def _load(self, spec) -> None:
        if spec == self.spec:
            return
        from core.model.loading import load_model
        from core.model.units import hook_groups

        self.spec = self.model = self.groups = None  # free the previous model before loading the next
        self.pools = NegativePools()
        model = load_model(spec)
        self.groups = hook_groups(model.base, model.config, spec.module_patterns)
        self.model, self.spec = model, spec

    def describe(self, cfg, rid: str):
        """The run's ``runs`` row and unit table (``Store.add_run`` arguments)."""
        self._load(cfg.model)
        assert self.model is not None  # loaded just now
        return describe_run(cfg, rid, self.model, self.groups)

    def run(self, cfg, task) -> list[tuple[str, bytes | None]]:
        """Compute a task: ``(path, None)`` per part on shared storage, else ``(file name, bytes)``."""
        import torch

        self._load(cfg.model)
        assert self.model is not None  # loaded just now
        torch.manual_seed(0)
        paths = list(run_task(task, self.model, self.groups, cfg, self.parts_dir, self.scratch_dir, None, self.pools))
        if self.shared:
            return [(p, None) for p in paths]
        out = []
        for p in paths:
            with open(p, "rb") as f:
                out.append((os.path.basename(p), f.read()))
            os.remove(p)
        return out


def save_part(parts_dir: str, run_id: str, name: str, data: bytes) -> str:
    """Write a part that came back as bytes into the store's parts folder, atomically, once."""
    path = os.path.join(parts_dir, run_id, os.path.basename(name))
    if not os.path.exists(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = f"{path}.tmp{os.getpid()}"
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    return path


class RayEngine:
    """Runs ``core.extraction.grid.RunJob``s on a Ray cluster.

    Parameters
    ----------
    address : cluster to join (default ``RAY_ADDRESS``; none: start a local Ray, stopped again at the end).
    workers : number of actors (default: GPUs / ``num_gpus_per_worker``, or the cluster's CPUs when it has no GPU).
    num_gpus_per_worker : GPUs each actor reserves (default 1 when the cluster has GPUs, else 0: one CPU each).
    shared_parts : workers write parts straight into the store's parts folder (shared storage); else bytes.
    max_restarts : how often Ray restarts a dead actor and retries its calls before its task moves elsewhere.
    num_cpus : CPUs of a local Ray started here (default: all).
    """

    def __init__(
        self,
        address: str | None = None,
        workers: int | None = None,
        num_gpus_per_worker: float | None = None,
        shared_parts: bool = False,
        max_restarts: int = 3,
        num_cpus: int | None = None,
    ):
        if workers is not None and workers < 1:
            raise ValueError("--workers must be at least 1")
        if num_gpus_per_worker is not None and num_gpus_per_worker < 0:
            raise ValueError("--num-gpus-per-worker must be 0 or more")
        self.address, self.workers, self.gpus_per_worker = address, workers, num_gpus_per_worker
        self.shared_parts, self.max_restarts, self.num_cpus = shared_parts, max_restarts, num_cpus
        self.actors: list = []
        self.pids: list[int] = []
        self.busy: dict[int, int] = {}  # actor index → calls in flight

    def _start_actors(self, n_units: int, parts_dir: str) -> None:
        resources = ray.cluster_resources()
        gpus = self.gpus_per_worker
        if gpus is None:
            gpus = 1 if resources.get("GPU", 0) >= 1 else 0
        n = self.workers or (int(resources.get("GPU", 0) // gpus) if gpus else int(resources.get("CPU", 1)))
        n = max(1, min(n, n_units))
        actor = ray.remote(Worker).options(
            num_cpus=1,
            num_gpus=gpus,
            max_restarts=self.max_restarts,
            max_task_retries=self.max_restarts,
        )
        self.actors = [actor.remote(parts_dir if self.shared_parts else None) for _ in range(n)]
        self.pids = ray.get([a.pid.remote() for a in self.actors])
        self.busy = dict.fromkeys(range(n), 0)

    def run(self, store: Store, jobs: list, show_progress: bool = True, on_part: Callable | None = None) -> None:
        """Compute every task of ``jobs`` and ingest its parts into ``store``; fills each job's summary.

        ``on_part(engine, path)`` is called after each part is ingested (tests use it to kill a worker mid-run).
        """
        from tqdm.auto import tqdm

        jobs = [j for j in jobs if j.tasks or not j.registered]
        if not jobs:
            return
        started = connect(self.address, self.num_cpus)
        try:
            self._start_actors(sum(max(1, len(j.tasks)) for j in jobs), store.parts_dir)
            total = sum(len(t.concepts) for j in jobs for t in j.tasks)
            with tqdm(total=total, unit="part", desc="grid", disable=not show_progress, file=sys.stderr) as bar:
                self._dispatch(store, jobs, bar, on_part)
        finally:
            for a in self.actors:
                ray.kill(a, no_restart=True)
            self.actors = []
            if started:
                ray.shutdown()

    def _dispatch(self, store: Store, jobs: list, bar, on_part) -> None:
        by_id = {j.run_id: j for j in jobs}
        queue = {j.run_id: deque(j.tasks) for j in jobs}
        unregistered = {j.run_id for j in jobs if not j.registered}
        holders: Counter = Counter()
        held: dict[int, str] = {}
        alive = set(range(len(self.actors)))
        inflight: dict = {}  # ref → (actor index, run id, task or None for describe)

        def describing(rid):
            return any(u is None and r == rid for _, r, u in inflight.values())

        def wanted(rid):
            return bool(queue[rid]) or (rid in unregistered and not describing(rid))

        def assign(i: int) -> None:
            rid = held.get(i)
            if rid is None or not queue[rid]:
                open_runs = [j.run_id for j in jobs if wanted(j.run_id)]  # jobs are longest first
                if not open_runs:
                    return
                free = [r for r in open_runs if holders[r] == 0]
                rid = free[0] if free else max(open_runs, key=lambda r: len(queue[r]))
                if held.get(i):
                    holders[held[i]] -= 1
                held[i] = rid
                holders[rid] += 1
            job, actor = by_id[rid], self.actors[i]
            if rid in unregistered and not describing(rid):
                inflight[actor.describe.remote(job.cfg, rid)] = (i, rid, None)
                self.busy[i] += 1
            if queue[rid]:
                task = queue[rid].popleft()
                inflight[actor.run.remote(job.cfg, task)] = (i, rid, task)
                self.busy[i] += 1

        for i in sorted(alive):
            assign(i)
        while inflight:
            ready, _ = ray.wait(list(inflight), num_returns=1, timeout=1.0)  # wakes up for Ctrl-C
            for ref in ready:
                i, rid, task = inflight.pop(ref)
                self.busy[i] -= 1
                try:
                    result = ray.get(ref)
                except ray.exceptions.RayActorError:  # restarts used up: the task goes to another actor
                    alive.discard(i)
                    if i in held:
                        holders[held.pop(i)] -= 1
                    if task is not None:
                        queue[rid].appendleft(task)
                    if not alive:
                        raise RuntimeError("every Ray worker died; rerun the same command to resume") from None
                    result = None
                except ray.exceptions.RayTaskError as e:  # an error in our code: stop, with its own message
                    cause = getattr(e, "cause", None)
                    raise (cause if isinstance(cause, Exception) else RuntimeError(str(e).strip())) from None
                if result is None:
                    pass
                elif task is None:
                    register_run(store, by_id[rid].cfg, *result)
                    unregistered.discard(rid)
                else:
                    job = by_id[rid]
                    for name, data in result:
                        path = name if data is None else save_part(store.parts_dir, rid, name, data)
                        if store.ingest(path):
                            job.summary.computed += 1
                            job.summary.parts.append(path)
                        bar.update(1)
                for k in sorted(alive):  # this actor, or any left idle, takes the next task
                    if not self.busy[k]:
                        assign(k)
                if result is not None and task is not None and on_part is not None:
                    on_part(self, job.summary.parts[-1] if job.summary.parts else None)
