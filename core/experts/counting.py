"""Counting values above a threshold for every τ at once: the arithmetic behind ``ExpertIndex``.

A concept has as many experts at τ as it has stored APs above τ, and two concepts share as many as there are
shared units whose *smaller* AP is above τ. Both are counts of sorted values above a threshold per segment
(a concept, a pair, or a (pair, group of units)), so a new τ costs one binary search per segment.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from core.tau import TAU_MIN


def _float32_floor(tau: float) -> float:
    """The largest float32 ≤ τ: for float32 APs, ``ap > τ`` iff ``ap > _float32_floor(τ)``."""
    t = np.float32(tau)
    if float(t) > tau:
        t = np.nextafter(t, np.float32(0))
    return float(t)


@dataclass(frozen=True)
class UnitGroups:
    """Each unit's group number (``code``, one per unit of the run) among ``n_groups`` groups, named ``key``."""

    key: str
    code: np.ndarray
    n_groups: int


class ThresholdCounter:
    """How many values of each segment exceed τ, for any τ in [0.5, 1], by one ``searchsorted``.

    Values are float32 APs in (0.5, 1]. Segment s stores its values as keys
    ``2 s + ap`` (exact in float64), so all segments sort into one array and the
    count above τ of every segment is its end minus one binary search for
    ``2 s + τ``. Comparisons are those of ``ap > τ`` in float64, as DuckDB's.
    """

    def __init__(self, segment: np.ndarray, values: np.ndarray, n_segments: int):
        values = np.asarray(values, dtype=np.float32)
        if values.size and (values.min() <= TAU_MIN or values.max() > 1.0):
            raise ValueError("ThresholdCounter values must lie in (0.5, 1]")
        segment = np.asarray(segment, dtype=np.int64)
        self.n_segments = int(n_segments)
        self._keys = np.sort(2.0 * segment + values.astype(np.float64))
        self._ends = np.cumsum(np.bincount(segment, minlength=self.n_segments))
        self._queries = 2.0 * np.arange(self.n_segments)

    def count_above(self, tau: float) -> np.ndarray:
        """(n_segments,) number of values > τ in each segment."""
        t = _float32_floor(tau)
        return self._ends - np.searchsorted(self._keys, self._queries + t, side="right")

    @property
    def nbytes(self) -> int:
        return self._keys.nbytes + self._ends.nbytes + self._queries.nbytes


class PairOverlap:
    """Shared experts of fixed concept pairs at any τ, in all units or per group of units.

    A unit is a shared expert of (a, b) at τ when both its APs exceed τ, i.e.
    when ``min(ap_a, ap_b) > τ``; those minima are computed once (at τ = 0.5)
    and counted per pair by a ``ThresholdCounter``. With ``code`` (each unit's
    group number, of ``n_groups``), per (pair, group) instead: the counts of
    every layer or module kind at a new τ cost one binary search each.
    """

    def __init__(
        self,
        ap_matrix: sparse.csr_matrix,
        rows_a: np.ndarray,
        rows_b: np.ndarray,
        code: np.ndarray | None = None,
        n_groups: int = 1,
    ):
        self.rows_a = np.asarray(rows_a, dtype=np.int64)
        self.rows_b = np.asarray(rows_b, dtype=np.int64)
        self.n_groups = int(n_groups) if code is not None else 0
        n = self.rows_a.size
        if n:
            both = ap_matrix[self.rows_a].minimum(ap_matrix[self.rows_b]).tocsr()
            both.eliminate_zeros()
            segment = np.repeat(np.arange(n), np.diff(both.indptr))
            if code is not None:
                segment = segment * self.n_groups + np.asarray(code, dtype=np.int64)[both.indices]
            values = both.data
        else:
            segment, values = np.zeros(0, np.int64), np.zeros(0, np.float32)
        self.counter = ThresholdCounter(segment, values, n * max(self.n_groups, 1))

    def shared(self, tau: float) -> np.ndarray:
        """Shared experts at τ: (n_pairs,), or (n_pairs, n_groups) when built with groups."""
        counts = self.counter.count_above(tau)
        return counts.reshape(self.rows_a.size, self.n_groups) if self.n_groups else counts
