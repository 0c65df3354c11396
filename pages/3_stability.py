"""Stability (the paper's Fig. 1): are a concept's experts the same when the sentences are redrawn?"""

from __future__ import annotations

import streamlit as st

import ui
from core.analysis.run_choice import latest_per_model
from core.render import figures
from core.render.style import size_label

p = ui.page("Stability", "stability", need="folds")
st.title("Stability of expert sets")
st.markdown(
    "Each fold draws new positive and negative sentences. If experts belong to the concept rather than to the "
    "sample, a concept's expert sets from two folds overlap much more (blue) than the sets of two different "
    "concepts (orange). Bands are ± one standard deviation over concepts (or concept pairs)."
)
ui.require_run(p)


def draw(q: ui.Page) -> None:
    """Every section of the page: each shows the run at the slider's τ."""
    table = ui.fold_overlap_curve(q)
    here = table[table["tau"].round(2) == q.tau].iloc[0]
    n_folds = int(here["n_folds"])
    if n_folds < 2:
        st.info(
            f"Run {q.run.title} has one fold, so there is nothing to compare across folds. Extract with "
            "`--folds 2` (or more) to see stability.",
            icon=":material/filter_1:",
        )
    else:
        m = st.columns(4)
        m[0].metric(f"Same concept, τ = {q.tau:.2f}", ui.fmt(here["within_mean"]), help="Mean Jaccard across folds")
        m[1].metric("Different concepts", ui.fmt(here["between_mean"]), help="Mean Jaccard between concepts (fold 0)")
        ratio = (
            here["within_mean"] / here["between_mean"]
            if here["between_mean"]
            else float("inf")
            if here["within_mean"] > 0
            else float("nan")
        )
        m[2].metric(
            "Ratio",
            ui.fmt(ratio, 1),
            help="Same-concept over different-concept overlap; — when different concepts share no experts (undefined)",
        )
        m[3].metric("Concepts × folds", f"{int(here['n_concepts'])} × {n_folds}")
        fig = ui.figure(q, "stability", (q.run_id, q.tau), lambda: figures.stability_figure(table, q.tau))
        st.plotly_chart(fig, config={"displaylogo": False})

    sized = ui.by_size(q)
    if not sized.empty:
        st.subheader("Stability against set sizes")
        st.caption(
            f"Runs of the same concepts that differ only in how many positive and negative sentences each fold "
            f"draws, at τ = {q.tau:.2f}: do a few hundred sentences suffice for stable experts?"
        )
        fig = ui.figure(q, "by_size", (q.run_id, q.tau), lambda: figures.stability_size_figure(sized))
        st.plotly_chart(fig, config={"displaylogo": False})
        st.dataframe(
            sized[
                [
                    "run_id",
                    "n_pos",
                    "n_neg",
                    "n_folds",
                    "n_concepts",
                    "within_mean",
                    "within_std",
                    "between_mean",
                    "between_std",
                ]
            ],
            hide_index=True,
            width="stretch",
        )

    st.subheader("Expert-set sizes")
    sizes = ui.set_sizes_curve(q)
    if not sizes.empty:
        now = sizes[sizes["tau"].round(2) == q.tau].iloc[0]
        st.caption(
            f"At τ = {q.tau:.2f}: median {now['median']:.0f} experts per concept (IQR {now['q25']:.0f}–"
            f"{now['q75']:.0f}), {int(now['no_experts'])} of {int(now['n_concepts'])} concepts have none. Log axis: "
            "a τ whose median is 0 has no point, and the band leaves out τ where a quartile is below one expert."
        )
        fig = ui.figure(q, "set_sizes", (q.run_id, q.tau), lambda: figures.set_size_figure(sizes, q.tau))
        st.plotly_chart(fig, config={"displaylogo": False})

    others = latest_per_model(q.runs)
    if len(others) > 1:
        st.subheader("Across models")
        rows = []
        for rid in others:
            t = ui.fold_overlap(q, (q.tau,), run_id=rid)
            run = next(r for r in q.runs if r.run_id == rid)
            rows.append(
                {
                    "model": q.looks[run.model].name,
                    "revision": run.rev,
                    "size": size_label(run.n_params, run.model),
                    **{k: ui.fmt(t.iloc[0][k]) for k in ("within_mean", "between_mean")},
                    **t.iloc[0][["n_concepts", "n_folds"]].to_dict(),
                }
            )
        st.dataframe(rows, hide_index=True, width="stretch")

    with st.expander("Table"):
        st.dataframe(
            table.merge(sizes, on="tau", how="left", suffixes=("", "_sizes")), hide_index=True, width="stretch"
        )


ui.tau_section(p, draw)
