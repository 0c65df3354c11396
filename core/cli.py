"""Command line: ``python -m core <command> ...`` (``python -m core -h`` lists them).

Errors print one line and exit with status 2; ``--debug`` shows the traceback.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys

from .config import DTYPE_NAMES, DTYPES, ModelSpec
from .settings import DEFAULT_STORE, DEMO_STORE

KNOWN_ERRORS: tuple[type[BaseException], ...] = (ValueError, RuntimeError, OSError, KeyError)


def _concept_list(args) -> list[str]:
    from .concepts import read_concept_file
    from .words import normalise_concept

    concepts: list[str] = []
    if getattr(args, "concepts", None):
        concepts += [c for c in args.concepts.split(",") if c.strip()]
    if getattr(args, "concepts_file", None):
        concepts += read_concept_file(args.concepts_file)
    if getattr(args, "benchmark", None) or getattr(args, "men_split", None):
        from .benchmarks import coverage_order, load_men, read_pairs

        pairs = read_pairs(args.benchmark) if args.benchmark else load_men(args.men_split, args.men_dir)
        concepts += coverage_order(pairs)
    out = list(dict.fromkeys(normalise_concept(c) for c in concepts))
    if not out:
        raise ValueError(
            "no concepts given: use --concepts a,b,c, --concepts-file F, --benchmark F or --men-split test"
        )
    return out


def _add_concept_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--concepts", help="comma-separated concepts, e.g. cat,dog,car")
    p.add_argument("--concepts-file", help="one concept per line, or a domain file (domain: a, b, c)")
    p.add_argument("--benchmark", help="use the words of a 'word1 word2 score' file, in pair-coverage order")
    p.add_argument("--men-split", choices=["dev", "test", "full"], help="use the words of a MEN split")
    p.add_argument("--men-dir", help="local MEN folder (default: download the official archive into cache/)")


def cmd_add(args) -> int:
    from .sentences import group_by_concept, read_pairs, split_positive
    from .store import Store

    grouped = group_by_concept(read_pairs(args.file))
    store = Store(args.store)
    for concept, texts in grouped.items():
        kept, rejected = split_positive(concept, texts)
        new = store.add_sentences(concept, kept, source=f"file:{os.path.basename(args.file)}") if kept else 0
        note = f", {len(rejected)} rejected (no '{concept}' in them)" if rejected else ""
        print(f"{concept}: {new} new sentences{note}")
    return 0


def cmd_mine(args) -> int:
    from .sentences import mine
    from .store import Store

    concepts = _concept_list(args)
    found = mine(args.corpus, concepts, limit=args.limit)
    store = Store(args.store)
    for c in concepts:
        new = store.add_sentences(c, found[c], source=f"corpus:{os.path.basename(args.corpus)}") if found[c] else 0
        if not args.quiet or not found[c]:
            print(f"{c}: {len(found[c])} found, {new} new")
    print(f"{sum(1 for c in concepts if found[c])}/{len(concepts)} concepts have sentences")
    return 0


def cmd_generate(args) -> int:
    from .generate import generate_sentences
    from .store import Store

    concepts = _concept_list(args)
    store = Store(args.store)
    for c in concepts:
        texts = generate_sentences(
            c, n=args.n, model=args.model, gguf_file=args.gguf_file, seed=args.seed, max_rounds=args.max_rounds
        )
        new = store.add_sentences(c, texts, source=f"generated:{args.model}")
        print(f"{c}: {len(texts)} generated, {new} new")
    return 0


def _run_config(args, concepts):
    from .config import DatasetConfig, ExtractConfig, ModelSpec, RunConfig

    patterns = tuple(p for p in args.modules.split(",") if p) if args.modules else None
    return RunConfig(
        ModelSpec(args.model, args.revision, args.gguf_file, args.dtype, args.device, patterns),
        DatasetConfig(tuple(concepts), args.n_pos, args.n_neg, args.folds, args.seed, args.min_pos, args.negatives),
        ExtractConfig(args.pooling, args.reference, args.max_length, args.ap_floor, args.batch_tokens),
    )


def cmd_extract(args) -> int:
    from .extract import extract
    from .store import Store

    store = Store(args.store, parts_dir=args.parts, read_only=args.dry_run)
    concepts = _extract_concepts(args, store)
    revisions = [args.revision]
    if args.revisions:
        from .checkpoints import resolve_revisions

        if args.revision:
            raise ValueError("give --revision or --revisions, not both")
        revisions = resolve_revisions(args.model, args.revisions)
    if args.dry_run:
        return _dry_run(args, store, concepts, revisions)
    if args.engine != "local":
        return _run_grid(args, store, concepts, [(args.model, r) for r in revisions])
    for revision in revisions:  # one run per revision: same words, sentences and seeded sets, other weights
        args.revision = revision
        cfg = _run_config(args, concepts)
        s = extract(
            store, cfg, concepts_per_unit=args.concepts_per_unit, progress=not args.quiet, max_units=args.max_units
        )
        _print_summary(s, revision)
    return 0


def _dry_run(args, store, concepts, revisions) -> int:
    """Print each revision's plan and estimated time on this device; one probe serves them all (same architecture)."""
    from .estimate import dry_run
    from .models import load_model

    measured = model = None
    for revision in revisions:
        args.revision = revision
        cfg = _run_config(args, concepts)
        model = model or load_model(cfg.model)
        plan = dry_run(store, cfg, args.concepts_per_unit, model, measured)
        measured = plan.probe
        print("\n".join(plan.lines(cfg)))
    return 0


def _extract_concepts(args, store) -> list[str]:
    """The concepts of an extraction: as given, less the short ones with --skip-short, cut to --limit-concepts."""
    concepts = _concept_list(args)
    if args.skip_short:
        counts = dict(zip(*store.concepts()[["concept", "n_sentences"]].T.values))
        need = args.min_pos or args.n_pos
        short = [c for c in concepts if counts.get(c, 0) < need]
        if short:
            print(
                f"skipping {len(short)} concepts with fewer than {need} sentences: {', '.join(short[:20])}"
                + (" …" if len(short) > 20 else ""),
                file=sys.stderr,
            )
        concepts = [c for c in concepts if c not in short]
    if args.limit_concepts:
        concepts = concepts[: args.limit_concepts]
    return concepts


def _print_summary(s, revision=None, model=None) -> None:
    name = " ".join(x for x in (model, revision) if x)
    print(
        f"run {s.run_id}{f' ({name})' if name else ''}: {s.done_before + s.ingested + s.computed}/"
        f"{s.total} (concept, fold) results stored "
        f"({s.computed} computed now, {s.ingested} ingested from parts, {s.done_before} already stored)"
    )


def cmd_grid(args) -> int:
    """Every (model, revision) of the grid, with the same concepts and seeded sets; stored runs are skipped."""
    from .checkpoints import resolve_revisions
    from .store import Store

    models = [m.strip() for m in args.models.split(",") if m.strip()]
    if not models:
        raise ValueError("--models is empty: give org/name,org/name or local folders")
    if args.revision and args.revisions:
        raise ValueError("give --revision or --revisions, not both")
    runs = [
        (m, r) for m in models for r in (resolve_revisions(m, args.revisions) if args.revisions else [args.revision])
    ]
    store = Store(args.store, parts_dir=args.parts)
    return _run_grid(args, store, _extract_concepts(args, store), runs)


def _run_grid(args, store, concepts, runs) -> int:
    from .grid import grid_configs, run_grid

    if args.engine == "local" and (args.address or args.workers or args.num_gpus_per_worker is not None):
        raise ValueError("--address, --workers and --num-gpus-per-worker need --engine ray")
    options = {}
    if args.engine == "ray":
        options = dict(
            address=args.address,
            workers=args.workers,
            num_gpus_per_worker=args.num_gpus_per_worker,
            shared_parts=bool(args.parts),
        )
    args.model = runs[0][0] if runs else getattr(args, "model", None)  # grid_configs sets each run's own
    cfgs = grid_configs(_run_config(args, concepts), runs)
    summaries = run_grid(
        store, cfgs, args.engine, args.concepts_per_unit, args.max_units, progress=not args.quiet, **options
    )
    for (model, revision), s in zip(runs, summaries):
        _print_summary(s, revision, model if len(set(m for m, _ in runs)) > 1 else None)
    return 0


def cmd_runs(args) -> int:
    from .runs import runs_frame
    from .store import Store

    runs = Store(args.store, read_only=True).runs()
    if not runs:
        print("no runs yet")
        return 0
    from .checkpoints import identical_neighbours

    table = runs_frame(runs)
    same = identical_neighbours(table)
    if same:
        table["same_weights_as"] = table["run_id"].map(same).fillna("")
    cols = ["run_id", "model", "revision", "weights_hash", "same_weights_as", "n_units", "n_concepts", "n_results"]
    print(table[[c for c in cols if c in table]].to_string(index=False))
    if same:
        print(f"{len(same)} revision(s) hold the same weights as the checkpoint before them (see same_weights_as)")
    return 0


def cmd_ingest(args) -> int:
    from .store import Store

    n = Store(args.store, parts_dir=args.parts).ingest_pending()
    print(f"{n} parts ingested")
    return 0


def cmd_export(args) -> int:
    from .store import Store
    from .tau import check_tau

    tau = check_tau(args.tau)
    store = Store(args.store, read_only=True)
    store.run(args.run)  # a clear error for an unknown run
    df = store.ap(args.run, fold=None, above=tau)
    units = store.units(args.run)
    if not units.empty:
        df = df.merge(units, on="unit", how="left")
    if args.out.endswith(".parquet"):
        df.to_parquet(args.out, index=False)
    else:
        df.to_csv(args.out, index=False)
    print(f"{len(df)} expert rows (tau > {tau:g}) written to {args.out}")
    return 0


def cmd_analyse(args) -> int:
    """``analyse alignment|domains|stability|layers``: write a CSV and print a short table."""
    import pandas as pd

    from .store import Store
    from .tau import check_tau

    tau = check_tau(args.tau) if hasattr(args, "tau") else None
    store = Store(args.store, read_only=True)

    def pairs():
        from .benchmarks import load_men, read_pairs

        if args.benchmark:
            return read_pairs(args.benchmark)
        if args.men_split:
            return load_men(args.men_split, args.men_dir)
        raise ValueError("no benchmark given: use --benchmark FILE or --men-split test [--men-dir DIR]")

    def index():
        from .expert_index import ExpertIndex

        return ExpertIndex.from_store(store, args.run)

    if args.analysis == "alignment":
        from .alignment import alignment_summary, alignment_table

        runs = [r for r in args.runs.split(",") if r.strip()] if args.runs else None
        bench = pairs()
        table = alignment_table(store, runs, bench, tau, n_boot=args.n_boot, seed=args.seed)
        if table.empty or (table["n_pairs"].fillna(0) == 0).all():
            from .benchmarks import words_of

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
        from .concepts import read_domains
        from .domains import domain_analysis, find_communities

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
        from .stability import fold_overlap
        from .tau import STABILITY_TAUS

        taus = [check_tau(t) for t in args.taus.split(",")] if args.taus else STABILITY_TAUS
        table = shown = fold_overlap(index(), taus)
    else:
        from .layers import alignment_by_layer

        table = shown = alignment_by_layer(index(), store.units(args.run), pairs(), tau, by=args.by)
    folder = os.path.dirname(os.path.abspath(args.out))
    os.makedirs(folder, exist_ok=True)
    table.to_csv(args.out, index=False)
    with pd.option_context("display.width", 160, "display.max_columns", 20, "display.precision", 3):
        print(shown.head(40).to_string(index=False))
    print(f"{len(table)} rows written to {args.out}")
    return 0


def cmd_report(args) -> int:
    from .benchmarks import load_men, read_pairs
    from .concepts import read_domains
    from .report import write_report
    from .store import Store
    from .tau import check_tau

    tau = check_tau(args.tau)
    store = Store(args.store, read_only=True)
    pairs = read_pairs(args.benchmark) if args.benchmark else load_men(args.men_split, args.men_dir)
    name = os.path.basename(args.benchmark) if args.benchmark else f"MEN {args.men_split}"
    domains = read_domains(args.domains) if args.domains else read_domains()
    summary = write_report(
        store, args.out, pairs, domains, tau, n_boot=args.n_boot, seed=args.seed, benchmark_name=name
    )
    print(f"report written to {os.path.join(args.out, 'README.md')} (runs used: {summary['runs']})")
    return 0


def cmd_build_demo(args) -> int:
    from .demo import build_demo

    runs = [r for r in args.runs.split(",") if r] if args.runs else None
    benchmarks = _snapshot_benchmarks(args)
    info = build_demo(args.store, args.out, runs, args.max_mb, benchmarks, args.n_boot)
    print(
        f"demo store {info['path']}: {info['size_mb']} MB, {info['runs']} runs, {info['concepts']} concepts, "
        f"{info['ap_rows']:,} AP rows, {info['sentences']} redistributable sentences, "
        f"{info['snapshot_rows']} alignment snapshot rows ({', '.join(benchmarks) or 'no benchmark: pass --men-dir'})"
    )
    return 0


def _snapshot_benchmarks(args) -> dict:
    """The benchmarks a demo store keeps alignment snapshots of: MEN test (--men-dir) and --benchmark files."""
    from .benchmarks import load_men, read_pairs

    out = {}
    if args.men_dir:
        out["MEN test"] = load_men("test", args.men_dir)
    for path in args.benchmark or []:
        out[os.path.splitext(os.path.basename(path))[0]] = read_pairs(path)
    return out


def _add_extract_args(p: argparse.ArgumentParser, model: bool = True) -> None:
    """Options of ``extract`` (and of ``grid``, which takes ``--models`` instead of ``--model``)."""
    _add_concept_args(p)
    if model:
        p.add_argument("--model", default="smollm2", help="Hub id, local folder, .gguf file, or 'smollm2'")
    p.add_argument("--revision", help="Hub revision, e.g. step1000 for a Pythia checkpoint")
    p.add_argument(
        "--revisions",
        help="sweep checkpoints: step0,step1,... or 'all' (every step* folder or Hub branch); one run per revision",
    )
    p.add_argument("--gguf-file")
    p.add_argument(
        "--dtype",
        default=ModelSpec.dtype,
        choices=[*DTYPE_NAMES, *DTYPES],
        help="forward-pass dtype (pooling and AP stay float32)",
    )
    p.add_argument("--device", default="auto")
    p.add_argument(
        "--modules", help="unknown architectures: comma-separated regexes of the linear maps (in:regex hooks an input)"
    )
    p.add_argument("--n-pos", type=int, default=400)
    p.add_argument("--n-neg", type=int, default=1000)
    p.add_argument("--folds", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--min-pos", type=int, help="accept concepts with fewer than --n-pos sentences, down to this")
    p.add_argument("--skip-short", action="store_true", help="leave out concepts with too few sentences (listed)")
    p.add_argument("--negatives", default="shared", choices=["shared", "independent"])
    p.add_argument("--pooling", default="max", choices=["max", "mean"])
    p.add_argument(
        "--reference",
        choices=["selfcond"],
        help="reproduce apple/ml-selfcond: pad every sentence to --max-length, max over all positions, "
        "drop longer sentences (docs/reference_mode.md)",
    )
    p.add_argument("--max-length", type=int, default=128)
    p.add_argument("--ap-floor", type=float, default=0.5, help="store APs at or above this (0 = all)")
    p.add_argument("--batch-tokens", type=int, default=4096)
    p.add_argument("--concepts-per-unit", type=int, default=8)
    p.add_argument("--max-units", type=int, help="stop after this many work units")
    p.add_argument("--limit-concepts", type=int, help="only the first N concepts")
    p.add_argument("--parts", help="folder for result parts (default: beside the store)")
    p.add_argument("--quiet", action="store_true")
    p.add_argument("--engine", default="local", choices=["local", "ray"], help="where work units run")
    p.add_argument("--address", help="Ray cluster to join (default: RAY_ADDRESS, else a local Ray)")
    p.add_argument("--workers", type=int, help="Ray actors (default: one per GPU, or per CPU without GPUs)")
    p.add_argument("--num-gpus-per-worker", type=float, help="GPUs per Ray actor (default 1 with GPUs, else 0)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m core", description=__doc__.splitlines()[0])
    parser.add_argument("--store", default=os.environ.get("EXPERTS_STORE", DEFAULT_STORE), help="DuckDB store file")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("add", help="import sentences from CSV/TSV/JSONL or a folder of <concept>.txt")
    p.add_argument("file")
    p.set_defaults(func=cmd_add)

    p = sub.add_parser("mine", help="mine positive sentences from a text or JSONL corpus")
    p.add_argument("corpus", help="plain text (one sentence per line) or JSONL with 'text'; .gz allowed")
    _add_concept_args(p)
    p.add_argument("--limit", type=int, default=1500, help="at most this many sentences per concept")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_mine)

    p = sub.add_parser("generate", help="generate positive sentences with an instruct LM (as the paper)")
    _add_concept_args(p)
    p.add_argument("--model", default="smollm2", help="instruct model id or folder (default: SmolLM2-135M-Instruct)")
    p.add_argument("--gguf-file")
    p.add_argument("--n", type=int, default=400)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-rounds", type=int, default=50)
    p.set_defaults(func=cmd_generate)

    p = sub.add_parser("extract", help="find the experts of a model for concepts (resumable)")
    _add_extract_args(p)
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="print the plan (sentences, tokens, units, parts) and its estimated time on this device; write nothing",
    )
    p.set_defaults(func=cmd_extract)

    p = sub.add_parser("grid", help="every (model, revision) of a grid with the same sets, locally or on Ray")
    p.add_argument("--models", required=True, help="comma-separated Hub ids or local folders")
    _add_extract_args(p, model=False)
    p.set_defaults(func=cmd_grid)

    p = sub.add_parser("runs", help="list runs")
    p.set_defaults(func=cmd_runs)

    p = sub.add_parser("ingest", help="load result parts written by extraction into the store")
    p.add_argument("--parts")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("export", help="export expert sets of a run as CSV or Parquet")
    p.add_argument("--run", required=True)
    p.add_argument("--tau", type=float, default=0.5)
    p.add_argument("--out", required=True, help="file.csv or file.parquet")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("analyse", help="alignment, domains, stability or layer breakdown of stored experts")
    analyses = p.add_subparsers(dest="analysis", required=True)
    a = analyses.add_parser("alignment", help="Spearman rho with human pair scores, per run and method")
    a.add_argument("--runs", help="comma-separated run ids (default: every run with results)")
    a.add_argument("--n-boot", type=int, default=1000, help="bootstrap resamples for CIs and paired tests")
    a.add_argument("--seed", type=int, default=0)
    d = analyses.add_parser("domains", help="recover semantic domains from expert overlap (Louvain)")
    d.add_argument("--domains", default=None, help="domain file 'domain: a, b, c' (default: data/domains.txt)")
    d.add_argument("--min-weight", type=float, default=0.0, help="drop edges with reciprocal overlap at or below")
    d.add_argument("--seed", type=int, default=0)
    st = analyses.add_parser("stability", help="expert-set overlap across folds vs across concepts")
    st.add_argument("--taus", help="comma-separated thresholds (default: 0.5,0.55,...,0.95)")
    la = analyses.add_parser("layers", help="alignment with expert Jaccard restricted to one layer or kind")
    la.add_argument("--by", default="layer", choices=["layer", "kind", "module"])
    for q in (a, la):
        q.add_argument("--benchmark", help="'word1 word2 score' file")
        q.add_argument("--men-split", choices=["dev", "test", "full"], help="a MEN split")
        q.add_argument("--men-dir", help="local MEN folder (default: download the official archive into cache/)")
    for q in (d, st, la):
        q.add_argument("--run", required=True, help="run id (`python -m core runs` lists them)")
    for q in (a, d, la):
        q.add_argument("--tau", type=float, default=0.5, help="expert threshold in [0.5, 1]")
    for q in (a, d, st, la):
        q.add_argument("--out", required=True, help="CSV file to write")
    p.set_defaults(func=cmd_analyse)
    p = sub.add_parser("report", help="write results/ (CSV + README.md): alignment, domains, stability, layers")
    p.add_argument("--out", default="results")
    p.add_argument("--benchmark", help="a 'word1 word2 score' file (default: MEN)")
    p.add_argument("--men-split", default="test", choices=["dev", "test", "full"])
    p.add_argument("--men-dir", help="local MEN folder (default: download the official archive into cache/)")
    p.add_argument("--domains", help="domain list (default: data/domains.txt)")
    p.add_argument("--tau", type=float, default=0.5)
    p.add_argument("--n-boot", type=int, default=1000)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("build-demo", help="write the committed demo store (derived numbers only) from --store")
    p.add_argument("--out", default=DEMO_STORE)
    p.add_argument("--runs", help="comma-separated run ids (default: every run with results)")
    p.add_argument("--max-mb", type=float, default=50.0)
    p.add_argument("--men-dir", help="local MEN folder: keep MEN-test alignment at every slider τ (not the ratings)")
    p.add_argument("--benchmark", action="append", help="another word-pair file to keep alignment of (repeatable)")
    p.add_argument("--n-boot", type=int, default=1000)
    p.set_defaults(func=cmd_build_demo)
    return parser


INTERRUPTED = "interrupted: finished concepts are stored; run the same command to continue"


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    interrupted = []

    def on_sigint(signum, frame):  # remember it: a library may turn the KeyboardInterrupt into its own error
        interrupted.append(signum)
        signal.default_int_handler(signum, frame)

    try:
        previous = signal.signal(signal.SIGINT, on_sigint)
    except ValueError:  # not the main thread: keep Python's own handler
        previous = None
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print(INTERRUPTED, file=sys.stderr)
        return 130
    except Exception as e:
        if interrupted:
            print(INTERRUPTED, file=sys.stderr)
            return 130
        if args.debug or not isinstance(e, KNOWN_ERRORS):
            raise
        msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        print(f"error: {msg}", file=sys.stderr)
        return 2
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
