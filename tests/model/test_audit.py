"""Checkpoints audited from the Hub's metadata alone, on recorded responses with Pythia's three published defects."""

import inspect
import os

import pytest
from huggingface_hub import HfApi

import core.extraction.extract
from core.cli.checkpoint_commands import audited_revisions
from core.cli.parser import main
from core.extraction.extract import ExtractSummary
from core.model.audit import RecordedHub, audit, plan_revisions, record, revision_files
from tests.model.hub_recordings import path_of

HUB = os.path.join(os.path.dirname(__file__), "hub")
P28, P12, P70 = "EleutherAI/pythia-2.8b", "EleutherAI/pythia-12b", "EleutherAI/pythia-70m"


class CountingHub(RecordedHub):
    """The recorded Hub, counting tree listings (one per commit is all the audit should ask)."""

    def __init__(self, paths):
        super().__init__(paths)
        self.trees: list[str] = []

    def list_repo_tree(self, repo_id, path_in_repo=None, *, recursive=False, expand=False, revision=None, **kw):
        self.trees.append(revision)
        return super().list_repo_tree(repo_id, path_in_repo, recursive=recursive, revision=revision, **kw)


def rows_of(model):
    return {r.revision: r for r in audit(revision_files(model, api=RecordedHub(HUB)))}


@pytest.mark.parametrize("method", ["list_repo_refs", "list_repo_tree"])
def test_the_recorded_hub_has_hfapis_signatures(method):
    ours = inspect.signature(getattr(RecordedHub, method))
    theirs = inspect.signature(getattr(HfApi, method))
    assert list(ours.parameters) == list(theirs.parameters)
    assert [p.kind for p in ours.parameters.values()] == [p.kind for p in theirs.parameters.values()]


def test_identical_branches_pythia_28b_serves_final_weights_on_86_branches():
    rows = rows_of(P28)
    final = rows["step143000"]
    assert final.n_same == 87 and "main" in final.group and "step0" in final.group  # 86 steps + main
    assert final.same_as == "step0" and rows["main"].same_as == "step0"
    assert sum(1 for r in rows.values() if r.revision.startswith("step") and r.n_same == 87) == 86
    assert rows["step0"].same_as is None and rows["step0"].later_same == "step143000"
    assert rows["step1000"].n_same == 1 and rows["step1000"].same_as is None
    assert not any(r.mixed for r in rows.values())


def test_mixed_shards_pythia_12b_steps_50000_and_58000_hold_the_final_first_shard():
    rows = rows_of(P12)
    assert {r.revision for r in rows.values() if r.mixed} == {"step50000", "step58000"}
    assert rows["step50000"].mixed_with == {"step143000": 1} and rows["step50000"].n_files == 3
    assert rows["step50000"].same_as is None  # mixed, not identical: it is kept, and named
    assert not rows["step143000"].mixed and rows["main"].same_as == "step143000"


@pytest.mark.parametrize("model", [P70, P12])
def test_step0_equals_step1(model):
    rows = rows_of(model)
    assert rows["step1"].same_as == "step0" and rows["step0"].group == ["step0", "step1"]
    assert rows["step2"].same_as is None


def test_branches_on_one_commit_are_listed_once_and_only_weight_files_count():
    hub = CountingHub(HUB)
    files = revision_files(P28, api=hub)
    assert len(files) == 155 and len(hub.trees) == len({f.commit for f in files}) < 155
    assert all(list(f.files) == ["pytorch_model.bin"] for f in files)  # config.json, .gitattributes left out
    assert all(len(sha) == 64 for f in files for sha in f.files.values())


def test_plan_skips_revisions_identical_to_a_planned_one_or_keeps_and_marks_them():
    hub = RecordedHub(HUB)
    wanted = ["step0", "step1", "step58000", "step59000", "step143000"]
    files = revision_files(P28, wanted + ["main"], hub)
    plan = plan_revisions(files, wanted)
    assert plan.keep == ["step0", "step1", "step58000"]
    assert plan.skipped == {"step59000": "step0", "step143000": "step0"}
    assert plan.later == {"step0": "step143000"}
    kept = plan_revisions(files, wanted, keep_duplicates=True)
    assert kept.keep == wanted and kept.marked == plan.skipped and not kept.skipped
    later_first = plan_revisions(files, ["step143000", "step0"])  # the plan's order decides which is kept
    assert later_first.keep == ["step143000"] and later_first.skipped == {"step0": "step143000"}


def test_grid_dry_run_on_recorded_metadata_shows_the_skipped_revisions(tmp_path, capsys):
    store = tmp_path / "grid.duckdb"
    argv = ["--store", str(store), "grid", "--models", f"{P70},{P28},{P12}", "--revisions", "all"]
    assert main(argv + ["--hub-record", HUB, "--dry-run"]) == 0
    out, err = capsys.readouterr()
    assert "grid plan: 375 run(s) over 3 model(s)" in out  # 3 × 154, less 1 + 85 + 1 duplicates
    assert f"{P28}: skipping 85 revision(s)" in err and "step59000 (= step0)" in err
    assert f"{P70}: skipping 1 revision(s)" in err and "step1 (= step0)" in err
    assert f"{P12}: step50000 mixes weight files of other revisions (1 file(s) of step143000)" in err
    assert f"{P28}: step0 holds the same weight files on the Hub as the later step143000" in err
    assert not store.exists()
    assert main(argv + ["--hub-record", HUB, "--dry-run", "--keep-duplicates"]) == 0
    out, err = capsys.readouterr()
    assert "grid plan: 462 run(s)" in out and "keeping 85 duplicate revision(s)" in err


def test_extract_revisions_runs_the_audit_first(tmp_path, monkeypatch, capsys):
    ran = []

    def fake_extract(store, cfg, **kw):
        ran.append(cfg.model.revision)
        return ExtractSummary("r", 0, 0, 0, 0)

    monkeypatch.setattr(core.extraction.extract, "extract", fake_extract)
    argv = ["--store", str(tmp_path / "s.duckdb"), "extract", "--model", P70, "--concepts", "cat,dog"]
    assert main(argv + ["--revisions", "step0,step1,step2", "--hub-record", path_of("pythia-70m")]) == 0
    assert ran == ["step0", "step2"] and "step1 (= step0)" in capsys.readouterr().err


def test_audit_command_prints_a_table_and_csv(tmp_path, capsys):
    out_csv = tmp_path / "audit.csv"
    argv = ["checkpoints", "audit", "--model", P12, "--hub-record", HUB]
    assert main(argv + ["--out", str(out_csv)]) == 0
    out = capsys.readouterr().out
    assert "2 revision(s) mix weight files of other revisions: step50000, step58000" in out
    import pandas as pd

    table = pd.read_csv(out_csv).fillna("")
    assert len(table) == 155 and table.set_index("revision").loc["step50000", "mixes_files_of"] == "step143000(1/3)"
    assert main(argv + ["--format", "csv", "--revisions", "step0,step1"]) == 0
    assert capsys.readouterr().out.splitlines()[2].startswith("step1,") and "step0" in out


def test_record_then_replay_gives_the_same_audit(tmp_path):
    path = str(tmp_path / "rec.json")
    assert record(P12, path, api=RecordedHub(HUB)) == 155
    again = audit(revision_files(P12, api=RecordedHub(path)))
    assert again == audit(revision_files(P12, api=RecordedHub(HUB)))


def test_bad_input_is_one_line(tmp_path, capsys):
    with pytest.raises(ValueError, match="step7 are not branches of 'EleutherAI/pythia-70m'"):
        revision_files(P70, ["step0", "step7"], RecordedHub(HUB))
    with pytest.raises(ValueError, match="no recording of 'org/other'"):
        revision_files("org/other", api=RecordedHub(HUB))
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert main(["checkpoints", "audit", "--model", P70, "--hub-record", str(bad)]) == 2
    assert "unreadable Hub recording" in capsys.readouterr().err
    assert main(["checkpoints", "audit", "--model", "./local-folder"]) == 2


def test_an_unreachable_hub_skips_the_audit_with_one_line(monkeypatch, capsys):
    class Offline:
        def list_repo_refs(self, repo_id, **kw):
            raise ConnectionError("offline")

    monkeypatch.setattr("core.model.audit.hub_api", lambda record=None: Offline())
    args = type("Args", (), {"hub_record": None, "keep_duplicates": False})()
    assert audited_revisions(args, P70, "step0,step1") == ["step0", "step1"]
    assert "checkpoint audit of EleutherAI/pythia-70m skipped: offline" in capsys.readouterr().err
