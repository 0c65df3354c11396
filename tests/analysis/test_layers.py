import numpy as np
import pandas as pd
import pytest
from scipy import stats

from core.analysis.layers import alignment_by_layer, experts_by_layer, group_alignment_rows, groups_from_rows
from core.experts.index import ExpertIndex
from core.experts.overlap import jaccard
from core.text.benchmarks import coverage, read_pairs


@pytest.fixture(scope="module")
def layered(synth):
    """(store, run id, index, unit table, benchmark pairs) of the shared synthetic store's last run."""
    store, runs, bench = synth
    return store, runs[-1], ExpertIndex.from_store(store, runs[-1]), store.units(runs[-1]), read_pairs(bench)


def tiny():
    units = pd.DataFrame({"unit": [0, 1, 2, 3], "layer": [0, 0, 1, 1], "kind": ["attn", "mlp", "attn", "mlp"]})
    rows = [("a", 0, u, 0.9) for u in (0, 1, 3)] + [("b", 0, u, 0.9) for u in (1, 3, 5)]  # unit 5: not in the table
    return ExpertIndex.from_frame(pd.DataFrame(rows, columns=["concept", "fold", "unit", "ap"])), units


def test_experts_by_layer_hand_computed():
    idx, units = tiny()
    t = experts_by_layer(idx, units, 0.5)
    assert list(t.columns) == ["concept", "layer", "kind", "n_experts"]
    a = t[t.concept == "a"].set_index(["layer", "kind"])["n_experts"].to_dict()
    assert a == {(0, "attn"): 1, (0, "mlp"): 1, (1, "attn"): 0, (1, "mlp"): 1, (-1, "unknown"): 0}
    b = t[t.concept == "b"].set_index(["layer", "kind"])["n_experts"]
    assert b[(-1, "unknown")] == 1  # unit 5 is counted, not dropped
    assert t.groupby("concept")["n_experts"].sum().to_dict() == {"a": 3, "b": 3}


def test_layer_breakdown_sums_to_expert_count(layered):
    _, _, idx, units, _ = layered
    for tau in (0.5, 0.75):
        t = experts_by_layer(idx, units, tau)
        assert t.groupby("concept")["n_experts"].sum().to_dict() == idx.counts(tau).to_dict()
        assert len(t) == 8 * 16  # 8 concepts x 4 layers x 4 kinds, zeros included
    shared = experts_by_layer(idx, units, 0.85, concepts=["cat"])
    assert shared["n_experts"].sum() == 60 and shared.loc[shared.layer == 0, "n_experts"].sum() == 60


def test_alignment_by_layer_matches_restricted_jaccard(layered):
    _, _, idx, units, pairs = layered
    t = alignment_by_layer(idx, units, pairs, 0.5, by="layer")
    assert list(t.columns) == ["group", "rho", "p_value", "n_pairs", "n_units", "mean_experts"]
    assert t["group"].tolist() == [0, 1, 2, 3] and t["n_units"].sum() == len(units)
    covered, _ = coverage(pairs, set(idx.concepts))
    assert (t["n_pairs"] == len(covered)).all()
    sets = idx.sets(0.5)
    layer1 = set(units.loc[units.layer == 1, "unit"])
    jac = [
        jaccard([u for u in sets[a] if u in layer1], [u for u in sets[b] if u in layer1])
        for a, b in zip(covered.word1, covered.word2)
    ]
    want = stats.spearmanr(jac, covered.score)[0] if np.ptp(jac) else np.nan
    got = t.loc[t.group == 1, "rho"].item()
    assert (np.isnan(want) and np.isnan(got)) or got == pytest.approx(want)
    assert t.loc[t.group == 0, "rho"].item() > 0.8  # the planted shared blocks live in layer 0


def test_alignment_by_kind(layered):
    _, _, idx, units, pairs = layered
    t = alignment_by_layer(idx, units, pairs, 0.5, by="kind")
    assert sorted(t["group"]) == sorted(units["kind"].unique())
    with pytest.raises(ValueError):
        alignment_by_layer(idx, units, pairs, 0.5, by="colour")


@pytest.mark.parametrize("by", ["layer", "kind"])
def test_group_rows_for_snapshots_round_trip(layered, by):
    store, run_id, index, units, pairs = layered
    rows = group_alignment_rows(store, [run_id], pairs, (0.5, 0.8), by)
    assert set(rows["tau"]) == {0.5, 0.8} and rows["method"].str.startswith(f"{by}:").all()
    for tau in (0.5, 0.8):
        back = groups_from_rows(rows[rows["tau"] == tau], by)
        live = alignment_by_layer(index, units, pairs, tau, by=by).sort_values("group", ignore_index=True)
        assert back["group"].tolist() == live["group"].tolist()
        np.testing.assert_allclose(back["rho"], live["rho"], equal_nan=True)


def test_top_units_joins_the_unit_table():
    from core.analysis.layers import top_units

    units = pd.DataFrame({"unit": [1, 2, 3], "layer": [0, 1, 2], "kind": ["a", "b", "c"], "module": ["x"] * 3})
    top = top_units(pd.DataFrame({"unit": [1, 2, 3], "ap": [0.6, 0.9, 0.7]}), units, n=2)
    assert list(top["unit"]) == [2, 3] and list(top["layer"]) == [1, 2]
