"""Result files written before checksums existed: trusted only if byte for byte one of the committed ones.

Parts, packs and run manifests under ``results/`` predate checksums. A file without a checksum is accepted only
when its SHA-256 is in ``legacy.sha256`` (listed by ``scripts/list_legacy_files.py``), so a checksum removed from
an edited file does not make it pass for a legacy one.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

LIST = Path(__file__).parent / "legacy.sha256"


@lru_cache(maxsize=1)
def legacy_digests() -> frozenset[str]:
    """The SHA-256 of every committed legacy part, pack and manifest."""
    if not LIST.exists():
        return frozenset()
    return frozenset(line.split()[0] for line in LIST.read_text().splitlines() if line.strip())


def file_sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def is_legacy(path: str) -> bool:
    """Whether ``path`` is byte for byte one of the committed files written before checksums."""
    return file_sha256(path) in legacy_digests()
