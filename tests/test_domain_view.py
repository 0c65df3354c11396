"""The concept-domain view: network page, seeded layout, edges and cut-off."""

from __future__ import annotations

import re

import networkx as nx
import numpy as np

from core import domain_view
from core.netview import network_html
from core.style import colours

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
