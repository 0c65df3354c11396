"""Jaccard and cosine arithmetic, and the per-pair similarities of a benchmark by the three methods."""

import numpy as np
import pandas as pd
import pytest

from core.analysis.similarity import pair_similarities
from core.experts.index import ExpertIndex
from core.experts.overlap import cosine, jaccard
from core.text.benchmarks import read_pairs


def test_jaccard_hand_computed():
    assert jaccard([1, 2, 3], [2, 3, 4]) == pytest.approx(2 / 4)
    assert jaccard(np.array([5]), np.array([5])) == 1.0
    assert jaccard([1, 2], [3]) == 0.0
    assert jaccard([1, 1, 2], [2, 2]) == pytest.approx(1 / 2)  # duplicates do not count twice


def test_jaccard_of_empty_sets_is_zero():
    assert jaccard([], []) == 0.0
    assert jaccard(np.array([], dtype=int), np.array([3])) == 0.0


def test_cosine_hand_computed():
    assert cosine([1, 0], [1, 1]) == pytest.approx(1 / np.sqrt(2))
    assert cosine([1, 2, 3], [-1, -2, -3]) == pytest.approx(-1.0)
    assert cosine([0, 0], [1, 1]) == 0.0  # no direction, no similarity
    with pytest.raises(ValueError):
        cosine([1, 2], [1, 2, 3])


def test_pair_similarities_covered_pairs_only(synth):
    store, runs, bench = synth
    idx = ExpertIndex.from_store(store, runs[-1])
    pairs = read_pairs(bench)
    sims = pair_similarities(idx, idx.vectors["word"], idx.vectors["sentence"], pairs, tau=0.5)
    assert list(sims.columns) == ["word1", "word2", "score", "experts", "word_embedding", "sentence_embedding"]
    assert len(sims) == len(pairs) - 1 and "zebra" not in set(sims["word2"])
    sets = idx.sets(0.5)
    row = sims[(sims.word1 == "cat") & (sims.word2 == "dog")].iloc[0]
    assert row["experts"] == pytest.approx(jaccard(sets["cat"], sets["dog"]))
    assert row["word_embedding"] == pytest.approx(cosine(idx.vectors["word"]["cat"], idx.vectors["word"]["dog"]))
    # the same with vectors passed from elsewhere (not the index's cached ones), and without vectors
    copy = {k: v.copy() for k, v in idx.vectors["sentence"].items()}
    other = pair_similarities(idx, None, copy, pairs, tau=0.5)
    assert other["sentence_embedding"].to_numpy() == pytest.approx(sims["sentence_embedding"].to_numpy())
    assert other["word_embedding"].isna().all()
    # planted structure: same-domain pairs share far more experts
    same = sims["score"] > 30
    assert sims.loc[same, "experts"].min() > sims.loc[~same, "experts"].max()


def test_nearest_and_compare_sets():
    from core.experts.overlap import compare_sets, nearest

    jac = pd.DataFrame([[1, 0.2, 0.5], [0.2, 1, 0.1], [0.5, 0.1, 1]], index=list("abc"), columns=list("abc"))
    assert list(nearest(jac, "a")["concept"]) == ["c", "b"]
    assert nearest(jac, "zz").empty
    assert compare_sets(np.array([1, 2, 3]), np.array([3, 4])) == {
        "only_a": 2,
        "shared": 1,
        "only_b": 1,
        "jaccard": 0.25,
    }
    assert compare_sets([], []) == {"only_a": 0, "shared": 0, "only_b": 0, "jaccard": 0.0}
