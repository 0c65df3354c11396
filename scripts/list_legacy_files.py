"""Write core/storage/legacy.sha256: the SHA-256 of every committed result file (part, pack, run manifest) without a
checksum, the only such files ``core.storage.legacy`` trusts. Run once when the committed results change:
``python scripts/list_legacy_files.py``; ``sha256sum -c core/storage/legacy.sha256`` checks the list against results/."""

from __future__ import annotations

import glob
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import pyarrow.parquet as pq  # noqa: E402

from core.storage.legacy import LIST, file_sha256  # noqa: E402
from core.storage.manifests import MANIFEST_CHECKSUM_KEY  # noqa: E402
from core.storage.parts import CHECKSUM_KEY, META_KEY, PACK_CHECKSUM_KEY  # noqa: E402


def has_checksum(path: str) -> bool:
    md = pq.read_schema(path).metadata or {}
    if META_KEY in md:
        return bool(md.get(CHECKSUM_KEY)) or "checksum" in json.loads(md[META_KEY])
    return bool(md.get(PACK_CHECKSUM_KEY) or md.get(MANIFEST_CHECKSUM_KEY))


def main() -> None:
    paths = sorted(p for p in glob.glob("results/**/*.parquet", recursive=True) if not has_checksum(p))
    LIST.write_text("".join(f"{file_sha256(p)}  {p}\n" for p in paths))
    print(f"{len(paths)} legacy files listed in {os.path.relpath(LIST)}")


if __name__ == "__main__":
    main()
