"""Alignment summaries: the stored rows equal the live computation, go stale with the benchmark or the run, and
``summarise`` resumes where it stopped."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from core.analysis.alignment import alignment_table
from core.analysis.layers import group_alignment_rows
from core.analysis.measures import alignment_methods
from core.analysis.summaries import current_rows, keep, summarise, todo
from core.storage.store import Store
from core.text.benchmarks import pairs_hash, read_pairs
from tests.synthetic import make_store, write_benchmark

TAUS = (0.5, 0.62, 0.8)
NUMBERS = ["rho", "ci_low", "ci_high", "p_value", "p_vs_experts", "n_pairs", "n_missing"]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A three-checkpoint synthetic store and its benchmark, built once; tests copy it before writing."""
    d = tmp_path_factory.mktemp("summaries")
    store, run_ids = make_store(str(d / "s.duckdb"), revisions=("step1", "step2", "step3"), folds=2)
    store.checkpoint()
    return str(d / "s.duckdb"), run_ids, write_benchmark(str(d / "bench.txt"))


@pytest.fixture
def fresh(built, tmp_path):
    """A writable copy of the built store: (store, run ids, benchmark path)."""
    path, run_ids, bench = built
    shutil.copyfile(path, tmp_path / "s.duckdb")
    return Store(str(tmp_path / "s.duckdb")), run_ids, bench


def by_key(t: pd.DataFrame) -> pd.DataFrame:
    return t.set_index(["run_id", "method"]).sort_index()[NUMBERS].astype(float)


def test_summaries_equal_the_live_alignment_and_layer_numbers(fresh):
    store, run_ids, bench = fresh
    pairs = read_pairs(bench)
    assert summarise(store, pairs, "bench", taus=TAUS, n_boot=200) == 3 * 3 * (7 + 4 + 4)  # runs × τ × rows
    every = alignment_methods(every=True)
    for tau in TAUS:
        stored = store.alignment_snapshot(benchmark_hash=pairs_hash(pairs), tau=tau)
        measures = stored[~stored["method"].str.contains(":")]
        live = alignment_table(store, run_ids, pairs, tau, n_boot=200, methods=every)
        pd.testing.assert_frame_equal(by_key(measures), by_key(live))
        groups = stored[stored["method"].str.contains(":")]
        rows = pd.concat([group_alignment_rows(store, run_ids, pairs, [tau], by) for by in ("layer", "kind")])
        pd.testing.assert_frame_equal(by_key(groups), by_key(rows))
        assert set(stored["n_results"]) == {16} and set(stored["n_boot"]) == {200}  # 8 concepts × 2 folds


def test_summarise_skips_runs_already_done_and_resumes_after_an_interruption(fresh):
    store, run_ids, bench = fresh
    pairs = read_pairs(bench)
    seen: list[str] = []

    def stop_after_first(run_id: str, written: int) -> None:
        seen.append(run_id)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        summarise(store, pairs, "bench", taus=TAUS, n_boot=100, progress=stop_after_first)
    assert seen == run_ids[:1]  # the first run's rows were saved before the interruption
    done: list[str] = []
    written = summarise(store, pairs, "bench", taus=TAUS, n_boot=100, progress=lambda r, n: done.append(r))
    assert done == run_ids[1:] and written == 2 * 3 * 15
    assert summarise(store, pairs, "bench", taus=TAUS, n_boot=100) == 0  # all current
    assert summarise(store, pairs, "bench", taus=(*TAUS, 0.9), n_boot=100) == 3 * 4 * 15  # a τ they lack
    assert summarise(store, pairs, "bench", taus=TAUS, n_boot=300) == 3 * 3 * 15  # fewer resamples than asked
    assert summarise(store, pairs, "bench", taus=TAUS, n_boot=100) == 0  # more resamples than asked serve
    with pytest.raises(ValueError, match="no run with results named nope"):
        summarise(store, pairs, "bench", run_ids=["nope"])


def test_an_edited_rating_makes_the_summaries_stale_and_a_layout_change_does_not(fresh, tmp_path):
    store, run_ids, bench = fresh
    pairs = read_pairs(bench)
    summarise(store, pairs, "bench", taus=TAUS, n_boot=100)
    lines = open(bench).read().splitlines()
    relaid = tmp_path / "relaid.txt"  # tabs for spaces and a header: the same pairs
    relaid.write_text("word1\tword2\tscore\n" + "\n".join(line.replace(" ", "\t") for line in lines) + "\n")
    assert pairs_hash(read_pairs(str(relaid))) == pairs_hash(pairs)
    edited = tmp_path / "edited.txt"
    a, b, _ = lines[0].split()
    edited.write_text("\n".join([f"{a} {b} 1.0", *lines[1:]]) + "\n")  # one rating changed
    changed = read_pairs(str(edited))
    digest = pairs_hash(changed)
    assert digest != pairs_hash(pairs)
    assert store.alignment_snapshot(benchmark_hash=digest).empty  # the old rows are not found under the new pairs
    assert todo(store, digest, {r: 16 for r in run_ids}, list(TAUS), 100) == run_ids
    assert summarise(store, changed, "bench", taus=TAUS, n_boot=100) == 3 * 3 * 15
    stored = store.alignment_snapshot(benchmark_hash=digest, tau=0.62)
    live = alignment_table(store, run_ids, changed, 0.62, n_boot=100, methods=alignment_methods(every=True))
    pd.testing.assert_frame_equal(by_key(stored[~stored["method"].str.contains(":")]), by_key(live))
    old = alignment_table(store, run_ids, pairs, 0.62, n_boot=100)
    assert not by_key(old)["rho"].equals(by_key(live[live["method"].isin(old["method"])])["rho"])


def test_rows_serve_a_run_only_while_current_complete_and_resampled_enough():
    rows = pd.DataFrame(
        {
            "run_id": ["a", "a", "a", "b", "b", "c", "c", "e"],
            "method": ["experts", "word_embedding", "layer:0", "experts", "word_embedding", "experts", "word_embedding",
                       "experts"],
            "n_results": [10, 10, 10, 5, 5, 7, 7, 4],
            "n_boot": [500, 500, 0, 1000, 1000, 100, 100, 1000],
        }
    )  # fmt: skip
    needs = ["experts", "word_embedding"]
    usable, missing = current_rows(rows, {"a": 10, "b": 6, "c": 7, "d": 3, "e": 4}, needs, n_boot=200)
    assert sorted(usable["method"]) == needs and set(usable["run_id"]) == {"a"}
    assert missing == ["b", "c", "d", "e"]  # b gained results, c has too few resamples, d none, e one measure
    assert current_rows(rows, {"a": 10}, ["layer:"])[0]["method"].tolist() == ["layer:0"]


def test_keep_never_replaces_a_current_row_that_has_more_resamples(fresh):
    store, run_ids, bench = fresh
    pairs = read_pairs(bench)
    summarise(store, pairs, "bench", run_ids=run_ids[:1], taus=(0.7,), n_boot=400)
    digest, counts = pairs_hash(pairs), {r: 16 for r in run_ids}
    live = alignment_table(store, run_ids[:2], pairs, 0.7, n_boot=50)
    assert keep(store, "bench", live, 50, digest, counts) == 3  # only the second run's rows are new
    stored = store.alignment_snapshot(benchmark_hash=digest, tau=0.7)
    assert stored.groupby("run_id")["n_boot"].max().to_dict() == {run_ids[0]: 400, run_ids[1]: 50}
