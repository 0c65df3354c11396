"""ExpertIndex: expert sets, sizes and overlaps at any τ from one run's stored APs."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse

from core.experts.counting import ThresholdCounter
from core.experts.index import ExpertIndex
from core.experts.overlap import jaccard


def small_index() -> ExpertIndex:
    """a: units 1,2,3 (one AP exactly 0.75); b: 2,3,4; c: 9; d has a result but no stored unit."""
    rows = pd.DataFrame(
        [
            ("a", 0, 1, 0.9),
            ("a", 0, 2, 0.75),
            ("a", 0, 3, 0.6),
            ("b", 0, 2, 0.8),
            ("b", 0, 3, 0.55),
            ("b", 0, 4, 0.95),
            ("c", 0, 9, 0.7),
            ("a", 1, 1, 0.9),
            ("a", 1, 7, 0.9),
        ],
        columns=["concept", "fold", "unit", "ap"],
    )
    present = [("a", 0), ("b", 0), ("c", 0), ("d", 0), ("a", 1)]
    return ExpertIndex.from_frame(rows, concepts=["a", "b", "c", "d"], present=present, n_units=12)


def test_sets_and_threshold_are_strict():
    idx = small_index()
    s = idx.sets(0.5)
    assert list(s) == ["a", "b", "c", "d"]
    assert s["a"].tolist() == [1, 2, 3] and s["b"].tolist() == [2, 3, 4] and s["d"].tolist() == []
    assert idx.sets(0.75)["a"].tolist() == [1]  # AP exactly τ is not an expert
    assert idx.sets(0.7499)["a"].tolist() == [1, 2]
    assert idx.sets(0.5, fold=1) == {"a": pytest.approx(np.array([1, 7]))}
    assert idx.counts(0.7).to_dict() == {"a": 2, "b": 2, "c": 0, "d": 0}


def test_matrix_overlap_and_jaccard_matrix():
    idx = small_index()
    x = idx.matrix(0.5)
    assert sparse.isspmatrix_csr(x) and x.dtype == bool and x.shape == (4, 12)
    inter = idx.overlap(0.5)
    assert inter.loc["a", "b"] == 2 and inter.loc["a", "a"] == 3 and inter.loc["c", "a"] == 0
    jac = idx.jaccard(0.5)
    assert jac.loc["a", "b"] == pytest.approx(0.5)
    assert jac.loc["d", "d"] == 0.0  # empty with empty
    sets = idx.sets(0.6)
    jac = idx.jaccard(0.6)
    for p in sets:
        for q in sets:
            assert jac.loc[p, q] == pytest.approx(jaccard(sets[p], sets[q]))


def test_pair_jaccard_matches_sets():
    idx = small_index()
    for tau in (0.5, 0.58, 0.75, 0.85, 1.0):
        got = idx.pair_jaccard(["a", "a", "b", "d"], ["b", "c", "b", "d"], tau)
        s = idx.sets(tau)
        want = [jaccard(s["a"], s["b"]), jaccard(s["a"], s["c"]), jaccard(s["b"], s["b"]), 0.0]
        assert got == pytest.approx(want)


def test_sets_of_a_few_concepts_equal_full_sets():
    idx = small_index()
    few = idx.sets(0.65, concepts=["b", "a"])
    full = idx.sets(0.65)
    assert list(few) == ["b", "a"]
    assert all(few[c].tolist() == full[c].tolist() for c in few)


def test_tau_outside_range_is_refused():
    idx = small_index()
    for bad in (0.4, 1.01, "x"):
        with pytest.raises(ValueError, match="tau"):
            idx.sets(bad)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 4), st.floats(0.5, 1.0, exclude_min=True, width=32)), max_size=40),
    st.floats(0.5, 1.0),
)
def test_threshold_counter_equals_brute_force(rows, tau):
    seg = np.array([r[0] for r in rows], dtype=np.int64)
    val = np.array([r[1] for r in rows], dtype=np.float32)
    got = ThresholdCounter(seg, val, 5).count_above(tau)
    want = [int(np.sum((seg == s) & (val.astype(np.float64) > tau))) for s in range(5)]
    assert got.tolist() == want


def test_index_from_store_agrees_with_duckdb(synth):
    store, runs, _ = synth
    idx = ExpertIndex.from_store(store, runs[-1])
    assert idx.folds == [0, 1] and len(idx.concepts) == 8 and idx.n_units == 992
    assert set(idx.vectors) == {"word", "sentence"}
    for fold in (0, 1):
        for tau in (0.5, 0.6, 0.7, 0.85, 0.95):
            rows = store.ap(runs[-1], fold=fold, above=tau)
            want = {c: g["unit"].tolist() for c, g in rows.groupby("concept")}
            got = idx.sets(tau, fold)
            assert {c: v.tolist() for c, v in got.items() if v.size} == want


def test_unknown_run_is_a_clear_error(synth):
    store, _, _ = synth
    with pytest.raises(ValueError, match="no run 'nope'"):
        ExpertIndex.from_store(store, "nope")


def test_a_run_stored_above_a_higher_floor_refuses_tau_below_it(synth):
    """The floor comes from the run's results (``ap_floor``), not from an assumed 0.5."""
    rows = pd.DataFrame([("a", 0, 1, 0.9), ("b", 0, 1, 0.8)], columns=["concept", "fold", "unit", "ap"])
    results = pd.DataFrame({"concept": ["a", "b"], "fold": [0, 0], "ap_floor": [0.7, 0.7]})
    idx = ExpertIndex.from_frame(rows, results=results)
    assert idx.floor == 0.7
    assert idx.sets(0.7)["a"].tolist() == [1]
    with pytest.raises(ValueError, match="below this run's AP floor 0.7"):
        idx.sets(0.6)
    store, run_ids, _ = synth
    stored = ExpertIndex.from_store(store, run_ids[0])
    assert stored.floor == 0.5 and len(stored.sets(0.5)) > 0  # the synthetic store's parts record 0.5
    assert ExpertIndex.from_frame(rows).floor == 0.5  # no results: the method's lowest tau


@pytest.mark.parametrize("tau", [0.5, 0.63, 0.8])
def test_a_concepts_jaccard_row_is_its_row_of_the_matrix(synth, tau):
    """The explorer's nearest concepts come from one row, built from that concept's pair overlaps: the same
    numbers as the concept × concept matrix's row at every τ."""
    store, run_ids, _ = synth
    idx = ExpertIndex.from_store(store, run_ids[0])
    matrix = idx.jaccard(tau)
    for concept in idx.concepts_of(0)[:3]:
        row = idx.jaccard_row(concept, tau)
        assert list(row.columns) == list(matrix.columns)
        np.testing.assert_allclose(row.loc[concept].to_numpy(), matrix.loc[concept].to_numpy())
    assert idx.jaccard_row("not-a-concept", tau).empty
