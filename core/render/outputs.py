"""Files a command writes (``export``, ``analyse``, ``build-demo``): never over the store it reads, never over an
existing file unless ``--force`` says so, and written beside the target then renamed into place, so a failed or
killed command leaves the old file (or none) rather than half a new one."""

from __future__ import annotations

import os
from collections.abc import Callable

from core.storage.paths import parts_dir_of


def _same(a: str, b: str) -> bool:
    if os.path.exists(a) and os.path.exists(b):
        return os.path.samefile(a, b)
    return os.path.realpath(a) == os.path.realpath(b)


def check_output(path: str, store: str, force: bool = False) -> None:
    """Refuse (one-line ``ValueError``) an output that is the store ``store`` (or its write-ahead log), through a
    link or not, a folder, or an existing file without ``force``."""
    for own in (store, store + ".wal", parts_dir_of(store)):
        if _same(path, own):
            raise ValueError(f"--out {path} is the store {store} (or its files): refusing to write over it")
    if os.path.isdir(path):
        raise ValueError(f"--out {path} is a folder: give a file name")
    if os.path.lexists(path) and not force:
        raise ValueError(f"{path} exists: pass --force to replace it, or choose another --out")


def write_output(path: str, write: Callable[[str], None]) -> None:
    """``write(tmp)`` to a temporary file beside ``path``, then rename it into place (removed if writing fails)."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    tmp = os.path.join(folder, f".{os.path.basename(path)}.tmp{os.getpid()}")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
