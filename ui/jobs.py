"""Background extraction jobs started from the dashboard.

A job is one ``python -m core extract ...`` process started with an argument
list (never a shell string), in its own session so that it outlives the page
that started it and can be stopped as a group. Its record (command, pid, log
file, exit code) is a JSON file beside the store, so any page or browser tab
can show it. Progress is read from the store itself: the (concept, fold)
results of the job's model and revision that are stored so far.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone

from core.config import DatasetConfig
from core.storage.paths import beside
from core.text.words import normalise_concept

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_PROCS: dict[str, subprocess.Popen] = {}  # jobs started by this process, for exit codes
MODEL_STACK = ("torch", "transformers", "accelerate", "gguf", "numba")  # requirements-model.txt: extraction only


def missing_model_stack() -> list[str]:
    """The model-stack packages this Python cannot import (a browse-only install lacks them all); none imported."""
    from importlib.util import find_spec

    return [name for name in MODEL_STACK if find_spec(name) is None]


@dataclass
class Job:
    id: str
    pid: int
    cmd: list[str]
    log: str
    store: str
    model: str
    revision: str | None
    concepts: list[str]
    folds: int
    started: float
    returncode: int | None = None
    stopped: bool = False
    ended: float | None = None
    extra: dict = field(default_factory=dict)


def jobs_dir(store: str) -> str:
    """Where job records and logs of a store live: ``<store without .duckdb>.jobs/``."""
    return beside(os.path.abspath(store), ".jobs")


def _text_arg(name: str, value: str) -> str:
    """``--name=value``: a value starting with '-' cannot be taken for an option."""
    value = str(value).strip()
    if not value or "\n" in value or "\x00" in value:
        raise ValueError(f"{name} must be one line of text")
    return f"--{name}={value}"


def extract_command(
    store: str,
    model: str,
    concepts: list[str],
    revision: str | None = None,
    n_pos: int = DatasetConfig.n_pos,
    n_neg: int = DatasetConfig.n_neg,
    folds: int = DatasetConfig.folds,
    min_pos: int | None = None,
    skip_short: bool = True,
    python: str = sys.executable,
) -> list[str]:
    """The argument list of an extraction (validated: concepts normalised, sizes positive)."""
    names = list(dict.fromkeys(normalise_concept(c) for c in concepts))
    if not names:
        raise ValueError("no concepts to extract")
    from core.config import DatasetConfig

    DatasetConfig(tuple(names), n_pos, n_neg, folds, min_pos=min_pos or None)  # the CLI's ranges, one home
    cmd = [
        python,
        "-m",
        "core",
        _text_arg("store", store),
        "extract",
        _text_arg("model", model),
        f"--concepts={','.join(names)}",
        f"--n-pos={int(n_pos)}",
        f"--n-neg={int(n_neg)}",
        f"--folds={int(folds)}",
    ]
    if revision:
        cmd.append(_text_arg("revision", revision))
    if min_pos:
        cmd.append(f"--min-pos={int(min_pos)}")
    if skip_short:
        cmd.append("--skip-short")
    return cmd


SENTENCE_STEPS = ("mine", "add")  # ``mine`` a corpus for the concepts; ``add`` a file or folder of sentences


def sentence_command(
    store: str,
    step: str,
    path: str,
    concepts: list[str] | None = None,
    concepts_file: str | None = None,
    limit: int = 1500,
    python: str = sys.executable,
) -> list[str]:
    """The argument list of a sentence step: ``mine`` a corpus for ``concepts`` (or those of ``concepts_file``),
    or ``add`` a CSV/TSV/JSONL file or a folder of ``<concept>.txt``. ``ValueError`` for a path that is not there."""
    if step not in SENTENCE_STEPS:
        raise ValueError(f"the sentence step must be one of {SENTENCE_STEPS}, got {step!r}")
    path = str(path).strip()
    if not path or not os.path.exists(path):
        raise ValueError(f"no such file or folder: {path!r}" if path else "give the file or folder to read")
    cmd = [python, "-m", "core", _text_arg("store", store), step, os.path.abspath(path)]
    if step == "add":
        return cmd
    names = list(dict.fromkeys(normalise_concept(c) for c in concepts or [] if c.strip()))
    if names:
        cmd.append(f"--concepts={','.join(names)}")
    elif concepts_file:
        cmd.append(_text_arg("concepts-file", concepts_file))
    else:
        raise ValueError("no concepts to mine sentences for")
    return cmd + [f"--limit={int(limit)}", "--quiet"]


def plan(cmd: list[str], timeout: float = 600.0) -> tuple[int, str]:
    """(exit code, output) of ``cmd --dry-run``: what an extraction would read and write, and its estimated time,
    before anything is started; nothing is written."""
    try:
        r = subprocess.run(
            [*cmd, "--dry-run"],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    except subprocess.TimeoutExpired:
        return -1, f"the dry run took more than {timeout:.0f} s"
    return r.returncode, (r.stdout + r.stderr).strip()


def start(
    cmd: list[str],
    store: str,
    model: str,
    concepts: list[str],
    revision: str | None = None,
    folds: int = 1,
    cwd: str = ROOT,
    kind: str = "extract",
) -> Job:
    """Start ``cmd`` in the background (own session, output to a log file) and record it (``kind``: ``extract``,
    or a sentence step, ``mine`` or ``add``)."""
    if not isinstance(cmd, list) or not all(isinstance(a, str) for a in cmd):
        raise TypeError("cmd must be a list of strings")
    folder = jobs_dir(store)
    os.makedirs(folder, exist_ok=True)
    job_id = time.strftime("%Y%m%d-%H%M%S") + "-" + uuid.uuid4().hex[:6]
    log_path = os.path.join(folder, f"{job_id}.log")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            cmd,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=cwd,
            env=env,
            start_new_session=True,
        )
    _PROCS[job_id] = proc
    job = Job(
        job_id,
        proc.pid,
        cmd,
        log_path,
        os.path.abspath(store),
        model,
        revision or None,
        list(concepts),
        int(folds),
        time.time(),
        extra={"kind": kind},
    )
    save(job)
    return job


def save(job: Job) -> None:
    path = os.path.join(jobs_dir(job.store), f"{job.id}.json")
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w") as f:
        json.dump(asdict(job), f)
    os.replace(tmp, path)


def load_all(store: str, limit: int = 10) -> list[Job]:
    """Recorded jobs of a store, newest first, with their status refreshed."""
    folder = jobs_dir(store)
    if not os.path.isdir(folder):
        return []
    jobs = []
    for name in sorted(os.listdir(folder), reverse=True):
        if not name.endswith(".json"):
            continue
        try:
            with open(os.path.join(folder, name)) as f:
                jobs.append(refresh(Job(**json.load(f))))
        except (OSError, ValueError, TypeError):
            continue  # a record being written or from another version
        if len(jobs) >= limit:
            break
    return jobs


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def refresh(job: Job) -> Job:
    """Fill in the exit code of a job that has ended."""
    if job.returncode is not None:
        return job
    proc = _PROCS.get(job.id)
    if proc is not None:
        rc = proc.poll()
        if rc is None:
            return job
        job.returncode = rc
    elif _alive(job.pid):
        return job
    else:
        job.returncode = -1  # ended while no process of ours watched it: exit code unknown
    job.ended = time.time()
    save(job)
    return job


def status(job: Job) -> str:
    """running, done, failed, stopped or ended (exit code unknown)."""
    if job.returncode is None:
        return "running"
    if job.stopped:
        return "stopped"
    if job.returncode == 0:
        return "done"
    return "ended" if job.returncode == -1 and job.id not in _PROCS else "failed"


def stop(job: Job) -> None:
    """Stop a running job (its whole process group, which only it is in)."""
    if refresh(job).returncode is not None:
        return
    try:
        os.killpg(job.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    job.stopped = True
    save(job)


def results_stored(store, job: Job) -> tuple[int, int]:
    """(stored, wanted) (concept, fold) results of the job's model and revision touched since it started."""
    total = len(job.concepts) * job.folds
    if store is None or not os.path.exists(store.path):
        return 0, total
    since = datetime.fromtimestamp(job.started - 5, tz=timezone.utc).replace(tzinfo=None)
    done = store.results_since(job.model, job.revision, since, job.concepts, job.folds)
    return int(done), total


def log_tail(job: Job, lines: int = 15) -> str:
    """The last lines of a job's output (tqdm's carriage returns turned into lines)."""
    try:
        with open(job.log, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 16384))
            text = f.read().decode("utf-8", "replace")
    except OSError:
        return ""
    rows = [r for r in text.replace("\r", "\n").splitlines() if r.strip()]
    return "\n".join(rows[-lines:])
