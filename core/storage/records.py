"""Typed records the store reads and writes: a run, what it holds, and its rows for an index."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import datetime, timezone
from functools import cached_property

import numpy as np
import pandas as pd

from core.config import RunConfig

FINAL = "final"  # how a run without a revision (the model's released weights) is named in pickers and links


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA or value is pd.NaT


def revision_label(revision) -> str:
    """How a revision is named in pickers and links (``final`` for the model's default weights)."""
    return FINAL if _missing(revision) or revision == "" else str(revision)


@dataclass(frozen=True)
class Run:
    """One row of the store's ``runs`` table, with how many (concept, fold) results it has stored."""

    run_id: str
    model: str
    revision: str | None = None
    step: int | None = None
    family: str | None = None
    n_params: int | None = None
    n_units: int | None = None
    n_layers: int | None = None
    unit_table: str | None = None
    dataset_hash: str | None = None
    config: str | None = None  # the run's ``RunConfig`` as JSON
    versions: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    weights_hash: str | None = None  # hash of the weights the run used (None for runs stored before it)
    n_results: int = 0
    n_concepts: int = 0

    @classmethod
    def from_row(cls, row: Mapping) -> Run:
        """A run from a database row (NaN and NA become None; unknown columns are ignored)."""
        ints = {"step", "n_params", "n_units", "n_layers", "n_results", "n_concepts"}
        values = {}
        for f in fields(cls):
            if f.name not in row:
                continue
            v = row[f.name]
            if _missing(v):
                v = None
            elif f.name in ints:
                v = int(v)
            elif isinstance(v, pd.Timestamp):
                v = v.to_pydatetime()
            values[f.name] = v
        for counter in ("n_results", "n_concepts"):
            values[counter] = values.get(counter) or 0
        return cls(**values)

    @property
    def rev(self) -> str:
        return revision_label(self.revision)

    @property
    def title(self) -> str:
        return f"{self.model} @ {self.rev}"

    @cached_property
    def settings(self) -> RunConfig | None:
        """The run's configuration, or None when it has none that this code can read."""
        try:
            return RunConfig.from_json(self.config) if self.config else None
        except (ValueError, TypeError, KeyError):
            return None

    @property
    def concepts(self) -> frozenset[str]:
        """The concepts the run was configured with (those with results may be fewer)."""
        return frozenset(self.settings.dataset.concepts) if self.settings else frozenset()

    @property
    def folds(self) -> int:
        return self.settings.dataset.folds if self.settings else 1

    def as_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def runs_frame(runs: Iterable[Run]) -> pd.DataFrame:
    """Runs as a table (one row per run, the columns of ``Run``) for printing and CSV."""
    names = [f.name for f in fields(Run)]
    return pd.DataFrame([r.as_dict() for r in runs], columns=names)


@dataclass(frozen=True)
class RunContents:
    """What a run holds: the concepts with results and how many folds the most complete concept has."""

    concepts: frozenset[str]
    folds: int

    @staticmethod
    def by_run(rows: pd.DataFrame) -> dict[str, RunContents]:
        """``{run_id: RunContents}`` from (run_id, concept, n_folds) rows."""
        return {
            str(rid): RunContents(frozenset(g["concept"]), int(g["n_folds"].max()))
            for rid, g in rows.groupby("run_id", sort=False)
        }


@dataclass
class IndexRows:
    """What ``ExpertIndex.from_store`` reads of one run, in one connection (``Store.index_rows``), as queried."""

    run: Run
    results: pd.DataFrame  # concept, fold, n_pos, n_neg, n_units, n_stored
    rows: dict[str, np.ndarray]  # ci (the row's concept among the sorted concepts with results), fold, unit, ap
    vectors: pd.DataFrame | None  # concept, kind, vec; None when not asked for


SNAPSHOT_COLUMNS = ["method", "tau", "rho", "ci_low", "ci_high", "p_value", "p_vs_experts", "n_pairs", "n_missing"]
# An alignment snapshot or summary row as read: its benchmark, run (with the run's columns), numbers, how many
# resamples, and for a summary the hash of the benchmark's pairs and the run's results count it was computed from.
SNAPSHOT_READ = ["benchmark", "run_id", "model", "family", "n_params", "revision", "step", *SNAPSHOT_COLUMNS]
SNAPSHOT_READ += ["n_boot", "benchmark_hash", "n_results"]


def training_log_rows(model: str, log: pd.DataFrame) -> pd.DataFrame:
    """A training log (step, tokens, loss, held_out_loss) as stored rows of ``model``: numbers checked."""
    num = {c: pd.to_numeric(log[c], errors="coerce") for c in ("loss", "held_out_loss")}
    steps = {c: pd.to_numeric(log[c]).astype("int64") for c in ("step", "tokens")}
    return pd.DataFrame({"model": model, **steps, **num})


def vectors_by_kind(rows: pd.DataFrame | None) -> dict[str, dict[str, np.ndarray]]:
    """``{kind: {concept: float32 vector}}`` from stored (concept, kind, vec) rows."""
    if rows is None:
        return {}
    return {
        str(kind): {c: np.asarray(v, dtype=np.float32) for c, v in zip(g["concept"], g["vec"])}
        for kind, g in rows.groupby("kind")
    }


def utc_now() -> datetime:
    """Now in UTC, without a time zone: how records' timestamps (``created_at``, ``finished_at``) are stored."""
    return datetime.now(timezone.utc).replace(tzinfo=None)
