"""Concept explorer: one concept's experts, where they sit, what they respond to, and its neighbours."""

from __future__ import annotations

import streamlit as st

import ui
from core.analysis.layers import best_units, top_units
from core.analysis.measures import BASELINE, MEASURES
from core.experts.overlap import compare_sets, nearest
from core.render import figures

p = ui.page("Concept explorer", "explorer", ("concept", "other", "measure"))
st.title("Concept explorer")
ui.require_run(p)

index = ui.index(p)
concepts = sorted(index.concepts)
concept = ui.choice("concept", concepts, "cat" if "cat" in concepts else concepts[0], "explorer", "Concept")


def draw(q: ui.Page) -> None:
    """The concept's experts, neighbours and comparison at the slider's τ (its picker stays outside)."""
    expert_sets = ui.sets(q)
    res = ui.results(q)
    res = res[res["concept"] == concept]
    mine = expert_sets.get(concept, [])

    m = st.columns(4)
    m[0].metric(f"Experts at τ = {q.tau:.2f}", f"{len(mine):,}")
    m[1].metric("Best AP", ui.fmt(res["max_ap"].max()) if len(res) else "—")
    m[2].metric(
        "Sentences (pos / neg)", f"{int(res['n_pos'].iloc[0])} / {int(res['n_neg'].iloc[0])}" if len(res) else "—"
    )
    m[3].metric("Share of all units", f"{100 * len(mine) / max(q.run.n_units or 1, 1):.2f}%")

    left, right = st.columns([3, 2])
    with left:
        st.subheader("Experts by layer and module kind")
        layers = ui.by_layer(q, [concept])
        if layers["n_experts"].sum() == 0:
            st.caption("No experts at this τ.")
        else:
            fig = ui.figure(q, "layers", (q.run_id, q.tau, concept), lambda: figures.layer_figure(layers, "kind"))
            st.plotly_chart(fig, config={"displaylogo": False})
    with right:
        st.subheader("Top units")
        ap = ui.concept_ap(q, concept)
        top = top_units(ap, ui.units(q, best_units(ap, 50)["unit"]), n=50)  # the unit rows of those 50 only
        st.dataframe(top, hide_index=True, width="stretch", height=380)

    left, right = st.columns([3, 2])
    with left:
        st.subheader("Example positive sentences")
        sents = ui.sentences(q, concept)
        if sents.empty and len(res):
            st.caption(
                f"The {int(res['n_pos'].iloc[0])} positive sentences behind these experts are not in this store: "
                "it holds derived numbers only (the demo store leaves out corpus text, which it may not "
                "redistribute)."
            )
        elif sents.empty:
            st.caption("No sentences stored for this concept.")
        else:
            st.dataframe(sents[["text"]].head(12), hide_index=True, width="stretch")
            st.caption(f"{len(sents):,} sentences stored for “{concept}”.")
    with right:
        st.subheader("Nearest concepts by expert overlap")
        measure = ui.measure_choice(
            "explorer", BASELINE, "Similarity", "Which similarity of the two concepts' APs ranks the neighbours"
        )
        if measure == BASELINE:
            near, column, label = nearest(ui.jaccard_row(q, concept), concept, n=10), "jaccard", "Jaccard"
        else:
            near, column, label = (
                nearest(ui.similarity(q, measure), concept, 10, measure),
                measure,
                MEASURES[measure].short,
            )
        st.dataframe(
            near,
            hide_index=True,
            width="stretch",
            column_config={column: st.column_config.ProgressColumn(label, min_value=0.0, max_value=1.0, format="%.3f")},
        )

    st.subheader("Compare two concepts")
    others = [c for c in concepts if c != concept]
    if not others:
        st.caption("The run has a single concept.")
        return
    default_other = near["concept"].iloc[0] if len(near) else others[0]
    other = ui.choice("other", others, default_other, "explorer", "Compare with")
    cmp = compare_sets(mine, expert_sets.get(other, []))
    c = st.columns(4)
    c[0].metric(f"Only {concept}", f"{cmp['only_a']:,}")
    c[1].metric("Shared", f"{cmp['shared']:,}")
    c[2].metric(f"Only {other}", f"{cmp['only_b']:,}")
    c[3].metric("Jaccard", ui.fmt(cmp["jaccard"]))
    both = ui.by_layer(q, [concept, other])
    left, right = st.columns([3, 2])
    with left:
        if both["n_experts"].sum():
            key = (q.run_id, q.tau, concept, other)
            fig = ui.figure(q, "layers2", key, lambda: figures.layer_figure(both, "concept"))
            st.plotly_chart(fig, config={"displaylogo": False})
    with right:
        table = ui.shared(q, concept, other)
        st.dataframe(table.head(300), hide_index=True, width="stretch", height=360)
        st.caption(f"{len(table):,} shared experts (AP in {concept} = ap_a, in {other} = ap_b).")


ui.tau_section(p, draw)
