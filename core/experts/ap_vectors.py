"""Threshold-free similarity of two concepts' AP vectors: no τ, every stored AP counts by how far it is above chance.

Over what the store keeps (APs at or above the run's floor, 0.5 by default), each concept is the vector
``(AP − floor)₊`` over all units; a unit without a stored AP contributes 0, exactly as its clipped AP would. So the
weighted Jaccard ``Σ min / Σ max`` and the cosine of those vectors are exact from the stored rows alone
(``clipped_*``). For a run extracted with ``--ap-floor 0`` every AP is stored and the raw AP vectors themselves can
be compared: cosine (``vector_cosines``) and the symmetrised KL divergence of the vectors normalised to sum 1
(``raw_ap_kl``). A concept with no stored AP has the zero vector: its weighted Jaccard and cosines are 0.

Choices the paper's text (Fedzechkina et al. 2025, arXiv 2502.15090) does not fix, as made here: the vectors run
over every hooked unit of the run; KL needs distributions, so each AP vector is divided by its sum; KL is not
symmetric, so the two directions are averaged; and it is negated so that higher means more alike, as for every
other measure (Spearman ρ only sees the order).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, cast

import numpy as np
from scipy import sparse

if TYPE_CHECKING:
    from core.storage.reader import StoreReader

KL_EPS = 1e-12  # APs are > 0 (every unit ranks some positive); guards log(0) only for a hand-made zero


def clip_aps(ap_matrix: sparse.csr_matrix, floor: float) -> sparse.csr_matrix:
    """``(AP − floor)₊`` of a stored-AP CSR (entries at or below the floor become explicit zeros, then dropped)."""
    x = cast(sparse.csr_matrix, ap_matrix.astype(np.float64, copy=True))  # scipy types astype as a bare matrix
    x.data = np.maximum(x.data - float(floor), 0.0)
    x.eliminate_zeros()
    return x


def _rows(x: sparse.csr_matrix, rows_a, rows_b) -> tuple[sparse.csr_matrix, sparse.csr_matrix]:
    return x[np.asarray(rows_a, dtype=np.int64)], x[np.asarray(rows_b, dtype=np.int64)]


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)


def clipped_weighted_jaccard(ap_matrix: sparse.csr_matrix, rows_a, rows_b, floor: float) -> np.ndarray:
    """(n_pairs,) ``Σ_u min(a_u, b_u) / Σ_u max(a_u, b_u)`` of ``(AP − floor)₊`` for each row pair (0 if both empty)."""
    return weighted_jaccard_rows(clip_aps(ap_matrix, floor), rows_a, rows_b)


def clipped_cosine(ap_matrix: sparse.csr_matrix, rows_a, rows_b, floor: float) -> np.ndarray:
    """(n_pairs,) cosine of the ``(AP − floor)₊`` vectors of each row pair (0 where one is all zero)."""
    return cosine_rows_sparse(clip_aps(ap_matrix, floor), rows_a, rows_b)


def weighted_jaccard_rows(x: sparse.csr_matrix, rows_a, rows_b) -> np.ndarray:
    """(n_pairs,) weighted Jaccard of pairs of rows of a non-negative CSR (``clip_aps``'s)."""
    a, b = _rows(x, rows_a, rows_b)
    both = np.asarray(a.minimum(b).sum(axis=1)).ravel()
    union = np.asarray(a.sum(axis=1)).ravel() + np.asarray(b.sum(axis=1)).ravel() - both  # max = a + b − min
    return _ratio(both, union)


def cosine_rows_sparse(x: sparse.csr_matrix, rows_a, rows_b) -> np.ndarray:
    """(n_pairs,) cosine of pairs of rows of a CSR (0 where a row is all zero)."""
    a, b = _rows(x, rows_a, rows_b)
    dot = np.asarray(a.multiply(b).sum(axis=1)).ravel()
    na = np.sqrt(np.asarray(a.multiply(a).sum(axis=1)).ravel())
    nb = np.sqrt(np.asarray(b.multiply(b).sum(axis=1)).ravel())
    return _ratio(dot, na * nb)


def symmetric_kl(p: np.ndarray, q: np.ndarray) -> float:
    """½ (KL(p‖q) + KL(q‖p)) of two non-negative vectors after normalising each to sum 1 (NaN if one sums to 0)."""
    p = np.asarray(p, np.float64)
    q = np.asarray(q, np.float64)
    if p.sum() <= 0 or q.sum() <= 0 or np.isnan(p).any() or np.isnan(q).any():
        return float("nan")
    p = np.maximum(p / p.sum(), KL_EPS)
    q = np.maximum(q / q.sum(), KL_EPS)
    lr = np.log(p) - np.log(q)
    return float(0.5 * (np.dot(p, lr) - np.dot(q, lr)))


def raw_ap_kl(vectors: Mapping[str, np.ndarray] | None, words1: list[str], words2: list[str]) -> np.ndarray:
    """Similarity ``−½ (KL(p‖q) + KL(q‖p))`` of each pair's full AP vectors (higher = more alike).

    NaN where a word has no full AP vector, or where none are given (a run not extracted with ``--ap-floor 0``).
    """
    n = len(words1)
    if not vectors:
        return np.full(n, np.nan)
    out = np.full(n, np.nan)
    for i, (a, b) in enumerate(zip(words1, words2)):
        if a in vectors and b in vectors:
            out[i] = -symmetric_kl(vectors[a], vectors[b])
    return out


def full_ap_vectors(store: StoreReader, run_id: str, fold: int = 0) -> dict[str, np.ndarray] | None:
    """``{concept: AP of every unit}`` of one fold of a run that stored every AP (``--ap-floor 0``); else None.

    A run stored every AP when each of its results has ``n_stored == n_units``; only then are the raw AP vectors
    (and the measures on them) defined from the store.
    """
    results = store.results(run_id)
    results = results[results["fold"] == int(fold)]
    if results.empty or not (results["n_stored"] == results["n_units"]).all():
        return None
    n_units = int(results["n_units"].max())
    rows = store.ap(run_id, fold=fold, above=-1.0)
    out = {}
    for concept, g in rows.groupby("concept", sort=False):
        v = np.zeros(n_units, dtype=np.float32)
        v[g["unit"].to_numpy()] = g["ap"].to_numpy(np.float32)
        out[str(concept)] = v
    return out
