"""What each ``python -m core`` command does, given its parsed arguments (``core.cli.parser`` parses them)."""

from __future__ import annotations

import os
import sys
from dataclasses import fields


def _concept_list(args) -> list[str]:
    from core.text.concepts import read_concept_file
    from core.text.words import normalise_concept

    concepts: list[str] = []
    if getattr(args, "concepts", None):
        concepts += [c for c in args.concepts.split(",") if c.strip()]
    if getattr(args, "concepts_file", None):
        concepts += read_concept_file(args.concepts_file)
    if getattr(args, "benchmark", None) or getattr(args, "men_split", None):
        from core.text.benchmarks import coverage_order, load_men, read_pairs

        pairs = (
            read_pairs(args.benchmark, getattr(args, "score_column", None))
            if args.benchmark
            else load_men(args.men_split, args.men_dir)
        )
        concepts += coverage_order(pairs)
    out = list(dict.fromkeys(normalise_concept(c) for c in concepts))
    if not out:
        raise ValueError(
            "no concepts given: use --concepts a,b,c, --concepts-file F, --benchmark F or --men-split test"
        )
    return out


def cmd_add(args) -> int:
    from core.storage.store import Store
    from core.text.sentences import group_by_concept, read_pairs, split_positive

    grouped = group_by_concept(read_pairs(args.file))
    store = Store(args.store)
    for concept, texts in grouped.items():
        kept, rejected = split_positive(concept, texts)
        new = store.add_sentences(concept, kept, source=f"file:{os.path.basename(args.file)}") if kept else 0
        note = f", {len(rejected)} rejected (no '{concept}' in them)" if rejected else ""
        print(f"{concept}: {new} new sentences{note}")
    return 0


def cmd_mine(args) -> int:
    from core.storage.store import Store
    from core.text.sentences import mine

    concepts = _concept_list(args)
    found = mine(args.corpus, concepts, limit=args.limit)
    if not any(found.values()):
        raise ValueError(
            f"no sentence of {args.corpus} ({len(concepts)} concepts asked) contains any of them as a whole word; "
            "nothing stored"
        )
    store = Store(args.store)
    for c in concepts:
        new = store.add_sentences(c, found[c], source=f"corpus:{os.path.basename(args.corpus)}") if found[c] else 0
        if not args.quiet or not found[c]:
            print(f"{c}: {len(found[c])} found, {new} new")
    print(f"{sum(1 for c in concepts if found[c])}/{len(concepts)} concepts have sentences")
    return 0


def cmd_generate(args) -> int:
    from core.storage.store import Store
    from core.text.generate import generate_sentences

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
    """The ``RunConfig`` of ``extract``'s arguments: one option per configuration field (see ``core.cli.parser``)."""
    from core.config import DatasetConfig, ExtractConfig, ModelSpec, RunConfig

    def build(cls, **given):
        return cls(**{f.name: given[f.name] if f.name in given else getattr(args, f.name) for f in fields(cls)})

    patterns = tuple(p for p in args.modules.split(",") if p) if args.modules else None
    return RunConfig(
        build(ModelSpec, module_patterns=patterns),
        build(DatasetConfig, concepts=tuple(concepts)),
        build(ExtractConfig),
    )


def cmd_extract(args) -> int:
    from core.extraction.extract import extract
    from core.storage.connection import LockWaits
    from core.storage.store import Store

    store = Store(args.store, parts_dir=args.parts, read_only=args.dry_run)
    concepts = _extract_concepts(args, store)
    revisions = [args.revision]
    if args.revisions:
        from .checkpoint_commands import audited_revisions

        if args.revision:
            raise ValueError("give --revision or --revisions, not both")
        revisions = audited_revisions(args, args.model, args.revisions)
    if args.dry_run:
        return _dry_run(args, store, concepts, revisions)
    if args.engine != "local":
        return _run_grid(args, store, concepts, [(args.model, r) for r in revisions])
    for revision in revisions:  # one run per revision: same words, sentences and seeded sets, other weights
        args.revision = revision
        cfg = _run_config(args, concepts)
        store.waits = LockWaits()  # this run's longest wait for the write lock is reported
        s = extract(
            store, cfg, concepts_per_task=args.concepts_per_task, show_progress=not args.quiet, max_tasks=args.max_tasks
        )
        _print_summary(s, revision, lock_wait=store.waits.longest)
    return 0


def _dry_run(args, store, concepts, revisions) -> int:
    """Print each revision's plan and estimated time on this device; one probe serves them all (same architecture)."""
    from core.extraction.estimate import dry_run
    from core.model.loading import load_model

    measured = model = None
    for revision in revisions:
        args.revision = revision
        cfg = _run_config(args, concepts)
        model = model or load_model(cfg.model)
        plan = dry_run(store, cfg, args.concepts_per_task, model, measured)
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


def _print_summary(s, revision=None, model=None, lock_wait: float | None = None) -> None:
    name = " ".join(x for x in (model, revision) if x)
    print(
        f"run {s.run_id}{f' ({name})' if name else ''}: {s.done_before + s.ingested + s.computed}/"
        f"{s.total} (concept, fold) results stored "
        f"({s.computed} computed now, {s.ingested} ingested from parts, {s.done_before} already stored)"
        + ("" if lock_wait is None else f"; longest wait for the store's write lock {lock_wait:.2f} s")
    )


def cmd_grid(args) -> int:
    """Every (model, revision) of the grid, with the same concepts and seeded sets; stored runs are skipped."""
    from core.storage.store import Store

    from .checkpoint_commands import audited_revisions, print_grid_plan

    models = [m.strip() for m in args.models.split(",") if m.strip()]
    if not models:
        raise ValueError("--models is empty: give org/name,org/name or local folders")
    if args.revision and args.revisions:
        raise ValueError("give --revision or --revisions, not both")
    runs = [
        (m, r)
        for m in models
        for r in (audited_revisions(args, m, args.revisions) if args.revisions else [args.revision])
    ]
    if args.dry_run:
        return print_grid_plan(runs)
    store = Store(args.store, parts_dir=args.parts)
    return _run_grid(args, store, _extract_concepts(args, store), runs)


def _run_grid(args, store, concepts, runs) -> int:
    from core.extraction.grid import grid_configs, run_grid

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
        store, cfgs, args.engine, args.concepts_per_task, args.max_tasks, show_progress=not args.quiet, **options
    )
    for (model, revision), s in zip(runs, summaries):
        _print_summary(s, revision, model if len(set(m for m, _ in runs)) > 1 else None)
    return 0


def cmd_runs(args) -> int:
    from core.storage.records import revision_label, runs_frame
    from core.storage.store import Store

    runs = Store(args.store, read_only=True).runs()
    if not runs:
        print("no runs yet")
        return 0
    from core.model.checkpoints import identical_neighbours

    table = runs_frame(runs)
    table["revision"] = [revision_label(r) for r in table["revision"]]  # "final", not NaN or None
    same = identical_neighbours(table)
    if same:
        table["same_weights_as"] = table["run_id"].map(same).fillna("")
    cols = ["run_id", "model", "revision", "weights_hash", "same_weights_as", "n_units", "n_concepts", "n_results"]
    print(table[[c for c in cols if c in table]].to_string(index=False))
    if same:
        print(f"{len(same)} revision(s) hold the same weights as the checkpoint before them (see same_weights_as)")
    return 0


def cmd_ingest(args) -> int:
    from core.storage.store import Store

    if args.parts and not os.path.isdir(args.parts):
        raise ValueError(f"no parts folder {args.parts!r}: nothing to ingest")
    store = Store(args.store, parts_dir=args.parts)
    if not os.path.isdir(store.parts_dir):
        raise ValueError(f"no parts folder {store.parts_dir!r}: nothing to ingest; pass --parts DIR")
    refused: list[str] = []
    n = store.ingest_pending(refused=refused)
    print(f"{n} parts ingested")
    if refused:
        more = f" (and {len(refused) - 1} more)" if len(refused) > 1 else ""
        raise ValueError(
            f"{refused[0]}{more} (files that cannot be trusted are set aside in {store.parts_dir}/_refused)"
        )
    return 0


def cmd_pack(args) -> int:
    from core.config import RunConfig
    from core.storage.packs import pack_parts
    from core.storage.store import Store

    if not os.path.exists(args.store):
        raise ValueError(f"no store at {args.store!r}: pack packs the finished runs of a store; give --store")
    if args.parts and not os.path.isdir(args.parts):
        raise ValueError(f"no parts folder {args.parts!r}: nothing to pack")
    store = Store(args.store, parts_dir=args.parts)
    store.ingest_pending()  # whatever is packed must be stored first
    runs = {r.run_id: r for r in store.runs()}
    if args.run and args.run not in runs:
        raise ValueError(f"no run {args.run!r} in {args.store}; `python -m core runs` lists them")
    packed = 0
    for rid in [args.run] if args.run else list(runs):
        config = runs[rid].config
        if config is None:  # registered without its settings: what the run should hold is unknown
            print(f"run {rid}: no stored configuration, left as it is")
            continue
        cfg = RunConfig.from_json(config)
        wanted = {(c, f) for c in cfg.dataset.concepts for f in range(cfg.dataset.folds)}
        done = store.done(rid) & wanted
        if done != wanted:
            print(f"run {rid}: not finished ({len(done)}/{len(wanted)}), left as it is")
            continue
        path = pack_parts(store.parts_dir, rid)
        if path:
            packed += 1
            print(f"run {rid}: packed into {path} ({os.path.getsize(path) / 2**20:.2f} MB)")
    print(f"{packed} run(s) packed")
    return 0


def cmd_export(args) -> int:
    from core.render.outputs import check_output, write_output
    from core.storage.store import Store
    from core.tau import check_tau

    tau = check_tau(args.tau)
    check_output(args.out, args.store, args.force)
    store = Store(args.store, read_only=True)
    store.run(args.run)  # a clear error for an unknown run
    df = store.ap(args.run, fold=None, above=tau)
    units = store.units(args.run)
    if not units.empty:
        df = df.merge(units, on="unit", how="left")
    if args.out.endswith(".parquet"):
        write_output(args.out, lambda tmp: df.to_parquet(tmp, index=False))
    else:
        write_output(args.out, lambda tmp: df.to_csv(tmp, index=False))
    print(f"{len(df)} expert rows (tau > {tau:g}) written to {args.out}")
    return 0
