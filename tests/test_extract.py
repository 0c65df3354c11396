import random

import pandas as pd
import pytest

from core.config import DatasetConfig, ExtractConfig, ModelSpec, RunConfig
from core.extract import extract, model_family, parse_step
from core.models import load_model
from core.store import Store
from tests.tiny import save_checkpoints, save_tiny_model

CONCEPTS = ("cat", "dog", "bus", "piano")
FILLER = "the a man woman child river road city house tree sky water sun moon night day big red green blue".split()


def fill_store(path, n=14, seed=0):
    rng = random.Random(seed)
    store = Store(path)
    for c in CONCEPTS:
        texts = set()
        while len(texts) < n:
            words = rng.sample(FILLER, 6)
            words.insert(rng.randrange(7), c)
            texts.add(" ".join(words) + " .")
        store.add_sentences(c, sorted(texts), source="test")
    return store


def config(model_dir, revision=None, **data):
    ds = dict(n_pos=6, n_neg=12, folds=2)
    ds.update(data)
    return RunConfig(
        ModelSpec(model_dir, revision=revision), DatasetConfig(CONCEPTS, **ds), ExtractConfig(batch_tokens=64)
    )


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return save_tiny_model(str(tmp_path_factory.mktemp("m")), "llama")


def ap_table(store, run_id):
    return store.ap(run_id, fold=None, min_ap=0.5).sort_values(["concept", "fold", "unit"]).reset_index(drop=True)


def test_resume_after_interruption_loses_nothing_and_recomputes_nothing(tmp_path, model_dir):
    cfg = config(model_dir)
    model = load_model(cfg.model)
    full = fill_store(str(tmp_path / "full.duckdb"))
    s_full = extract(full, cfg, concepts_per_unit=1, progress=False, model=model)
    assert s_full.computed == 8

    part = fill_store(str(tmp_path / "part.duckdb"))
    s1 = extract(part, cfg, concepts_per_unit=1, progress=False, max_units=3, model=model)  # "killed" after 3
    assert s1.computed == 3 and len(part.done(s1.run_id)) == 3
    s2 = extract(part, cfg, concepts_per_unit=1, progress=False, model=model)
    assert (s2.done_before, s2.computed) == (3, 5)
    s3 = extract(part, cfg, concepts_per_unit=1, progress=False, model=model)
    assert s3.computed == 0 and s3.done_before == 8
    assert s1.run_id == s_full.run_id
    pd.testing.assert_frame_equal(ap_table(part, s1.run_id), ap_table(full, s_full.run_id))
    assert not ap_table(full, s_full.run_id).empty


def test_parts_left_on_disk_are_ingested_not_recomputed(tmp_path, model_dir):
    cfg = config(model_dir, folds=1)
    model = load_model(cfg.model)
    a = fill_store(str(tmp_path / "a.duckdb"))
    s = extract(a, cfg, progress=False, model=model)
    # a second store that shares the parts folder (e.g. parts committed by an earlier session)
    b = Store(str(tmp_path / "b.duckdb"), parts_dir=a.parts_dir)
    fill_store(b.path)
    s_b = extract(b, cfg, progress=False, model=model)
    assert s_b.run_id == s.run_id and s_b.ingested == 4 and s_b.computed == 0
    pd.testing.assert_frame_equal(ap_table(a, s.run_id), ap_table(b, s.run_id))
    v = b.vectors(s.run_id, "sentence")
    assert set(v) == set(CONCEPTS) and len(v["cat"]) == model.config.hidden_size


def test_pythia_style_revisions_are_separate_runs(tmp_path):
    root = save_checkpoints(str(tmp_path / "pythia-mini"), "gpt_neox", steps=(1, 1000))
    store = fill_store(str(tmp_path / "s.duckdb"))
    ids = [extract(store, config(root, rev, folds=1), progress=False).run_id for rev in ("step1", "step1000")]
    runs = store.runs().set_index("run_id")
    assert ids[0] != ids[1]
    assert runs.loc[ids, "step"].tolist() == [1, 1000]
    assert runs.loc[ids[0], "n_units"] == 2 * (3 * 32 + 32 + 128 + 32)
    assert not ap_table(store, ids[0]).equals(ap_table(store, ids[1]))


def test_helpers():
    assert parse_step("step143000") == 143000 and parse_step("main") is None and parse_step(None) is None
    assert model_family("EleutherAI/pythia-70m") == "pythia"
    assert model_family("EleutherAI/pythia-1.4b-deduped") == "pythia-deduped"
