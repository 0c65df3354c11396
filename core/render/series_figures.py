"""Static PNG figures of a checkpoint series for ``results/`` (matplotlib, no browser needed).

- ``training_png``: the paper's Fig. 2 from real checkpoints — ρ vs training step (log axis, step 0 shown) per size,
  experts vs word vs sentence embedding with 95% CI bands and the human ceiling — with the training loss beside it;
- ``where_when_png``: ρ from one layer at a time (rows) by checkpoint (columns), one panel per size.
The dashboard draws the same data interactively (``core.render.figures``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import numpy as np
import pandas as pd

from core.analysis.measures import MEASURES
from core.analysis.series import step_positions

from .style import MISSING_COLOUR, RHO_RANGE, ModelLook, model_looks


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def training_png(
    curves: pd.DataFrame,
    log: pd.DataFrame,
    path: str,
    ceiling: float | None,
    title: str,
    looks: Mapping[str, ModelLook] | None = None,
) -> str:
    """ρ vs step per size and method (left) and held-out loss vs step per size (right), saved to ``path``.

    ``looks``: ``core.render.style.model_looks`` of the store, so each model has its dashboard name and colour.
    """
    plt = _pyplot()
    fig, (ax, lx) = plt.subplots(1, 2, figsize=(13, 4.8), gridspec_kw={"width_ratios": [2, 1]})
    looks = _looks(looks, curves["model"])
    models = sorted(dict.fromkeys(curves["model"]), key=lambda m: looks[m].order)
    _, vals, text = step_positions(pd.concat([curves["step"], log["step"]]) if len(log) else curves["step"])
    zero_at = vals[0] if text and text[0] == "0" else 0.5
    for model in models:
        colour, name = looks[model].colour, looks[model].name
        for method, g in curves[curves["model"] == model].groupby("method", sort=False):
            g = g.sort_values("step")
            x = np.where(g["step"] == 0, zero_at, g["step"])
            ax.plot(
                x,
                g["rho"],
                MEASURES[method].linestyle if method in MEASURES else "-",
                color=colour,
                marker="o",
                ms=3,
                lw=1.6,
                label=f"{name} · {MEASURES[method].short if method in MEASURES else method}",
            )
            ax.fill_between(x, g["ci_low"], g["ci_high"], color=colour, alpha=0.12, lw=0)
            same = g[g["same_weights_as"].astype(bool)] if "same_weights_as" in g else g.iloc[:0]
            if len(same):
                ax.scatter(
                    np.where(same["step"] == 0, zero_at, same["step"]),
                    same["rho"],
                    marker="x",
                    s=60,
                    color="black",
                    zorder=5,
                    label="same weights as the checkpoint before",
                )
        lg = log[log["model"] == model].sort_values("step")
        if len(lg):
            lxx = np.where(lg["step"] == 0, zero_at, lg["step"])
            lx.plot(lxx, lg["held_out_loss"], color=colour, marker="o", ms=3, label=name)
    if ceiling is not None:
        ax.axhline(ceiling, color="#555555", ls="--", lw=1)
        ax.annotate(f"human ceiling {ceiling:.2f}", (vals[0], ceiling), xytext=(2, 3), textcoords="offset points")
    for a, ylabel in ((ax, "Spearman ρ with human ratings"), (lx, "held-out loss (nats/token)")):
        a.set_xscale("log")
        a.set_xticks(vals, text)
        a.minorticks_off()
        a.set_xlabel("training step (log; step 0 at the left)")
        a.set_ylabel(ylabel)
        a.grid(alpha=0.3)
    ax.set_ylim(min(-0.1, float(np.nanmin(curves["ci_low"])) - 0.05) if len(curves) else -0.1, 1.0)
    handles, labels = ax.get_legend_handles_labels()
    keep = dict(zip(labels, handles))
    ax.legend(keep.values(), keep.keys(), fontsize=7, loc="lower right", ncol=2, framealpha=0.8)
    if len(log):
        lx.legend(fontsize=8)
    ax.set_title(title)
    lx.set_title("training loss (held-out)")
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return path


def where_when_png(
    matrices: dict[str, pd.DataFrame], path: str, title: str, looks: Mapping[str, ModelLook] | None = None
) -> str:
    """One heatmap per size: ρ from one layer at a time (rows, first layer at the bottom) by checkpoint.

    Fixed colour range ±``RHO_RANGE``; a cell without a result is grey (named in the figure's legend).
    """
    plt = _pyplot()
    from matplotlib.patches import Patch

    looks = _looks(looks, list(matrices))
    n = max(1, len(matrices))
    fig, axes = plt.subplots(1, n, figsize=(4.6 * n, 3.6), squeeze=False)
    cmap = plt.get_cmap("RdBu_r").copy()
    cmap.set_bad(MISSING_COLOUR)
    image, missing = None, False
    for ax, (model, m) in zip(axes[0], matrices.items()):
        z = m.to_numpy(float)
        missing = missing or bool(np.isnan(z).any())
        image = ax.imshow(
            np.ma.masked_invalid(z), origin="lower", aspect="auto", cmap=cmap, vmin=-RHO_RANGE, vmax=RHO_RANGE
        )
        ax.set_xticks(range(m.shape[1]), [str(s) for s in m.columns], rotation=60, fontsize=7)
        ax.set_yticks(range(m.shape[0]), [str(v) for v in m.index])
        ax.set_xlabel("checkpoint (training step)")
        ax.set_ylabel("layer")
        ax.set_title(looks[model].name, fontsize=10)
    if image is not None:
        fig.colorbar(image, ax=axes[0].tolist(), label=f"ρ from this layer's experts (fixed ±{RHO_RANGE:g})")
    if missing:
        fig.legend(handles=[Patch(color=MISSING_COLOUR, label="no result")], loc="lower left", fontsize=8)
    fig.suptitle(title)
    fig.savefig(path, dpi=130, bbox_inches="tight")
    plt.close(fig)
    return path


def loss_figure(log: pd.DataFrame, looks: Mapping[str, ModelLook] | None = None, selected: str | None = None):
    """Plotly: held-out (and training) loss vs step per model, on the same log step axis as the alignment figure.

    ``looks``: ``core.render.style.model_looks`` of the store (name and colour per model); ``selected`` drawn thick.
    """
    import plotly.graph_objects as go

    looks = _looks(looks, log["model"] if len(log) else [])
    fig = go.Figure()
    _, vals, text = step_positions(log["step"]) if len(log) else (np.array([]), [], [])
    zero_at = vals[0] if text and text[0] == "0" else 0.5
    for model, g in sorted(log.groupby("model", sort=False), key=lambda kv: looks[str(kv[0])].order):
        g = g.sort_values("step")
        x = np.where(g["step"] == 0, zero_at, g["step"])
        look, sel = looks[str(model)], model == selected
        meta = {"model": look.name, "selected": sel}
        width = 4 if sel else 1.8
        for column, kind, mode, line in (
            ("held_out_loss", "held-out", "lines+markers", {"width": width}),
            ("loss", "training", "lines", {"dash": "dot", "width": width / 1.5}),
        ):
            fig.add_trace(
                go.Scatter(
                    x=x,
                    y=g[column],
                    name=f"{look.name} · {kind}",
                    mode=mode,
                    line={"color": look.colour, **line},
                    meta=meta,
                    legendgroup=look.name,
                    text=[f"step {s}" for s in g["step"]],
                )
            )
    fig.update_xaxes(type="log", tickvals=vals, ticktext=text, title="training step (log; step 0 at the left)")
    fig.update_yaxes(title="loss (nats/token)")
    fig.update_layout(
        height=420,
        plot_bgcolor="white",
        paper_bgcolor="white",
        legend={"orientation": "h", "y": -0.25},
        margin={"l": 60, "r": 20, "t": 20, "b": 50},
    )
    return fig


def where_when_figure(
    matrices: dict[str, pd.DataFrame], looks: Mapping[str, ModelLook] | None = None, selected: str | None = None
):
    """Plotly: one heatmap per size, ρ from one layer at a time (rows) by checkpoint (columns).

    The colour range is fixed (``RHO_RANGE``, the same at every τ, so two τ can be compared); a cell without a
    result is grey (its own trace and legend entry), never the white of ρ = 0.
    """
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    looks = _looks(looks, list(matrices))
    n = max(1, len(matrices))
    titles = [looks[m].name + (" (selected)" if m == selected else "") for m in matrices] or [""]
    fig = make_subplots(rows=1, cols=n, subplot_titles=titles, horizontal_spacing=0.06)
    any_missing = False
    for k, (model, m) in enumerate(matrices.items(), start=1):
        z = m.to_numpy(float)
        x, y = [str(s) for s in m.columns], [f"layer {v}" for v in m.index]
        name = looks[model].name
        if np.isnan(z).any():
            any_missing = True
            fig.add_trace(
                go.Heatmap(
                    z=np.where(np.isnan(z), 1.0, np.nan),
                    x=x,
                    y=y,
                    zmin=0,
                    zmax=1,
                    showscale=False,
                    colorscale=[[0, MISSING_COLOUR], [1, MISSING_COLOUR]],
                    name="no result",
                    meta={"model": name, "kind": "missing"},
                    hovertemplate="step %{x}<br>%{y}<br>no result<extra>" + name + "</extra>",
                ),
                row=1,
                col=k,
            )
        fig.add_trace(
            go.Heatmap(
                z=z,
                x=x,
                y=y,
                zmin=-RHO_RANGE,
                zmax=RHO_RANGE,
                colorscale="RdBu",
                reversescale=True,
                showscale=k == n,
                colorbar={"title": "ρ"},
                name=name,
                meta={"model": name, "kind": "rho"},
                hovertemplate="step %{x}<br>%{y}<br>ρ = %{z:.3f}<extra>" + name + "</extra>",
            ),
            row=1,
            col=k,
        )
        fig.update_xaxes(type="category", title="checkpoint (step)", row=1, col=k)
    if any_missing:  # a legend entry for the grey cells
        fig.add_trace(
            go.Scatter(
                x=[None],
                y=[None],
                mode="markers",
                name="no result (missing cell)",
                marker={"symbol": "square", "size": 14, "color": MISSING_COLOUR},
                meta={"kind": "missing-legend"},
            ),
            row=1,
            col=1,
        )
    fig.update_layout(
        height=380,
        plot_bgcolor="white",
        paper_bgcolor="white",
        margin={"l": 60, "r": 20, "t": 40, "b": 60},
        showlegend=any_missing,
        legend={"orientation": "h", "y": -0.35},
    )
    return fig


def _looks(looks, models) -> dict[str, ModelLook]:
    """The given looks, completed for models they lack (a figure drawn outside a page)."""
    out = dict(looks or {})
    rest = [m for m in dict.fromkeys(models) if m not in out]
    if rest:
        extra = model_looks((m, None) for m in rest)
        out.update({m: replace(v, order=v.order + len(out)) for m, v in extra.items()})
    return out
