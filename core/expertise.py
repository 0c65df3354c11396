"""Expertise: the average precision (AP) of every unit at once, and experts at τ.

A unit's pooled activation is a score for "the sentence contains concept c".
Its AP over c's positive and negative sentences is its expertise (Suau et al.).
The reference code calls ``sklearn.metrics.average_precision_score`` once per
unit; here all units are scored together from two sorts and a batched
``searchsorted``, with ties grouped exactly as scikit-learn groups them.
"""

from __future__ import annotations

import os

import numpy as np

DEFAULT_TAU = 0.5


def average_precision(pos, neg, chunk: int = 1024) -> np.ndarray:
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
    TP comes from the first of each run of ties in the sorted positive scores,
    FP from searching ``s_i`` in the sorted negative scores.
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

    def block(start: int) -> None:
        cols = slice(start, min(start + chunk, n_units))
        out[cols] = _block_ap(p[:, cols], n[:, cols], dtype)

    starts = range(0, n_units, chunk)
    workers = min(len(starts), os.cpu_count() or 1)
    if workers <= 1:
        for start in starts:
            block(start)
    else:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(block, starts))
    return out


def _block_ap(pos: np.ndarray, neg: np.ndarray, dtype) -> np.ndarray:
    """AP of a block of units; scores arrive as (sentences, units)."""
    import torch  # lazily: browsing the store must not load torch

    ps = np.ascontiguousarray(pos.T, dtype=dtype)
    ps.sort(axis=1)
    n_pos = ps.shape[1]
    tp = n_pos - _first_of_ties(ps)
    if neg.shape[0]:
        ns = np.ascontiguousarray(neg.T, dtype=dtype)
        ns.sort(axis=1)
        fp = ns.shape[1] - torch.searchsorted(torch.from_numpy(ns), torch.from_numpy(ps), side="left").numpy()
    else:
        fp = 0
    return (tp / (tp + fp)).mean(axis=1)


def _first_of_ties(sorted_rows: np.ndarray) -> np.ndarray:
    """For each entry of row-sorted data, the index of the first entry equal to it."""
    idx = np.arange(sorted_rows.shape[1])
    starts = np.empty(sorted_rows.shape, dtype=bool)
    starts[:, 0] = True
    np.not_equal(sorted_rows[:, 1:], sorted_rows[:, :-1], out=starts[:, 1:])
    return np.maximum.accumulate(np.where(starts, idx, 0), axis=1)


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
