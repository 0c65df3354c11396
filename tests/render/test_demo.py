import numpy as np
import pandas as pd
import pytest

from core.analysis.alignment import alignment_table
from core.render.demo import SLIDER_TAUS, build_demo
from core.storage.store import Store
from core.text.benchmarks import read_pairs
from tests.synthetic import make_store, write_benchmark


def test_demo_store_keeps_numbers_and_only_redistributable_sentences(tmp_path):
    src, run_ids = make_store(str(tmp_path / "src.duckdb"), revisions=("step1", "step1000"))
    src.add_sentences("cat", ["A generated cat sentence for the demo."], source="generated:smollm2")
    log = pd.DataFrame({"step": [0, 1000], "tokens": [0, 10**6], "loss": [None, 3.5], "held_out_loss": [8.0, 3.6]})
    src.add_training_log("synthetic/toy-10m", log)
    src.add_training_log("not/in/the/demo", log)
    info = build_demo(src.path, str(tmp_path / "demo.duckdb"), run_ids=[run_ids[1]])
    demo = Store(info["path"], read_only=True)
    assert [r.run_id for r in demo.runs()] == [run_ids[1]]
    assert demo.ap(run_ids[1], fold=None).equals(src.ap(run_ids[1], fold=None))
    assert demo.units(run_ids[1]).equals(src.units(run_ids[1]))
    assert demo.vectors(run_ids[1], "word").keys() == src.vectors(run_ids[1], "word").keys()
    texts = demo.query("SELECT text FROM sentences")["text"].tolist()
    assert texts == ["A generated cat sentence for the demo."]  # corpus/synthetic-source text stays out
    assert info["concepts"] == 8 and info["size_mb"] < 5
    assert demo.training_log()["model"].unique().tolist() == ["synthetic/toy-10m"]  # the demo's models' logs only


def test_demo_store_over_budget_is_refused(tmp_path):
    src, _ = make_store(str(tmp_path / "src.duckdb"))
    with pytest.raises(ValueError, match="over the 0.01 MB budget"):
        build_demo(src.path, str(tmp_path / "demo.duckdb"), max_mb=0.01)
    assert not (tmp_path / "demo.duckdb").exists()


def test_demo_store_keeps_alignment_at_every_slider_tau_but_not_the_ratings(tmp_path):
    src, run_ids = make_store(str(tmp_path / "src.duckdb"), revisions=("step1", "step1000"))
    pairs = read_pairs(write_benchmark(str(tmp_path / "bench.txt")))
    info = build_demo(src.path, str(tmp_path / "demo.duckdb"), benchmarks={"MEN test": pairs}, n_boot=200)
    # the three default methods and the two threshold-free ones defined here (the raw-AP ones need --ap-floor 0),
    # then ρ from each of the 4 layers and each of the 4 module kinds
    per_tau = 3 + 2 + 4 + 4
    assert info["snapshot_rows"] == len(run_ids) * len(SLIDER_TAUS) * per_tau
    demo = Store(info["path"], read_only=True)
    snap = demo.alignment_snapshot("MEN test", tau=0.7)
    snap = snap[~snap["method"].str.contains(":")].set_index(["run_id", "method"]).sort_index()
    every = ("experts", "word_embedding", "sentence_embedding", "weighted_jaccard", "clipped_ap_cosine")
    live = alignment_table(src, run_ids, pairs, tau=0.7, n_boot=200, methods=every)
    live = live.set_index(["run_id", "method"]).sort_index()
    assert set(snap.index.get_level_values("method")) == set(every)
    for col in ("rho", "ci_low", "ci_high", "p_value", "n_pairs"):
        np.testing.assert_allclose(snap[col].astype(float), live[col].astype(float), equal_nan=True)
    tables = set(demo.query("SELECT table_name FROM information_schema.tables")["table_name"])
    assert not any("pair" in t or "bench" in t for t in tables)  # correlations only, never the ratings
    scores = {f"{s:.6f}" for s in pairs["score"]}
    cells = demo.query("SELECT * FROM alignment_snapshots").astype(str).to_numpy().ravel()
    assert not scores & set(cells)
