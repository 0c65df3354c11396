from core.benchmarks import read_pairs
from core.report import write_report
from tests.synthetic import DOMAINS, make_store, write_benchmark


def test_report_writes_tables_from_the_store(tmp_path):
    store, run_ids = make_store(str(tmp_path / "s.duckdb"), folds=1)
    with store.connect(write=True) as con:  # three concepts had fewer positives than asked (a --min-pos run)
        con.execute("UPDATE results SET n_pos = n_pos - 2 WHERE concept IN ('cat', 'dog')")
        con.execute("UPDATE results SET n_pos = n_pos - 1 WHERE concept = 'horse'")
    pairs = read_pairs(write_benchmark(str(tmp_path / "bench.txt")))
    domains = {c: d for d, cs in DOMAINS.items() for c in cs}
    summary = write_report(store, str(tmp_path / "results"), pairs, domains, tau=0.5, n_boot=200)
    assert summary["runs"]["domains"] == run_ids[0] and summary["runs"]["benchmark"] == run_ids[0]
    text = (tmp_path / "results" / "README.md").read_text()
    assert "| 1.000 | 1.000 | 2 |" in text  # planted domains recovered: ARI = NMI = 1, two communities
    n = len(store.results())
    assert f"6 positives — {n - 3} results have all 6, 3 have fewer (4–5)" in text
    assert f"Pairs covered: {len(pairs) - 1} of {len(pairs)}" in text  # the pair with 'zebra' is listed, not dropped
    missing = (tmp_path / "results" / "pairs_not_covered.csv").read_text()
    assert "zebra" in missing
    experts = summary["alignment"].set_index("method").loc["experts"]
    assert experts["rho"] > 0.5 and experts["ci_low"] <= experts["rho"] <= experts["ci_high"]
    by_tau = summary["by_tau"]
    assert list(by_tau["tau"]) == [0.5, 0.6, 0.7, 0.8, 0.9] and set(by_tau["method"]) == {"experts"}
    assert by_tau["rho"].iloc[0] == experts["rho"] and "Experts at other thresholds" in text
    for name in (
        "alignment.csv",
        "alignment_by_layer.csv",
        "alignment_by_kind.csv",
        "alignment_by_tau.csv",
        "domains.csv",
        "runs.csv",
    ):
        assert (tmp_path / "results" / name).exists()


def test_report_stability_against_set_sizes(tmp_path):
    path = str(tmp_path / "s.duckdb")
    make_store(path, folds=1)
    animals = {"animal": DOMAINS["animal"]}
    _, first = make_store(path, animals, folds=3, run_prefix="stab100_", sentences=False, n_pos=100, n_neg=1000)
    make_store(path, animals, folds=3, run_prefix="stab50_", sentences=False, n_pos=50, n_neg=1000, seed=1)
    make_store(path, animals, folds=3, run_prefix="neg250_", sentences=False, n_pos=100, n_neg=250, seed=2)
    make_store(path, {"other": ["car", "bus"]}, folds=3, run_prefix="otherset_", sentences=False, seed=3)
    store, _ = make_store(path, animals, folds=2, run_prefix="othermodel_", sentences=False, model="x/y", seed=4)
    domains = {c: d for d, cs in DOMAINS.items() for c in cs}
    summary = write_report(store, str(tmp_path / "results"), None, domains, tau=0.5)
    assert summary["runs"]["stability"] == first[0]  # most results; ties go to the run made first
    by_size = summary["stability_by_size"]
    assert list(zip(by_size["n_pos"], by_size["n_neg"])) == [(50, 1000), (100, 250), (100, 1000)]
    assert (by_size["within_mean"] > by_size["between_mean"]).all()
    text = (tmp_path / "results" / "README.md").read_text()
    assert "| 50 | 1000 |" in text and "| 100 | 250 |" in text and "otherset" not in text
    assert (tmp_path / "results" / "stability_by_size.csv").exists()
