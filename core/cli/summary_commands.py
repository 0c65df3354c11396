"""``summarise``: store every run's alignment summary on a benchmark, so pages read rows instead of APs.

``core.analysis.summaries`` computes them; this prints what it did, in a form a benchmark script can read.
"""

from __future__ import annotations

import os
import time


def add_parser(sub, boot, score_column_help: str) -> None:
    """``summarise`` and its options on the subcommands ``sub`` (``boot``: the CLI's checked count type)."""
    from core.analysis.alignment import N_BOOT

    p = sub.add_parser(
        "summarise", help="keep each run's alignment on a benchmark at every slider τ in the store (resumable)"
    )
    p.add_argument("--benchmark", required=True, help="a 'word1 word2 score' file, e.g. MEN_dataset_lemma_form.test")
    p.add_argument("--score-column", help=score_column_help)
    p.add_argument("--name", help="the benchmark's name in the store (default: as the dashboard names the file)")
    p.add_argument("--runs", help="comma-separated run ids (default: every run with results)")
    p.add_argument("--taus", help="comma-separated thresholds (default: the dashboard slider's, 0.50 to 1.00 by 0.01)")
    p.add_argument("--n-boot", type=boot, default=N_BOOT, help="bootstrap resamples for CIs and paired tests")
    p.set_defaults(func=cmd_summarise)


def cmd_summarise(args) -> int:
    """Summarise the runs that lack a current summary; one line per run, then rows written and seconds."""
    from core.analysis.summaries import summarise
    from core.storage.store import Store
    from core.tau import SLIDER_TAUS, check_tau
    from core.text.benchmarks import benchmark_name, read_pairs

    if not os.path.isfile(args.store):
        raise ValueError(f"no store at {args.store!r}: extract or ingest runs first")
    pairs = read_pairs(args.benchmark, args.score_column)
    taus = [check_tau(t) for t in args.taus.split(",")] if args.taus else SLIDER_TAUS
    runs = [r.strip() for r in args.runs.split(",") if r.strip()] if args.runs else None
    name = args.name or benchmark_name(args.benchmark)
    store = Store(args.store)
    start = last = time.perf_counter()
    done: list[str] = []

    def progress(run_id: str, written: int) -> None:
        nonlocal last
        now = time.perf_counter()
        done.append(run_id)
        print(f"{run_id}: summarised in {now - last:.1f} s ({written:,} rows so far)", flush=True)
        last = now

    n_runs = len(runs) if runs is not None else sum(r.n_results > 0 for r in store.runs())
    rows = summarise(store, pairs, name, runs, taus, args.n_boot, progress)
    print(
        f"{name}: {rows:,} summary rows written for {len(done)} run{'s' if len(done) != 1 else ''} ({n_runs - len(done)} already current), "
        f"{len(taus)} τ, {args.n_boot} resamples, in {time.perf_counter() - start:.1f} s"
    )
    return 0
