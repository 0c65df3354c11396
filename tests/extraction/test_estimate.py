import hashlib
import os

from core.cli.parser import main
from core.extraction.estimate import dry_run
from core.extraction.extract import extract
from core.model.loading import load_model
from core.storage.store import Store
from tests.extraction.test_extract import CONCEPTS, config, fill_store, model_dir  # noqa: F401 (fixture)


def snapshot(folder):
    """Every file under ``folder`` with its content hash."""
    out = {}
    for root, _, files in os.walk(folder):
        for f in files:
            path = os.path.join(root, f)
            with open(path, "rb") as fh:
                out[os.path.relpath(path, folder)] = hashlib.sha256(fh.read()).hexdigest()
    return out


def test_dry_run_prints_the_plan_and_writes_nothing(tmp_path, model_dir, capsys):  # noqa: F811
    path = str(tmp_path / "s.duckdb")
    fill_store(path)
    before = snapshot(tmp_path)
    argv = ["--store", path, "extract", "--model", model_dir, "--concepts", ",".join(CONCEPTS)]
    argv += ["--n-pos", "6", "--n-neg", "12", "--folds", "2", "--batch-tokens", "64", "--dry-run"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert snapshot(tmp_path) == before  # no store change, no parts, no scratch
    assert "nothing is written" in out
    assert "8 of 8 (concept, fold) to compute" in out
    assert "48 positive" in out  # 4 concepts x 2 folds x 6
    assert "tokens/s" in out and "estimated time" in out and "MB each" in out
    assert Store(path, read_only=True).runs() == []


def test_dry_run_counts_match_the_extraction(tmp_path, model_dir):  # noqa: F811
    store = fill_store(str(tmp_path / "s.duckdb"))
    cfg = config(model_dir)
    model = load_model(cfg.model)
    plan = dry_run(store, cfg, concepts_per_task=1, model=model)
    assert plan.todo == plan.total == 8 and plan.n_tasks == 8 and plan.on_disk == 0
    assert plan.positives == 8 * 6
    assert 2 * 12 <= plan.negatives <= 2 * 14 * 3  # one shared pool per fold, at least n_neg each
    assert plan.tokens > plan.positives + plan.negatives  # every sentence has several tokens
    assert plan.probe.tokens_per_s > 0 and plan.probe.ap_s > 0 and plan.probe.ap_backend == "numba"
    assert plan.stored_fraction is None  # no earlier results with as many units
    s = extract(store, cfg, concepts_per_task=1, show_progress=False, model=model, max_tasks=3)
    again = dry_run(store, cfg, concepts_per_task=1, model=model, measured=plan.probe)
    assert again.run_id == plan.run_id == s.run_id
    assert again.todo == 5 and again.probe is plan.probe
    assert again.stored_fraction is not None and 0 <= again.stored_fraction <= 1
