"""Cached reads and analyses for the pages: every public function takes the page (``ui.page``) first.

Nothing here keeps a DuckDB connection. Cached results are keyed by the store
path and its stamp (mtime/size of the file and its WAL, ``core.storage.paths.store_stamp``),
so an extraction writing to the store is picked up on the next rerun and the
file is never held open between reruns. ``ExpertIndex`` objects are shared by
sessions (``st.cache_resource``), so calls into them hold one lock.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import pandas as pd
import streamlit as st

from core.analysis import run_choice as run_policy
from core.analysis.alignment import N_BOOT
from core.analysis.measures import alignment_methods
from core.storage.records import Run, RunContents, runs_frame
from core.storage.store import Store, StoreError
from core.tau import TAU_MIN

if TYPE_CHECKING:
    from .page_state import Page

_INDEX_LOCK = threading.Lock()  # ExpertIndex keeps a small LRU of matrices; sessions share cached indexes


log = logging.getLogger(__name__)


def page_read(fn: Callable) -> Callable:
    """A page's read: a store that fails mid-read (corrupt, locked too long) stops the page with one line, no traceback.

    Opening the store is checked in ``ui.page``; this covers reads deeper in a page, where DuckDB only meets a
    damaged block when a query reaches it (``core.storage.connection`` turns that into a ``StoreError`` naming the file).
    """

    @functools.wraps(fn)
    def read(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except StoreError as e:
            page = next((a for a in args if hasattr(a, "settings")), None)
            if page is not None and page.settings.hosted:  # a visitor sees no server path and no CLI advice
                log.warning("store read failed: %s", e)
                st.error("The store cannot be read right now.", icon=":material/error:")
            else:
                st.error(str(e), icon=":material/error:")
            st.stop()

    return read


def locked(fn: Callable, *args, **kwargs):
    """Call ``fn`` while no other session uses a shared ExpertIndex."""
    with _INDEX_LOCK:
        return fn(*args, **kwargs)


def _mtime(path: str) -> float:
    return os.path.getmtime(path)


# -- the store ------------------------------------------------------------------------------------
@st.cache_resource(show_spinner=False, max_entries=16)
def open_store(path: str, stamp: tuple) -> Store:
    """A read-only Store handle (holds a path, not a connection); the schema check runs once per version."""
    return Store(path, read_only=True)  # waits out a writer's brief lock (EXPERTS_LOCK_TIMEOUT, default 60 s)


@st.cache_data(show_spinner=False, max_entries=32)
def runs(path: str, stamp: tuple) -> list[Run]:
    """The store's runs in picker order (used by the page frame before a page exists)."""
    return run_policy.picker_order(open_store(path, stamp).runs())


@page_read
@st.cache_data(show_spinner=False, max_entries=32)
def contents(path: str, stamp: tuple) -> dict[str, RunContents]:
    return open_store(path, stamp).run_contents()


@st.cache_data(show_spinner=False, max_entries=32)
def _counts(path: str, stamp: tuple) -> dict[str, int]:
    return open_store(path, stamp).counts()


@page_read
def overview(p: Page) -> dict:
    """Counts for the home page: runs, models, concepts (listed and with results), sentences, results."""
    c = _counts(p.path, p.stamp)
    return {
        "n_runs": len(p.runs),
        "n_models": len({r.model for r in p.runs}),
        "n_concepts": c["concepts"],
        "n_concepts_with_sentences": c["concepts_with_sentences"],
        "n_concepts_done": c["concepts_done"],
        "n_sentences": c["sentences"],
        "n_results": c["results"],
    }


@st.cache_resource(show_spinner="Reading the run's stored APs…", max_entries=48)
def _index(path: str, stamp: tuple, run_id: str):
    from core.experts.index import ExpertIndex

    return ExpertIndex.from_store(open_store(path, stamp), run_id)


@page_read
def index(p: Page, run_id: str | None = None):
    """The run's ``ExpertIndex`` (default: the page's run): every stored AP read once; each τ from memory."""
    return _index(p.path, p.stamp, run_id or p.run_id)


@st.cache_data(show_spinner=False, max_entries=256)
def _read(path: str, stamp: tuple, method: str, *args) -> pd.DataFrame:
    """``Store.<method>(*args)`` of the store at ``path``, cached until the store changes."""
    return getattr(open_store(path, stamp), method)(*args)


@page_read
def units(p: Page) -> pd.DataFrame:
    """The unit table of the page's run (layer, module, kind, index, head of every unit)."""
    return _read(p.path, p.stamp, "units", p.run_id)


@page_read
def concept_ap(p: Page, concept: str) -> pd.DataFrame:
    """A concept's experts at the page's τ (fold 0) with their APs: its stored APs are read once (cached), and
    each τ is a filter in memory (``ap > τ`` in double precision, as the store's query compares)."""
    stored = _read(p.path, p.stamp, "ap", p.run_id, (concept,), 0, TAU_MIN)
    return stored[stored["ap"].astype("float64") > p.tau].reset_index(drop=True)


@page_read
def sentences(p: Page, concept: str) -> pd.DataFrame:
    return _read(p.path, p.stamp, "sentences", (concept,))


@page_read
def results(p: Page) -> pd.DataFrame:
    """The (concept, fold) results of the page's run (set sizes, best and mean AP)."""
    return _read(p.path, p.stamp, "results", p.run_id)


@st.cache_data(show_spinner=False, max_entries=16)
def _domain_list(path: str, mtime: float) -> dict[str, str]:
    from core.text.concepts import read_domains

    return read_domains(path)


def domain_list(p: Page) -> dict[str, str]:
    """``{concept: domain}`` of the configured domain list (``ConceptFileError`` when unreadable)."""
    return _domain_list(p.settings.domains, _mtime(p.settings.domains))


@st.cache_data(show_spinner=False, max_entries=16)
def benchmark_pairs(path: str, mtime: float) -> pd.DataFrame:
    from core.text.benchmarks import read_pairs

    return read_pairs(path)


# -- which run a page opens on -------------------------------------------------------------------
@page_read
def preference(need: str | None, p: Page) -> dict[str, float] | None:
    """``{run_id: score}`` for the run a page needs when a model and revision have several runs.

    ``need``: "benchmark" (most pairs of the first benchmark covered), "domains" (most concepts of the domain
    list), "folds" (most folds), or None (most results).
    """
    if need is None:
        return None
    c = contents(p.path, p.stamp)
    if need == "folds":
        return run_policy.fold_preference(c)
    cfg = p.settings
    try:
        if need == "domains":
            return run_policy.concept_coverage(c, domain_list(p))
        if need == "benchmark" and cfg.benchmarks:
            bench = cfg.benchmarks[0][1]
            return run_policy.pair_coverage(c, benchmark_pairs(bench, _mtime(bench)))
    except (ValueError, OSError):  # an unreadable list or benchmark: the page itself says so
        return None
    if need == "benchmark":  # no file: the pairs each run covered when its snapshot was taken
        return snapshot_coverage(p, None)
    return None


@page_read
def snapshot_coverage(p: Page, name: str | None) -> dict[str, float]:
    """``{run_id: pairs scored by experts}`` from the store's alignment snapshot (first benchmark if no name)."""
    t = _snapshot(p.path, p.stamp, name, TAU_MIN)
    if t.empty:
        return {}
    t = t[(t["benchmark"] == (name or t["benchmark"].iloc[0])) & (t["method"] == "experts")]
    return {str(r): float(n) for r, n in zip(t["run_id"], t["n_pairs"])}


@page_read
def coverage(p: Page, bench_path: str | None, name: str | None = None) -> dict[str, float]:
    """Pairs of a benchmark each run covers, with the run picked by hand (if any) put first.

    ``bench_path`` None: the coverage recorded in the store's snapshot of benchmark ``name``.
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


@page_read
def alignment(
    p: Page,
    bench: str | None,
    run_ids: Sequence[str],
    n_boot: int = N_BOOT,
    name: str | None = None,
    methods: Sequence[str] | None = None,
) -> pd.DataFrame:
    """``core.analysis.alignment.alignment_table`` of runs on a benchmark file at the page's τ (cached), scoring
    ``methods`` (default: ``measures.alignment_methods()``).

    With no file (``bench`` None), the store's snapshot of benchmark ``name`` at this τ is read instead (a measure
    the snapshot lacks has no rows).
    """
    methods = tuple(alignment_methods() if methods is None else methods)
    if bench is None:
        t = _snapshot(p.path, p.stamp, name, p.tau)
        t = t[t["run_id"].isin(list(run_ids)) & t["method"].isin(methods)]
        t = t.drop(columns=["benchmark", "n_boot"])
        order = {m: i for i, m in enumerate(methods)}  # the order alignment_table gives
        rank = t["run_id"].map({r: i for i, r in enumerate(run_ids)}) * 10 + t["method"].map(order).fillna(9)
        return t.assign(_o=rank).sort_values("_o", kind="stable").drop(columns="_o").reset_index(drop=True)
    return _alignment(p.path, p.stamp, bench, _mtime(bench), tuple(run_ids), p.tau, n_boot, methods)


@st.cache_data(show_spinner=False, max_entries=64)
def _where(path: str, stamp: tuple, run_id: str, bench: str, bench_mtime: float, tau: float) -> tuple:
    from core.analysis.layers import alignment_by_layer

    idx, table = _index(path, stamp, run_id), _read(path, stamp, "units", run_id)
    pairs = benchmark_pairs(bench, bench_mtime)
    return tuple(locked(alignment_by_layer, idx, table, pairs, tau, by=by) for by in ("layer", "kind"))


@page_read
def where(p: Page, bench: str | None, name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """ρ from one layer and one module kind at a time, for the page's run (live, or from the snapshot)."""
    if bench is None:
        from core.analysis.layers import groups_from_rows

        t = _snapshot(p.path, p.stamp, name, p.tau)
        t = t[t["run_id"] == p.run_id]
        return groups_from_rows(t, "layer"), groups_from_rows(t, "kind")
    return _where(p.path, p.stamp, p.run_id, bench, _mtime(bench), p.tau)


@st.cache_data(show_spinner=False, max_entries=32)
def _series_layers(path: str, stamp: tuple, run_ids: tuple, bench: str, bench_mtime: float, tau: float):
    from core.analysis.layers import group_alignment_rows

    pairs = benchmark_pairs(bench, bench_mtime)
    return group_alignment_rows(open_store(path, stamp), list(run_ids), pairs, (tau,), by="layer")


@page_read
def series(p: Page, bench: str | None, name: str) -> dict[str, pd.DataFrame]:
    """Where × when of the store's checkpoint series at the page's τ: ``{model: layers × steps}`` of ρ.

    Live from the benchmark file, or from the store's alignment snapshot when there is none.
    """
    from core.analysis.series import series_models, where_when

    frame = runs_frame(run_policy.with_results(p.runs))
    ids = tuple(frame[frame["model"].isin(series_models(frame))]["run_id"]) if len(frame) else ()
    if not ids:
        return {}
    if bench is None:
        rows = _snapshot(p.path, p.stamp, name, p.tau)
    else:
        rows = _series_layers(p.path, p.stamp, ids, bench, _mtime(bench), p.tau)
    return where_when(rows[rows["run_id"].isin(ids)], frame) if len(rows) else {}


@st.cache_data(show_spinner=False, max_entries=16)
def _training_log(path: str, stamp: tuple) -> pd.DataFrame:
    return open_store(path, stamp).training_log()


@page_read
def training_log(p: Page) -> pd.DataFrame:
    """Training logs of the store's checkpoint series (step, tokens, loss, held-out loss per model)."""
    return _training_log(p.path, p.stamp)


@page_read
def same_weights(p: Page) -> dict[str, str]:
    """``{run_id: revision}`` of checkpoints whose weights equal those of the checkpoint before them."""
    from core.model.checkpoints import identical_neighbours

    return identical_neighbours(runs_frame(p.runs))


@st.cache_resource(show_spinner=False, max_entries=8)
def _snapshots(path: str, stamp: tuple) -> pd.DataFrame:
    """Every stored alignment snapshot row (all benchmarks and τ), read once per store version; never mutated."""
    t = open_store(path, stamp).alignment_snapshot(None, None)
    return t.assign(_tau=t["tau"].astype(float).round(2))


@st.cache_data(show_spinner=False, max_entries=128)
def _snapshot(path: str, stamp: tuple, name: str | None, tau: float | None) -> pd.DataFrame:
    """The snapshot rows of benchmark ``name`` (None: all) at ``tau`` (None: all), filtered in memory: a new τ
    costs no store read."""
    t = _snapshots(path, stamp)
    keep = pd.Series(True, index=t.index)
    if name is not None:
        keep &= t["benchmark"] == name
    if tau is not None:
        keep &= t["_tau"] == round(float(tau), 2)
    return t[keep].drop(columns="_tau").reset_index(drop=True)


@page_read
def snapshot_meta(p: Page, name: str) -> pd.DataFrame:
    """The snapshot rows of benchmark ``name`` at the page's τ, with how they were computed."""
    return _snapshot(p.path, p.stamp, name, p.tau)


@page_read
def benchmarks(p: Page) -> list[tuple[str, str | None]]:
    """Benchmarks to show: files on disk, then those only the store's snapshots hold (path None)."""
    live: list[tuple[str, str | None]] = list(p.settings.benchmarks)
    if p.store is None:
        return live
    names = {n for n, _ in live}
    kept = [n for n in dict.fromkeys(_snapshot(p.path, p.stamp, None, TAU_MIN)["benchmark"]) if n not in names]
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
