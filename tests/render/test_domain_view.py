"""The concept-domain view: the network's data and frame, seeded layout, edges and cut-off."""

from __future__ import annotations

import json
import os
import re

import networkx as nx
import numpy as np

from core.render import domain_view
from core.render.netview import network_view, vis_network_files
from core.render.style import colours

XSS = "<img src=x onerror=alert(1)>"


def _graph(domain: str = XSS) -> nx.Graph:
    g = nx.Graph()
    for c, d, n in [("cat", domain, 30), ("dog", domain, 20), ("car", "vehicle", 10), ("bus", "vehicle", 12)]:
        g.add_node(c, domain=d, n_experts=n)
    g.add_edge("cat", "dog", weight=0.6, shared=14)
    g.add_edge("car", "bus", weight=0.4, shared=5)
    g.add_edge("cat", "car", weight=0.05, shared=1)
    return g


FRONTEND = os.path.join(os.path.dirname(__file__), "..", "..", "ui", "network_frontend", "index.html")


def test_network_view_is_sorted_json_data():
    g = _graph()
    view = network_view(g, colours([XSS, "vehicle"]), domain_view.layout(g), caption="</script><b>x</b>")
    data = json.loads(json.dumps(view.to_json()))  # plain JSON: what the frame receives
    assert [n["id"] for n in data["nodes"]] == ["bus", "car", "cat", "dog"]  # the same graph is the same data
    assert [(e["from"], e["to"]) for e in data["edges"]] == [("car", "bus"), ("cat", "car"), ("cat", "dog")]
    assert len({e["id"] for e in data["edges"]}) == 3  # ids let the frame update links in place
    assert data["legend"] == [[XSS, colours([XSS, "vehicle"])[XSS]], ["vehicle", colours([XSS, "vehicle"])["vehicle"]]]
    assert data["caption"] == "</script><b>x</b>" and data["options"]["physics"]["enabled"] is False
    cat = next(n for n in data["nodes"] if n["id"] == "cat")
    assert cat["size"] == 30.0 and "30 experts" in cat["title"]  # the largest expert set draws the largest node


def test_network_frame_writes_text_only_and_loads_nothing_from_elsewhere():
    """The frame sets store text with textContent and loads vis-network from its own folder (no CDN)."""
    page = open(FRONTEND).read()
    assert "innerHTML" not in page and "insertAdjacentHTML" not in page and "document.write" not in page
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", page)
    assert set(re.findall(r'(?:src|href)="([^"]+)"', page)) == set(vis_network_files())
    assert all(os.path.getsize(p) > 10_000 for p in vis_network_files().values())


def test_layout_is_seeded_and_spread():
    g = _graph("animal")
    a, b = domain_view.layout(g, seed=0), domain_view.layout(g, seed=0)
    assert a == b
    assert domain_view.layout(g, seed=1) != a
    xy = np.array(list(a.values()))
    d = np.sqrt(((xy[:, None] - xy[None]) ** 2).sum(-1)) + np.eye(len(xy)) * 1e9
    assert d.min() > 60  # no two nodes on top of each other
    assert domain_view.layout(nx.Graph()) == {}


def test_graph_edges_and_cut():
    g = _graph("animal")
    e = domain_view.graph_edges(g)
    assert list(e["weight"]) == sorted(e["weight"], reverse=True) and all(e["a"] < e["b"])
    cut = domain_view.cut_graph(g, 0.3, ["cat", "dog", "car"])
    assert sorted(cut.nodes) == ["car", "cat", "dog"] and list(cut.edges) == [("cat", "dog")]
    assert g.number_of_edges() == 3  # the original is untouched


def test_positions_do_not_move_with_tau():
    class Index:
        concepts = ["cat", "dog", "car", "bus"]

        def sets(self, tau):  # more experts overlap at a low τ: the graph changes with τ
            n = int(100 * (1 - tau))
            s = {"cat": range(n), "dog": range(n // 2, n + 10), "car": range(900, 900 + n), "bus": range(950, 950 + n)}
            return {c: np.array(list(r), dtype=np.int64) for c, r in s.items()}

    listed = {"cat": "animal", "dog": "animal", "car": "vehicle", "bus": "vehicle"}
    low, high = (domain_view.domain_view(Index(), listed, t) for t in (0.5, 0.9))
    assert low["edges"]["weight"].tolist() != high["edges"]["weight"].tolist()

    def placed(view):
        return {n["id"]: (n["x"], n["y"]) for n in view["network"].nodes}

    assert placed(low) and placed(low) == placed(high)
