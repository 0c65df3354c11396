"""The results report: every number of ``results/README.md`` comes from here.

``python -m core report`` finds the runs of a store by what they hold (the
domain-list run, the run with folds, the run covering a benchmark), computes
alignment on the benchmark, domain recovery, fold stability and the layer
breakdown from the stored APs, and writes them as CSV plus a Markdown table.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from typing import TYPE_CHECKING

import pandas as pd

from core.analysis.alignment import N_BOOT, alignment_over_taus, alignment_table
from core.analysis.domain_baselines import domain_baselines
from core.analysis.domains import domain_analysis
from core.analysis.layers import alignment_by_layer, group_alignment_rows
from core.analysis.run_choice import pick_runs, size_variants, with_results
from core.analysis.series import claim_lines, over_training, series_markdown, series_models, series_sizes, where_when
from core.analysis.stability import fold_overlap, stability_by_size
from core.analysis.threshold_free import measure_alignment
from core.experts.ap_vectors import full_ap_vectors
from core.experts.index import ExpertIndex
from core.storage.records import Run, runs_frame
from core.tau import REPORT_TAUS, TAU_DEFAULT
from core.text.benchmarks import MEN_HUMAN_CEILING, coverage

from .measures_report import domain_baseline_lines, measure_lines
from .series_figures import training_png, where_when_png
from .style import model_looks

if TYPE_CHECKING:
    from core.storage.reader import StoreReader


def describe_runs(runs: list[Run], results: pd.DataFrame) -> pd.DataFrame:
    """One row per run with its dataset settings read back from its configuration."""
    pos_by_run = results.groupby("run_id")["n_pos"].apply(list).to_dict() if not results.empty else {}
    rows = []
    for r in runs:
        ds = r.settings.dataset if r.settings else None
        n_pos = ds.n_pos if ds else None
        short = [int(n) for n in pos_by_run.get(r.run_id, []) if n_pos and n < n_pos]
        rows.append(
            {
                "run_id": r.run_id,
                "model": r.model,
                "revision": r.revision,
                "concepts": tuple(ds.concepts) if ds else (),
                "n_pos": n_pos,
                "n_neg": ds.n_neg if ds else None,
                "folds": r.folds,
                "min_pos": ds.min_pos if ds else None,
                "negatives": ds.negatives if ds else None,
                "n_done": r.n_concepts,
                "n_results": r.n_results,
                "n_short": len(short),  # results with fewer positives than asked (``min_pos`` runs)
                "short_min": min(short) if short else None,
                "short_max": max(short) if short else None,
            }
        )
    return pd.DataFrame(rows)


def write_report(
    store: StoreReader,
    out_dir: str,
    pairs: pd.DataFrame | None,
    domains: dict[str, str],
    tau: float = TAU_DEFAULT,
    n_boot: int = N_BOOT,
    seed: int = 0,
    benchmark_name: str = "MEN test",
) -> dict:
    """Compute every analysis the store allows and write CSVs and README.md into ``out_dir``."""
    os.makedirs(out_dir, exist_ok=True)
    runs = store.runs()
    described = describe_runs(runs, store.results())
    picked = pick_runs(runs, domains, pairs)
    summary: dict = {"tau": tau, "runs": picked}
    if not described.empty:
        described.assign(concepts=described["concepts"].map(len)).to_csv(os.path.join(out_dir, "runs.csv"), index=False)

    if picked["benchmark"] and pairs is not None:  # a benchmark run is picked only with pairs
        rid = picked["benchmark"]
        index = ExpertIndex.from_store(store, rid)
        table = alignment_table(store, [rid], pairs, tau, n_boot=n_boot, seed=seed)
        table.to_csv(os.path.join(out_dir, "alignment.csv"), index=False)
        covered, missing = coverage(pairs, set(index.complete_concepts()))
        missing.to_csv(os.path.join(out_dir, "pairs_not_covered.csv"), index=False)
        layers = alignment_by_layer(index, store.units(rid), pairs, tau, by="layer")
        layers.to_csv(os.path.join(out_dir, "alignment_by_layer.csv"), index=False)
        kinds = alignment_by_layer(index, store.units(rid), pairs, tau, by="kind")
        kinds.to_csv(os.path.join(out_dir, "alignment_by_kind.csv"), index=False)
        summary["alignment"] = table
        summary["coverage"] = (len(covered), len(pairs))
        summary["best_layer"] = layers.sort_values("rho", ascending=False).head(3)
        summary["kinds"] = kinds
        by_tau = alignment_over_taus(store, [rid], pairs, REPORT_TAUS, n_boot=n_boot, seed=seed)
        by_tau = by_tau[by_tau["method"] == "experts"]
        by_tau.to_csv(os.path.join(out_dir, "alignment_by_tau.csv"), index=False)
        summary["by_tau"] = by_tau
        summary["measures"] = write_measures(store, out_dir, index, pairs, tau, n_boot, seed)

    if picked["domains"]:
        index = ExpertIndex.from_store(store, picked["domains"])
        graph, scores = domain_analysis(index, domains, tau, seed=seed)
        pd.DataFrame([scores]).to_csv(os.path.join(out_dir, "domains.csv"), index=False)
        summary["domains"] = scores
        baselines = domain_baselines(index, domains, tau, seed=seed)
        baselines.to_csv(os.path.join(out_dir, "domain_baselines.csv"), index=False)
        summary["domain_baselines"] = baselines

    if picked["stability"]:
        index = ExpertIndex.from_store(store, picked["stability"])
        stab = fold_overlap(index)
        stab.to_csv(os.path.join(out_dir, "stability.csv"), index=False)
        summary["stability"] = stab
        sizes = size_variants(runs, store.run(picked["stability"]))
        if len(sizes) > 1:
            by_size = stability_by_size(store, sizes, (tau,))
            by_size.to_csv(os.path.join(out_dir, "stability_by_size.csv"), index=False)
            summary["stability_by_size"] = by_size

    if pairs is not None:
        summary["series"] = write_series(store, out_dir, pairs, runs, tau, n_boot, seed, benchmark_name)

    with open(os.path.join(out_dir, "README.md"), "w") as f:
        f.write(markdown(summary, described, benchmark_name))
        f.write("\n".join(summary.get("series", {}).get("lines", [])))
    return summary


def write_measures(store: StoreReader, out_dir, index, pairs, tau, n_boot, seed) -> pd.DataFrame:
    """ρ of every alignment measure and the τ-averaged Jaccard (``alignment_by_measure.csv``).

    A run that stored every AP (``--ap-floor 0``) also gets the raw-AP measures.
    """
    full = full_ap_vectors(store, index.run_id) if index.run_id else None
    if full is not None:
        index.vectors["ap"] = full
    table = measure_alignment(index, pairs, tau, n_boot=n_boot, seed=seed)
    table.to_csv(os.path.join(out_dir, "alignment_by_measure.csv"), index=False)
    return table


def write_series(store: StoreReader, out_dir, pairs, runs, tau, n_boot, seed, benchmark_name) -> dict:
    """Alignment over a checkpoint series (models with several steps): CSVs, the two PNGs and the Markdown lines."""
    frame = runs_frame(with_results(runs))
    models = series_models(frame)
    if not models:
        return {}
    ids = frame[frame["model"].isin(models)]["run_id"].tolist()
    curves = over_training(alignment_table(store, ids, pairs, tau, n_boot=n_boot, seed=seed), frame)
    curves.to_csv(os.path.join(out_dir, "alignment_over_training.csv"), index=False)
    matrices = where_when(group_alignment_rows(store, ids, pairs, (tau,), by="layer"), frame)
    long = [m.stack().rename("rho").reset_index().assign(model=name) for name, m in matrices.items()]
    pd.concat(long).to_csv(os.path.join(out_dir, "alignment_where_when.csv"), index=False)
    log = store.training_log()
    log = log[log["model"].isin(models)]
    ceiling = MEN_HUMAN_CEILING if benchmark_name.lower().startswith("men") else None
    title = f"{benchmark_name} · τ = {tau:g}"
    looks = model_looks((r.model, r.n_params) for r in runs)  # every model of the store: the dashboard's colours
    training_png(curves, log, os.path.join(out_dir, "alignment_over_training.png"), ceiling, title, looks)
    where_when_png(matrices, os.path.join(out_dir, "where_when.png"), f"where × when · {title}", looks)
    flagged = curves[(curves["same_weights_as"] != "") & (curves["method"] == "experts")]
    lines = [
        "",
        "## Alignment over training (checkpoint series)",
        "",
        f"Models extracted at several training steps ({len(models)}; `alignment_over_training.csv`). Left: ρ "
        "of each method at every checkpoint with 95% bootstrap CIs and the human ceiling; right: held-out loss.",
        "",
        "![alignment over training](alignment_over_training.png)",
        "",
        *series_markdown(curves, series_sizes(frame, log), tau),
        "",
        "Checkpoints whose weights are byte-identical to the checkpoint before them: "
        + (", ".join(f"{r.model} {r.revision} = {r.same_weights_as}" for r in flagged.itertuples()) or "none")
        + ".",
        "",
        *emergence_lines(curves),
        *claim_lines(curves),
        "### Where × when",
        "",
        "ρ from one layer's experts at a time (rows) at every checkpoint (columns), per size "
        "(`alignment_where_when.csv`):",
        "",
        "![where x when](where_when.png)",
        "",
    ]
    return {"curves": curves, "where_when": matrices, "lines": lines}


def emergence_lines(curves: pd.DataFrame) -> list[str]:
    """Per size: experts ρ at the first and last checkpoint, and the first step reaching half and 90% of the last."""
    lines = ["| model | ρ at first step | ρ at last step | first step at ≥ 50% of last | first step at ≥ 90% of last |"]
    lines.append("|---|---|---|---|---|")
    for model, g in curves[curves["method"] == "experts"].groupby("model", sort=False):
        g = g.sort_values("step")
        first, last = g.iloc[0], g.iloc[-1]

        def reach(frac: float, g=g, last=last) -> str:
            hit = g[g["rho"] >= frac * last["rho"]] if last["rho"] > 0 else g.iloc[:0]
            return str(int(hit["step"].iloc[0])) if len(hit) else "—"

        lines.append(
            f"| {model} | {_fmt(first['rho'])} (step {int(first['step'])}) | {_fmt(last['rho'])} "
            f"(step {int(last['step'])}) | {reach(0.5)} | {reach(0.9)} |"
        )
    return [*lines, ""]


def _fmt(x, digits: int = 3) -> str:
    return "–" if x is None or pd.isna(x) else f"{x:.{digits}f}"


def _int(x) -> str:
    return "?" if x is None or pd.isna(x) else str(int(x))


JACCARD_COLUMNS = ("within-concept Jaccard", "between-concept Jaccard")


def _spread(r) -> str:
    """Within- and between-concept Jaccard of a stability row, each as mean ± std."""
    return " | ".join(f"{_fmt(r[f'{w}_mean'])} ± {_fmt(r[f'{w}_std'])}" for w in ("within", "between"))


def _p(x) -> str:
    return "–" if x is None or pd.isna(x) else ("< 0.001" if x < 0.001 else f"{x:.3f}")


def markdown(summary: dict, described: pd.DataFrame, benchmark_name: str) -> str:
    """The results table as Markdown (written by ``python -m core report``; do not edit by hand)."""
    lines = [
        "# Results",
        "",
        f"Written by `python -m core report` on {datetime.now(timezone.utc):%Y-%m-%d} from the stored APs "
        f"(τ = {summary['tau']}); every number below comes from the CSV files beside this one.",
        "",
    ]
    by_id = described.set_index("run_id") if not described.empty else described  # empty: no run to look up

    def run_line(rid: str) -> str:
        r = by_id.loc[rid]
        rev = f" @ {r['revision']}" if isinstance(r["revision"], str) and r["revision"] else ""
        size = f"{_int(r['n_pos'])} positives" + (
            f" (or all, down to {_int(r['min_pos'])})" if pd.notna(r["min_pos"]) else ""
        )
        if r["n_short"]:
            size += (
                f" — {r['n_results'] - r['n_short']} results have all {_int(r['n_pos'])}, {r['n_short']} "
                f"{'has' if r['n_short'] == 1 else 'have'} fewer ({_int(r['short_min'])}"
                + ("" if r["short_min"] == r["short_max"] else f"–{_int(r['short_max'])}")
                + ")"
            )
        return (
            f"model `{r['model']}`{rev}, run `{rid}`: {r['n_done']}/{len(r['concepts'])} concepts done, "
            f"{size}, {_int(r['n_neg'])} negatives ({r['negatives']}), {_int(r['folds'])} fold(s), "
            f"{_int(r['n_results'])} (concept, fold) results"
        )

    def section(title: str, run: str, *before_table: str, columns: tuple[str, ...]) -> list[str]:
        """A section's heading, the run it was computed from, notes, and the head of its table."""
        head = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
        return [f"## {title}", "", run_line(summary["runs"][run]) + ".", "", *before_table, *head]

    if "alignment" in summary:
        n_cov, n_all = summary["coverage"]
        lines += section(
            f"Alignment with human similarity ({benchmark_name})",
            "benchmark",
            f"Pairs covered: {n_cov} of {n_all} (both words extracted; the rest are listed in "
            "`pairs_not_covered.csv`). 95% CIs from 1000 bootstrap resamples of pairs; "
            "p vs experts from a paired bootstrap.",
            "",
            columns=("method", "Spearman ρ", "95% CI", "p (ρ = 0)", "p vs experts", "pairs"),
        )
        for _, r in summary["alignment"].iterrows():
            lines.append(
                f"| {r['method']} | {_fmt(r['rho'])} | [{_fmt(r['ci_low'])}, {_fmt(r['ci_high'])}] | "
                f"{_p(r['p_value'])} | {_p(r['p_vs_experts'])} | {int(r['n_pairs'])} |"
            )
        lines += [f"| human ceiling (Bruni et al. 2014) | {MEN_HUMAN_CEILING} | | | | |", ""]
        best = summary["best_layer"]
        if not best.empty:
            lines += [
                "Best single layers (experts restricted to one layer): "
                + ", ".join(f"layer {_int(r['group'])} ρ = {_fmt(r['rho'])}" for _, r in best.iterrows())
                + ".",
                "",
            ]
        kinds = summary["kinds"]
        if not kinds.empty:
            lines += [
                "By module kind: " + ", ".join(f"{r['group']} ρ = {_fmt(r['rho'])}" for _, r in kinds.iterrows()) + ".",
                "",
            ]
        by_tau = summary.get("by_tau")
        if by_tau is not None and not by_tau.empty:
            lines += [
                "Experts at other thresholds (`alignment_by_tau.csv`): "
                + ", ".join(
                    f"τ = {r['tau']:.1f} ρ = {_fmt(r['rho'])} [{_fmt(r['ci_low'])}, {_fmt(r['ci_high'])}]"
                    for _, r in by_tau.iterrows()
                )
                + ".",
                "",
            ]
        if summary.get("measures") is not None:
            lines += measure_lines(summary["measures"], summary["tau"])
    else:
        lines += ["## Alignment", "", "No run covering the benchmark has results yet.", ""]

    if "domains" in summary:
        s = summary["domains"]
        columns = ("ARI", "NMI", "communities", "mean within-domain weight", "mean between-domain weight", "ratio")
        lines += section("Concept domains (10 domains × 4 concepts, `data/domains.txt`)", "domains", columns=columns)
        lines += [
            f"| {_fmt(s['ari'])} | {_fmt(s['nmi'])} | {s['n_communities']} | {_fmt(s['within_mean'])} | "
            f"{_fmt(s['between_mean'])} | {_fmt(s['ratio'], 2)} |",
            "",
            "Edge weight = reciprocal expert overlap |A∩B| / sqrt(|A|·|B|); communities by seeded Louvain.",
            "",
        ]
        if summary.get("domain_baselines") is not None:
            lines += domain_baseline_lines(summary["domain_baselines"], summary["tau"])
    if "stability" in summary:
        st = summary["stability"]
        lines += section("Stability across folds", "stability", columns=("τ", *JACCARD_COLUMNS))
        lines += [f"| {r['tau']:.2f} | {_spread(r)} |" for _, r in st.iterrows()]
        lines.append("")
    if "stability_by_size" in summary:
        bs = summary["stability_by_size"]
        lines += [
            f"Against set sizes (same concepts and folds, τ = {summary['tau']:.2f}; `stability_by_size.csv`):",
            "",
            "| positives | negatives | within-concept Jaccard | between-concept Jaccard | run |",
            "|---|---|---|---|---|",
        ]
        lines += [
            f"| {_int(r['n_pos'])} | {_int(r['n_neg'])} | {_spread(r)} | `{r['run_id']}` |" for _, r in bs.iterrows()
        ]
        lines.append("")
    return "\n".join(lines)
