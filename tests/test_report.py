from core.benchmarks import read_pairs
from core.report import write_report
from tests.synthetic import DOMAINS, make_store, write_benchmark


def test_report_writes_tables_from_the_store(tmp_path):
    store, run_ids = make_store(str(tmp_path / "s.duckdb"))
    pairs = read_pairs(write_benchmark(str(tmp_path / "bench.txt")))
    domains = {c: d for d, cs in DOMAINS.items() for c in cs}
    summary = write_report(store, str(tmp_path / "results"), pairs, domains, tau=0.5, n_boot=200)
    assert summary["runs"]["domains"] == run_ids[0] and summary["runs"]["benchmark"] == run_ids[0]
    text = (tmp_path / "results" / "README.md").read_text()
    assert "| 1.000 | 1.000 | 2 |" in text  # planted domains recovered: ARI = NMI = 1, two communities
    assert f"Pairs covered: {len(pairs) - 1} of {len(pairs)}" in text  # the pair with 'zebra' is listed, not dropped
    missing = (tmp_path / "results" / "pairs_not_covered.csv").read_text()
    assert "zebra" in missing
    experts = summary["alignment"].set_index("method").loc["experts"]
    assert experts["rho"] > 0.5 and experts["ci_low"] <= experts["rho"] <= experts["ci_high"]
    for name in ("alignment.csv", "alignment_by_layer.csv", "alignment_by_kind.csv", "domains.csv", "runs.csv"):
        assert (tmp_path / "results" / name).exists()
