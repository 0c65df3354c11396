import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import average_precision_score

from core.experts.ap import NegativePool, ap_backend, ap_numba, ap_torch, average_precision, check_tau, experts


def sklearn_loop(pos, neg):
    y = np.r_[np.ones(len(pos)), np.zeros(len(neg))]
    scores = np.vstack([pos, neg])
    return np.array([average_precision_score(y, scores[:, u]) for u in range(scores.shape[1])])


@pytest.mark.parametrize("seed", range(4))
def test_matches_sklearn_on_random_data_with_ties(seed):
    rng = np.random.default_rng(seed)
    n_pos, n_neg, units = rng.integers(1, 60), rng.integers(1, 150), 500
    pos = rng.integers(0, 6, (n_pos, units)).astype(np.float32)  # few distinct values: many ties
    neg = rng.integers(0, 6, (n_neg, units)).astype(np.float32)
    np.testing.assert_allclose(average_precision(pos, neg, chunk=64), sklearn_loop(pos, neg), atol=1e-6, rtol=0)


def test_matches_sklearn_continuous_and_torch_input():
    rng = np.random.default_rng(9)
    pos = rng.normal(0.3, 1, (40, 300)).astype(np.float32)
    neg = rng.normal(0, 1, (90, 300)).astype(np.float32)
    expected = sklearn_loop(pos, neg)
    np.testing.assert_allclose(average_precision(torch.from_numpy(pos), torch.from_numpy(neg)), expected, atol=1e-6)


def test_all_equal_scores_give_prevalence():
    pos, neg = np.ones((7, 5)), np.ones((21, 5))
    np.testing.assert_allclose(average_precision(pos, neg), 7 / 28)
    np.testing.assert_allclose(average_precision(pos, neg), sklearn_loop(pos, neg), atol=1e-12)


def test_one_positive():
    rng = np.random.default_rng(1)
    pos, neg = rng.normal(size=(1, 50)), rng.normal(size=(30, 50))
    np.testing.assert_allclose(average_precision(pos, neg), sklearn_loop(pos, neg), atol=1e-12)


def test_perfect_and_worst_units():
    pos = np.array([[5.0, 0.0], [6.0, 0.0]])
    neg = np.array([[1.0, 9.0], [2.0, 8.0], [0.5, 7.0]])
    ap = average_precision(pos, neg)
    assert ap[0] == 1.0
    assert ap[1] == pytest.approx(sklearn_loop(pos, neg)[1])
    assert ap[1] < 0.5


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 12), st.integers(1, 12), st.integers(0, 2**31 - 1))
def test_property_equals_sklearn(n_pos, n_neg, seed):
    rng = np.random.default_rng(seed)
    pos = rng.integers(-2, 3, (n_pos, 8)).astype(np.float64)
    neg = rng.integers(-2, 3, (n_neg, 8)).astype(np.float64)
    np.testing.assert_allclose(average_precision(pos, neg), sklearn_loop(pos, neg), atol=1e-9)


def test_input_errors():
    with pytest.raises(ValueError, match="same number of units"):
        average_precision(np.ones((3, 4)), np.ones((3, 5)))
    with pytest.raises(ValueError, match="at least one positive"):
        average_precision(np.ones((0, 4)), np.ones((3, 4)))


def test_experts_strictly_above_tau():
    ap = np.array([0.2, 0.5, 0.51, 0.9, 1.0])
    assert experts(ap, 0.5).tolist() == [2, 3, 4]
    assert experts(ap, 0.9).tolist() == [4]


@pytest.mark.parametrize("bad", [0.49, 1.01, -1, "x", None, float("nan")])
def test_tau_outside_range_is_refused(bad):
    with pytest.raises(ValueError, match="tau must be"):
        check_tau(bad)


# -- the torch implementation and the shared negative pool ------------------------------------------------------


@pytest.mark.parametrize("seed", range(3))
def test_torch_matches_sklearn_and_numba_with_ties(seed):
    rng = np.random.default_rng(seed)
    n_pos, n_neg, units = rng.integers(1, 60), rng.integers(1, 150), 300
    pos = rng.integers(0, 6, (n_pos, units)).astype(np.float32)
    neg = rng.integers(0, 6, (n_neg, units)).astype(np.float32)
    got = ap_torch(torch.from_numpy(pos), torch.from_numpy(neg), chunk=64).numpy()
    np.testing.assert_allclose(got, sklearn_loop(pos, neg), atol=1e-6, rtol=0)
    np.testing.assert_allclose(got, ap_numba(pos, neg), atol=1e-12, rtol=0)


def test_torch_all_equal_scores_and_one_positive():
    pos, neg = torch.ones((7, 5)), torch.ones((21, 5))
    np.testing.assert_allclose(ap_torch(pos, neg).numpy(), 7 / 28)
    rng = np.random.default_rng(1)
    p, n = rng.normal(size=(1, 50)), rng.normal(size=(30, 50))
    got = ap_torch(torch.from_numpy(p), torch.from_numpy(n)).numpy()
    np.testing.assert_allclose(got, sklearn_loop(p, n), atol=1e-6, rtol=0)
    np.testing.assert_allclose(got, ap_numba(p, n), atol=1e-12, rtol=0)


def test_one_function_picks_the_backend():
    assert ap_backend("cpu") == "numba"
    assert ap_backend(torch.device("cpu")) == "numba"
    assert ap_backend("cuda") == "torch" and ap_backend("mps") == "torch"


@pytest.mark.parametrize("backend", ["torch", "numba"])
@pytest.mark.parametrize("n_left_out", [0, 1, 7, 40])
def test_pool_equals_sorting_each_concepts_negatives(backend, n_left_out):
    """Searchsorted against the sorted pool, minus the left-out rows, equals sorting the concept's own negatives."""
    rng = np.random.default_rng(n_left_out)
    pool_acts = rng.integers(0, 8, (60, 200)).astype(np.float32)  # ties, also between pool and positives
    pool_acts[:, :3] = 1.0  # a few all-equal units
    pos = rng.integers(0, 8, (13, 200)).astype(np.float32)
    members = np.sort(rng.permutation(60)[: 60 - n_left_out])
    pool = NegativePool(torch.from_numpy(pool_acts), chunk=48, backend=backend)
    got = pool.average_precision(torch.from_numpy(pos), members)
    assert got.dtype == torch.float64 and got.device == pool.device
    expected = sklearn_loop(pos, pool_acts[members])
    np.testing.assert_allclose(got.numpy(), expected, atol=1e-6, rtol=0)
    np.testing.assert_allclose(got.numpy(), ap_numba(pos, pool_acts[members]), atol=1e-12, rtol=0)


def test_pool_with_continuous_scores_and_unordered_members():
    rng = np.random.default_rng(5)
    pool_acts = rng.normal(size=(80, 64)).astype(np.float32)
    pos = rng.normal(0.4, 1, (9, 64)).astype(np.float32)
    members = rng.permutation(80)[:70]  # any order: a set of rows
    pool = NegativePool(torch.from_numpy(pool_acts), backend="torch")
    got = pool.average_precision(pos, members).numpy()
    np.testing.assert_allclose(got, sklearn_loop(pos, pool_acts[np.sort(members)]), atol=1e-6, rtol=0)
    with pytest.raises(ValueError, match="distinct"):
        pool.average_precision(pos, [0, 0, 1])
