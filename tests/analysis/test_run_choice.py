"""The run record and the one run-selection policy of the dashboard and the report."""

from __future__ import annotations

import pandas as pd

from core.analysis import run_choice as policy
from core.config import DatasetConfig, ModelSpec, RunConfig
from core.storage.records import Run, RunContents


def _config(concepts=("cat", "dog"), n_pos=400, n_neg=1000, folds=1) -> str:
    return RunConfig(ModelSpec("m"), DatasetConfig(tuple(concepts), n_pos=n_pos, n_neg=n_neg, folds=folds)).to_json()


def _runs() -> list[Run]:
    return [
        Run("r1", "m", "step1000", 1000, n_params=1_000_000, n_results=8),
        Run("r2", "m", None, None, n_params=1_000_000, n_results=8),
        Run("r3", "m", "step0", 0, n_params=1_000_000, n_results=8),
        Run("p1", "big", None, None, n_params=1_000_000_000, n_results=2),
    ]


def _same_revision_runs() -> list[Run]:
    return [
        Run("a", "m", n_results=40, n_concepts=40, config=_config()),
        Run("b", "m", n_results=30, n_concepts=10, config=_config()),
        Run("c", "m", n_results=600, n_concepts=600, config=_config()),
    ]


def test_run_from_a_database_row():
    row = {"run_id": "x", "model": "m", "revision": float("nan"), "step": pd.NA, "n_results": 3.0, "extra": 1}
    run = Run.from_row(row)
    assert run == Run("x", "m", n_results=3) and run.rev == "final" and run.title == "m @ final"
    assert Run("y", "m", config=_config(("cat", "red"), folds=3)).concepts == {"cat", "red"}
    assert Run("y", "m", config=_config(folds=3)).folds == 3 and Run("z", "m", config="{broken").settings is None


def test_several_runs_of_one_revision_are_told_apart_by_the_page_need():
    runs = _same_revision_runs()
    contents = {
        "a": RunContents(frozenset({"cat", "dog", "red", "blue"}), 1),
        "b": RunContents(frozenset({"cat", "red"}), 3),
        "c": RunContents(frozenset({"cat", "dog", "sun", "moon"}), 1),
    }
    assert policy.choose_run(runs, None, None)[0].run_id == "c"  # no need: most results
    assert policy.choose_run(runs, None, None, prefer=policy.fold_preference(contents))[0].run_id == "b"
    listed = policy.concept_coverage(contents, ["cat", "dog", "red", "blue"])
    assert listed == {"a": 4.0, "b": 2.0, "c": 2.0}
    assert policy.choose_run(runs, "m", "final", prefer=listed)[0].run_id == "a"
    pairs = pd.DataFrame({"word1": ["sun", "cat", "red"], "word2": ["moon", "dog", "cat"]})
    cover = policy.pair_coverage(contents, pairs)
    assert cover == {"a": 2.0, "b": 1.0, "c": 2.0}
    assert policy.choose_run(runs, None, None, prefer=cover)[0].run_id == "c"  # a tie goes to more results
    run, notes = policy.choose_run(runs, "m", "final", run="b", prefer=cover)
    assert run.run_id == "b" and not notes  # a run named in the link wins over the page's need
    run, notes = policy.choose_run(runs, "m", "final", run="zzz", prefer=listed)
    assert run.run_id == "a" and "'zzz'" in notes[0]
    assert policy.alignment_runs(runs, prefer=listed) == ["a"]  # one run per (model, revision)
    assert policy.alignment_runs(runs) == ["c"]
    assert policy.run_label(runs[1], contents) == "10 concepts · 400+1000 sentences · 3 folds · b"


def test_run_contents_from_a_store(tmp_path):
    from tests.synthetic import make_store

    store, _ = make_store(str(tmp_path / "s.duckdb"), folds=2)
    make_store(str(tmp_path / "s.duckdb"), domains={"d": ["cat", "dog"]}, folds=3, run_prefix="other", sentences=False)
    got = store.run_contents()
    assert got["synthetic00"].folds == 2 and len(got["synthetic00"].concepts) == 8
    assert got["other00"] == RunContents(frozenset({"cat", "dog"}), 3)


def test_run_choice_defaults_and_fallbacks():
    assert [r.rev for r in policy.picker_order(_runs())] == ["final", "step0", "step1000", "final"]
    run, notes = policy.choose_run(_runs(), None, None)
    assert run.run_id == "r2" and not notes  # model with most results, latest revision
    run, notes = policy.choose_run(_runs(), "big", "final")
    assert run.run_id == "p1" and not notes
    run, notes = policy.choose_run(_runs(), "m", "step0")
    assert run.run_id == "r3"
    run, notes = policy.choose_run(_runs(), "ghost", "step0")
    assert run.model == "m" and "ghost" in notes[0]
    run, notes = policy.choose_run(_runs(), "m", "step5")
    assert run.run_id == "r2" and "step5" in notes[0]
    assert policy.choose_run([], "m", None) == (None, [])
    assert policy.latest_per_model(_runs()) == ["p1", "r2"]


def test_default_run_counts_a_series_at_its_last_checkpoint():
    """A checkpoint series has many runs; the default is the model whose shown (latest) revision has most results."""
    series = [Run(f"s{k}", "series", f"step{k}", k, n_results=600) for k in (0, 1, 2, 4)]
    final = [Run("men", "final", n_results=613), Run("dom", "final", n_results=40)]
    assert policy.default_run(series + final).run_id == "men"  # 653 at its revision vs 600, not 2400
    assert policy.default_run(series + [Run("small", "final", n_results=10)]).run_id == "s4"


def test_report_and_dashboard_share_what_the_same_concepts_means():
    """Size variants: same model, revision and configured concepts, several folds; by (n_pos, n_neg)."""
    stab = ("cat", "red", "bus")
    runs = [
        Run("s100", "m", n_results=9, config=_config(stab, 100, 1000, 3)),
        Run("s50", "m", n_results=9, config=_config(stab, 50, 1000, 3)),
        Run("s100x250", "m", n_results=4, config=_config(stab, 100, 250, 3)),  # still running: same variant
        Run("other", "m", n_results=9, config=_config(("cat", "red"), 100, 1000, 3)),
        Run("empty", "m", n_results=0, config=_config(stab, 200, 1000, 3)),
        Run("dom", "m", n_results=4, config=_config(("cat", "dog", "car", "bus"))),
        Run("men", "m", n_results=5, config=_config(("cat", "dog", "sun"))),
    ]
    assert policy.size_variants(runs, runs[0]) == ["s50", "s100x250", "s100"]
    assert policy.size_variants(runs, runs[5]) == []  # one fold: nothing to compare
    domains = {"cat": "animal", "dog": "animal", "car": "vehicle", "bus": "vehicle"}
    pairs = pd.DataFrame({"word1": ["cat", "sun"], "word2": ["dog", "moon"]})
    assert policy.pick_runs(runs, domains, pairs) == {"domains": "dom", "stability": "s100", "benchmark": "men"}
    assert policy.pick_runs([], domains, None) == {"domains": None, "stability": None, "benchmark": None}
