"""Result parts: one run × concept × fold of stored APs, a self-contained Parquet file.

Extraction writes parts atomically beside the database; ``Store.ingest`` loads
one in a single transaction. A killed extraction therefore leaves only whole
parts, and parts can be committed and re-ingested elsewhere (``results/parts``).
"""

from __future__ import annotations

import json
import os

import numpy as np

META_KEY = b"expert_part"


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


def part_files(parts_dir: str, run_id: str | None = None) -> list[tuple[str, str]]:
    """(``run_id/file`` key, path) of every part on disk, of one run or all, in name order."""
    if not os.path.isdir(parts_dir):
        return []
    out = []
    for rid in [run_id] if run_id else sorted(os.listdir(parts_dir)):
        d = os.path.join(parts_dir, rid)
        if os.path.isdir(d):
            out += [(f"{rid}/{f}", os.path.join(d, f)) for f in sorted(os.listdir(d)) if f.endswith(".parquet")]
    return out
