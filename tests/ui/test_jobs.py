"""Background extraction jobs: a safe argument list, progress read from the store, the job's life."""

from __future__ import annotations

import os
import sys

import pytest

from ui import jobs


def test_extract_command_is_a_safe_argument_list():
    cmd = jobs.extract_command("s.duckdb", "-rf /", ["Cat", "dog", "cat"], revision="step1000", folds=2, min_pos=50)
    assert cmd[:3] == [sys.executable, "-m", "core"]
    assert "--model=-rf /" in cmd and "--concepts=cat,dog" in cmd and "--revision=step1000" in cmd
    assert "--folds=2" in cmd and "--min-pos=50" in cmd and "--skip-short" in cmd
    with pytest.raises(ValueError):
        jobs.extract_command("s.duckdb", "m", ["<img src=x>"])
    with pytest.raises(ValueError):
        jobs.extract_command("s.duckdb", "m", [])
    with pytest.raises(ValueError):
        jobs.extract_command("s.duckdb", "a\nb", ["cat"])
    with pytest.raises(ValueError):
        jobs.extract_command("s.duckdb", "m", ["cat"], n_pos=0)


def test_job_progress_counts_results_of_its_run(tmp_path):
    import time

    from tests.synthetic import make_store

    started = time.time()
    store, _ = make_store(str(tmp_path / "s.duckdb"), folds=2)
    job = jobs.Job("j", 0, [], "", store.path, "synthetic/toy-10m", None, ["cat", "dog", "zebra"], 2, started)
    assert jobs.results_stored(store, job) == (4, 6)  # cat and dog done in both folds; zebra not
    later = jobs.Job("k", 0, [], "", store.path, "synthetic/toy-10m", None, ["cat"], 2, time.time() + 60)
    assert jobs.results_stored(store, later) == (0, 2)  # runs not touched since the job started do not count
    other = jobs.Job("m", 0, [], "", store.path, "synthetic/toy-10m", "step1", ["cat"], 2, started)
    assert jobs.results_stored(store, other) == (0, 2)


def test_job_lifecycle(tmp_path):
    store = str(tmp_path / "s.duckdb")
    job = jobs.start(
        [sys.executable, "-c", "import time; print('working', flush=True); time.sleep(30)"], store, "m", ["cat"]
    )
    assert jobs.status(job) == "running" and os.path.exists(job.log)
    assert [j.id for j in jobs.load_all(store)] == [job.id]
    assert jobs.results_stored(None, job) == (0, 1)
    jobs.stop(job)
    jobs._PROCS[job.id].wait(10)
    assert jobs.status(jobs.refresh(job)) == "stopped"
    done = jobs.start([sys.executable, "-c", "print('ok')"], store, "m", ["cat"])
    jobs._PROCS[done.id].wait(10)
    assert jobs.status(jobs.refresh(done)) == "done" and "ok" in jobs.log_tail(done)
    with pytest.raises(TypeError):
        jobs.start("echo hi", store, "m", ["cat"])  # never a shell string


def test_sentence_command_mines_or_adds_and_refuses_a_missing_path(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("The cat sat.\n")
    store = str(tmp_path / "s.duckdb")
    cmd = jobs.sentence_command(store, "mine", str(corpus), ["Cat", " dog", ""], limit=20)
    assert cmd[4:] == ["mine", str(corpus), "--concepts=cat,dog", "--limit=20", "--quiet"]
    by_file = jobs.sentence_command(store, "mine", str(corpus), [], concepts_file="data/domains.txt")
    assert "--concepts-file=data/domains.txt" in by_file
    assert jobs.sentence_command(store, "add", str(corpus))[4:] == ["add", str(corpus)]
    with pytest.raises(ValueError, match="no such file or folder"):
        jobs.sentence_command(store, "add", str(tmp_path / "missing.csv"))
    with pytest.raises(ValueError, match="no concepts"):
        jobs.sentence_command(store, "mine", str(corpus), [])
