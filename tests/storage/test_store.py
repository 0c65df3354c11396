import os

import duckdb
import numpy as np
import pandas as pd
import pytest

from core.config import DatasetConfig, ModelSpec, RunConfig
from core.storage.parts import part_path, write_part
from core.storage.store import SCHEMA_VERSION, Store, StoreError
from tests.synthetic import unit_frame


def meta(concept="cat", fold=0, run_id="r1"):
    return {
        "run_id": run_id,
        "concept": concept,
        "fold": fold,
        "n_pos": 4,
        "n_neg": 8,
        "n_units": 10,
        "n_stored": 3,
        "ap_floor": 0.5,
        "max_ap": 0.9,
        "mean_ap": 0.3,
        "vectors": {"word": [1.0, 2.0]},
    }


def test_ingest_is_atomic_and_idempotent(tmp_path):
    store = Store(str(tmp_path / "s.duckdb"))
    cfg = RunConfig(ModelSpec("m"), DatasetConfig(("cat", "dog"), n_pos=4, n_neg=8))
    units = unit_frame(1, 12)[:10]  # the run's 10 units: a part is range-checked against them
    store.add_run({"run_id": "r1", "model": "m", "n_units": 10, "unit_table": "t", "config": cfg.to_json()}, units)
    part = write_part(
        part_path(store.parts_dir, "r1", "cat", 0), meta(), np.array([1, 4, 7]), np.array([0.55, 0.7, 0.9])
    )
    assert store.pending_parts() == [part]
    assert store.ingest(part) is True
    assert store.ingest(part) is False  # a second ingest adds nothing
    assert store.pending_parts() == []
    assert store.ap("r1", above=0.6)["unit"].tolist() == [4, 7]
    assert store.done("r1") == {("cat", 0)}
    assert store.vectors("r1", "word")["cat"].tolist() == [1.0, 2.0]
    assert not any(f.endswith(".tmp") or ".tmp" in f for f in os.listdir(os.path.dirname(part)))


def test_sentences_dedupe_and_count(tmp_path):
    store = Store(str(tmp_path / "s.duckdb"))
    assert store.add_sentences("cat", ["A cat sat.", "A cat sat.", "Two cats ran."], "t") == 2
    assert store.add_sentences("cat", ["A cat sat.", "A cat ate."], "t") == 1
    assert store.concepts().set_index("concept")["n_sentences"].to_dict() == {"cat": 3}


def test_newer_schema_is_refused(tmp_path):
    path = str(tmp_path / "s.duckdb")
    Store(path)
    con = duckdb.connect(path)
    con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", [str(SCHEMA_VERSION + 1)])
    con.close()
    for read_only in (False, True):
        with pytest.raises(StoreError, match="newer than this code"):
            Store(path, read_only=read_only)


def test_corrupt_file_is_refused_and_left_alone(tmp_path):
    path = tmp_path / "s.duckdb"
    path.write_bytes(b"this is not a database" * 100)
    before = path.read_bytes()
    with pytest.raises(StoreError, match="cannot be opened"):
        Store(str(path))
    assert path.read_bytes() == before


def test_foreign_duckdb_file_is_refused(tmp_path):
    path = str(tmp_path / "other.duckdb")
    con = duckdb.connect(path)
    con.execute("CREATE TABLE customers(id INTEGER)")
    con.close()
    with pytest.raises(StoreError, match="not an expert store"):
        Store(path)


def test_read_only_store(tmp_path):
    with pytest.raises(StoreError, match="no store"):
        Store(str(tmp_path / "missing.duckdb"), read_only=True)
    Store(str(tmp_path / "s.duckdb"))
    ro = Store(str(tmp_path / "s.duckdb"), read_only=True)
    with pytest.raises(StoreError, match="read-only"):
        ro.add_sentences("cat", ["A cat sat."], "t")


def test_alignment_snapshot_round_trip_and_older_stores(tmp_path):
    import pandas as pd

    store = Store(str(tmp_path / "s.duckdb"))
    store.add_run({"run_id": "r1", "model": "m", "revision": "step5", "step": 5})
    rows = pd.DataFrame(
        {
            "run_id": ["r1"] * 4,
            "method": ["experts", "word_embedding"] * 2,
            "tau": [0.5, 0.5, 0.7000000001, 0.7],
            "rho": [0.6, 0.3, 0.5, 0.3],
            "ci_low": [0.5, 0.2, 0.4, 0.2],
            "ci_high": [0.7, 0.4, 0.6, 0.4],
            "p_value": [1e-5, 0.01, 1e-4, 0.01],
            "p_vs_experts": [None, 0.02, None, 0.1],
            "n_pairs": [100, 100, 100, 100],
            "n_missing": [900] * 4,
        }
    )
    assert store.save_alignment_snapshot("MEN test", rows, n_boot=1000) == 4
    assert store.save_alignment_snapshot("MEN test", rows.iloc[:1].assign(rho=0.65), n_boot=1000) == 1  # replaces
    got = Store(store.path, read_only=True).alignment_snapshot("MEN test", tau=0.7)
    assert got["rho"].tolist() == [0.5, 0.3] and set(got["step"]) == {5} and set(got["n_boot"]) == {1000}
    assert store.alignment_snapshot(tau=0.5)["rho"].tolist() == [0.65, 0.3]
    assert store.alignment_snapshot("SimLex").empty
    store.save_alignment_snapshot("A list", rows.iloc[:1], n_boot=10)
    assert store.alignment_benchmarks() == ["A list", "MEN test"]

    old = str(tmp_path / "old.duckdb")  # a store from before snapshots existed
    con = duckdb.connect(old)
    con.execute("CREATE TABLE meta(key VARCHAR PRIMARY KEY, value VARCHAR)")
    con.execute("INSERT INTO meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)])
    con.close()
    assert Store(old, read_only=True).alignment_snapshot().empty
    assert Store(old, read_only=True).alignment_benchmarks() == []


def test_counts_name_concepts_with_sentences_apart_from_listed_ones(tmp_path):
    """Home shows "Concepts with sentences" beside "Sentences": both count stored sentence texts."""
    from tests.synthetic import make_store

    store, _ = make_store(str(tmp_path / "with.duckdb"))
    c = store.counts()
    assert c["concepts_with_sentences"] == 8 and c["sentences"] == 48
    bare, _ = make_store(str(tmp_path / "bare.duckdb"), sentences=False)
    c = bare.counts()
    assert c["concepts_with_sentences"] == 0 and c["sentences"] == 0 and c["concepts_done"] == 8


def snapshot_rows(run_id: str, rho: float, taus=(0.5, 0.7)) -> pd.DataFrame:
    """Alignment rows of one run: experts and a layer's row at each τ."""
    n = 2 * len(taus)
    return pd.DataFrame(
        {
            "run_id": [run_id] * n,
            "method": ["experts", "layer:0"] * len(taus),
            "tau": [t for t in taus for _ in range(2)],
            "rho": [rho] * n,
            **{c: [0.1] * n for c in ("ci_low", "ci_high", "p_value", "p_vs_experts")},
            "n_pairs": [100] * n,
            "n_missing": [0] * n,
        }
    )


def test_summaries_are_found_by_the_hash_of_their_pairs(tmp_path):
    store = Store(str(tmp_path / "s.duckdb"))
    store.add_run({"run_id": "r1", "model": "m", "revision": "step5", "step": 5})
    store.save_alignment_snapshot("MEN test", snapshot_rows("r1", 0.5), 100, benchmark_hash="h1", n_results={"r1": 7})
    store.save_alignment_snapshot("men copy", snapshot_rows("r1", 0.6, (0.7,)), 300, "h1", {"r1": 8})  # newer
    got = store.alignment_snapshot(benchmark_hash="h1", tau=0.7)
    assert len(got) == 2 and got["rho"].tolist() == [0.6, 0.6] and set(got["n_results"]) == {8}  # one per key
    assert store.alignment_snapshot(benchmark_hash="h2").empty
    assert (
        len(store.alignment_snapshot("MEN test")) == 4 and store.alignment_snapshot("MEN test")["n_boot"].max() == 100
    )
    status = store.summary_status("h1").set_index(["tau", "n_results"])
    assert sorted(status.loc[(0.5, 7), "kinds"]) == ["experts", "layer:"] and status.loc[(0.7, 8), "n_boot"] == 300


def test_a_store_from_before_summaries_reads_and_gains_the_columns(tmp_path):
    path = str(tmp_path / "old.duckdb")
    store = Store(path)
    store.add_run({"run_id": "r1", "model": "m", "revision": "step5", "step": 5})
    store.save_alignment_snapshot("MEN test", snapshot_rows("r1", 0.5), 1000)
    con = duckdb.connect(path)  # the columns dropped again: a store written before summaries existed
    con.execute("ALTER TABLE alignment_snapshots DROP COLUMN benchmark_hash")
    con.execute("ALTER TABLE alignment_snapshots DROP COLUMN n_results")
    con.close()
    old = Store(path, read_only=True)
    rows = old.alignment_snapshot("MEN test", tau=0.5)
    assert rows["rho"].tolist() == [0.5, 0.5] and rows["benchmark_hash"].isna().all()
    assert old.alignment_snapshot(benchmark_hash="h1").empty
    Store(path).save_alignment_snapshot("MEN test", snapshot_rows("r1", 0.9, (0.9,)), 100, "h1", {"r1": 3})
    assert Store(path, read_only=True).alignment_snapshot(benchmark_hash="h1")["rho"].tolist() == [0.9, 0.9]
    assert Store(path, read_only=True).alignment_snapshot("MEN test", tau=0.5)["rho"].tolist() == [0.5, 0.5]


def test_units_of_some_units_are_those_rows_of_the_whole_table(synth):
    store, run_ids, _ = synth
    whole = store.units(run_ids[0])
    some = [int(u) for u in whole["unit"].iloc[[7, 2, 40]]] + [10**9]  # any order; an id no unit has
    pd.testing.assert_frame_equal(
        store.units(run_ids[0], some), whole[whole["unit"].isin(some)].reset_index(drop=True), check_dtype=False
    )
    assert store.units(run_ids[0], []).empty and list(store.units(run_ids[0], [])) == list(whole)


def test_units_of_some_columns_and_an_unknown_column(synth):
    store, run_ids, _ = synth
    whole = store.units(run_ids[0])
    pd.testing.assert_frame_equal(store.units(run_ids[0], columns=("layer", "kind")), whole[["unit", "layer", "kind"]])
    with pytest.raises(ValueError, match="no unit column 'depth'"):
        store.units(run_ids[0], columns=("depth",))
