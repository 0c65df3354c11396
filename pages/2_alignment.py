"""Alignment (the paper's Fig. 2): Spearman ρ with human ratings across training, experts vs embeddings."""

from __future__ import annotations

import streamlit as st

import ui
from core import alignment_figure, figures, series_figures
from core.alignment import n_boot_for
from core.benchmarks import MEN_HUMAN_CEILING
from core.runs import alignment_runs

p = ui.page("Alignment", "alignment", ("bench", "runs"), need="benchmark")
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
c1, c2 = st.columns(2)
with c1:
    bench = ui.choice("bench", names, names[0], "alignment", "Benchmark")
with c2:
    scope = ui.choice(
        "runs",
        ["all", "model"],
        "all",
        "alignment",
        "Runs",
        format_func=lambda v: "every model and checkpoint" if v == "all" else f"only {p.run.model}",
    )
bench_path = options[bench]
run_ids = alignment_runs(p.runs, p.run.model if scope == "model" else None, ui.coverage(p, bench_path, bench))
n_boot = n_boot_for(len(run_ids))
try:
    table = ui.alignment(p, bench_path, run_ids, n_boot=n_boot, name=bench)
except (ValueError, KeyError) as e:  # an unreadable benchmark file, a run removed meanwhile
    st.error(f"Alignment cannot be computed: {e}")
    st.stop()
if bench_path is None:
    st.info(ui.snapshot_note(bench, ui.snapshot_meta(p, bench), p.settings.hosted), icon=":material/inventory_2:")
    run_ids = list(dict.fromkeys(table["run_id"]))
    if table.empty:
        st.caption("The snapshot holds no run of this selection.")
        st.stop()
same = ui.same_weights(p)
frame = alignment_figure.curve_frame(table, same)
ceiling = MEN_HUMAN_CEILING if bench.lower().startswith("men") else None  # the ceiling is MEN's
title = f"{bench} · τ = {p.tau:.2f}"

st.plotly_chart(
    alignment_figure.alignment_figure(frame, ceiling),
    config={"displaylogo": False, "toImageButtonOptions": {"format": "png", "filename": "alignment", "scale": 2}},
)
st.caption(
    f"{len(run_ids)} run{'s' if len(run_ids) != 1 else ''} · "
    + (f"{n_boot} bootstrap resamples · " if bench_path else "")
    + ("human ceiling: agreement between MEN raters (0.84). " if ceiling else "")
    + "PNG: camera icon of the chart; SVG and CSV below."
)

flagged = frame[(frame["same_weights_as"] != "") & (frame["method"] == "experts")]
if len(flagged):
    st.warning(
        "Identical checkpoints (✕ on the figure): "
        + ", ".join(f"{r.model} {r.rev} = {r.same_weights_as}" for r in flagged.itertuples())
        + ". Their weights are byte-identical to the checkpoint before them, as in EleutherAI/pythia#195.",
        icon=":material/content_copy:",
    )
show = alignment_figure.alignment_display(frame)
st.dataframe(show, hide_index=True, width="stretch")
d1, d2, _ = st.columns([1, 1, 3])
d1.download_button("Table (CSV)", table.to_csv(index=False).encode(), "alignment.csv", "text/csv")
d2.download_button(
    "Figure (SVG)", alignment_figure.alignment_svg(frame, ceiling, title).encode(), "alignment.svg", "image/svg+xml"
)

st.subheader("Where in the network")
layers, kinds = ui.where(p, bench_path, bench)
if layers.empty or layers["rho"].isna().all():
    st.caption(f"No layer breakdown for run {p.run.title} on {bench} at τ = {p.tau:.2f}.")
else:
    mine = table[(table["run_id"] == p.run_id) & (table["method"] == "experts")]
    overall = float(mine["rho"].iloc[0]) if len(mine) else None
    st.caption(
        f"Spearman ρ when the expert overlap is computed from the units of one layer (or one module kind) "
        f"only, run {p.run.title} (`{p.run_id[:8]}`), {int(layers['n_pairs'].max())} pairs, "
        f"τ = {p.tau:.2f}; dashed: all units."
    )
    st.plotly_chart(figures.where_figure(layers, kinds, overall), config={"displaylogo": False})
    best = layers.dropna(subset=["rho"]).sort_values("rho", ascending=False).head(3)
    st.caption("Best single layers: " + ", ".join(f"{int(r.group)} (ρ = {r.rho:.3f})" for r in best.itertuples()))

matrices = ui.series(p, bench_path, bench)
if matrices:
    st.subheader("Where × when")
    st.caption(
        f"Spearman ρ with {bench} when the expert overlap is computed from one layer's units only (rows), at every "
        f"checkpoint (columns), one panel per model size, τ = {p.tau:.2f}. Red: that layer's experts agree with "
        "human similarity; white: no signal."
    )
    st.plotly_chart(series_figures.where_when_figure(matrices), config={"displaylogo": False})
log = ui.training_log(p)
if len(log):
    st.subheader("Training loss")
    st.caption("Loss per token of the checkpoint series trained with `scripts/train_checkpoints.py`, beside ρ.")
    st.plotly_chart(series_figures.loss_figure(log), config={"displaylogo": False})
