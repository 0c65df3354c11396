"""Do embeddings recover the same domains? Domain recovery from embedding cosines, beside expert overlap.

Every representation goes through the same construction as expert overlap (``domains``): a concept graph with an
edge wherever the pair's weight exceeds ``min_weight`` (0: a negative cosine is no edge), communities by seeded
Louvain, scored by ``domain_scores`` (ARI, NMI, mean within/between-domain weight with a missing edge counting 0).
The weights are reciprocal expert overlap for experts and the cosine of word or sentence embeddings for the
baselines, raw or centred (the mean vector over the run's concepts subtracted first: raw embedding cosines are
nearly uniform, so centring is what gives them a chance). Two uncertainties: over Louvain seeds ``0 … n_seeds−1``
(the graph fixed: the spread of the clustering), and over concepts (``n_draws`` subsamples that drop one concept
of each domain at random and score the rest's subgraph with seed ``seed``: how much the result rests on which
concepts were picked).
"""

from __future__ import annotations

from collections.abc import Mapping

import networkx as nx
import numpy as np
import pandas as pd

from core.experts.index import ExpertIndex
from core.experts.overlap import cosine_rows

from .domains import domain_analysis, domain_scores

N_SEEDS = 100  # Louvain seeds for the spread of ARI and NMI
N_DRAWS = 200  # concept subsamples (one concept of each domain left out) for the spread over concepts
EMBEDDINGS = ("word", "sentence")


def weight_graph(names: list[str], weight: np.ndarray, domains: Mapping[str, str], min_weight: float = 0.0) -> nx.Graph:
    """Concept graph of a (n, n) weight matrix: an edge where the weight exceeds ``min_weight`` (as ``domain_graph``)."""
    g = nx.Graph()
    g.add_nodes_from((c, {"domain": domains[c]}) for c in names)
    rows, cols = np.nonzero(np.triu(weight > min_weight, k=1))
    g.add_edges_from((names[i], names[j], {"weight": float(weight[i, j])}) for i, j in zip(rows, cols))
    return g


def cosine_weights(vectors: Mapping[str, np.ndarray], names: list[str], centred: bool) -> np.ndarray:
    """(n, n) cosines of the named concepts' vectors; ``centred`` subtracts the mean over all of ``vectors`` first."""
    x = np.vstack([np.asarray(vectors[c], np.float64) for c in names])
    if centred:
        x = x - np.vstack([np.asarray(v, np.float64) for v in vectors.values()]).mean(axis=0)
    n = len(names)
    i, j = np.repeat(np.arange(n), n), np.tile(np.arange(n), n)
    return cosine_rows(x[i], x[j]).reshape(n, n)


def seed_spread(graph: nx.Graph, domains: Mapping[str, str], seed: int = 0, n_seeds: int = N_SEEDS) -> dict:
    """``domain_scores`` at ``seed``, plus the mean and 2.5–97.5% range of ARI and NMI over seeds 0 … n_seeds−1."""
    scores = domain_scores(graph, domains, seed)
    runs = [domain_scores(graph, domains, s) for s in range(n_seeds)]
    for key in ("ari", "nmi"):
        values = np.array([r[key] for r in runs], dtype=np.float64)
        ok = values[np.isfinite(values)]
        scores[f"{key}_mean"] = float(ok.mean()) if ok.size else float("nan")
        lo, hi = np.quantile(ok, [0.025, 0.975]) if ok.size else (float("nan"), float("nan"))
        scores[f"{key}_low"], scores[f"{key}_high"] = float(lo), float(hi)
    scores["n_seeds"] = n_seeds
    return scores


def concept_spread(graph: nx.Graph, domains: Mapping[str, str], seed: int = 0, n_draws: int = N_DRAWS) -> dict:
    """2.5–97.5% range of ARI and NMI over subgraphs that leave one random concept of each domain out."""
    by_domain: dict[str, list[str]] = {}
    for c in graph.nodes:
        if c in domains:
            by_domain.setdefault(domains[c], []).append(c)
    rng = np.random.default_rng(seed)
    values: dict[str, list[float]] = {"ari": [], "nmi": []}
    for _ in range(n_draws):
        kept = [c for cs in by_domain.values() for c in (rng.permutation(cs)[1:] if len(cs) > 1 else cs)]
        scores = domain_scores(graph.subgraph(kept), domains, seed)
        for key in values:
            values[key].append(scores[key])
    out: dict = {"n_draws": n_draws}
    for key, v in values.items():
        ok = np.asarray(v, dtype=np.float64)
        ok = ok[np.isfinite(ok)]
        lo, hi = np.quantile(ok, [0.025, 0.975]) if ok.size else (float("nan"), float("nan"))
        out[f"{key}_concepts_low"], out[f"{key}_concepts_high"] = float(lo), float(hi)
    return out


def domain_baselines(
    index: ExpertIndex, domains: Mapping[str, str], tau: float = 0.5, *, fold: int = 0, min_weight: float = 0.0,
    seed: int = 0, n_seeds: int = N_SEEDS, n_draws: int = N_DRAWS,
) -> pd.DataFrame:  # fmt: skip
    """One row per representation (experts; word and sentence embeddings, raw and centred) of domain recovery.

    Experts use the run's expert sets at τ (``domain_analysis``, so the seed-``seed`` row equals the report's domain
    table); an embedding is scored on the domain concepts that have a vector. Columns: representation, weight,
    centred, ari, nmi, within_mean, between_mean, ratio, n_communities, n_concepts, and the seed spread.
    """
    graph, _ = domain_analysis(index, domains, tau, fold, min_weight, seed)
    rows = [
        {"representation": "experts", "weight": "reciprocal overlap", "centred": False}
        | seed_spread(graph, domains, seed, n_seeds)
        | concept_spread(graph, domains, seed, n_draws)
    ]
    for kind in EMBEDDINGS:
        vectors = index.vectors.get(kind) or {}
        names = [c for c in domains if c in vectors]
        for centred in (False, True):
            if len(names) < 2:
                continue
            g = weight_graph(names, cosine_weights(vectors, names, centred), domains, min_weight)
            row = {"representation": f"{kind}_embedding", "weight": "cosine", "centred": centred}
            rows.append(row | seed_spread(g, domains, seed, n_seeds) | concept_spread(g, domains, seed, n_draws))
    return pd.DataFrame(rows)
