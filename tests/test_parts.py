"""Result parts: packing a finished run into one file keeps every result, and the store ingests packs."""

import os

import numpy as np
import pandas as pd

from core.cli import main
from core.parts import pack_parts, part_files, read_metas
from core.store import Store
from tests.synthetic import make_store


def _results(store: Store, run_id: str) -> pd.DataFrame:
    return store.results(run_id).drop(columns="finished_at").sort_values(["concept", "fold"], ignore_index=True)


def test_packed_run_ingests_to_the_same_results(tmp_path):
    src, (run_id,) = make_store(str(tmp_path / "a.duckdb"), folds=2)
    parts = src.parts_dir
    before = sum(os.path.getsize(p) for _, p in part_files(parts, run_id))
    path = pack_parts(parts, run_id)
    assert part_files(parts, run_id) == [(os.path.basename(path), path)] and not os.path.isdir(f"{parts}/{run_id}")
    assert os.path.getsize(path) < before / 3
    assert len(read_metas(path)) == 16  # 8 concepts x 2 folds
    assert src.pending_parts(run_id) == []  # everything in it is stored already

    fresh = Store(str(tmp_path / "b.duckdb"), parts_dir=parts)
    assert fresh.pending_parts() == [path]
    assert fresh.ingest(path) and not fresh.ingest(path)
    pd.testing.assert_frame_equal(fresh.ap(run_id, fold=None), src.ap(run_id, fold=None))
    pd.testing.assert_frame_equal(_results(fresh, run_id), _results(src, run_id))
    for kind in ("word", "sentence"):
        a, b = fresh.vectors(run_id, kind), src.vectors(run_id, kind)
        assert a.keys() == b.keys() and all(np.allclose(a[c], b[c], atol=1e-6) for c in a)
    assert fresh.pending_parts() == []


def test_pack_merges_later_parts_and_the_cli_packs_finished_runs_only(tmp_path, capsys):
    store, (run_id,) = make_store(str(tmp_path / "a.duckdb"), folds=1)
    parts = store.parts_dir
    singles = [p for _, p in part_files(parts, run_id)]
    keep = {p: open(p, "rb").read() for p in singles[:3]}
    pack_parts(parts, run_id)
    for p, data in keep.items():  # parts written again after a first pack (a resumed run)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        open(p, "wb").write(data)
    path = pack_parts(parts, run_id)
    assert len(read_metas(path)) == 8
    store.add_run({"run_id": "unfinished", "model": "m", "config": store.run(run_id).config.replace("cat", "cat2")})
    assert main(["--store", store.path, "pack", "--parts", parts]) == 0
    out = capsys.readouterr().out
    assert "run unfinished: not finished" in out and f"run {run_id}: packed" not in out  # nothing left to pack
    assert main(["--store", store.path, "pack", "--run", "nope"]) == 2
