import json
import os
import random

import pandas as pd
import pytest

from core.config import DatasetConfig, ExtractConfig, ModelSpec, RunConfig
from core.extraction.extract import extract, model_family, parse_step
from core.model.loading import load_model
from core.storage.records import runs_frame
from core.storage.store import Store
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
    return store.ap(run_id, fold=None, above=0.5).sort_values(["concept", "fold", "unit"]).reset_index(drop=True)


def test_resume_after_interruption_loses_nothing_and_recomputes_nothing(tmp_path, model_dir):
    cfg = config(model_dir)
    model = load_model(cfg.model)
    full = fill_store(str(tmp_path / "full.duckdb"))
    s_full = extract(full, cfg, concepts_per_task=1, show_progress=False, model=model)
    assert s_full.computed == 8

    part = fill_store(str(tmp_path / "part.duckdb"))
    s1 = extract(part, cfg, concepts_per_task=1, show_progress=False, max_tasks=3, model=model)  # "killed" after 3
    assert s1.computed == 3 and len(part.done(s1.run_id)) == 3
    s2 = extract(part, cfg, concepts_per_task=1, show_progress=False, model=model)
    assert (s2.done_before, s2.computed) == (3, 5)
    s3 = extract(part, cfg, concepts_per_task=1, show_progress=False, model=model)
    assert s3.computed == 0 and s3.done_before == 8
    assert s1.run_id == s_full.run_id
    pd.testing.assert_frame_equal(ap_table(part, s1.run_id), ap_table(full, s_full.run_id))
    assert not ap_table(full, s_full.run_id).empty


def test_parts_left_on_disk_are_ingested_not_recomputed(tmp_path, model_dir):
    cfg = config(model_dir, folds=1)
    model = load_model(cfg.model)
    a = fill_store(str(tmp_path / "a.duckdb"))
    s = extract(a, cfg, show_progress=False, model=model)
    # a second store that shares the parts folder (e.g. parts committed by an earlier session)
    b = Store(str(tmp_path / "b.duckdb"), parts_dir=a.parts_dir)
    fill_store(b.path)
    s_b = extract(b, cfg, show_progress=False, model=model)
    assert s_b.run_id == s.run_id and s_b.ingested == 4 and s_b.computed == 0
    pd.testing.assert_frame_equal(ap_table(a, s.run_id), ap_table(b, s.run_id))
    v = b.vectors(s.run_id, "sentence")
    assert set(v) == set(CONCEPTS) and len(v["cat"]) == model.config.hidden_size


def test_pythia_style_revisions_are_separate_runs(tmp_path):
    root = save_checkpoints(str(tmp_path / "pythia-mini"), "gpt_neox", steps=(1, 1000))
    store = fill_store(str(tmp_path / "s.duckdb"))
    ids = [extract(store, config(root, rev, folds=1), show_progress=False).run_id for rev in ("step1", "step1000")]
    runs = runs_frame(store.runs()).set_index("run_id")
    assert ids[0] != ids[1]
    assert runs.loc[ids, "step"].tolist() == [1, 1000]
    assert runs.loc[ids[0], "n_units"] == 2 * (3 * 32 + 32 + 128 + 32)
    assert not ap_table(store, ids[0]).equals(ap_table(store, ids[1]))


def test_helpers():
    assert parse_step("step143000") == 143000 and parse_step("main") is None and parse_step(None) is None
    assert model_family("EleutherAI/pythia-70m") == "pythia"
    assert model_family("EleutherAI/pythia-1.4b-deduped") == "pythia-deduped"


# -- reference mode (apple/ml-selfcond) and run identity ------------------------------------

LONG_CAT = " ".join(["the cat sat"] * 50) + " ."  # 151 tokens: the reference drops it at --seq-len 128


def selfcond_expertise(model_dir, positives, negatives, seq_len=128):
    """AP per (module, index) as apple/ml-selfcond specifies it, written here from its description.

    Every sentence tokenised with special tokens, dropped if longer than ``seq_len``, padded with the
    pad token (EOS if none) to ``seq_len`` with attention mask 0 on padding, run through the full LM
    in one batch; every Conv1D/Linear output but the LM head max-pooled over ALL positions; one
    ``sklearn.metrics.average_precision_score`` per unit.
    """
    import numpy as np
    import torch
    from sklearn.metrics import average_precision_score
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.pytorch_utils import Conv1D

    tok = AutoTokenizer.from_pretrained(model_dir)
    pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
    lm = AutoModelForCausalLM.from_pretrained(model_dir).float().eval()
    rows = [(tok.encode(t), y) for t, y in [(t, 0) for t in negatives] + [(t, 1) for t in positives]]
    rows = [(ids, y) for ids, y in rows if len(ids) <= seq_len]
    ids = torch.tensor([r + [pad] * (seq_len - len(r)) for r, _ in rows])
    mask = torch.tensor([[1] * len(r) + [0] * (seq_len - len(r)) for r, _ in rows])
    labels = np.array([y for _, y in rows])
    pooled, hooks = {}, []
    for name, m in lm.named_modules():
        if isinstance(m, (Conv1D, torch.nn.Linear)) and "lm_head" not in name:
            hooks.append(m.register_forward_hook(lambda m, a, o, name=name: pooled.__setitem__(name, o.amax(1))))
    with torch.no_grad():
        lm(input_ids=ids, attention_mask=mask)
    for h in hooks:
        h.remove()
    return {
        (name, u): average_precision_score(labels, resp[:, u].numpy())
        for name, resp in pooled.items()
        for u in range(resp.shape[1])
    }


def ref_config(model_dir, reference="selfcond", batch_tokens=4096, **data):
    ds = dict(n_pos=15, n_neg=30, min_pos=14)
    ds.update(data)
    return RunConfig(
        ModelSpec(model_dir),
        DatasetConfig(CONCEPTS, **ds),
        ExtractConfig(reference=reference, ap_floor=0.0, batch_tokens=batch_tokens),
    )


@pytest.fixture(scope="module")
def gpt2_dir(tmp_path_factory):
    return save_tiny_model(str(tmp_path_factory.mktemp("gpt2")), "gpt2")


def reference_store(path):
    store = fill_store(path)
    store.add_sentences("cat", [LONG_CAT], source="test")
    return store


def test_reference_mode_reproduces_selfcond_expertise(tmp_path, gpt2_dir):
    import numpy as np

    from core.extraction.extract import prepare

    store = reference_store(str(tmp_path / "s.duckdb"))
    cfg = ref_config(gpt2_dir)
    plan, _ = prepare(store, cfg)
    rid = extract(store, cfg, show_progress=False).run_id
    rid_masked = extract(store, ref_config(gpt2_dir, reference=None), show_progress=False).run_id
    units = store.units(rid)
    names = list(zip("transformer." + units["module"], units["index"]))
    for concept in CONCEPTS:
        pos = [plan.texts[s] for s in plan.positives[(concept, 0)].tolist()]
        neg = [plan.texts[s] for s in plan.negatives[(concept, 0)].tolist()]
        expected = selfcond_expertise(gpt2_dir, pos, neg)
        assert len(expected) == len(units)  # the same units, one to one by (module, index)
        ref = np.array([expected[n] for n in names])
        ours = store.ap(rid, [concept], above=-1.0).set_index("unit")["ap"].reindex(units["unit"]).to_numpy()
        np.testing.assert_allclose(ours, ref, atol=1e-6, rtol=0)
        assert set(np.flatnonzero(ours > 0.5)) == set(np.flatnonzero(ref > 0.5))
        masked = store.ap(rid_masked, [concept], above=-1.0).set_index("unit")["ap"].reindex(units["unit"])
        assert np.abs(masked.to_numpy() - ref).max() > 0.01  # the padding matters: the test can fail
    results = store.results(rid).set_index("concept")
    assert LONG_CAT in [plan.texts[s] for s in plan.positives[("cat", 0)].tolist()]
    assert results.loc["cat", "n_pos"] == 14  # the 151-token positive was dropped, as the reference drops it


@pytest.mark.parametrize("reference", [None, "selfcond"])
def test_batching_settings_change_no_ap_and_not_the_run_id(tmp_path, gpt2_dir, reference):
    """``batch_tokens`` and concepts per task are left out of the run id: they must not move an AP."""
    model = load_model(ModelSpec(gpt2_dir))
    tables, ids = [], []
    for i, (batch_tokens, per_task) in enumerate([(64, 1), (100_000, 8), (300, 3)]):
        store = reference_store(str(tmp_path / f"s{i}.duckdb"))
        cfg = ref_config(gpt2_dir, reference, batch_tokens=batch_tokens)
        s = extract(store, cfg, concepts_per_task=per_task, show_progress=False, model=model)
        ids.append(s.run_id)
        tables.append(store.ap(s.run_id, fold=None, above=-1.0).sort_values(["concept", "unit"]).reset_index(drop=True))
    assert len(set(ids)) == 1
    for t in tables[1:]:
        pd.testing.assert_frame_equal(t, tables[0], check_exact=True)


def test_every_extract_setting_but_batch_tokens_is_in_the_run_id():
    base = ExtractConfig()
    changed = [
        ExtractConfig(pooling="mean"),
        ExtractConfig(reference="selfcond"),
        ExtractConfig(max_length=64),
        ExtractConfig(ap_floor=0.0),
    ]
    assert len({c.key().__repr__() for c in [base, *changed]}) == 5
    assert ExtractConfig(batch_tokens=1).key() == base.key()
    assert set(base.key()) >= {f for f in base.__dataclass_fields__ if f not in ("batch_tokens", "reference")}


def test_configs_stored_before_the_reference_mode_still_load():
    import json
    from dataclasses import asdict

    cfg = RunConfig(ModelSpec("m"), DatasetConfig(CONCEPTS))
    old = asdict(cfg)
    old["extract"].pop("reference")
    old["extract"]["include_padding"] = False
    assert RunConfig.from_json(json.dumps(old)).config_id == cfg.config_id
    old["extract"]["include_padding"] = True
    with pytest.raises(ValueError, match="--reference selfcond"):
        RunConfig.from_json(json.dumps(old))
    with pytest.raises(ValueError, match="pools by max"):
        ExtractConfig(pooling="mean", reference="selfcond")


def test_resuming_refuses_parts_made_under_other_settings(tmp_path, model_dir):
    import pyarrow.parquet as pq

    from core.storage.parts import write_part

    cfg = config(model_dir, folds=1)
    model = load_model(cfg.model)
    store = fill_store(str(tmp_path / "s.duckdb"))
    s = extract(store, cfg, show_progress=False, model=model, max_tasks=1)
    other = fill_store(str(tmp_path / "o.duckdb"))
    meta = json.loads(pq.read_schema(s.parts[0]).metadata[b"expert_part"])
    table = pq.read_table(s.parts[0])
    os.remove(s.parts[0])
    write_part(
        s.parts[0].replace(store.parts_dir, other.parts_dir),
        {**meta, "config_id": "0" * 16},
        table["unit"].to_numpy(),
        table["ap"].to_numpy(),
    )
    with pytest.raises(ValueError, match="refusing to mix") as err:
        extract(other, cfg, show_progress=False, model=model)
    assert "\n" not in str(err.value)
    assert other.done(s.run_id) == set()
