"""``StoreReader``: the DuckDB store implements it, and the analyses need nothing beyond it."""

from __future__ import annotations

import pandas as pd
import pytest

from core.analysis.alignment import alignment_table
from core.analysis.layers import alignment_by_layer
from core.analysis.stability import stability_by_size
from core.experts.index import ExpertIndex
from core.storage.reader import StoreReader
from core.text.benchmarks import read_pairs

READS = [name for name in dir(StoreReader) if not name.startswith("_")]


class OnlyTheProtocol:
    """A second backend in miniature: answers exactly the protocol's reads (from a store) and nothing else."""

    def __init__(self, store):
        self._store = store
        self.path = store.path

    def __getattr__(self, name):
        if name not in READS:
            raise AttributeError(f"{name} is not part of StoreReader")
        return getattr(self._store, name)


def test_the_store_is_a_store_reader(synth):
    store, _, _ = synth
    assert isinstance(store, StoreReader)
    assert not isinstance(object(), StoreReader)


def test_the_fake_refuses_what_the_protocol_does_not_offer(synth):
    store, _, _ = synth
    with pytest.raises(AttributeError, match="not part of StoreReader"):
        OnlyTheProtocol(store).ingest  # noqa: B018 - a write is not a read


def test_analyses_run_on_the_protocol_alone(synth):
    store, run_ids, bench = synth
    reader = OnlyTheProtocol(store)
    pairs = read_pairs(bench)
    pd.testing.assert_frame_equal(
        alignment_table(reader, run_ids, pairs, n_boot=50), alignment_table(store, run_ids, pairs, n_boot=50)
    )
    a, b = ExpertIndex.from_store(reader, run_ids[0]), ExpertIndex.from_store(store, run_ids[0])
    assert (a.sizes(0.6) == b.sizes(0.6)).all()
    units = reader.units(run_ids[0])
    pd.testing.assert_frame_equal(alignment_by_layer(a, units, pairs), alignment_by_layer(b, units, pairs))
    pd.testing.assert_frame_equal(
        stability_by_size(reader, run_ids, [0.5, 0.7]), stability_by_size(store, run_ids, [0.5, 0.7])
    )
