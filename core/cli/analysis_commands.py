"""What the commands that read stored experts do: ``analyse``, ``report`` and ``build-demo`` (``core.cli.parser`` parses them)."""

from __future__ import annotations

import os
import sys

# What a demo store file meets on the hosts of the README's "Share a demo link" (a file in the repository pushed).
HOST_LIMITS_MB = (
    (10.0, "Hugging Face refuses a pushed file over 10 MB unless Git LFS tracks it (scripts/make_space.sh marks it)"),
    (50.0, "GitHub, which Streamlit Community Cloud deploys from, warns on a file over 50 MB"),
    (100.0, "GitHub refuses a file over 100 MB, so Community Cloud cannot get it: pass fewer --runs"),
)


def cmd_analyse(args) -> int:
    """``analyse alignment|domains|stability|layers``: write a CSV and print a short table."""
    import pandas as pd

    from core.render.outputs import check_output, write_output
    from core.storage.store import Store
    from core.tau import TAU_DEFAULT, check_tau

    tau = check_tau(getattr(args, "tau", TAU_DEFAULT))  # stability has no --tau (and no use for one)
    check_output(args.out, args.store, args.force)
    store = Store(args.store, read_only=True)

    def pairs():
        from core.text.benchmarks import load_men, read_pairs

        if args.benchmark:
            return read_pairs(args.benchmark, args.score_column)
        if args.men_split:
            return load_men(args.men_split, args.men_dir)
        raise ValueError("no benchmark given: use --benchmark FILE or --men-split test [--men-dir DIR]")

    def index():
        from core.experts.index import ExpertIndex

        return ExpertIndex.from_store(store, args.run)

    if args.analysis == "alignment":
        from core.analysis.alignment import alignment_summary, alignment_table

        runs = [r for r in args.runs.split(",") if r.strip()] if args.runs else None
        bench = pairs()
        table = alignment_table(store, runs, bench, tau, n_boot=args.n_boot, seed=args.seed)
        if table.empty or (table["n_pairs"].fillna(0) == 0).all():
            from core.text.benchmarks import words_of

            stored = set(store.concepts()["concept"])
            absent = [w for w in words_of(bench) if w not in stored]
            hint = (
                f"{len(absent)} of its words are not in the store (e.g. {', '.join(absent[:5])})"
                if absent
                else "its words are in the store but no run has results for them"
            )
            raise ValueError(
                f"no pair of the benchmark ({len(bench)} pairs) can be scored: {hint}; run `extract` for them first"
            )
        shown = alignment_summary(table)
    elif args.analysis == "domains":
        from core.analysis.domains import domain_analysis, find_communities
        from core.text.concepts import read_domains

        domains = read_domains(args.domains) if args.domains else read_domains()
        graph, scores = domain_analysis(index(), domains, tau, min_weight=args.min_weight, seed=args.seed)
        absent = [c for c in domains if c not in graph]
        if absent:
            shown_absent = ", ".join(absent[:10])
            print(f"{len(absent)} of {len(domains)} domain concepts have no results in this run: {shown_absent}")
        communities = find_communities(graph, args.seed)
        table = pd.DataFrame(
            [(c, d["domain"], communities.get(c), d["n_experts"]) for c, d in graph.nodes(data=True)],
            columns=["concept", "domain", "community", "n_experts"],
        )
        shown = table
        print(", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in scores.items()))
    elif args.analysis == "stability":
        from core.analysis.stability import fold_overlap
        from core.tau import STABILITY_TAUS

        taus = [check_tau(t) for t in args.taus.split(",")] if args.taus else STABILITY_TAUS
        table = shown = fold_overlap(index(), taus)
    else:
        from core.analysis.layers import alignment_by_layer

        table = shown = alignment_by_layer(index(), store.units(args.run), pairs(), tau, by=args.by)
    write_output(args.out, lambda tmp: table.to_csv(tmp, index=False))
    with pd.option_context("display.width", 160, "display.max_columns", 20, "display.precision", 3):
        print(shown.head(40).to_string(index=False))
    print(f"{len(table)} rows written to {args.out}")
    return 0


def cmd_report(args) -> int:
    from core.render.report import write_report
    from core.storage.store import Store
    from core.tau import check_tau
    from core.text.benchmarks import load_men, read_pairs
    from core.text.concepts import read_domains

    tau = check_tau(args.tau)
    store = Store(args.store, read_only=True)
    pairs = read_pairs(args.benchmark, args.score_column) if args.benchmark else load_men(args.men_split, args.men_dir)
    name = os.path.basename(args.benchmark) if args.benchmark else f"MEN {args.men_split}"
    domains = read_domains(args.domains) if args.domains else read_domains()
    summary = write_report(
        store, args.out, pairs, domains, tau, n_boot=args.n_boot, seed=args.seed, benchmark_name=name
    )
    print(f"report written to {os.path.join(args.out, 'README.md')} (runs used: {summary['runs']})")
    return 0


def cmd_build_demo(args) -> int:
    from core.render.demo import build_demo

    runs = [r for r in args.runs.split(",") if r] if args.runs else None
    benchmarks = _snapshot_benchmarks(args)
    info = build_demo(args.store, args.out, runs, args.max_mb, benchmarks, args.n_boot, force=args.force)
    print(
        f"demo store {info['path']}: {info['size_mb']} MB, {info['runs']} runs, {info['concepts']} concepts, "
        f"{info['ap_rows']:,} AP rows, {info['sentences']} redistributable sentences, "
        f"{info['snapshot_rows']} alignment snapshot rows ({', '.join(benchmarks) or 'no benchmark: pass --men-dir'})"
    )
    for line in host_warnings(info["size_mb"]):
        print(f"warning: {info['size_mb']} MB: {line}", file=sys.stderr)
    return 0


def host_warnings(size_mb: float) -> list[str]:
    """The hosts' limits (``HOST_LIMITS_MB``) a demo store of ``size_mb`` MB is over."""
    return [text for limit, text in HOST_LIMITS_MB if size_mb > limit]


def _snapshot_benchmarks(args) -> dict:
    """The benchmarks a demo store keeps alignment snapshots of: MEN test (--men-dir) and --benchmark files."""
    from core.text.benchmarks import load_men, read_pairs

    out = {}
    if args.men_dir:
        out["MEN test"] = load_men("test", args.men_dir)
    for path in args.benchmark or []:
        out[os.path.splitext(os.path.basename(path))[0]] = read_pairs(path, args.score_column)
    return out
