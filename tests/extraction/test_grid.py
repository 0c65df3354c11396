"""Grid planning (no Ray): same sets for every run, stored runs skipped, longest first; refused options."""

import os
import subprocess
import sys

import pytest

from core.cli.parser import main
from core.config import DatasetConfig, ExtractConfig, ModelSpec, RunConfig
from core.extraction.grid import grid_configs, plan_grid, run_grid, size_hint
from core.storage.store import Store
from tests.extraction.test_extract import CONCEPTS, fill_store
from tests.test_bad_input import check_refused
from tests.tiny import save_checkpoints, save_tokenizer, tiny_config

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """A small and a bigger GPT-NeoX, each with one step1 revision folder."""
    from transformers import AutoModelForCausalLM

    small = save_checkpoints(str(tmp_path_factory.mktemp("small")), "gpt_neox", steps=(1,))
    big = str(tmp_path_factory.mktemp("big") / "step1")
    save_tokenizer(big)
    AutoModelForCausalLM.from_config(tiny_config("gpt_neox", hidden_size=64, intermediate_size=256)).save_pretrained(
        big
    )
    return small, os.path.dirname(big)


def base(model):
    return RunConfig(ModelSpec(model), DatasetConfig(CONCEPTS, n_pos=6, n_neg=12), ExtractConfig(batch_tokens=64))


def test_size_hint_reads_weight_files_or_the_name(models):
    small, big = models
    assert size_hint(big, "step1") > 2 * size_hint(small, "step1") > 0
    assert size_hint("EleutherAI/pythia-12b") == 12e9 and size_hint("EleutherAI/pythia-70m-deduped") == 70e6
    assert size_hint("org/unknown") == 1.0


def test_grid_plans_longest_first_with_same_sets_and_skips_stored_runs(tmp_path, models):
    small, big = models
    store = fill_store(str(tmp_path / "s.duckdb"))
    cfgs = grid_configs(base(small), [(small, "step1"), (big, "step1")])
    jobs = plan_grid(store, cfgs, concepts_per_task=2)
    assert [j.cfg.model.model for j in jobs] == [big, small]  # longest first
    assert [t.positives for t in jobs[0].tasks] == [t.positives for t in jobs[1].tasks]  # same seeded sets
    assert {j.cfg.dataset_hash for j in jobs} == {cfgs[0].dataset_hash}

    summaries = run_grid(store, cfgs[:1], "local", concepts_per_task=2, show_progress=False)
    assert [s.computed for s in summaries] == [len(CONCEPTS)]
    jobs = plan_grid(store, cfgs, concepts_per_task=2)
    assert [(j.cfg.model.model, len(j.tasks), j.registered) for j in jobs] == [(big, 2, False), (small, 0, True)]
    summaries = run_grid(store, cfgs, "local", concepts_per_task=2, show_progress=False)  # in the order given
    assert [(s.computed, s.done_before) for s in summaries] == [(0, len(CONCEPTS)), (len(CONCEPTS), 0)]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--models", " , "], "--models is empty"),
        (["--models", "{small}", "--workers", "2"], "need --engine ray"),
        (["--models", "{small}", "--revisions", "step1,step9"], "step9 not found"),
        (["--models", "{small}", "--revision", "step1", "--revisions", "step1"], "not both"),
    ],
)
def test_bad_grid_options_refused_store_unchanged(capsys, tmp_path, models, argv, message):
    path = str(tmp_path / "s.duckdb")
    fill_store(path)
    argv = [a.format(small=models[0]) for a in argv]
    check_refused(capsys, path, ["grid", *argv, "--concepts", ",".join(CONCEPTS)], message)


def test_grid_cli_local_engine_and_no_ray_import(tmp_path, models, capsys):
    path = str(tmp_path / "s.duckdb")
    fill_store(path)
    argv = ["--store", path, "grid", "--models", ",".join(models), "--revisions", "step1"]
    assert main([*argv, "--concepts", ",".join(CONCEPTS), "--n-pos", "6", "--n-neg", "12", "--quiet"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2 and all("4/4 (concept, fold) results stored (4 computed now" in line for line in out)
    assert len(Store(path, read_only=True).runs()) == 2
    code = "import sys, core.cli.parser, core.extraction.grid; core.cli.parser.build_parser(); assert 'ray' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)  # the local engine never imports Ray
