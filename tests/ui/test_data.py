"""``ui.data.IndexCache``: expert indexes shared by sessions, bounded by the stored AP rows they hold."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

pytest.importorskip("streamlit")

from ui.data import IndexCache  # noqa: E402


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
