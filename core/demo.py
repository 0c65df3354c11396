"""The embedded demo store: derived numbers only, small enough to commit.

``build_demo`` copies runs, unit tables, stored APs, results and embedding
vectors from a working store into a fresh one. Sentences are copied only when
the project may redistribute them (those it generated itself, source
``generated:*``); corpus text stays out, since the demo store is committed.
Benchmark ratings stay out too: given benchmarks, the demo store keeps an
alignment *snapshot* (ρ, CIs and tests at every τ of the dashboard's slider,
and ρ from one layer or module kind at a time),
so alignment can be shown where the benchmark file is not available.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping

import pandas as pd

from .store import Store, _run

DEMO_PATH = os.path.join("cache", "demo.duckdb")
REDISTRIBUTABLE = "generated:%"
SLIDER_TAUS = tuple(round(0.5 + 0.01 * i, 2) for i in range(51))  # the dashboard's τ slider: 0.50, 0.51, … 1.00


def build_demo(
    source: str,
    out: str = DEMO_PATH,
    run_ids: list[str] | None = None,
    max_mb: float = 50.0,
    benchmarks: Mapping[str, pd.DataFrame] | None = None,
    n_boot: int = 1000,
) -> dict:
    """Write the demo store ``out`` from ``source``; refuse (and remove it) if it exceeds ``max_mb``.

    ``benchmarks`` (``{name: pairs}``, e.g. ``{"MEN test": load_men("test")}``) are scored at every τ of
    the slider and kept as alignment snapshots; the pairs themselves are not written.
    """
    src = Store(source, read_only=True)
    runs = src.runs()
    runs = runs[runs["n_results"] > 0]
    if run_ids:
        unknown = set(run_ids) - set(runs["run_id"])
        if unknown:
            raise ValueError(f"no results for run(s) {', '.join(sorted(unknown))} in {source}")
        runs = runs[runs["run_id"].isin(run_ids)]
    if runs.empty:
        raise ValueError(f"{source} has no run with results to put in a demo store")
    ids = runs["run_id"].tolist()
    tmp = out + ".building"
    for p in (tmp, tmp + ".wal"):
        if os.path.exists(p):
            os.remove(p)
    snapshot = tmp + ".source"
    with src.connect():  # holding a read connection keeps writers out while the file is copied
        for suffix in ("", ".wal"):
            if os.path.exists(source + suffix):
                shutil.copyfile(source + suffix, snapshot + suffix)
    demo = Store(tmp)
    with demo.connect(write=True) as con:
        _run(con, "ATTACH ? AS src (READ_ONLY)", [os.path.abspath(snapshot)])
        _run(con, "BEGIN")
        _run(con, "INSERT INTO runs SELECT * FROM src.runs WHERE run_id IN (SELECT unnest(?))", [ids])
        _run(
            con,
            "INSERT INTO units SELECT * FROM src.units WHERE unit_table IN "
            "(SELECT unit_table FROM src.runs WHERE run_id IN (SELECT unnest(?)))",
            [ids],
        )
        for table in ("results", "vectors"):
            _run(con, f"INSERT INTO {table} SELECT * FROM src.{table} WHERE run_id IN (SELECT unnest(?))", [ids])
        _run(
            con,
            "INSERT INTO ap SELECT * FROM src.ap WHERE run_id IN (SELECT unnest(?)) "
            "ORDER BY run_id, concept, fold, unit",
            [ids],
        )
        _run(
            con,
            "INSERT INTO concepts SELECT * FROM src.concepts WHERE concept IN (SELECT DISTINCT concept FROM results)",
        )
        _run(
            con,
            "INSERT INTO concept_sentences SELECT * FROM src.concept_sentences WHERE source LIKE ? "
            "AND concept IN (SELECT concept FROM concepts)",
            [REDISTRIBUTABLE],
        )
        _run(con, "INSERT INTO sentences SELECT * FROM src.sentences WHERE sid IN (SELECT sid FROM concept_sentences)")
        _run(con, "COMMIT")
        _run(con, "DETACH src")
        _run(con, "CHECKPOINT")
    for suffix in ("", ".wal"):
        if os.path.exists(snapshot + suffix):
            os.remove(snapshot + suffix)
    n_snap = 0
    if benchmarks:
        from .alignment import alignment_over_taus
        from .layers import group_alignment_rows

        for name, pairs in benchmarks.items():
            table = alignment_over_taus(demo, ids, pairs, SLIDER_TAUS, n_boot=n_boot)
            n_snap += demo.save_alignment_snapshot(name, table, n_boot)
            for by in ("layer", "kind"):  # where in the network: one group of units at a time
                n_snap += demo.save_alignment_snapshot(
                    name, group_alignment_rows(demo, ids, pairs, SLIDER_TAUS, by), n_boot
                )
        with demo.connect(write=True) as con:
            _run(con, "CHECKPOINT")
    size_mb = os.path.getsize(tmp) / 2**20
    if size_mb > max_mb:
        os.remove(tmp)
        raise ValueError(f"demo store would be {size_mb:.1f} MB, over the {max_mb:g} MB budget: pass fewer --runs")
    os.replace(tmp, out)
    counts = (
        Store(out, read_only=True)
        .query(
            "SELECT (SELECT count(*) FROM runs) AS runs, (SELECT count(DISTINCT concept) FROM results) AS concepts, "
            "(SELECT count(*) FROM ap) AS ap_rows, (SELECT count(*) FROM sentences) AS sentences"
        )
        .iloc[0]
        .to_dict()
    )
    return {
        "path": out,
        "size_mb": round(size_mb, 2),
        **{k: int(v) for k, v in counts.items()},
        "snapshot_rows": n_snap,
    }
