"""Alignment with human judgement: Spearman's ρ, bootstrap CIs and paired tests.

The bootstrap resamples benchmark *pairs* with replacement. Instead of sorting
every resample, each variable is sorted once: a resample is a vector of counts
(how often each pair was drawn), and the average rank of a value inside the
resample is the number of drawn values below it plus half of the drawn values
tied with it, i.e. a cumulative sum of counts in the fixed sorted order. ρ of
the resample is then the count-weighted Pearson correlation of those ranks,
exactly ``scipy.stats.spearmanr`` of the resampled arrays, for all resamples
at once in O(n_boot × n) without a sort.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import stats

from core.experts.index import ExpertIndex
from core.storage.records import Run
from core.tau import check_tau

from .measures import BASELINE, alignment_methods
from .run_choice import with_results
from .similarity import pair_similarities

if TYPE_CHECKING:
    from core.storage.reader import StoreReader

N_BOOT = 1000  # bootstrap resamples for CIs and paired tests (the paper's)

RUN_COLUMNS = ["run_id", "model", "family", "n_params", "revision", "step"]


def resample_counts(n: int, n_boot: int, seed: int = 0) -> np.ndarray:
    """(n, n_boot) counts of how often each item is drawn in each bootstrap resample (seeded).

    Items run along axis 0 so that the per-item passes below (gather, cumulative
    sum) move whole contiguous rows.
    """
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, n, size=(n_boot, n))
    draws *= n_boot
    draws += np.arange(n_boot)[:, None]
    return np.bincount(draws.ravel(), minlength=n_boot * n).reshape(n, n_boot).astype(np.float64)


def _ties(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(order, starts, group): sort order, first sorted position of each distinct value, group of each item."""
    order = np.argsort(x, kind="stable")
    xs = x[order]
    is_start = np.concatenate([[True], xs[1:] != xs[:-1]])
    group = np.empty(x.size, dtype=np.int64)
    group[order] = np.cumsum(is_start) - 1
    return order, np.flatnonzero(is_start), group


def _group_ranks(counts: np.ndarray, order: np.ndarray, starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(w, r): drawn copies of each distinct value per resample, and the average rank they take.

    One cumulative sum of the counts in sorted order; its value at the end of a
    run of ties is the number of drawn values up to that run.
    """
    upto = np.cumsum(np.take(counts, order, axis=0), axis=0)
    if starts.size < order.size:
        upto = np.take(upto, np.append(starts[1:], order.size) - 1, axis=0)
    w = np.diff(upto, axis=0, prepend=0)
    upto -= (w - 1) / 2
    return w, upto


class PairBootstrap:
    """One set of bootstrap resamples of n pairs, shared by every method compared on them.

    ``rhos(x)`` gives ρ(x, human) of each resample: the count-weighted Pearson
    correlation of resample ranks. The human side (ranks, centred and weighted)
    is computed once, so a method costs one ``argsort`` of n values and a few
    passes over an (n, n_boot) array.
    """

    def __init__(self, human: np.ndarray, n_boot: int = N_BOOT, seed: int = 0):
        self.human = np.asarray(human, dtype=np.float64)
        n = self.human.size
        self.counts = resample_counts(n, n_boot, seed)
        self._mean = (n + 1) / 2  # average ranks of n values always average (n + 1) / 2
        order, starts, group = _ties(self.human)
        w, r = _group_ranks(self.counts, order, starts)
        r -= self._mean
        self._syy = np.einsum("ij,ij,ij->j", w, r, r)
        self._cdy = self.counts * np.take(r, group, axis=0)
        self._memo: dict[bytes, np.ndarray] = {}

    def rhos(self, x: np.ndarray) -> np.ndarray:
        """(n_boot,) Spearman ρ of x with the human scores on each resample (NaN if constant)."""
        x = np.asarray(x, dtype=np.float64)
        if x.shape != self.human.shape:
            raise ValueError("x and human must have the same length")
        key = x.tobytes()
        if key not in self._memo:
            order, starts, group = _ties(x)
            w, r = _group_ranks(self.counts, order, starts)
            r -= self._mean
            sxx = np.einsum("ij,ij,ij->j", w, r, r)
            sxy = np.einsum("ij,ij->j", np.take(r, group, axis=0), self._cdy)
            with np.errstate(invalid="ignore", divide="ignore"):
                self._memo[key] = sxy / np.sqrt(sxx * self._syy)
            if len(self._memo) > 16:
                self._memo.pop(next(iter(self._memo)))
        return self._memo[key]


_BOOT_CACHE: OrderedDict = OrderedDict()


def pair_bootstrap(human: np.ndarray, n_boot: int = N_BOOT, seed: int = 0) -> PairBootstrap:
    """A ``PairBootstrap``, reused for the same human scores, n_boot and seed (a few are kept).

    The resamples depend only on those, so recomputing at a new τ reuses them.
    """
    human = np.ascontiguousarray(human, dtype=np.float64)
    key = (human.tobytes(), int(n_boot), int(seed))
    if key in _BOOT_CACHE:
        _BOOT_CACHE.move_to_end(key)
        return _BOOT_CACHE[key]
    boot = PairBootstrap(human, n_boot, seed)
    _BOOT_CACHE[key] = boot
    while len(_BOOT_CACHE) > 3:
        _BOOT_CACHE.popitem(last=False)
    return boot


def _check_xy(x, y) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x, dtype=np.float64).ravel()
    y = np.asarray(y, dtype=np.float64).ravel()
    if x.shape != y.shape:
        raise ValueError(f"x and y differ in length ({x.size} and {y.size})")
    if np.isnan(x).any() or np.isnan(y).any():
        raise ValueError("x and y must not contain NaN; drop those pairs first")
    return x, y


def _spearman(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(ρ, two-sided p) of scipy's spearmanr; NaN for fewer than 3 pairs or a constant input."""
    if x.size < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan"), float("nan")
    res = stats.spearmanr(x, y)
    return float(res.statistic), float(res.pvalue)  # pyright: ignore[reportAttributeAccessIssue]  # scipy builds SignificanceResult at run time


def _interval(values: np.ndarray, confidence: float) -> tuple[float, float]:
    values = values[np.isfinite(values)]
    if values.size == 0:
        return float("nan"), float("nan")
    alpha = (1 - confidence) / 2
    lo, hi = np.quantile(values, [alpha, 1 - alpha])
    return float(lo), float(hi)


def spearman_ci(
    x: Iterable[float],
    y: Iterable[float],
    n_boot: int = N_BOOT,
    seed: int = 0,
    confidence: float = 0.95,
    _boot: PairBootstrap | None = None,
) -> dict:
    """Spearman's ρ of x and y with a percentile bootstrap CI over pairs.

    Returns ``{"rho", "ci_low", "ci_high", "p_value", "n"}``; ρ and p come from
    ``scipy.stats.spearmanr`` (p: two-sided, H0 ρ = 0), the CI from ``n_boot``
    seeded resamples of the (x, y) pairs. ρ is NaN when an input is constant.
    """
    x, y = _check_xy(x, y)
    if not 0 < confidence < 1:
        raise ValueError("confidence must be in (0, 1)")
    rho, p = _spearman(x, y)
    if np.isnan(rho) or n_boot < 1:
        lo = hi = float("nan")
    else:
        boot = _boot or pair_bootstrap(y, n_boot, seed)
        lo, hi = _interval(boot.rhos(x), confidence)
    return {"rho": rho, "ci_low": lo, "ci_high": hi, "p_value": p, "n": int(x.size)}


def paired_difference(
    x_a: Iterable[float],
    x_b: Iterable[float],
    human: Iterable[float],
    n_boot: int = N_BOOT,
    seed: int = 0,
    confidence: float = 0.95,
    _boot: PairBootstrap | None = None,
) -> dict:
    """Paired bootstrap test of ρ(x_a, human) − ρ(x_b, human) on the same pairs.

    Both ρ are recomputed on each resample of the pairs, so their correlation
    (same words, same human scores) is kept. Returns ``{"delta", "ci_low",
    "ci_high", "p_value"}``: a percentile CI of the difference and a two-sided
    p-value from the bootstrap distribution shifted to the null (Hall & Wilson
    1991): ``(1 + #{|δ* − δ| ≥ |δ|}) / (n_boot + 1)``.
    """
    a, h = _check_xy(x_a, human)
    b, _ = _check_xy(x_b, human)
    rho_a, _ = _spearman(a, h)
    rho_b, _ = _spearman(b, h)
    delta = rho_a - rho_b
    if np.isnan(delta) or n_boot < 1:
        return {"delta": delta, "ci_low": float("nan"), "ci_high": float("nan"), "p_value": float("nan")}
    boot = _boot or pair_bootstrap(h, n_boot, seed)
    diffs = boot.rhos(a) - boot.rhos(b)
    diffs = diffs[np.isfinite(diffs)]
    lo, hi = _interval(diffs, confidence)
    p = (1 + np.count_nonzero(np.abs(diffs - delta) >= abs(delta) - 1e-12)) / (diffs.size + 1)
    return {"delta": float(delta), "ci_low": lo, "ci_high": hi, "p_value": float(min(p, 1.0))}


def method_alignment(
    sims: pd.DataFrame,
    methods: Iterable[str] | None = None,
    n_boot: int = N_BOOT,
    seed: int = 0,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """ρ, CI, p and the paired test against ``experts`` for each method column of ``pair_similarities``.

    ``methods`` defaults to the registered alignment measures (``core.analysis.measures``).

    A method is scored on the pairs where it has a value (a missing vector
    leaves a pair out for that method only); a paired test uses the pairs where
    both methods have one. Resamples are shared between methods on the same pairs.
    """
    human = sims["score"].to_numpy(np.float64)
    boots: dict[bytes, PairBootstrap] = {}

    def boot_for(mask: np.ndarray) -> PairBootstrap:
        key = mask.tobytes()
        if key not in boots:
            boots[key] = pair_bootstrap(human[mask], n_boot, seed)
        return boots[key]

    rows = []
    methods = list(alignment_methods() if methods is None else methods)
    ref = sims[BASELINE].to_numpy(np.float64) if BASELINE in sims else None
    for m in methods:
        x = sims[m].to_numpy(np.float64)
        ok = ~np.isnan(x)
        n = int(ok.sum())
        if n >= 3 and n_boot >= 1:
            r = spearman_ci(x[ok], human[ok], n_boot, seed, confidence, _boot=boot_for(ok))
        else:
            r = {"rho": float("nan"), "ci_low": float("nan"), "ci_high": float("nan"), "p_value": float("nan")}
            if n >= 3:
                r["rho"], r["p_value"] = _spearman(x[ok], human[ok])
        p_vs = float("nan")
        if m != BASELINE and ref is not None:
            both = ok & ~np.isnan(ref)
            if both.sum() >= 3:
                boot = boot_for(both) if n_boot >= 1 else None
                p_vs = paired_difference(ref[both], x[both], human[both], n_boot, seed, confidence, _boot=boot)[
                    "p_value"
                ]
        rows.append(
            {
                "method": m,
                "rho": r["rho"],
                "ci_low": r["ci_low"],
                "ci_high": r["ci_high"],
                "p_value": r["p_value"],
                "p_vs_experts": p_vs,
                "n_pairs": n,
            }
        )
    return pd.DataFrame(rows)


def get_index(
    store: StoreReader, run_id: str, index_cache: dict | None = None, n_results: int | None = None
) -> ExpertIndex:
    """The ``ExpertIndex`` of a run, from ``index_cache`` when it is still current.

    A cached index is rebuilt when the run's number of stored results has
    changed since it was read (an extraction still adding concepts).
    """
    if index_cache is not None:
        idx = index_cache.get(run_id)
        if idx is not None and (n_results is None or idx.run is not None and idx.run.n_results == int(n_results)):
            return idx
    idx = ExpertIndex.from_store(store, run_id)
    if index_cache is not None:
        index_cache[run_id] = idx
    return idx


def _runs(store: StoreReader, run_ids: Iterable[str] | None, index_cache: dict | None, check_fresh: bool) -> list[Run]:
    """The runs to score (all with results when ``run_ids`` is None); from the cached indexes when allowed."""
    if not check_fresh and run_ids is not None and index_cache is not None:
        run_ids = list(run_ids)
        if all(r in index_cache and index_cache[r].run is not None for r in run_ids):
            return [index_cache[r].run for r in run_ids]
    if run_ids is None:
        return with_results(store.runs())
    return [store.run(r) for r in run_ids]


def alignment_table(
    store: StoreReader,
    run_ids: Iterable[str] | None,
    pairs: pd.DataFrame,
    tau: float = 0.5,
    n_boot: int = N_BOOT,
    seed: int = 0,
    index_cache: dict | None = None,
    confidence: float = 0.95,
    check_fresh: bool = True,
    methods: Iterable[str] | None = None,
) -> pd.DataFrame:
    """One row per (run, method): Spearman ρ with human scores, CI, p and paired test vs experts.

    Parameters
    ----------
    store : a ``core.storage.store.Store``.
    run_ids : runs to score (None: every run with results).
    pairs : a benchmark (``core.text.benchmarks.read_pairs`` / ``load_men``).
    tau : expert threshold in [0.5, 1].
    index_cache : optional ``{run_id: ExpertIndex}`` reused and filled, so a new τ
        costs no reading of APs. A cached index whose run has gained results since
        is read again.
    check_fresh : with False, runs already in ``index_cache`` are used without
        asking the store whether they changed (no database access at all).
    methods : the measures to score (default: ``measures.alignment_methods()``).

    Returns columns run_id, model, family, n_params, revision, step, method, tau,
    rho, ci_low, ci_high, p_value, p_vs_experts, n_pairs, n_missing. ``n_missing``
    counts the benchmark pairs a method could not score (a word without results
    or without a vector); ``core.text.benchmarks.coverage`` lists them.
    """
    tau = check_tau(tau)
    methods = None if methods is None else tuple(methods)
    tables = []
    for run in _runs(store, run_ids, index_cache, check_fresh):
        idx = get_index(store, run.run_id, index_cache, run.n_results if check_fresh else None)
        sims = pair_similarities(idx, idx.vectors.get("word"), idx.vectors.get("sentence"), pairs, tau, 0, methods)
        t = method_alignment(sims, methods, n_boot, seed, confidence)
        for col in RUN_COLUMNS:
            t[col] = getattr(run, col)
        t["tau"] = tau
        t["n_missing"] = len(pairs) - t["n_pairs"]
        tables.append(t)
    columns = [*RUN_COLUMNS, "method", "tau", "rho", "ci_low", "ci_high", "p_value", "p_vs_experts"]
    columns += ["n_pairs", "n_missing"]
    if not tables:
        return pd.DataFrame(columns=columns)
    return pd.concat(tables, ignore_index=True)[columns]


def n_boot_for(n_runs: int) -> int:
    """Bootstrap resamples per run: 1000 (the paper's) for a few runs, fewer for long checkpoint series."""
    return N_BOOT if n_runs <= 8 else 300 if n_runs <= 40 else 100


def alignment_over_taus(
    store: StoreReader,
    run_ids: Iterable[str] | None,
    pairs: pd.DataFrame,
    taus: Iterable[float],
    n_boot: int = N_BOOT,
    seed: int = 0,
    methods: Iterable[str] | None = None,
) -> pd.DataFrame:
    """``alignment_table`` at every τ of ``taus``, stacked (each run's APs are read once)."""
    cache: dict = {}
    tables = [
        alignment_table(store, run_ids, pairs, tau, n_boot, seed, index_cache=cache, methods=methods) for tau in taus
    ]
    return pd.concat(tables, ignore_index=True)


def alignment_summary(table: Mapping | pd.DataFrame) -> pd.DataFrame:
    """A compact printable view of an alignment table (ρ with its CI)."""
    t = pd.DataFrame(table).copy()
    t["rho [CI]"] = [f"{r:.3f} [{lo:.3f}, {hi:.3f}]" for r, lo, hi in zip(t["rho"], t["ci_low"], t["ci_high"])]
    cols = ["run_id", "model", "revision", "method", "tau", "rho [CI]", "p_vs_experts", "n_pairs", "n_missing"]
    return t[[c for c in cols if c in t]]
