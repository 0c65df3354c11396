"""Static PNG figures of a checkpoint series for ``results/`` (matplotlib, no browser needed).

- ``training_png``: the paper's Fig. 2 from real checkpoints — ρ vs training step (log axis, step 0 shown) per size,
  experts vs word vs sentence embedding with 95% CI bands and the human ceiling — with the training loss beside it;
- ``where_when_png``: ρ from one layer at a time (rows) by checkpoint (columns), one panel per size.
The dashboard draws the same data interactively (``core.figures``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .series import step_positions

METHOD_STYLE = {"experts": "-", "word_embedding": ":", "sentence_embedding": "--"}
METHOD_NAME = {"experts": "experts", "word_embedding": "word embedding", "sentence_embedding": "sentence embedding"}
SIZE_COLOURS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9"]


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def training_png(curves: pd.DataFrame, log: pd.DataFrame, path: str, ceiling: float | None, title: str) -> str:
    """ρ vs step per size and method (left) and held-out loss vs step per size (right), saved to ``path``."""
    plt = _pyplot()
    fig, (ax, lx) = plt.subplots(1, 2, figsize=(13, 4.8), gridspec_kw={"width_ratios": [2, 1]})
    models = list(dict.fromkeys(curves["model"]))
    _, vals, text = step_positions(pd.concat([curves["step"], log["step"]]) if len(log) else curves["step"])
    zero_at = vals[0] if text and text[0] == "0" else 0.5
    for i, model in enumerate(models):
        colour = SIZE_COLOURS[i % len(SIZE_COLOURS)]
        for method, g in curves[curves["model"] == model].groupby("method", sort=False):
            g = g.sort_values("step")
            x = np.where(g["step"] == 0, zero_at, g["step"])
            ax.plot(x, g["rho"], METHOD_STYLE.get(method, "-"), color=colour, marker="o", ms=3, lw=1.6,
                    label=f"{model} · {METHOD_NAME.get(method, method)}")  # fmt: skip
            ax.fill_between(x, g["ci_low"], g["ci_high"], color=colour, alpha=0.12, lw=0)
            same = g[g["same_weights_as"].astype(bool)] if "same_weights_as" in g else g.iloc[:0]
            if len(same):
                ax.scatter(np.where(same["step"] == 0, zero_at, same["step"]), same["rho"], marker="x", s=60,
                           color="black", zorder=5, label="same weights as the checkpoint before")  # fmt: skip
        lg = log[log["model"] == model].sort_values("step")
        if len(lg):
            lxx = np.where(lg["step"] == 0, zero_at, lg["step"])
            lx.plot(lxx, lg["held_out_loss"], color=colour, marker="o", ms=3, label=model)
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


def where_when_png(matrices: dict[str, pd.DataFrame], path: str, title: str) -> str:
    """One heatmap per size: ρ from one layer at a time (rows, first layer at the bottom) by checkpoint."""
    plt = _pyplot()
    n = max(1, len(matrices))
    fig, axes = plt.subplots(1, n, figsize=(4.6 * n, 3.6), squeeze=False)
    finite = [m.to_numpy(float) for m in matrices.values() if np.isfinite(m.to_numpy(float)).any()]
    top = max(0.05, max(float(np.nanmax(np.abs(v))) for v in finite)) if finite else 1.0
    image = None
    for ax, (model, m) in zip(axes[0], matrices.items()):
        image = ax.imshow(m.to_numpy(float), origin="lower", aspect="auto", cmap="RdBu_r", vmin=-top, vmax=top)
        ax.set_xticks(range(m.shape[1]), [str(s) for s in m.columns], rotation=60, fontsize=7)
        ax.set_yticks(range(m.shape[0]), [str(v) for v in m.index])
        ax.set_xlabel("checkpoint (training step)")
        ax.set_ylabel("layer")
        ax.set_title(model, fontsize=10)
    if image is not None:
        fig.colorbar(image, ax=axes[0].tolist(), label="ρ from this layer's experts")
    fig.suptitle(title)
    fig.savefig(path, dpi=130, bbox_inches="tight")
    plt.close(fig)
    return path


def loss_figure(log: pd.DataFrame):
    """Plotly: held-out (and training) loss vs step per model, on the same log step axis as the alignment figure."""
    import plotly.graph_objects as go

    fig = go.Figure()
    _, vals, text = step_positions(log["step"]) if len(log) else (np.array([]), [], [])
    zero_at = vals[0] if text and text[0] == "0" else 0.5
    for i, (model, g) in enumerate(log.groupby("model", sort=False)):
        g = g.sort_values("step")
        x = np.where(g["step"] == 0, zero_at, g["step"])
        colour = SIZE_COLOURS[i % len(SIZE_COLOURS)]
        fig.add_trace(go.Scatter(x=x, y=g["held_out_loss"], name=f"{model} · held-out", mode="lines+markers",
                                 line={"color": colour}, text=[f"step {s}" for s in g["step"]]))  # fmt: skip
        fig.add_trace(go.Scatter(x=x, y=g["loss"], name=f"{model} · training", mode="lines",
                                 line={"color": colour, "dash": "dot"}, text=[f"step {s}" for s in g["step"]]))  # fmt: skip
    fig.update_xaxes(type="log", tickvals=vals, ticktext=text, title="training step (log; step 0 at the left)")
    fig.update_yaxes(title="loss (nats/token)")
    fig.update_layout(height=420, template="plotly_white", legend={"orientation": "h", "y": -0.25},
                      margin={"l": 60, "r": 20, "t": 20, "b": 50})  # fmt: skip
    return fig


def where_when_figure(matrices: dict[str, pd.DataFrame]):
    """Plotly: one heatmap per size, ρ from one layer at a time (rows) by checkpoint (columns), one colour scale."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    n = max(1, len(matrices))
    fig = make_subplots(rows=1, cols=n, subplot_titles=list(matrices) or [""], horizontal_spacing=0.06)
    finite = [m.to_numpy(float) for m in matrices.values() if np.isfinite(m.to_numpy(float)).any()]
    top = max(0.05, max(float(np.nanmax(np.abs(v))) for v in finite)) if finite else 1.0
    for k, (model, m) in enumerate(matrices.items(), start=1):
        fig.add_trace(
            go.Heatmap(
                z=m.to_numpy(float),
                x=[str(s) for s in m.columns],
                y=[f"layer {v}" for v in m.index],
                zmin=-top,
                zmax=top,
                colorscale="RdBu",
                reversescale=True,
                showscale=k == n,
                colorbar={"title": "ρ"},
                name=model,
                hovertemplate="step %{x}<br>%{y}<br>ρ = %{z:.3f}<extra>" + model + "</extra>",
            ),
            row=1,
            col=k,
        )
        fig.update_xaxes(type="category", title="checkpoint (step)", row=1, col=k)
    fig.update_layout(height=360, template="plotly_white", margin={"l": 60, "r": 20, "t": 40, "b": 60})
    return fig
