"""Expertise: the average precision (AP) of every unit at once, and experts at τ.

A unit's pooled activation is a score for "the sentence contains concept c".
Its AP over c's positive and negative sentences is its expertise (Suau et al.).
The reference code calls ``sklearn.metrics.average_precision_score`` once per
unit; here every unit is scored by one sort-and-merge pass over its scores,
compiled and parallel over units, with ties grouped exactly as scikit-learn
groups them (``bench/bench_core.py`` measures the difference).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache

import numpy as np

DEFAULT_TAU = 0.5


def average_precision(pos, neg, chunk: int = 4096) -> np.ndarray:
    """AP of each unit, given its scores on positive and negative sentences.

    Parameters
    ----------
    pos : array or tensor of shape (n_pos, n_units), scores of the positive sentences.
    neg : array of shape (n_neg, n_units), scores of the negative sentences.

    Returns
    -------
    ap : float64 array of shape (n_units,), equal to
        ``average_precision_score(y, scores[:, u])`` for every unit ``u``.

    Notes
    -----
    With ties grouped by threshold, AP is the mean over positives ``i`` of the
    precision at threshold ``s_i``: ``TP(>= s_i) / (TP(>= s_i) + FP(>= s_i))``.
    Both counts come from one merge of the unit's sorted positive and negative
    scores, compiled with numba; blocks of units run in parallel threads.
    """
    p = np.asarray(pos.cpu() if hasattr(pos, "cpu") else pos)
    n = np.asarray(neg.cpu() if hasattr(neg, "cpu") else neg)
    if p.ndim != 2 or n.ndim != 2 or p.shape[1] != n.shape[1]:
        raise ValueError("pos and neg must be 2-D with the same number of units")
    if p.shape[0] == 0:
        raise ValueError("AP needs at least one positive")
    dtype = np.result_type(p.dtype, n.dtype)
    if not np.issubdtype(dtype, np.floating):
        dtype = np.float64
    n_units = p.shape[1]
    out = np.empty(n_units, dtype=np.float64)
    kernel = _ap_kernel()

    def block(start: int) -> None:  # transpose and sort (NumPy), then merge (numba); all release the GIL
        cols = slice(start, min(start + chunk, n_units))
        ps = np.ascontiguousarray(p[:, cols].T, dtype=dtype)
        ns = np.ascontiguousarray(n[:, cols].T, dtype=dtype)
        ps.sort(axis=1)
        ns.sort(axis=1)
        out[cols] = kernel(ps, ns)

    starts = range(0, n_units, chunk)
    with ThreadPoolExecutor(max(1, min(len(starts), os.cpu_count() or 1))) as pool:
        list(pool.map(block, starts))
    return out


@lru_cache(maxsize=1)
def _ap_kernel():
    """The compiled merge of each unit's sorted positive and negative scores (numba, releases the GIL)."""
    from numba import njit

    @njit(nogil=True, cache=True)
    def ap_rows(pos_sorted, neg_sorted):
        n_units, n_pos = pos_sorted.shape
        n_neg = neg_sorted.shape[1]
        out = np.empty(n_units)
        for u in range(n_units):
            ps = pos_sorted[u]
            ns = neg_sorted[u]
            below = 0  # negatives scoring strictly below the current positive score
            total = 0.0
            i = 0
            while i < n_pos:
                v = ps[i]
                k = i
                while k < n_pos and ps[k] == v:  # a run of tied positives shares one threshold
                    k += 1
                while below < n_neg and ns[below] < v:
                    below += 1
                tp = n_pos - i
                total += (k - i) * tp / (tp + n_neg - below)
                i = k
            out[u] = total / n_pos
        return out

    return ap_rows


def experts(ap: np.ndarray, tau: float = DEFAULT_TAU) -> np.ndarray:
    """Indices of the units whose AP is strictly above ``tau`` (the paper's rule)."""
    check_tau(tau)
    return np.flatnonzero(np.asarray(ap) > tau)


def check_tau(tau: float) -> float:
    """Return ``tau`` if it lies in [0.5, 1], the range the method is defined on."""
    try:
        value = float(tau)
    except (TypeError, ValueError):
        raise ValueError(f"tau must be a number in [0.5, 1], got {tau!r}") from None
    if not 0.5 <= value <= 1.0:
        raise ValueError(f"tau must be in [0.5, 1], got {value:g}")
    return value
