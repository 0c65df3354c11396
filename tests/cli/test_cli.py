"""The command line: commands end to end, options derived from the configuration, one-line errors."""

import os
import re
import shutil
import signal
import time

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import core.cli.commands
from core.cli.parser import build_parser, main
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

    monkeypatch.setattr(core.cli.commands, "cmd_runs", interrupted_inside_a_library)
    assert main(["runs"]) == 130
    assert "run the same command to continue" in capsys.readouterr().err
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_an_error_without_ctrl_c_is_one_line_and_exit_2(monkeypatch, capsys):
    def fails(args):
        raise RuntimeError("something broke\nsecond line")

    monkeypatch.setattr(core.cli.commands, "cmd_runs", fails)
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
    assert build_parser().parse_args(["extract"]).concepts_per_task == 8
    extract_help = build_parser()._subparsers._group_actions[0].choices["extract"].format_help()
    assert "--concepts-per-task" in extract_help and "--concepts-per-unit" not in extract_help


# -- every numeric option, fed random numbers (issue 14) -------------------------------------------------------


def numeric_options() -> list[tuple[tuple[str, ...], str]]:
    """(command path, option) of every option of the CLI that takes a number."""
    import argparse

    out = []

    def walk(parser, path):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, path + (name,))
            elif action.option_strings and (action.type in (int, float) or hasattr(action.type, "range")):
                out.append((path, action.option_strings[-1]))

    walk(build_parser(), ())
    return out


@pytest.fixture(scope="module")
def fuzz_env(tmp_path_factory, synth):
    """A tiny model, a store with sentences, the synthetic analysis store and the files each command needs."""
    from tests.extraction.test_extract import fill_store

    root = tmp_path_factory.mktemp("optfuzz")
    model = save_tiny_model(str(root / "m"))
    fill_store(str(root / "s.duckdb"))
    synth, runs, bench = synth
    (root / "corpus.txt").write_text("The cat sat on the warm mat today.\nA dog and a cat ran far away.\n")
    (root / "domains.txt").write_text("animal: cat, dog, horse, cheetah\nvehicle: car, bus, bike, truck, zeppelin\n")
    return {"root": root, "model": model, "synth": synth.path, "run": runs[-1], "bench": bench}


def base_command(path: tuple[str, ...], env: dict, out: str) -> tuple[list[str], object]:
    """A command that succeeds with default values, and a check that it did something."""
    root, synth = env["root"], env["synth"]
    store = str(root / "s.duckdb")

    def wrote(stdout):
        return os.path.exists(out) and os.path.getsize(out) > 0

    if path == ("mine",):
        return ["--store", str(root / f"{os.path.basename(out)}.duckdb"), "mine", str(root / "corpus.txt"),
                "--concepts", "cat"], lambda stdout: "1/1 concepts have sentences" in stdout  # fmt: skip
    if path == ("generate",):
        return ["--store", store, "generate", "--concepts", "cat"], lambda stdout: "generated" in stdout
    if path in (("extract",), ("grid",)):
        model = ["--model", env["model"]] if path == ("extract",) else ["--models", env["model"]]
        argv = ["--store", store, *path, *model, "--concepts", "cat,dog", "--n-pos", "6", "--n-neg", "12", "--quiet",
                "--max-tasks", "1"]  # fmt: skip

        def stored(stdout):
            m = re.search(r": (\d+)/(\d+) \(concept, fold\) results stored", stdout)
            return m is not None and int(m.group(1)) >= 1

        return argv, stored
    if path == ("export",):
        return ["--store", synth, "export", "--run", env["run"], "--out", out], wrote
    if path[0] == "analyse":
        extra = {
            "alignment": ["--benchmark", env["bench"], "--n-boot", "50"],
            "domains": ["--run", env["run"], "--domains", str(root / "domains.txt")],
            "layers": ["--run", env["run"], "--benchmark", env["bench"]],
            "stability": ["--run", env["run"]],
        }[path[1]]
        return ["--store", synth, *path, *extra, "--out", out], wrote
    if path == ("report",):
        folder = out + ".d"
        argv = ["--store", synth, "report", "--benchmark", env["bench"], "--domains", str(root / "domains.txt"),
                "--n-boot", "50", "--out", folder]  # fmt: skip
        return argv, lambda stdout: os.path.exists(os.path.join(folder, "README.md"))
    if path == ("build-demo",):
        return ["--store", synth, "build-demo", "--n-boot", "50", "--out", out], wrote
    if path == ("benchmark", "coverage"):
        return ["--store", synth, *path, env["bench"], "--out", out], wrote
    if path == ("summarise",):  # it writes to the store: a copy of the shared one
        copy = str(root / f"{os.path.basename(out)}.duckdb")
        shutil.copyfile(synth, copy)
        argv = ["--store", copy, "summarise", "--benchmark", env["bench"], "--taus", "0.5"]
        return argv, lambda stdout: "summary rows written for 2 runs" in stdout
    raise AssertionError(f"no base command for {path}: add one")


NUMBERS = st.one_of(
    st.integers(min_value=-(2**40), max_value=2**40),
    st.integers(min_value=-3, max_value=20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["nan", "inf", "-inf", "0", "-1", "1", "0.5", "1e3"]),
).map(str)


@pytest.mark.parametrize("path, option", numeric_options(), ids=lambda x: "-".join(x) if isinstance(x, tuple) else x)
def test_every_numeric_option_is_refused_in_one_line_or_does_its_work(path, option, fuzz_env, capsys, monkeypatch):
    """Random integers, floats, NaN and inf: exit 0 having done the work, or exit 2 with one line; no traceback."""
    import core.text.generate

    monkeypatch.setattr(  # generating needs an instruct model: stand in for it, the options are what is tested
        core.text.generate,
        "generate_sentences",
        lambda c, n, **kw: [f"The {c} number {i} sat on the mat." for i in range(min(n, 3))],
    )
    counter = iter(range(10**6))

    @settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(value=NUMBERS)
    def check(value):
        out = str(fuzz_env["root"] / f"out{next(counter)}_{'_'.join(path)}{option}.csv")
        argv, did_work = base_command(path, fuzz_env, out)
        capsys.readouterr()
        code = main(argv + [f"{option}={value}"])
        result = capsys.readouterr()
        assert "Traceback" not in result.err
        if code == 0:
            assert did_work(result.out), (option, value, result.out)
        else:
            lines = result.err.strip().splitlines()
            assert code == 2 and len(lines) == 1 and lines[0].startswith("error: "), (option, value, result.err)

    check()


def test_a_run_is_named_by_the_short_id_its_progress_bar_prints(tmp_path, capsys):
    """``run 1a2b3c4d`` in the progress bar: a unique start of the id names the run in --run and --runs."""
    from core.analysis.run_choice import resolve_run_id
    from tests.synthetic import make_store

    store = str(tmp_path / "s.duckdb")
    _, (one,) = make_store(store, revisions=("step1",), run_prefix="1a2b3c4d")
    _, (two,) = make_store(store, revisions=("step2",), run_prefix="1a2b9e8f")
    out = str(tmp_path / "sets.csv")
    assert main(["--store", store, "export", "--run", "1a2b", "--out", out]) == 2  # the start of both
    assert "is the start of 2 runs" in capsys.readouterr().err and not os.path.exists(out)
    assert main(["--store", store, "export", "--run", one[:8], "--out", out]) == 0
    full = str(tmp_path / "full.csv")
    assert main(["--store", store, "export", "--run", one, "--out", full]) == 0
    assert open(out).read() == open(full).read() and len(pd.read_csv(out)) > 0
    assert resolve_run_id("1a2b9", [one, two]) == two
    assert resolve_run_id("nope", [one]) == "nope"  # the command itself then says there is no such run


@pytest.mark.parametrize("command", ["extract", "grid"])
def test_help_shows_no_docstring_markup(command, capsys):
    """``--help`` is built from the config docstrings: no ``code`` marks, option names as options."""
    with pytest.raises(SystemExit):
        build_parser().parse_args([command, "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "``" not in text and "None requires" not in text and "None (default)" not in text
    assert "fewer than --n-pos sentences (down to --min-pos)" in text
