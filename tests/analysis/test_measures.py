"""The registry of similarity measures: one entry is all a new measure needs to reach the tables, the report and
the Alignment page."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core.analysis.alignment import alignment_table
from core.analysis.measures import MEASURES, Measure, alignment_methods, register, set_pairs
from core.render.report import write_report
from core.text.benchmarks import read_pairs
from tests.synthetic import DOMAINS, make_store, write_benchmark

ROOT = Path(__file__).resolve().parents[2]


def overlap_coefficient(inter, size_a, size_b):
    """|A∩B| / min(|A|, |B|), 0 where a set is empty: a measure the project does not ship."""
    small = np.minimum(np.asarray(size_a, np.float64), np.asarray(size_b, np.float64))
    return np.where(small > 0, np.asarray(inter, np.float64) / np.where(small > 0, small, 1.0), 0.0)


NEW = Measure(
    "overlap_coefficient",
    "Expert neurons (overlap coefficient)",
    "overlap coefficient",
    "#332288",
    "dashdot",
    "-.",
    set_pairs(overlap_coefficient),
    overlap_coefficient,
)


@pytest.fixture
def new_measure(monkeypatch):
    """The one registry entry of a new measure (removed again after the test)."""
    monkeypatch.setitem(MEASURES, NEW.name, NEW)
    return NEW


def test_the_shipped_measures_are_registered_once():
    assert alignment_methods()[:3] == ("experts", "word_embedding", "sentence_embedding")
    assert "reciprocal_overlap" in MEASURES and "reciprocal_overlap" not in alignment_methods(every=True)
    with pytest.raises(ValueError, match="already registered"):
        register(MEASURES["experts"])


def test_a_new_measure_reaches_the_alignment_table_and_the_report(tmp_path, new_measure):
    store, run_ids = make_store(str(tmp_path / "s.duckdb"), folds=1)
    pairs = read_pairs(write_benchmark(str(tmp_path / "bench.txt")))
    table = alignment_table(store, run_ids, pairs, n_boot=20)
    assert new_measure.name in set(table["method"])
    row = table[table["method"] == new_measure.name].iloc[0]
    assert np.isfinite(row["rho"]) and np.isfinite(row["p_vs_experts"])
    domains = {c: d for d, cs in DOMAINS.items() for c in cs}
    write_report(store, str(tmp_path / "results"), pairs, domains, n_boot=20)
    written = pd.read_csv(tmp_path / "results" / "alignment.csv")
    assert new_measure.name in set(written["method"])


def test_a_new_measure_is_drawn_on_the_alignment_page(tmp_path, monkeypatch, new_measure):
    store, _ = make_store(str(tmp_path / "page.duckdb"))
    monkeypatch.setenv("EXPERTS_STORE", store.path)
    monkeypatch.setenv("EXPERTS_BENCHMARK", write_benchmark(str(tmp_path / "men_synthetic.txt")))
    monkeypatch.delenv("EXPERTS_HOSTED", raising=False)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.switch_page("pages/2_alignment.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert new_measure.label in set(at.dataframe[0].value["method"])
    drawn = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    titles = [a.get("text", "").replace("<br>", " ") for f in drawn for a in f["layout"].get("annotations", [])]
    assert new_measure.label in titles  # a panel title drawn on two lines reads as one


def test_concept_matrix_equals_each_measure_on_its_pairs(synth):
    """Every concept-pair measure as a matrix: a set measure from the shared counts, the others from their pair
    scores; symmetric, diagonal 1, and the Jaccard one is the index's own."""
    from core.analysis.measures import Pairs, concept_matrix, concept_measures
    from core.experts.index import ExpertIndex

    store, runs, _ = synth
    idx = ExpertIndex.from_store(store, runs[-1])
    assert set(concept_measures()) == {"experts", "reciprocal_overlap", "weighted_jaccard", "clipped_ap_cosine"}
    names = sorted(idx.concepts)
    i, j = np.triu_indices(len(names), k=1)
    a, b = [names[k] for k in i], [names[k] for k in j]
    for name in concept_measures():
        m = concept_matrix(idx, name, 0.7).loc[names, names].to_numpy()
        assert np.allclose(m, m.T) and np.allclose(np.diag(m), 1.0), name
        direct = MEASURES[name].pairs(Pairs(idx, a, b, 0.7, 0))
        assert np.allclose(m[i, j], direct), name
    jac = idx.jaccard(0.7).loc[names, names].to_numpy()
    assert np.allclose(concept_matrix(idx, "experts", 0.7).loc[names, names].to_numpy()[i, j], jac[i, j])
    with pytest.raises(ValueError, match="does not score concept pairs"):
        concept_matrix(idx, "word_embedding", 0.7)


def test_domain_graph_weighted_by_another_measure(synth):
    """The domain graph takes another measure's matrix as its weights; the planted domains are still recovered."""
    from core.analysis.domains import domain_graph, domain_scores
    from core.analysis.measures import concept_matrix
    from core.experts.index import ExpertIndex

    store, runs, _ = synth
    idx = ExpertIndex.from_store(store, runs[-1])
    domains = {c: d for d, cs in DOMAINS.items() for c in cs}
    weights = concept_matrix(idx, "weighted_jaccard", 0.5)
    g = domain_graph(idx.sets(0.5), domains, 0.0, weights)
    for a, b, w in g.edges(data="weight"):
        assert w == pytest.approx(weights.loc[a, b])
    default = domain_graph(idx.sets(0.5), domains)
    assert g.number_of_edges() and dict(g.edges) != dict(default.edges)  # other weights on the links
    assert domain_scores(g, domains)["ari"] == 1.0
