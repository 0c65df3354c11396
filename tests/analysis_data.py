"""One synthetic store per test session for the analysis tests (built once: it takes seconds)."""

from __future__ import annotations

from tests.synthetic import DOMAINS, make_store, write_benchmark

_BUILT: dict = {}


def synthetic_store(tmp_path_factory) -> tuple:
    """(store, run_ids, benchmark path) of a two-revision synthetic store with two folds. Read it only."""
    if "store" not in _BUILT:
        folder = tmp_path_factory.mktemp("analysis")
        store, run_ids = make_store(str(folder / "experts.duckdb"), revisions=("step1000", "step2000"), folds=2)
        bench = write_benchmark(str(folder / "bench.txt"))
        _BUILT["store"] = (store, run_ids, bench)
    return _BUILT["store"]


DOMAIN_OF = {c: d for d, cs in DOMAINS.items() for c in cs}
