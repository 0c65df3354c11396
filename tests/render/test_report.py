import pandas as pd

from core.render.report import write_report
from core.text.benchmarks import read_pairs
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


def test_report_over_a_checkpoint_series(tmp_path):
    path = str(tmp_path / "s.duckdb")
    _, final = make_store(path, folds=1, model="final/model")
    revisions = ("step0", "step1", "step8", "step64")
    make_store(path, revisions=revisions, folds=1, model="toy/neox-1m", run_prefix="a", sentences=False, n_params=10**6)
    store, big = make_store(
        path, revisions=revisions, folds=1, model="toy/neox-5m", run_prefix="b", sentences=False, n_params=5 * 10**6
    )
    for run_id, weights in zip(big, ("w0", "w1", "w1", "w64")):
        store.add_run({"run_id": run_id, "weights_hash": weights})
    log = pd.DataFrame({"step": [0, 64], "tokens": [0, 6400], "loss": [None, 4.0], "held_out_loss": [8.0, 4.1]})
    store.add_training_log("toy/neox-1m", log)
    pairs = read_pairs(write_benchmark(str(tmp_path / "bench.txt")))
    domains = {c: d for d, cs in DOMAINS.items() for c in cs}
    out = tmp_path / "results"
    summary = write_report(store, str(out), pairs, domains, tau=0.5, n_boot=100)
    assert summary["runs"]["benchmark"] == final[0]  # the headline is the final model, not a checkpoint
    curves = summary["series"]["curves"]
    assert set(curves["model"]) == {"toy/neox-1m", "toy/neox-5m"} and len(curves) == 2 * 4 * 3
    text = (out / "README.md").read_text()
    assert "## Alignment over training" in text and "| toy/neox-5m | 8 |" in text
    assert "toy/neox-5m step8 = step1" in text and "| toy/neox-1m | 1,000,000 | 4 | 6,400 |" in text
    assert "model `final/model`, run" in text and "@ nan" not in text  # a final model has no revision to name
    assert "### Against the paper's claims" in text
    for name in ("alignment_over_training.png", "where_when.png", "alignment_where_when.csv"):
        assert (out / name).stat().st_size > 0
    where = pd.read_csv(out / "alignment_where_when.csv")
    assert set(where["step"]) == {0, 1, 8, 64} and where["layer"].nunique() == 4


def test_report_adds_measures_and_domain_baselines_without_touching_the_other_tables(tmp_path):
    store, run_ids = make_store(str(tmp_path / "s.duckdb"), folds=1)
    pairs = read_pairs(write_benchmark(str(tmp_path / "bench.txt")))
    domains = {c: d for d, cs in DOMAINS.items() for c in cs}
    out = tmp_path / "results"
    summary = write_report(store, str(out), pairs, domains, tau=0.5, n_boot=100)
    measures = pd.read_csv(out / "alignment_by_measure.csv").set_index("method")
    assert list(measures.index) == [
        "experts",
        "word_embedding",
        "sentence_embedding",
        "weighted_jaccard",
        "clipped_ap_cosine",
        "tau_averaged",
    ]
    alignment = pd.read_csv(out / "alignment.csv").set_index("method")
    assert set(alignment.index) == {"experts", "word_embedding", "sentence_embedding"}  # unchanged by the new ones
    for m in alignment.index:
        assert measures.loc[m, "rho"] == alignment.loc[m, "rho"]  # same pairs, same resamples
        assert measures.loc[m, "ci_low"] == alignment.loc[m, "ci_low"]
    baselines = pd.read_csv(out / "domain_baselines.csv")
    assert len(baselines) == 5 and baselines.loc[0, "ari"] == summary["domains"]["ari"]
    text = (out / "README.md").read_text()
    assert "### Alignment by measure (threshold-free)" in text and "### Domains from embeddings (baselines)" in text
    wj = measures.loc["weighted_jaccard"]
    assert f"| Expert neurons (weighted Jaccard of APs) | {wj['rho']:.3f} | [{wj['ci_low']:.3f}, " in text
    assert "experts above every embedding for domains" in text
    assert text.index("### Alignment by measure") < text.index("## Concept domains") < text.index("### Domains from")
