"""A concept network as one self-contained HTML page (pyvis / vis-network), safe to embed and to share.

Three things the plain pyvis output gets wrong for a shared dashboard are fixed here:

* Offline rendering: pyvis' default ``cdn_resources="local"`` and ``"remote"`` point
  the page at a CDN and render a blank frame without network. ``"in_line"`` embeds
  vis-network, and the Bootstrap ``<link>``/``<script>`` tags pyvis always adds are
  removed, so the page loads nothing from anywhere.
* Reproducibility: node positions come from a seeded spring layout computed here
  and physics is off, so the same link always draws the same picture.
* Escaping: node and edge data reach the page only as JSON through Jinja's
  ``tojson`` (``<``, ``>``, ``&`` and ``'`` become ``\\u`` escapes, so nothing can
  close the script tag), and vis-network shows string tooltips with
  ``innerText``. Everything written as markup here (legend, info box) goes
  through ``html.escape``.
"""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Mapping
from functools import lru_cache

from .style import rgba

EDGE_GREY = "rgba(120,120,120,0.45)"
_BOOTSTRAP = re.compile(
    r"<link[^>]*bootstrap[^>]*>\s*|<script[^>]*bootstrap[^>]*>\s*</script>\s*", re.IGNORECASE | re.DOTALL
)
_EMPTY_HEADING = re.compile(r"<center>\s*<h1>\s*</h1>\s*</center>\s*", re.IGNORECASE)
_EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", re.IGNORECASE)


NODES_EMPTY = "nodes = new vis.DataSet([]);"
EDGES_EMPTY = "edges = new vis.DataSet([]);"
OPTIONS = {
    "physics": {"enabled": False},
    "interaction": {"hover": True, "tooltipDelay": 80, "navigationButtons": False, "zoomView": True},
    "nodes": {"shape": "dot", "font": {"size": 16, "face": "sans-serif"}, "borderWidth": 1},
    "edges": {"smooth": False},
    "layout": {"randomSeed": 0, "improvedLayout": False},
}


@lru_cache(maxsize=8)
def _shell(height: int) -> str:
    """pyvis' page for an empty network, rendered once per height (compiling the template with the
    inlined vis-network takes ~150 ms; filling in the data is then a string replacement)."""
    from pyvis.network import Network

    net = Network(height=f"{int(height)}px", width="100%", cdn_resources="in_line", bgcolor="#ffffff")
    net.set_options(json.dumps(OPTIONS))
    page = net.generate_html()
    if page.count(NODES_EMPTY) != 1 or page.count(EDGES_EMPTY) != 1:
        raise RuntimeError("unexpected pyvis template: cannot find where the network data goes")
    page = _BOOTSTRAP.sub("", page)
    page = _EMPTY_HEADING.sub("", page)
    if _EXTERNAL.search(page):
        raise RuntimeError("the network page still references an external resource")
    return page


def network_html(
    graph,
    colours: Mapping[str, str],
    positions: Mapping[str, tuple[float, float]],
    height: int = 560,
    caption: str = "",
) -> str:
    """HTML of a domain graph: nodes coloured by domain, edge width ∝ weight, with a legend.

    Parameters
    ----------
    graph : networkx graph with node attrs ``domain``, ``n_experts`` and edge attrs ``weight``, ``shared``.
    colours : ``{domain: "#rrggbb"}``.
    positions : ``{node: (x, y)}`` in pixels (see ``core.render.domain_view.layout``).
    height : frame height in pixels.
    caption : a line of plain text under the legend (escaped).

    Nodes and edges are built with pyvis and written into pyvis' page as JSON
    with ``<``, ``>``, ``&`` and ``'`` escaped (what Jinja's ``tojson`` does), so no
    text from the store can end the script. Doing this here rather than in
    ``generate_html`` also keeps pyvis from switching to its link-tooltip
    template (which shows titles with ``innerHTML``) when a title contains "href".
    """
    from jinja2.utils import htmlsafe_json_dumps
    from pyvis.network import Network

    net = Network(height=f"{int(height)}px", width="100%", cdn_resources="in_line")
    sizes = [int(d.get("n_experts", 0) or 0) for _, d in graph.nodes(data=True)]
    max_size = max(sizes + [1])
    for node, data in sorted(graph.nodes(data=True)):
        domain = str(data.get("domain", "") or "")
        n = int(data.get("n_experts", 0) or 0)
        x, y = positions.get(node, (0.0, 0.0))
        net.add_node(
            str(node),
            label=str(node),
            title=f"{node}\ndomain: {domain or '—'}\n{n} experts",
            color=colours.get(domain, "#888888"),
            size=round(10 + 20 * math.sqrt(n / max_size), 2),
            x=x,
            y=y,
            physics=False,
        )
    weights = [float(w or 0.0) for _, _, w in graph.edges(data="weight")]
    max_w = max(weights + [1e-9])
    for a, b, data in sorted(graph.edges(data=True), key=lambda e: (str(e[0]), str(e[1]))):
        w = float(data.get("weight", 0.0) or 0.0)
        da, db = graph.nodes[a].get("domain"), graph.nodes[b].get("domain")
        colour = rgba(colours[da], 0.7) if da == db and da in colours else EDGE_GREY
        net.add_edge(
            str(a),
            str(b),
            width=round(1 + 9 * w / max_w, 2),
            color=colour,
            title=f"{a} – {b}\nreciprocal overlap {w:.3f}\n{int(data.get('shared', 0) or 0)} shared experts",
            weight=round(w, 6),
            shared=int(data.get("shared", 0) or 0),
        )
    page = _shell(int(height))
    page = page.replace(NODES_EMPTY, f"nodes = new vis.DataSet({htmlsafe_json_dumps(net.nodes)});", 1)
    page = page.replace(EDGES_EMPTY, f"edges = new vis.DataSet({htmlsafe_json_dumps(net.edges)});", 1)
    shown = [d for d in colours if any((dd.get("domain") or "") == d for _, dd in graph.nodes(data=True))]
    return _finish(page, colours, shown, caption)


def _finish(page: str, colours: Mapping[str, str], shown: list[str], caption: str) -> str:
    """Add the legend and the edge info box, and check nothing external remains."""
    items = "".join(
        f'<span class="lg"><span class="dot" style="background:{html.escape(colours[d])}"></span>'
        f"{html.escape(d or '(no domain)')}</span>"
        for d in shown
    )
    legend = (
        '<div id="legend" style="font:13px sans-serif;margin:6px 4px;line-height:1.9">'
        f"{items}</div>"
        '<div id="edge-info" style="font:13px sans-serif;margin:2px 4px;color:#333;min-height:1.2em">'
        f"{html.escape(caption)}</div>"
        "<style>.lg{margin-right:14px;white-space:nowrap}.dot{display:inline-block;width:11px;height:11px;"
        "border-radius:50%;margin-right:5px;vertical-align:-1px}body{margin:0}#mynetwork{border:0!important}</style>"
        "<script>"
        "network.on('click', function (p) {"
        "  var box = document.getElementById('edge-info');"
        "  if (p.edges.length && !p.nodes.length) {"
        "    var e = edges.get(p.edges[0]);"
        "    box.textContent = e.from + ' \u2013 ' + e.to + ': ' + e.shared + ' shared experts, overlap '"
        "      + Number(e.weight).toFixed(3) + '. Pick this pair under the graph to list them.';"
        "  } else if (p.nodes.length) {"
        "    var n = nodes.get(p.nodes[0]); box.textContent = n.title.replace(/\\n/g, ' \u00b7 ');"
        "  }"
        "});"
        "</script>"
    )
    if _EXTERNAL.search(legend):  # the shell was checked once in _shell; only this part is new
        raise RuntimeError("the network page would reference an external resource")
    return page.replace("</body>", legend + "</body>", 1)
