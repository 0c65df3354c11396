"""The command line: commands end to end, options derived from the configuration, one-line errors."""

import os
import signal
import time

import pandas as pd

import core.commands
from core.cli import build_parser, main
from core.config import DatasetConfig, ExtractConfig, ModelSpec
from tests.tiny import save_tiny_model

LINES = [f"the {w} sat by the river at night number {i} ." for w in ("cat", "dog", "bus") for i in range(20)]


def test_mine_extract_runs_export(tmp_path, capsys):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(LINES + ["tiny ."]) + "\n")
    store = str(tmp_path / "s.duckdb")
    model = save_tiny_model(str(tmp_path / "m"), "gpt2")
    assert main(["--store", store, "mine", str(corpus), "--concepts", "cat,dog,bus,zebra", "--limit", "15"]) == 0
    out = capsys.readouterr().out
    assert "cat: 15 found, 15 new" in out and "zebra: 0 found" in out and "3/4 concepts have sentences" in out
    argv = [
        "--store",
        store,
        "extract",
        "--model",
        model,
        "--concepts",
        "cat,dog,bus",
        "--n-pos",
        "8",
        "--n-neg",
        "16",
        "--quiet",
    ]
    assert main(argv) == 0
    assert "3/3 (concept, fold) results stored (3 computed now" in capsys.readouterr().out
    assert main(argv) == 0
    assert "(0 computed now, 0 ingested from parts, 3 already stored)" in capsys.readouterr().out
    assert main(["--store", store, "runs"]) == 0
    run_id = capsys.readouterr().out.splitlines()[1].split()[0]
    out_csv = str(tmp_path / "experts.csv")
    assert main(["--store", store, "export", "--run", run_id, "--tau", "0.6", "--out", out_csv]) == 0
    df = pd.read_csv(out_csv)
    assert set(df.columns) >= {"concept", "unit", "ap", "layer", "kind", "module"}
    assert (df["ap"] > 0.6).all() and set(df["concept"]) <= {"cat", "dog", "bus"}


def test_ctrl_c_that_a_library_turns_into_its_own_error_still_exits_130(monkeypatch, capsys):
    def interrupted_inside_a_library(args):
        try:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(5)
        except KeyboardInterrupt:
            raise RuntimeError("INTERRUPT Error: Query interrupted") from None  # what DuckDB raises
        return 0

    monkeypatch.setattr(core.commands, "cmd_runs", interrupted_inside_a_library)
    assert main(["runs"]) == 130
    assert "run the same command to continue" in capsys.readouterr().err
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_an_error_without_ctrl_c_is_one_line_and_exit_2(monkeypatch, capsys):
    def fails(args):
        raise RuntimeError("something broke\nsecond line")

    monkeypatch.setattr(core.commands, "cmd_runs", fails)
    assert main(["runs"]) == 2
    assert capsys.readouterr().err == "error: something broke\n"


def test_extract_options_are_the_configuration_fields():
    """Defaults and choices come from the dataclasses; old option names still parse."""
    args = build_parser().parse_args(["extract", "--concepts", "cat"])
    for cls in (ModelSpec, DatasetConfig, ExtractConfig):
        for name, value in vars(cls()).items() if cls is not DatasetConfig else vars(cls(("cat",))).items():
            if name not in ("concepts", "module_patterns"):
                assert getattr(args, name) == value, name
    extract = next(
        a for a in build_parser()._subparsers._group_actions[0].choices["extract"]._actions if a.dest == "pooling"
    )
    assert tuple(extract.choices) == ("max", "mean")
    old = build_parser().parse_args(["extract", "--concepts-per-unit", "2", "--max-units", "3"])
    assert (old.concepts_per_task, old.max_tasks) == (2, 3)
