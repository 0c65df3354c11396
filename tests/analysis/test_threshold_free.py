"""The τ-averaged ρ and the table of every measure, against direct computations."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from core.analysis.alignment import method_alignment
from core.analysis.similarity import pair_similarities
from core.analysis.threshold_free import TAU_AVERAGED, _trapezoid_weights, measure_alignment, tau_averaged
from core.experts.index import ExpertIndex
from core.text.benchmarks import read_pairs


def test_trapezoid_weights_average_a_curve():
    taus = np.array([0.5, 0.6, 0.7, 0.9])
    w = _trapezoid_weights(taus)
    assert w.sum() == pytest.approx(1.0)
    assert w @ (2 * taus) == pytest.approx(np.trapezoid(2 * taus, taus) / 0.4)
    assert _trapezoid_weights(np.array([0.5])).tolist() == [1.0]


def test_tau_averaged_rho_is_the_mean_of_the_curve_with_a_ci_and_a_paired_test(synth):
    store, run_ids, bench = synth
    index = ExpertIndex.from_store(store, run_ids[0])
    pairs = read_pairs(bench)
    taus = (0.5, 0.6, 0.7, 0.8, 0.9)
    row = tau_averaged(index, pairs, taus, n_boot=200)
    covered = pair_similarities(index, None, None, pairs, 0.5, methods=("experts",))
    curve = []
    for t in taus:
        x = index.pair_jaccard(covered["word1"], covered["word2"], t)
        rho = stats.spearmanr(x, covered["score"]).statistic if np.ptp(x) > 0 else 0.0
        curve.append(0.0 if np.isnan(rho) else rho)
    assert row["curve"] == pytest.approx(curve)
    assert row["rho"] == pytest.approx(np.trapezoid(curve, taus) / 0.4)
    assert row["ci_low"] <= row["rho"] <= row["ci_high"] and row["ci_low"] < row["ci_high"]
    assert 0 < row["p_vs_experts"] <= 1 and row["n_pairs"] == len(covered) and row["taus"] == 5
    same = tau_averaged(index, pairs, (0.5,), n_boot=200)
    assert same["rho"] == pytest.approx(curve[0]) and same["p_vs_experts"] == 1.0  # vs itself: no difference


def test_measure_alignment_lists_every_defined_measure_and_the_tau_average(synth):
    store, run_ids, bench = synth
    index = ExpertIndex.from_store(store, run_ids[0])
    pairs = read_pairs(bench)
    table = measure_alignment(index, pairs, 0.5, n_boot=100, taus=(0.5, 0.7, 0.9))
    methods = table["method"].tolist()
    assert methods[0] == "experts" and methods[-1] == TAU_AVERAGED
    assert {"weighted_jaccard", "clipped_ap_cosine", "word_embedding", "sentence_embedding"} <= set(methods)
    assert "raw_ap_cosine" not in methods  # this run kept APs above 0.5 only: no raw vectors
    sims = pair_similarities(
        index, index.vectors["word"], index.vectors["sentence"], pairs, 0.5, 0, ("experts", "weighted_jaccard")
    )
    direct = method_alignment(sims, ("experts", "weighted_jaccard"), n_boot=100).set_index("method")
    got = table.set_index("method")
    for m in ("experts", "weighted_jaccard"):
        assert got.loc[m, "rho"] == pytest.approx(direct.loc[m, "rho"])
        assert got.loc[m, "ci_low"] == pytest.approx(direct.loc[m, "ci_low"])
    assert got.loc["weighted_jaccard", "p_vs_experts"] == pytest.approx(direct.loc["weighted_jaccard", "p_vs_experts"])
    assert got.loc["experts", "tau"] == 0.5 and np.isnan(got.loc["weighted_jaccard", "tau"])
