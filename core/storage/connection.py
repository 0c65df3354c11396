"""Short-lived DuckDB connections: opened, used and closed, retried while another process holds the file.

DuckDB allows one writer per file, and a reader in another process (even a
read-only one) keeps a writer out. So the store never keeps a connection open,
and a writer that finds the file held announces itself in a *write-wanted* flag
beside the database (``<store>.write-wanted``): readers wait until it is gone
before connecting, so a crowd of readers cannot starve an extraction. The flag is
touched on every retry; one not touched for ``FLAG_STALE_S`` (a killed writer)
is ignored. This module also turns DuckDB's lock, corruption and interrupt errors
into one clear ``StoreError`` or a ``KeyboardInterrupt``.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass

import duckdb

from core.errors import first_line

HEADERS = 3 * 4096  # a DuckDB file holds a main header and two database headers, then its blocks
REBUILD = "move it away and rebuild it from its parts (`python -m core --store {path} ingest [--parts DIR]`) or restore a copy"
FLAG_SUFFIX = ".write-wanted"
FLAG_STALE_S = 2.0  # a waiting writer touches its flag every ~0.1 s


class StoreError(RuntimeError):
    """The store cannot be used as asked (corrupt, newer schema, locked, read-only)."""


@dataclass
class LockWaits:
    """How long this process waited for a store's write lock: the longest wait and how many waits."""

    longest: float = 0.0
    count: int = 0

    def add(self, seconds: float) -> None:
        self.longest = max(self.longest, seconds)
        self.count += 1


def _is_interrupt(e: BaseException) -> bool:
    """Whether DuckDB raised this because the process got SIGINT (it reports "Query interrupted")."""
    return isinstance(e, duckdb.InterruptException) or "query interrupted" in str(e).lower()


def _is_lock_error(e: Exception) -> bool:
    """Whether the file is held: by another process, or in this one by a connection of the other mode (DuckDB's
    "different configuration": a dashboard session keeping summaries while another reads)."""
    text = str(e).lower()
    return "lock" in text or "conflicting" in text or "being used" in text or "different configuration" in text


def check_size(path: str, used_blocks: int, block_size: int) -> None:
    """``StoreError`` when the file is too short to hold the blocks DuckDB says it uses (truncated).

    Checked before the first write: DuckDB would otherwise write into a truncated file and damage it further.
    """
    have, need = os.path.getsize(path), HEADERS + used_blocks * block_size
    if have < need:
        raise StoreError(f"store {path!r} is truncated ({have} of at least {need} bytes); " + REBUILD.format(path=path))


def _is_corruption(e: BaseException) -> bool:
    """Whether DuckDB failed reading its own file (a damaged block), not the query."""
    text = str(e).lower()
    damaged = ("could not read enough bytes", "corrupt", "checksum", "invalid block", "failed to load metadata")
    return isinstance(e, duckdb.Error) and any(d in text for d in damaged)


def _writer_waiting(flag: str) -> bool:
    """Whether a writer announced (and still refreshes) that it waits for the file."""
    try:
        return time.time() - os.stat(flag).st_mtime < FLAG_STALE_S
    except OSError:
        return False


def _announce(flag: str) -> None:
    """Create or refresh the write-wanted flag (best effort: a read-only folder just goes without)."""
    with suppress(OSError):
        with open(flag, "a"):
            os.utime(flag)


def _pause() -> None:
    time.sleep(0.02 + random.random() * 0.08)


@contextmanager
def connection(
    path: str, write: bool, lock_timeout: float, *, transaction: bool = False, waits: LockWaits | None = None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to ``path`` (read-only unless ``write``), retried for ``lock_timeout`` seconds while locked.

    With ``transaction``, what the block does is one transaction: committed when it ends, rolled back when it raises.
    A reader first waits (within the same timeout) while a writer waits for the file; a writer's wait is added
    to ``waits``.
    """
    if write:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    flag = path + FLAG_SUFFIX
    start = time.monotonic()
    deadline = start + lock_timeout
    announced = False
    attempt = start
    try:
        while True:
            if not write and _writer_waiting(flag) and time.monotonic() < deadline:
                _pause()
                continue
            attempt = time.monotonic()
            try:
                con = duckdb.connect(path, read_only=not write)
                break
            except duckdb.Error as e:
                if _is_interrupt(e):
                    raise KeyboardInterrupt from None
                if _is_lock_error(e) and time.monotonic() < deadline:
                    if write:
                        _announce(flag)
                        announced = True
                    _pause()
                    continue
                if _is_lock_error(e):
                    raise StoreError(
                        f"store {path!r} is locked by another process; try again when it is done"
                    ) from None
                if write and os.path.exists(path) and not os.access(path, os.W_OK):
                    raise StoreError(
                        f"store {path!r} is read-only (no permission to write it): this command writes to the store; "
                        "make it writable or use a copy"
                    ) from None
                raise StoreError(
                    f"store {path!r} cannot be opened ({first_line(e, 200)}); if it is a damaged store, "
                    + REBUILD.format(path=path)
                ) from None
    finally:
        if write and waits is not None:
            waits.add(attempt - start)  # until the attempt that got in (or gave up)
        if announced:
            with suppress(OSError):
                os.remove(flag)
    try:
        if transaction:
            con.begin()
        yield con
        if transaction:
            con.commit()
    except (duckdb.Error, RuntimeError) as e:
        if _is_interrupt(e):  # DuckDB swallows Ctrl-C into its own error; the open transaction rolls back
            raise KeyboardInterrupt from None
        if _is_corruption(e):
            raise StoreError(
                f"store {path!r} is corrupt ({first_line(e, 200)}); " + REBUILD.format(path=path)
            ) from None
        raise
    finally:
        con.close()
