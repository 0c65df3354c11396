"""The alignment figure: an interactive Plotly figure and a dependency-free SVG of the same thing.

Both draw a ``curve_frame`` table. With training checkpoints: Spearman ρ
against training step (log axis), one colour per model size, one dash per
method, a 95% CI band around each line. With final weights only: ρ per model
with CI error bars. The human ceiling is a dashed line. The SVG is written here
(no kaleido, no matplotlib) so that a PNG/SVG download works on a hosted demo
without a browser engine on the server.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from .benchmarks import MEN_HUMAN_CEILING
from .runs import revision_label
from .series import step_positions
from .style import CEILING_COLOUR, METHOD_COLOURS, METHOD_LABELS, PALETTE, add_band, plotly_layout, size_label

DASH = {"experts": "solid", "word_embedding": "dot", "sentence_embedding": "dash"}
SVG_DASH = {"solid": "", "dot": "2,4", "dash": "8,5"}


def curve_frame(table: pd.DataFrame, same_weights: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Alignment rows ready to plot: a ``size`` label per model and a log-safe x (step 0 drawn left of step 1).

    ``same_weights`` (``core.checkpoints.identical_neighbours``) marks checkpoints whose weights are byte-identical
    to the one before them (column ``same_weights_as``).
    """
    t = table.copy()
    if t.empty:
        return t.assign(
            size=pd.Series(dtype=str), x=pd.Series(dtype=float), rev=pd.Series(dtype=str), same_weights_as=""
        )
    t["size"] = [size_label(n, m) for n, m in zip(t["n_params"], t["model"])]
    t["x"] = step_positions(t["step"])[0]
    same = dict(same_weights or {})
    t["same_weights_as"] = [same.get(r, "") for r in t["run_id"]]
    t["method_label"] = t["method"].map(METHOD_LABELS).fillna(t["method"])
    t["rev"] = [revision_label(r) for r in t["revision"]]
    return t


def alignment_display(frame: pd.DataFrame) -> pd.DataFrame:
    """The alignment table as shown under the figure."""
    cols = ["model", "rev", "step", "size", "method_label", "rho", "ci_low", "ci_high", "p_value", "p_vs_experts"]
    cols += ["n_pairs", "n_missing"]
    if frame.empty:
        return pd.DataFrame(columns=cols)
    return frame[cols].rename(columns={"rev": "revision", "method_label": "method"})


def has_curves(frame: pd.DataFrame) -> bool:
    """True when some model has results at several training steps (draw lines against step)."""
    if frame.empty or frame["x"].notna().sum() == 0:
        return False
    return bool((frame.dropna(subset=["x"]).groupby("model")["x"].nunique() > 1).any())


def _sizes(frame: pd.DataFrame) -> list[str]:
    order = frame.assign(_n=pd.to_numeric(frame["n_params"], errors="coerce")).sort_values(["_n", "model"])
    return list(dict.fromkeys(order["size"]))


def _series(frame: pd.DataFrame) -> tuple[str, list[dict], list[str]]:
    """(kind, series, categories): what both renderers draw."""
    out = []
    if has_curves(frame):
        t = frame.dropna(subset=["x"])
        steps = t.groupby("model")["x"].nunique()
        t = t[t["model"].isin(steps[steps > 1].index)]
        sizes = _sizes(t)
        for (size, method), g in t.groupby(["size", "method"], sort=False):
            g = g.sort_values("x")
            # one size: colour tells the methods apart; several sizes: colour is the size, dash the method
            colour = (
                METHOD_COLOURS.get(method, PALETTE[0]) if len(sizes) == 1 else PALETTE[sizes.index(size) % len(PALETTE)]
            )
            out.append(
                {
                    "label": f"{size} · {METHOD_LABELS.get(method, method)}",
                    "method": method,
                    "size": size,
                    "colour": colour,
                    "dash": DASH.get(method, "solid"),
                    "x": g["x"].to_numpy(float),
                    "y": g["rho"].to_numpy(float),
                    "lo": g["ci_low"].to_numpy(float),
                    "hi": g["ci_high"].to_numpy(float),
                    "hover": [f"step {int(s) if s == s else '—'}" for s in pd.to_numeric(g["step"], errors="coerce")],
                }
            )
        return "curves", out, []
    t = frame.copy()
    t["cat"] = [f"{s} @ {r}" if r != "final" else str(s) for s, r in zip(t["size"], t["rev"])]
    order = t.assign(_n=pd.to_numeric(t["n_params"], errors="coerce")).sort_values(["_n", "model", "cat"])
    cats = list(dict.fromkeys(order["cat"]))
    methods = list(dict.fromkeys(t["method"]))
    for k, (method, g) in enumerate(t.groupby("method", sort=False)):
        offset = (k - (len(methods) - 1) / 2) * 0.18
        out.append(
            {
                "label": METHOD_LABELS.get(method, method),
                "method": method,
                "size": "",
                "colour": METHOD_COLOURS.get(method, PALETTE[k % len(PALETTE)]),
                "dash": "solid",
                "x": np.array([cats.index(c) + offset for c in g["cat"]], float),
                "y": g["rho"].to_numpy(float),
                "lo": g["ci_low"].to_numpy(float),
                "hi": g["ci_high"].to_numpy(float),
                "hover": list(g["cat"]),
            }
        )
    return "points", out, cats


def alignment_figure(frame: pd.DataFrame, ceiling: float | None = MEN_HUMAN_CEILING, title: str = ""):
    """Plotly figure of ρ with CIs (see the module docstring)."""
    import plotly.graph_objects as go

    kind, series, cats = _series(frame)
    fig = go.Figure()
    for s in series:
        common = {"x": s["x"], "y": s["y"], "name": s["label"], "text": s["hover"]}
        tail = "<extra>" + html.escape(s["label"]) + "</extra>"
        if kind == "curves":
            add_band(fig, s["x"], s["lo"], s["hi"], s["colour"], 0.12, s["label"])
            trace = go.Scatter(
                **common,
                mode="lines+markers",
                legendgroup=s["label"],
                line={"color": s["colour"], "dash": s["dash"], "width": 2},
                marker={"size": 5},
                customdata=np.stack([s["lo"], s["hi"]], axis=1),
                hovertemplate="%{text}<br>ρ = %{y:.3f} [%{customdata[0]:.3f}, %{customdata[1]:.3f}]" + tail,
            )
        else:
            error = {"type": "data", "symmetric": False, "array": s["hi"] - s["y"], "arrayminus": s["y"] - s["lo"]}
            trace = go.Scatter(
                **common,
                mode="markers",
                marker={"color": s["colour"], "size": 10},
                error_y=error,
                hovertemplate="%{text}<br>ρ = %{y:.3f}" + tail,
            )
        fig.add_trace(trace)
    if ceiling is not None:
        fig.add_hline(
            y=ceiling,
            line_dash="dash",
            line_color=CEILING_COLOUR,
            annotation_text=f"human ceiling {ceiling:.2f}",
            annotation_position="top left",
        )
    if kind == "curves":
        _, vals, text = step_positions(frame.dropna(subset=["x"])["step"])
        fig.update_xaxes(type="log", tickvals=vals, ticktext=text, title="training step (log; step 0 at the left)")
        same = frame[(frame["same_weights_as"] != "") & (frame["method"] == "experts")]
        if len(same):
            fig.add_trace(
                go.Scatter(
                    x=same["x"],
                    y=same["rho"],
                    mode="markers",
                    name="same weights as the checkpoint before",
                    marker={"symbol": "x", "size": 12, "color": "black"},
                    text=[f"{r}: same weights as {a}" for r, a in zip(same["rev"], same["same_weights_as"])],
                    hovertemplate="%{text}<extra></extra>",
                )
            )
    else:
        fig.update_xaxes(
            tickmode="array",
            tickvals=list(range(len(cats))),
            ticktext=cats,
            title="model",
            range=[-0.6, len(cats) - 0.4],
        )
    fig.update_yaxes(title="Spearman ρ with human ratings", range=[min(-0.1, _low(series)), 1.0])
    return plotly_layout(fig, 480, top=40 if title else 20, legend_y=-0.18, title=title or None)


def _low(series: list[dict]) -> float:
    lows = [float(np.nanmin(s["lo"])) for s in series if np.isfinite(s["lo"]).any()]
    return min(lows) - 0.05 if lows else 0.0


def alignment_svg(
    frame: pd.DataFrame, ceiling: float | None = MEN_HUMAN_CEILING, title: str = "", width: int = 900, height: int = 520
) -> str:
    """The alignment figure as a standalone SVG document (text escaped)."""
    kind, series, cats = _series(frame)
    left, right, top, bottom = 70, 20, 40 if title else 20, 130
    pw, ph = width - left - right, height - top - bottom
    ymin, ymax = min(-0.1, _low(series)), 1.0
    if kind == "curves":
        xs = np.concatenate([s["x"] for s in series]) if series else np.array([1.0, 10.0])
        x0, x1 = math.log10(max(np.nanmin(xs), 0.1)), math.log10(max(np.nanmax(xs), 10))
        if x1 - x0 < 1e-9:
            x1 = x0 + 1

        def sx(x):
            return left + (math.log10(max(x, 0.1)) - x0) / (x1 - x0) * pw
    else:
        n = max(len(cats), 1)

        def sx(x):
            return left + (x + 0.6) / (n + 0.2) * pw

    def sy(y):
        return top + (ymax - y) / (ymax - ymin) * ph

    e = html.escape
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
    ]
    if title:
        out.append(f'<text x="{left}" y="24" font-size="15">{e(title)}</text>')
    for k in range(int(math.ceil(ymin * 10)), 11):  # y grid every 0.1
        y = k / 10
        out.append(f'<line x1="{left}" x2="{left + pw}" y1="{sy(y):.1f}" y2="{sy(y):.1f}" stroke="#e5e5e5"/>')
        if k % 2 == 0:
            out.append(f'<text x="{left - 8}" y="{sy(y) + 4:.1f}" text-anchor="end">{y:.1f}</text>')
    if kind == "curves":
        _, vals, text = step_positions(frame.dropna(subset=["x"])["step"])
        for v, label in zip(vals, text):
            x = sx(v)
            if left - 1 <= x <= left + pw + 1:
                out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{top + ph}" stroke="#eeeeee"/>')
                out.append(f'<text x="{x:.1f}" y="{top + ph + 16}" text-anchor="middle">{e(label)}</text>')
        xlabel = "training step (log)"
    else:
        for i, c in enumerate(cats):
            out.append(f'<text x="{sx(i):.1f}" y="{top + ph + 16}" text-anchor="middle">{e(c)}</text>')
        xlabel = "model"
    out.append(f'<text x="{left + pw / 2}" y="{top + ph + 36}" text-anchor="middle">{xlabel}</text>')
    out.append(
        f'<text transform="translate(18,{top + ph / 2}) rotate(-90)" text-anchor="middle">'
        f"Spearman ρ with human ratings</text>"
    )
    out.append(f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#999999"/>')
    for s in series:
        c, dash = s["colour"], SVG_DASH[s["dash"]]
        pts = [(sx(x), sy(y)) for x, y in zip(s["x"], s["y"]) if np.isfinite(y)]
        ok = np.isfinite(s["lo"]) & np.isfinite(s["hi"])
        if kind == "curves":
            if ok.any():
                band = [(sx(x), sy(h)) for x, h in zip(s["x"][ok], s["hi"][ok])]
                band += [(sx(x), sy(lo)) for x, lo in zip(s["x"][ok][::-1], s["lo"][ok][::-1])]
                out.append(f'<polygon points="{_pts(band)}" fill="{c}" fill-opacity="0.12" stroke="none"/>')
            if pts:
                dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
                out.append(f'<polyline points="{_pts(pts)}" fill="none" stroke="{c}" stroke-width="2"{dash_attr}/>')
        else:
            for x, lo, hi, good in zip(s["x"], s["lo"], s["hi"], ok):
                if good:
                    out.append(
                        f'<line x1="{sx(x):.1f}" x2="{sx(x):.1f}" y1="{sy(lo):.1f}" y2="{sy(hi):.1f}" '
                        f'stroke="{c}" stroke-width="1.5"/>'
                    )
        for x, y in pts:
            out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{3 if kind == "curves" else 5}" fill="{c}"/>')
    if ceiling is not None:
        y = sy(ceiling)
        out.append(
            f'<line x1="{left}" x2="{left + pw}" y1="{y:.1f}" y2="{y:.1f}" stroke="{CEILING_COLOUR}" stroke-dasharray="6,4"/>'
        )
        out.append(f'<text x="{left + 6}" y="{y - 5:.1f}" fill="{CEILING_COLOUR}">human ceiling {ceiling:.2f}</text>')
    lx, ly = left, top + ph + 56
    for i, s in enumerate(series):  # legend, three per row
        x = lx + (i % 3) * (pw / 3)
        y = ly + (i // 3) * 18
        dash_attr = f' stroke-dasharray="{SVG_DASH[s["dash"]]}"' if SVG_DASH[s["dash"]] else ""
        out.append(
            f'<line x1="{x:.1f}" x2="{x + 24:.1f}" y1="{y - 4}" y2="{y - 4}" stroke="{s["colour"]}" '
            f'stroke-width="2"{dash_attr}/>'
        )
        out.append(f'<text x="{x + 30:.1f}" y="{y}">{e(s["label"])}</text>')
    out.append("</svg>")
    return "\n".join(out)


def _pts(points: list[tuple[float, float]]) -> str:
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
