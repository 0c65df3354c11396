"""The report's sections on other measures: ρ per measure (threshold-free ones and the τ average), the embedding
baselines for domains, and what the numbers say about the paper's ranking (experts above both embeddings).

Every sentence here is computed from the tables passed in (``threshold_free.measure_alignment``,
``domain_baselines.domain_baselines``); ``report.markdown`` places the lines.
"""

from __future__ import annotations

import pandas as pd

from core.analysis.measures import BASELINE, MEASURES
from core.analysis.threshold_free import TAU_AVERAGED

EMBEDDINGS = ("word_embedding", "sentence_embedding")


def _f(x, digits: int = 3) -> str:
    return "–" if x is None or pd.isna(x) else f"{x:.{digits}f}"


def _p(x) -> str:
    return "–" if x is None or pd.isna(x) else ("< 0.001" if x < 0.001 else f"{x:.3f}")


def _name(method: str, tau: float) -> str:
    if method == BASELINE:
        return f"experts: Jaccard at τ = {tau:g}"
    if method == TAU_AVERAGED:
        return "experts: Jaccard, ρ averaged over τ = 0.50…0.95"
    return MEASURES[method].label if method in MEASURES else method


def measure_lines(table: pd.DataFrame, tau: float) -> list[str]:
    """The table of ρ per measure, then a reading of the ranking per expert measure."""
    lines = [
        "### Alignment by measure (threshold-free)",
        "",
        "The same pairs scored by every measure (`alignment_by_measure.csv`): weighted Jaccard Σmin/Σmax and cosine "
        "of the clipped APs (AP − 0.5)₊ over every stored unit, exact from the store, and Jaccard's ρ averaged over "
        "the τ grid (area under ρ(τ) by the trapezoid rule, divided by the range; a τ where every set is empty counts "
        "ρ = 0). Raw-AP cosine and KL need a run extracted with `--ap-floor 0` and are shown only for one. 95% CIs "
        "and p vs Jaccard from the same 1000 paired bootstrap resamples of pairs; the τ average has no closed-form "
        "p (ρ = 0).",
        "",
        "| measure | Spearman ρ | 95% CI | p (ρ = 0) | p vs Jaccard | pairs |",
        "|---|---|---|---|---|---|",
    ]
    for _, r in table.iterrows():
        lines.append(
            f"| {_name(r['method'], tau)} | {_f(r['rho'])} | [{_f(r['ci_low'])}, {_f(r['ci_high'])}] | "
            f"{_p(r['p_value'])} | {_p(r['p_vs_experts'])} | {int(r['n_pairs'])} |"
        )
    return [*lines, "", *ranking_lines(table, tau), ""]


def ranking_lines(table: pd.DataFrame, tau: float) -> list[str]:
    """Per expert measure: is its ρ above both embeddings' (and its CI clear of theirs); how far ρ moves."""
    t = table.set_index("method")
    emb = [m for m in EMBEDDINGS if m in t.index]
    if not emb:
        return []
    best = max(emb, key=lambda m: t.loc[m, "rho"])
    ours = [m for m in t.index if m not in EMBEDDINGS]
    lines = ["Reading (computed from the table): is the paper's ranking, experts above both embeddings, kept?", ""]
    for m in ours:
        r = t.loc[m]
        above = all(r["rho"] > t.loc[e, "rho"] for e in emb)
        clear = above and r["ci_low"] > t.loc[best, "ci_high"]
        verdict = "holds, with the CIs apart" if clear else "holds, but the CIs overlap" if above else "does not hold"
        lines.append(
            f"- {_name(m, tau)}: ρ = {_f(r['rho'])} vs {_f(t.loc[best, 'rho'])} for the {MEASURES[best].short} "
            f"(the higher embedding): {verdict}."
        )
    rhos = t.loc[ours, "rho"]
    lines += [
        "",
        f"Across these {len(ours)} expert measures ρ ranges from {_f(rhos.min())} ({_name(rhos.idxmin(), tau)}) "
        f"to {_f(rhos.max())} ({_name(rhos.idxmax(), tau)}), a spread of {_f(rhos.max() - rhos.min())}.",
    ]
    return lines


def _row_name(r) -> str:
    if r["representation"] == "experts":
        return "experts (reciprocal overlap)"
    kind = r["representation"].replace("_embedding", "")
    return f"{kind} embedding, {'centred' if r['centred'] else 'raw'} cosine"


def domain_baseline_lines(table: pd.DataFrame, tau: float) -> list[str]:
    """Experts vs word and sentence embeddings (raw and centred) on the domain graph, with the seed spread."""
    n_seeds = int(table["n_seeds"].iloc[0]) if len(table) else 0
    n_draws = int(table["n_draws"].iloc[0]) if len(table) else 0
    lines = [
        "### Domains from embeddings (baselines)",
        "",
        f"The same graph construction, Louvain and seed for every representation (`domain_baselines.csv`): experts "
        f"at τ = {tau:g} weighted by reciprocal overlap, embeddings by cosine, raw or centred (the mean vector over "
        "the run's concepts subtracted); an edge wherever the weight is above 0, so negative cosines are no edge and "
        f"count 0 in the within/between means. Two uncertainties, each a 2.5–97.5% range: over Louvain seeds "
        f"0–{n_seeds - 1} (the graph fixed: the spread of the clustering), and over concepts ({n_draws} subsamples "
        "that leave one random concept of each domain out, seed 0).",
        "",
        "| representation | ARI (seed 0) | ARI over seeds: mean [range] | ARI over concepts | NMI (seed 0) "
        "| NMI over seeds: mean [range] | NMI over concepts | communities | within | between |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for _, r in table.iterrows():
        lines.append(
            f"| {_row_name(r)} | {_f(r['ari'])} | {_f(r['ari_mean'])} [{_f(r['ari_low'])}, {_f(r['ari_high'])}] | "
            f"[{_f(r['ari_concepts_low'])}, {_f(r['ari_concepts_high'])}] | "
            f"{_f(r['nmi'])} | {_f(r['nmi_mean'])} [{_f(r['nmi_low'])}, {_f(r['nmi_high'])}] | "
            f"[{_f(r['nmi_concepts_low'])}, {_f(r['nmi_concepts_high'])}] | "
            f"{int(r['n_communities'])} | {_f(r['within_mean'])} | {_f(r['between_mean'])} |"
        )
    experts = table[table["representation"] == "experts"]
    others = table[table["representation"] != "experts"]
    if len(experts) and len(others):
        e = experts.iloc[0]
        best = others.loc[others["ari_mean"].idxmax()]
        above = (e["ari_mean"] > others["ari_mean"]).all()
        seeds_apart = e["ari_low"] > others["ari_high"].max()
        concepts_apart = e["ari_concepts_low"] > others["ari_concepts_high"].max()
        apart = [w for w, ok in (("seed", seeds_apart), ("concept", concepts_apart)) if ok]
        verdict = (
            "does not hold"
            if not above
            else f"holds, with the {' and '.join(apart)} ranges apart from every embedding row's"
            if len(apart) == 2
            else f"holds on the mean, but only the {apart[0]} ranges are apart"
            if apart
            else "holds on the mean, but the ranges overlap"
        )
        lines += [
            "",
            f"Reading: experts above every embedding for domains {verdict} (mean ARI {_f(e['ari_mean'])} vs "
            f"{_f(best['ari_mean'])} for the best embedding row, {_row_name(best)}; NMI {_f(e['nmi_mean'])} vs "
            f"{_f(best['nmi_mean'])}).",
        ]
    return [*lines, ""]
