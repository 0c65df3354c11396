"""Set and vector arithmetic of expert sets and embeddings: Jaccard, cosine, intersections."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd
from scipy import sparse


def compare_sets(a: Iterable[int], b: Iterable[int]) -> dict[str, int | float]:
    """Sizes of two unit sets apart and together, and their Jaccard (see ``jaccard``)."""
    a = np.unique(np.asarray(a if isinstance(a, np.ndarray) else list(a)))
    b = np.unique(np.asarray(b if isinstance(b, np.ndarray) else list(b)))
    inter = int(np.intersect1d(a, b, assume_unique=True).size)
    union = int(a.size + b.size - inter)
    return {
        "only_a": int(a.size - inter),
        "shared": inter,
        "only_b": int(b.size - inter),
        "jaccard": float(inter / union) if union else 0.0,
    }


def jaccard(a: Iterable[int], b: Iterable[int]) -> float:
    """|A ∩ B| / |A ∪ B| of two unit sets.

    Two empty sets give 0.0, not 1.0: a concept without experts shares nothing
    the method can see, so it must not look identical to every other such concept.
    """
    return compare_sets(a, b)["jaccard"]


def nearest(jaccard_matrix: pd.DataFrame, concept: str, n: int = 10, column: str = "jaccard") -> pd.DataFrame:
    """The ``n`` concepts most similar to ``concept`` in a concept × concept matrix (Jaccard by default; the score
    column is named ``column``), itself excluded."""
    if concept not in jaccard_matrix.index:
        return pd.DataFrame(columns=["concept", column])
    s = jaccard_matrix.loc[concept].drop(index=concept, errors="ignore")
    s = s.sort_values(ascending=False, kind="stable").head(n)
    return pd.DataFrame({"concept": s.index, column: s.to_numpy()})


def cosine(u: np.ndarray, v: np.ndarray) -> float:
    """Cosine of two vectors; 0.0 if either is all zeros (no direction, so no similarity)."""
    u = np.asarray(u, dtype=np.float64).ravel()
    v = np.asarray(v, dtype=np.float64).ravel()
    if u.shape != v.shape:
        raise ValueError(f"vectors differ in length ({u.size} and {v.size})")
    nu, nv = np.linalg.norm(u), np.linalg.norm(v)
    if nu == 0 or nv == 0:
        return 0.0
    return float(u @ v / (nu * nv))


def cosine_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cosine of two (n, d) arrays; 0.0 where a row is all zeros, NaN where a row has NaN."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    num = np.einsum("ij,ij->i", a, b)
    den = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)
    out[np.isnan(den)] = np.nan
    return out


def jaccard_from_counts(inter: np.ndarray, size_a: np.ndarray, size_b: np.ndarray) -> np.ndarray:
    """Jaccard from intersection and set sizes (elementwise); 0.0 where both sets are empty."""
    inter = np.asarray(inter, dtype=np.float64)
    union = np.asarray(size_a, dtype=np.float64) + np.asarray(size_b, dtype=np.float64) - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, inter / np.where(union > 0, union, 1.0), 0.0)


def _sorted_unique(a) -> np.ndarray:
    a = np.asarray(a, dtype=np.int64).ravel()
    if a.size > 1 and not np.all(a[1:] > a[:-1]):
        a = np.unique(a)
    return a


def sets_matrix(sets: Mapping[str, np.ndarray], n_units: int | None = None) -> tuple[list[str], sparse.csr_matrix]:
    """(names, concepts × units boolean CSR) of a ``{concept: unit ids}`` dict."""
    names = list(sets)
    arrays = [_sorted_unique(sets[c]) for c in names]
    indptr = np.zeros(len(names) + 1, dtype=np.int64)
    np.cumsum([a.size for a in arrays], out=indptr[1:])
    indices = np.concatenate(arrays) if arrays else np.zeros(0, np.int64)
    width = max(int(indices.max()) + 1 if indices.size else 0, n_units or 0)
    x = sparse.csr_matrix((np.ones(indices.size, dtype=bool), indices, indptr), shape=(len(names), width))
    x.has_sorted_indices = True
    return names, x


def intersections(x: sparse.csr_matrix) -> np.ndarray:
    """Dense (concepts × concepts) intersection counts ``X @ X.T`` of a boolean CSR matrix."""
    xi = x.astype(np.int32)
    return np.asarray((xi @ xi.T).toarray(), dtype=np.int64)


def vector_cosines(vectors: Mapping[str, np.ndarray] | None, words1: list[str], words2: list[str]) -> np.ndarray:
    """Cosine of the vectors of each word pair; NaN where a word has no vector (or no vectors are given)."""
    n = len(words1)
    if not vectors or n == 0:
        return np.full(n, np.nan)
    dim = len(next(iter(vectors.values())))
    missing = np.full(dim, np.nan)
    return cosine_rows(
        np.vstack([vectors.get(w, missing) for w in words1]), np.vstack([vectors.get(w, missing) for w in words2])
    )
