"""Domain recovery from embedding cosines, built as expert overlap's graph is."""

from __future__ import annotations

import numpy as np
import pytest

from core.analysis.domain_baselines import cosine_weights, domain_baselines, seed_spread, weight_graph
from core.analysis.domains import domain_analysis
from core.experts.index import ExpertIndex
from tests.synthetic import DOMAINS

DOMAIN_OF = {c: d for d, cs in DOMAINS.items() for c in cs}


def test_cosine_weights_raw_and_centred_by_hand():
    vectors = {"a": np.array([1.0, 1.0]), "b": np.array([1.0, 0.9]), "c": np.array([1.0, -1.0])}
    raw = cosine_weights(vectors, ["a", "b", "c"], centred=False)
    assert raw[0, 1] == pytest.approx((1 + 0.9) / (np.sqrt(2) * np.sqrt(1.81)))
    assert raw[0, 2] == pytest.approx(0.0) and np.allclose(np.diag(raw), 1.0)
    centred = cosine_weights(vectors, ["a", "b"], centred=True)  # the mean is over all three vectors
    mean = np.array([1.0, 0.3])
    u, v = vectors["a"] - mean, vectors["b"] - mean
    assert centred[0, 1] == pytest.approx(u @ v / np.linalg.norm(u) / np.linalg.norm(v))
    assert centred[0, 1] != pytest.approx(raw[0, 1])


def test_weight_graph_drops_non_positive_weights_as_domain_graph_does():
    w = np.array([[1.0, 0.4, -0.2], [0.4, 1.0, 0.0], [-0.2, 0.0, 1.0]])
    g = weight_graph(["a", "b", "c"], w, {"a": "x", "b": "x", "c": "y"})
    assert set(map(frozenset, g.edges)) == {frozenset("ab")}
    assert g.edges["a", "b"]["weight"] == 0.4 and g.nodes["c"] == {"domain": "y"}


def test_embeddings_and_experts_recover_planted_domains_with_a_seed_spread(synth):
    store, run_ids, _ = synth
    index = ExpertIndex.from_store(store, run_ids[0])
    table = domain_baselines(index, DOMAIN_OF, 0.5, n_seeds=20, n_draws=10).set_index(["representation", "centred"])
    assert set(table.index) == {
        ("experts", False),
        ("word_embedding", False),
        ("word_embedding", True),
        ("sentence_embedding", False),
        ("sentence_embedding", True),
    }
    _, scores = domain_analysis(index, DOMAIN_OF, 0.5)
    assert table.loc[("experts", False), "ari"] == scores["ari"]  # the report's expert row, unchanged
    for _, r in table.iterrows():
        assert r["ari_low"] - 1e-12 <= r["ari_mean"] <= r["ari_high"] + 1e-12 and r["n_seeds"] == 20
        assert r["n_concepts"] == len(DOMAIN_OF)
        assert r["ari_concepts_low"] <= r["ari_concepts_high"] and r["n_draws"] == 10
    assert table.loc[("experts", False), "ari"] == pytest.approx(1.0)  # planted blocks: recovered exactly
    assert table.loc[("experts", False), "ari_concepts_low"] == pytest.approx(1.0)  # whichever concepts are left


def test_clustered_embeddings_recover_domains_that_raw_cosines_blur(synth):
    """Vectors = a shared offset + their domain's direction + noise: raw cosines are all high (anisotropy)."""
    store, run_ids, _ = synth
    index = ExpertIndex.from_store(store, run_ids[0])
    rng = np.random.default_rng(1)
    dirs = {d: rng.normal(size=8) for d in DOMAINS}
    offset = 20 * np.ones(8)
    index.vectors = {"word": {c: offset + dirs[d] + 0.1 * rng.normal(size=8) for c, d in DOMAIN_OF.items()}}
    table = domain_baselines(index, DOMAIN_OF, 0.5, n_seeds=5).set_index(["representation", "centred"])
    assert ("sentence_embedding", False) not in table.index  # no sentence vectors: no row
    assert table.loc[("word_embedding", True), "ari"] == pytest.approx(1.0)
    raw = table.loc[("word_embedding", False)]
    assert raw["between_mean"] > 0.9  # nearly uniform raw cosines


def test_seed_spread_varies_with_the_seed_on_an_ambiguous_graph():
    rng = np.random.default_rng(0)
    names = [f"c{i}" for i in range(16)]
    w = rng.uniform(0, 1, (16, 16))
    w = (w + w.T) / 2
    domains = {c: str(i % 4) for i, c in enumerate(names)}
    s = seed_spread(weight_graph(names, w, domains), domains, n_seeds=30)
    assert s["ari_low"] < s["ari_high"]  # random weights: Louvain's result depends on the seed


def test_concept_spread_leaves_one_concept_of_each_domain_out():
    from core.analysis.domain_baselines import concept_spread

    names = ["a1", "a2", "a3", "b1", "b2", "b3"]
    domains = {c: c[0] for c in names}
    w = np.zeros((6, 6))
    w[:3, :3] = w[3:, 3:] = 1.0  # two clean blocks: any 2 + 2 concepts are still recovered
    s = concept_spread(weight_graph(names, w, domains), domains, n_draws=15)
    assert s["n_draws"] == 15 and s["ari_concepts_low"] == s["ari_concepts_high"] == pytest.approx(1.0)
    w[0, 3] = w[3, 0] = w[1, 4] = w[4, 1] = 1.0  # a1–b1 and a2–b2 as strong as within: it depends on who is left
    s = concept_spread(weight_graph(names, w, domains), domains, n_draws=40)
    assert s["ari_concepts_low"] < s["ari_concepts_high"]
