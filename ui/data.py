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
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

import pandas as pd
import streamlit as st

from core.analysis import run_choice as run_policy
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


INDEX_ROWS = 12_000_000  # stored AP rows the shared expert indexes may hold together (see ``IndexCache``)


class IndexCache:
    """``ExpertIndex``es shared by every session, bounded by the AP rows they hold together (``max_rows``).

    Least recently used first out once over the bound; the one just read always stays. A count of entries cannot
    bound memory here: a tiny model's index holds thousands of rows, a Pythia-12b-sized one ≈ 3.4M, which
    ``bench/bench_index_memory.py`` measured at ≈ 120 MB as read and ≈ 220 MB with the 16 per-τ matrices it keeps
    (≈ 70 bytes a row): 12M rows is three or four such runs, ≈ 0.8 GB, or every run of a store of small ones.
    Keyed by the store file's identity and the run's results count and update time, not the store's stamp:
    summaries a page writes leave the indexes valid, while an extraction adding results makes the run's index be
    read again.
    """

    def __init__(self, max_rows: int = INDEX_ROWS):
        self.max_rows = max_rows
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()  # held while loading: two sessions never read the same run twice at once

    def get(self, key: tuple, load: Callable):
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
            index = self._items[key] = load()
            while len(self._items) > 1 and sum(i.n_rows for i in self._items.values()) > self.max_rows:
                self._items.popitem(last=False)
            return index

    def has(self, key: tuple) -> bool:
        with self._lock:
            return key in self._items

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


INDEXES = IndexCache()


@st.cache_resource(show_spinner=False, max_entries=32)
def _run_versions(path: str, stamp: tuple) -> dict[str, tuple]:
    """``{run_id: (results count, updated_at)}``: what a run's stored APs depend on (shared, never mutated: no copy
    per call, which hundreds of index lookups would pay)."""
    return {r.run_id: (r.n_results, str(r.updated_at)) for r in runs(path, stamp)}


def _index_key(path: str, stamp: tuple, run_id: str) -> tuple:
    file = os.stat(path)
    return (os.path.abspath(path), file.st_dev, file.st_ino, run_id, _run_versions(path, stamp).get(run_id))


def _index(path: str, stamp: tuple, run_id: str):
    """The run's ``ExpertIndex`` from ``INDEXES`` (read from the store when it is not there or the run changed)."""
    from core.experts.index import ExpertIndex

    load = lambda: ExpertIndex.from_store(open_store(path, stamp), run_id)  # noqa: E731
    return INDEXES.get(_index_key(path, stamp, run_id), load)


@st.cache_resource(show_spinner=False, max_entries=4)
def _units_of(path: str, dev: int, ino: int, run_id: str, version: tuple | None, _stamp: tuple) -> pd.DataFrame:
    return open_store(path, _stamp).units(run_id)


def _unit_table(path: str, stamp: tuple, run_id: str) -> pd.DataFrame:
    """A run's unit table, shared (never mutated) and keyed like its index: a store that only gained summaries
    does not read it again (a Pythia-12b-sized one is 1.66M rows)."""
    where, dev, ino, rid, version = _index_key(path, stamp, run_id)
    return _units_of(where, dev, ino, rid, version, stamp)


@page_read
def index(p: Page, run_id: str | None = None):
    """The run's ``ExpertIndex`` (default: the page's run): every stored AP read once; each τ from memory."""
    rid = run_id or p.run_id
    if INDEXES.has(_index_key(p.path, p.stamp, rid)):
        return _index(p.path, p.stamp, rid)
    with st.spinner("Reading the run's stored APs…"):
        return _index(p.path, p.stamp, rid)


@st.cache_data(show_spinner=False, max_entries=256)
def _read(path: str, stamp: tuple, method: str, *args) -> pd.DataFrame:
    """``Store.<method>(*args)`` of the store at ``path``, cached until the store changes."""
    return getattr(open_store(path, stamp), method)(*args)


@page_read
def units(p: Page, ids: Iterable[int] | None = None) -> pd.DataFrame:
    """The unit table of the page's run (layer, module, kind, index, head), of every unit or only of ``ids``."""
    if ids is None:
        return _read(p.path, p.stamp, "units", p.run_id)
    return _read(p.path, p.stamp, "units", p.run_id, tuple(sorted({int(u) for u in ids})))


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
        from .alignment_data import snapshot_coverage

        return snapshot_coverage(p, None)
    return None


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
