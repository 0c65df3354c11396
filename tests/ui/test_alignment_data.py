"""The Alignment page with a benchmark file reads stored summaries: the same numbers as live, a changed file
recomputed, and what a local page computes kept for the next view (never on a hosted store)."""

from __future__ import annotations

import os
import shutil

import pandas as pd
import pytest

from core.analysis.summaries import summarise
from core.storage.store import Store
from core.text.benchmarks import pairs_hash, read_pairs
from tests.synthetic import make_store, write_benchmark
from tests.ui.test_app_pages import open_page, slider

pytest.importorskip("streamlit.testing.v1")


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """A three-checkpoint synthetic store (a series) and its benchmark, built once; each test copies the store."""
    d = tmp_path_factory.mktemp("summaries_page")
    store, _ = make_store(str(d / "base.duckdb"), revisions=("step0", "step1000", "step143000"), folds=2)
    store.checkpoint()
    return str(d / "base.duckdb"), write_benchmark(str(d / "men_synthetic.txt"))


def browse(base, tmp_path, monkeypatch, name: str, hosted: bool = False) -> tuple[str, str]:
    """Point the app at a fresh copy ``name`` of the base store and at a copy of the benchmark (not MEN)."""
    store, bench = str(tmp_path / f"{name}.duckdb"), str(tmp_path / "men_synthetic.txt")
    shutil.copyfile(base[0], store)
    if not os.path.exists(bench):
        shutil.copyfile(base[1], bench)
    monkeypatch.setenv("EXPERTS_STORE", store)
    monkeypatch.setenv("EXPERTS_BENCHMARK", bench)
    monkeypatch.setenv("EXPERTS_MEN_DIR", str(tmp_path / "no_men_here"))
    monkeypatch.delenv("EXPERTS_DOMAINS", raising=False)
    if hosted:
        monkeypatch.setenv("EXPERTS_HOSTED", "1")
    else:
        monkeypatch.delenv("EXPERTS_HOSTED", raising=False)
    return store, bench


def shown(at) -> tuple[pd.DataFrame, list[str], str]:
    """(the alignment table as shown, the layer caption, the caption that says where numbers come from)."""
    layers = [c.value for c in at.caption if c.value.startswith("Best single layers")]
    source = next(c.value for c in at.caption if "bootstrap resamples" in c.value and "runs" in c.value)
    return at.dataframe[0].value.astype(str).reset_index(drop=True), layers, source


def test_the_alignment_page_shows_summaries_with_the_live_numbers(base, tmp_path, monkeypatch):
    browse(base, tmp_path, monkeypatch, "live")
    live = {tau: shown(open_page("alignment", tau=tau)) for tau in ("0.5", "0.7")}
    assert all("3 computed now (1000 bootstrap resamples)" in s for _, _, s in live.values())
    store, bench = browse(base, tmp_path, monkeypatch, "summarised")
    summarise(Store(store), read_pairs(bench), "men_synthetic", taus=(0.5, 0.7), n_boot=1000)
    at = open_page("alignment", tau="0.5")
    table, layers, source = shown(at)
    assert "3 runs from the store's summaries (1000 bootstrap resamples)" in source and "computed now" not in source
    pd.testing.assert_frame_equal(table, live["0.5"][0])
    assert layers == live["0.5"][1] and layers
    slider(at, "Expert threshold").set_value(0.7).run()
    table, layers, source = shown(at)
    assert "from the store's summaries" in source
    pd.testing.assert_frame_equal(table, live["0.7"][0])
    assert layers == live["0.7"][1]


def test_a_changed_benchmark_file_is_scored_again_not_read_from_old_summaries(base, tmp_path, monkeypatch):
    store, bench = browse(base, tmp_path, monkeypatch, "edited")
    summarise(Store(store), read_pairs(bench), "men_synthetic", taus=(0.5,), n_boot=1000)
    before, _, source = shown(open_page("alignment", tau="0.5"))
    assert "from the store's summaries" in source
    lines = open(bench).read().splitlines()
    a, b, _ = lines[0].split()
    with open(bench, "w") as f:
        f.write("\n".join([f"{a} {b} 1.0", *lines[1:]]) + "\n")  # one rating edited
    os.utime(bench, (os.path.getatime(bench), os.path.getmtime(bench) + 5))
    after, _, source = shown(open_page("alignment", tau="0.5"))
    assert "3 computed now" in source and "summaries" not in source
    experts = before["method"] == "Expert neurons (Jaccard)"
    assert not after.loc[experts, "rho"].equals(before.loc[experts, "rho"])
    kept = Store(store, read_only=True).alignment_snapshot(benchmark_hash=pairs_hash(read_pairs(bench)), tau=0.5)
    assert set(kept["run_id"]) == {"synthetic00", "synthetic01", "synthetic02"}  # what the page scored, kept
    assert "3 runs from the store's summaries" in shown(open_page("alignment", tau="0.5"))[2]


def test_a_hosted_page_computes_live_and_writes_nothing(base, tmp_path, monkeypatch):
    store, bench = browse(base, tmp_path, monkeypatch, "hosted", hosted=True)
    before = os.path.getmtime(store)
    assert "3 computed now" in shown(open_page("alignment", tau="0.5"))[2]
    assert Store(store, read_only=True).alignment_snapshot(benchmark_hash=pairs_hash(read_pairs(bench))).empty
    assert os.path.getmtime(store) == before


MEN_TEST = os.path.join(
    os.path.dirname(__file__), "..", "..", "..", "shared", "data", "men", "MEN_dataset_lemma_form.test"
)


@pytest.mark.skipif(not os.path.isfile(MEN_TEST), reason="the MEN files are not redistributed")
def test_a_generated_grid_store_shows_summaries_with_the_live_numbers_until_the_file_changes(
    grid_store, tmp_path, monkeypatch, capsys
):
    """Three Pythia-70m-shaped checkpoints (``bench/grid_store.py``) on MEN test, summarised by the CLI the
    generator's benchmark calls."""
    from core.cli.parser import main

    men = tmp_path / "men"
    men.mkdir()
    shutil.copyfile(MEN_TEST, men / "MEN_dataset_lemma_form.test")
    views = {}
    for name in ("live", "summarised"):
        store = str(tmp_path / f"{name}.duckdb")
        shutil.copyfile(grid_store[0], store)  # the shared grid store is read only
        monkeypatch.setenv("EXPERTS_STORE", store)
        monkeypatch.setenv("EXPERTS_MEN_DIR", str(men))
        for key in ("EXPERTS_BENCHMARK", "EXPERTS_DOMAINS", "EXPERTS_HOSTED"):
            monkeypatch.delenv(key, raising=False)
        if name == "summarised":
            bench = str(men / "MEN_dataset_lemma_form.test")
            assert main(["--store", store, "summarise", "--benchmark", bench, "--taus", "0.5,0.6"]) == 0
            assert "MEN test: " in capsys.readouterr().out
        views[name] = shown(open_page("alignment", tau="0.5"))
    (live, live_layers, live_source), (table, layers, source) = views["live"], views["summarised"]
    assert "3 computed now" in live_source and "3 runs from the store's summaries (1000" in source
    pd.testing.assert_frame_equal(table, live)
    assert layers == live_layers and layers
    lines = (men / "MEN_dataset_lemma_form.test").read_text().splitlines()
    a, b, score = lines[0].split()
    lines[0] = f"{a} {b} {50 - float(score):g}"  # one rating edited
    (men / "MEN_dataset_lemma_form.test").write_text("\n".join(lines) + "\n")
    edited, _, source = shown(open_page("alignment", tau="0.5"))
    assert "3 computed now" in source and "summaries" not in source
    experts = edited["method"] == "Expert neurons (Jaccard)"
    assert not edited.loc[experts, "rho"].equals(live.loc[experts, "rho"])
