"""Where stores live: the project root, the default and demo store paths, a store's stamp."""

from __future__ import annotations

import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


DEFAULT_STORE = os.path.join("cache", "experts.duckdb")  # relative to the working directory (CLI) or ROOT (dashboard)


DEMO_STORE = os.path.join("cache", "demo.duckdb")


MEN_CACHE = os.path.join("cache", "MEN")


def store_stamp(path: str) -> tuple:
    """What changes when the store changes: size and mtime of the file and its write-ahead log.

    Used as part of every cache key, so a page shows new results as soon as an
    extraction has written them, and never re-reads an unchanged store.
    """
    out: list = [os.path.abspath(path)]
    for p in (path, path + ".wal"):
        try:
            st = os.stat(p)
            out += [st.st_mtime_ns, st.st_size]
        except OSError:
            out += [None, None]
    return tuple(out)


def parts_dir_of(store: str) -> str:
    """Where a store's result parts are written by default: ``<store>.parts`` beside it (``.duckdb`` dropped)."""
    return beside(store, ".parts")


def scratch_dir_of(store: str) -> str:
    """Where an extraction into ``store`` keeps its resumable scratch files (negative-pool caches)."""
    return beside(store, ".scratch")


def beside(store: str, suffix: str) -> str:
    """A file or folder that belongs to a store, named after it: ``<store without .duckdb><suffix>``."""
    return os.path.splitext(store)[0] + suffix
