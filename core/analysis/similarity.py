"""The per-pair similarities of a benchmark, by every registered measure.

Expert sets come from ``core.experts.index.ExpertIndex`` (one run's APs in memory), the set and vector arithmetic
from ``core.experts.overlap``, the measures from ``core.analysis.measures``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .measures import MEASURES, Pairs, alignment_methods

if TYPE_CHECKING:
    from core.experts.index import ExpertIndex


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
    methods: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Similarity of every covered benchmark pair by each measure (``methods``; default: the alignment measures).

    Returns columns word1, word2, score (human) and one column per measure (``core.analysis.measures``), e.g.
    experts (Jaccard at τ), word_embedding and sentence_embedding (cosines; NaN where a vector is missing).
    Only pairs whose two words have a result in ``fold`` are returned; the rest
    are listed by ``core.text.benchmarks.coverage(pairs, set(index.concepts_of(fold)))``.
    Passing the index's own vectors (``index.vectors["word"]``) reuses cached cosines.
    """
    ok = covered_mask(pairs, index.concepts_of(fold))
    w1, w2 = pairs["word1"].to_numpy()[ok].tolist(), pairs["word2"].to_numpy()[ok].tolist()
    out = pd.DataFrame({"word1": w1, "word2": w2, "score": pairs["score"].to_numpy(np.float64)[ok]})
    given = Pairs(index, w1, w2, tau, fold, {"word": vectors_word, "sentence": vectors_sentence})
    for name in alignment_methods() if methods is None else methods:
        out[name] = MEASURES[name].pairs(given)
    return out
