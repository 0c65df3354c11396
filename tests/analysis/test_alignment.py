import time

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from core.analysis.alignment import (
    PairBootstrap,
    alignment_table,
    method_alignment,
    paired_difference,
    spearman_ci,
)
from core.analysis.similarity import pair_similarities
from core.experts.index import ExpertIndex
from core.text.benchmarks import read_pairs

COLUMNS = [
    "run_id",
    "model",
    "family",
    "n_params",
    "revision",
    "step",
    "method",
    "tau",
    "rho",
    "ci_low",
    "ci_high",
    "p_value",
    "p_vs_experts",
    "n_pairs",
    "n_missing",
]


def noisy(n=300, noise=(5.0, 25.0), seed=0):
    rng = np.random.default_rng(seed)
    human = rng.uniform(0, 50, n).round()
    return human, [human + rng.normal(0, s, n) for s in noise]


def test_spearman_hand_computed():
    # ranks of y: 1, 2, 3.5, 5, 3.5 -> rho = 8 / sqrt(10 * 9.5)
    r = spearman_ci([1, 2, 3, 4, 5], [5, 6, 7, 8, 7], n_boot=200)
    assert r["rho"] == pytest.approx(8 / np.sqrt(95))
    assert r["n"] == 5
    assert r["p_value"] == pytest.approx(stats.spearmanr([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]).pvalue)


def test_bootstrap_rhos_equal_scipy_on_each_resample():
    human, (x, _) = noisy(200)
    x = x.round()  # ties on both sides
    boot = PairBootstrap(human, n_boot=20, seed=3)
    rhos = boot.rhos(x)
    for b in range(20):
        drawn = np.repeat(np.arange(human.size), boot.counts[:, b].astype(int))
        assert rhos[b] == pytest.approx(stats.spearmanr(x[drawn], human[drawn]).statistic, abs=1e-12)


def test_ci_contains_rho_and_is_seeded():
    human, (x, _) = noisy()
    a = spearman_ci(x, human, n_boot=500, seed=1)
    b = spearman_ci(x, human, n_boot=500, seed=1)
    c = spearman_ci(x, human, n_boot=500, seed=2)
    assert a["ci_low"] < a["rho"] < a["ci_high"]
    assert (a["ci_low"], a["ci_high"]) == (b["ci_low"], b["ci_high"])
    assert (a["ci_low"], a["ci_high"]) != (c["ci_low"], c["ci_high"])
    wide = spearman_ci(x[:40], human[:40], n_boot=500, seed=1)
    assert wide["ci_high"] - wide["ci_low"] > a["ci_high"] - a["ci_low"]


def test_degenerate_inputs():
    assert np.isnan(spearman_ci([1, 1, 1, 1], [1, 2, 3, 4])["rho"])
    with pytest.raises(ValueError):
        spearman_ci([1, 2, np.nan], [1, 2, 3])
    with pytest.raises(ValueError):
        spearman_ci([1, 2, 3], [1, 2])


def test_paired_difference_detects_a_real_difference():
    human, (good, bad) = noisy(noise=(5.0, 25.0))
    r = paired_difference(good, bad, human, n_boot=1000, seed=0)
    assert r["delta"] == pytest.approx(stats.spearmanr(good, human)[0] - stats.spearmanr(bad, human)[0])
    assert r["delta"] > 0.2 and r["ci_low"] > 0 and r["p_value"] < 0.01


def test_paired_difference_null():
    human, (a, b) = noisy(noise=(15.0, 15.0), seed=4)  # equally noisy, independent
    r = paired_difference(a, b, human, n_boot=1000, seed=0)
    assert r["ci_low"] < 0 < r["ci_high"] and r["p_value"] > 0.05
    same = paired_difference(a, a, human, n_boot=200)
    assert same["delta"] == 0 and same["p_value"] == 1.0


def test_method_alignment_handles_missing_vectors():
    human, (a, b) = noisy(100, noise=(5.0, 10.0))
    sims = pd.DataFrame({"score": human, "experts": a, "word_embedding": b, "sentence_embedding": b.copy()})
    sims.loc[:9, "sentence_embedding"] = np.nan
    t = method_alignment(sims, n_boot=200).set_index("method")
    assert t.loc["experts", "n_pairs"] == 100 and t.loc["sentence_embedding", "n_pairs"] == 90
    assert np.isnan(t.loc["experts", "p_vs_experts"]) and t.loc["word_embedding", "p_vs_experts"] <= 1
    assert t.loc["sentence_embedding", "rho"] == pytest.approx(stats.spearmanr(b[10:], human[10:])[0])


def test_alignment_table_on_synthetic_store(synth):
    store, runs, bench = synth
    pairs = read_pairs(bench)
    cache = {}
    t = alignment_table(store, None, pairs, tau=0.5, n_boot=300, index_cache=cache)
    assert list(t.columns) == COLUMNS
    assert len(t) == 6 and set(t["method"]) == {"experts", "word_embedding", "sentence_embedding"}
    assert (t["n_pairs"] == len(pairs) - 1).all() and (t["n_missing"] == 1).all()  # "zebra" is reported
    assert t["p_vs_experts"][t["method"] == "experts"].isna().all()
    assert ((t["ci_low"] <= t["rho"]) & (t["rho"] <= t["ci_high"])).all()
    late = t[(t.run_id == runs[-1]) & (t.method == "experts")].iloc[0]
    assert late["rho"] > 0.6 and late["revision"] == "step2000" and late["step"] == 2000
    idx = ExpertIndex.from_store(store, runs[-1])
    sims = pair_similarities(idx, idx.vectors["word"], idx.vectors["sentence"], pairs, 0.5)
    assert late["rho"] == pytest.approx(stats.spearmanr(sims["experts"], sims["score"])[0])
    assert set(cache) == set(runs)


def test_alignment_table_reuses_cache_without_the_store(synth):
    store, runs, bench = synth
    pairs = read_pairs(bench)
    cache = {r: ExpertIndex.from_store(store, r) for r in runs}
    before = {r: id(i) for r, i in cache.items()}

    class NoStore:
        path = "nowhere"

        def runs(self):
            raise AssertionError("the store was read")

    t1 = alignment_table(NoStore(), runs, pairs, tau=0.7, n_boot=100, index_cache=cache, check_fresh=False)
    t2 = alignment_table(store, runs, pairs, tau=0.7, n_boot=100, index_cache=cache)
    assert {r: id(i) for r, i in cache.items()} == before  # still current, so not read again
    pd.testing.assert_frame_equal(t1.drop(columns=COLUMNS[:6]), t2.drop(columns=COLUMNS[:6]))


def test_alignment_table_errors(synth):
    store, _, bench = synth
    pairs = read_pairs(bench)
    with pytest.raises(ValueError, match="tau"):
        alignment_table(store, None, pairs, tau=0.3)
    with pytest.raises(ValueError, match="no run"):
        alignment_table(store, ["nope"], pairs)


def test_alignment_is_fast_at_benchmark_size():
    """1000 pairs, 3 methods, at a new τ: well under the dashboard's 300 ms budget (loose bound here)."""
    rng = np.random.default_rng(0)
    concepts = [f"w{i}" for i in range(300)]
    n_units = 20_000
    ci = np.repeat(np.arange(300), 2000)
    unit = np.concatenate([rng.choice(n_units, 2000, replace=False) for _ in concepts])
    vec = {k: {c: rng.normal(size=64) for c in concepts} for k in ("word", "sentence")}
    idx = ExpertIndex(concepts, ci, np.zeros(ci.size), unit, rng.uniform(0.5, 1, ci.size), vectors=vec)
    pairs = pd.DataFrame(
        {"word1": rng.choice(concepts, 1000), "word2": rng.choice(concepts, 1000), "score": rng.integers(0, 51, 1000)}
    )

    def run(tau):
        sims = pair_similarities(idx, idx.vectors["word"], idx.vectors["sentence"], pairs, tau)
        return method_alignment(sims, n_boot=1000)

    run(0.5)  # builds the τ-free structures once
    start = time.perf_counter()
    run(0.63)
    assert time.perf_counter() - start < 1.0
