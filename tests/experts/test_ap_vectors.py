"""Threshold-free measures of AP vectors against direct computations on small hand-made vectors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import entropy

from core.analysis.measures import MEASURES, Pairs
from core.analysis.similarity import pair_similarities
from core.experts.ap_vectors import clipped_cosine, clipped_weighted_jaccard, raw_ap_kl, symmetric_kl
from core.experts.index import ExpertIndex

FLOOR = 0.5
# Full AP vectors over 6 units. "b" ties "a" on two units; "d" shares no unit above the floor with "a";
# "e" has a result but no AP above the floor (the empty concept); "f" equals "a" exactly (all ties).
FULL = {
    "a": np.array([0.9, 0.7, 0.6, 0.3, 0.5, 0.2]),
    "b": np.array([0.9, 0.8, 0.4, 0.6, 0.5, 0.1]),
    "d": np.array([0.2, 0.4, 0.5, 0.3, 0.8, 0.95]),
    "e": np.array([0.5, 0.4, 0.1, 0.3, 0.2, 0.45]),
    "f": np.array([0.9, 0.7, 0.6, 0.3, 0.5, 0.2]),
}


def direct_weighted_jaccard(u, v, floor=FLOOR):
    a, b = np.maximum(u - floor, 0), np.maximum(v - floor, 0)
    den = np.maximum(a, b).sum()
    return np.minimum(a, b).sum() / den if den > 0 else 0.0


def direct_cosine(u, v):
    nu, nv = np.linalg.norm(u), np.linalg.norm(v)
    return float(u @ v / (nu * nv)) if nu > 0 and nv > 0 else 0.0


def stored_index(full, floor=FLOOR, results=None):
    """An index holding only what the store keeps: APs above ``floor``; every concept has a result."""
    concepts = sorted(full)
    ci, unit, ap = [], [], []
    for i, c in enumerate(concepts):
        keep = np.flatnonzero(full[c] > floor)
        ci += [i] * keep.size
        unit += keep.tolist()
        ap += full[c][keep].tolist()
    n = len(ci)
    return ExpertIndex(
        concepts,
        np.array(ci, dtype=np.int64),
        np.zeros(n, dtype=np.int64),
        np.array(unit, dtype=np.int64),
        np.array(ap, dtype=np.float32),
        n_units=len(next(iter(full.values()))),
        present=[(c, 0) for c in concepts],
        results=results,
    )


PAIRS = [("a", "b"), ("a", "d"), ("a", "e"), ("e", "e"), ("a", "f"), ("b", "d"), ("d", "e")]


def test_clipped_measures_match_a_direct_computation_on_full_vectors():
    index = stored_index(FULL)
    x = index.ap_matrix(0)
    rows_a = index.position([a for a, _ in PAIRS])
    rows_b = index.position([b for _, b in PAIRS])
    wj = clipped_weighted_jaccard(x, rows_a, rows_b, FLOOR)
    cos = clipped_cosine(x, rows_a, rows_b, FLOOR)
    f32 = {c: v.astype(np.float32).astype(np.float64) for c, v in FULL.items()}  # the store keeps float32
    for k, (a, b) in enumerate(PAIRS):
        clip_a, clip_b = np.maximum(f32[a] - FLOOR, 0), np.maximum(f32[b] - FLOOR, 0)
        assert wj[k] == pytest.approx(direct_weighted_jaccard(f32[a], f32[b]), abs=1e-12), (a, b)
        assert cos[k] == pytest.approx(direct_cosine(clip_a, clip_b), abs=1e-12), (a, b)
    named = dict(zip(PAIRS, zip(wj, cos)))
    assert named[("a", "d")] == (0.0, 0.0)  # no unit above the floor in both: nothing shared
    assert named[("a", "e")] == (0.0, 0.0) and named[("e", "e")] == (0.0, 0.0)  # the empty concept
    assert named[("a", "f")] == pytest.approx((1.0, 1.0))  # identical vectors, ties on every unit
    # a by hand: clipped a = (.4, .2, .1, 0, 0, 0), b = (.4, .3, 0, .1, 0, 0): Σmin = .6, Σmax = .4+.3+.1+.1 = .9
    assert named[("a", "b")][0] == pytest.approx(0.6 / 0.9, abs=1e-6)


def test_weighted_jaccard_over_stored_aps_equals_the_full_vectors_clipped_at_the_floor():
    rng = np.random.default_rng(3)
    full = {f"c{i}": rng.uniform(0.0, 1.0, 400).astype(np.float32).astype(np.float64) for i in range(12)}
    full["c0"][:50] = full["c1"][:50]  # ties across concepts
    full["c2"][:] = np.minimum(full["c2"], 0.5)  # an empty concept: nothing above the floor
    index = stored_index(full)
    names = sorted(full)
    i, j = np.triu_indices(len(names), 1)
    got = clipped_weighted_jaccard(index.ap_matrix(0), i, j, FLOOR)
    want = [direct_weighted_jaccard(full[names[a]], full[names[b]]) for a, b in zip(i, j)]
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)
    got_cos = clipped_cosine(index.ap_matrix(0), i, j, FLOOR)
    clip = {c: np.maximum(v - FLOOR, 0) for c, v in full.items()}
    want_cos = [direct_cosine(clip[names[a]], clip[names[b]]) for a, b in zip(i, j)]
    np.testing.assert_allclose(got_cos, want_cos, rtol=0, atol=1e-12)


def test_clipped_measures_use_the_runs_recorded_floor():
    results = pd.DataFrame({"concept": sorted(FULL), "fold": 0, "ap_floor": 0.6})
    index = stored_index(FULL, floor=0.6, results=results)
    assert index.floor == 0.6
    pairs = Pairs(index, ["a"], ["b"], 0.6, 0)
    want = direct_weighted_jaccard(FULL["a"], FULL["b"], 0.6)  # (.3, .1, 0, 0) vs (.3, .2, 0, 0): .4 / .5
    assert want == pytest.approx(0.8, abs=1e-12)
    assert MEASURES["weighted_jaccard"].pairs(pairs)[0] == pytest.approx(want, abs=1e-6)  # float32 APs
    assert MEASURES["weighted_jaccard"].pairs(Pairs(stored_index(FULL), ["a"], ["b"], 0.5, 0))[0] != pytest.approx(
        want, abs=1e-3
    )  # at floor 0.5 it differs, so the floor was read


def test_raw_ap_measures_match_scipy_and_are_nan_without_full_vectors():
    index = stored_index(FULL)
    w1, w2 = ["a", "a", "a", "e", "b"], ["b", "f", "e", "e", "zzz"]
    with_full = Pairs(index, w1, w2, 0.5, 0, {"ap": FULL})
    cos = MEASURES["raw_ap_cosine"].pairs(with_full)
    kl = MEASURES["raw_ap_kl"].pairs(with_full)
    for k, (a, b) in enumerate(zip(w1[:4], w2[:4])):
        assert cos[k] == pytest.approx(direct_cosine(FULL[a], FULL[b]), abs=1e-12)
        want = -0.5 * (entropy(FULL[a], FULL[b]) + entropy(FULL[b], FULL[a]))  # scipy normalises to sum 1
        assert kl[k] == pytest.approx(want, abs=1e-12)
    assert kl[1] == 0.0 and cos[1] == pytest.approx(1.0)  # identical vectors
    assert np.isnan(cos[4]) and np.isnan(kl[4])  # a word without a full vector
    without = Pairs(index, w1, w2, 0.5, 0)
    assert np.isnan(MEASURES["raw_ap_cosine"].pairs(without)).all()
    assert np.isnan(MEASURES["raw_ap_kl"].pairs(without)).all()
    assert np.isnan(symmetric_kl(np.zeros(3), np.ones(3)))
    assert raw_ap_kl(None, ["a"], ["b"]).shape == (1,)


def test_kl_ranks_pairs_as_a_divergence_should():
    base = np.array([0.6, 0.55, 0.52, 0.5])
    near, far = base + [0.01, 0, 0, 0], np.array([0.5, 0.5, 0.52, 0.9])
    got = raw_ap_kl({"x": base, "n": near, "f": far}, ["x", "x"], ["n", "f"])
    assert got[0] > got[1]  # the nearer vector is more similar


def test_pair_similarities_score_the_new_measures_on_covered_pairs_only():
    index = stored_index(FULL)
    pairs = pd.DataFrame({"word1": ["a", "a", "a"], "word2": ["b", "e", "zebra"], "score": [3.0, 1.0, 2.0]})
    sims = pair_similarities(
        index, None, None, pairs, 0.5, methods=("experts", "weighted_jaccard", "clipped_ap_cosine")
    )
    assert sims["word2"].tolist() == ["b", "e"]
    assert sims["weighted_jaccard"].tolist() == pytest.approx([0.6 / 0.9, 0.0], abs=1e-6)
    assert "weighted_jaccard" not in pair_similarities(index, None, None, pairs, 0.5).columns  # not a default


def floor_zero_store(path):
    """A store with one run that kept every AP (``--ap-floor 0``): three concepts over the 1000 synthetic units."""
    import os

    from core.config import DatasetConfig, ModelSpec, RunConfig
    from core.storage.parts import write_part
    from core.storage.store import Store
    from tests.synthetic import unit_frame

    store = Store(path)
    units = unit_frame()
    n = len(units)
    config = RunConfig(ModelSpec("synthetic/full"), DatasetConfig(("cat", "dog", "bus")))
    row = {"run_id": "full", "model": "synthetic/full", "revision": None, "step": None, "family": "toy"}
    row |= {"n_params": 1, "n_units": n, "n_layers": 4, "unit_table": "synthetic-units", "dataset_hash": "x"}
    store.add_run(row | {"config": config.to_json(), "versions": "{}"}, units)
    rng = np.random.default_rng(0)
    full = {c: rng.uniform(0.05, 1.0, n).astype(np.float32) for c in ("cat", "dog", "bus")}
    for c, ap in full.items():
        meta = {"run_id": "full", "concept": c, "fold": 0, "n_pos": 6, "n_neg": 20, "n_units": n, "n_stored": n}
        meta |= {"ap_floor": 0.0, "max_ap": float(ap.max()), "mean_ap": float(ap.mean()), "vectors": {}}
        store.ingest(write_part(os.path.join(store.parts_dir, "full", f"{c}__f0.parquet"), meta, np.arange(n), ap))
    return store, full


def test_full_ap_vectors_come_back_only_from_a_run_that_stored_every_ap(tmp_path, synth):
    from core.analysis.threshold_free import measure_alignment
    from core.experts.ap_vectors import full_ap_vectors

    store, full = floor_zero_store(str(tmp_path / "s.duckdb"))
    got = full_ap_vectors(store, "full")
    assert sorted(got) == sorted(full)
    for c in full:
        np.testing.assert_array_equal(got[c], full[c])
    assert full_ap_vectors(synth[0], synth[1][0]) is None  # APs above 0.5 only: the raw vectors are not stored
    index = ExpertIndex.from_store(store, "full")
    index.vectors["ap"] = got
    pairs = pd.DataFrame({"word1": ["cat", "cat", "dog"], "word2": ["dog", "bus", "bus"], "score": [1.0, 2.0, 3.0]})
    table = measure_alignment(index, pairs, n_boot=20, taus=(0.5,)).set_index("method")
    assert {"raw_ap_cosine", "raw_ap_kl"} <= set(table.index) and table.loc["raw_ap_kl", "n_pairs"] == 3
    sims = pair_similarities(index, None, None, pairs, methods=("raw_ap_cosine",))
    assert sims["raw_ap_cosine"].iloc[0] == pytest.approx(direct_cosine(full["cat"].astype(float), full["dog"]))
