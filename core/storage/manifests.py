"""Run manifests: a run's ``runs`` row and unit table kept beside its parts (``<parts>/_runs/<run_id>.parquet``),
so parts alone rebuild a store. Each carries a checksum; one without is trusted only if it is a committed legacy
file (``core.storage.legacy``)."""

from __future__ import annotations

import hashlib
import json
import os

import pandas as pd

from core.errors import first_line

from .legacy import is_legacy
from .parts import PartError

RUNS_DIR = "_runs"  # inside the parts folder: packing a run (``pack_parts``) leaves its manifest in place
RUN_KEY = b"expert_run"
MANIFEST_CHECKSUM_KEY = b"expert_run_checksum"


def manifest_path(parts_dir: str, run_id: str) -> str:
    return os.path.join(parts_dir, RUNS_DIR, f"{run_id}.parquet")


def manifest_checksum(row_json: bytes, table) -> str:
    """SHA-256 of a manifest's row (as stored) and of its unit table's values."""
    h = hashlib.sha256(row_json)
    h.update(json.dumps(table.to_pydict(), default=str, separators=(",", ":")).encode())
    return h.hexdigest()


def write_manifest(parts_dir: str, row: dict, units: pd.DataFrame) -> str:
    """Write a run's ``runs`` row and unit table into the parts folder (once), with its checksum."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = manifest_path(parts_dir, row["run_id"])
    if os.path.exists(path):
        return path
    os.makedirs(os.path.dirname(path), exist_ok=True)
    table = pa.Table.from_pandas(units.reset_index(drop=True), preserve_index=False)
    row_json = json.dumps(row, default=str).encode()
    table = table.replace_schema_metadata(
        {RUN_KEY: row_json, MANIFEST_CHECKSUM_KEY: manifest_checksum(row_json, table).encode()}
    )
    tmp = f"{path}.tmp{os.getpid()}"
    pq.write_table(table, tmp, compression="zstd")
    os.replace(tmp, path)
    return path


def read_manifest(parts_dir: str, run_id: str) -> tuple[dict, pd.DataFrame] | None:
    """The ``runs`` row and unit table kept beside a run's parts, or None (older runs have none).

    ``PartError`` naming the file when it is unreadable, fails its checksum, has none and is not a committed
    legacy one, or describes another run."""
    import pyarrow.parquet as pq

    path = manifest_path(parts_dir, run_id)
    if not os.path.exists(path):
        return None
    try:
        table = pq.read_table(path)
        metadata = table.schema.metadata or {}
        row_json, stored = metadata[RUN_KEY], metadata.get(MANIFEST_CHECKSUM_KEY)
        row = json.loads(row_json)
        actual = manifest_checksum(row_json, table) if stored else None
    except Exception as e:  # pyarrow, JSON and decoding errors of a damaged file, whatever their type
        raise PartError(f"run manifest {path} cannot be read ({first_line(e, 160)}): truncated or corrupt") from None
    if stored and stored.decode(errors="replace") != actual:
        raise PartError(f"run manifest {path} fails its checksum: its content changed after it was written")
    if not stored and not is_legacy(path):
        raise PartError(f"run manifest {path} has no checksum and is not a committed legacy manifest: refused")
    if not isinstance(row, dict) or row.get("run_id") != run_id:
        raise PartError(f"run manifest {path} describes another run than {run_id!r}: refused")
    return row, table.to_pandas()
