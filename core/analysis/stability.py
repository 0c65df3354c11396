"""Stability of expert sets across folds (the paper's Fig. 1).

Each fold draws a fresh set of positive and negative sentences. If experts are
a property of the concept rather than of the sample, a concept's expert sets
from different folds overlap far more than the sets of two different concepts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from itertools import combinations
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from core.experts.index import ExpertIndex
from core.experts.overlap import intersections, jaccard_from_counts
from core.tau import STABILITY_TAUS

if TYPE_CHECKING:
    from core.storage.reader import StoreReader


def fold_overlap(index: ExpertIndex, taus: Iterable[float] = STABILITY_TAUS) -> pd.DataFrame:
    """Within-concept (across folds) vs between-concept Jaccard of expert sets, per τ.

    within: Jaccard of one concept's sets from two folds, over every concept with
    results in all folds and every pair of folds (NaN with a single fold).
    between: Jaccard of the fold-0 sets of two different concepts, over all pairs.
    Returns columns tau, within_mean, within_std, between_mean, between_std,
    n_concepts, n_folds.
    """
    complete = index.complete_concepts()
    rows_c = index.position(complete)
    fold0 = index.concepts_of(0) if 0 in index.folds else []
    rows_0 = index.position(fold0)
    out = []
    for tau in taus:
        within = []
        for f, g in combinations(index.folds, 2):
            xf, xg = index.matrix(tau, f), index.matrix(tau, g)
            inter = pair_intersections_between(xf, xg, rows_c)
            within.append(jaccard_from_counts(inter, np.diff(xf.indptr)[rows_c], np.diff(xg.indptr)[rows_c]))
        within = np.concatenate(within) if within else np.zeros(0)
        between = np.zeros(0)
        if len(fold0) >= 2:
            x = index.matrix(tau, 0)[rows_0]
            inter = intersections(x)
            sizes = np.diag(inter)
            jac = jaccard_from_counts(inter, sizes[:, None], sizes[None, :])
            between = jac[np.triu_indices(len(fold0), k=1)]
        out.append(
            {
                "tau": float(tau),
                "within_mean": float(within.mean()) if within.size else np.nan,
                "within_std": float(within.std()) if within.size else np.nan,
                "between_mean": float(between.mean()) if between.size else np.nan,
                "between_std": float(between.std()) if between.size else np.nan,
                "n_concepts": len(complete) if len(index.folds) > 1 else len(fold0),
                "n_folds": len(index.folds),
            }
        )
    return pd.DataFrame(out)


def pair_intersections_between(xf, xg, rows: np.ndarray) -> np.ndarray:
    """|row r of xf ∩ row r of xg| for each r in ``rows`` (two matrices with the same rows)."""
    if len(rows) == 0:
        return np.zeros(0, dtype=np.int64)
    a = xf[rows].astype(np.int32)
    b = xg[rows].astype(np.int32)
    return np.asarray(a.multiply(b).sum(axis=1)).ravel().astype(np.int64)


def stability_by_size(
    store: StoreReader,
    run_ids: Iterable[str],
    taus: Iterable[float] = STABILITY_TAUS,
    index_cache: dict | None = None,
    runs: Mapping | None = None,
) -> pd.DataFrame:
    """``fold_overlap`` of several runs stacked, with each run's mean n_pos and n_neg.

    Runs that differ only in set sizes show how overlap depends on them. ``runs``: ``{run_id: Run}`` already read
    (each run otherwise costs a store read).
    """
    from .alignment import get_index

    taus = tuple(taus)
    frames = []
    for run_id in run_ids:
        run = runs[run_id] if runs and run_id in runs else store.run(run_id)
        index = get_index(store, run_id, index_cache, run.n_results)
        res = index.results if index.results is not None else store.results(run_id)
        t = fold_overlap(index, taus)
        t.insert(0, "run_id", run_id)
        t.insert(1, "model", run.model)
        t.insert(2, "revision", run.revision)
        t["n_pos"] = float(res["n_pos"].mean()) if len(res) else np.nan
        t["n_neg"] = float(res["n_neg"].mean()) if len(res) else np.nan
        frames.append(t)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def set_sizes(index: ExpertIndex, taus: Iterable[float], fold: int = 0) -> pd.DataFrame:
    """Distribution of expert-set sizes per τ: median, quartiles, mean, and concepts with no expert."""
    rows = []
    for tau in taus:
        c = index.counts(tau, fold)
        if c.empty:
            continue
        rows.append(
            {
                "tau": float(tau),
                "median": float(c.median()),
                "q25": float(c.quantile(0.25)),
                "q75": float(c.quantile(0.75)),
                "mean": float(c.mean()),
                "max": int(c.max()),
                "no_experts": int((c == 0).sum()),
                "n_concepts": int(c.size),
            }
        )
    return pd.DataFrame(rows, columns=["tau", "median", "q25", "q75", "mean", "max", "no_experts", "n_concepts"])
