"""Killing a real extraction process (SIGKILL, SIGTERM, SIGINT) loses nothing; a rerun finishes identically;
a reader in another process never sees an error or a half-stored concept while the extraction writes."""

import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

from core.experts.index import ExpertIndex
from core.storage.parts import part_files
from core.storage.store import Store
from tests.extraction.test_extract import CONCEPTS, fill_store
from tests.tiny import save_tiny_model

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FOLDS = 6


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return save_tiny_model(str(tmp_path_factory.mktemp("m")), "llama")


def command(store_path, model_dir):
    return [
        sys.executable,
        "-m",
        "core",
        "--store",
        store_path,
        "extract",
        "--model",
        model_dir,
        "--concepts",
        ",".join(CONCEPTS),
        "--n-pos",
        "6",
        "--n-neg",
        "12",
        "--folds",
        str(FOLDS),
        "--concepts-per-task",
        "1",
        "--batch-tokens",
        "64",
        "--quiet",
    ]


def ap_rows(store):
    return store.query("SELECT run_id, concept, fold, unit, ap FROM ap ORDER BY ALL")


def consistent(store) -> bool:
    """Every stored result has exactly its AP rows: no half-stored concept."""
    check = store.query(
        "SELECT r.n_stored, count(a.unit) AS n FROM results r LEFT JOIN ap a USING (run_id, concept, fold) "
        "GROUP BY r.run_id, r.concept, r.fold, r.n_stored"
    )
    return bool((check["n_stored"] == check["n"]).all())


@pytest.fixture(scope="module")
def reference(tmp_path_factory, model_dir):
    path = str(tmp_path_factory.mktemp("ref") / "ref.duckdb")
    fill_store(path)
    subprocess.run(command(path, model_dir), cwd=ROOT, check=True, capture_output=True, timeout=600)
    store = Store(path, read_only=True)
    assert len(store.results()) == len(CONCEPTS) * FOLDS
    return ap_rows(store)


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT])
def test_killed_extraction_resumes_to_identical_results(tmp_path, model_dir, reference, sig):
    path = str(tmp_path / "s.duckdb")
    fill_store(path)
    parts = os.path.splitext(path)[0] + ".parts"
    proc = subprocess.Popen(command(path, model_dir), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        n = len(part_files(parts))  # result parts only (not the run's row in _runs/)
        if n >= 2:
            break
        time.sleep(0.02)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    if sig == signal.SIGINT:
        assert proc.returncode == 130 and b"run the same command to continue" in err
    store = Store(path, read_only=True)  # readable after the kill
    done = len(store.results())
    assert 0 < done < len(CONCEPTS) * FOLDS, "the process was not caught mid-way"
    assert consistent(store)

    rerun = subprocess.run(command(path, model_dir), cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    assert f"{len(CONCEPTS) * FOLDS}/{len(CONCEPTS) * FOLDS}" in rerun.stdout
    store = Store(path, read_only=True)
    pd.testing.assert_frame_equal(ap_rows(store), reference)
    assert consistent(store)


def test_reader_sees_no_errors_and_no_partial_concepts_while_writing(tmp_path, model_dir):
    path = str(tmp_path / "s.duckdb")
    fill_store(path)
    proc = subprocess.Popen(command(path, model_dir), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    reads, errors, seen = 0, [], set()
    try:
        while proc.poll() is None or reads < 3:
            try:
                store = Store(path, read_only=True, lock_timeout=30)
                runs = store.runs()  # the calls the dashboard makes
                for run_id in [r.run_id for r in runs]:
                    index = ExpertIndex.from_store(store, run_id)
                    index.jaccard(0.5)
                    seen.add(len(store.results(run_id)))
                assert consistent(store)
                reads += 1
            except Exception as e:  # noqa: BLE001 — any error at all is a failure of this test
                errors.append(repr(e))
            if proc.poll() is not None and reads >= 3:
                break
    finally:
        out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    assert errors == []
    assert len(seen) > 1, "the reader never overlapped the writer"
