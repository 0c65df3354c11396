"""Result parts: one run × concept × fold of stored APs, a self-contained Parquet file.

Extraction writes parts atomically beside the database; ``Store.ingest`` loads
one in a single transaction. A killed extraction therefore leaves only whole
parts, and parts can be committed and re-ingested elsewhere (``results/parts``).
"""

from __future__ import annotations

import json
import os
import zlib

import numpy as np

META_KEY = b"expert_part"
PACK_KEY = b"expert_pack"  # a packed run: the metadata of every (concept, fold) it holds, zlib-compressed JSON
PACK_SUFFIX = ".pack.parquet"


def part_path(parts_dir: str, run_id: str, concept: str, fold: int) -> str:
    """Where the part of one run × concept × fold lives under ``parts_dir``."""
    return os.path.join(parts_dir, run_id, f"{concept}__f{fold}.parquet")


def write_part(path: str, meta: dict, units: np.ndarray, ap: np.ndarray) -> str:
    """Write one result part atomically (temporary file, then rename)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    os.makedirs(os.path.dirname(path), exist_ok=True)
    table = pa.table({"unit": pa.array(units, pa.int32()), "ap": pa.array(ap, pa.float32())})
    table = table.replace_schema_metadata({META_KEY: json.dumps(meta).encode()})
    tmp = f"{path}.tmp{os.getpid()}"
    pq.write_table(table, tmp, compression="zstd")
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, path)
    return path


def read_meta(path: str) -> dict:
    """A part's metadata (run_id, concept, fold, set sizes, AP summary, embedding vectors)."""
    import pyarrow.parquet as pq

    return json.loads(pq.read_schema(path).metadata[META_KEY])


def read_metas(path: str) -> list[dict]:
    """The metadata of every (concept, fold) a file holds: one for a part, all of them for a packed run."""
    import pyarrow.parquet as pq

    metadata = pq.read_schema(path).metadata or {}
    if PACK_KEY in metadata:
        return json.loads(zlib.decompress(metadata[PACK_KEY]))
    return [json.loads(metadata[META_KEY])]


def part_key(meta: dict) -> str:
    """``run_id/concept__f<fold>.parquet``: what the store records as a result's origin, packed or not."""
    return f"{meta['run_id']}/{meta['concept']}__f{meta['fold']}.parquet"


def is_pack(path: str) -> bool:
    return path.endswith(PACK_SUFFIX)


def pack_path(parts_dir: str, run_id: str) -> str:
    return os.path.join(parts_dir, run_id + PACK_SUFFIX)


def part_files(parts_dir: str, run_id: str | None = None) -> list[tuple[str, str]]:
    """(key, path) of every part file on disk, of one run or all, in name order.

    A part's key is ``run_id/file``; a packed run (``<run_id>.pack.parquet``) is one file whose key is its name.
    """
    if not os.path.isdir(parts_dir):
        return []
    out = []
    names = [run_id, run_id + PACK_SUFFIX] if run_id else sorted(os.listdir(parts_dir))
    for name in names:
        d = os.path.join(parts_dir, name)
        if name.endswith(PACK_SUFFIX) and os.path.isfile(d):
            out.append((name, d))
        elif os.path.isdir(d):
            out += [(f"{name}/{f}", os.path.join(d, f)) for f in sorted(os.listdir(d)) if f.endswith(".parquet")]
    return out


def pack_parts(parts_dir: str, run_id: str) -> str | None:
    """Pack a run's parts into one file ``<run_id>.pack.parquet`` and remove them; None if it has none.

    One Parquet footer and one copy of the metadata instead of one per concept, and the embedding vectors as
    float32 rows instead of JSON text, so finished runs are small enough to commit. Parts added after an earlier pack are merged in;
    the store ingests packed and single parts alike (``Store.ingest``).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    singles = [path for key, path in part_files(parts_dir, run_id) if not is_pack(path)]
    if not singles:
        return None
    out = pack_path(parts_dir, run_id)
    metas: dict[str, dict] = {}
    tables = []
    if os.path.exists(out):
        old = pq.read_table(out)
        for meta in read_metas(out):
            metas[part_key(meta)] = meta
        tables.append(old.replace_schema_metadata(None))
    for path in singles:
        meta = read_meta(path)
        if part_key(meta) in metas:
            continue
        vectors = meta.pop("vectors", None) or {}
        metas[part_key(meta)] = meta
        t = pq.read_table(path)
        n, kinds = t.num_rows, list(vectors)
        tables.append(  # AP rows (kind null), then one row per embedding vector (unit and ap null)
            pa.table(
                {
                    "concept": pa.array([meta["concept"]] * (n + len(kinds)), pa.string()),
                    "fold": pa.array([meta["fold"]] * (n + len(kinds)), pa.int16()),
                    "unit": pa.concat_arrays([t["unit"].combine_chunks(), pa.nulls(len(kinds), pa.int32())]),
                    "ap": pa.concat_arrays([t["ap"].combine_chunks(), pa.nulls(len(kinds), pa.float32())]),
                    "kind": pa.array([None] * n + kinds, pa.string()),
                    "vec": pa.array([None] * n + [vectors[k] for k in kinds], pa.list_(pa.float32())),
                }
            )
        )
    table = pa.concat_tables(tables).sort_by(
        [("concept", "ascending"), ("fold", "ascending"), ("kind", "ascending"), ("unit", "ascending")]
    )
    ordered = [metas[k] for k in sorted(metas)]
    table = table.replace_schema_metadata({PACK_KEY: zlib.compress(json.dumps(ordered).encode(), 9)})
    tmp = f"{out}.tmp{os.getpid()}"
    pq.write_table(table, tmp, compression="zstd", use_dictionary=["concept", "kind"])
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, out)
    for path in singles:
        os.remove(path)
    folder = os.path.join(parts_dir, run_id)
    if os.path.isdir(folder) and not os.listdir(folder):
        os.rmdir(folder)
    return out
