"""Result parts: packing keeps every result; parts are checksummed, refused by name when damaged, and enough to
rebuild a store on their own."""

import json
import os
import shutil

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from core.cli.parser import main
from core.extraction.extract import extract
from core.storage.packs import pack_parts
from core.storage.parts import (
    META_KEY,
    PACK_CHECKSUM_KEY,
    PACK_SUFFIX,
    PartError,
    check_pack,
    part_files,
    read_metas,
    read_part,
    write_part,
)
from core.storage.store import Store
from tests.extraction.test_extract import config, fill_store
from tests.synthetic import make_store
from tests.tiny import save_tiny_model


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
    assert fresh.ingest_pending() == 1 and not fresh.ingest(path)  # the run comes from its manifest
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


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    """A store with one finished run of a tiny model (4 concepts x 2 folds) and its parts folder."""
    root = tmp_path_factory.mktemp("parts")
    model = save_tiny_model(str(root / "m"))
    store = fill_store(str(root / "s.duckdb"))
    extract(store, config(model), show_progress=False)
    return store


def part_list(store):
    return [path for _, path in part_files(store.parts_dir)]


def test_parts_carry_a_checksum_and_read_back(extracted):
    for path in part_list(extracted):
        meta, rows = read_part(path)
        assert len(meta["checksum"]) == 64 and len(rows) == meta["n_stored"]


def test_a_flipped_bit_is_refused_by_name_or_changes_nothing(extracted, tmp_path):
    """Every 7th byte of a part, one bit flipped: either refused naming the file, or read back identical."""
    source = part_list(extracted)[0]
    meta, rows = read_part(source)
    data = bytearray(open(source, "rb").read())
    refused = same = 0
    for i in range(0, len(data), 7):
        flipped = bytearray(data)
        flipped[i] ^= 1 << (i % 8)
        path = tmp_path / f"flip{i}.parquet"
        path.write_bytes(bytes(flipped))
        try:
            got_meta, got_rows = read_part(str(path))
        except PartError as e:
            assert str(path) in str(e) and "\n" not in str(e)
            refused += 1
        else:
            assert got_meta == meta
            pd.testing.assert_frame_equal(got_rows, rows)
            same += 1
    assert refused > 0.5 * (refused + same), (refused, same)  # most bytes matter; none slips through


def test_ingest_sets_a_bad_part_aside_and_ingests_the_rest(extracted, tmp_path, capsys):
    parts = tmp_path / "parts"
    shutil.copytree(extracted.parts_dir, parts)
    paths = part_list(Store(str(tmp_path / "x.duckdb"), parts_dir=str(parts)))
    bad = paths[1]
    data = bytearray(open(bad, "rb").read())
    data[len(data) // 3] ^= 0x10  # inside the data pages
    open(bad, "wb").write(bytes(data))
    truncated = paths[2]
    head = open(truncated, "rb").read()[:200]  # read before opening for writing, which empties the file
    open(truncated, "wb").write(head)
    store = str(tmp_path / "new.duckdb")
    fill_store(store)  # the same sentences, no results yet
    code = main(["--store", store, "ingest", "--parts", str(parts)])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: part ") and "(and 1 more)" in lines[0], err
    assert bad in lines[0] or truncated in lines[0]
    assert sorted(os.listdir(parts / "_refused" / os.path.basename(os.path.dirname(bad)))) == sorted(
        [os.path.basename(bad), os.path.basename(truncated)]
    )
    assert len(Store(store, read_only=True).results()) == len(paths) - 2
    # a rerun of the extraction recomputes exactly the two concepts set aside
    rerun = Store(store, parts_dir=str(parts))
    model_dir = os.path.join(os.path.dirname(extracted.path), "m")
    s = extract(rerun, config(model_dir), show_progress=False)
    assert s.computed == 2 and len(rerun.results()) == len(paths)


def test_a_part_without_a_checksum_is_refused_unless_it_is_a_committed_legacy_one(tmp_path):
    """Parts written before checksums existed (results/parts) are legacy only if byte for byte the committed ones."""
    path = str(tmp_path / "parts" / "r1" / "cat__f0.parquet")
    meta = {"run_id": "r1", "concept": "cat", "fold": 0, "n_pos": 5, "n_neg": 9, "n_units": 10, "n_stored": 2,
            "ap_floor": 0.5, "max_ap": 0.9, "mean_ap": 0.5, "vectors": {}}  # fmt: skip
    os.makedirs(os.path.dirname(path))
    table = pa.table({"unit": pa.array([1, 4], pa.int32()), "ap": pa.array([0.6, 0.9], pa.float32())})
    pq.write_table(table.replace_schema_metadata({META_KEY: json.dumps(meta).encode()}), path)
    with pytest.raises(PartError, match="has no checksum and is not a committed legacy part"):
        read_part(path)
    committed = sorted(
        os.path.join(root, f) for root, _, fs in os.walk("results/parts") for f in fs if f.endswith("__f0.parquet")
    )[:3]
    for part in committed:  # the committed parts reproduce_results.sh ingests
        assert "checksum" not in read_part(part)[0]


def test_a_part_without_its_fields_is_refused(tmp_path):
    path = write_part(str(tmp_path / "r" / "a__f0.parquet"), {"run_id": "r"}, np.arange(3), np.array([0.5, 0.7, 1.0]))
    with pytest.raises(PartError, match="lacks concept"):
        read_part(path)


def comparable(path: str) -> dict[str, pd.DataFrame]:
    """What a store shows, without the times at which rows were written."""
    con = duckdb.connect(path, read_only=True)
    try:
        return {
            "runs": con.execute("SELECT * EXCLUDE (created_at, updated_at) FROM runs ORDER BY ALL").df(),
            "units": con.execute("SELECT * FROM units ORDER BY ALL").df(),
            "results": con.execute("SELECT * EXCLUDE (finished_at) FROM results ORDER BY ALL").df(),
            "ap": con.execute("SELECT * FROM ap ORDER BY ALL").df(),
            "vectors": con.execute("SELECT * FROM vectors ORDER BY ALL").df(),
        }
    finally:
        con.close()


def test_a_store_rebuilt_from_its_parts_alone_shows_the_same_runs_and_results(extracted, tmp_path, capsys):
    parts = tmp_path / "parts"
    shutil.copytree(extracted.parts_dir, parts)
    rebuilt = str(tmp_path / "rebuilt.duckdb")
    assert main(["--store", rebuilt, "ingest", "--parts", str(parts)]) == 0
    assert f"{len(part_list(extracted))} parts ingested" in capsys.readouterr().out
    before, after = comparable(extracted.path), comparable(rebuilt)
    assert len(before["runs"]) == 1 and len(before["results"]) == 8
    for name in before:
        pd.testing.assert_frame_equal(before[name], after[name], obj=name)
    assert main(["--store", rebuilt, "runs"]) == 0
    assert before["runs"]["run_id"][0] in capsys.readouterr().out


def test_packs_carry_a_checksum_and_a_flipped_bit_is_refused_by_name(extracted, tmp_path, capsys):
    """A pack is checked as a whole; a damaged one is named and set aside at ingest while the others ingest."""
    parts = tmp_path / "parts"
    shutil.copytree(extracted.parts_dir, parts)
    (run_id,) = [r.run_id for r in extracted.runs()]
    pack = pack_parts(str(parts), run_id)
    assert len(pq.read_schema(pack).metadata[PACK_CHECKSUM_KEY]) == 64
    check_pack(pack)  # intact
    other, (other_id,) = make_store(str(tmp_path / "o.duckdb"), folds=1)  # a second run, packed and intact
    good = pack_parts(other.parts_dir, other_id)
    shutil.copy(good, parts)
    shutil.copytree(os.path.join(other.parts_dir, "_runs"), parts / "_runs", dirs_exist_ok=True)
    data = bytearray(open(pack, "rb").read())
    refused = same = 0
    for i in range(0, len(data), max(1, len(data) // 150)):
        flipped = bytearray(data)
        flipped[i] ^= 1 << (i % 8)
        path = tmp_path / f"flip{i}{PACK_SUFFIX}"
        path.write_bytes(bytes(flipped))
        try:
            check_pack(str(path))
        except PartError as e:
            assert str(path) in str(e) and "\n" not in str(e)
            refused += 1
        else:
            same += 1
    assert refused > 0.5 * (refused + same), (refused, same)

    data[len(data) // 3] ^= 0x10  # inside the data pages
    open(pack, "wb").write(bytes(data))
    store = str(tmp_path / "new.duckdb")
    fill_store(store)
    code = main(["--store", store, "ingest", "--parts", str(parts)])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: pack ") and pack in lines[0], err
    assert os.listdir(parts / "_refused") == [os.path.basename(pack)]
    assert set(Store(store, read_only=True).results()["run_id"]) == {other_id}  # the good pack ingested


def test_a_pack_without_a_checksum_is_refused_unless_it_is_a_committed_legacy_one(tmp_path):
    """Packs written before pack checksums existed (committed under results/) are legacy only if byte for byte."""
    src, (run_id,) = make_store(str(tmp_path / "a.duckdb"), folds=1)
    pack = pack_parts(src.parts_dir, run_id)
    table = pq.read_table(pack)
    legacy = {k: v for k, v in table.schema.metadata.items() if k != PACK_CHECKSUM_KEY}
    pq.write_table(table.replace_schema_metadata(legacy), pack)
    with pytest.raises(PartError, match="has no checksum and is not a committed legacy pack"):
        check_pack(pack)
    for committed in sorted(os.listdir("results/checkpoints/parts"))[:2]:
        if committed.endswith(PACK_SUFFIX):
            check_pack(os.path.join("results/checkpoints/parts", committed))


def test_pack_leaves_a_run_without_a_stored_configuration(tmp_path, capsys):
    store, _ = make_store(str(tmp_path / "a.duckdb"), folds=1)
    store.add_run({"run_id": "bare", "model": "m"})  # a run registered without its settings: nothing says it is done
    assert main(["--store", store.path, "pack", "--run", "bare"]) == 0
    assert "run bare: no stored configuration, left as it is" in capsys.readouterr().out
