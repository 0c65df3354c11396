"""The concept-domain view: network page, seeded layout, edges and cut-off."""

from __future__ import annotations

import json
import re

import networkx as nx
import numpy as np

from core.render import domain_view
from core.render.netview import network_html
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


def test_network_html_is_offline_and_escaped():
    g = _graph()
    page = network_html(g, colours([XSS, "vehicle"]), domain_view.layout(g), caption="</script><b>x</b>")
    assert "vis-network" in page or "vis.Network" in page
    assert "bootstrap" not in page.lower()
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", page)
    assert XSS not in page and "<b>x</b>" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page  # legend: escaped markup
    assert "\\u003cimg src=x onerror=alert(1)\\u003e" in page  # data: JSON with < and > escaped
    data = page[page.index("nodes = new vis.DataSet(") :]
    assert data.index('"id": "bus"') < data.index('"id": "car"')  # sorted, so the same graph is the same page


def test_network_html_never_uses_pyvis_link_tooltips():
    """pyvis shows titles with innerHTML when one contains "href"; our pages never take that path."""
    g = _graph('<a href="javascript:alert(1)">x</a>')
    page = network_html(g, colours(['<a href="javascript:alert(1)">x</a>', "vehicle"]), domain_view.layout(g))
    assert "popup.innerHTML" not in page and 'href="javascript' not in page


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
        page = view["html"]
        nodes, _ = json.JSONDecoder().raw_decode(page[page.index("nodes = new vis.DataSet(") + 24 :])
        return {n["id"]: (n["x"], n["y"]) for n in nodes}

    assert placed(low) and placed(low) == placed(high)
