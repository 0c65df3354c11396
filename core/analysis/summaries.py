"""Per-run alignment summaries kept in the store, so that pages over hundreds of runs read rows, not APs.

A run's summary on a benchmark is its ``alignment_table`` rows for every measure (``alignment_methods(every=True)``,
rows without a score included, as the live table gives them) and its ``group_alignment_rows`` (ρ from one layer and
one module kind at a time) at every τ of the dashboard's slider. The store keeps them as alignment rows keyed by
the hash of the benchmark's pairs (``benchmarks.pairs_hash``: an edited rating makes them stale) and the run's
results count (an extraction that adds results makes them stale). ``summarise`` computes the runs that lack a
current summary one at a time (the run's APs read, scored, saved, dropped), so memory stays that of one run and an
interrupted call resumes with the runs it had not saved.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING

import pandas as pd

from core.experts.index import ExpertIndex
from core.tau import SLIDER_TAUS
from core.text.benchmarks import pairs_hash

from .alignment import N_BOOT, alignment_table
from .layers import GROUP_PREFIX, group_alignment_rows
from .measures import alignment_methods
from .run_choice import with_results

if TYPE_CHECKING:
    from core.storage.reader import StoreReader
    from core.storage.store import Store

GROUPS = tuple(GROUP_PREFIX.values())  # "layer:", "kind:": a summary's rows of one layer / module kind at a time


def row_kind(method: str) -> str:
    """What a stored row is of: its measure, or ``layer:`` / ``kind:`` for any one group's row."""
    return method.split(":", 1)[0] + ":" if ":" in method else method


def run_summary(
    store: StoreReader,
    run_id: str,
    pairs: pd.DataFrame,
    taus: Iterable[float] = SLIDER_TAUS,
    n_boot: int = N_BOOT,
    seed: int = 0,
    index: ExpertIndex | None = None,
) -> pd.DataFrame:
    """A run's summary rows: every measure's alignment and each layer's and module kind's ρ at every τ of ``taus``.

    The run's APs are read once (or ``index`` is used); the rows equal ``alignment_table`` and
    ``group_alignment_rows`` of the run at each τ.
    """
    taus = list(taus)
    cache = {run_id: index if index is not None else ExpertIndex.from_store(store, run_id)}
    every = alignment_methods(every=True)
    kw = {"n_boot": n_boot, "seed": seed, "index_cache": cache, "check_fresh": False, "methods": every}
    tables = [alignment_table(store, [run_id], pairs, tau, **kw) for tau in taus]
    groups = [group_alignment_rows(store, [run_id], pairs, taus, by, index_cache=cache) for by in GROUP_PREFIX]
    return pd.concat([*tables, *groups], ignore_index=True)


def current_rows(
    rows: pd.DataFrame, n_results: Mapping[str, int], needs: Iterable[str], n_boot: int = 0
) -> tuple[pd.DataFrame, list[str]]:
    """(usable, missing): the summary rows (of one τ) of the runs they serve, and the runs of ``n_results`` they do not.

    A run is served when its rows hold every kind of ``needs`` (measure names, ``layer:``, ``kind:``), were computed
    from the ``n_results[run]`` results the run has now, and with at least ``n_boot`` bootstrap resamples (more
    is never worse). ``usable`` holds only rows of those kinds.
    """
    needs = set(needs)
    kinds = rows["method"].map(row_kind)
    fresh = rows[kinds.isin(needs) & (rows["n_results"] == rows["run_id"].map(n_results))]
    fresh = fresh[fresh["n_boot"].fillna(0) >= n_boot]
    held = fresh["method"].map(row_kind).groupby(fresh["run_id"]).agg(set)
    served = {r for r, k in held.items() if needs <= k}
    usable = fresh[fresh["run_id"].isin(served)].reset_index(drop=True)
    return usable, [r for r in n_results if r not in served]


def keep(
    store: Store, benchmark: str, rows: pd.DataFrame, n_boot: int, digest: str, n_results: Mapping[str, int]
) -> int:
    """Save rows computed live (``alignment_table``, ``group_alignment_rows``) as summaries of the pairs hashed
    ``digest``; rows written. A row the store already holds current with at least ``n_boot`` resamples is kept."""
    have = [store.alignment_snapshot(benchmark_hash=digest, tau=t) for t in rows["tau"].unique()]
    have = pd.concat(have, ignore_index=True) if have else pd.DataFrame(columns=["run_id", "method", "tau"])
    have = have[(have["n_results"] == have["run_id"].map(n_results)) & (have["n_boot"] >= n_boot)]
    better = set(zip(have["run_id"], have["method"], have["tau"].astype(float).round(4)))
    new = [k not in better for k in zip(rows["run_id"], rows["method"], rows["tau"].astype(float).round(4))]
    rows = rows[new]
    return store.save_alignment_snapshot(benchmark, rows, n_boot, digest, n_results) if len(rows) else 0


def summarise(
    store: Store,
    pairs: pd.DataFrame,
    benchmark: str,
    run_ids: Iterable[str] | None = None,
    taus: Iterable[float] = SLIDER_TAUS,
    n_boot: int = N_BOOT,
    progress: Callable[[str, int], None] | None = None,
) -> int:
    """Compute and store the summary of every run (of ``run_ids``; default all with results) that lacks a current
    one on ``pairs`` (named ``benchmark`` in the store); returns rows written.

    A run already summarised at every τ of ``taus`` with at least ``n_boot`` resamples is skipped; each run's rows
    are saved as soon as they are computed (``progress(run_id, rows written so far)`` after each). Resamples are
    seeded 0, as the pages' live alignment, so a summary and a live table agree.
    """
    taus = [round(float(t), 4) for t in taus]
    runs = with_results(store.runs())
    if run_ids is not None:
        wanted = list(dict.fromkeys(run_ids))
        unknown = sorted(set(wanted) - {r.run_id for r in runs})
        if unknown:
            raise ValueError(f"no run with results named {', '.join(unknown)}; `python -m core runs` lists them")
        runs = [r for r in runs if r.run_id in set(wanted)]
    digest = pairs_hash(pairs)
    written = 0
    for run in todo(store, digest, {r.run_id: r.n_results for r in runs}, taus, n_boot):
        index = ExpertIndex.from_store(store, run)  # the results count read with the APs keys the rows
        rows = run_summary(store, run, pairs, taus, n_boot, 0, index)
        counted = {run: index.run.n_results} if index.run is not None else None
        written += store.save_alignment_snapshot(benchmark, rows, n_boot, digest, counted)
        del index, rows  # one run in memory at a time
        if progress is not None:
            progress(run, written)
    return written


def todo(store: Store, digest: str, n_results: Mapping[str, int], taus: list[float], n_boot: int) -> list[str]:
    """The runs of ``n_results`` without a current summary of the pairs hashed ``digest`` at every τ of ``taus``."""
    status = store.summary_status(digest)
    needs = set(alignment_methods(every=True)) | set(GROUPS)
    status = status[status["tau"].round(4).isin(taus) & (status["n_results"] == status["run_id"].map(n_results))]
    status = status[(status["n_boot"] >= n_boot) & status["kinds"].map(lambda k: needs <= set(k))]
    complete = {r for r, n in status.groupby("run_id")["tau"].nunique().items() if n == len(set(taus))}
    return [r for r in n_results if r not in complete]
