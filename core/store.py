"""The DuckDB store: concepts, sentences, runs, unit tables and stored APs.

DuckDB allows one writer per file, so nothing here keeps a connection open:
every call opens, works and closes, retrying briefly while another process
holds the file. Extraction results arrive as self-contained Parquet *parts*
(one run × concept × fold) written atomically beside the database; ingesting a
part is one transaction, so a reader never sees half a concept, and a killed
extraction leaves only whole parts behind.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone

import duckdb
import numpy as np
import pandas as pd

SCHEMA_VERSION = 1
DEFAULT_PATH = os.path.join("cache", "experts.duckdb")

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE IF NOT EXISTS concepts(concept VARCHAR PRIMARY KEY, added_at TIMESTAMP);
CREATE TABLE IF NOT EXISTS sentences(sid UBIGINT PRIMARY KEY, text VARCHAR NOT NULL);
CREATE TABLE IF NOT EXISTS concept_sentences(
    concept VARCHAR, sid UBIGINT, source VARCHAR, PRIMARY KEY(concept, sid));
CREATE TABLE IF NOT EXISTS runs(
    run_id VARCHAR PRIMARY KEY, model VARCHAR, revision VARCHAR, step BIGINT, family VARCHAR,
    n_params BIGINT, n_units INTEGER, n_layers INTEGER, unit_table VARCHAR,
    dataset_hash VARCHAR, config VARCHAR, versions VARCHAR,
    created_at TIMESTAMP, updated_at TIMESTAMP, weights_hash VARCHAR);
CREATE TABLE IF NOT EXISTS units(
    unit_table VARCHAR, unit INTEGER, layer SMALLINT, module VARCHAR, kind VARCHAR,
    "index" INTEGER, head SMALLINT, role VARCHAR);
CREATE TABLE IF NOT EXISTS results(
    run_id VARCHAR, concept VARCHAR, fold SMALLINT, n_pos INTEGER, n_neg INTEGER,
    n_units INTEGER, n_stored INTEGER, ap_floor FLOAT, max_ap FLOAT, mean_ap FLOAT,
    part VARCHAR, finished_at TIMESTAMP, PRIMARY KEY(run_id, concept, fold));
CREATE TABLE IF NOT EXISTS ap(run_id VARCHAR, concept VARCHAR, fold SMALLINT, unit INTEGER, ap FLOAT);
CREATE TABLE IF NOT EXISTS vectors(
    run_id VARCHAR, concept VARCHAR, kind VARCHAR, vec FLOAT[], PRIMARY KEY(run_id, concept, kind));
CREATE TABLE IF NOT EXISTS training_log(
    model VARCHAR, step BIGINT, tokens BIGINT, loss DOUBLE, held_out_loss DOUBLE, PRIMARY KEY(model, step));
CREATE TABLE IF NOT EXISTS alignment_snapshots(
    benchmark VARCHAR, run_id VARCHAR, method VARCHAR, tau DOUBLE, rho DOUBLE, ci_low DOUBLE, ci_high DOUBLE,
    p_value DOUBLE, p_vs_experts DOUBLE, n_pairs INTEGER, n_missing INTEGER, n_boot INTEGER,
    computed_at TIMESTAMP, PRIMARY KEY(benchmark, run_id, method, tau));
"""
SNAPSHOT_COLUMNS = ["method", "tau", "rho", "ci_low", "ci_high", "p_value", "p_vs_experts", "n_pairs", "n_missing"]


class StoreError(RuntimeError):
    """The store cannot be used as asked (corrupt, newer schema, locked, read-only)."""


def sentence_id(text: str) -> int:
    """Stable 63-bit id of a sentence (hash of its text)."""
    return int.from_bytes(hashlib.sha1(text.encode()).digest()[:8], "big") >> 1


def _run(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> None:
    """Execute a statement and consume its result (DuckDB wants it finished before the next)."""
    con.execute(sql, params or []).fetchall()


def _is_interrupt(e: BaseException) -> bool:
    """Whether DuckDB raised this because the process got SIGINT (it reports "Query interrupted")."""
    return isinstance(e, duckdb.InterruptException) or "query interrupted" in str(e).lower()


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _is_lock_error(e: Exception) -> bool:
    text = str(e).lower()
    return "lock" in text or "conflicting" in text or "being used" in text


class Store:
    """A DuckDB file plus a folder of Parquet parts.

    Parameters
    ----------
    path : the database file (created on first write).
    read_only : open read-only; writes raise ``StoreError``.
    parts_dir : where extraction parts go (default: ``<path without .duckdb>.parts``).
    lock_timeout : seconds to keep retrying while another process holds the file
        (default: ``$EXPERTS_LOCK_TIMEOUT`` or 60).
    """

    def __init__(
        self,
        path: str = DEFAULT_PATH,
        read_only: bool = False,
        parts_dir: str | None = None,
        lock_timeout: float | None = None,
    ):
        self.path = str(path)
        self.read_only = read_only
        self.parts_dir = parts_dir or os.path.splitext(self.path)[0] + ".parts"
        self.lock_timeout = float(os.environ.get("EXPERTS_LOCK_TIMEOUT", 60)) if lock_timeout is None else lock_timeout
        if not read_only:
            self._init_schema()
        elif not os.path.exists(self.path):
            raise StoreError(f"no store at {self.path!r}: extract or import something first")
        else:
            self._check_version()

    # -- connections -------------------------------------------------------
    @contextmanager
    def connect(self, write: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """A short-lived connection; retried while the file is locked by another process."""
        if write and self.read_only:
            raise StoreError(f"store {self.path!r} is open read-only")
        if write:
            os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        deadline = time.monotonic() + self.lock_timeout
        while True:
            try:
                con = duckdb.connect(self.path, read_only=not write)
                break
            except duckdb.Error as e:
                if _is_interrupt(e):
                    raise KeyboardInterrupt from None
                if _is_lock_error(e) and time.monotonic() < deadline:
                    time.sleep(0.02 + random.random() * 0.08)
                    continue
                if _is_lock_error(e):
                    raise StoreError(
                        f"store {self.path!r} is locked by another process; try again when it is done"
                    ) from None
                first = str(e).strip().splitlines()[0][:200]
                raise StoreError(
                    f"store {self.path!r} cannot be opened ({first}); is it a DuckDB file? move it away or pass another --store"
                ) from None
        try:
            yield con
        except (duckdb.Error, RuntimeError) as e:
            if _is_interrupt(e):  # DuckDB swallows Ctrl-C into its own error; the open transaction rolls back
                raise KeyboardInterrupt from None
            raise
        finally:
            con.close()

    def _init_schema(self) -> None:
        with self.connect(write=True) as con:
            version = self._version(con)
            if version is not None and version > SCHEMA_VERSION:
                raise StoreError(
                    f"store {self.path!r} has schema version {version}, newer than this code's {SCHEMA_VERSION}; upgrade the project"
                )
            _run(con, SCHEMA)
            _run(con, "ALTER TABLE runs ADD COLUMN IF NOT EXISTS weights_hash VARCHAR")  # stores made before it
            _run(
                con,
                "INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)",
                [str(SCHEMA_VERSION)],
            )

    def _check_version(self) -> None:
        with self.connect() as con:
            version = self._version(con)
        if version is None:
            raise StoreError(f"{self.path!r} is not an expert store (no schema version)")
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"store {self.path!r} has schema version {version}, newer than this code's {SCHEMA_VERSION}; upgrade the project"
            )

    @staticmethod
    def _version(con) -> int | None:
        has_meta = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'meta'").fetchall()[
            0
        ][0]
        if not has_meta:
            n_tables = con.execute("SELECT count(*) FROM information_schema.tables").fetchall()[0][0]
            if n_tables:
                raise StoreError("this DuckDB file is not an expert store (it has other tables)")
            return None
        rows = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall()
        return int(rows[0][0]) if rows else None

    def query(self, sql: str, params: Iterable | None = None) -> pd.DataFrame:
        """Run a read query (parameterised) and return a DataFrame."""
        with self.connect() as con:
            return con.execute(sql, list(params or [])).df()

    # -- concepts and sentences -------------------------------------------
    def add_sentences(self, concept: str, texts: Iterable[str], source: str) -> int:
        """Attach sentences to a concept (created if new); returns how many were new."""
        texts = list(dict.fromkeys(t.strip() for t in texts if t and t.strip()))
        rows = pd.DataFrame(
            {
                "sid": np.array([sentence_id(t) for t in texts], dtype=np.uint64),
                "text": texts,
            }
        )
        with self.connect(write=True) as con:
            _run(con, "BEGIN")
            _run(con, "INSERT OR IGNORE INTO concepts VALUES (?, ?)", [concept, _now()])
            con.register("new_rows", rows)
            _run(con, "INSERT OR IGNORE INTO sentences SELECT sid, text FROM new_rows")
            before = con.execute("SELECT count(*) FROM concept_sentences WHERE concept = ?", [concept]).fetchall()[0][0]
            _run(
                con,
                "INSERT OR IGNORE INTO concept_sentences SELECT ?, sid, ? FROM new_rows",
                [concept, source],
            )
            after = con.execute("SELECT count(*) FROM concept_sentences WHERE concept = ?", [concept]).fetchall()[0][0]
            _run(con, "COMMIT")
        return after - before

    def concepts(self) -> pd.DataFrame:
        """Concepts with their sentence counts."""
        return self.query(
            "SELECT c.concept, count(cs.sid) AS n_sentences FROM concepts c "
            "LEFT JOIN concept_sentences cs USING (concept) GROUP BY c.concept ORDER BY c.concept"
        )

    def sentences(self, concepts: Iterable[str]) -> pd.DataFrame:
        """(concept, sid, text) of the given concepts, ordered by concept and sid."""
        return self.query(
            "SELECT cs.concept, cs.sid, s.text FROM concept_sentences cs JOIN sentences s USING (sid) "
            "WHERE cs.concept IN (SELECT unnest(?)) ORDER BY cs.concept, cs.sid",
            [list(concepts)],
        )

    # -- runs ----------------------------------------------------------------
    def add_run(self, row: dict, units: pd.DataFrame | None = None) -> None:
        """Register (or touch) a run, with its unit table if given."""
        with self.connect(write=True) as con:
            _run(con, "BEGIN")
            exists = con.execute("SELECT count(*) FROM runs WHERE run_id = ?", [row["run_id"]]).fetchall()[0][0]
            if exists:
                sets = {k: v for k, v in row.items() if v is not None and k != "run_id"}
                if sets:
                    assignments = ", ".join(f"{k} = ?" for k in sets)
                    _run(
                        con,
                        f"UPDATE runs SET {assignments}, updated_at = ? WHERE run_id = ?",
                        [*sets.values(), _now(), row["run_id"]],
                    )
            else:
                cols = list(row) + ["created_at", "updated_at"]
                _run(
                    con,
                    f"INSERT INTO runs ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                    [*row.values(), _now(), _now()],
                )
            if units is not None and row.get("unit_table"):
                have = con.execute(
                    "SELECT count(*) FROM units WHERE unit_table = ?",
                    [row["unit_table"]],
                ).fetchall()[0][0]
                if not have:
                    u = units.assign(unit_table=row["unit_table"])
                    con.register("unit_rows", u)
                    _run(
                        con,
                        'INSERT INTO units SELECT unit_table, unit, layer, module, kind, "index", head, role FROM unit_rows',
                    )
            _run(con, "COMMIT")

    def add_training_log(self, model: str, log: pd.DataFrame) -> int:
        """Replace the training log of ``model`` (columns step, tokens, loss, held_out_loss); rows written."""
        rows = pd.DataFrame(
            {
                "model": model,
                "step": pd.to_numeric(log["step"]).astype("int64"),
                "tokens": pd.to_numeric(log["tokens"]).astype("int64"),
                "loss": pd.to_numeric(log["loss"], errors="coerce"),
                "held_out_loss": pd.to_numeric(log["held_out_loss"], errors="coerce"),
            }
        )
        with self.connect(write=True) as con:
            _run(con, "BEGIN")
            _run(con, "DELETE FROM training_log WHERE model = ?", [model])
            con.register("log_rows", rows)
            _run(con, "INSERT INTO training_log SELECT model, step, tokens, loss, held_out_loss FROM log_rows")
            _run(con, "COMMIT")
        return len(rows)

    def training_log(self) -> pd.DataFrame:
        """Training logs of the models trained with ``scripts/train_checkpoints.py`` (empty for others)."""
        if not self._has_table("training_log"):  # a store made before the table existed, opened read-only
            return pd.DataFrame(columns=["model", "step", "tokens", "loss", "held_out_loss"])
        return self.query("SELECT model, step, tokens, loss, held_out_loss FROM training_log ORDER BY model, step")

    def _has_table(self, name: str) -> bool:
        return bool(
            self.query("SELECT count(*) AS n FROM information_schema.tables WHERE table_name = ?", [name])["n"][0]
        )

    def runs(self) -> pd.DataFrame:
        """All runs with their number of finished (concept, fold) results."""
        return self.query(
            "SELECT r.*, count(res.concept) AS n_results, count(DISTINCT res.concept) AS n_concepts "
            "FROM runs r LEFT JOIN results res USING (run_id) GROUP BY ALL ORDER BY r.model, r.step NULLS LAST, r.created_at"
        )

    def units(self, run_id: str) -> pd.DataFrame:
        return self.query(
            'SELECT u.unit, u.layer, u.module, u.kind, u."index", u.head, u.role FROM units u '
            "JOIN runs r ON r.unit_table = u.unit_table WHERE r.run_id = ? ORDER BY u.unit",
            [run_id],
        )

    def done(self, run_id: str) -> set[tuple[str, int]]:
        """The (concept, fold) pairs of a run whose results are stored."""
        rows = self.query("SELECT concept, fold FROM results WHERE run_id = ?", [run_id])
        return set(zip(rows["concept"], rows["fold"].astype(int)))

    # -- parts ---------------------------------------------------------------
    def part_path(self, run_id: str, concept: str, fold: int) -> str:
        return os.path.join(self.parts_dir, run_id, f"{concept}__f{fold}.parquet")

    def pending_parts(self, run_id: str | None = None) -> list[str]:
        """Part files on disk whose results are not in the database yet."""
        root = self.parts_dir
        if not os.path.isdir(root):
            return []
        run_dirs = [run_id] if run_id else sorted(os.listdir(root))
        done = set()
        if os.path.exists(self.path):
            rows = self.query("SELECT part FROM results")
            done = set(rows["part"].dropna())
        out = []
        for rid in run_dirs:
            d = os.path.join(root, rid)
            if os.path.isdir(d):
                out += [
                    os.path.join(d, f)
                    for f in sorted(os.listdir(d))
                    if f.endswith(".parquet") and f"{rid}/{f}" not in done
                ]
        return out

    def ingest(self, part: str) -> bool:
        """Load one part file into the database in one transaction; False if already there."""
        import pyarrow.parquet as pq

        meta = json.loads(pq.read_schema(part).metadata[b"expert_part"])
        with self.connect(write=True) as con:
            _run(con, "BEGIN")
            exists = con.execute(
                "SELECT count(*) FROM results WHERE run_id = ? AND concept = ? AND fold = ?",
                [meta["run_id"], meta["concept"], meta["fold"]],
            ).fetchall()[0][0]
            if exists:
                _run(con, "ROLLBACK")
                return False
            _run(
                con,
                "INSERT INTO ap SELECT ?, ?, ?, unit, ap FROM read_parquet(?)",
                [meta["run_id"], meta["concept"], meta["fold"], part],
            )
            for kind, vec in meta.get("vectors", {}).items():
                _run(
                    con,
                    "INSERT OR REPLACE INTO vectors VALUES (?, ?, ?, ?)",
                    [meta["run_id"], meta["concept"], kind, vec],
                )
            _run(
                con,
                "INSERT INTO results VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    meta["run_id"],
                    meta["concept"],
                    meta["fold"],
                    meta["n_pos"],
                    meta["n_neg"],
                    meta["n_units"],
                    meta["n_stored"],
                    meta["ap_floor"],
                    meta["max_ap"],
                    meta["mean_ap"],
                    f"{meta['run_id']}/{os.path.basename(part)}",
                    _now(),
                ],
            )
            _run(con, "COMMIT")
        return True

    def ingest_pending(self, run_id: str | None = None) -> int:
        return sum(self.ingest(p) for p in self.pending_parts(run_id))

    # -- reading results -------------------------------------------------------
    def ap(
        self,
        run_id: str,
        concepts: Iterable[str] | None = None,
        fold: int | None = 0,
        min_ap: float = 0.5,
    ) -> pd.DataFrame:
        """Stored (concept, fold, unit, ap) rows with ``ap > min_ap`` (the experts at τ = min_ap)."""
        sql = "SELECT concept, fold, unit, ap FROM ap WHERE run_id = ? AND ap > ?"
        params: list = [run_id, float(min_ap)]
        if fold is not None:
            sql += " AND fold = ?"
            params.append(int(fold))
        if concepts is not None:
            sql += " AND concept IN (SELECT unnest(?))"
            params.append(list(concepts))
        return self.query(sql + " ORDER BY concept, fold, unit", params)

    def results(self, run_id: str | None = None) -> pd.DataFrame:
        sql = "SELECT * FROM results" + (" WHERE run_id = ?" if run_id else "") + " ORDER BY run_id, concept, fold"
        return self.query(sql, [run_id] if run_id else [])

    # -- alignment snapshots ---------------------------------------------------------
    def save_alignment_snapshot(self, benchmark: str, table: pd.DataFrame, n_boot: int) -> int:
        """Keep an alignment table (``core.alignment.alignment_table`` rows, any τs) under ``benchmark``.

        A snapshot lets a store that travels without the benchmark file (the committed demo store: MEN is
        not redistributed here) still show alignment; it holds correlations only, never the ratings.
        Rows for the same benchmark, run, method and τ are replaced. Returns the number of rows written.
        """
        rows = table[["run_id", *SNAPSHOT_COLUMNS]].copy()
        rows["tau"] = rows["tau"].astype(float).round(4)
        with self.connect(write=True) as con:
            con.register("snap_rows", rows)
            _run(con, "BEGIN")
            _run(
                con,
                "INSERT OR REPLACE INTO alignment_snapshots SELECT ?, run_id, method, tau, rho, ci_low, ci_high, "
                "p_value, p_vs_experts, n_pairs, n_missing, ?, ? FROM snap_rows",
                [benchmark, int(n_boot), _now()],
            )
            _run(con, "COMMIT")
        return len(rows)

    def alignment_snapshot(self, benchmark: str | None = None, tau: float | None = None) -> pd.DataFrame:
        """Stored alignment rows with their runs' columns (empty when the store has none, e.g. an older one)."""
        with self.connect() as con:
            has = con.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_name = 'alignment_snapshots'"
            ).fetchall()[0][0]
            if not has:
                return pd.DataFrame(columns=["benchmark", "run_id", *SNAPSHOT_COLUMNS])
            sql = (
                "SELECT s.benchmark, s.run_id, r.model, r.family, r.n_params, r.revision, r.step, "
                + ", ".join(f"s.{c}" for c in SNAPSHOT_COLUMNS)
                + ", s.n_boot FROM alignment_snapshots s JOIN runs r USING (run_id) WHERE true"
            )
            params: list = []
            if benchmark is not None:
                sql += " AND s.benchmark = ?"
                params.append(benchmark)
            if tau is not None:
                sql += " AND abs(s.tau - ?) < 1e-6"
                params.append(round(float(tau), 4))
            return con.execute(sql + " ORDER BY s.benchmark, r.model, r.step NULLS LAST, s.run_id, s.tau", params).df()

    def vectors(self, run_id: str, kind: str) -> dict[str, np.ndarray]:
        rows = self.query(
            "SELECT concept, vec FROM vectors WHERE run_id = ? AND kind = ?",
            [run_id, kind],
        )
        return {c: np.asarray(v, dtype=np.float32) for c, v in zip(rows["concept"], rows["vec"])}


def write_part(path: str, meta: dict, units: np.ndarray, ap: np.ndarray) -> str:
    """Write one result part atomically (temporary file, then rename)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    os.makedirs(os.path.dirname(path), exist_ok=True)
    table = pa.table({"unit": pa.array(units, pa.int32()), "ap": pa.array(ap, pa.float32())})
    table = table.replace_schema_metadata({b"expert_part": json.dumps(meta).encode()})
    tmp = f"{path}.tmp{os.getpid()}"
    pq.write_table(table, tmp, compression="zstd")
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, path)
    return path
