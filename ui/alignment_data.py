"""Alignment for the pages (Home's headline, the Alignment page): from stored summaries, live, or a snapshot.

With a benchmark file, each run's numbers at the page's τ come from the store's summary rows of the file's pairs
(``core.analysis.summaries``: keyed by ``benchmarks.pairs_hash`` and the run's results count), so a page over
hundreds of runs reads a few thousand rows and no APs. Only runs without a current summary are scored live from
their expert indexes; on a local store the page may write, what it scored is kept as summaries, so the next view
reads it (``python -m core summarise`` fills them ahead). Without a file, the rows the store keeps under the
benchmark's name are shown as they are: the demo store's snapshot (``build-demo``), or summaries.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

import pandas as pd
import streamlit as st

from core.analysis import run_choice as run_policy
from core.analysis.alignment import N_BOOT, RUN_COLUMNS
from core.analysis.measures import alignment_methods
from core.analysis.summaries import current_rows
from core.storage.records import runs_frame
from core.storage.store import Store, StoreError
from core.tau import TAU_MIN

from .data import _index, _mtime, _read, _unit_table, benchmark_pairs, contents, locked, open_store, page_read

if TYPE_CHECKING:
    from .page_state import Page

log = logging.getLogger(__name__)
TABLE = [*RUN_COLUMNS, "method", "tau", "rho", "ci_low", "ci_high", "p_value", "p_vs_experts", "n_pairs", "n_missing"]


# -- summaries ----------------------------------------------------------------------------------------
@st.cache_data(show_spinner=False, max_entries=16)
def _pairs_hash(bench: str, bench_mtime: float) -> str:
    from core.text.benchmarks import pairs_hash

    return pairs_hash(benchmark_pairs(bench, bench_mtime))


@st.cache_data(show_spinner=False, max_entries=64)
def _summaries(path: str, stamp: tuple, digest: str, tau: float) -> pd.DataFrame:
    """The store's summary rows of the pairs hashed ``digest`` at ``tau`` (every run, measure and group)."""
    return open_store(path, stamp).alignment_snapshot(benchmark_hash=digest, tau=tau)


def _split(p: Page, bench: str, run_ids: Sequence[str], needs, n_boot: int) -> tuple[pd.DataFrame, list[str], str]:
    """(summary rows that serve the runs, runs without a current summary, the pairs' hash) at the page's τ."""
    digest = _pairs_hash(bench, _mtime(bench))
    counts = {r.run_id: r.n_results for r in p.runs}
    wanted = {r: counts[r] for r in run_ids if r in counts}
    rows, missing = current_rows(_summaries(p.path, p.stamp, digest, p.tau), wanted, needs, n_boot)
    return rows, missing + [r for r in run_ids if r not in counts], digest


def _writable(p: Page) -> bool:
    """Whether a page may keep what it computed: a local store of one's own, never a hosted or demo one."""
    return not p.settings.hosted and not p.settings.is_demo and os.access(p.path, os.W_OK)


@st.cache_resource(show_spinner=False, max_entries=256)
def _keep(path: str, stamp: tuple, name: str, digest: str, tau: float, kind: str, runs: tuple, n_boot: int, _rows, _n):
    """Save live rows as summaries, once per store version and key; a store held by a writer: skipped (logged)."""
    from core.analysis.summaries import keep

    try:
        return keep(Store(path, lock_timeout=1), name, _rows, n_boot, digest, _n)
    except StoreError as e:
        log.warning("alignment summaries not kept: %s", e)
        return 0


def _kept(p: Page, name: str | None, digest: str, kind: str, runs: Sequence[str], n_boot: int, rows) -> None:
    """Keep what the page scored live (``kind``: alignment or groups) where the page may write."""
    if name and len(rows) and _writable(p):
        counts = {r.run_id: r.n_results for r in p.runs if r.run_id in set(runs)}
        _keep(p.path, p.stamp, name, digest, p.tau, kind, tuple(runs), n_boot, rows, counts)


# -- alignment -------------------------------------------------------------------------------------
@st.cache_data(show_spinner="Scoring alignment with human ratings…", max_entries=64)
def _alignment(
    path: str, stamp: tuple, bench: str, bench_mtime: float, run_ids: tuple, tau: float, n_boot: int, methods: tuple
) -> pd.DataFrame:
    from core.analysis.alignment import alignment_table

    pairs = benchmark_pairs(bench, bench_mtime)
    cache = {rid: _index(path, stamp, rid) for rid in run_ids}
    store = open_store(path, stamp)
    kw = {"tau": tau, "n_boot": n_boot, "seed": 0, "index_cache": cache, "methods": methods}
    return locked(alignment_table, store, list(run_ids), pairs, **kw)


def _in_order(t: pd.DataFrame, run_ids: Sequence[str], methods: Sequence[str]) -> pd.DataFrame:
    """Rows in the order ``alignment_table`` gives: by run as asked, then by measure."""
    order = {m: i for i, m in enumerate(methods)}
    rank = t["run_id"].map({r: i for i, r in enumerate(run_ids)}) * 10 + t["method"].map(order).fillna(9)
    return t.assign(_o=rank).sort_values("_o", kind="stable").drop(columns="_o").reset_index(drop=True)


@page_read
def alignment(
    p: Page,
    bench: str | None,
    run_ids: Sequence[str],
    n_boot: int = N_BOOT,
    name: str | None = None,
    methods: Sequence[str] | None = None,
) -> pd.DataFrame:
    """``core.analysis.alignment.alignment_table`` of runs on a benchmark file at the page's τ, scoring ``methods``
    (default: ``measures.alignment_methods()``): stored summaries where current (with ≥ ``n_boot`` resamples),
    live for the other runs (kept as summaries where the page may write).

    With no file (``bench`` None), the store's rows of benchmark ``name`` at this τ are read instead (a measure
    they lack has no rows).
    """
    methods = tuple(alignment_methods() if methods is None else methods)
    if bench is None:
        t = _snapshot(p.path, p.stamp, name, p.tau)
        t = t[t["run_id"].isin(list(run_ids)) & t["method"].isin(methods)]
        return _in_order(t.drop(columns=["benchmark", "n_boot", "benchmark_hash", "n_results"]), run_ids, methods)
    rows, missing, digest = _split(p, bench, run_ids, methods, n_boot)
    parts = [rows[TABLE]] if len(rows) else []
    if missing:
        live = _alignment(p.path, p.stamp, bench, _mtime(bench), tuple(missing), p.tau, n_boot, methods)
        _kept(p, name, digest, "alignment", missing, n_boot, live)
        parts.append(live)
    t = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=TABLE)
    return _in_order(t, run_ids, methods)


@page_read
def alignment_source(p: Page, bench: str, run_ids: Sequence[str], n_boot: int, methods: Sequence[str]) -> str:
    """Where ``alignment``'s numbers for these runs come from: stored summaries, computed now, or both."""
    rows, missing, _ = _split(p, bench, run_ids, tuple(methods), n_boot)
    stored = len(set(rows["run_id"]))
    parts = []
    if stored:
        lo, hi = int(rows["n_boot"].min()), int(rows["n_boot"].max())
        shown = f"{lo}" if lo == hi else f"{lo}–{hi}"
        parts.append(
            f"{stored} run{'s' if stored != 1 else ''} from the store's summaries ({shown} bootstrap resamples)"
        )
    if missing:
        parts.append(f"{len(missing)} computed now ({n_boot} bootstrap resamples)")
    return ", ".join(parts)


@st.cache_data(show_spinner=False, max_entries=64)
def _groups(path: str, stamp: tuple, run_ids: tuple, bench: str, bench_mtime: float, tau: float, bys: tuple):
    """``group_alignment_rows`` of runs at τ, by each of ``bys``, from the shared expert indexes."""
    from core.analysis.layers import group_alignment_rows

    pairs, store = benchmark_pairs(bench, bench_mtime), open_store(path, stamp)
    cache = {rid: _index(path, stamp, rid) for rid in run_ids}
    units = {rid: _unit_table(path, stamp, rid) for rid in run_ids}
    rows = [locked(group_alignment_rows, store, list(run_ids), pairs, (tau,), by, cache, units) for by in bys]
    return pd.concat(rows, ignore_index=True)


def _group_rows(p: Page, bench: str, name: str, run_ids: Sequence[str], bys: tuple) -> pd.DataFrame:
    """Layer (and module-kind) rows of runs at the page's τ: stored summaries where current, else live (kept)."""
    from core.analysis.layers import GROUP_PREFIX

    rows, missing, digest = _split(p, bench, run_ids, [GROUP_PREFIX[b] for b in bys], 0)
    if not missing:
        return rows
    live = _groups(p.path, p.stamp, tuple(missing), bench, _mtime(bench), p.tau, bys)
    _kept(p, name, digest, "groups", missing, 0, live)
    return pd.concat([rows, live], ignore_index=True)


@page_read
def where(p: Page, bench: str | None, name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """ρ from one layer and one module kind at a time, for the page's run (summary, live, or the snapshot)."""
    from core.analysis.layers import groups_from_rows

    if bench is None:
        t = _snapshot(p.path, p.stamp, name, p.tau)
    else:
        t = _group_rows(p, bench, name, [p.run_id], ("layer", "kind"))
    t = t[t["run_id"] == p.run_id]
    return groups_from_rows(t, "layer"), groups_from_rows(t, "kind")


@page_read
def series(p: Page, bench: str | None, name: str) -> dict[str, pd.DataFrame]:
    """Where × when of the store's checkpoint series at the page's τ: ``{model: layers × steps}`` of ρ.

    From stored summaries (live for runs without one) with a benchmark file, else from the store's rows of ``name``.
    """
    from core.analysis.series import series_models, where_when

    frame = runs_frame(run_policy.with_results(p.runs))
    ids = tuple(frame[frame["model"].isin(series_models(frame))]["run_id"]) if len(frame) else ()
    if not ids:
        return {}
    if bench is None:
        rows = _snapshot(p.path, p.stamp, name, p.tau)
    else:
        rows = _group_rows(p, bench, name, ids, ("layer",))
    return where_when(rows[rows["run_id"].isin(ids)], frame) if len(rows) else {}


# -- coverage and snapshots ---------------------------------------------------------------------------
@page_read
def snapshot_coverage(p: Page, name: str | None) -> dict[str, float]:
    """``{run_id: pairs scored by experts}`` from the store's alignment rows (first benchmark if no name)."""
    t = _snapshot(p.path, p.stamp, name, TAU_MIN)
    if t.empty:
        return {}
    t = t[(t["benchmark"] == (name or t["benchmark"].iloc[0])) & (t["method"] == "experts")]
    return {str(r): float(n) for r, n in zip(t["run_id"], t["n_pairs"])}


@page_read
def coverage(p: Page, bench_path: str | None, name: str | None = None) -> dict[str, float]:
    """Pairs of a benchmark each run covers, with the run picked by hand (if any) put first.

    ``bench_path`` None: the coverage recorded in the store's rows of benchmark ``name``.
    """
    from .links import session_value

    try:
        if bench_path is None:
            score = snapshot_coverage(p, name)
        else:
            pairs = benchmark_pairs(bench_path, _mtime(bench_path))
            score = run_policy.pair_coverage(contents(p.path, p.stamp), pairs)
    except (ValueError, OSError):  # an unreadable benchmark: the alignment call reports it
        score = {}
    picked = session_value("run")
    if picked:
        score[picked] = float("inf")
    return score


@st.cache_resource(show_spinner=False, max_entries=8)
def _snapshots(path: str, stamp: tuple) -> pd.DataFrame:
    """Every stored alignment row (all benchmarks and τ), read once per store version; never mutated. Read without
    a benchmark file, i.e. from a demo store, whose size ``build-demo`` bounds."""
    t = open_store(path, stamp).alignment_snapshot(None, None)
    return t.assign(_tau=t["tau"].astype(float).round(2))


@st.cache_data(show_spinner=False, max_entries=128)
def _snapshot(path: str, stamp: tuple, name: str | None, tau: float) -> pd.DataFrame:
    """The store's alignment rows of benchmark ``name`` (None: all) at ``tau``, filtered in memory: a new τ costs
    no store read (a τ step on the hosted demo)."""
    t = _snapshots(path, stamp)
    keep = t["_tau"] == round(float(tau), 2)
    if name is not None:
        keep &= t["benchmark"] == name
    return t[keep].drop(columns="_tau").reset_index(drop=True)


@page_read
def snapshot_meta(p: Page, name: str) -> pd.DataFrame:
    """The stored rows of benchmark ``name`` at the page's τ, with how they were computed."""
    return _snapshot(p.path, p.stamp, name, p.tau)


@page_read
def benchmarks(p: Page) -> list[tuple[str, str | None]]:
    """Benchmarks to show: files on disk, then those only the store's alignment rows hold (path None)."""
    live: list[tuple[str, str | None]] = list(p.settings.benchmarks)
    if p.store is None:
        return live
    names = {n for n, _ in live}
    kept = [str(n) for n in _read(p.path, p.stamp, "alignment_benchmarks") if n not in names]
    return live + [(n, None) for n in kept]


def snapshot_note(name: str, table: pd.DataFrame, hosted: bool = False) -> str:
    """Where numbers read from a snapshot come from (and, run locally, how to recompute them)."""
    n_boot = int(table["n_boot"].max()) if "n_boot" in table and len(table) else None
    advice = "" if hosted else " Put the MEN files in `cache/MEN/` or set `EXPERTS_MEN_DIR` to recompute them here."
    return (
        f"{name}: read from the alignment snapshot stored with this store (computed from the benchmark file "
        f"when the store was built{f', {n_boot} bootstrap resamples' if n_boot else ''}; the ratings are not "
        f"shipped).{advice}"
    )
