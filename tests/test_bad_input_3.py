"""Bad input, round three (issue 25): no command destroys a store, moves a user's files or lets tampered results in.

``S`` is a store with one finished run ``R`` of the tiny GPT-2; every test works on a copy. Where a command is
refused, the store and its inputs are compared by SHA-256 before and after.
"""

import hashlib
import json
import os
import shutil
import subprocess
import sys
import zlib

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from core.cli.parser import main
from core.extraction.extract import extract
from core.storage.packs import pack_parts
from core.storage.parts import (
    CHECKSUM_KEY,
    META_KEY,
    PACK_CHECKSUM_KEY,
    PACK_KEY,
    PartError,
    check_pack,
    part_files,
    write_part,
)
from core.storage.store import Store
from tests.extraction.test_extract import config, fill_store
from tests.tiny import save_tiny_model

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def sha(path) -> str:
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def tree(folder) -> dict[str, str]:
    """SHA-256 of every file under ``folder``, by relative path."""
    return {
        os.path.relpath(os.path.join(d, f), folder): sha(os.path.join(d, f))
        for d, _, files in os.walk(folder)
        for f in files
    }


@pytest.fixture(scope="module")
def golden(tmp_path_factory):
    """The model folder and a store with one finished run (4 concepts x 2 folds), its parts and scratch."""
    root = tmp_path_factory.mktemp("golden")
    model = save_tiny_model(str(root / "tiny_gpt2"), "gpt2")
    store = fill_store(str(root / "S" / "s.duckdb"))
    summary = extract(store, config(model), show_progress=False)
    store.checkpoint()
    return model, str(root / "S"), summary.run_id


@pytest.fixture
def S(golden, tmp_path):
    """A private copy of the golden store: (store path, run id, model folder)."""
    model, folder, run_id = golden
    shutil.copytree(folder, tmp_path / "S")
    return str(tmp_path / "S" / "s.duckdb"), run_id, model


def refused(capsys, argv, message) -> str:
    capsys.readouterr()
    code = main(argv)
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert code == 2, err
    assert "Traceback" not in err and len(lines) == 1 and lines[-1].startswith("error: "), err
    assert message in lines[-1], err
    return lines[-1]


# -- 1, 2: no command writes over the store it reads, nor over a file without --force --------------------------
@pytest.mark.parametrize(
    "command",
    [["export", "--run", "{run}"], ["analyse", "stability", "--run", "{run}"], ["build-demo"]],
    ids=["export", "analyse", "build-demo"],
)
@pytest.mark.parametrize("through", ["path", "symlink"])
def test_no_command_writes_over_its_store(capsys, S, tmp_path, command, through):
    path, run_id, _ = S
    target = path
    if through == "symlink":
        target = str(tmp_path / "link.duckdb")
        os.symlink(path, target)
    before = tree(os.path.dirname(path))
    argv = ["--store", path, *[a.format(run=run_id) for a in command], "--out", target]
    refused(capsys, argv, "is the store")
    refused(capsys, [*argv, "--force"], "is the store")  # not even with --force
    assert tree(os.path.dirname(path)) == before


@pytest.mark.parametrize("command", [["export", "--run", "{run}"], ["analyse", "stability", "--run", "{run}"]])
def test_an_existing_file_is_replaced_only_with_force(capsys, S, tmp_path, command):
    path, run_id, _ = S
    out = tmp_path / "mine.csv"
    out.write_text("my own numbers\n")
    argv = ["--store", path, *[a.format(run=run_id) for a in command], "--out", str(out)]
    refused(capsys, argv, "exists: pass --force")
    assert out.read_text() == "my own numbers\n"
    assert main([*argv, "--force"]) == 0
    assert out.read_text() != "my own numbers\n"
    assert [p for p in os.listdir(tmp_path) if ".tmp" in p] == []  # written beside it, then renamed


# -- 3: ingest touches only files it recognises as parts ------------------------------------------------------
def test_ingest_leaves_a_users_own_parquet_files_alone(capsys, S, tmp_path):
    path, run_id, _ = S
    parts = os.path.splitext(path)[0] + ".parts"
    own = os.path.join(parts, "project2024", "measurements.parquet")
    os.makedirs(os.path.dirname(own))
    pq.write_table(pa.table({"x": [1.0, 2.0]}), own)
    loose = os.path.join(parts, run_id, "notes.parquet")
    pq.write_table(pa.table({"y": [3]}), loose)
    fresh = str(tmp_path / "fresh.duckdb")
    fill_store(fresh)
    before = tree(parts)
    capsys.readouterr()
    assert main(["--store", fresh, "ingest", "--parts", parts]) == 0, capsys.readouterr().err
    assert "8 parts ingested" in capsys.readouterr().out
    assert tree(parts) == before and not os.path.exists(os.path.join(parts, "_refused"))
    assert main(["--store", path, "pack", "--run", run_id]) == 0  # a foreign file does not block pack either
    assert sha(own) == before["project2024/measurements.parquet"]


# -- 4: tampered packs and parts are refused by name -----------------------------------------------------------
def _tamper_pack(pack: str, key_change: str, value_change: str) -> None:
    table = pq.read_table(pack)
    md = dict(table.schema.metadata)
    metas = json.loads(zlib.decompress(md[PACK_KEY]))
    rows = [i for i, k in enumerate(table.column("kind").to_pylist()) if k is None]  # AP rows (the rest: vectors)
    ap, unit = table.column("ap").to_pylist(), table.column("unit").to_pylist()
    if value_change == "ap 0.99":
        ap = [0.99 if i in set(rows) else a for i, a in enumerate(ap)]
    elif value_change == "ap 2.5":
        ap[rows[0]] = 2.5
    elif value_change == "unit -5":
        unit[rows[0]] = -5
    elif value_change == "unit 999999":
        unit[rows[-1]] = 999_999
    elif value_change == "n_pos 400":
        metas[0]["n_pos"] = 400
    table = table.set_column(table.schema.get_field_index("ap"), "ap", pa.array(ap, pa.float32()))
    table = table.set_column(table.schema.get_field_index("unit"), "unit", pa.array(unit, pa.int32()))
    md[PACK_KEY] = zlib.compress(json.dumps(metas).encode(), 9)
    stored = md.pop(PACK_CHECKSUM_KEY)
    if key_change == "renamed":
        md[PACK_CHECKSUM_KEY[:-1] + b"X"] = stored
    elif key_change == "empty":
        md[PACK_CHECKSUM_KEY] = b""
    pq.write_table(table.replace_schema_metadata(md), pack)


@pytest.mark.parametrize("key_change", ["deleted", "renamed", "empty"])
@pytest.mark.parametrize("value_change", ["ap 0.99", "ap 2.5", "unit -5", "unit 999999", "n_pos 400", "none"])
def test_a_pack_without_its_checksum_is_refused_by_name(capsys, S, tmp_path, key_change, value_change):
    path, run_id, _ = S
    parts = os.path.splitext(path)[0] + ".parts"
    pack = pack_parts(parts, run_id)
    _tamper_pack(pack, key_change, value_change)
    fresh = str(tmp_path / "fresh.duckdb")
    fill_store(fresh)
    before, data = sha(fresh), open(pack, "rb").read()
    line = refused(capsys, ["--store", fresh, "ingest", "--parts", parts], "has no checksum")
    assert pack in line
    assert sha(fresh) == before
    assert open(os.path.join(parts, "_refused", os.path.basename(pack)), "rb").read() == data  # set aside, as it was


PART_CHANGES = {
    "ap 0.99": lambda m, u, a: (m, u, np.full_like(a, 0.99)),
    "ap NaN": lambda m, u, a: (m, u, np.where(np.arange(len(a)) == 0, np.nan, a)),
    "ap 2.5": lambda m, u, a: (m, u, np.where(np.arange(len(a)) == 0, 2.5, a)),
    "unit -5": lambda m, u, a: (m, np.where(np.arange(len(u)) == 0, -5, u), a),
    "unit 999999": lambda m, u, a: (m, np.where(np.arange(len(u)) == len(u) - 1, 999_999, u), a),
    "n_pos 400": lambda m, u, a: ({**m, "n_pos": 400}, u, a),
    "concept not in run": lambda m, u, a: ({**m, "concept": "zebra"}, u, a),
    "fold not in run": lambda m, u, a: ({**m, "fold": 7}, u, a),
}


@pytest.mark.parametrize("checksum", ["removed", "recomputed"])
@pytest.mark.parametrize("change", list(PART_CHANGES))
def test_a_part_with_changed_values_is_refused_by_name(capsys, S, tmp_path, change, checksum):
    """With both checksums removed (not a legacy part), or rewritten with a valid checksum (out of range)."""
    path, run_id, _ = S
    parts = os.path.splitext(path)[0] + ".parts"
    (_, part), *_ = part_files(parts, run_id)
    table = pq.read_table(part)
    meta = json.loads(table.schema.metadata[META_KEY])
    meta.pop("checksum")
    meta, units, ap = PART_CHANGES[change](meta, table["unit"].to_numpy(), table["ap"].to_numpy())
    os.remove(part)
    part = os.path.join(parts, run_id, f"{meta['concept']}__f{meta['fold']}.parquet")
    if checksum == "recomputed":
        write_part(part, meta, units, ap)
        message = "does not fit run"
    else:
        t = pa.table({"unit": pa.array(units, pa.int32()), "ap": pa.array(ap, pa.float32())})
        pq.write_table(t.replace_schema_metadata({META_KEY: json.dumps(meta).encode()}), part)
        assert CHECKSUM_KEY not in pq.read_schema(part).metadata
        message = "has no checksum"
    fresh = str(tmp_path / "fresh.duckdb")
    fill_store(fresh)
    before = sha(fresh)
    line = refused(capsys, ["--store", fresh, "ingest", "--parts", parts], message)
    assert part in line and "(and" not in line  # only that part; the other 7 ingest
    assert len(Store(fresh, read_only=True).results()) == 7
    Store(fresh).query("SELECT 1")  # readable
    assert before != sha(fresh)  # the 7 good parts went in ...
    assert not Store(fresh, read_only=True).results().query("concept == 'zebra' or fold == 7").shape[0]


def test_every_committed_legacy_file_is_listed_and_ingests(tmp_path, capsys):
    """The committed packs, parts and manifests (no checksums) are exactly the SHA-256 list, and still ingest."""
    listed = {}
    for line in open(os.path.join(ROOT, "core", "storage", "legacy.sha256")).read().splitlines():
        digest, name = line.split()
        listed[name] = digest
    on_disk = {
        os.path.relpath(os.path.join(d, f), ROOT)
        for top in ("results/parts", "results/checkpoints/parts")
        for d, _, files in os.walk(os.path.join(ROOT, top))
        for f in files
        if f.endswith(".parquet")
    }
    assert set(listed) == on_disk
    assert all(sha(os.path.join(ROOT, n)) == d for n, d in listed.items())
    parts = tmp_path / "parts"
    shutil.copytree(os.path.join(ROOT, "results", "checkpoints", "parts"), parts)
    store = str(tmp_path / "s.duckdb")
    assert main(["--store", store, "ingest", "--parts", str(parts)]) == 0, capsys.readouterr().err
    assert "33 parts ingested" in capsys.readouterr().out
    assert tree(parts) == tree(os.path.join(ROOT, "results", "checkpoints", "parts"))


# -- 5, 7: run manifests --------------------------------------------------------------------------------------
def test_an_edited_run_manifest_is_refused_by_name(capsys, S, tmp_path):
    path, run_id, _ = S
    parts = os.path.splitext(path)[0] + ".parts"
    manifest = os.path.join(parts, "_runs", f"{run_id}.parquet")
    table = pq.read_table(manifest)
    md = dict(table.schema.metadata)
    row = json.loads(md[b"expert_run"])
    row["model"] = "EleutherAI/pythia-12b"
    md[b"expert_run"] = json.dumps(row).encode()
    layers = table.column("layer").to_numpy()
    table = table.set_column(table.schema.get_field_index("layer"), "layer", pa.array(layers[::-1].copy()))
    pq.write_table(table.replace_schema_metadata(md), manifest)
    fresh = str(tmp_path / "fresh.duckdb")
    fill_store(fresh)
    before = sha(fresh)
    line = refused(capsys, ["--store", fresh, "ingest", "--parts", parts], "fails its checksum")
    assert manifest in line and sha(fresh) == before
    assert Store(fresh, read_only=True).runs() == []


def test_parts_without_their_manifest_are_refused_and_left_in_place(capsys, S, tmp_path):
    path, run_id, _ = S
    parts = os.path.splitext(path)[0] + ".parts"
    shutil.rmtree(os.path.join(parts, "_runs"))
    fresh = str(tmp_path / "fresh.duckdb")
    fill_store(fresh)
    before, files = sha(fresh), tree(parts)
    line = refused(capsys, ["--store", fresh, "ingest", "--parts", parts], f"of run {run_id}, which this store")
    assert "manifest" in line and "(and 7 more)" in line
    assert sha(fresh) == before and tree(parts) == files


# -- 6, 12: scratch caches are checked ---------------------------------------------------------------------------
@pytest.mark.parametrize("damage", ["noise", "truncated"])
def test_a_changed_scratch_cache_is_recomputed(S, tmp_path, capsys, damage):
    path, run_id, model = S
    store = fill_store(str(tmp_path / "r.duckdb"))
    cfg = config(model)
    first = extract(store, cfg, concepts_per_task=1, show_progress=False, max_tasks=1)
    scratch = str(tmp_path / "r.scratch" / first.run_id)
    (npy,) = [f for f in os.listdir(scratch) if f.endswith(".npy")]
    acts = np.load(os.path.join(scratch, npy))
    if damage == "noise":
        np.save(os.path.join(scratch, npy), acts + np.random.default_rng(0).normal(0, 1, acts.shape).astype(acts.dtype))
    else:
        data = open(os.path.join(scratch, npy), "rb").read()
        open(os.path.join(scratch, npy), "wb").write(data[: len(data) // 2])
    capsys.readouterr()
    extract(store, cfg, concepts_per_task=1, show_progress=False)
    assert f"scratch file {os.path.join(scratch, npy)} not used" in capsys.readouterr().err
    want = Store(path, read_only=True).ap(run_id, fold=None, above=0.0)
    got = store.ap(run_id, fold=None, above=0.0)
    assert first.run_id == run_id
    assert got.equals(want)


def test_max_length_beyond_the_context_is_refused_in_default_mode(capsys, S):
    path, run_id, model = S
    store = Store(path)
    store.add_sentences("cat", [" ".join(["cat"] + ["the"] * 150) + " ."], source="test")  # 152 tokens
    store.checkpoint()
    before = sha(path)
    argv = ["--store", path, "extract", "--model", model, "--concepts", "cat,dog,bus,piano", "--n-pos", "100"]
    argv += ["--min-pos", "6", "--n-neg", "12", "--max-length", "200", "--quiet"]  # every sentence, the long one too
    refused(capsys, argv, "max_length must be an integer in [1, 128]")
    assert sha(path) == before


# -- 8: --reference selfcond says what it drops, and registers nothing it cannot run ---------------------------------
@pytest.fixture
def varied(tmp_path):
    """A store whose sentences have 4 to 13 tokens."""
    store = Store(str(tmp_path / "v.duckdb"))
    for c in ("cat", "dog", "bus", "piano"):
        store.add_sentences(c, [" ".join([c, *["the"] * i, "."]) for i in range(10)], "t")
        store.add_sentences(c, [" ".join([c, *["a"] * i, "day", "."]) for i in range(10)], "t")
    return store


def test_selfcond_reports_what_it_drops_and_the_dry_run_counts_after_dropping(capsys, varied, golden):
    model = golden[0]
    argv = ["--store", varied.path, "extract", "--model", model, "--concepts", "cat,dog,bus,piano", "--n-pos", "8"]
    argv += ["--n-neg", "16", "--folds", "1", "--reference", "selfcond", "--max-length", "8", "--quiet"]
    capsys.readouterr()
    assert main([*argv, "--dry-run"]) == 0
    dry = capsys.readouterr().out
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert "sentences are longer than --max-length 8 tokens and are left out" in err, err
    n_pos = int(varied.results()["n_pos"].sum())
    assert n_pos < 4 * 8 and f"({n_pos:,} positive + " in dry, (dry, n_pos)  # counted after dropping


def test_selfcond_with_every_sentence_too_long_registers_nothing(capsys, varied, golden):
    model = golden[0]
    before = sha(varied.path)
    argv = ["--store", varied.path, "extract", "--model", model, "--concepts", "cat,dog,bus,piano", "--n-pos", "8"]
    argv += ["--n-neg", "16", "--folds", "1", "--reference", "selfcond", "--max-length", "1", "--quiet"]
    refused(capsys, argv, "longer than --max-length 1 tokens")
    assert sha(varied.path) == before
    folder = os.path.dirname(varied.path)
    assert not os.path.exists(os.path.join(folder, "v.parts", "_runs")) and not os.path.exists(
        os.path.join(folder, "v.scratch")
    )


# -- 9: revisions are names, never paths ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "argv",
    [
        ["grid", "--models", "{ckpt}", "--revisions", "../tiny_gpt2"],
        ["grid", "--models", "{ckpt}", "--revisions", "{abs}"],
        ["extract", "--model", "{ckpt}", "--revision", "../tiny_gpt2"],
        ["extract", "--model", "{ckpt}", "--revisions", "step1,../tiny_gpt2"],
    ],
    ids=["grid-relative", "grid-absolute", "extract-revision", "extract-revisions"],
)
def test_a_revision_that_is_a_path_is_refused(capsys, S, golden, argv):
    path, _, model = S
    ckpt = os.path.join(os.path.dirname(model), "ckpt")
    os.makedirs(os.path.join(ckpt, "step1"), exist_ok=True)
    argv = [a.format(ckpt=ckpt, abs=os.path.abspath(model)) for a in argv]
    before = tree(os.path.dirname(path))
    extra = ["--concepts", "cat,dog,bus,piano", "--n-pos", "6", "--n-neg", "12", "--quiet"]
    refused(capsys, ["--store", path, *argv, *extra], "revision must be a name")
    assert tree(os.path.dirname(path)) == before


# -- 10: build-demo checks free space first and cleans up after any failure ----------------------------------------
def test_build_demo_on_a_full_disk_is_refused_before_writing(capsys, S, tmp_path, monkeypatch):
    path, _, _ = S
    out = str(tmp_path / "out" / "demo.duckdb")
    os.makedirs(os.path.dirname(out))
    monkeypatch.setattr(shutil, "disk_usage", lambda p: shutil._ntuple_diskusage(10**9, 10**9 - 4096, 4096))
    before = sha(path)
    refused(capsys, ["--store", path, "build-demo", "--out", out], "not enough free space")
    assert os.listdir(os.path.dirname(out)) == [] and sha(path) == before


def test_build_demo_that_fails_midway_leaves_nothing(capsys, S, tmp_path, monkeypatch):
    import duckdb

    path, _, _ = S
    out = str(tmp_path / "out" / "demo.duckdb")
    os.makedirs(os.path.dirname(out))

    def full(self, *a, **k):
        open(self.path + ".wal", "wb").write(b"x" * 1000)
        raise duckdb.IOException("Could not write file: No space left on device")

    monkeypatch.setattr(Store, "copy_runs", full)
    refused(capsys, ["--store", path, "build-demo", "--out", out], "No space left on device")
    assert os.listdir(os.path.dirname(out)) == []


def test_build_demo_into_a_folder_is_refused_first(capsys, S, tmp_path):
    path, _, _ = S
    refused(capsys, ["--store", path, "build-demo", "--out", str(tmp_path)], "is a folder")
    assert not os.path.exists(str(tmp_path) + ".building")


# -- 11: a pack that pyarrow and its checksum pass is never read by another reader ----------------------------------
def test_footer_bit_flips_that_only_duckdb_trips_on_never_give_a_traceback(capsys, S, tmp_path):
    """Some single-bit flips of a pack's footer pass pyarrow and the checksum but make DuckDB's reader fail;
    ingesting such a pack gives the same results as the intact one (the store reads it with pyarrow only)."""
    import duckdb

    path, run_id, _ = S
    parts = os.path.splitext(path)[0] + ".parts"
    pack = pack_parts(parts, run_id)
    data = open(pack, "rb").read()
    footer = int.from_bytes(data[-8:-4], "little") + 8
    probe, trips = str(tmp_path / "probe.parquet"), []
    for i in range(len(data) - footer, len(data) - 8, 3):  # one bit of every third footer byte
        flipped = bytearray(data)
        flipped[i] ^= 1 << (i % 8)
        open(probe, "wb").write(bytes(flipped))
        try:
            check_pack(probe)
        except PartError:
            continue
        try:
            duckdb.sql("SELECT count(*), sum(ap) FROM read_parquet(?)", params=[probe]).fetchall()
        except duckdb.Error:
            trips.append(bytes(flipped))
    assert trips, "no flip that passes pyarrow trips DuckDB: the test checks nothing"
    want = None
    for k, flipped in enumerate(trips[:4]):
        open(pack, "wb").write(flipped)
        fresh = str(tmp_path / f"f{k}.duckdb")
        fill_store(fresh)
        capsys.readouterr()
        assert main(["--store", fresh, "ingest", "--parts", parts]) == 0, capsys.readouterr().err
        got = Store(fresh, read_only=True).ap(run_id, fold=None, above=0.0)
        want = got if want is None else want
        assert len(got) and got.equals(want)
    assert want.equals(Store(path, read_only=True).ap(run_id, fold=None, above=0.0))


# -- kill test for pack ----------------------------------------------------------------------------------------------
KILLER = """
import os, signal, sys
import core.storage.parts as parts
mode = sys.argv[1]
if mode == "write":  # killed inside the temp write: part of the file is on disk
    real = parts.os.fsync
    def fsync(fd):
        os.kill(os.getpid(), signal.SIGKILL)
    parts.os.fsync = fsync
else:  # killed after the first part is removed
    real = os.remove
    def remove(path, n=[0]):
        real(path)
        os.kill(os.getpid(), signal.SIGKILL)
    parts.os.remove = remove
from core.cli.parser import main
sys.exit(main(sys.argv[2:]))
"""


@pytest.mark.parametrize("mode", ["write", "remove"])
def test_pack_killed_midway_reruns_to_a_byte_identical_pack(S, tmp_path, mode):
    path, run_id, _ = S
    twin = tmp_path / "twin"
    shutil.copytree(os.path.dirname(path), twin)
    assert main(["--store", str(twin / "s.duckdb"), "pack", "--run", run_id]) == 0
    want = open(twin / "s.parts" / f"{run_id}.pack.parquet", "rb").read()
    argv = ["--store", path, "pack", "--run", run_id]
    env = {**os.environ, "PYTHONPATH": ROOT}
    killed = subprocess.run([sys.executable, "-c", KILLER, mode, *argv], env=env, cwd=ROOT, capture_output=True)
    assert killed.returncode == -9, killed.stderr.decode()
    parts = os.path.splitext(path)[0] + ".parts"
    assert main(argv) == 0
    files = sorted(os.path.relpath(os.path.join(d, f), parts) for d, _, fs in os.walk(parts) for f in fs)
    assert files == sorted(
        os.path.relpath(os.path.join(d, f), twin / "s.parts") for d, _, fs in os.walk(twin / "s.parts") for f in fs
    )
    assert not any(".tmp" in f for f in files)
    assert open(os.path.join(parts, f"{run_id}.pack.parquet"), "rb").read() == want


def test_two_packs_at_once_both_succeed_with_one_pack(S, tmp_path):
    path, run_id, _ = S
    twin = tmp_path / "twin"
    shutil.copytree(os.path.dirname(path), twin)
    assert main(["--store", str(twin / "s.duckdb"), "pack", "--run", run_id]) == 0
    argv = [sys.executable, "-m", "core", "--store", path, "pack", "--run", run_id]
    procs = [subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    results = [(p.wait(), p.stderr.read().decode()) for p in procs]
    assert [code for code, _ in results] == [0, 0], results
    parts = os.path.splitext(path)[0] + ".parts"
    assert tree(parts) == tree(twin / "s.parts")


def test_grid_finds_a_broken_revision_before_computing_any(capsys, S, golden, tmp_path):
    path, _, model = S
    ckpt = tmp_path / "ckpt"
    shutil.copytree(model, ckpt / "step1")
    (ckpt / "step2").mkdir()
    (ckpt / "step2" / "config.json").write_text("{ broken")
    before = tree(os.path.dirname(path))
    argv = ["--store", path, "grid", "--models", str(ckpt), "--revisions", "step1,step2", "--concepts", "cat,dog"]
    refused(capsys, [*argv, "--n-pos", "6", "--n-neg", "12", "--quiet"], "(revision step2)")
    assert tree(os.path.dirname(path)) == before


def test_pack_without_a_store_or_parts_folder_and_a_long_revision_list(capsys, S, tmp_path):
    path, _, model = S
    missing = str(tmp_path / "none.duckdb")
    refused(capsys, ["--store", missing, "pack"], "no store at")
    assert not os.path.exists(missing)
    refused(capsys, ["--store", path, "pack", "--parts", str(tmp_path / "nonexist")], "no parts folder")
    ckpt = tmp_path / "ckpt"
    (ckpt / "step1").mkdir(parents=True)
    revisions = ",".join(f"step{i}" for i in range(2, 10_002))
    line = refused(capsys, ["--store", path, "grid", "--models", str(ckpt), "--revisions", revisions], "not found")
    assert len(line) < 700 and "and 9990 more" in line
    capsys.readouterr()
    assert main(["--store", path, "runs"]) == 0
    out = capsys.readouterr().out
    assert "final" in out and "NaN" not in out and "None" not in out, out  # a run without a revision
