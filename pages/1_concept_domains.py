"""Concept domains (the paper's Fig. 3): concepts linked by shared experts, coloured by domain."""

from __future__ import annotations

import os

import streamlit as st

import ui
from core.analysis.measures import DOMAIN_MEASURE, MEASURES
from core.render.domain_view import domain_concepts
from core.text.concepts import DEFAULT_DOMAINS, ConceptFileError, domain_list_text, read_domains

p = ui.page("Concept domains", "domains", ("domains", "min_w", "pair", "measure"), need="domains")
st.title("Concept domains")
st.markdown(
    "Each node is a concept of the domain list, coloured by its domain; a link's thickness is the **reciprocal "
    "overlap** of the two expert sets, |A∩B| / √(|A|·|B|) (or the measure picked as link weight). If experts carry meaning, concepts of a domain cluster "
    "together: ARI and NMI compare Louvain communities of the full graph with the domains. The layout is seeded, "
    "so a shared link draws the same picture."
)
ui.require_run(p, "Extract the concepts of a domain list first.")

try:
    listed = ui.domain_list(p)
except (ConceptFileError, OSError) as e:
    st.error(f"The domain list cannot be read: {e}")
    st.stop()
index = ui.index(p)
present = domain_concepts(listed, index.concepts)
list_name = os.path.basename(p.settings.domains)


def offer_domain_list() -> None:
    """A domain list of the run's concepts to download, sorted into the domains the known lists give them."""
    known = {**read_domains(DEFAULT_DOMAINS), **listed}
    st.download_button(
        "Domain list of this run's concepts (domains.txt)",
        domain_list_text(index.concepts, known).encode(),
        "domains.txt",
        "text/plain",
        icon=":material/download:",
    )


if len(present) < 2:
    advice = (
        ""
        if p.settings.hosted
        else " Point `EXPERTS_DOMAINS` at a domain list (one `domain: concept, concept` a line) of the run's "
        "concepts and restart the dashboard: the one below sorts them into the domains known so far."
    )
    st.info(
        f"Fewer than two concepts of the domain list (`{list_name}`) have results in run {p.run.title}.{advice}",
        icon=":material/hourglass_empty:",
    )
    if not p.settings.hosted:
        offer_domain_list()
    st.stop()
if not p.settings.hosted:
    st.caption(
        f"Domain list: `{list_name}`, {len(present)} of the run's {len(index.concepts)} concepts "
        "(`EXPERTS_DOMAINS` names another)."
    )
all_domains = list(dict.fromkeys(present.values()))

left, middle, right = st.columns([3, 2, 2])
with left:
    chosen = (
        ui.multi(
            "domains",
            all_domains,
            all_domains,
            "domains",
            "Domains",
            help="Show only these domains (the scores stay those of the full graph)",
        )
        or all_domains
    )
with middle:
    measure = ui.measure_choice(
        "domains",
        DOMAIN_MEASURE,
        "Link weight",
        "The similarity of two concepts that weights the graph's links (Louvain, ARI and NMI follow)",
    )
short = MEASURES[measure].short
weight_name = "overlap" if measure == DOMAIN_MEASURE else short  # the default link reads as before
with right:
    min_w = ui.number("min_w", 0.0, 1.0, 0.01, 0.05, "domains", f"Edge cut-off ({short} ≥)")


def draw(q: ui.Page) -> None:
    """The graph, its scores and the shared experts of a link, at the slider's τ."""
    view = ui.domain_view(q, tuple(chosen), min_w, measure=measure)
    s = view["scores"]
    m = st.columns(5)
    m[0].metric("ARI", ui.fmt(s["ari"]), help="Adjusted Rand index of Louvain communities vs domains (1 = identical)")
    m[1].metric("NMI", ui.fmt(s["nmi"]), help="Normalised mutual information of communities vs domains")
    m[2].metric("Communities", s["n_communities"])
    m[3].metric(
        "Within / between overlap",
        ui.fmt(s["ratio"], 2),
        help=f"Mean link weight within domains {ui.fmt(s['within_mean'])} vs between {ui.fmt(s['between_mean'])}",
    )
    m[4].metric("Concepts", s["n_concepts"])

    ui.network_frame(view["network"])

    st.subheader("Experts two concepts share")
    edges = view["edges"]
    if edges.empty:
        st.caption("No links above the cut-off: lower it to compare concepts.")
    else:
        pairs = list(zip(edges["a"], edges["b"]))
        info = {pr: (w, n) for pr, w, n in zip(pairs, edges["weight"], edges["shared"])}
        a, b = ui.choice(
            "pair",
            pairs,
            pairs[0],
            "domains",
            "Link (strongest first)",
            to_text=lambda v: f"{v[0]}~{v[1]}",
            from_text=lambda raw: tuple(sorted(raw.split("~", 1))),
            format_func=lambda v: f"{v[0]} – {v[1]}  ({weight_name} {info[v][0]:.2f}, {info[v][1]} shared)",
        )
        table = ui.shared(q, a, b)
        st.caption(
            f"{len(table)} units are experts of both **{a}** and **{b}** at τ = {q.tau:.2f} (sorted by the weaker AP)."
        )
        st.dataframe(table.head(500), hide_index=True, width="stretch")
        st.download_button(
            "Shared experts (CSV)", table.to_csv(index=False).encode(), f"shared_{a}_{b}.csv", "text/csv"
        )

    with st.expander("Concepts, domains and communities"):
        st.dataframe(view["nodes"], hide_index=True, width="stretch")
        if not q.settings.hosted:
            offer_domain_list()


ui.tau_section(p, draw)
