"""The concept-domain view (the paper's Fig. 3): the graph of listed concepts at one τ, laid out and scored.

Scores come from the full graph and positions from its graph at one τ (``LAYOUT_TAU``), so filtering domains,
raising the edge cut-off or moving τ changes what is drawn, never the numbers or where a concept sits.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from core.analysis.measures import DOMAIN_MEASURE
from core.tau import TAU_DEFAULT

from . import style

LAYOUT_TAU = TAU_DEFAULT  # the τ whose graph places the concepts at every τ


def domain_concepts(
    domains: Mapping[str, str], available: Iterable[str], chosen: Iterable[str] | None = None
) -> dict[str, str]:
    """``{concept: domain}`` of the listed concepts the run has, limited to ``chosen`` domains if given."""
    have = set(available)
    keep = set(chosen) if chosen else None
    return {c: d for c, d in domains.items() if c in have and (keep is None or d in keep)}


def graph_edges(graph) -> pd.DataFrame:
    """Edges of a domain graph as a table (a, b, weight, shared, same_domain), strongest first."""
    rows = []
    for a, b, data in graph.edges(data=True):
        a, b = sorted((a, b))
        da, db = graph.nodes[a].get("domain"), graph.nodes[b].get("domain")
        rows.append((a, b, float(data.get("weight", 0.0)), int(data.get("shared", 0)), da == db))
    t = pd.DataFrame(rows, columns=["a", "b", "weight", "shared", "same_domain"])
    return t.sort_values(["weight", "a", "b"], ascending=[False, True, True], ignore_index=True)


def cut_graph(graph, min_weight: float, keep_nodes: Iterable[str] | None = None):
    """A copy of ``graph`` with edges below ``min_weight`` dropped and only ``keep_nodes`` (if given)."""
    g = graph.copy() if keep_nodes is None else graph.subgraph(list(keep_nodes)).copy()
    g.remove_edges_from([(a, b) for a, b, w in g.edges(data="weight") if (w or 0.0) < min_weight])
    return g


def layout(
    graph, seed: int = 0, width: float = 640.0, height: float = 480.0, min_dist: float = 70.0
) -> dict[str, tuple[float, float]]:
    """Seeded spring layout in pixels: the same graph and seed always give the same picture.

    Strong links pull concepts together, but every pair also gets a faint link
    so that separate components stay in view, and nodes closer than
    ``min_dist`` are pushed apart afterwards so that labels stay readable.
    """
    import networkx as nx

    nodes = sorted(graph.nodes)
    if not nodes:
        return {}
    g = nx.Graph()
    g.add_nodes_from(nodes)
    for i, a in enumerate(nodes):
        for b in nodes[i + 1 :]:
            w = graph[a][b].get("weight", 0.0) if graph.has_edge(a, b) else 0.0
            g.add_edge(a, b, w=0.02 + float(w or 0.0))
    pos = nx.spring_layout(g, weight="w", seed=seed, k=1.0 / math.sqrt(len(nodes)), iterations=200)
    xy = np.array([pos[n] for n in nodes], dtype=np.float64)
    xy -= xy.mean(axis=0)
    span = np.abs(xy).max(axis=0)
    span[span == 0] = 1.0
    xy = xy / span * np.array([width / 2, height / 2])
    xy = _spread(xy, min_dist)
    return {n: (round(float(x), 1), round(float(y), 1)) for n, (x, y) in zip(nodes, xy)}


def _spread(xy: np.ndarray, min_dist: float, rounds: int = 60) -> np.ndarray:
    """Push apart points closer than ``min_dist`` (deterministic: ties are broken by index)."""
    xy = xy.copy()
    n = len(xy)
    if n < 2:
        return xy
    jitter = np.stack([np.cos(np.arange(n)), np.sin(np.arange(n))], axis=1) * 1e-3
    for _ in range(rounds):
        d = xy[:, None, :] - xy[None, :, :]
        dist = np.sqrt((d**2).sum(-1))
        np.fill_diagonal(dist, 2 * min_dist)  # a point never pushes itself
        close = dist < min_dist
        if not close.any():
            break
        d = np.where((dist == 0)[..., None], jitter[:, None, :] - jitter[None, :, :], d)
        dist = np.where(dist == 0, 1e-3, dist)
        push = np.where(close, (min_dist - dist) / 2 / dist, 0.0)[..., None] * d
        xy += push.sum(axis=1)
    return xy


def domain_layout(index, listed_all: Mapping[str, str], seed: int = 0) -> dict[str, tuple[float, float]]:
    """Where each listed concept sits: the seeded layout of the graph at ``LAYOUT_TAU``, whatever τ is drawn.

    One τ for the layout keeps every concept in place while τ moves, so two τ can be compared by eye.
    """
    from core.analysis.domains import domain_graph

    sets = index.sets(LAYOUT_TAU)
    listed = domain_concepts(listed_all, sets)
    return layout(domain_graph(sets, listed, 0.0), seed=seed)


def domain_view(
    index,
    listed_all: Mapping[str, str],
    tau: float,
    chosen: Iterable[str] = (),
    min_weight: float = 0.0,
    seed: int = 0,
    positions: Mapping[str, tuple[float, float]] | None = None,
    measure: str = DOMAIN_MEASURE,
) -> dict:
    """Everything the concept-domain page draws at one τ (the paper's Fig. 3).

    Scores (ARI/NMI of Louvain communities vs domains) come from the full graph
    of the listed concepts the run has, and positions from ``domain_layout``
    (one τ for all, unless ``positions`` are given), so filtering domains,
    raising the edge cut-off or moving τ never moves a concept. ``measure`` weights the links (one of
    ``measures.concept_measures``; the reciprocal overlap by default).
    Returns network (a ``netview.NetworkView`` to draw), scores, edges, nodes, n_nodes,
    n_edges and domains.
    """
    from core.analysis.domains import domain_graph, domain_scores, find_communities
    from core.analysis.measures import MEASURES, concept_matrix

    from .netview import network_view

    sets = index.sets(tau)
    listed = domain_concepts(listed_all, sets)
    weights = None if measure == DOMAIN_MEASURE else concept_matrix(index, measure, tau, concepts=list(listed))
    full = domain_graph(sets, listed, 0.0, weights)
    scores = domain_scores(full, listed, seed=seed)
    communities = find_communities(full, seed=seed)
    positions = domain_layout(index, listed_all, seed) if positions is None else positions
    chosen = set(chosen)
    keep = [c for c, d in listed.items() if not chosen or d in chosen]
    shown = cut_graph(full, min_weight, keep)
    colours = style.colours(listed_all.values())
    caption = (
        f"{shown.number_of_nodes()} concepts · {shown.number_of_edges()} links with {MEASURES[measure].short} ≥ "
        f"{min_weight:.2f} · τ = {tau:.2f}. Click a link for its shared experts."
    )
    nodes = pd.DataFrame(
        [(c, listed[c], communities.get(c), full.nodes[c]["n_experts"]) for c in listed],
        columns=["concept", "domain", "community", "n_experts"],
    )
    return {
        "network": network_view(shown, colours, positions, caption=caption),
        "scores": scores,
        "edges": graph_edges(shown),
        "nodes": nodes,
        "n_nodes": shown.number_of_nodes(),
        "n_edges": shown.number_of_edges(),
        "domains": list(dict.fromkeys(listed.values())),
    }
