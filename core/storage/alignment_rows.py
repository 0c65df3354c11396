"""The alignment table's queries (snapshots and per-run summaries), for ``Store``; with ``store``, the only code that
speaks SQL. Each function takes the store whose connection it uses."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from .records import SNAPSHOT_COLUMNS, SNAPSHOT_READ, utc_now

if TYPE_CHECKING:
    from .store import Store


def save(
    store: Store, benchmark: str, table: pd.DataFrame, n_boot: int, benchmark_hash: str | None = None, n_results=None
) -> int:
    """Keep alignment rows (``alignment_table``, ``group_alignment_rows``; any τs) under ``benchmark``; rows written.

    Without a ``benchmark_hash``: a snapshot, shown where the benchmark file is absent (the committed demo: MEN is
    not redistributed; correlations only, never ratings). With one (``benchmarks.pairs_hash``): also runs'
    summaries, current while a run has ``n_results[run_id]`` results. Same benchmark, run, method, τ: replaced."""
    rows = table[["run_id", *SNAPSHOT_COLUMNS]].assign(tau=table["tau"].astype(float).round(4))
    rows["n_results"] = rows["run_id"].map(dict(n_results or {})).astype("Int64")
    cols = ", ".join(SNAPSHOT_COLUMNS)
    sql = f"INSERT OR REPLACE INTO alignment_snapshots (benchmark, run_id, {cols}, n_boot, computed_at, "
    sql += f"benchmark_hash, n_results) SELECT ?, run_id, {cols}, ?, ?, ?, n_results FROM snap_rows"
    with store.connect(write=True) as con:
        con.register("snap_rows", rows)
        con.execute(sql, [benchmark, int(n_boot), utc_now(), benchmark_hash]).fetchall()  # one statement: atomic
    return len(rows)


def read(
    store: Store, benchmark: str | None = None, tau: float | None = None, benchmark_hash: str | None = None
) -> pd.DataFrame:
    """Stored alignment rows with their runs' columns, of ``benchmark`` and at ``tau`` (None: all); with
    ``benchmark_hash``, that hash's summary rows, one per run, method and τ (empty for a store without any)."""
    if not store._has("alignment_snapshots", "benchmark_hash" if benchmark_hash else None):
        return pd.DataFrame(columns=SNAPSHOT_READ)
    tau = None if tau is None else round(float(tau), 4)
    newest = "QUALIFY row_number() OVER (PARTITION BY s.run_id, s.method, s.tau ORDER BY s.computed_at DESC) = 1"
    sql = (
        "SELECT s.*, r.model, r.family, r.n_params, r.revision, r.step FROM alignment_snapshots s JOIN runs r "
        "USING (run_id) WHERE (s.benchmark = ? OR ? IS NULL) AND (abs(s.tau - ?) < 1e-6 OR ? IS NULL) "
        + (f"AND s.benchmark_hash = ? {newest} " if benchmark_hash else "")  # the same pairs under two names
        + "ORDER BY s.benchmark, r.model, r.step NULLS LAST, s.run_id, s.tau"
    )
    rows = store.query(sql, [benchmark, benchmark, tau, tau] + ([benchmark_hash] if benchmark_hash else []))
    return rows.reindex(columns=SNAPSHOT_READ)  # a store made before the summary columns: None there


def benchmarks(store: Store) -> list[str]:
    """The benchmarks the stored alignment rows are of, by name (what a page lists without reading the rows: a
    462-run store holds about 700k of them)."""
    if not store._has("alignment_snapshots"):
        return []
    rows = store.query("SELECT DISTINCT benchmark FROM alignment_snapshots ORDER BY benchmark")
    return [str(b) for b in rows["benchmark"]]


def status(store: Store, benchmark_hash: str) -> pd.DataFrame:
    """Per run and τ of ``benchmark_hash``'s summary rows (of a writable store: its schema has the columns): the
    results count, the fewest resamples and the kinds held (each measure by name; ``layer:``, ``kind:`` rows)."""
    kind = "CASE WHEN contains(method, ':') THEN split_part(method, ':', 1) || ':' ELSE method END"
    sql = "SELECT run_id, round(tau, 4) AS tau, n_results, min(n_boot) FILTER (WHERE NOT contains(method, ':')) "
    sql += f"AS n_boot, list_distinct(list({kind})) AS kinds FROM alignment_snapshots WHERE benchmark_hash = ? "
    sql += "GROUP BY ALL ORDER BY run_id, tau"  # n_boot: of the measures' rows (a group's row has no bootstrap)
    return store.query(sql, [benchmark_hash])
