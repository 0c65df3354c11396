"""Readers cannot starve a writer: an extraction with six reader processes looping over the dashboard's read
functions finishes, and its longest wait for the write lock stays under 5 s; the readers see no error."""

import os
import re
import subprocess
import sys
import time

import duckdb
import pytest

from core.storage.connection import FLAG_SUFFIX, LockWaits, connection
from tests.extraction.test_extract import fill_store
from tests.test_interrupt import ROOT, model_dir  # noqa: F401 (fixture)

N_READERS = 6


def extract_command(path: str, model: str) -> list[str]:
    """A small extraction (2 concepts x 3 folds: 6 parts, each ingested in its own write)."""
    sets = ["--n-pos", "6", "--n-neg", "12", "--folds", "3", "--concepts-per-unit", "1", "--batch-tokens", "64"]
    return [sys.executable, "-m", "core", "--store", path, "extract", "--model", model, "--concepts", "cat,dog", *sets]


def read_loop(path: str, stop: str) -> None:
    """What a dashboard session reads (``ui.data``), with its caches cleared on every pass; prints passes."""
    import streamlit as st

    from core.storage.paths import store_stamp
    from ui import data

    passes = 0
    while not os.path.exists(stop):
        st.cache_data.clear()
        st.cache_resource.clear()
        data.INDEXES.clear()  # the shared expert indexes live beside Streamlit's caches
        stamp = store_stamp(path)
        data._counts(path, stamp)
        data.contents(path, stamp)
        for run in data.runs(path, stamp):
            data._index(path, stamp, run.run_id).jaccard(0.5)
            data._read(path, stamp, "units", run.run_id)
            data._read(path, stamp, "results", run.run_id)
        data._read(path, stamp, "sentences", ("cat",))
        passes += 1
    print(passes)


@pytest.mark.slow  # seven processes: minutes on a loaded two-core machine
def test_six_readers_do_not_starve_an_extraction(tmp_path, model_dir):  # noqa: F811
    path = str(tmp_path / "s.duckdb")
    fill_store(path)
    stop = str(tmp_path / "stop")
    reader = f"from tests.storage.test_connection import read_loop; read_loop({path!r}, {stop!r})"
    logs = [open(tmp_path / f"reader{i}.log", "w+") for i in range(N_READERS)]  # a pipe would fill and stall them
    readers = [
        subprocess.Popen([sys.executable, "-c", reader], cwd=ROOT, stdout=subprocess.PIPE, stderr=log, text=True)
        for log in logs
    ]
    try:
        time.sleep(3)  # the readers are at it before the extraction starts
        start = time.monotonic()
        run = subprocess.run(
            extract_command(path, model_dir) + ["--quiet"], cwd=ROOT, capture_output=True, text=True, timeout=600
        )
        took = time.monotonic() - start
    finally:
        open(stop, "w").close()
        outs = [r.communicate(timeout=120)[0] for r in readers]
    assert run.returncode == 0, run.stderr
    wait = float(re.search(r"longest wait for the store's write lock ([\d.]+) s", run.stdout).group(1))
    passes = sum(int(o.split()[-1]) for o in outs if o.split())
    print(f"extraction {took:.1f} s with {N_READERS} readers ({passes} passes); longest write-lock wait {wait:.2f} s")
    assert wait <= 5.0
    for r, out, log in zip(readers, outs, logs):
        log.seek(0)
        assert r.returncode == 0, log.read()[-2000:]
        assert int(out.split()[-1]) > 0, "a reader never finished a pass"
    assert not os.path.exists(path + FLAG_SUFFIX)


def test_reader_waits_while_a_writer_announces_itself(tmp_path):
    path = str(tmp_path / "s.duckdb")
    duckdb.connect(path).close()
    flag = path + FLAG_SUFFIX
    open(flag, "w").close()
    start = time.monotonic()
    with connection(path, False, 0.5) as con:  # defers to the writer for its whole timeout, then reads anyway
        assert con.execute("SELECT 1").fetchall() == [(1,)]
    assert time.monotonic() - start >= 0.5
    os.utime(flag, (time.time() - 10, time.time() - 10))  # a killed writer's flag is ignored
    start = time.monotonic()
    with connection(path, False, 5) as con:
        assert con.execute("SELECT 1").fetchall() == [(1,)]
    assert time.monotonic() - start < 0.5


def test_writer_records_its_wait_and_removes_its_flag(tmp_path):
    path = str(tmp_path / "s.duckdb")
    duckdb.connect(path).close()
    waits = LockWaits()
    hold = (
        f"import duckdb, time; c = duckdb.connect({path!r}, read_only=True); print('held', flush=True); time.sleep(1)"
    )
    holder = subprocess.Popen([sys.executable, "-c", hold], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    with connection(path, True, 10, waits=waits) as con:
        con.execute("CREATE TABLE t (x INT)")
    holder.wait()
    assert waits.count == 1 and 0.5 < waits.longest < 10
    assert not os.path.exists(path + FLAG_SUFFIX)


def test_a_reader_waits_for_a_writer_in_the_same_process(tmp_path):
    """DuckDB refuses a read-only connection while this process holds a writing one ("different configuration"):
    the reader retries until the writer is done, as it does for another process's lock."""
    import threading

    path = str(tmp_path / "s.duckdb")
    duckdb.connect(path).close()
    held = threading.Event()

    def write():
        with connection(path, True, 5) as con:
            con.execute("CREATE TABLE t AS SELECT 1 AS x")
            held.set()
            time.sleep(0.5)

    writer = threading.Thread(target=write)
    writer.start()
    held.wait(5)
    with connection(path, False, 5) as con:  # refused while the writer holds the file, then in
        assert con.execute("SELECT x FROM t").fetchall() == [(1,)]
    writer.join()
