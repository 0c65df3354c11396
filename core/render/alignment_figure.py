"""The alignment figure (the paper's Fig. 2): an interactive Plotly figure and a dependency-free SVG of the same thing.

Both draw a ``curve_frame`` table, one panel per method (experts, word embedding, sentence embedding) on one ρ
axis, one colour per model (``core.render.style.model_looks``: the same colour on every page). With training
checkpoints: ρ against training step (log axis); a model without steps (final weights) is a marked point in a
``final`` column at the right edge with a dotted horizontal reference across the panel. With final weights only:
ρ per model with CI error bars. The selected model is thick with its 95% CI band, the others thin; the human ceiling
dashed. The SVG is written here (no kaleido, no matplotlib): a download works on a hosted demo without a browser.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from core.analysis.measures import alignment_methods
from core.analysis.series import step_positions
from core.storage.records import revision_label
from core.text.benchmarks import MEN_HUMAN_CEILING

from .style import CEILING_COLOUR, GRID, ModelLook, fmt_number, fmt_p, method_label, model_looks, rgba

FINAL_TICK = "final"  # the x tick of models without training steps


def curve_frame(
    table: pd.DataFrame, same_weights: Mapping[str, str] | None = None, looks: Mapping[str, ModelLook] | None = None
) -> pd.DataFrame:
    """Alignment rows ready to plot: display ``name``, ``size``, ``colour`` per model and a log-safe ``x``.

    ``looks``: ``core.render.style.model_looks`` of every model of the store (default: of this table's models).
    ``same_weights`` (``core.model.checkpoints.identical_neighbours``) marks checkpoints whose weights are byte-identical
    to the one before them (column ``same_weights_as``).
    """
    t = table.copy()
    if t.empty:
        return t.assign(
            name=pd.Series(dtype=str),
            size=pd.Series(dtype=str),
            colour=pd.Series(dtype=str),
            x=pd.Series(dtype=float),
            rev=pd.Series(dtype=str),
            same_weights_as="",
            order=pd.Series(dtype=int),
        )
    looks = dict(looks or {})
    missing = [m for m in dict.fromkeys(t["model"]) if m not in looks]
    if missing:
        looks.update(model_looks(zip(t["model"], t["n_params"])))
    t["name"] = [looks[m].name for m in t["model"]]
    t["size"] = [looks[m].size for m in t["model"]]
    t["colour"] = [looks[m].colour for m in t["model"]]
    t["order"] = [looks[m].order for m in t["model"]]
    t["x"] = step_positions(t["step"])[0]
    same = dict(same_weights or {})
    t["same_weights_as"] = [same.get(r, "") for r in t["run_id"]]
    t["method_label"] = t["method"].map(method_label)
    t["rev"] = [revision_label(r) for r in t["revision"]]
    return t


def alignment_display(frame: pd.DataFrame) -> pd.DataFrame:
    """The alignment table as shown under the figure: display names, numbers as people read them (—, p < 0.001)."""
    cols = ["name", "rev", "step", "size", "method_label", "rho", "ci_low", "ci_high", "p_value", "p_vs_experts"]
    cols += ["n_pairs", "n_missing"]
    out_cols = ["model", "revision", "step", "size", "method", "rho", "ci_low", "ci_high", "p", "p vs experts"]
    out_cols += ["n_pairs", "n_missing"]
    if frame.empty:
        return pd.DataFrame(columns=out_cols)
    t = frame[cols].copy()
    t["step"] = [("—" if pd.isna(s) else f"{int(s):,}") for s in t["step"]]
    for c in ("rho", "ci_low", "ci_high"):
        t[c] = [fmt_number(v) for v in t[c]]
    for c in ("p_value", "p_vs_experts"):
        t[c] = [fmt_p(v) for v in t[c]]
    t.columns = out_cols
    return t


def has_curves(frame: pd.DataFrame) -> bool:
    """True when some model has results at several training steps (draw lines against step)."""
    if frame.empty:
        return False
    x = frame["x"].to_numpy(float)
    seen: dict[str, set] = {}
    for m, v in zip(frame["model"], x):
        if np.isfinite(v):
            seen.setdefault(m, set()).add(v)
    return any(len(v) > 1 for v in seen.values())


_NUM = ("x", "rho", "ci_low", "ci_high", "n_pairs")
_TEXT = ("name", "rev", "same_weights_as")


def _columns(frame: pd.DataFrame) -> dict:
    """The drawn columns as numpy arrays (plain arrays: pandas' per-group copies cost more than the drawing)."""
    out = {c: pd.to_numeric(frame[c], errors="coerce").to_numpy(float) for c in _NUM}
    out.update({c: np.asarray(frame[c].astype(str), dtype=object) for c in _TEXT})
    out.update({c: np.asarray(frame[c], dtype=object) for c in ("model", "method", "colour")})
    out.update(step=pd.to_numeric(frame["step"], errors="coerce").to_numpy(float), order=frame["order"].to_numpy(int))
    return out


def _rows(cols: dict, idx: np.ndarray, **override) -> dict:
    return {**{c: cols[c][idx] for c in (*_NUM, *_TEXT)}, **override}  # one series' rows


def _layout(frame: pd.DataFrame, selected: str | None) -> dict:
    """What both renderers draw: panels (methods), series per panel (rows as arrays), x ticks."""
    present = list(dict.fromkeys(frame["method"])) if len(frame) else []
    order = alignment_methods(every=True)
    methods = [m for m in order if m in present] + [m for m in present if m not in order]
    curves = has_curves(frame)
    out = {"kind": "curves" if curves else "points", "methods": methods, "series": [], "ticks": ([], [])}
    if frame.empty:
        return out
    c = _columns(frame)
    x = c["x"]
    sort = np.lexsort((np.where(np.isfinite(x), x, np.inf), c["order"]))
    label = np.array([f"{n} @ {r}" if r != "final" else str(n) for n, r in zip(c["name"], c["rev"])], dtype=object)
    if curves:
        finite = np.isfinite(x)
        _, vals, text = step_positions(c["step"][finite])
        final_x = float(np.nanmax(x)) * 4
        if not finite.all():
            vals, text = [*vals, final_x], [*text, FINAL_TICK]
        out.update(ticks=(vals, text), x_range=(float(np.nanmin(x)), final_x))
    else:
        cats = list(dict.fromkeys(label[sort]))
        out.update(ticks=(list(range(len(cats))), cats))
    for method in methods:
        models = list(dict.fromkeys(c["model"][sort][c["method"][sort] == method]))
        for model in models:
            g = sort[(c["method"][sort] == method) & (c["model"][sort] == model)]
            first = g[0]
            same = g[c["same_weights_as"][g] != ""]
            s = {
                "method": method,
                "model": model,
                "name": str(c["name"][first]),
                "colour": str(c["colour"][first]),
                "selected": model == selected,
                "same": _rows(c, same),
            }
            if curves:
                stepped = g[np.isfinite(x[g])]
                if len(set(x[stepped])) > 1 or (len(stepped) and len(stepped) == len(g)):
                    s.update(kind="line", rows=_rows(c, stepped))
                else:  # final weights only: a point at the right edge and a reference line across
                    bare = g[~np.isfinite(x[g])]
                    s.update(kind="final", rows=_rows(c, bare, x=np.full(len(bare), out["x_range"][1])))
            else:
                cats = out["ticks"][1]
                s.update(kind="point", rows=_rows(c, g, x=np.array([float(cats.index(v)) for v in label[g]])))
            out["series"].append(s)
    return out


def _hover(rows: pd.DataFrame) -> list[str]:
    return [
        f"{html.escape(str(n))} @ {html.escape(str(r))}<br>ρ = {fmt_number(y)} [{fmt_number(lo)}, {fmt_number(hi)}]"
        f"<br>{int(k) if pd.notna(k) else '—'} pairs"
        for n, r, y, lo, hi, k in zip(
            rows["name"], rows["rev"], rows["rho"], rows["ci_low"], rows["ci_high"], rows["n_pairs"]
        )
    ]


def alignment_figure(
    frame: pd.DataFrame, ceiling: float | None = MEN_HUMAN_CEILING, title: str = "", selected: str | None = None
):
    """Plotly figure of ρ with CIs, one panel per method (see the module docstring); ``selected``: a model.

    Built as one dict and validated once (``go.Figure(dict)``): plotly's incremental calls (``add_trace``,
    ``update_xaxes``, ``add_hline``) cost ten times as much, and the page redraws this figure whenever τ moves.
    """
    import plotly.graph_objects as go

    lay = _layout(frame, selected)
    methods = lay["methods"] or ["experts"]
    n, gap = len(methods), 0.03
    width = (1 - gap * (n - 1)) / n
    ax = {m: ("" if k == 0 else str(k + 1)) for k, m in enumerate(methods)}
    data: list[dict] = []
    shown: set[str] = set()
    for s in lay["series"]:
        rows, c, sel, k = s["rows"], s["colour"], s["selected"], ax[s["method"]]
        x, y, lo, hi = rows["x"], rows["rho"], rows["ci_low"], rows["ci_high"]
        meta = {"model": s["name"], "method": s["method"], "selected": bool(sel), "kind": s["kind"]}
        axes = {"xaxis": "x" + k, "yaxis": "y" + k, "legendgroup": s["name"]}
        common = {
            **axes, "name": s["name"] + (" (selected)" if sel else ""), "meta": meta, "type": "scatter",
            "showlegend": s["name"] not in shown, "text": _hover(rows), "hovertemplate": "%{text}<extra></extra>",
        }  # fmt: skip
        shown.add(s["name"])
        if s["kind"] == "line":
            ok = np.isfinite(lo) & np.isfinite(hi)
            if sel and ok.any():
                data.append({
                    **axes, "type": "scatter", "x": np.concatenate([x[ok], x[ok][::-1]]),
                    "y": np.concatenate([hi[ok], lo[ok][::-1]]), "fill": "toself", "fillcolor": rgba(c, 0.18),
                    "line": {"width": 0}, "mode": "lines", "hoverinfo": "skip", "showlegend": False,
                    "meta": {**meta, "kind": "band"},
                })  # fmt: skip
            data.append({
                **common, "x": x, "y": y, "mode": "lines+markers", "opacity": 1.0 if sel or selected is None else 0.6,
                "line": {"color": c, "width": 4 if sel else 1.6}, "marker": {"color": c, "size": 7 if sel else 4},
            })  # fmt: skip
        else:
            data.append({
                **common, "x": x, "y": y, "mode": "markers",
                "error_y": {"type": "data", "symmetric": False, "array": hi - y, "arrayminus": y - lo, "color": c},
                "marker": {"color": c, "size": 14 if sel else 9, "symbol": "diamond" if s["kind"] == "final" else
                           "circle", "line": {"color": "black" if sel else c, "width": 1.5}},
            })  # fmt: skip
            if s["kind"] == "final":
                for v in y[np.isfinite(y)]:
                    data.append({
                        **axes, "type": "scatter", "x": list(lay["x_range"]), "y": [v, v], "mode": "lines+text",
                        "text": ["", f"{s['name']} {v:.2f}\u2003\u2003"], "textposition": "top left",
                        "textfont": {"color": c, "size": 11}, "hoverinfo": "skip", "showlegend": False,
                        "line": {"color": c, "dash": "dot", "width": 2.5 if sel else 1.2},
                        "meta": {**meta, "kind": "reference"},
                    })  # fmt: skip
        same = s["same"]
        if s["kind"] == "line" and s["method"] == "experts" and len(same["x"]):
            data.append({
                "xaxis": "x" + k, "yaxis": "y" + k, "type": "scatter", "x": same["x"], "y": same["rho"],
                "mode": "markers", "name": "same weights as the checkpoint before", "legendgroup": "same",
                "marker": {"symbol": "x", "size": 12, "color": "black"}, "showlegend": "same" not in shown,
                "text": [f"{r}: same weights as {a}" for r, a in zip(same["rev"], same["same_weights_as"])],
                "hovertemplate": "%{text}<extra></extra>",
            })  # fmt: skip
            shown.add("same")
    vals, text = lay["ticks"]
    curves = lay["kind"] == "curves"
    layout: dict = {
        "height": 480, "plot_bgcolor": "white", "paper_bgcolor": "white", "margin": {"l": 60, "r": 20, "t": (60 if title else 40) + (16 if n > 3 else 0), "b": 50},
        "legend": {"orientation": "h", "y": -0.22}, "shapes": [], "annotations": [],
    }  # fmt: skip
    if title:
        layout["title"] = {"text": title}
    y_range = [min(-0.1, _low(frame)), 1.0]
    for i, m in enumerate(methods):
        k = ax[m]
        x0 = i * (width + gap)
        xaxis = {"domain": [x0, x0 + width], "anchor": "y" + k, "tickvals": vals, "ticktext": text, **GRID}
        if curves:
            lo_x, hi_x = lay["x_range"]
            xaxis.update(type="log", range=[math.log10(lo_x) - 0.15, math.log10(hi_x) + 0.15],
                         title={"text": "training step (log; step 0 at the left)"})  # fmt: skip
        else:
            xaxis.update(tickmode="array", range=[-0.6, len(text) - 0.4], title={"text": "model"})
        layout["xaxis" + k] = xaxis
        yaxis = {"anchor": "x" + k, "range": y_range, **GRID}
        if i == 0:
            yaxis["title"] = {"text": "Spearman ρ with human ratings"}
        else:
            yaxis.update(matches="y", showticklabels=False)
        layout["yaxis" + k] = yaxis
        layout["annotations"].append({
            "text": method_label(m) if n <= 3 else method_label(m).replace(" (", "<br>("),  # narrow panels: 2 lines
            "x": x0 + width / 2, "y": 1.0, "xref": "paper", "yref": "paper",
            "xanchor": "center", "yanchor": "bottom", "showarrow": False, "font": {"size": 16 if n <= 3 else 13},
        })  # fmt: skip
        if ceiling is not None:
            layout["shapes"].append({
                "type": "line", "xref": f"x{k} domain", "x0": 0, "x1": 1, "yref": "y" + k, "y0": ceiling,
                "y1": ceiling, "line": {"dash": "dash", "color": CEILING_COLOUR},
            })  # fmt: skip
    if ceiling is not None:
        layout["annotations"].append({
            "text": f"human ceiling {ceiling:.2f}", "xref": "x domain", "yref": "y", "x": 0, "y": ceiling,
            "xanchor": "left", "yanchor": "bottom", "showarrow": False, "font": {"color": CEILING_COLOUR},
        })  # fmt: skip
    return go.Figure({"data": data, "layout": layout})


def _low(frame: pd.DataFrame) -> float:
    lows = pd.to_numeric(frame["ci_low"], errors="coerce") if len(frame) else pd.Series(dtype=float)
    return float(lows.min()) - 0.05 if lows.notna().any() else 0.0


def alignment_svg(
    frame: pd.DataFrame,
    ceiling: float | None = MEN_HUMAN_CEILING,
    title: str = "",
    selected: str | None = None,
    width: int = 960,
    height: int = 520,
) -> str:
    """The alignment figure as a standalone SVG document, one panel per method (text escaped)."""
    lay = _layout(frame, selected)
    methods = lay["methods"] or ["experts"]
    left, right, top, bottom, gap = 60, 15, 50 if title else 30, 120, 14
    pw = (width - left - right - gap * (len(methods) - 1)) / len(methods)
    ph = height - top - bottom
    ymin, ymax = min(-0.1, _low(frame)), 1.0
    vals, text = lay["ticks"]
    log_x = lay["kind"] == "curves"  # steps on a log axis; otherwise one column per revision
    x0, x1 = (math.log10(v) + d for v, d in zip(lay["x_range"], (-0.15, 0.15))) if log_x else (0.0, 1.0)

    def fx(x):
        return (math.log10(max(x, 1e-9)) - x0) / (x1 - x0) if log_x else (x + 0.6) / (max(len(text), 1) + 0.2)

    def sy(y):
        return top + (ymax - y) / (ymax - ymin) * ph

    e = html.escape
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
    ]
    if title:
        out.append(f'<text x="{left}" y="20" font-size="15">{e(title)}</text>')
    for k, method in enumerate(methods):
        px = left + k * (pw + gap)

        def sx(x, px=px):
            return px + fx(x) * pw

        out.append(f'<text x="{px + pw / 2:.1f}" y="{top - 8}" text-anchor="middle">{e(method_label(method))}</text>')
        for j in range(int(math.ceil(ymin * 10)), 11):  # y grid every 0.1
            y = j / 10
            out.append(f'<line x1="{px:.1f}" x2="{px + pw:.1f}" y1="{sy(y):.1f}" y2="{sy(y):.1f}" stroke="#e5e5e5"/>')
            if k == 0 and j % 2 == 0:
                out.append(f'<text x="{left - 6}" y="{sy(y) + 4:.1f}" text-anchor="end">{y:.1f}</text>')
        for v, label in zip(vals, text):
            out.append(f'<text x="{sx(v):.1f}" y="{top + ph + 14}" text-anchor="middle">{e(str(label))}</text>')
        out.append(f'<rect x="{px:.1f}" y="{top}" width="{pw:.1f}" height="{ph}" fill="none" stroke="#999999"/>')
        if ceiling is not None:
            out.append(
                f'<line x1="{px:.1f}" x2="{px + pw:.1f}" y1="{sy(ceiling):.1f}" y2="{sy(ceiling):.1f}" '
                f'stroke="{CEILING_COLOUR}" stroke-dasharray="6,4"/>'
            )
            if k == 0:
                out.append(
                    f'<text x="{px + 6:.1f}" y="{sy(ceiling) - 5:.1f}" fill="{CEILING_COLOUR}">'
                    f"human ceiling {ceiling:.2f}</text>"
                )
        for s in (s for s in lay["series"] if s["method"] == method):
            rows, c, w = s["rows"], s["colour"], 3.5 if s["selected"] else 1.5
            pts = [(sx(x), sy(y)) for x, y in zip(rows["x"], rows["rho"]) if np.isfinite(y)]
            if s["kind"] == "line":
                ok = np.isfinite(rows["ci_low"]) & np.isfinite(rows["ci_high"])
                if s["selected"] and ok.any():
                    r = {k: v[ok] for k, v in rows.items()}
                    band = [(sx(x), sy(h)) for x, h in zip(r["x"], r["ci_high"])]
                    band += [(sx(x), sy(lo)) for x, lo in zip(r["x"][::-1], r["ci_low"][::-1])]
                    out.append(f'<polygon points="{_pts(band)}" fill="{c}" fill-opacity="0.18" stroke="none"/>')
                if pts:
                    out.append(f'<polyline points="{_pts(pts)}" fill="none" stroke="{c}" stroke-width="{w}"/>')
            else:
                for x, lo, hi in zip(rows["x"], rows["ci_low"], rows["ci_high"]):
                    if np.isfinite(lo) and np.isfinite(hi):
                        out.append(
                            f'<line x1="{sx(x):.1f}" x2="{sx(x):.1f}" y1="{sy(lo):.1f}" y2="{sy(hi):.1f}" '
                            f'stroke="{c}" stroke-width="1.5"/>'
                        )
                if s["kind"] == "final":
                    for _, yy in pts:
                        out.append(
                            f'<line x1="{px:.1f}" x2="{px + pw:.1f}" y1="{yy:.1f}" y2="{yy:.1f}" stroke="{c}" '
                            f'stroke-dasharray="2,3" stroke-width="{w * 0.8:.1f}"/>'
                        )
            for x, y in pts:
                r = (3 if s["kind"] == "line" else 5) + (2 if s["selected"] else 0)
                out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r}" fill="{c}"/>')
    xlabel = "training step (log; final: models without steps)" if lay["kind"] == "curves" else "model"
    out.append(f'<text x="{width / 2}" y="{top + ph + 32}" text-anchor="middle">{xlabel}</text>')
    out.append(
        f'<text transform="translate(14,{top + ph / 2}) rotate(-90)" text-anchor="middle">'
        f"Spearman ρ with human ratings</text>"
    )
    models = list(dict.fromkeys((s["name"], s["colour"], s["selected"]) for s in lay["series"]))
    for i, (name, c, sel) in enumerate(models):  # legend, four per row
        x = left + (i % 4) * ((width - left - right) / 4)
        y = top + ph + 56 + (i // 4) * 18
        out.append(
            f'<line x1="{x:.1f}" x2="{x + 24:.1f}" y1="{y - 4}" y2="{y - 4}" stroke="{c}" '
            f'stroke-width="{3.5 if sel else 1.5}"/>'
        )
        out.append(f'<text x="{x + 30:.1f}" y="{y}">{e(name)}{" (selected)" if sel else ""}</text>')
    out.append("</svg>")
    return "\n".join(out)


def _pts(points: list[tuple[float, float]]) -> str:
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
