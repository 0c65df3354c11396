"""Concept similarity from expert sets (Jaccard) and from embeddings (cosine).

Expert sets come from ``core.experts.index.ExpertIndex`` (one run's APs in
memory); here are the set and vector arithmetic and the per-pair similarities
of a benchmark by the three methods.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from core.experts.overlap import vector_cosines

if TYPE_CHECKING:
    from core.experts.index import ExpertIndex

METHODS = ("experts", "word_embedding", "sentence_embedding")


def covered_mask(pairs: pd.DataFrame, concepts: Iterable[str]) -> np.ndarray:
    """Pairs whose two words are both among ``concepts`` (the covered part of ``benchmarks.coverage``)."""
    have = set(concepts)
    w1, w2 = pairs["word1"].tolist(), pairs["word2"].tolist()
    return np.fromiter((a in have and b in have for a, b in zip(w1, w2)), dtype=bool, count=len(w1))


def pair_similarities(
    index: ExpertIndex,
    vectors_word: Mapping[str, np.ndarray] | None,
    vectors_sentence: Mapping[str, np.ndarray] | None,
    pairs: pd.DataFrame,
    tau: float = 0.5,
    fold: int = 0,
) -> pd.DataFrame:
    """Similarity of every covered benchmark pair by the three methods.

    Returns columns word1, word2, score (human), experts (Jaccard at τ),
    word_embedding and sentence_embedding (cosines; NaN where a vector is missing).
    Only pairs whose two words have a result in ``fold`` are returned; the rest
    are listed by ``core.text.benchmarks.coverage(pairs, set(index.concepts_of(fold)))``.
    Passing the index's own vectors (``index.vectors["word"]``) reuses cached cosines.
    """
    ok = covered_mask(pairs, index.concepts_of(fold))
    w1, w2 = pairs["word1"].to_numpy()[ok].tolist(), pairs["word2"].to_numpy()[ok].tolist()
    out = pd.DataFrame({"word1": w1, "word2": w2, "score": pairs["score"].to_numpy(np.float64)[ok]})
    out["experts"] = index.pair_jaccard(w1, w2, tau, fold)
    for column, kind, vectors in (
        ("word_embedding", "word", vectors_word),
        ("sentence_embedding", "sentence", vectors_sentence),
    ):
        if vectors is not None and vectors is index.vectors.get(kind):
            out[column] = index.pair_cosines(kind, w1, w2)
        else:
            out[column] = vector_cosines(vectors, w1, w2)
    return out
