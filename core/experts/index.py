"""``ExpertIndex``: one run's stored APs held in memory, answering every τ without the database.

The store keeps every unit whose AP exceeds 0.5, so the experts at any
threshold τ in [0.5, 1] are a subset of what is stored. The index reads those
rows once per run (``Store.index_rows``) and answers every τ from memory:
moving a slider in the dashboard never touches the database again.

Set sizes and pair intersections need no sets at all: a concept has as many
experts at τ as it has stored APs above τ, and two concepts share as many as
there are shared units whose *smaller* AP is above τ. Both are counts of
sorted values above a threshold (``ThresholdCounter``), so a new τ costs one
binary search per concept or pair.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, TypeVar

import numpy as np
import pandas as pd
from scipy import sparse

from core.storage.records import Run, vectors_by_kind
from core.tau import TAU_MIN, check_tau

from .ap_vectors import clip_aps
from .counting import PairOverlap, ThresholdCounter, UnitGroups
from .overlap import intersections, jaccard_from_counts, sets_matrix, vector_cosines

if TYPE_CHECKING:
    from core.storage.reader import StoreReader

T = TypeVar("T")


def ap_floor_of(results: pd.DataFrame | None) -> float:
    """The AP floor a run's results were stored with (the highest, if they differ; ``TAU_MIN`` when unrecorded)."""
    if results is None or "ap_floor" not in results or results["ap_floor"].isna().all():
        return TAU_MIN
    return max(TAU_MIN, float(results["ap_floor"].max()))


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
    run : the ``Run`` the rows came from, if any.
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
        run: Run | None = None,
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
        keep = ap > TAU_MIN
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
        self.run = run
        self.run_id = run.run_id if run is not None else None
        self.vectors = vectors or {}
        self.results = results
        self.floor = ap_floor_of(results)
        self._cache: OrderedDict = OrderedDict()
        self._static: OrderedDict = OrderedDict()
        self._cache_size = cache_size

    def _tau(self, tau: float) -> float:
        """``tau`` checked against the method's range and this run's AP floor (APs under it were never stored)."""
        tau = check_tau(tau)
        if tau < self.floor:
            raise ValueError(f"tau {tau:g} is below this run's AP floor {self.floor:g}: APs under it were not stored")
        return tau

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
    def from_store(cls, store: StoreReader, run_id: str, vectors: bool = True) -> ExpertIndex:
        """Read a run's AP rows (all folds), results and vectors (``Store.index_rows``, one connection)."""
        rows = store.index_rows(run_id, vectors)
        results = rows.results
        return cls(
            sorted(pd.unique(results["concept"])),
            *(np.asarray(rows.rows[k]) for k in ("ci", "fold", "unit", "ap")),
            n_units=rows.run.n_units,
            present=list(zip(results["concept"], results["fold"].astype(int))),
            run=rows.run,
            vectors=vectors_by_kind(rows.vectors),
            results=results,
        )

    @property
    def n_rows(self) -> int:
        """Stored (concept, fold, unit) rows above the floor: what the index's memory grows with."""
        return int(self._unit.size)

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
        tau = self._tau(tau)

        def build() -> sparse.csr_matrix:
            mask = self._ap[self._rows(fold)] > np.float64(tau)  # float64 comparison, as DuckDB's ``ap > ?``
            return self._csr(fold, mask, np.ones(int(mask.sum()), dtype=bool))

        return self._cached(("matrix", tau, int(fold)), build, per_tau=True)

    def ap_matrix(self, fold: int = 0) -> sparse.csr_matrix:
        """Concepts × units CSR of the stored APs (> 0.5) of one fold (cached)."""
        return self._cached(("ap", int(fold)), lambda: self._csr(fold, None, self._ap[self._rows(fold)]))

    def clipped_matrix(self, fold: int = 0) -> sparse.csr_matrix:
        """Concepts × units CSR of ``(AP − floor)₊`` of one fold (cached): what the threshold-free measures read."""
        return self._cached(("clipped", int(fold)), lambda: clip_aps(self.ap_matrix(fold), self.floor))

    def sizes(self, tau: float = 0.5, fold: int = 0) -> np.ndarray:
        """Number of experts at τ of every concept of ``self.concepts`` (0 without a result)."""
        tau = self._tau(tau)

        def build() -> ThresholdCounter:
            sl = self._rows(fold)
            return ThresholdCounter(self._concept[sl], self._ap[sl], len(self.concepts))

        return self._cached(("sizes", int(fold)), build).count_above(tau)

    def group_sizes(self, groups: UnitGroups, tau: float = 0.5, fold: int = 0) -> np.ndarray:
        """(concepts × groups) number of experts at τ of every concept in each group of units (cached per grouping)."""
        tau = self._tau(tau)

        def build() -> ThresholdCounter:
            sl = self._rows(fold)
            segment = self._concept[sl].astype(np.int64) * groups.n_groups + groups.code[self._unit[sl]]
            return ThresholdCounter(segment, self._ap[sl], len(self.concepts) * groups.n_groups)

        counter = self._cached(("group_sizes", groups.key, int(fold)), build)
        return counter.count_above(tau).reshape(len(self.concepts), groups.n_groups)

    def unit_groups(self, key: str, build: Callable[[], T]) -> T:
        """The grouping of this run's units named ``key`` (e.g. by layer, with its labels), built once by ``build()``."""
        return self._cached(("unit_groups", key), build)

    def sets(self, tau: float = 0.5, fold: int = 0, concepts: Iterable[str] | None = None) -> dict[str, np.ndarray]:
        """``{concept: sorted expert unit ids}`` for the concepts with a result in ``fold`` (or the given ones)."""
        tau = self._tau(tau)
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
        tau = self._tau(tau)
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

    def jaccard_row(self, concept: str, tau: float = 0.5, fold: int = 0) -> pd.DataFrame:
        """``concept``'s row of ``jaccard``: its Jaccard with every concept at τ, from the cached overlap of those
        pairs (built once per concept), so a new τ needs no ``X @ X.T`` over every concept."""
        names = self.concepts_of(fold)
        values = self.pair_jaccard([concept] * len(names), names, tau, fold) if concept in names else np.zeros(0)
        return pd.DataFrame([values], index=[concept], columns=names if concept in names else [])

    def pair_overlap(self, words1: Iterable[str], words2: Iterable[str], fold: int = 0) -> PairOverlap:
        """The (cached) ``PairOverlap`` of these word pairs: shared experts at any τ without rebuilding sets."""
        a, b = self.position(words1), self.position(words2)
        key = ("pairs", int(fold), a.tobytes(), b.tobytes())
        return self._cached(key, lambda: PairOverlap(self.ap_matrix(fold), a, b))

    def pair_group_overlap(
        self, words1: Iterable[str], words2: Iterable[str], groups: UnitGroups, fold: int = 0
    ) -> PairOverlap:
        """The (cached) per-group ``PairOverlap`` of these word pairs: shared experts in each group at any τ."""
        a, b = self.position(words1), self.position(words2)
        key = ("group_pairs", groups.key, int(fold), a.tobytes(), b.tobytes())
        return self._cached(key, lambda: PairOverlap(self.ap_matrix(fold), a, b, groups.code, groups.n_groups))

    def pair_jaccard(self, words1: Iterable[str], words2: Iterable[str], tau: float = 0.5, fold: int = 0) -> np.ndarray:
        """Jaccard of the expert sets of each (words1[i], words2[i]) pair; only those pairs are computed."""
        tau = self._tau(tau)
        words1, words2 = list(words1), list(words2)
        if not words1 and not words2:
            return np.zeros(0)
        po = self.pair_overlap(words1, words2, fold)
        sizes = self.sizes(tau, fold)
        return jaccard_from_counts(po.shared(tau), sizes[po.rows_a], sizes[po.rows_b])

    def pair_scores(self, key: tuple, build: Callable[[], np.ndarray]) -> np.ndarray:
        """Scores of fixed pairs that no τ changes (a threshold-free measure's), built once per ``key`` by ``build()``."""
        return self._cached(("pair_scores", *key), build)

    def pair_cosines(self, kind: str, words1: Iterable[str], words2: Iterable[str]) -> np.ndarray:
        """Cosine of the index's ``kind`` vectors for each pair (cached; NaN where a word has no vector)."""
        w1, w2 = list(words1), list(words2)
        key = ("cos", kind, "\x00".join(w1), "\x00".join(w2))
        return self._cached(key, lambda: vector_cosines(self.vectors.get(kind), w1, w2))
