"""Short-lived DuckDB connections: opened, used and closed, retried while another process holds the file.

DuckDB allows one writer per file, so the store never keeps a connection open;
this module turns DuckDB's lock, corruption and interrupt errors into one clear
``StoreError`` or a ``KeyboardInterrupt``.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager

import duckdb


class StoreError(RuntimeError):
    """The store cannot be used as asked (corrupt, newer schema, locked, read-only)."""


def _is_interrupt(e: BaseException) -> bool:
    """Whether DuckDB raised this because the process got SIGINT (it reports "Query interrupted")."""
    return isinstance(e, duckdb.InterruptException) or "query interrupted" in str(e).lower()


def _is_lock_error(e: Exception) -> bool:
    text = str(e).lower()
    return "lock" in text or "conflicting" in text or "being used" in text


@contextmanager
def connection(
    path: str, write: bool, lock_timeout: float, *, transaction: bool = False
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to ``path`` (read-only unless ``write``), retried for ``lock_timeout`` seconds while locked.

    With ``transaction``, what the block does is one transaction: committed when it ends, rolled back when it raises.
    """
    if write:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    deadline = time.monotonic() + lock_timeout
    while True:
        try:
            con = duckdb.connect(path, read_only=not write)
            break
        except duckdb.Error as e:
            if _is_interrupt(e):
                raise KeyboardInterrupt from None
            if _is_lock_error(e) and time.monotonic() < deadline:
                time.sleep(0.02 + random.random() * 0.08)
                continue
            if _is_lock_error(e):
                raise StoreError(f"store {path!r} is locked by another process; try again when it is done") from None
            first = str(e).strip().splitlines()[0][:200]
            raise StoreError(
                f"store {path!r} cannot be opened ({first}); is it a DuckDB file? move it away or pass another --store"
            ) from None
    try:
        if transaction:
            con.begin()
        yield con
        if transaction:
            con.commit()
    except (duckdb.Error, RuntimeError) as e:
        if _is_interrupt(e):  # DuckDB swallows Ctrl-C into its own error; the open transaction rolls back
            raise KeyboardInterrupt from None
        raise
    finally:
        con.close()
