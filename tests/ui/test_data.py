"""What pages read from the store, through the dashboard's caches: the same rows the store's own queries give, and
the expert-index cache shared by sessions, bounded by the stored AP rows it holds."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest

from core.storage.paths import store_stamp
from core.storage.store import Store
from ui import data
from ui.data import IndexCache
from ui.page_state import Page
from ui.settings import resolve_settings


@pytest.mark.parametrize("tau", [0.5, 0.51, 0.57, 0.7, 0.83, 0.97])
def test_a_concepts_experts_at_tau_are_the_stores_rows_above_tau(synth, tmp_path, tau):
    """``concept_ap`` filters the concept's stored APs in memory at each τ: exactly the rows the store's
    ``ap > τ`` query returns (float32 APs compared in double precision, as DuckDB compares them)."""
    store, run_ids, _ = synth
    cfg = resolve_settings({}, {}, root=str(tmp_path))
    run = next(r for r in store.runs() if r.run_id == run_ids[0])
    p = Page("explorer", cfg, store.path, store_stamp(store.path), store, store.runs(), run, tau)
    got = data.concept_ap(p, "cat")
    want = Store(store.path, read_only=True).ap(run_ids[0], ["cat"], 0, tau)
    assert len(want) > 0 or tau > 0.9
    pd.testing.assert_frame_equal(got.reset_index(drop=True), want.reset_index(drop=True))


def test_the_index_cache_drops_the_least_recently_used_by_rows_and_keeps_the_newest():
    cache = IndexCache(max_rows=100)
    loads: list[str] = []

    def index(name: str, rows: int):
        def load():
            loads.append(name)
            return SimpleNamespace(n_rows=rows)

        return load

    a = cache.get(("a",), index("a", 40))
    cache.get(("b",), index("b", 40))
    assert cache.get(("a",), index("a", 40)) is a  # a hit: not read again, and now the most recent
    cache.get(("c",), index("c", 40))  # 120 rows: b, the least recently used, goes
    assert cache.has(("a",)) and cache.has(("c",)) and not cache.has(("b",))
    cache.get(("big",), index("big", 500))  # over the bound alone: kept, everything else goes
    assert cache.has(("big",)) and not cache.has(("a",)) and not cache.has(("c",))
    assert loads == ["a", "b", "c", "big"]
