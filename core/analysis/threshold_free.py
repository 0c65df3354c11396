"""Alignment that does not hinge on one τ: every alignment measure side by side, and ρ averaged over the τ grid.

``measure_alignment`` scores a run's covered pairs by Jaccard at τ and by every other registered alignment measure
(the threshold-free ones on stored APs included), with bootstrap CIs and paired tests against Jaccard on shared
resamples. ``tau_averaged`` is the τ-free summary of Jaccard: the area under ρ(τ) over ``STABILITY_TAUS`` (0.50,
0.55, …, 0.95) divided by the τ range (trapezoid rule), with a percentile CI from the same pair resamples, each
resample's ρ(τ) curve averaged the same way. A τ where every pair scores the same (all sets empty) counts ρ = 0.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from core.experts.index import ExpertIndex
from core.tau import STABILITY_TAUS, check_tau

from .alignment import N_BOOT, _interval, _spearman, method_alignment, pair_bootstrap
from .measures import BASELINE, alignment_methods
from .similarity import pair_similarities

TAU_AVERAGED = "tau_averaged"  # the row name of the τ-averaged Jaccard


def _trapezoid_weights(taus: np.ndarray) -> np.ndarray:
    """Weights w with Σ w ρ(τ) = ∫ρ dτ / (τ_max − τ_min) by the trapezoid rule (a single τ: weight 1)."""
    if taus.size == 1:
        return np.ones(1)
    w = np.zeros(taus.size)
    d = np.diff(taus) / 2
    w[:-1] += d
    w[1:] += d
    return w / (taus[-1] - taus[0])


def tau_averaged(
    index: ExpertIndex,
    pairs: pd.DataFrame,
    taus: Iterable[float] = STABILITY_TAUS,
    n_boot: int = N_BOOT,
    seed: int = 0,
    fold: int = 0,
    confidence: float = 0.95,
    reference_tau: float = 0.5,
) -> dict:
    """ρ of Jaccard averaged over ``taus`` with its CI, and the paired test against Jaccard at ``reference_tau``.

    Returns a row like ``method_alignment``'s: method, rho, ci_low, ci_high, p_value (NaN: no closed form),
    p_vs_experts, n_pairs, plus ``taus`` (how many) and ``curve`` (ρ at each τ).
    """
    grid = np.array(sorted({round(check_tau(t), 4) for t in taus}), dtype=np.float64)
    weights = _trapezoid_weights(grid)
    sims = {t: pair_similarities(index, None, None, pairs, float(t), fold, (BASELINE,)) for t in grid}
    ref = pair_similarities(index, None, None, pairs, check_tau(reference_tau), fold, (BASELINE,))
    human = ref["score"].to_numpy(np.float64)
    nan = float("nan")
    row = {"method": TAU_AVERAGED, "rho": nan, "ci_low": nan, "ci_high": nan, "p_value": nan, "p_vs_experts": nan}
    row |= {"n_pairs": int(human.size), "taus": int(grid.size), "curve": []}
    if human.size < 3:
        return row
    boot = pair_bootstrap(human, n_boot, seed) if n_boot >= 1 else None
    point, boots = 0.0, np.zeros(n_boot if boot else 0)
    for w, t in zip(weights, grid):
        x = sims[t][BASELINE].to_numpy(np.float64)
        rho = _spearman(x, human)[0]
        row["curve"].append(0.0 if np.isnan(rho) else rho)
        point += w * row["curve"][-1]
        if boot is not None:
            boots += w * np.nan_to_num(boot.rhos(x), nan=0.0)
    row["rho"] = float(point)
    if boot is not None:
        row["ci_low"], row["ci_high"] = _interval(boots, confidence)
        x_ref = ref[BASELINE].to_numpy(np.float64)
        delta = point - _spearman(x_ref, human)[0]
        diffs = boots - boot.rhos(x_ref)
        diffs = diffs[np.isfinite(diffs)]
        p = (1 + np.count_nonzero(np.abs(diffs - delta) >= abs(delta) - 1e-12)) / (diffs.size + 1)
        row["p_vs_experts"] = float(min(p, 1.0))
    return row


def measure_alignment(
    index: ExpertIndex,
    pairs: pd.DataFrame,
    tau: float = 0.5,
    n_boot: int = N_BOOT,
    seed: int = 0,
    fold: int = 0,
    taus: Iterable[float] = STABILITY_TAUS,
) -> pd.DataFrame:
    """ρ [CI], p and p vs Jaccard at τ of every registered alignment measure, then the τ-averaged Jaccard.

    The embedding baselines read the index's vectors. A measure with no value on any pair (the raw-AP measures of a
    run that did not store every AP) is left out; ``n_pairs`` says on how many pairs each row was scored.
    """
    methods = alignment_methods(every=True)
    vec = index.vectors
    sims = pair_similarities(index, vec.get("word"), vec.get("sentence"), pairs, check_tau(tau), fold, methods)
    table = method_alignment(sims, methods, n_boot, seed)
    table = table[table["n_pairs"] > 0]
    averaged = tau_averaged(index, pairs, taus, n_boot, seed, fold, reference_tau=tau)
    averaged = {k: v for k, v in averaged.items() if k in table.columns}
    out = pd.concat([table, pd.DataFrame([averaged])], ignore_index=True)
    out.insert(1, "tau", [tau if m == BASELINE else float("nan") for m in out["method"]])
    return out
