import numpy as np
import pandas as pd
import pytest

from core.analysis.stability import fold_overlap, stability_by_size
from core.experts.index import ExpertIndex
from core.tau import STABILITY_TAUS


def two_fold_index() -> ExpertIndex:
    rows = [("a", 0, u, 0.9) for u in (1, 2, 3)] + [("a", 1, u, 0.9) for u in (2, 3, 4)]
    rows += [("b", 0, u, 0.9) for u in (10, 11)] + [("b", 1, u, 0.9) for u in (10, 11)]
    rows += [("c", 0, 1, 0.9)]  # c has no fold 1: left out of "within"
    return ExpertIndex.from_frame(pd.DataFrame(rows, columns=["concept", "fold", "unit", "ap"]))


def test_default_taus():
    assert STABILITY_TAUS == (0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95)


def test_fold_overlap_hand_computed():
    t = fold_overlap(two_fold_index(), taus=(0.5, 0.95)).set_index("tau")
    assert t.loc[0.5, "within_mean"] == pytest.approx(0.75)  # a: 2/4, b: 1
    assert t.loc[0.5, "within_std"] == pytest.approx(0.25)
    # fold-0 pairs: a-b 0, a-c 1/3, b-c 0
    assert t.loc[0.5, "between_mean"] == pytest.approx(1 / 9)
    assert t.loc[0.5, "n_concepts"] == 2 and t.loc[0.5, "n_folds"] == 2
    assert t.loc[0.95, "within_mean"] == 0.0 and t.loc[0.95, "between_mean"] == 0.0  # no experts left


def test_single_fold_has_no_within():
    rows = pd.DataFrame([("a", 0, 1, 0.9), ("b", 0, 1, 0.9)], columns=["concept", "fold", "unit", "ap"])
    t = fold_overlap(ExpertIndex.from_frame(rows), taus=(0.5,))
    assert np.isnan(t.loc[0, "within_mean"]) and t.loc[0, "between_mean"] == 1.0 and t.loc[0, "n_folds"] == 1


def test_within_beats_between_on_synthetic_store(synth):
    store, runs, _ = synth
    t = fold_overlap(ExpertIndex.from_store(store, runs[-1]))
    assert list(t.columns) == [
        "tau", "within_mean", "within_std", "between_mean", "between_std", "n_concepts", "n_folds"
    ]  # fmt: skip
    assert len(t) == 10 and (t["n_folds"] == 2).all() and (t["n_concepts"] == 8).all()
    assert (t["within_mean"] > t["between_mean"]).all()
    assert t.loc[t.tau == 0.5, "within_mean"].item() > 0.9


def test_stability_by_size_adds_set_sizes(synth):
    store, runs, _ = synth
    t = stability_by_size(store, runs, taus=(0.5, 0.8))
    assert len(t) == 4 and list(t["run_id"]) == [runs[0], runs[0], runs[1], runs[1]]
    assert (t["n_pos"] == 6).all() and (t["n_neg"] == 20).all()
    assert {"model", "revision", "within_mean", "between_mean"} <= set(t.columns)
    with pytest.raises(ValueError, match="no run"):
        stability_by_size(store, ["nope"])
