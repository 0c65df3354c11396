"""``python -m core summarise``: rows written and seconds printed, runs already current skipped, a changed file
recomputed."""

from __future__ import annotations

import shutil

from core.cli.parser import main
from core.storage.store import Store
from core.text.benchmarks import pairs_hash, read_pairs


def run(args, capsys):
    rc = main(args)
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_summarise_prints_rows_and_seconds_and_skips_what_is_current(synth, tmp_path, capsys):
    store, run_ids, bench = synth
    path = str(tmp_path / "s.duckdb")
    shutil.copyfile(store.path, path)  # the shared store is read only
    args = ["--store", path, "summarise", "--benchmark", bench, "--taus", "0.5,0.7", "--n-boot", "50"]
    rc, out, _ = run(args, capsys)
    assert rc == 0
    assert out.splitlines()[-1].startswith("bench: 60 summary rows written for 2 runs (0 already current), 2 τ")
    assert out.splitlines()[-1].endswith(" s") and f"{run_ids[0]}: summarised in" in out
    assert run(args, capsys)[1].splitlines()[-1].startswith("bench: 0 summary rows written for 0 runs (2 already")
    edited = tmp_path / "bench.txt"
    lines = open(bench).read().splitlines()
    edited.write_text("\n".join([lines[0].rsplit(" ", 1)[0] + " 2.5", *lines[1:]]) + "\n")
    rc, out, _ = run([*args[:4], str(edited), *args[5:], "--runs", run_ids[1]], capsys)
    assert rc == 0 and "30 summary rows written for 1 run (0 already current)" in out
    assert len(Store(path, read_only=True).alignment_snapshot(benchmark_hash=pairs_hash(read_pairs(str(edited))))) == 30


def test_summarise_refuses_a_missing_store_in_one_line(tmp_path, capsys, synth):
    _, _, bench = synth
    rc, _, err = run(["--store", str(tmp_path / "none.duckdb"), "summarise", "--benchmark", bench], capsys)
    assert rc == 2 and err.startswith("error: no store at") and len(err.splitlines()) == 1
    assert not (tmp_path / "none.duckdb").exists()
