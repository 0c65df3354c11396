import numpy as np
import pandas as pd
import pytest

from core.config import DatasetConfig
from core.text.sampling import NotEnoughSentencesError, make_plan
from core.text.sentences import sentence_id
from core.text.words import contains_word

WORDS = ["cat", "dog", "car", "bus"]


def frame(n=30):
    rows = []
    for w in WORDS:
        for i in range(n):
            other = WORDS[(WORDS.index(w) + 1) % 4] if i % 5 == 0 else "thing"
            text = f"Sentence {i} about a {w} and a {other} here."
            rows.append((w, sentence_id(text), text))
    return pd.DataFrame(rows, columns=["concept", "sid", "text"])


def test_plan_is_deterministic_and_order_independent():
    cfg = DatasetConfig(tuple(WORDS), n_pos=10, n_neg=40, folds=2, seed=3)
    a = make_plan(cfg, frame())
    b = make_plan(cfg, frame().sample(frac=1, random_state=1))
    assert a.fingerprint() == b.fingerprint()
    assert a.fingerprint() != make_plan(DatasetConfig(tuple(WORDS), 10, 40, 2, seed=4), frame()).fingerprint()


@pytest.mark.parametrize("mode", ["shared", "independent"])
def test_negatives_never_contain_the_concept(mode):
    cfg = DatasetConfig(tuple(WORDS), n_pos=10, n_neg=50, folds=2, negatives=mode)
    plan = make_plan(cfg, frame())
    for (c, fold), sids in plan.negatives.items():
        assert len(sids) == 50 and len(set(sids.tolist())) == 50
        assert not any(contains_word(plan.texts[s], c) for s in sids.tolist())
        assert all(contains_word(plan.texts[s], c) for s in plan.positives[(c, fold)].tolist())
    # folds draw different positive samples from the larger pool
    assert set(plan.positives[("cat", 0)].tolist()) != set(plan.positives[("cat", 1)].tolist())


def test_too_few_sentences_says_how_many():
    cfg = DatasetConfig(tuple(WORDS), n_pos=31, n_neg=10)
    with pytest.raises(NotEnoughSentencesError, match="'bus' has 30"):
        make_plan(cfg, frame())
    plan = make_plan(DatasetConfig(tuple(WORDS), n_pos=31, n_neg=10, min_pos=20), frame())
    assert len(plan.positives[("cat", 0)]) == 30


def test_too_few_negatives():
    with pytest.raises(NotEnoughSentencesError, match="negative"):
        make_plan(DatasetConfig(tuple(WORDS), n_pos=5, n_neg=500), frame())


def test_missing_concept():
    with pytest.raises(NotEnoughSentencesError, match="'zebra' has 0"):
        make_plan(DatasetConfig(("cat", "zebra"), n_pos=5, n_neg=5), frame())
    assert np.all(
        np.diff(make_plan(DatasetConfig(("cat", "dog"), 5, 5), frame()).positives[("cat", 0)].astype(float)) > 0
    )
