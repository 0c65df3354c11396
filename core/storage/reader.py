"""``StoreReader``: what the analyses and the dashboard read from a store, as a protocol.

``Store`` (DuckDB) is the one implementation. Analyses, renderers and pages are typed against this protocol, not
against ``Store``, so a second backend (another database, a remote service) implements these methods and
nothing above storage changes. Writing (ingest, add_run, snapshots) stays on ``Store``: only the extraction and the
commands write.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Protocol, runtime_checkable

import numpy as np
import pandas as pd

from core.tau import TAU_MIN

from .records import IndexRows, Run, RunContents


@runtime_checkable
class StoreReader(Protocol):
    """The read side of a store: runs, their contents and unit tables, stored APs and derived snapshots."""

    path: str

    def runs(self) -> list[Run]: ...

    def run(self, run_id: str) -> Run: ...

    def run_contents(self) -> dict[str, RunContents]: ...

    def counts(self) -> dict[str, int]: ...

    def concepts(self) -> pd.DataFrame: ...

    def sentences(self, concepts: Iterable[str]) -> pd.DataFrame: ...

    def units(self, run_id: str, units: Iterable[int] | None = None, columns: Iterable[str] = ...) -> pd.DataFrame: ...

    def results(self, run_id: str | None = None) -> pd.DataFrame: ...

    def results_since(self, model: str, revision: str | None, since: datetime, concepts: list, folds: int) -> int: ...

    def training_log(self) -> pd.DataFrame: ...

    def index_rows(self, run_id: str, vectors: bool = True) -> IndexRows: ...

    def ap(
        self, run_id: str, concepts: Iterable[str] | None = None, fold: int | None = 0, above: float = TAU_MIN
    ) -> pd.DataFrame: ...

    def vectors(self, run_id: str, kind: str) -> dict[str, np.ndarray]: ...

    def alignment_snapshot(
        self, benchmark: str | None = None, tau: float | None = None, benchmark_hash: str | None = None
    ) -> pd.DataFrame: ...
