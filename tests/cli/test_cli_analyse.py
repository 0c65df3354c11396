import pandas as pd
import pytest

from core.cli.parser import main


@pytest.fixture
def files(synth):
    """(store path, run ids, benchmark path) of the shared synthetic store."""
    store, runs, bench = synth
    return store.path, runs, bench


def run(args, capsys):
    rc = main(args)
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_alignment(files, tmp_path, capsys):
    path, runs, bench = files
    out = tmp_path / "sub" / "align.csv"
    rc, stdout, _ = run(
        ["--store", path, "analyse", "alignment", "--benchmark", bench, "--runs", runs[-1], "--tau", "0.6",
         "--n-boot", "200", "--out", str(out)],
        capsys,
    )  # fmt: skip
    assert rc == 0
    t = pd.read_csv(out)
    assert len(t) == 3 and set(t["method"]) == {"experts", "word_embedding", "sentence_embedding"}
    assert (t["tau"] == 0.6).all() and (t["n_missing"] == 1).all()
    assert "experts" in stdout and "3 rows written" in stdout


def test_domains(files, tmp_path, capsys):
    path, runs, _ = files
    out = tmp_path / "domains.csv"
    domains = tmp_path / "domains.txt"
    domains.write_text("animal: cat, dog, horse, cheetah\nvehicle: car, bus, bike, truck, zeppelin\n")
    rc, stdout, _ = run(
        ["--store", path, "analyse", "domains", "--domains", str(domains), "--run", runs[-1], "--out", str(out)],
        capsys,
    )
    assert rc == 0
    t = pd.read_csv(out)
    assert len(t) == 8 and t.groupby("domain")["community"].nunique().tolist() == [1, 1]
    assert "ari=1" in stdout and "nmi=1" in stdout and "zeppelin" in stdout


def test_stability_and_layers(files, tmp_path, capsys):
    path, runs, bench = files
    rc, stdout, _ = run(
        ["--store", path, "analyse", "stability", "--run", runs[-1], "--taus", "0.5,0.9", "--out",
         str(tmp_path / "s.csv")],
        capsys,
    )  # fmt: skip
    assert rc == 0 and pd.read_csv(tmp_path / "s.csv")["tau"].tolist() == [0.5, 0.9]
    rc, stdout, _ = run(
        ["--store", path, "analyse", "layers", "--run", runs[-1], "--benchmark", bench, "--by", "kind", "--out",
         str(tmp_path / "l.csv")],
        capsys,
    )  # fmt: skip
    assert rc == 0 and len(pd.read_csv(tmp_path / "l.csv")) == 4


@pytest.mark.parametrize(
    "args, message",
    [
        (["analyse", "domains", "--run", "RUN", "--tau", "1.2"], "tau must be in [0.5, 1]"),
        (["analyse", "stability", "--run", "nope"], "no run 'nope'"),
        (["analyse", "alignment"], "no benchmark given"),
        (["analyse", "stability", "--run", "RUN", "--taus", "0.2"], "tau must be in [0.5, 1]"),
    ],
)
def test_errors_are_one_line(files, tmp_path, capsys, args, message):
    path, runs, _ = files
    args = [runs[-1] if a == "RUN" else a for a in args]
    rc, _, err = run(["--store", path, *args, "--out", str(tmp_path / "x.csv")], capsys)
    assert rc == 2
    assert err.count("\n") == 1 and message in err
    assert not (tmp_path / "x.csv").exists()


def test_existing_commands_still_work(files, capsys):
    path, runs, _ = files
    rc, stdout, _ = run(["--store", path, "runs"], capsys)
    assert rc == 0 and runs[-1] in stdout


def test_build_demo_prints_size_and_warns_over_a_host_limit(files, tmp_path, capsys, monkeypatch):
    from core.cli import analysis_commands

    path, _, _ = files
    out = tmp_path / "demo.duckdb"
    rc, stdout, stderr = run(["--store", path, "build-demo", "--n-boot", "50", "--out", str(out)], capsys)
    size_mb = round(out.stat().st_size / 2**20, 2)
    assert rc == 0 and f"{out}: {size_mb} MB" in stdout
    assert stderr == ""  # a small synthetic store is under every host's limit
    monkeypatch.setattr(analysis_commands, "HOST_LIMITS_MB", ((0.001, "over the tiny limit"), (1e6, "never")))
    rc, _, stderr = run(["--store", path, "build-demo", "--n-boot", "50", "--out", str(out), "--force"], capsys)
    assert rc == 0 and stderr == f"warning: {size_mb} MB: over the tiny limit\n"


def test_host_warnings_name_each_limit_passed():
    from core.cli.analysis_commands import host_warnings

    assert host_warnings(5) == []
    assert [w.split()[0] for w in host_warnings(35.4)] == ["Hugging"]
    assert len(host_warnings(120)) == 3
