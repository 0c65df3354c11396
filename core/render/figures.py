"""Figures of stability, set sizes and where experts sit: Plotly figures drawn from analysis tables.

The alignment figure has its own module (``core.render.alignment_figure``); colours come from ``core.render.style``.
"""

from __future__ import annotations

import html

import numpy as np
import pandas as pd

from core.analysis.measures import BASELINE

from .style import (
    BETWEEN_COLOUR,
    CEILING_COLOUR,
    GRID,
    PALETTE,
    SIZE_COLOUR,
    WITHIN_COLOUR,
    add_band,
    method_colour,
    plotly_layout,
)


def _band(fig, x, mean, std, colour: str, name: str) -> None:
    """A mean line with a ± one standard deviation band."""
    import plotly.graph_objects as go

    x, mean, std = (np.asarray(v, float) for v in (x, mean, std))
    add_band(fig, x, mean - std, mean + std, colour, 0.15, name)
    fig.add_trace(
        go.Scatter(
            x=x,
            y=mean,
            mode="lines+markers",
            name=name,
            legendgroup=name,
            line={"color": colour, "width": 2},
            hovertemplate="τ = %{x:.2f}<br>%{y:.3f}<extra>" + html.escape(name) + "</extra>",
        )
    )


def stability_figure(table: pd.DataFrame, tau: float):
    """Within-concept (across folds) vs between-concept Jaccard against τ, mean ± std."""
    import plotly.graph_objects as go

    fig = go.Figure()
    _band(fig, table["tau"], table["within_mean"], table["within_std"], WITHIN_COLOUR, "same concept, other fold")
    _band(fig, table["tau"], table["between_mean"], table["between_std"], BETWEEN_COLOUR, "different concepts")
    fig.add_vline(x=tau, line_dash="dot", line_color="#777777")
    fig.update_xaxes(title="expert threshold τ", range=[0.49, 1.01])
    fig.update_yaxes(title="Jaccard of expert sets", range=[0, 1.02])
    return plotly_layout(fig, 420, legend_y=-0.2)


def stability_size_figure(table: pd.DataFrame):
    """Fold overlap at one τ against the positive set size (left) and the negative set size (right).

    ``table``: ``core.analysis.stability.stability_by_size`` rows at one τ. Each panel holds the runs that share the
    other size's most common value, so one size varies at a time.
    """
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    fig = make_subplots(
        rows=1,
        cols=2,
        shared_yaxes=True,
        horizontal_spacing=0.06,
        subplot_titles=("positive set size (negatives fixed)", "negative set size (positives fixed)"),
    )
    for col, (vary, fixed) in enumerate((("n_pos", "n_neg"), ("n_neg", "n_pos")), start=1):
        held = table[fixed].round().mode()
        t = table[table[fixed].round() == held.iloc[0]].sort_values(vary) if len(held) else table.iloc[:0]
        for what, colour, name in (
            ("within", WITHIN_COLOUR, "same concept, other fold"),
            ("between", BETWEEN_COLOUR, "different concepts"),
        ):
            fig.add_trace(
                go.Scatter(
                    x=t[vary],
                    y=t[f"{what}_mean"],
                    mode="lines+markers",
                    name=name,
                    legendgroup=what,
                    showlegend=col == 1,
                    line={"color": colour, "width": 2},
                    error_y={"type": "data", "array": t[f"{what}_std"], "thickness": 1},
                    hovertemplate=f"{vary} = %{{x:.0f}}<br>Jaccard %{{y:.3f}}<extra>{name}</extra>",
                ),
                row=1,
                col=col,
            )
        fig.update_xaxes(
            title=f"{vary} ({fixed} = {held.iloc[0]:.0f})" if len(held) else vary, type="log", row=1, col=col
        )
    fig.update_yaxes(title="Jaccard of expert sets", range=[0, 1.02], row=1, col=1)
    return plotly_layout(fig, 380, top=40, legend_y=-0.25)


def set_size_figure(sizes: pd.DataFrame, tau: float):
    """Median expert-set size against τ with the interquartile range (log y).

    A log axis has no zero: a τ whose median is 0 is left out of the line, and the band only spans τ whose quartiles
    are both at least one expert (never drawn at a made-up positive value); ticks are whole counts (1, 2, 5, 10, …),
    labelled in full.
    """
    import plotly.graph_objects as go

    fig = go.Figure()
    x = sizes["tau"].to_numpy(float)
    lo, hi = sizes["q25"].to_numpy(float), sizes["q75"].to_numpy(float)
    both = (lo >= 1) & (hi >= 1)
    add_band(fig, x[both], lo[both], hi[both], SIZE_COLOUR, 0.15)
    median = sizes["median"].to_numpy(float)
    fig.add_trace(
        go.Scatter(
            x=x,
            y=np.where(median > 0, median, np.nan),
            mode="lines+markers",
            name="median experts per concept",
            line={"color": SIZE_COLOUR, "width": 2},
            customdata=sizes[["q25", "q75"]].to_numpy(float),
            hovertemplate="τ = %{x:.2f}<br>median %{y:.0f} (IQR %{customdata[0]:.0f}–"
            "%{customdata[1]:.0f})<extra></extra>",
        )
    )
    fig.add_vline(x=tau, line_dash="dot", line_color="#777777")
    fig.update_xaxes(title="expert threshold τ", range=[0.49, 1.01])
    top = max([float(np.nanmax(v)) for v in (hi, sizes["median"].to_numpy(float)) if np.isfinite(v).any()] or [1.0])
    ticks = [m * 10**k for k in range(int(np.log10(max(top, 1))) + 1) for m in (1, 2, 5) if m * 10**k <= top * 1.5]
    fig.update_yaxes(
        title="experts per concept (log; a median of 0 is not drawn)",
        type="log",
        range=[-0.05, np.log10(max(top, 1)) + 0.1],
        tickvals=ticks,
        ticktext=[f"{t:,}" for t in ticks],
    )
    return plotly_layout(fig, 360)


def layer_figure(table: pd.DataFrame, colour_by: str = "kind"):
    """Stacked bars of experts per layer (``core.analysis.layers.experts_by_layer`` rows), coloured by kind or concept.

    Built as one dict and validated once (the explorer redraws two of these whenever τ moves).
    """
    import plotly.graph_objects as go

    data = []
    for k, key in enumerate(dict.fromkeys(table[colour_by])):
        g = table[table[colour_by] == key].groupby("layer", as_index=False)["n_experts"].sum()
        data.append(
            {
                "type": "bar",
                "x": g["layer"].to_numpy(),
                "y": g["n_experts"].to_numpy(),
                "name": str(key),
                "marker": {"color": PALETTE[k % len(PALETTE)]},
                "hovertemplate": "layer %{x}<br>%{y} experts<extra>" + html.escape(str(key)) + "</extra>",
            }
        )
    layout = {
        "height": 360,
        "margin": {"l": 60, "r": 20, "t": 20, "b": 50},
        "plot_bgcolor": "white",
        "paper_bgcolor": "white",
        "legend": {"orientation": "h", "y": -0.22},
        "barmode": "stack" if colour_by == "kind" else "group",
        "xaxis": {"title": {"text": "layer"}, "dtick": 1, **GRID},
        "yaxis": {"title": {"text": "experts"}, **GRID},
    }
    return go.Figure({"data": data, "layout": layout})


def where_figure(
    layers: pd.DataFrame, kinds: pd.DataFrame, overall: float | None = None, colour: str | None = None, model: str = ""
):
    """ρ from one layer at a time (left) and one module kind at a time (right); dashed: ρ from all units.

    ``layers``/``kinds``: ``core.analysis.layers.alignment_by_layer`` rows (group, rho, ...); ``colour`` and ``model``: the
    run's model as every figure shows it (``core.render.style.model_looks``). Built as one dict and validated once (this
    figure is redrawn whenever τ moves).
    """
    import plotly.graph_objects as go

    colour = colour or method_colour(BASELINE)
    meta = {"model": model} if model else None
    data = [
        {
            "type": "scatter",
            "x": layers["group"].to_numpy(),
            "y": layers["rho"].to_numpy(float),
            "meta": meta,
            "mode": "lines+markers",
            "line": {"color": colour},
            "name": "experts from one layer",
            "hovertemplate": "layer %{x}<br>ρ = %{y:.3f}<extra></extra>",
            "xaxis": "x",
            "yaxis": "y",
        },
        {
            "type": "bar",
            "x": [str(k) for k in kinds["group"]],
            "y": kinds["rho"].to_numpy(float),
            "meta": meta,
            "marker": {"color": colour},
            "opacity": 0.8,
            "name": "experts from one kind",
            "hovertemplate": "%{x}<br>ρ = %{y:.3f}<extra></extra>",
            "xaxis": "x2",
            "yaxis": "y2",
        },
    ]
    title = {"xref": "paper", "yref": "paper", "y": 1.0, "yanchor": "bottom", "showarrow": False, "font": {"size": 16}}
    layout = {
        "height": 380,
        "margin": {"l": 60, "r": 20, "t": 40, "b": 50},
        "showlegend": False,
        "plot_bgcolor": "white",
        "paper_bgcolor": "white",
        "xaxis": {"domain": [0, 0.67], "anchor": "y", "title": {"text": "layer"}, "dtick": 2, **GRID},
        "xaxis2": {"domain": [0.71, 1.0], "anchor": "y2", **GRID},
        "yaxis": {"anchor": "x", "title": {"text": "Spearman ρ with human ratings"}, **GRID},
        "yaxis2": {"anchor": "x2", "matches": "y", "showticklabels": False, **GRID},
        "annotations": [
            {**title, "text": "one layer at a time", "x": 0.335, "xanchor": "center"},
            {**title, "text": "one module kind at a time", "x": 0.855, "xanchor": "center"},
        ],
        "shapes": [],
    }
    if overall is not None and np.isfinite(overall):
        for k in ("", "2"):
            layout["shapes"].append(
                {
                    "type": "line",
                    "xref": f"x{k} domain",
                    "x0": 0,
                    "x1": 1,
                    "yref": "y" + k,
                    "y0": overall,
                    "y1": overall,
                    "line": {"dash": "dash", "color": CEILING_COLOUR},
                }
            )
        layout["annotations"].append(
            {
                "text": f"all units {overall:.2f}",
                "xref": "x domain",
                "yref": "y",
                "x": 1,
                "y": overall,
                "xanchor": "right",
                "yanchor": "top",
                "showarrow": False,
            }
        )
    return go.Figure({"data": data, "layout": layout})
