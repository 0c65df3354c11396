import time

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from core.analysis.domains import (
    domain_analysis,
    domain_graph,
    domain_scores,
    find_communities,
    shared_experts,
)
from core.analysis.measures import reciprocal_from_counts
from core.experts.index import ExpertIndex
from tests.synthetic import DOMAINS

DOMAIN_OF = {c: d for d, cs in DOMAINS.items() for c in cs}


def reciprocal_overlap(a, b) -> float:
    """The registry's reciprocal overlap of two unit sets, from their counts."""
    a, b = np.unique(a), np.unique(b)
    inter = np.intersect1d(a, b).size
    return float(reciprocal_from_counts(np.array([inter]), np.array([a.size]), np.array([b.size]))[0])


def test_reciprocal_overlap_hand_computed():
    # |A∩B| = 2: sqrt(2/4 * 2/3)
    assert reciprocal_overlap(np.array([1, 2, 3, 4]), np.array([3, 4, 5])) == pytest.approx(np.sqrt(1 / 3))
    assert reciprocal_overlap(np.array([1, 2]), np.array([1, 2])) == 1.0
    assert reciprocal_overlap(np.array([]), np.array([1])) == 0.0
    assert reciprocal_overlap(np.array([]), np.array([])) == 0.0


def test_domain_graph_nodes_edges_and_threshold():
    sets = {"a": np.array([1, 2, 3, 4]), "b": np.array([3, 4, 5]), "c": np.array([9]), "x": np.array([1])}
    domains = {"a": "d1", "b": "d1", "c": "d2", "z": "d2"}  # x has no domain, z has no set
    g = domain_graph(sets, domains)
    assert list(g.nodes) == ["a", "b", "c"]
    assert g.nodes["a"] == {"domain": "d1", "n_experts": 4}
    assert set(map(frozenset, g.edges)) == {frozenset("ab")}  # c shares nothing: no edge
    assert g.edges["a", "b"]["weight"] == pytest.approx(np.sqrt(1 / 3)) and g.edges["a", "b"]["shared"] == 2
    assert domain_graph(sets, domains, min_weight=0.6).number_of_edges() == 0


def test_domain_scores_count_missing_edges_as_zero():
    g = nx.Graph()
    g.add_nodes_from(["a", "b", "c", "d"])
    g.add_edge("a", "b", weight=0.6)
    domains = {"a": "x", "b": "x", "c": "y", "d": "y"}
    s = domain_scores(g, domains)
    assert s["within_mean"] == pytest.approx(0.3)  # (0.6 + 0) / 2 same-domain pairs
    assert s["between_mean"] == 0.0 and s["ratio"] == float("inf")
    assert s["n_concepts"] == 4 and s["n_communities"] == 3  # {a, b}, {c}, {d}


def test_communities_are_seeded_and_labelled_stably():
    g = nx.karate_club_graph()
    nx.set_edge_attributes(g, 1.0, "weight")
    assert find_communities(g, seed=3) == find_communities(g, seed=3)
    assert find_communities(nx.Graph()) == {}


def test_planted_domains_are_recovered(synth):
    store, runs, _ = synth
    idx = ExpertIndex.from_store(store, runs[-1])
    for tau in (0.5, 0.7, 0.9):
        graph, scores = domain_analysis(idx, DOMAIN_OF, tau)
        assert scores["ari"] == 1.0 and scores["nmi"] == 1.0, tau
        assert scores["n_communities"] == 2 and scores["n_concepts"] == 8
        assert scores["within_mean"] > 5 * scores["between_mean"]
    same = domain_graph(idx.sets(0.5), DOMAIN_OF)
    assert sorted(same.edges(data=True)) == sorted(domain_analysis(idx, DOMAIN_OF, 0.5)[0].edges(data=True))


def test_shared_experts_with_index_and_with_sets(synth):
    store, runs, _ = synth
    idx = ExpertIndex.from_store(store, runs[-1])
    units = store.units(runs[-1])
    shared = shared_experts(idx, "cat", "dog", 0.9, units)
    sets = idx.sets(0.9)
    assert set(shared["unit"]) == set(np.intersect1d(sets["cat"], sets["dog"]))
    assert set(shared["unit"]) == set(range(60))  # the planted animal block
    assert (shared[["ap_a", "ap_b"]] > 0.9).all().all()
    weaker = np.minimum(shared["ap_a"], shared["ap_b"]).to_numpy()
    assert (np.diff(weaker) <= 1e-7).all()  # strongest shared experts first
    assert {"layer", "kind", "module"} <= set(shared.columns) and (shared["layer"] == 0).all()
    plain = shared_experts(sets, "cat", "dog", 0.9)
    assert sorted(plain["unit"]) == sorted(shared["unit"]) and plain["ap_a"].isna().all()
    assert shared_experts(idx, "cat", "car", 0.9).empty


def test_domain_recompute_is_fast_for_forty_concepts():
    """Graph + scores of 40 concepts at a new τ once the index is loaded (budget 100 ms; loose bound here)."""
    rng = np.random.default_rng(0)
    domains = {f"c{i}": f"d{i // 4}" for i in range(40)}
    n_units = 50_000
    rows = []
    for i, c in enumerate(domains):
        block = (i // 4) * 1000 + np.arange(800)
        rows.append(pd.DataFrame({"concept": c, "fold": 0, "unit": block, "ap": rng.uniform(0.6, 1.0, block.size)}))
        other = rng.choice(np.arange(10_000, n_units), 4000, replace=False)
        rows.append(pd.DataFrame({"concept": c, "fold": 0, "unit": other, "ap": rng.uniform(0.5, 0.8, other.size)}))
    idx = ExpertIndex.from_frame(pd.concat(rows), n_units=n_units)
    domain_analysis(idx, domains, 0.5)
    start = time.perf_counter()
    _, scores = domain_analysis(idx, domains, 0.62)
    assert time.perf_counter() - start < 0.5
    assert scores["ari"] == 1.0
