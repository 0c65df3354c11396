"""Semantic domains in expert overlap (the paper's Fig. 3).

Concepts are nodes; two concepts are linked by how much their expert sets
overlap. If experts carry meaning, concepts of one domain (animals, colours,
...) should form communities that a graph clustering finds without being told
the domains.
"""

from __future__ import annotations

from collections.abc import Mapping

import networkx as nx
import numpy as np
import pandas as pd

from core.experts.index import ExpertIndex
from core.experts.overlap import intersections, sets_matrix

from .measures import reciprocal_from_counts


def _graph(
    names: list[str],
    inter: np.ndarray,
    domains: Mapping[str, str],
    min_weight: float,
    weights: pd.DataFrame | None = None,
) -> nx.Graph:
    """Graph of concepts from a shared-count matrix whose diagonal holds the set sizes (``weights``: edge weights
    by concept instead of the reciprocal overlap)."""
    sizes = np.diag(inter)
    if weights is None:
        weight = reciprocal_from_counts(inter, sizes[:, None], sizes[None, :])
    else:
        weight = weights.reindex(index=names, columns=names).fillna(0.0).to_numpy(np.float64)
    g = nx.Graph()
    g.add_nodes_from((c, {"domain": domains[c], "n_experts": int(inter[i, i])}) for i, c in enumerate(names))
    rows, cols = np.nonzero(np.triu(weight > min_weight, k=1))
    g.add_edges_from(
        (names[i], names[j], {"weight": float(weight[i, j]), "shared": int(inter[i, j])}) for i, j in zip(rows, cols)
    )
    return g


def domain_graph(
    sets: Mapping[str, np.ndarray],
    domains: Mapping[str, str],
    min_weight: float = 0.0,
    weights: pd.DataFrame | None = None,
) -> nx.Graph:
    """Concept graph weighted by reciprocal overlap of expert sets (or by ``weights``, a concept × concept
    matrix of another measure: ``measures.concept_matrix``).

    Nodes are the concepts present in both ``sets`` and ``domains`` (in
    ``domains`` order), with attributes ``domain`` and ``n_experts``; an edge
    joins two concepts when their weight exceeds ``min_weight`` and carries
    ``weight`` (reciprocal overlap) and ``shared`` (number of shared experts).
    """
    names, x = sets_matrix({c: sets[c] for c in domains if c in sets})
    return _graph(names, intersections(x), domains, min_weight, weights)


def find_communities(graph: nx.Graph, seed: int = 0) -> dict[str, int]:
    """``{concept: community}`` by Louvain modularity on edge weights (seeded, so repeatable).

    Communities are numbered by their alphabetically first member, so the
    numbering does not depend on the order Louvain returns them in.
    """
    if graph.number_of_nodes() == 0:
        return {}
    found = nx.community.louvain_communities(graph, weight="weight", seed=seed)
    found = sorted(found, key=lambda members: min(members))
    return {c: k for k, members in enumerate(found) for c in members}


def domain_scores(graph: nx.Graph, domains: Mapping[str, str], seed: int = 0) -> dict:
    """How well expert-overlap communities recover the true domains.

    Returns ``ari`` and ``nmi`` (scikit-learn's adjusted Rand index and
    normalised mutual information of Louvain communities vs domains),
    ``within_mean`` / ``between_mean`` (mean edge weight over *all* concept
    pairs of the same / different domains, a missing edge counting 0),
    their ``ratio`` (inf when between is 0 and within is not), and
    ``n_communities`` and ``n_concepts``.
    """
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    nodes = [c for c in graph.nodes if c in domains]
    nan = float("nan")
    if len(nodes) < 2:
        return {
            "ari": nan,
            "nmi": nan,
            "within_mean": nan,
            "between_mean": nan,
            "ratio": nan,
            "n_communities": len(nodes),
            "n_concepts": len(nodes),
        }
    communities = find_communities(graph.subgraph(nodes), seed)
    truth = [domains[c] for c in nodes]
    found = [communities[c] for c in nodes]
    w = nx.to_numpy_array(graph, nodelist=nodes, weight="weight")
    labels = np.asarray(truth, dtype=object)
    same = labels[:, None] == labels[None, :]
    upper = np.triu(np.ones_like(same), k=1)
    within_pairs, between_pairs = w[same & upper], w[~same & upper]
    within = float(within_pairs.mean()) if within_pairs.size else nan
    between = float(between_pairs.mean()) if between_pairs.size else nan
    if between > 0:
        ratio = within / between
    elif between == 0 and within > 0:
        ratio = float("inf")
    else:
        ratio = nan
    return {
        "ari": float(adjusted_rand_score(truth, found)),
        "nmi": float(normalized_mutual_info_score(truth, found)),
        "within_mean": within,
        "between_mean": between,
        "ratio": ratio,
        "n_communities": len(set(found)),
        "n_concepts": len(nodes),
    }


def domain_analysis(
    index: ExpertIndex,
    domains: Mapping[str, str],
    tau: float = 0.5,
    fold: int = 0,
    min_weight: float = 0.0,
    seed: int = 0,
) -> tuple[nx.Graph, dict]:
    """(graph, scores) of a run at τ: ``domain_graph`` of its expert sets and ``domain_scores``.

    Only the domain concepts' sets are built, so a new τ costs a few milliseconds.
    """
    graph = domain_graph(index.sets(tau, fold, concepts=list(domains)), domains, min_weight)
    return graph, domain_scores(graph, domains, seed)


def shared_experts(
    index_or_sets: ExpertIndex | Mapping[str, np.ndarray],
    a: str,
    b: str,
    tau: float = 0.5,
    units_table: pd.DataFrame | None = None,
    fold: int = 0,
) -> pd.DataFrame:
    """The units that are experts of both ``a`` and ``b`` at τ.

    Columns unit, ap_a, ap_b (the two APs; NaN when given plain sets, which
    carry none), plus layer/module/kind/... from ``units_table`` if given.
    Sorted by the weaker of the two APs, strongest first.
    """
    if isinstance(index_or_sets, ExpertIndex):
        ea = index_or_sets.experts(a, tau, fold).set_index("unit")["ap"]
        eb = index_or_sets.experts(b, tau, fold).set_index("unit")["ap"]
        units = np.intersect1d(ea.index.to_numpy(), eb.index.to_numpy())
        out = pd.DataFrame({"unit": units, "ap_a": ea.loc[units].to_numpy(), "ap_b": eb.loc[units].to_numpy()})
    else:
        for c in (a, b):
            if c not in index_or_sets:
                raise KeyError(f"concept {c!r} has no expert set")
        units = np.intersect1d(index_or_sets[a], index_or_sets[b])
        out = pd.DataFrame({"unit": units, "ap_a": np.nan, "ap_b": np.nan})
    if units_table is not None and not units_table.empty:
        out = out.merge(units_table, on="unit", how="left")
    weaker = np.fmin(out["ap_a"].to_numpy(np.float64), out["ap_b"].to_numpy(np.float64))
    order = np.lexsort((out["unit"].to_numpy(), -np.nan_to_num(weaker, nan=0.0)))
    return out.iloc[order].reset_index(drop=True)
