"""Ingesting a parts folder: runs restored from their manifests first, then every pending part, bad ones set aside.

A run known only from its manifest is registered with its first part that ingests. A part or manifest that
cannot be trusted (``PartError``) is moved to ``<parts>/_refused/`` and named; a sound part
whose run is unknown (``UnknownRun``: no manifest beside it) is named and left where it is.
"""

from __future__ import annotations

import os

import pandas as pd

from .manifests import RUNS_DIR, manifest_path, read_manifest
from .parts import REFUSED_DIR, RESULT_FIELDS, PartError, UnknownRun, part_key, read_results, run_of, set_aside
from .records import Run, utc_now
from .result_bounds import check_results


def ingest_pending(store, run_id: str | None = None, refused: list[str] | None = None) -> int:
    """Ingest every pending part of ``store`` (one run's, or all); returns how many files brought something new.

    A bad file raises ``PartError``; when ``refused`` is given, its one-line reason is appended instead, a bad
    file is set aside and the other parts are ingested."""
    pending = store.pending_parts(run_id)
    blocked: set[str] = set()
    manifests: dict[str, tuple] = {}  # registered with the first of their parts that ingests
    for rid in sorted({run_of(p) for p in pending} - store.registered_runs()):  # runs known only from manifests
        try:
            manifest = read_manifest(store.parts_dir, rid)
        except PartError as e:
            if refused is None:
                raise
            folder = os.path.join(store.parts_dir, REFUSED_DIR, RUNS_DIR)
            os.makedirs(folder, exist_ok=True)
            os.replace(manifest_path(store.parts_dir, rid), os.path.join(folder, f"{rid}.parquet"))
            refused.append(str(e))
            blocked.add(rid)
            continue
        if manifest is not None:
            manifests[rid] = manifest
    n = 0
    for path in pending:
        if run_of(path) in blocked:
            continue
        try:
            n += store.ingest(path, manifests.get(run_of(path)))
        except UnknownRun as e:
            if refused is None:
                raise
            refused.append(f"{e}: copy its run manifest into {os.path.join(store.parts_dir, RUNS_DIR)}")
        except PartError as e:
            if refused is None:
                raise
            set_aside(path, store.parts_dir)
            refused.append(str(e))
    return n


def checked_part(part: str, registered: dict | None, manifest: tuple | None) -> tuple[list[dict], pd.DataFrame]:
    """A part's result metas and AP rows, checked against its checksum and its run (``result_bounds``): the
    ``registered`` run row, else the ``manifest``'s (``UnknownRun`` without either)."""
    metas, rows = read_results(part)
    row = registered if registered is not None else manifest[0] if manifest is not None else None
    if row is None:
        raise UnknownRun(
            f"part {part} is of run {run_of(part)}, which this store does not have and no manifest describes"
        )
    run = Run.from_row(row)
    check_results(part, metas, rows, run, run.n_units or 0)
    return metas, rows


def new_rows(run_id: str, metas: list[dict], rows: pd.DataFrame, have: set) -> tuple[pd.DataFrame, ...] | None:
    """(AP rows, vector rows, result rows) of a part's results whose (concept, fold) is not in ``have``; None if none."""
    new = [m for m in metas if (m["concept"], m["fold"]) not in have]
    if not new:
        return None
    keys = pd.MultiIndex.from_tuples([(m["concept"], m["fold"]) for m in new])
    ap = rows[pd.MultiIndex.from_arrays([rows["concept"], rows["fold"]]).isin(keys)]
    vecs = [(run_id, m["concept"], k, v) for m in new for k, v in (m.get("vectors") or {}).items()]
    done = pd.DataFrame([[m[k] for k in RESULT_FIELDS] + [part_key(m)] for m in new])
    results = done.set_axis([*RESULT_FIELDS, "part"], axis=1).assign(finished_at=utc_now())
    return ap, pd.DataFrame(vecs, columns=["run_id", "concept", "kind", "vec"]), results
