"""Packs written in one piece (``write_pack``) are the packs ``pack_parts`` writes from the same parts."""

import os

import pandas as pd

from core.storage.manifests import read_manifest
from core.storage.packs import pack_parts, write_pack
from core.storage.parts import PartError, part_files, read_part, read_results
from core.storage.store import Store
from tests.synthetic import make_store


def test_write_pack_equals_packing_the_same_parts(tmp_path):
    src, (run_id,) = make_store(str(tmp_path / "a.duckdb"), folds=2)
    singles = [p for _, p in part_files(src.parts_dir, run_id)]
    results = []
    for path in singles:
        meta, rows = read_part(path)
        results.append((meta, rows["unit"].to_numpy(), rows["ap"].to_numpy()))
    written = write_pack(str(tmp_path / "elsewhere"), run_id, results[::-1])  # any order: the pack is sorted
    packed = pack_parts(src.parts_dir, run_id)
    assert os.path.basename(written) == os.path.basename(packed)
    (m1, r1), (m2, r2) = read_results(written), read_results(packed)
    assert m1 == m2
    pd.testing.assert_frame_equal(r1, r2)

    fresh = Store(str(tmp_path / "b.duckdb"), parts_dir=str(tmp_path / "elsewhere"))
    manifest = read_manifest(src.parts_dir, run_id)  # the run's row and unit table, as a grid would ship them
    assert manifest is not None and fresh.ingest(written, manifest) and not fresh.ingest(written)
    pd.testing.assert_frame_equal(fresh.ap(run_id, fold=None), src.ap(run_id, fold=None))


def test_a_written_pack_changed_afterwards_is_refused(tmp_path):
    src, (run_id,) = make_store(str(tmp_path / "a.duckdb"), folds=1)
    meta, rows = read_part(part_files(src.parts_dir, run_id)[0][1])
    path = write_pack(str(tmp_path / "p"), run_id, [(meta, rows["unit"].to_numpy(), rows["ap"].to_numpy())])
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    ap = table.column("ap").to_pylist()
    ap[0] = 0.99
    pq.write_table(table.set_column(table.schema.get_field_index("ap"), "ap", [ap]), path)
    try:
        read_results(path)
    except PartError as e:
        assert "fails its checksum" in str(e)
    else:
        raise AssertionError("a changed pack was read")
