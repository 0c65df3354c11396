"""Fixtures shared by the test modules."""

from __future__ import annotations

import pytest

from tests.synthetic import make_store, write_benchmark


@pytest.fixture(scope="session")
def synth(tmp_path_factory):
    """(store, run ids, benchmark path) of a two-revision synthetic store with two folds, built once. Read it only."""
    folder = tmp_path_factory.mktemp("analysis")
    store, run_ids = make_store(str(folder / "experts.duckdb"), revisions=("step1000", "step2000"), folds=2)
    return store, run_ids, write_benchmark(str(folder / "bench.txt"))
