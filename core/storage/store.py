"""The DuckDB store: concepts, sentences, runs, unit tables and stored APs. With ``alignment_rows`` (the alignment
table's queries), the only code that speaks SQL.

Nothing keeps a connection open (``connection``: DuckDB allows one writer per file). Results arrive as Parquet
parts (``parts``); ingesting one is one transaction, so a reader never sees half a concept.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import cast

import duckdb
import numpy as np
import pandas as pd

from core.tau import TAU_MIN
from core.text.sentences import sentence_id

from . import alignment_rows, records
from .connection import LockWaits, StoreError, check_size, connection
from .ingest import checked_part, ingest_pending, new_rows
from .parts import pending_files, run_of
from .paths import DEFAULT_STORE, parts_dir_of
from .records import IndexRows, Run, RunContents, utc_now, vectors_by_kind

SCHEMA_VERSION = 1

SCHEMA = (Path(__file__).parent / "schema.sql").read_text()
UNIT_COLUMNS = ("unit", "layer", "module", "kind", "index", "head", "role")  # a unit table's columns, in order


def _run(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> None:
    """Execute a statement and consume its result (DuckDB wants it finished before the next)."""
    con.execute(sql, params or []).fetchall()


def _scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None):
    """The first value of the first row of a query."""
    return con.execute(sql, params or []).fetchall()[0][0]


def _add_run(con, row: dict, units: pd.DataFrame | None) -> None:
    """``Store.add_run`` inside an open transaction."""
    cols = [*row, "created_at", "updated_at"]
    sets = "".join(f"{k} = EXCLUDED.{k}, " for k, v in row.items() if v is not None and k != "run_id")
    _run(
        con,
        f"INSERT INTO runs ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))}) ON CONFLICT (run_id) "
        + (f"DO UPDATE SET {sets}updated_at = EXCLUDED.updated_at" if sets else "DO NOTHING"),
        [*row.values(), utc_now(), utc_now()],
    )
    if units is not None and row.get("unit_table"):
        if not _scalar(con, "SELECT count(*) FROM units WHERE unit_table = ?", [row["unit_table"]]):
            con.register("unit_rows", units.assign(unit_table=row["unit_table"]))
            cols = 'unit_table, unit, layer, module, kind, "index", head, role'
            _run(con, f"INSERT INTO units SELECT {cols} FROM unit_rows")


class Store:
    """A DuckDB file ``path`` (created on first write; ``read_only``: writes raise ``StoreError``) plus a folder of
    Parquet parts (``parts_dir``, default ``<path without .duckdb>.parts``). ``lock_timeout``: seconds to keep
    retrying while another process holds the file (default ``$EXPERTS_LOCK_TIMEOUT`` or 60)."""

    def __init__(
        self,
        path: str = DEFAULT_STORE,
        read_only: bool = False,
        parts_dir: str | None = None,
        lock_timeout: float | None = None,
    ):
        self.path = str(path)
        self.read_only = read_only
        self.parts_dir = parts_dir or parts_dir_of(self.path)
        self.lock_timeout = float(os.environ.get("EXPERTS_LOCK_TIMEOUT", 60)) if lock_timeout is None else lock_timeout
        self.waits = LockWaits()  # this handle's waits for the write lock (an extraction reports the longest)
        if os.path.exists(self.path):  # a read-only look first: a truncated file is refused before anything writes
            with self.connect() as con:
                check_size(
                    self.path, *con.execute("SELECT used_blocks, block_size FROM pragma_database_size()").fetchall()[0]
                )
                if read_only and self._version(con) is None:
                    raise StoreError(f"{self.path!r} is not an expert store (no schema version)")
        elif read_only:
            raise StoreError(f"no store at {self.path!r}: extract or import something first")
        if not read_only:
            self._init_schema()

    def connect(self, write: bool = False, transaction: bool = False):
        """A short-lived connection (context manager), retried while another process holds the file; with
        ``transaction`` (a write), one transaction committed at the end of the block."""
        if (write or transaction) and self.read_only:
            raise StoreError(f"store {self.path!r} is open read-only")
        return connection(self.path, write or transaction, self.lock_timeout, transaction=transaction, waits=self.waits)

    def _init_schema(self) -> None:
        with self.connect(write=True) as con:
            self._version(con)
            _run(con, SCHEMA)
            _run(con, "INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)])

    def _version(self, con) -> int | None:
        """The schema version (None for an empty file); StoreError for another kind of file or a newer schema."""
        if not _scalar(con, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'meta'"):
            if _scalar(con, "SELECT count(*) FROM information_schema.tables"):
                raise StoreError("this DuckDB file is not an expert store (it has other tables)")
            return None
        rows = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall()
        version = int(rows[0][0]) if rows else None
        if version is not None and version > SCHEMA_VERSION:
            raise StoreError(
                f"store {self.path!r} has schema version {version}, newer than this code's {SCHEMA_VERSION}; upgrade the project"
            )
        return version

    def is_empty(self) -> bool:
        """Whether no table but ``meta`` holds a row (a store that a failed first command created)."""
        with self.connect() as con:
            names = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()]
            return all(not con.execute(f'SELECT count(*) FROM "{t}"').fetchall()[0][0] for t in names if t != "meta")

    def query(self, sql: str, params: Iterable | None = None) -> pd.DataFrame:
        """Run a read query (parameterised) and return a DataFrame."""
        with self.connect() as con:
            return con.execute(sql, list(params or [])).df()

    # -- concepts and sentences -------------------------------------------
    def add_sentences(self, concept: str, texts: Iterable[str], source: str) -> int:
        """Attach sentences to a concept (created if new); returns how many were new."""
        texts = list(dict.fromkeys(t.strip() for t in texts if t and t.strip()))
        rows = pd.DataFrame({"sid": np.array([sentence_id(t) for t in texts], dtype=np.uint64), "text": texts})
        with self.connect(transaction=True) as con:
            _run(con, "INSERT OR IGNORE INTO concepts VALUES (?, ?)", [concept, utc_now()])
            con.register("new_rows", rows)
            _run(con, "INSERT OR IGNORE INTO sentences SELECT sid, text FROM new_rows")
            count = "SELECT count(*) FROM concept_sentences WHERE concept = ?"
            before = _scalar(con, count, [concept])
            _run(con, "INSERT OR IGNORE INTO concept_sentences SELECT ?, sid, ? FROM new_rows", [concept, source])
            after = _scalar(con, count, [concept])
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
        """Register a run, with its unit table if given; a known run gets the row's values that are not None."""
        with self.connect(transaction=True) as con:
            _add_run(con, row, units)

    def add_training_log(self, model: str, log: pd.DataFrame) -> int:
        """Replace the training log of ``model`` (columns step, tokens, loss, held_out_loss); rows written."""
        rows = records.training_log_rows(model, log)
        with self.connect(transaction=True) as con:
            _run(con, "DELETE FROM training_log WHERE model = ?", [model])
            con.register("log_rows", rows)
            _run(con, "INSERT INTO training_log SELECT model, step, tokens, loss, held_out_loss FROM log_rows")
        return len(rows)

    def training_log(self) -> pd.DataFrame:
        """Training logs of the models trained with ``scripts/train_checkpoints.py`` (empty for others)."""
        if not self._has("training_log"):  # a store made before the table existed, opened read-only
            return pd.DataFrame(columns=["model", "step", "tokens", "loss", "held_out_loss"])
        return self.query("SELECT model, step, tokens, loss, held_out_loss FROM training_log ORDER BY model, step")

    def _has(self, table: str, column: str | None = None) -> bool:
        """Whether the store has ``table`` (with ``column``): a store made before them, opened read-only, has not."""
        sql = "SELECT count(*) FROM information_schema.columns WHERE table_name = ? AND (column_name = ? OR ? IS NULL)"
        with self.connect() as con:
            return bool(_scalar(con, sql, [table, column, column]))

    def _runs(self, con, run_id: str | None = None) -> list[Run]:
        """Runs (all, or the one named) with their counts of results and concepts with results."""
        rows = con.execute(
            # counted per run first, then joined: grouping the joined rows by every column of ``runs`` would hash each
            # run's configuration (613 concepts for a MEN run) once per result, slow on a grid-sized store
            "WITH c AS (SELECT run_id, count(concept) AS n_results, count(DISTINCT concept) AS n_concepts "
            "FROM results WHERE run_id = ? OR ? IS NULL GROUP BY run_id) "
            "SELECT r.*, coalesce(c.n_results, 0) AS n_results, coalesce(c.n_concepts, 0) AS n_concepts "
            "FROM runs r LEFT JOIN c USING (run_id) WHERE r.run_id = ? OR ? IS NULL "
            "ORDER BY r.model, r.step NULLS LAST, r.created_at",
            [run_id, run_id, run_id, run_id],
        ).df()
        if run_id is not None and rows.empty:
            raise ValueError(f"no run {run_id!r} in {self.path}; `python -m core runs` lists them")
        return [Run.from_row(r) for r in rows.to_dict("records")]

    def runs(self) -> list[Run]:
        """All runs with their number of finished (concept, fold) results, by model, step and age."""
        with self.connect() as con:
            return self._runs(con)

    def run(self, run_id: str) -> Run:
        """One run; ValueError naming the command that lists them when there is no such run."""
        with self.connect() as con:
            return self._runs(con, run_id)[0]

    def run_contents(self) -> dict[str, RunContents]:
        """``{run_id: RunContents}`` for every run with results (one small query)."""
        return RunContents.by_run(self.query("SELECT run_id, concept, count(*) AS n_folds FROM results GROUP BY ALL"))

    def counts(self) -> dict[str, int]:
        """Rows of the store: runs, concepts, concepts with results, with sentences, sentences, results, AP rows."""
        counts = {t: f"count(*) FROM {t}" for t in ("runs", "concepts", "sentences", "results")}
        counts |= {"concepts_done": "count(DISTINCT concept) FROM results", "ap_rows": "count(*) FROM ap"}
        counts |= {"concepts_with_sentences": "count(DISTINCT concept) FROM concept_sentences"}
        row = self.query("SELECT " + ", ".join(f"(SELECT {c}) AS {k}" for k, c in counts.items())).iloc[0]
        return {str(k): int(v) for k, v in row.items()}

    def unit_table_of(self, run_id: str) -> str | None:
        """The id of the run's registered unit table, None before the run's model was first loaded."""
        rows = self.query("SELECT unit_table FROM runs WHERE run_id = ? AND unit_table IS NOT NULL", [run_id])
        return None if rows.empty else str(rows["unit_table"].iloc[0])

    def results_since(self, model: str, revision: str | None, since: datetime, concepts: list, folds: int) -> int:
        """Stored (concept, fold < folds) results of runs of ``model``/``revision`` touched since ``since``."""
        sql = (
            "SELECT count(*) FROM results r JOIN runs u USING (run_id) WHERE u.model = ? AND u.updated_at >= ? "
            "AND u.revision IS NOT DISTINCT FROM ? AND r.concept IN (SELECT unnest(?)) AND r.fold < ?"
        )
        with self.connect() as con:
            return int(_scalar(con, sql, [model, since, revision, list(concepts), int(folds)]))

    def units(
        self, run_id: str, units: Iterable[int] | None = None, columns: Iterable[str] = UNIT_COLUMNS
    ) -> pd.DataFrame:
        """A run's unit table (layer, module, kind, index, head, role by unit), or only the rows of ``units``
        (a 12b-sized run has 1.66M units; a page listing a few dozen reads those), or only some ``columns``
        (grouping units by layer and kind needs those three, not the string columns)."""
        cols = ["unit", *[c for c in columns if c != "unit"]]
        unknown = set(cols) - set(UNIT_COLUMNS)
        if unknown:
            raise ValueError(f"no unit column {sorted(unknown)[0]!r}; the unit table has {', '.join(UNIT_COLUMNS)}")
        quoted = ", ".join(f'u."{c}"' for c in cols)  # "index" is an SQL keyword
        sql = f"SELECT {quoted} FROM units u JOIN runs r ON r.unit_table = u.unit_table WHERE r.run_id = ?"
        if units is None:
            return self.query(sql + " ORDER BY u.unit", [run_id])
        wanted = [int(u) for u in units]
        return self.query(sql + " AND u.unit IN (SELECT unnest(?::BIGINT[])) ORDER BY u.unit", [run_id, wanted])

    def done(self, run_id: str) -> set[tuple[str, int]]:
        """The (concept, fold) pairs of a run whose results are stored."""
        rows = self.query("SELECT concept, fold FROM results WHERE run_id = ?", [run_id])
        return set(zip(rows["concept"], rows["fold"].astype(int)))

    # -- parts ---------------------------------------------------------------
    def pending_parts(self, run_id: str | None = None) -> list[str]:
        """Part files (single or packed) on disk holding results that are not in the database yet."""
        stored = set(self.query("SELECT part FROM results")["part"].dropna()) if os.path.exists(self.path) else set()
        return pending_files(self.parts_dir, stored, run_id)

    def registered_runs(self) -> set[str]:
        """Runs with a unit table: those whose parts can be range-checked and ingested."""
        return set(self.query("SELECT run_id FROM runs WHERE unit_table IS NOT NULL")["run_id"])

    def ingest(self, part: str, manifest: tuple[dict, pd.DataFrame] | None = None) -> bool:
        """Load a part file (one result, or a packed run) into the database in one transaction; False if nothing new.

        The file is checked against its checksum and against its run (``result_bounds``): a registered one, or
        the ``manifest`` (row, unit table) registered in the same transaction (``UnknownRun`` without either),
        so a refused part leaves the store as it was."""
        rid = run_of(part)
        with self.connect() as con:
            found = con.execute("SELECT * FROM runs WHERE run_id = ? AND unit_table IS NOT NULL", [rid]).df()
        metas, rows = checked_part(part, found.iloc[0].to_dict() if len(found) else None, manifest)
        with self.connect(transaction=True) as con:
            if manifest is not None and found.empty:
                _add_run(con, manifest[0], manifest[1])
            have = set(con.execute("SELECT concept, fold FROM results WHERE run_id = ?", [rid]).fetchall())
            new = new_rows(rid, metas, rows, have)
            if new is None:
                return False
            for name, frame in zip(("part_rows", "vec_rows", "result_rows"), new):
                con.register(name, frame)
            _run(con, "INSERT INTO ap SELECT ?, concept, fold, unit, ap FROM part_rows", [rid])
            if len(new[1]):
                _run(con, "INSERT OR REPLACE INTO vectors SELECT run_id, concept, kind, vec FROM vec_rows")
            _run(con, "INSERT INTO results SELECT * FROM result_rows")
        return True

    def ingest_pending(self, run_id: str | None = None, refused: list[str] | None = None) -> int:
        """Ingest every pending part (``ingest.ingest_pending``); returns how many files brought something new."""
        return ingest_pending(self, run_id, refused)

    def ap(
        self, run_id: str, concepts: Iterable[str] | None = None, fold: int | None = 0, above: float = TAU_MIN
    ) -> pd.DataFrame:
        """Stored (concept, fold, unit, ap) rows with ``ap > above`` (strictly: the experts at τ = ``above``)."""
        sql = "SELECT concept, fold, unit, ap FROM ap WHERE run_id = ? AND ap > ?"
        params: list = [run_id, float(above)]
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

    # -- alignment snapshots and summaries: their SQL is in ``alignment_rows`` ------------------
    def save_alignment_snapshot(
        self, benchmark: str, table: pd.DataFrame, n_boot: int, benchmark_hash: str | None = None, n_results=None
    ) -> int:
        """``alignment_rows.save``: keep alignment rows under ``benchmark``; rows written."""
        return alignment_rows.save(self, benchmark, table, n_boot, benchmark_hash, n_results)

    def alignment_snapshot(
        self, benchmark: str | None = None, tau: float | None = None, benchmark_hash: str | None = None
    ) -> pd.DataFrame:
        """``alignment_rows.read``: stored alignment rows of ``benchmark`` at ``tau`` (None: all), or a hash's."""
        return alignment_rows.read(self, benchmark, tau, benchmark_hash)

    def alignment_benchmarks(self) -> list[str]:
        """``alignment_rows.benchmarks``: the benchmarks the stored alignment rows are of, by name."""
        return alignment_rows.benchmarks(self)

    def summary_status(self, benchmark_hash: str) -> pd.DataFrame:
        """``alignment_rows.status``: per run and τ, what ``benchmark_hash``'s summary rows hold."""
        return alignment_rows.status(self, benchmark_hash)

    def vectors(self, run_id: str, kind: str) -> dict[str, np.ndarray]:
        """``{concept: vector}`` of one kind of embedding (``word``, ``sentence``) stored with a run."""
        rows = self.query("SELECT concept, kind, vec FROM vectors WHERE run_id = ? AND kind = ?", [run_id, kind])
        return vectors_by_kind(rows).get(kind, {})

    def index_rows(self, run_id: str, vectors: bool = True) -> IndexRows:
        """A run's AP rows above the floor (all folds), its results and vectors, read in one connection."""
        with self.connect() as con:
            run = self._runs(con, run_id)[0]
            sizes = "SELECT concept, fold, n_pos, n_neg, n_units, n_stored FROM results WHERE run_id = ?"
            results = con.execute(sizes + " ORDER BY concept, fold", [run_id]).df()
            rows = con.execute(
                "WITH c AS (SELECT concept, (row_number() OVER (ORDER BY concept)) - 1 AS ci "
                "FROM (SELECT DISTINCT concept FROM results WHERE run_id = ?)) "
                "SELECT a.fold, c.ci, a.unit, a.ap FROM ap a JOIN c USING (concept) "
                "WHERE a.run_id = ? AND a.ap > ? ORDER BY a.fold, c.ci, a.unit",
                [run_id, run_id, TAU_MIN],
            ).fetchnumpy()
            vecs = con.execute("SELECT concept, kind, vec FROM vectors WHERE run_id = ?", [run_id]).df()
        return IndexRows(run, results, cast(dict[str, np.ndarray], rows), vecs if vectors else None)  # numeric columns

    def copy_runs(self, source: str, run_ids: list[str], sentence_sources: str) -> None:
        """Copy runs, their unit tables, APs, results, vectors and training logs from the store ``source`` into this one.

        Concepts with results come along; sentences only where their source matches the SQL ``LIKE``
        pattern ``sentence_sources`` (what may be redistributed). Ends with a checkpoint (one file).
        """
        by_run = "WHERE run_id IN (SELECT unnest(?))"
        copied = {  # what each table copies, in an order that lets later tables refer to earlier ones
            **{t: by_run for t in ("runs", "results", "vectors")},
            "ap": f"{by_run} ORDER BY run_id, concept, fold, unit",
            "units": f"WHERE unit_table IN (SELECT unit_table FROM src.runs {by_run})",
            "concepts": "WHERE concept IN (SELECT concept FROM results)",
            "concept_sentences": "WHERE source LIKE ? AND concept IN (SELECT concept FROM concepts)",
            "sentences": "WHERE sid IN (SELECT sid FROM concept_sentences)",
            "training_log": "WHERE model IN (SELECT model FROM runs)",
        }
        has_log = "SELECT count(*) FROM information_schema.tables WHERE table_catalog = 'src' AND table_name = ?"
        with self.connect(write=True) as con:
            _run(con, "ATTACH ? AS src (READ_ONLY)", [os.path.abspath(source)])
            _run(con, "BEGIN")
            for table, where in copied.items():
                if table != "training_log" or _scalar(con, has_log, [table]):  # stores made before it have none
                    args = [sentence_sources] if table == "concept_sentences" else [run_ids] * where.count("?")
                    _run(con, f"INSERT INTO {table} SELECT * FROM src.{table} {where}", args)
            _run(con, "COMMIT")
            _run(con, "DETACH src")
            _run(con, "CHECKPOINT")

    def checkpoint(self) -> None:
        """Fold the write-ahead log into the database file (before copying or measuring it)."""
        with self.connect(write=True) as con:
            _run(con, "CHECKPOINT")
