"""Concept similarity from expert sets (Jaccard) and from embeddings (cosine).

The store keeps every unit whose AP is at least 0.5, so the experts at any
threshold τ in [0.5, 1] are a subset of what is stored. ``ExpertIndex`` reads
those rows once per run and answers every τ from memory: moving a slider in
the dashboard never touches the database again.

Set sizes and pair intersections need no sets at all: a concept has as many
experts at τ as it has stored APs above τ, and two concepts share as many as
there are shared units whose *smaller* AP is above τ. Both are counts of
sorted values above a threshold (``ThresholdCounter``), so a new τ costs one
binary search per concept or pair.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd
from scipy import sparse

from .expertise import check_tau

METHODS = ("experts", "word_embedding", "sentence_embedding")


def jaccard(a: Iterable[int], b: Iterable[int]) -> float:
    """|A ∩ B| / |A ∪ B| of two unit sets.

    Two empty sets give 0.0, not 1.0: a concept without experts shares nothing
    the method can see, so it must not look identical to every other such concept.
    """
    a = np.unique(np.asarray(a if isinstance(a, np.ndarray) else list(a)))
    b = np.unique(np.asarray(b if isinstance(b, np.ndarray) else list(b)))
    inter = np.intersect1d(a, b, assume_unique=True).size
    union = a.size + b.size - inter
    return float(inter / union) if union else 0.0


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


def pair_intersections(x: sparse.csr_matrix, rows_a: np.ndarray, rows_b: np.ndarray) -> np.ndarray:
    """|A_i ∩ B_i| for row pairs ``(rows_a[i], rows_b[i])`` of a boolean CSR matrix, without the full product."""
    if len(rows_a) == 0:
        return np.zeros(0, dtype=np.int64)
    xi = x.astype(np.int32)
    return np.asarray(xi[rows_a].multiply(xi[rows_b]).sum(axis=1)).ravel().astype(np.int64)


def _float32_floor(tau: float) -> float:
    """The largest float32 ≤ τ: for float32 APs, ``ap > τ`` iff ``ap > _float32_floor(τ)``."""
    t = np.float32(tau)
    if float(t) > tau:
        t = np.nextafter(t, np.float32(0))
    return float(t)


def _lex_sorted(*keys: np.ndarray) -> bool:
    """Whether rows are in strictly increasing lexicographic order of ``keys`` (first key first)."""
    if keys[0].size < 2:
        return True
    greater = np.zeros(keys[0].size - 1, dtype=bool)
    equal = np.ones(keys[0].size - 1, dtype=bool)
    for k in keys:
        greater |= equal & (k[1:] > k[:-1])
        equal &= k[1:] == k[:-1]
    return bool(greater.all())


class ThresholdCounter:
    """How many values of each segment exceed τ, for any τ in [0.5, 1], by one ``searchsorted``.

    Values are float32 APs in (0.5, 1]. Segment s stores its values as keys
    ``2 s + ap`` (exact in float64), so all segments sort into one array and the
    count above τ of every segment is its end minus one binary search for
    ``2 s + τ``. Comparisons are those of ``ap > τ`` in float64, as DuckDB's.
    """

    def __init__(self, segment: np.ndarray, values: np.ndarray, n_segments: int):
        values = np.asarray(values, dtype=np.float32)
        if values.size and (values.min() <= 0.5 or values.max() > 1.0):
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
    """Shared experts of fixed concept pairs at any τ.

    A unit is a shared expert of (a, b) at τ when both its APs exceed τ, i.e.
    when ``min(ap_a, ap_b) > τ``; those minima are computed once (at τ = 0.5)
    and counted per pair by a ``ThresholdCounter``.
    """

    def __init__(self, ap_matrix: sparse.csr_matrix, rows_a: np.ndarray, rows_b: np.ndarray):
        self.rows_a = np.asarray(rows_a, dtype=np.int64)
        self.rows_b = np.asarray(rows_b, dtype=np.int64)
        n = self.rows_a.size
        if n:
            both = ap_matrix[self.rows_a].minimum(ap_matrix[self.rows_b]).tocsr()
            both.eliminate_zeros()
            segment = np.repeat(np.arange(n), np.diff(both.indptr))
            values = both.data
        else:
            segment, values = np.zeros(0, np.int64), np.zeros(0, np.float32)
        self.counter = ThresholdCounter(segment, values, n)

    def shared(self, tau: float) -> np.ndarray:
        """(n_pairs,) number of shared experts of each pair at τ."""
        return self.counter.count_above(tau)


class ExpertIndex:
    """All stored (concept, fold, unit, AP > 0.5) rows of one run, held in memory.

    Parameters
    ----------
    concepts : concept names; ``concept_idx`` indexes into it.
    concept_idx, fold, unit, ap : one entry per stored row (any order).
    n_units : width of the unit axis (default: largest unit id + 1).
    present : (concept, fold) pairs that have a result, experts or not; by
        default those with at least one row. A concept whose units all have
        AP ≤ 0.5 has a result but no rows, and still counts (with no experts).
    run_id, meta : where the rows came from (``meta`` is the run's row of ``Store.runs()``).
    vectors : ``{"word": {concept: vec}, "sentence": {...}}`` for the embedding baselines.
    results : the run's ``Store.results`` rows (n_pos, n_neg, ...), if known.
    cache_size : how many per-τ expert matrices to keep (LRU); four times as many τ-free
        structures (pair overlaps, cosines) are kept.
    """

    def __init__(
        self,
        concepts: list[str],
        concept_idx: np.ndarray,
        fold: np.ndarray,
        unit: np.ndarray,
        ap: np.ndarray,
        n_units: int | None = None,
        present: Iterable[tuple[str, int]] | None = None,
        run_id: str | None = None,
        meta: dict | None = None,
        vectors: dict[str, dict[str, np.ndarray]] | None = None,
        results: pd.DataFrame | None = None,
        cache_size: int = 16,
    ):
        self.concepts = list(concepts)
        self._pos = {c: i for i, c in enumerate(self.concepts)}
        ci = np.asarray(concept_idx, dtype=np.int32)
        fo = np.asarray(fold, dtype=np.int16)
        un = np.asarray(unit, dtype=np.int32)
        ap = np.asarray(ap, dtype=np.float32)
        if not (ci.shape == fo.shape == un.shape == ap.shape):
            raise ValueError("concept_idx, fold, unit and ap must have the same length")
        if ci.size and (ci.min() < 0 or ci.max() >= len(self.concepts)):
            raise ValueError("concept_idx out of range of concepts")
        keep = ap > 0.5
        if not keep.all():
            ci, fo, un, ap = ci[keep], fo[keep], un[keep], ap[keep]
        if not _lex_sorted(fo, ci, un):
            order = np.lexsort((un, ci, fo))
            ci, fo, un, ap = ci[order], fo[order], un[order], ap[order]
        self._concept, self._fold, self._unit, self._ap = ci, fo, un, ap
        width = int(un.max()) + 1 if un.size else 0
        self.n_units = max(width, int(n_units or 0))
        if present is None:
            pairs = set(zip(ci.tolist(), fo.tolist())) if ci.size else set()
            self._present = {(self.concepts[c], int(f)) for c, f in pairs}
        else:
            self._present = {(c, int(f)) for c, f in present}
        self.folds = sorted({f for _, f in self._present})
        lo = np.searchsorted(self._fold, self.folds, side="left")
        hi = np.searchsorted(self._fold, self.folds, side="right")
        self._fold_rows = {f: slice(int(a), int(b)) for f, a, b in zip(self.folds, lo, hi)}
        self.run_id = run_id
        self.meta = dict(meta or {})
        self.vectors = vectors or {}
        self.results = results
        self._cache: OrderedDict = OrderedDict()
        self._static: OrderedDict = OrderedDict()
        self._cache_size = cache_size

    # -- construction -----------------------------------------------------------
    @classmethod
    def from_frame(cls, rows: pd.DataFrame, **kwargs) -> ExpertIndex:
        """Index of a (concept, fold, unit, ap) DataFrame such as ``Store.ap(run_id, fold=None)``."""
        concepts = kwargs.pop("concepts", None) or sorted(pd.unique(rows["concept"]))
        pos = {c: i for i, c in enumerate(concepts)}
        rows = rows[rows["concept"].isin(pos)]
        ci = rows["concept"].map(pos).to_numpy()
        return cls(concepts, ci, rows["fold"].to_numpy(), rows["unit"].to_numpy(), rows["ap"].to_numpy(), **kwargs)

    @classmethod
    def from_store(cls, store, run_id: str, vectors: bool = True) -> ExpertIndex:
        """Read a run's AP rows (all folds), results and vectors in one consistent connection."""
        with store.connect() as con:
            meta = con.execute(
                "SELECT r.*, count(res.concept) AS n_results FROM runs r LEFT JOIN results res USING (run_id) "
                "WHERE r.run_id = ? GROUP BY ALL",
                [run_id],
            ).df()
            if meta.empty:
                raise ValueError(f"no run {run_id!r} in {store.path}; `python -m core runs` lists them")
            results = con.execute(
                "SELECT concept, fold, n_pos, n_neg, n_units, n_stored FROM results WHERE run_id = ? "
                "ORDER BY concept, fold",
                [run_id],
            ).df()
            concepts = sorted(pd.unique(results["concept"]))
            cols = con.execute(
                "WITH c AS (SELECT concept, (row_number() OVER (ORDER BY concept)) - 1 AS ci "
                "FROM (SELECT DISTINCT concept FROM results WHERE run_id = ?)) "
                "SELECT a.fold, c.ci, a.unit, a.ap FROM ap a JOIN c USING (concept) "
                "WHERE a.run_id = ? AND a.ap > 0.5 ORDER BY a.fold, c.ci, a.unit",
                [run_id, run_id],
            ).fetchnumpy()
            vecs: dict[str, dict[str, np.ndarray]] = {}
            if vectors:
                vrows = con.execute("SELECT concept, kind, vec FROM vectors WHERE run_id = ?", [run_id]).df()
                for kind, group in vrows.groupby("kind"):
                    vecs[str(kind)] = {
                        c: np.asarray(v, dtype=np.float32) for c, v in zip(group["concept"], group["vec"])
                    }
        row = meta.iloc[0].to_dict()
        n_units = row.get("n_units")
        present = list(zip(results["concept"], results["fold"].astype(int)))
        return cls(
            concepts,
            np.asarray(cols["ci"]),
            np.asarray(cols["fold"]),
            np.asarray(cols["unit"]),
            np.asarray(cols["ap"]),
            n_units=None if pd.isna(n_units) else int(n_units),
            present=present,
            run_id=run_id,
            meta=row,
            vectors=vecs,
            results=results,
        )

    def __repr__(self) -> str:
        return (
            f"ExpertIndex(run_id={self.run_id!r}, concepts={len(self.concepts)}, folds={self.folds}, "
            f"rows={self._unit.size}, n_units={self.n_units})"
        )

    # -- lookups ------------------------------------------------------------------
    def concepts_of(self, fold: int = 0) -> list[str]:
        """Concepts with a result in ``fold`` (in index order)."""
        return [c for c in self.concepts if (c, fold) in self._present]

    def complete_concepts(self) -> list[str]:
        """Concepts with a result in every fold of the index."""
        return [c for c in self.concepts if all((c, f) in self._present for f in self.folds)]

    def position(self, concepts: Iterable[str]) -> np.ndarray:
        """Row numbers of concepts in ``matrix()``; KeyError for an unknown concept."""
        try:
            return np.fromiter((self._pos[c] for c in concepts), dtype=np.int64)
        except KeyError as e:
            raise KeyError(f"concept {e.args[0]!r} is not in run {self.run_id!r}") from None

    def _rows(self, fold: int) -> slice:
        """Rows of one fold; a fold without results has none (so every concept has an empty set)."""
        return self._fold_rows.get(int(fold), slice(0, 0))

    def _cached(self, key, build, per_tau: bool = False):
        """LRU caches: one for per-τ matrices, one for τ-free structures (so a slider does not evict them)."""
        cache, limit = (self._cache, self._cache_size) if per_tau else (self._static, 4 * self._cache_size)
        if key in cache:
            cache.move_to_end(key)
            return cache[key]
        value = build()
        cache[key] = value
        while len(cache) > limit:
            cache.popitem(last=False)
        return value

    def _csr(self, fold: int, mask: np.ndarray | None, data: np.ndarray) -> sparse.csr_matrix:
        sl = self._rows(fold)
        rows = self._concept[sl] if mask is None else self._concept[sl][mask]
        indices = self._unit[sl] if mask is None else self._unit[sl][mask]
        indptr = np.zeros(len(self.concepts) + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=len(self.concepts)), out=indptr[1:])
        x = sparse.csr_matrix((data, indices, indptr), shape=(len(self.concepts), self.n_units))
        x.has_sorted_indices = True
        return x

    def matrix(self, tau: float = 0.5, fold: int = 0) -> sparse.csr_matrix:
        """Concepts × units boolean CSR of experts (AP > τ); rows follow ``self.concepts``.

        Rows of concepts without a result in ``fold`` are empty; see ``concepts_of``.
        Matrices of recent (τ, fold) are cached; do not modify the returned matrix.
        """
        tau = check_tau(tau)

        def build() -> sparse.csr_matrix:
            mask = self._ap[self._rows(fold)] > np.float64(tau)  # float64 comparison, as DuckDB's ``ap > ?``
            return self._csr(fold, mask, np.ones(int(mask.sum()), dtype=bool))

        return self._cached(("matrix", tau, int(fold)), build, per_tau=True)

    def ap_matrix(self, fold: int = 0) -> sparse.csr_matrix:
        """Concepts × units CSR of the stored APs (> 0.5) of one fold (cached)."""
        return self._cached(("ap", int(fold)), lambda: self._csr(fold, None, self._ap[self._rows(fold)]))

    def sizes(self, tau: float = 0.5, fold: int = 0) -> np.ndarray:
        """Number of experts at τ of every concept of ``self.concepts`` (0 without a result)."""
        tau = check_tau(tau)

        def build() -> ThresholdCounter:
            sl = self._rows(fold)
            return ThresholdCounter(self._concept[sl], self._ap[sl], len(self.concepts))

        return self._cached(("sizes", int(fold)), build).count_above(tau)

    def sets(self, tau: float = 0.5, fold: int = 0, concepts: Iterable[str] | None = None) -> dict[str, np.ndarray]:
        """``{concept: sorted expert unit ids}`` for the concepts with a result in ``fold`` (or the given ones)."""
        tau = check_tau(tau)
        names = self.concepts_of(fold) if concepts is None else [c for c in concepts if (c, fold) in self._present]
        if concepts is None or ("matrix", tau, int(fold)) in self._cache:
            x = self.matrix(tau, fold)
            return {c: x.indices[x.indptr[i] : x.indptr[i + 1]] for c, i in zip(names, self.position(names))}
        x = self.ap_matrix(fold)  # a few concepts: filter their rows only, not the whole fold
        thr = np.float64(tau)
        out = {}
        for c, i in zip(names, self.position(names)):
            lo, hi = x.indptr[i], x.indptr[i + 1]
            out[c] = x.indices[lo:hi][x.data[lo:hi] > thr]
        return out

    def experts(self, concept: str, tau: float = 0.5, fold: int = 0) -> pd.DataFrame:
        """(unit, ap) of one concept's experts at τ, highest AP first."""
        tau = check_tau(tau)
        x = self.ap_matrix(fold)
        i = self.position([concept])[0]
        lo, hi = x.indptr[i], x.indptr[i + 1]
        unit, ap = x.indices[lo:hi], x.data[lo:hi]
        keep = ap > np.float64(tau)
        out = pd.DataFrame({"unit": unit[keep], "ap": ap[keep]})
        return out.sort_values(["ap", "unit"], ascending=[False, True], ignore_index=True)

    def counts(self, tau: float = 0.5, fold: int = 0) -> pd.Series:
        """Number of experts of each concept with a result in ``fold``."""
        names = self.concepts_of(fold)
        sizes = self.sizes(tau, fold)[self.position(names)]
        return pd.Series(sizes, index=pd.Index(names, name="concept"), name="n_experts")

    def overlap(self, tau: float = 0.5, fold: int = 0, concepts: Iterable[str] | None = None) -> pd.DataFrame:
        """Concept × concept counts of shared experts (the diagonal is each set's size), via sparse ``X @ X.T``."""
        names = self.concepts_of(fold) if concepts is None else [c for c in concepts if (c, fold) in self._present]
        if concepts is None:
            x = self.matrix(tau, fold)[self.position(names)]
        else:
            x = sets_matrix(self.sets(tau, fold, names), self.n_units)[1]
        return pd.DataFrame(intersections(x), index=names, columns=names)

    def jaccard(self, tau: float = 0.5, fold: int = 0, concepts: Iterable[str] | None = None) -> pd.DataFrame:
        """Concept × concept Jaccard of expert sets, from sparse ``X @ X.T`` intersections."""
        inter = self.overlap(tau, fold, concepts)
        sizes = np.diag(inter.to_numpy())
        values = jaccard_from_counts(inter.to_numpy(), sizes[:, None], sizes[None, :])
        return pd.DataFrame(values, index=inter.index, columns=inter.columns)

    def pair_overlap(self, words1: Iterable[str], words2: Iterable[str], fold: int = 0) -> PairOverlap:
        """The (cached) ``PairOverlap`` of these word pairs: shared experts at any τ without rebuilding sets."""
        a, b = self.position(words1), self.position(words2)
        key = ("pairs", int(fold), a.tobytes(), b.tobytes())
        return self._cached(key, lambda: PairOverlap(self.ap_matrix(fold), a, b))

    def pair_jaccard(self, words1: Iterable[str], words2: Iterable[str], tau: float = 0.5, fold: int = 0) -> np.ndarray:
        """Jaccard of the expert sets of each (words1[i], words2[i]) pair; only those pairs are computed."""
        tau = check_tau(tau)
        words1, words2 = list(words1), list(words2)
        if not words1 and not words2:
            return np.zeros(0)
        po = self.pair_overlap(words1, words2, fold)
        sizes = self.sizes(tau, fold)
        return jaccard_from_counts(po.shared(tau), sizes[po.rows_a], sizes[po.rows_b])

    def pair_cosines(self, kind: str, words1: Iterable[str], words2: Iterable[str]) -> np.ndarray:
        """Cosine of the index's ``kind`` vectors for each pair (cached; NaN where a word has no vector)."""
        w1, w2 = list(words1), list(words2)
        key = ("cos", kind, "\x00".join(w1), "\x00".join(w2))
        return self._cached(key, lambda: vector_cosines(self.vectors.get(kind), w1, w2))


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


def covered_mask(pairs: pd.DataFrame, concepts: Iterable[str]) -> np.ndarray:
    """Pairs whose two words are both among ``concepts`` (the covered part of ``benchmarks.coverage``)."""
    have = set(concepts)
    w1, w2 = pairs["word1"].tolist(), pairs["word2"].tolist()
    return np.fromiter((a in have and b in have for a, b in zip(w1, w2)), dtype=bool, count=len(w1))


def pair_similarities(
    index: ExpertIndex,
    vectors_word: Mapping[str, np.ndarray] | None,
    vectors_sentence: Mapping[str, np.ndarray] | None,
    pairs: pd.DataFrame,
    tau: float = 0.5,
    fold: int = 0,
) -> pd.DataFrame:
    """Similarity of every covered benchmark pair by the three methods.

    Returns columns word1, word2, score (human), experts (Jaccard at τ),
    word_embedding and sentence_embedding (cosines; NaN where a vector is missing).
    Only pairs whose two words have a result in ``fold`` are returned; the rest
    are listed by ``core.benchmarks.coverage(pairs, set(index.concepts_of(fold)))``.
    Passing the index's own vectors (``index.vectors["word"]``) reuses cached cosines.
    """
    ok = covered_mask(pairs, index.concepts_of(fold))
    w1, w2 = pairs["word1"].to_numpy()[ok].tolist(), pairs["word2"].to_numpy()[ok].tolist()
    out = pd.DataFrame({"word1": w1, "word2": w2, "score": pairs["score"].to_numpy(np.float64)[ok]})
    out["experts"] = index.pair_jaccard(w1, w2, tau, fold)
    for column, kind, vectors in (
        ("word_embedding", "word", vectors_word),
        ("sentence_embedding", "sentence", vectors_sentence),
    ):
        if vectors is not None and vectors is index.vectors.get(kind):
            out[column] = index.pair_cosines(kind, w1, w2)
        else:
            out[column] = vector_cosines(vectors, w1, w2)
    return out
