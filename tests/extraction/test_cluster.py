"""The Ray engine on a local 2-CPU Ray: same APs as the local engine, a grid that survives a killed worker."""

import os
import signal
import subprocess
import sys
import time

import pytest

os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")

import ray  # noqa: E402

from core.cli.parser import main  # noqa: E402
from core.config import DatasetConfig, ExtractConfig, ModelSpec, RunConfig  # noqa: E402
from core.extraction.cluster import RayEngine  # noqa: E402
from core.extraction.grid import grid_configs, plan_grid  # noqa: E402
from core.storage.records import runs_frame  # noqa: E402
from core.storage.store import Store  # noqa: E402
from tests.extraction.test_extract import CONCEPTS, fill_store  # noqa: E402
from tests.tiny import save_checkpoints  # noqa: E402

REVISIONS = ("step1", "step512")
DATA = ["--n-pos", "6", "--n-neg", "12", "--folds", "2", "--batch-tokens", "64", "--concepts-per-task", "1"]


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    """One local Ray for the module: 2 CPUs, loopback only, no dashboard."""
    options = dict(num_cpus=2, include_dashboard=False, log_to_driver=False, _node_ip_address="127.0.0.1")
    try:
        ray.init(**options)
    except Exception:  # Ray gives its node 30 s to register: a machine this loaded can miss that once
        ray.shutdown()
        ray.init(**options)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    return save_checkpoints(str(tmp_path_factory.mktemp("ckpt")), "gpt_neox", steps=(1, 512))


@pytest.fixture(scope="module")
def reference(tmp_path_factory, checkpoints):
    """The grid computed by the local engine: {run_id: AP table}."""
    path = str(tmp_path_factory.mktemp("ref") / "s.duckdb")
    fill_store(path)
    argv = ["--store", path, "grid", "--models", checkpoints, "--revisions", ",".join(REVISIONS)]
    assert main([*argv, "--concepts", ",".join(CONCEPTS), *DATA, "--quiet"]) == 0
    store = Store(path, read_only=True)
    return {rid: ap_table(store, rid) for rid in [r.run_id for r in store.runs()]}


def ap_table(store, rid):
    return store.ap(rid, fold=None, above=0.0).sort_values(["concept", "fold", "unit"]).reset_index(drop=True)


def base_config(model):
    return RunConfig(
        ModelSpec(model), DatasetConfig(CONCEPTS, n_pos=6, n_neg=12, folds=2), ExtractConfig(batch_tokens=64)
    )


def assert_same_as(reference, store):
    runs = runs_frame(store.runs())
    assert sorted(runs["run_id"]) == sorted(reference)
    results = store.results()
    assert len(results) == 2 * len(CONCEPTS) * 2  # runs × concepts × folds
    assert not results.duplicated(["run_id", "concept", "fold"]).any()
    for rid, expected in reference.items():
        got = ap_table(store, rid)
        assert len(got) == len(expected) > 0
        assert got.equals(expected), f"APs of run {rid} differ from the local engine's"


def test_ray_grid_matches_local_engine_and_reruns_compute_nothing(tmp_path, checkpoints, reference, capsys):
    path = str(tmp_path / "s.duckdb")
    fill_store(path)
    argv = ["--store", path, "grid", "--models", checkpoints, "--revisions", ",".join(REVISIONS)]
    argv += ["--concepts", ",".join(CONCEPTS), *DATA, "--engine", "ray", "--workers", "1", "--quiet"]
    assert main(argv) == 0  # parts come back as bytes (no --parts): the store's parts folder is written here
    out = capsys.readouterr().out
    assert out.count("8/8 (concept, fold) results stored (8 computed now") == 2
    store = Store(path, read_only=True)
    assert_same_as(reference, store)
    assert sorted(r.revision for r in store.runs()) == list(REVISIONS)
    assert len({r.weights_hash for r in store.runs()}) == 2

    assert main(argv) == 0  # everything stored: planned, skipped, no worker started
    assert capsys.readouterr().out.count("(0 computed now, 0 ingested from parts, 8 already stored)") == 2


def test_killed_worker_then_ctrl_c_then_rerun_stores_each_result_once(tmp_path, checkpoints, reference):
    store = fill_store(str(tmp_path / "s.duckdb"))
    store = Store(store.path, parts_dir=str(tmp_path / "shared-parts"))  # parts on "shared storage"
    cfgs = grid_configs(base_config(checkpoints), [(checkpoints, r) for r in REVISIONS])
    jobs = plan_grid(store, cfgs, concepts_per_task=1)
    assert [len(j.tasks) for j in jobs] == [8, 8]
    killed, actors, parts = [], [], []

    def kill_a_worker_then_interrupt(engine, part):
        parts.append(part)
        if not killed:  # SIGKILL a worker that is computing a task: Ray restarts it and retries the task
            pid = next(engine.pids[i] for i, n in engine.busy.items() if n)
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
            actors.extend(engine.actors)
        elif len(parts) == 6:  # then Ctrl-C on the driver
            os.kill(os.getpid(), signal.SIGINT)

    with pytest.raises(KeyboardInterrupt):
        RayEngine(workers=2, shared_parts=True).run(
            store, jobs, show_progress=False, on_part=kill_a_worker_then_interrupt
        )
    with pytest.raises(ProcessLookupError):
        os.kill(killed[0], 0)
    for actor in actors:  # the interrupted run stopped its workers
        with pytest.raises(ray.exceptions.RayActorError):
            ray.get(actor.pid.remote(), timeout=60)
    assert 6 <= len(store.results()) < 16

    jobs = plan_grid(store, cfgs, concepts_per_task=1)  # rerun: resumes with what is left
    RayEngine(workers=2, shared_parts=True).run(store, jobs, show_progress=False)
    assert_same_as(reference, store)
    for rid in reference:  # one file per (concept, fold), no temporary files left behind
        assert sorted(os.listdir(tmp_path / "shared-parts" / rid)) == sorted(
            f"{c}__f{f}.parquet" for c in CONCEPTS for f in range(2)
        )


def test_ctrl_c_on_the_cli_driver_stops_and_the_same_command_resumes(tmp_path, checkpoints, reference, capsys):
    path, parts = str(tmp_path / "s.duckdb"), tmp_path / "parts"
    fill_store(path)
    argv = ["--store", path, "grid", "--models", checkpoints, "--revisions", ",".join(REVISIONS), "--parts", str(parts)]
    argv += ["--concepts", ",".join(CONCEPTS), *DATA, "--engine", "ray", "--workers", "1", "--quiet"]
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    with open(tmp_path / "err", "w") as err:  # its own local Ray, started and stopped by the command
        proc = subprocess.Popen([sys.executable, "-m", "core", *argv], cwd=root, stderr=err, stdout=subprocess.DEVNULL)
        deadline = time.time() + 600
        while proc.poll() is None and time.time() < deadline and not list(parts.glob("*/*.parquet")):
            time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=300) == 130
    assert "interrupted: finished concepts are stored" in (tmp_path / "err").read_text()
    assert 0 < len(Store(path, read_only=True).results()) + len(list(parts.glob("*/*.parquet"))) < 32

    assert main(argv) == 0  # the same command, rerun: ingests what the interrupted one left, computes the rest
    assert capsys.readouterr().out.count("8/8 (concept, fold) results stored") == 2
    assert_same_as(reference, Store(path, read_only=True))
