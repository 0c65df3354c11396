"""Ingesting a parts folder: runs restored from their manifests first, then every pending part, bad ones set aside.

A run known only from its manifest is registered with its first part that ingests. A part or manifest that
cannot be trusted (``PartError``) is moved to ``<parts>/_refused/`` and named; a sound part
whose run is unknown (``UnknownRun``: no manifest beside it) is named and left where it is.
"""

from __future__ import annotations

import os

from .manifests import RUNS_DIR, manifest_path, read_manifest
from .parts import REFUSED_DIR, PartError, UnknownRun, run_of, set_aside


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
