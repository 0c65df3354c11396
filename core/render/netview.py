"""A concept network as data for vis-network (the library pyvis ships): nodes, links, legend and drawing options.

The dashboard draws it with one persistent frame (``ui.network_component``) that loads vis-network once and
receives only this data at each τ, so a τ step sends tens of kilobytes instead of a page with the library inlined.
What the drawing must guarantee is decided here:

* Reproducibility: node positions come from a seeded spring layout (``domain_view.layout``) and physics is off,
  so the same link always draws the same picture.
* Escaping: everything reaches the frame as JSON data, never as markup; the frame writes the legend and the
  link box with ``textContent``, and vis-network shows string tooltips with ``innerText``.
* Offline: vis-network is read from the installed pyvis package (``vis_network_files``); nothing is fetched
  from a CDN.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from .style import rgba

EDGE_GREY = "rgba(120,120,120,0.45)"
OPTIONS = {
    "physics": {"enabled": False},
    "interaction": {"hover": True, "tooltipDelay": 80, "navigationButtons": False, "zoomView": True},
    "nodes": {"shape": "dot", "font": {"size": 16, "face": "sans-serif"}, "borderWidth": 1},
    "edges": {"smooth": False},
    "layout": {"randomSeed": 0, "improvedLayout": False},
}
VIS_VERSION = "vis-9.1.2"  # the vis-network build inside pyvis' templates/lib


@dataclass(frozen=True)
class NetworkView:
    """One drawing of a concept network: vis-network node and edge records, the legend and a caption line.

    ``nodes`` carry id, label, title (tooltip text), color, size, x, y; ``edges`` from, to, width, color, title,
    weight and shared (the number of shared experts). ``legend`` is ``[(domain, colour)]`` of the domains shown.
    """

    nodes: list[dict]
    edges: list[dict]
    legend: list[tuple[str, str]]
    caption: str = ""
    height: int = 560
    options: dict = field(default_factory=lambda: OPTIONS)

    def to_json(self) -> dict:
        """The view as plain JSON data (what the frame receives)."""
        return {
            "nodes": self.nodes,
            "edges": self.edges,
            "legend": [list(item) for item in self.legend],
            "caption": self.caption,
            "height": self.height,
            "options": self.options,
        }


def network_view(
    graph,
    colours: Mapping[str, str],
    positions: Mapping[str, tuple[float, float]],
    height: int = 560,
    caption: str = "",
) -> NetworkView:
    """A domain graph to draw: nodes coloured by domain and sized by expert count, link width ∝ weight.

    Parameters
    ----------
    graph : networkx graph with node attrs ``domain``, ``n_experts`` and edge attrs ``weight``, ``shared``.
    colours : ``{domain: "#rrggbb"}``.
    positions : ``{node: (x, y)}`` in pixels (see ``core.render.domain_view.layout``).
    height : the drawing's height in pixels.
    caption : a line of plain text under the legend.
    """
    sizes = [int(d.get("n_experts", 0) or 0) for _, d in graph.nodes(data=True)]
    max_size = max(sizes + [1])
    nodes = []
    for node, data in sorted(graph.nodes(data=True)):
        domain = str(data.get("domain", "") or "")
        n = int(data.get("n_experts", 0) or 0)
        x, y = positions.get(node, (0.0, 0.0))
        nodes.append(
            {
                "id": str(node),
                "label": str(node),
                "title": f"{node}\ndomain: {domain or '—'}\n{n} experts",
                "color": colours.get(domain, "#888888"),
                "size": round(10 + 20 * math.sqrt(n / max_size), 2),
                "x": float(x),
                "y": float(y),
            }
        )
    weights = [float(w or 0.0) for _, _, w in graph.edges(data="weight")]
    max_w = max(weights + [1e-9])
    edges = []
    for a, b, data in sorted(graph.edges(data=True), key=lambda e: (str(e[0]), str(e[1]))):
        w = float(data.get("weight", 0.0) or 0.0)
        da, db = graph.nodes[a].get("domain"), graph.nodes[b].get("domain")
        shared = int(data.get("shared", 0) or 0)
        edges.append(
            {
                "id": f"{a}\u2013{b}",
                "from": str(a),
                "to": str(b),
                "width": round(1 + 9 * w / max_w, 2),
                "color": rgba(colours[da], 0.7) if da == db and da in colours else EDGE_GREY,
                "title": f"{a} – {b}\nreciprocal overlap {w:.3f}\n{shared} shared experts",
                "weight": round(w, 6),
                "shared": shared,
            }
        )
    domains = {str(d.get("domain", "") or "") for _, d in graph.nodes(data=True)}
    legend = [(d, colours[d]) for d in colours if d in domains]
    return NetworkView(nodes, edges, legend, caption, int(height))


def vis_network_files() -> dict[str, str]:
    """``{file name: path}`` of vis-network's script and style sheet as installed with pyvis."""
    import pyvis

    lib = os.path.join(os.path.dirname(pyvis.__file__), "templates", "lib", VIS_VERSION)
    files = {name: os.path.join(lib, name) for name in ("vis-network.min.js", "vis-network.css")}
    missing = [p for p in files.values() if not os.path.isfile(p)]
    if missing:
        raise RuntimeError(f"pyvis is installed without vis-network ({missing[0]} is missing): reinstall pyvis")
    return files
