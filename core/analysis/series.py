"""Alignment over a checkpoint series: when (training step) and where (layer) a model's experts align.

Works on alignment-table rows (``core.analysis.alignment.alignment_table``, or the rows of a stored alignment snapshot)
of the runs of models that were extracted at several training steps:

- ``over_training``: ρ of every method at every checkpoint of every size, with the weights flag;
- ``where_when``: ρ from one layer at a time (rows) by checkpoint (columns), per size — the heatmap;
- ``step_positions``: a log axis that still shows step 0 (drawn half a step left of the first positive step).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.model.checkpoints import identical_neighbours

from .measures import alignment_methods

LAYER_PREFIX = "layer:"  # method name of a one-layer-at-a-time row (core.analysis.layers.group_alignment_rows)


def series_models(runs: pd.DataFrame) -> list[str]:
    """Models with results at several training steps, smallest first (then by name)."""
    if runs.empty or "step" not in runs:
        return []
    t = runs[pd.to_numeric(runs["step"], errors="coerce").notna()]
    if "n_results" in t:
        t = t[t["n_results"] > 0]
    steps = t.groupby("model")["step"].nunique()
    many = t[t["model"].isin(steps[steps > 1].index)]
    order = many.assign(_n=pd.to_numeric(many["n_params"], errors="coerce")).sort_values(["_n", "model"])
    return list(dict.fromkeys(order["model"]))


def over_training(table: pd.DataFrame, runs: pd.DataFrame) -> pd.DataFrame:
    """Method rows (no per-layer rows) of the series models, sorted by size, method and step.

    Adds ``same_weights_as``: the previous revision when this checkpoint's weights are byte-identical to it.
    """
    models = series_models(runs)
    t = table[table["model"].isin(models) & ~table["method"].str.contains(":", regex=False)].copy()
    t["step"] = pd.to_numeric(t["step"], errors="coerce")
    t["size_order"] = t["model"].map({m: i for i, m in enumerate(models)})
    same = identical_neighbours(runs)
    t["same_weights_as"] = [same.get(r, "") for r in t["run_id"]]
    return t.sort_values(["size_order", "method", "step"], ignore_index=True).drop(columns="size_order")


def where_when(rows: pd.DataFrame, runs: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """``{model: layers × steps}`` of ρ from one layer at a time, for each series model.

    ``rows`` are one-layer rows (method ``layer:<n>``) with ``run_id``; ``runs`` gives each run's model and step.
    Columns are the steps in order; rows the layers from the first.
    """
    t = rows[rows["method"].str.startswith(LAYER_PREFIX)]
    info = runs.set_index("run_id")[["model", "step"]]
    t = t.drop(columns=[c for c in ("model", "step") if c in t]).join(info, on="run_id", how="inner")
    out = {}
    for model in series_models(runs):
        g = t[t["model"] == model]
        if g.empty:
            continue
        g = g.assign(layer=g["method"].str.slice(len(LAYER_PREFIX)).astype(int), step=g["step"].astype("int64"))
        out[model] = g.pivot_table(
            index="layer", columns="step", values="rho", aggfunc="first", dropna=False
        ).sort_index(axis=1)
    return out


def step_positions(steps) -> tuple[np.ndarray, list[float], list[str]]:
    """x positions on a log axis for training steps, with step 0 drawn at half the smallest positive step.

    Returns ``(x, tickvals, ticktext)``; ticks at 0 and at the powers of ten in range.
    """
    s = np.asarray(pd.to_numeric(pd.Series(steps), errors="coerce"), dtype=float)
    positive = s[s > 0]
    zero_at = (positive.min() if positive.size else 1.0) / 2
    x = np.where(s == 0, zero_at, s)
    top = positive.max() if positive.size else 1.0
    powers = [10.0**k for k in range(int(np.floor(np.log10(max(zero_at * 2, 1)))), int(np.log10(top)) + 1)]
    vals = ([zero_at] if (s == 0).any() else []) + powers
    text = (["0"] if (s == 0).any() else []) + [f"{int(p):,}" for p in powers]
    return x, vals, text


def series_sizes(runs: pd.DataFrame, log: pd.DataFrame) -> pd.DataFrame:
    """Per series model: parameters, checkpoints with results, and the last logged tokens and losses."""
    rows = []
    for model in series_models(runs):
        r = (
            runs[(runs["model"] == model) & (runs["n_results"] > 0)]
            if "n_results" in runs
            else runs[runs["model"] == model]
        )
        tail = log[log["model"] == model].sort_values("step").tail(1)
        last = tail.iloc[0] if not tail.empty else pd.Series(np.nan, index=["tokens", "loss", "held_out_loss"])
        rows.append(
            {
                "model": model,
                "n_params": int(pd.to_numeric(r["n_params"]).max()),
                "checkpoints": int(r["step"].nunique()),
                "tokens": last["tokens"],
                "loss": last["loss"],
                "held_out_loss": last["held_out_loss"],
            }
        )
    return pd.DataFrame(rows, columns=["model", "n_params", "checkpoints", "tokens", "loss", "held_out_loss"])


def _int(x) -> str:
    return f"{int(x):,}" if pd.notna(x) else "—"


def _num(x) -> str:
    return f"{float(x):.3f}" if pd.notna(x) else "—"


def series_markdown(curves: pd.DataFrame, sizes: pd.DataFrame, tau: float) -> list[str]:
    """Markdown lines: one row per (size, checkpoint) with ρ [CI] of each method, and the model sizes."""
    if curves.empty:
        return []
    lines = ["| model | parameters (no LM head) | checkpoints | tokens seen | final loss | final held-out loss |"]
    lines.append("|---|---|---|---|---|---|")
    for r in sizes.itertuples():
        lines.append(
            f"| {r.model} | {r.n_params:,} | {r.checkpoints} | {_int(r.tokens)} | {_num(r.loss)} | "
            f"{_num(r.held_out_loss)} |"
        )
    wide = curves.assign(
        cell=[_rho(r, lo, hi) for r, lo, hi in zip(curves["rho"], curves["ci_low"], curves["ci_high"])]
    )
    table = wide.pivot_table(
        index=["model", "step", "revision", "same_weights_as"], columns="method", values="cell", aggfunc="first"
    )
    order = {m: i for i, m in enumerate(dict.fromkeys(curves["model"]))}
    table = table.reset_index().sort_values(["model", "step"], key=lambda c: c.map(order) if c.name == "model" else c)
    methods = [m for m in alignment_methods() if m in table]
    lines += ["", f"ρ with MEN-test ratings at τ = {tau:g} (95% bootstrap CI) at every checkpoint:", ""]
    lines.append("| model | step | " + " | ".join(methods) + " | same weights as |")
    lines.append("|---|---|" + "---|" * len(methods) + "---|")
    for r in table.itertuples(index=False):
        d = r._asdict()
        cells = " | ".join(str(d.get(m, "")) for m in methods)
        lines.append(f"| {d['model']} | {int(d['step'])} | {cells} | {d['same_weights_as'] or '—'} |")
    return lines


def _rho(r: float, lo: float, hi: float) -> str:
    if not np.isfinite(r):
        return "—"
    return f"{r:.3f} [{lo:.3f}, {hi:.3f}]" if np.isfinite(lo) else f"{r:.3f}"


PAPER_CLAIM = (
    "Paper (Fedzechkina et al. 2025, Fig. 2, Pythia 70m–12b on 300B tokens): expert overlap aligns with human "
    "similarity early in training, size matters little, and experts align better than word and sentence embeddings."
)


def claim_lines(curves: pd.DataFrame) -> list[str]:
    """The paper's claims about training next to what these curves show, in sentences computed from them.

    Per size: experts ρ at the first and last checkpoint, the first step whose CI lies above the first
    checkpoint's CI (alignment has appeared), and at how many checkpoints experts beat each embedding with
    non-overlapping CIs; across sizes: the spread of the last checkpoint's ρ and whether the extreme sizes' CIs
    overlap. Nothing here is a verdict typed by hand.
    """
    t = curves.dropna(subset=["step"])
    experts = t[t["method"] == "experts"]
    if experts.empty:
        return []
    lines = ["### Against the paper's claims", "", PAPER_CLAIM, ""]
    last_rows = []
    for model, g in experts.groupby("model", sort=False):
        g = g.sort_values("step")
        first, last = g.iloc[0], g.iloc[-1]
        last_rows.append(last)
        up = g[g["ci_low"] > first["ci_high"]]
        appeared = (
            f"first above step {int(first['step'])}'s CI at step {int(up['step'].iloc[0])}"
            if len(up)
            else (f"never above step {int(first['step'])}'s CI")
        )
        versus = []
        for method, label in (("sentence_embedding", "sentence"), ("word_embedding", "word")):
            other = t[(t["model"] == model) & (t["method"] == method)].set_index("step")
            if other.empty:
                continue
            e = g.set_index("step").loc[other.index.intersection(g["step"])]
            o = other.loc[e.index]
            above = int((e["ci_low"] > o["ci_high"]).sum())
            below = int((e["ci_high"] < o["ci_low"]).sum())
            versus.append(f"above {label} embedding at {above}, below at {below} of {len(e)} checkpoints")
        lines.append(
            f"- `{model}`: experts ρ {_num(first['rho'])} at step {int(first['step'])} → {_num(last['rho'])} at step "
            f"{int(last['step'])} ({appeared}); " + "; ".join(versus) + " (95% CIs not overlapping)."
        )
    if len(last_rows) > 1:
        lo, hi = last_rows[0], last_rows[-1]
        rhos = [r["rho"] for r in last_rows]
        overlap = lo["ci_low"] <= hi["ci_high"] and hi["ci_low"] <= lo["ci_high"]
        lines.append(
            f"- Size: at the last checkpoint experts ρ spans {_num(min(rhos))}–{_num(max(rhos))} across the "
            f"{len(last_rows)} sizes; the smallest and the largest size's CIs "
            + ("overlap." if overlap else "do not overlap.")
        )
    return [*lines, ""]
