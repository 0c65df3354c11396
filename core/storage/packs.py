"""Packs: a whole run's results in one checksummed Parquet file (``<run_id>.pack.parquet`` beside its parts).

``pack_parts`` packs the single parts an extraction wrote; ``write_pack`` writes a run computed in one piece.
Both write the same file, which ``parts.read_results`` checks and ``Store.ingest`` loads like any part.
"""

from __future__ import annotations

import json
import os
import zlib
from contextlib import contextmanager

import numpy as np

from .parts import (
    PACK_CHECKSUM_KEY,
    PACK_KEY,
    check_pack,
    is_pack,
    pack_checksum,
    pack_path,
    part_files,
    part_key,
    read_metas,
    read_part,
    remove_stale_temps,
)


def pack_parts(parts_dir: str, run_id: str) -> str | None:
    """Pack a run's parts into one file ``<run_id>.pack.parquet`` and remove them; None if it has none.

    One Parquet footer and one copy of the metadata instead of one per concept, and the embedding vectors as
    float32 rows instead of JSON text, so finished runs are small enough to commit. Parts added after an earlier pack are merged in;
    the store ingests packed and single parts alike (``Store.ingest``).
    """
    with _folder_lock(parts_dir):  # two packs at once: the second waits, then finds the parts packed
        return _pack(parts_dir, run_id)


@contextmanager
def _folder_lock(folder: str):
    """An exclusive lock on a folder (``flock`` of its descriptor: no lock file in a folder meant to be committed)."""
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock
        yield
        return
    fd = os.open(folder, os.O_RDONLY) if os.path.isdir(folder) else None
    try:
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        if fd is not None:
            os.close(fd)  # closing releases the lock


def _pack(parts_dir: str, run_id: str) -> str | None:

    out = pack_path(parts_dir, run_id)
    remove_stale_temps(out)  # left by a pack that was killed while writing
    singles = [path for key, path in part_files(parts_dir, run_id) if not is_pack(path)]
    if not singles:
        return None
    metas: dict[str, dict] = {}
    tables = []
    if os.path.exists(out):
        old = check_pack(out)  # a damaged pack must not be merged and re-checksummed
        for meta in read_metas(out):
            metas[part_key(meta)] = meta
        tables.append(old.replace_schema_metadata(None))
    new = 0
    for path in singles:
        meta, rows = read_part(path)  # a changed part must not be packed and re-checksummed either
        if part_key(meta) in metas:
            continue
        new += 1
        vectors = meta.pop("vectors", None) or {}
        metas[part_key(meta)] = meta
        tables.append(_pack_rows(meta, rows["unit"], rows["ap"], vectors))
    if not new:  # a pack killed while removing its parts: it holds them all already
        _remove_packed(parts_dir, run_id, singles)
        return out
    _write_pack(out, tables, metas)
    _remove_packed(parts_dir, run_id, singles)
    return out


def write_pack(parts_dir: str, run_id: str, results: list[tuple[dict, np.ndarray, np.ndarray]]) -> str:
    """Write a whole run's results as its pack in one go: ``(meta, units, ap)`` per (concept, fold), the meta with
    the fields a part has (``RESULT_FIELDS``, embedding vectors under ``"vectors"``). The file is the one
    ``pack_parts`` would write from the same parts (checksummed, read by ``Store.ingest``); an existing pack is
    replaced. For runs computed elsewhere in one piece (a generated or imported run) instead of part by part."""
    out = pack_path(parts_dir, run_id)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    metas, tables = {}, []
    for meta, units, ap in results:
        vectors = meta.get("vectors") or {}
        meta = {k: v for k, v in meta.items() if k != "vectors"}
        metas[part_key(meta)] = meta
        tables.append(_pack_rows(meta, units, ap, vectors))
    _write_pack(out, tables, metas)
    return out


def _pack_rows(meta: dict, units, ap, vectors: dict):
    """One result's rows of a pack: its AP rows (kind null), then one row per embedding vector (unit and ap null)."""
    import pyarrow as pa

    units = pa.array(np.asarray(units, dtype=np.int32), pa.int32())
    ap = pa.array(np.asarray(ap, dtype=np.float32), pa.float32())
    n, kinds = len(units), list(vectors)
    return pa.table(
        {
            "concept": pa.array([meta["concept"]] * (n + len(kinds)), pa.string()),
            "fold": pa.array([meta["fold"]] * (n + len(kinds)), pa.int16()),
            "unit": pa.concat_arrays([units, pa.nulls(len(kinds), pa.int32())]),
            "ap": pa.concat_arrays([ap, pa.nulls(len(kinds), pa.float32())]),
            "kind": pa.array([None] * n + kinds, pa.string()),
            "vec": pa.array([None] * n + [vectors[k] for k in kinds], pa.list_(pa.float32())),
        }
    )


def _write_pack(out: str, tables: list, metas: dict[str, dict]) -> None:
    """Sort, checksum and write a pack's rows atomically (temporary file, then rename)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.concat_tables(tables).sort_by(
        [("concept", "ascending"), ("fold", "ascending"), ("kind", "ascending"), ("unit", "ascending")]
    )
    ordered = [metas[k] for k in sorted(metas)]
    blob = zlib.compress(json.dumps(ordered).encode(), 9)
    table = table.replace_schema_metadata({PACK_KEY: blob, PACK_CHECKSUM_KEY: pack_checksum(blob, table).encode()})
    tmp = f"{out}.tmp{os.getpid()}"
    pq.write_table(table, tmp, compression="zstd", use_dictionary=["concept", "kind"])  # pyright: ignore[reportArgumentType]  # bool or list (pyarrow docs); untyped, inferred from the default
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, out)


def _remove_packed(parts_dir: str, run_id: str, singles: list[str]) -> None:
    for path in singles:
        os.remove(path)
    folder = os.path.join(parts_dir, run_id)
    if os.path.isdir(folder) and not os.listdir(folder):
        os.rmdir(folder)
