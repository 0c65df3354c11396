"""How results look: colours, method names and labels, and short labels for sizes.

One home for what every figure and page shows the same way, so the alignment
figure, its SVG twin, the network view and the pages agree.
"""

from __future__ import annotations

import math

from .similarity import METHODS

METHOD_LABELS = dict(
    zip(METHODS, ("Expert neurons (Jaccard)", "Word embedding (cosine)", "Sentence embedding (cosine)"))
)
# Ten colours that stay distinct for colour-blind readers (Okabe-Ito + Tol), then repeats with a dash.
PALETTE = [
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#F0E442",
    "#332288",
    "#882255",
    "#44AA99",
    "#999933",
    "#AA4499",
]
METHOD_COLOURS = dict(zip(METHODS, PALETTE))
WITHIN_COLOUR, BETWEEN_COLOUR, SIZE_COLOUR = PALETTE[0], PALETTE[5], PALETTE[2]
CEILING_COLOUR = "#555555"


def rgba(hex_colour: str, alpha: float) -> str:
    """``#RRGGBB`` as a CSS ``rgba(r,g,b,alpha)`` string."""
    h = hex_colour.lstrip("#")
    return f"rgba({int(h[0:2], 16)},{int(h[2:4], 16)},{int(h[4:6], 16)},{alpha})"


def colours(keys) -> dict[str, str]:
    """A stable palette colour per key, in order of first appearance."""
    names = list(dict.fromkeys(keys))
    return {k: PALETTE[i % len(PALETTE)] for i, k in enumerate(names)}


def size_label(n_params, model: str) -> str:
    """``70M`` / ``1.4B`` from a parameter count, else the model name."""
    try:
        n = float(n_params)
    except (TypeError, ValueError):
        return str(model)
    if not math.isfinite(n) or n <= 0:
        return str(model)
    for unit, div in (("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if n >= div:
            return f"{n / div:.3g}{unit}"
    return f"{int(n)}"


def plotly_layout(fig, height: int, top: int = 20, legend_y: float | None = None, **more):
    """The house layout of every Plotly figure: white template, fixed margins, a horizontal legend below."""
    legend = {"legend": {"orientation": "h", "y": legend_y}} if legend_y is not None else {"showlegend": False}
    fig.update_layout(
        height=height, margin={"l": 60, "r": 20, "t": top, "b": 50}, template="plotly_white", **legend, **more
    )
    return fig


def add_band(fig, x, lo, hi, colour: str, alpha: float, group: str | None = None) -> None:
    """A filled band between ``lo`` and ``hi`` (a CI, ± std, an IQR) behind a line; no hover, no legend entry."""
    import numpy as np
    import plotly.graph_objects as go

    x, lo, hi = (np.asarray(v, float) for v in (x, lo, hi))
    ok = np.isfinite(lo) & np.isfinite(hi)
    if not ok.any():
        return
    fig.add_trace(
        go.Scatter(
            x=np.concatenate([x[ok], x[ok][::-1]]),
            y=np.concatenate([hi[ok], lo[ok][::-1]]),
            fill="toself",
            fillcolor=rgba(colour, alpha),
            line={"width": 0},
            mode="lines",
            hoverinfo="skip",
            showlegend=False,
            legendgroup=group,
        )
    )
