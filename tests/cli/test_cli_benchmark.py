"""Benchmark files as distributed on the command line: ``--benchmark`` with SimLex-999 / WordSim-353, and coverage."""

import pandas as pd

from core.cli.parser import main
from core.storage.store import Store

# Made for the tests, in the files' own layouts.
SIMLEX = (
    "word1\tword2\tPOS\tSimLex999\tconc(w1)\tconc(w2)\tconcQ\tAssoc(USF)\tSimAssoc333\tSD(SimLex)\n"
    "cat\tdog\tN\t3.5\t4.9\t4.8\t4\t2.0\t0\t1.2\n"
    "cat\tzebra\tN\t4.1\t4.9\t4.9\t4\t0.5\t0\t1.0\n"
    "bus\tcar\tN\t6.2\t4.9\t4.9\t4\t3.0\t1\t0.9\n"
)
WORDSIM = (
    "Word 1\tWord 2\tHuman (mean)\ncat\tdog\t7.5\ncat\thorse\t6.1\ncar\tbus\t7.9\nbike\ttruck\t5.0\n"
    "dog\ttruck\t1.2\ncheetah\tcat\t8.0\nhorse\tbike\t2.2\ncar\tcheetah\t0.9\n"
)


def test_a_wordsim_353_tab_is_read_by_benchmark_without_conversion(synth, tmp_path, capsys):
    store, runs, _ = synth
    bench = tmp_path / "combined.tab"
    bench.write_text(WORDSIM)
    out = tmp_path / "align.csv"
    args = ["--store", store.path, "analyse", "alignment", "--benchmark", str(bench), "--runs", runs[0]]
    assert main([*args, "--n-boot", "50", "--out", str(out)]) == 0
    t = pd.read_csv(out).set_index("method")
    assert (t["n_pairs"] == 8).all() and (t["n_missing"] == 0).all()
    assert t.loc["experts", "rho"] > 0.5  # same-domain pairs score high in both


def test_coverage_says_which_words_have_sentences_before_anything_runs(tmp_path, capsys):
    path = str(tmp_path / "s.duckdb")
    store = Store(path)
    store.add_sentences("cat", [f"the cat sat {i} ." for i in range(5)], source="test")
    store.add_sentences("dog", [f"a dog ran {i} ." for i in range(2)], source="test")
    bench = tmp_path / "SimLex-999.txt"
    bench.write_text(SIMLEX)
    out = tmp_path / "words.csv"
    rc = main(
        ["--store", path, "benchmark", "coverage", str(bench), "--n-pos", "4", "--min-pos", "2", "--out", str(out)]
    )
    text = capsys.readouterr().out
    assert rc == 0
    assert "3 pairs, 5 words" in text
    assert "1 words have ≥ 4, 1 fewer but ≥ 2 (--min-pos), 3 need mining" in text
    assert "pairs that could be extracted now: 1 of 3" in text  # cat–dog
    words = pd.read_csv(out).set_index("word")
    assert words.loc["cat", "status"] == "ready" and words.loc["dog", "status"] == "short"
    assert words.loc["zebra", "n_sentences"] == 0 and words.loc["zebra", "status"] == "needs mining"
    rc = main(["--store", path, "benchmark", "coverage", str(bench), "--score-column", "nope"])
    assert rc != 0 and "no column 'nope'" in capsys.readouterr().err
