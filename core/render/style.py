"""How results look: colours, method names and labels, and short labels for sizes.

One home for what every figure and page shows the same way, so the alignment
figure, its SVG twin, the network view and the pages agree.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from core.analysis.measures import MEASURES

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
WITHIN_COLOUR, BETWEEN_COLOUR, SIZE_COLOUR = PALETTE[0], PALETTE[5], PALETTE[2]
CEILING_COLOUR = "#555555"
MISSING_COLOUR = "#B0B0B0"  # a heatmap cell without a result: grey, never the white of rho = 0
RHO_RANGE = 0.5  # heatmaps of rho use the fixed colour range [-RHO_RANGE, RHO_RANGE] at every tau


def rgba(hex_colour: str, alpha: float) -> str:
    """``#RRGGBB`` as a CSS ``rgba(r,g,b,alpha)`` string."""
    h = hex_colour.lstrip("#")
    return f"rgba({int(h[0:2], 16)},{int(h[2:4], 16)},{int(h[4:6], 16)},{alpha})"


def method_label(name: str) -> str:
    """A similarity measure's label (``core.analysis.measures``; read at call time, so a new measure is named too)."""
    m = MEASURES.get(name)
    return m.label if m else str(name)


def method_colour(name: str) -> str:
    """A similarity measure's colour (the registry's; the first palette colour for an unknown name)."""
    m = MEASURES.get(name)
    return m.colour if m else PALETTE[0]


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


@dataclass(frozen=True)
class ModelLook:
    """How one model is shown everywhere: a short name, its size label, one colour, its place in legends."""

    model: str
    name: str
    size: str
    colour: str
    order: int


def short_name(model: str) -> str:
    """A model's display name: the last part of its Hub id or path, without a ``.gguf`` suffix."""
    base = os.path.basename(str(model).rstrip("/\\")) or str(model)
    return base[: -len(".gguf")] if base.lower().endswith(".gguf") else base


def model_looks(models: Iterable[tuple[str, Any]]) -> dict[str, ModelLook]:
    """``{model: ModelLook}`` for ``(model, n_params)`` pairs (one per run is fine), ordered by parameter count.

    Pass every model of the store, not just those a figure shows, so that a model keeps its colour on every page
    and in ``results/``. A short name two models would share falls back to the full model name.
    """
    size: dict[str, float] = {}
    for model, n in models:
        try:
            v = float(n)
        except (TypeError, ValueError):
            v = math.nan
        old = size.get(str(model), math.nan)
        size[str(model)] = v if math.isnan(old) else (old if math.isnan(v) else max(old, v))
    order = sorted(size, key=lambda m: (math.isnan(size[m]), size[m] if not math.isnan(size[m]) else 0.0, m))
    short = [short_name(m) for m in order]
    return {
        m: ModelLook(
            model=m,
            name=short_name(m) if short.count(short_name(m)) == 1 else m,
            size=size_label(size[m], short_name(m)),
            colour=PALETTE[i % len(PALETTE)],
            order=i,
        )
        for i, m in enumerate(order)
    }


GRID = {"gridcolor": "#EBF0F8", "zerolinecolor": "#EBF0F8"}  # plotly_white's axes, without its template


def plotly_layout(fig, height: int, top: int = 20, legend_y: float | None = None, **more):
    """The house layout of every Plotly figure: white background, fixed margins, a horizontal legend below.

    The look of the ``plotly_white`` template set directly: validating the template costs 30-100 ms a figure,
    paid again on every τ step.
    """
    legend = {"legend": {"orientation": "h", "y": legend_y}} if legend_y is not None else {"showlegend": False}
    fig.update_layout(
        height=height,
        margin={"l": 60, "r": 20, "t": top, "b": 50},
        plot_bgcolor="white",
        paper_bgcolor="white",
        **legend,
        **more,
    )
    fig.update_xaxes(**GRID)
    fig.update_yaxes(**GRID)
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


def fmt_number(x, digits: int = 3) -> str:
    """A number for people: ``digits`` decimals, an em dash for missing or infinite values (never ``None``/``∞``)."""
    try:
        v = float(x)
    except (TypeError, ValueError):
        return "—"
    return f"{v:.{digits}f}" if math.isfinite(v) else "—"


def fmt_p(p) -> str:
    """A p-value for people: ``< 0.001`` below a thousandth, three decimals above, an em dash when missing."""
    try:
        v = float(p)
    except (TypeError, ValueError):
        return "—"
    if not math.isfinite(v):
        return "—"
    return "< 0.001" if v < 0.001 else f"{v:.3f}"
