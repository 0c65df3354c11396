"""Result parts: one run × concept × fold of stored APs, a self-contained Parquet file.

Extraction writes parts atomically beside the database; ``Store.ingest`` loads
one in a single transaction. A killed extraction therefore leaves only whole
parts, and parts can be committed and re-ingested elsewhere (``results/parts``).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import zlib

import numpy as np
import pandas as pd

from core.errors import first_line

from .legacy import is_legacy

META_KEY = b"expert_part"
CHECKSUM_KEY = b"expert_checksum"  # the checksum again, outside the JSON: one flipped bit cannot pass for a legacy part
PACK_KEY = b"expert_pack"  # a packed run: the metadata of every (concept, fold) it holds, zlib-compressed JSON
PACK_SUFFIX = ".pack.parquet"
PACK_CHECKSUM_KEY = b"expert_pack_checksum"  # SHA-256 of a pack's metadata blob and columns (pack_checksum)


def part_path(parts_dir: str, run_id: str, concept: str, fold: int) -> str:
    """Where the part of one run × concept × fold lives under ``parts_dir``."""
    return os.path.join(parts_dir, run_id, f"{concept}__f{fold}.parquet")


def write_part(path: str, meta: dict, units: np.ndarray, ap: np.ndarray) -> str:
    """Write one result part atomically (temporary file, then rename)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    os.makedirs(os.path.dirname(path), exist_ok=True)
    units, ap = np.asarray(units, dtype=np.int32), np.asarray(ap, dtype=np.float32)
    meta = {**meta, "checksum": checksum(meta, units, ap)}
    table = pa.table({"unit": pa.array(units, pa.int32()), "ap": pa.array(ap, pa.float32())})
    table = table.replace_schema_metadata(
        {META_KEY: json.dumps(meta).encode(), CHECKSUM_KEY: meta["checksum"].encode()}
    )
    tmp = f"{path}.tmp{os.getpid()}"
    pq.write_table(table, tmp, compression="zstd")
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, path)
    return path


def read_meta(path: str) -> dict:
    """A part's metadata (run_id, concept, fold, set sizes, AP summary, embedding vectors); ``PartError`` if unreadable."""
    import pyarrow.parquet as pq

    try:
        return json.loads(pq.read_schema(path).metadata[META_KEY])
    except Exception as e:  # pyarrow, JSON and decoding errors of a damaged file, whatever their type
        raise PartError(f"part {path} cannot be read ({first_line(e, 160)}): truncated or corrupt") from None


def read_metas(path: str) -> list[dict]:
    """The metadata of every (concept, fold) a file holds: one for a part, all of them for a packed run.

    An unreadable file is a ``PartError`` naming it."""
    import pyarrow.parquet as pq

    try:
        metadata = pq.read_schema(path).metadata or {}
        if PACK_KEY in metadata:
            return json.loads(zlib.decompress(metadata[PACK_KEY]))
        return [json.loads(metadata[META_KEY])]
    except Exception as e:  # pyarrow, zlib, JSON and decoding errors of a damaged file, whatever their type
        raise PartError(f"part {path} cannot be read ({first_line(e, 160)}): truncated or corrupt") from None


def part_key(meta: dict) -> str:
    """``run_id/concept__f<fold>.parquet``: what the store records as a result's origin, packed or not."""
    return f"{meta['run_id']}/{meta['concept']}__f{meta['fold']}.parquet"


def is_pack(path: str) -> bool:
    return path.endswith(PACK_SUFFIX)


def pack_path(parts_dir: str, run_id: str) -> str:
    return os.path.join(parts_dir, run_id + PACK_SUFFIX)


PART_NAME = re.compile(r".+__f\d+\.parquet")
MAGIC = b"PAR1"


def is_part_file(path: str) -> bool:
    """Whether ``path`` is a part or pack by name (``<concept>__f<fold>.parquet``, ``<run>.pack.parquet``) and by
    Parquet magic: the only files ingesting reads, and the only ones it may set aside."""
    name = os.path.basename(path)
    if not (is_pack(name) or PART_NAME.fullmatch(name)) or not os.path.isfile(path):
        return False
    try:
        with open(path, "rb") as f:
            return f.read(4) == MAGIC
    except OSError:
        return False


def part_files(parts_dir: str, run_id: str | None = None) -> list[tuple[str, str]]:
    """(key, path) of every part file on disk (``is_part_file``), of one run or all, in name order.

    A part's key is ``run_id/file``; a packed run (``<run_id>.pack.parquet``) is one file whose key is its name.
    Other files (a user's own Parquet files, temporary files) are not parts and are left alone.
    """
    if not os.path.isdir(parts_dir):
        return []
    out = []
    names = [run_id, run_id + PACK_SUFFIX] if run_id else sorted(n for n in os.listdir(parts_dir) if n[0] != "_")
    for name in names:
        d = os.path.join(parts_dir, name)
        if is_pack(name) and is_part_file(d):
            out.append((name, d))
        elif os.path.isdir(d):
            names_in = sorted(f for f in os.listdir(d) if not f.startswith("_") and is_part_file(os.path.join(d, f)))
            out += [(f"{name}/{f}", os.path.join(d, f)) for f in names_in]
    return out


def run_of(path: str) -> str:
    """The run a part file belongs to: its folder's name, or a packed run's file name."""
    name = os.path.basename(path)
    return name[: -len(PACK_SUFFIX)] if is_pack(path) else os.path.basename(os.path.dirname(path))


def pending_files(parts_dir: str, stored: set[str], run_id: str | None = None) -> list[str]:
    """Part files (single or packed) on disk holding a result whose key (``part_key``) is not in ``stored``."""
    pending = []
    for key, path in part_files(parts_dir, run_id):
        try:
            keys = [part_key(m) for m in read_metas(path)] if is_pack(path) else [key]
        except PartError:
            keys = [key]  # unreadable pack: pending, so that ingesting it names it
        if any(k not in stored for k in keys):
            pending.append(path)
    return pending


def remove_stale_temps(path: str) -> list[str]:
    """Remove ``<path>.tmp<pid>`` files whose writer is no longer running (killed mid-write); the paths removed."""
    folder, name = os.path.split(path)
    removed = []
    for other in os.listdir(folder) if os.path.isdir(folder) else []:
        m = re.fullmatch(re.escape(name) + r"\.tmp(\d+)", other)
        if m and not _alive(int(m.group(1))):
            os.remove(os.path.join(folder, other))
            removed.append(os.path.join(folder, other))
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return False  # this process is not writing it now
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by another user
        return True
    return True


class PartError(ValueError):
    """A part that cannot be trusted: unreadable, truncated, or no longer matching its checksum."""


class UnknownRun(PartError):
    """A part whose run the store does not know (and no manifest describes): sound, but not ingestible here."""


# what a part's metadata must hold: its row of the store's ``results`` table, in the table's column order
RESULT_FIELDS = ("run_id", "concept", "fold", "n_pos", "n_neg", "n_units", "n_stored", "ap_floor", "max_ap", "mean_ap")
REFUSED_DIR = "_refused"  # where bad parts are set aside, inside the parts folder


def checksum(meta: dict, units: np.ndarray, ap: np.ndarray) -> str:
    """SHA-256 of a part's metadata (all but the checksum) and of its (unit, ap) columns as stored."""
    body = json.dumps({k: v for k, v in meta.items() if k != "checksum"}, sort_keys=True, separators=(",", ":"))
    h = hashlib.sha256(body.encode())
    h.update(np.ascontiguousarray(units, dtype="<i4").tobytes())
    h.update(np.ascontiguousarray(ap, dtype="<f4").tobytes())
    return h.hexdigest()


def read_part(path: str) -> tuple[dict, pd.DataFrame]:
    """A part's metadata and (unit, ap) rows, checked against its checksum.

    Parts written before checksums existed (``results/parts``) have none: they are read only if byte for byte
    a committed one (``core.storage.legacy``).
    Anything else wrong (truncated, not Parquet, fields missing, content changed) is a ``PartError``
    naming the file.
    """
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
        meta = json.loads(table.schema.metadata[META_KEY])
        stored = {meta.get("checksum"), (table.schema.metadata.get(CHECKSUM_KEY) or b"").decode() or None} - {None}
        units = table.column("unit").to_numpy()
        ap = table.column("ap").to_numpy()
        missing = [k for k in RESULT_FIELDS if k not in meta]
    except Exception as e:  # pyarrow, JSON and decoding errors of a damaged file, whatever their type
        raise PartError(f"part {path} cannot be read ({first_line(e, 160)}): truncated or corrupt") from None
    if missing:
        raise PartError(f"part {path} lacks {', '.join(missing)}: corrupt or not a result part")
    if stored and stored != {checksum(meta, units, ap)}:
        raise PartError(f"part {path} fails its checksum: its content changed after it was written")
    if not stored and not is_legacy(path):  # none at all: only the committed parts from before checksums
        raise PartError(f"part {path} has no checksum and is not a committed legacy part: refused")
    return meta, pd.DataFrame({"unit": units, "ap": ap})


def read_results(path: str) -> tuple[list[dict], pd.DataFrame]:
    """The metadata of every result a part file holds (embedding vectors in ``meta["vectors"]``) and its
    (concept, fold, unit, ap) rows, checked against the file's checksum (``read_part``, ``check_pack``).

    Everything is read here with pyarrow, so a file that pyarrow and the checksum pass is never read again."""
    if not is_pack(path):
        meta, rows = read_part(path)
        return [meta], rows.assign(concept=meta["concept"], fold=meta["fold"])
    table = check_pack(path)
    try:
        metas = read_metas(path)
        frame = table.select(["concept", "fold", "unit", "ap", "kind"]).to_pandas()
        vec = table.column("vec").to_pylist()
    except Exception as e:  # decoding errors of a damaged file, whatever their type
        raise PartError(f"pack {path} cannot be read ({first_line(e, 160)}): truncated or corrupt") from None
    for name in ("concept", "kind"):  # dictionary-encoded columns arrive as categoricals
        frame[name] = frame[name].astype(object)
    is_ap = frame["kind"].isna().to_numpy()
    vectors: dict[tuple, dict] = {}
    for i in np.flatnonzero(~is_ap):
        vectors.setdefault((frame["concept"].iat[i], int(frame["fold"].iat[i])), {})[frame["kind"].iat[i]] = vec[i]
    for meta in metas:
        meta["vectors"] = vectors.get((meta.get("concept"), meta.get("fold")), {})
    rows = frame[is_ap].drop(columns="kind").reset_index(drop=True)
    if not rows["unit"].isna().any():  # else refused by the range check (result_bounds)
        rows["unit"] = rows["unit"].astype("int32")
    return metas, rows


def pack_checksum(blob: bytes, table) -> str:
    """SHA-256 of a pack's compressed metadata and of its columns as stored (nulls as fixed fill values)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    h = hashlib.sha256(blob)
    for name, dtype, fill in (("fold", "<i2", 0), ("unit", "<i4", -1), ("ap", "<f4", float("nan"))):
        col = pc.fill_null(table.column(name).combine_chunks(), pa.scalar(fill, table.schema.field(name).type))
        h.update(np.ascontiguousarray(col.to_numpy(zero_copy_only=False), dtype=dtype).tobytes())
    for name in ("concept", "kind"):
        h.update(json.dumps(table.column(name).to_pylist(), separators=(",", ":")).encode())
    vec = table.column("vec").combine_chunks()
    lengths = pc.fill_null(pc.list_value_length(vec), -1).to_numpy(zero_copy_only=False)  # pyright: ignore[reportAttributeAccessIssue]  # pyarrow.compute defines its functions at import
    h.update(np.ascontiguousarray(lengths, dtype="<i8").tobytes())
    h.update(np.ascontiguousarray(pc.list_flatten(vec).to_numpy(zero_copy_only=False), dtype="<f4").tobytes())  # pyright: ignore[reportAttributeAccessIssue]  # as above
    return h.hexdigest()


def check_pack(path: str):
    """A packed run's table, checked against its checksum; ``PartError`` naming the file if it fails.

    Packs written before checksums existed (committed under ``results/``) have none: they are read only if byte
    for byte a committed one (``core.storage.legacy``).
    """
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
        metadata = table.schema.metadata or {}
        blob, stored = metadata[PACK_KEY], metadata.get(PACK_CHECKSUM_KEY)
        actual = pack_checksum(blob, table) if stored else None
        json.loads(zlib.decompress(blob))
    except Exception as e:  # pyarrow, zlib, JSON and decoding errors of a damaged file, whatever their type
        raise PartError(f"pack {path} cannot be read ({first_line(e, 160)}): truncated or corrupt") from None
    if stored and stored.decode(errors="replace") != actual:
        raise PartError(f"pack {path} fails its checksum: its content changed after it was written")
    if not stored and not is_legacy(path):  # a key removed, renamed or emptied: not a legacy pack
        raise PartError(f"pack {path} has no checksum and is not a committed legacy pack: refused")
    return table


def set_aside(path: str, parts_dir: str) -> str:
    """Move a bad part to ``<parts_dir>/_refused/<run_id>/`` (a bad pack to ``_refused/``), out of the way of
    reruns and kept for a look; the new path. Only files recognised as parts (``is_part_file``) are moved."""
    rid = "" if is_pack(path) else os.path.basename(os.path.dirname(path))
    folder = os.path.join(parts_dir, REFUSED_DIR, rid)
    os.makedirs(folder, exist_ok=True)
    target = os.path.join(folder, os.path.basename(path))
    os.replace(path, target)
    return target
