"""Alignment (the paper's Fig. 2): Spearman ρ with human ratings across training, experts vs embeddings."""

from __future__ import annotations

import streamlit as st

import ui
from core.analysis.alignment import n_boot_for
from core.analysis.measures import alignment_methods
from core.analysis.run_choice import alignment_runs
from core.render import alignment_figure, figures, series_figures
from core.render.style import RHO_RANGE, method_label
from core.text.benchmarks import MEN_HUMAN_CEILING

p = ui.page("Alignment", "alignment", ("bench", "runs", "measures"), need="benchmark")
st.title("Alignment with human similarity")
st.markdown(
    "Spearman ρ between human similarity ratings and each method's similarity over the benchmark pairs both words "
    "of which have results: **expert overlap** (Jaccard at τ) vs **word** and **sentence embedding** cosines. "
    "Bands and bars are 95% bootstrap confidence intervals over pairs; p vs experts is a paired bootstrap test."
)
ui.require_run(p)
options = dict(ui.benchmarks(p))
if not options:
    st.info(
        "No benchmark file found: put the MEN files in `cache/MEN/` or set `EXPERTS_BENCHMARK` to a "
        "`word1 word2 score` file. The dashboard downloads nothing.",
        icon=":material/rule:",
    )
    st.stop()

names = list(options)
c1, c2, c3 = st.columns(3)
with c1:
    bench = ui.choice("bench", names, names[0], "alignment", "Benchmark")
with c2:
    scope = ui.choice(
        "runs",
        ["all", "model"],
        "all",
        "alignment",
        "Runs",
        format_func=lambda v: "every model and checkpoint" if v == "all" else f"only {p.looks[p.run.model].name}",
    )
with c3:
    extra = [m for m in alignment_methods(every=True) if m not in alignment_methods()]
    picked = ui.multi(
        "measures",
        extra,
        [],
        "alignment",
        "More measures",
        format_func=method_label,
        placeholder="threshold-free measures of the APs",
        help="Score and draw these measures too, each in its own panel, with p vs experts (Jaccard at τ)",
    )
methods = [*alignment_methods(), *picked]
bench_path = options[bench]
selected, looks = p.run.model, p.looks
name = looks[selected].name
prefer = {**ui.coverage(p, bench_path, bench), p.run_id: float("inf")}  # the chosen run stands for its revision
run_ids = alignment_runs(p.runs, selected if scope == "model" else None, prefer)
n_boot = n_boot_for(len(run_ids))
why = "the Runs picker is set to every model and checkpoint" if scope == "all" else ""


def series_note(models) -> str:
    """Which runs a checkpoint-series section shows, and why (the selected model may have no series)."""
    shown = [looks[m].name for m in sorted(models, key=lambda m: looks[m].order)]
    if list(models) == [selected]:
        return f"Selected: {p.named} and its checkpoints."
    head = (
        f"Selected: {p.named}, panel marked (selected). "
        if selected in models
        else (f"The selected run {p.named} has no checkpoint series. ")
    )
    return head + f"Other runs: the checkpoint series {', '.join(shown)}, because {why or 'they are the series'}."


def draw(q: ui.Page) -> None:
    """Fig. 2, where in the network and where × when, at the slider's τ."""
    shown = run_ids
    try:
        table = ui.alignment(q, bench_path, shown, n_boot=n_boot, name=bench, methods=methods)
    except (ValueError, KeyError) as e:  # an unreadable benchmark file, a run removed meanwhile
        st.error(f"Alignment cannot be computed: {e}")
        return
    if bench_path is None:
        st.info(ui.snapshot_note(bench, ui.snapshot_meta(q, bench), q.settings.hosted), icon=":material/inventory_2:")
        shown = list(dict.fromkeys(table["run_id"]))
        absent = [method_label(m) for m in picked if m not in set(table["method"])]
        if absent:
            st.info(f"{', '.join(absent)}: not in this store's snapshot.", icon=":material/inventory_2:")
        if table.empty:
            st.caption("The snapshot holds no run of this selection.")
            return
    unscored = [method_label(m) for m in picked if table.loc[table["method"] == m, "rho"].notna().sum() == 0]
    if unscored and bench_path is not None:
        st.info(
            f"{', '.join(unscored)}: no run here stored every AP (`--ap-floor 0`), so no score.", icon=":material/rule:"
        )
    frame = alignment_figure.curve_frame(table, ui.same_weights(q), looks)
    ceiling = MEN_HUMAN_CEILING if bench.lower().startswith("men") else None  # the ceiling is MEN's
    title = f"{bench} · τ = {q.tau:.2f}"
    others = [looks[m].name for m in sorted(set(frame["model"]) - {selected}, key=lambda m: looks[m].order)]

    st.subheader("Alignment over training")
    source = ui.alignment_source(q, bench_path, run_ids, n_boot, methods) if bench_path else ""  # summaries or live
    key = (bench, bench_path, tuple(shown), q.tau, selected, n_boot, tuple(methods), source)
    st.plotly_chart(
        ui.figure(q, "alignment", key, lambda: alignment_figure.alignment_figure(frame, ceiling, selected=selected)),
        config={"displaylogo": False, "toImageButtonOptions": {"format": "png", "filename": "alignment", "scale": 2}},
    )
    has_selected = q.run_id in set(frame["run_id"])
    st.caption(
        (
            f"Selected: {q.named}, drawn thick"
            + (" (◆ at *final*: weights without a training step). " if frame["x"].isna().any() else " (band: 95% CI). ")
            if has_selected
            else f"The selected run {q.named} has no {bench} alignment here; "
        )
        + (f"Other runs: {', '.join(others)} (thin lines), because {why}. " if others else "")
        + f"{len(shown)} run{'s' if len(shown) != 1 else ''} · "
        + (f"{source} · " if source else "")
        + ("human ceiling: agreement between MEN raters (0.84). " if ceiling else "")
        + "PNG: camera icon of the chart; SVG and CSV below."
    )
    flagged = frame[(frame["same_weights_as"] != "") & (frame["method"] == "experts")]
    if len(flagged):
        st.warning(
            "Identical checkpoints (✕ on the figure): "
            + ", ".join(f"{r.name} {r.rev} = {r.same_weights_as}" for r in flagged.itertuples())
            + ". Their weights are byte-identical to the checkpoint before them, as in EleutherAI/pythia#195.",
            icon=":material/content_copy:",
        )
    st.dataframe(alignment_figure.alignment_display(frame), hide_index=True, width="stretch")
    d1, d2, _ = st.columns([1, 1, 3])
    # built when clicked, not on every rerun
    d1.download_button("Table (CSV)", lambda: table.to_csv(index=False).encode(), "alignment.csv", "text/csv")
    svg = lambda: alignment_figure.alignment_svg(frame, ceiling, title, selected=selected).encode()  # noqa: E731
    d2.download_button("Figure (SVG)", svg, "alignment.svg", "image/svg+xml")

    st.subheader("Where in the network")
    layers, kinds = ui.where(q, bench_path, bench)
    if layers.empty or layers["rho"].isna().all():
        st.caption(f"No layer breakdown for {q.named} on {bench} at τ = {q.tau:.2f}.")
    else:
        mine = table[(table["run_id"] == q.run_id) & (table["method"] == "experts")]
        overall = float(mine["rho"].iloc[0]) if len(mine) else None
        st.caption(
            f"Selected: {q.named}. Spearman ρ when the expert overlap is computed from the units of one layer (or one "
            f"module kind) only, {int(layers['n_pairs'].max())} pairs, τ = {q.tau:.2f}; dashed: all units."
        )
        fig = ui.figure(
            q,
            "where",
            (q.run_id, bench, bench_path, q.tau),
            lambda: figures.where_figure(layers, kinds, overall, looks[selected].colour, name),
        )
        st.plotly_chart(fig, config={"displaylogo": False})
        best = layers.dropna(subset=["rho"]).sort_values("rho", ascending=False).head(3)
        st.caption("Best single layers: " + ", ".join(f"{int(r.group)} (ρ = {r.rho:.3f})" for r in best.itertuples()))

    series = ui.series(q, bench_path, bench)
    if scope == "model":  # the Runs picker: only the selected model
        series = {m: v for m, v in series.items() if m == selected}

    if series:
        st.subheader("Where × when")
        st.caption(
            series_note(list(series)) + f" Spearman ρ with {bench} from one layer's experts only (rows), at every "
            f"checkpoint (columns), τ = {q.tau:.2f}. Colour range fixed at ρ ∈ [−{RHO_RANGE:g}, {RHO_RANGE:g}] for every "
            "τ (stronger values take the end colours). Red: that layer's experts agree with human similarity; white: "
            "ρ = 0; grey: no result (no pair both of whose words have experts in that layer)."
        )
        fig = ui.figure(
            q,
            "where_when",
            (bench, bench_path, q.tau, selected, scope),
            lambda: series_figures.where_when_figure(series, looks, selected),
        )
        st.plotly_chart(fig, config={"displaylogo": False})
    elif scope == "model":
        st.caption(f"{q.named}: no checkpoint series, so no where × when (switch Runs to every model to see others).")


ui.tau_section(p, draw)
log = ui.training_log(p)  # no τ: drawn once, outside the τ section
if scope == "model":
    log = log[log["model"] == selected]
if len(log):
    st.subheader("Training loss")
    st.caption(
        series_note(list(dict.fromkeys(log["model"]))) + " Loss per token of checkpoint series trained with "
        "`scripts/train_checkpoints.py`, beside ρ."
    )
    fig = ui.figure(p, "loss", (selected, scope), lambda: series_figures.loss_figure(log, looks, selected))
    st.plotly_chart(fig, config={"displaylogo": False})
