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


@pytest.fixture(scope="session")
def grid_store(tmp_path_factory):
    """(store path, parts folder) of a small grid-shaped store (``bench/grid_store.py``: 3 checkpoints of
    Pythia-70m's shape, AP rows drawn from the committed SmolLM2 MEN-test run), built once. Read it only."""
    from bench.grid_store import build

    folder = tmp_path_factory.mktemp("grid")
    path, parts = str(folder / "grid_3.duckdb"), str(folder / "parts")
    build(3, path, parts, sizes=("70m",))
    return path, parts
