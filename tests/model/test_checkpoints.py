"""Checkpoint series: the training script's folders swept by ``extract --revisions``; weight hashes and flags."""

import functools
import importlib.util
import json
import os
import sys

import pandas as pd
import pytest

from core.cli.parser import main
from core.model.checkpoints import identical_neighbours, list_revisions, parse_step, resolve_revisions, weights_hash
from core.storage.records import runs_frame
from core.storage.store import Store
from tests.tiny import save_checkpoints, save_tiny_model

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONCEPTS = ("cat", "dog", "car", "river")


@functools.cache
def _train_script():
    spec = importlib.util.spec_from_file_location(
        "train_checkpoints", os.path.join(ROOT, "scripts", "train_checkpoints.py")
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _corpus(path) -> str:
    """A few hundred sentences in the shared corpus's format, each naming one concept."""
    places = ("by the road", "near the old house", "in the city park", "at the edge of the forest", "on the hill")
    with open(path, "w") as f:
        for i in range(320):
            c = CONCEPTS[i % 4]
            f.write(json.dumps({"doc": str(i // 8), "text": f"The {c} was seen {places[i % 5]} on day {i}."}) + "\n")
    return str(path)


def test_checkpoint_schedule_is_pythias_shape():
    steps = _train_script().checkpoint_steps(2048, 256)
    assert steps[:11] == [0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512]
    assert steps[11:] == [768, 1024, 1280, 1536, 1792, 2048]
    assert _train_script().checkpoint_steps(2) == [0, 1, 2]


def test_trained_checkpoints_swept_as_revisions(tmp_path, capsys):
    corpus = _corpus(tmp_path / "corpus.jsonl")
    out = tmp_path / "ckpt"
    train = _train_script()
    argv = ["--corpus", corpus, "--out", str(out), "--sizes", "s", "--steps", "2", "--batch-size", "2"]
    assert train.main([*argv, "--context", "16", "--vocab-size", "300", "--summary", str(tmp_path / "s.json")]) == 0
    model = out / train.SIZES["s"].name
    assert list_revisions(str(model)) == ["step0", "step1", "step2"]
    log = pd.read_csv(model / "train_log.csv")
    assert log["step"].tolist() == [0, 1, 2] and log["held_out_loss"].notna().all()
    capsys.readouterr()

    sentences = tmp_path / "sentences.csv"
    rows = [json.loads(line) for line in open(corpus)]
    pd.DataFrame({"concept": [r["text"].split()[1] for r in rows], "sentence": [r["text"] for r in rows]}).to_csv(
        sentences, index=False
    )
    store = str(tmp_path / "s.duckdb")
    assert main(["--store", store, "add", str(sentences)]) == 0
    extract = ["--store", store, "extract", "--model", str(model), "--concepts", ",".join(CONCEPTS)]
    assert main([*extract, "--revisions", "step1,step2", "--n-pos", "20", "--n-neg", "40", "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "(step1)" in printed and "(step2)" in printed
    runs = runs_frame(Store(store, read_only=True).runs())
    assert sorted(runs["step"].tolist()) == [1, 2]
    assert runs["dataset_hash"].nunique() == 1 and runs["weights_hash"].nunique() == 2
    units = Store(store, read_only=True).units(runs["run_id"].iloc[0])
    qkv = units[units["kind"] == "attn_qkv"]
    # GPT-NeoX fuses q/k/v per head: [q k v] of head_dim each, head after head
    head_dim = train.SIZES["s"].hidden // train.SIZES["s"].heads
    assert qkv["module"].str.endswith("attention.query_key_value").all()
    first = qkv[qkv["layer"] == 0].sort_values("index")
    assert first["role"].tolist()[: 3 * head_dim] == ["q"] * head_dim + ["k"] * head_dim + ["v"] * head_dim
    assert first["head"].tolist()[3 * head_dim] == 1 and first["head"].max() == train.SIZES["s"].heads - 1
    assert set(units["kind"]) == {"attn_qkv", "attn_out", "mlp_in", "mlp_out"}
    log = Store(store, read_only=True).training_log()  # the log beside the step folders comes along
    assert log["model"].unique().tolist() == [str(model)] and log["step"].tolist() == [0, 1, 2]
    # a store whose runs are complete but lack the log (rebuilt from parts alone) gets it from the next sweep
    Store(store).add_training_log(str(model), log.iloc[:0].drop(columns="model"))
    assert Store(store, read_only=True).training_log().empty
    assert main([*extract, "--revisions", "step1,step2", "--n-pos", "20", "--n-neg", "40", "--quiet"]) == 0
    assert "0 computed now" in capsys.readouterr().out
    assert Store(store, read_only=True).training_log()["step"].tolist() == [0, 1, 2]


def test_resume_training_continues_where_it_stopped(tmp_path):
    corpus = _corpus(tmp_path / "corpus.jsonl")
    train = _train_script()
    common = ["--corpus", corpus, "--sizes", "s", "--batch-size", "2", "--context", "16", "--vocab-size", "300"]
    assert train.main([*common, "--out", str(tmp_path / "a"), "--steps", "4"]) == 0
    assert train.main([*common, "--out", str(tmp_path / "b"), "--steps", "2"]) == 0
    assert train.main([*common, "--out", str(tmp_path / "b"), "--steps", "4"]) == 0  # resumes from step 2
    name = train.SIZES["s"].name
    from transformers import AutoModelForCausalLM

    a = AutoModelForCausalLM.from_pretrained(tmp_path / "a" / name / "step4")
    b = AutoModelForCausalLM.from_pretrained(tmp_path / "b" / name / "step4")
    assert weights_hash(a) == weights_hash(b)
    assert pd.read_csv(tmp_path / "b" / name / "train_log.csv")["step"].tolist() == [0, 1, 2, 4]


def test_revisions_all_and_bad_revisions(tmp_path, capsys):
    root = save_checkpoints(str(tmp_path / "m"), "gpt_neox", steps=(10, 2, 1000))
    assert list_revisions(root) == ["step2", "step10", "step1000"]
    assert resolve_revisions(root, "all") == ["step2", "step10", "step1000"]
    assert resolve_revisions(root, "step10, step2,step10") == ["step10", "step2"]
    with pytest.raises(ValueError, match="step3 not found"):
        resolve_revisions(root, "step2,step3")
    with pytest.raises(ValueError, match="no step<N> revision folders"):
        list_revisions(str(tmp_path))
    with pytest.raises(ValueError, match="has no revisions"):
        list_revisions("./nowhere/at/all")
    store = str(tmp_path / "s.duckdb")
    rc = main(["--store", store, "extract", "--model", root, "--revisions", "step2,step3", "--concepts", "cat"])
    assert rc == 2 and "step3 not found" in capsys.readouterr().err
    assert not os.path.exists(store) or not Store(store, read_only=True).runs()
    assert parse_step("step143000") == 143000 and parse_step("main") is None


def test_identical_neighbours_flags_byte_identical_consecutive_revisions(tmp_path):
    a = save_tiny_model(str(tmp_path / "a"), "gpt_neox", seed=0)
    b = save_tiny_model(str(tmp_path / "b"), "gpt_neox", seed=0)
    c = save_tiny_model(str(tmp_path / "c"), "gpt_neox", seed=1)
    from transformers import AutoModelForCausalLM

    ha, hb, hc = (weights_hash(AutoModelForCausalLM.from_pretrained(p)) for p in (a, b, c))
    assert ha == hb != hc
    runs = pd.DataFrame(
        {
            "run_id": ["r0", "r1", "r2", "r3", "x"],
            "model": ["m"] * 4 + ["other"],
            "revision": ["step0", "step1", "step2", "step3", "step1"],
            "step": [0, 1, 2, 3, 1],
            "dataset_hash": ["d"] * 5,
            "weights_hash": [ha, hb, hc, hc, ha],
        }
    )
    assert identical_neighbours(runs) == {"r1": "step0", "r3": "step2"}
    assert identical_neighbours(runs.drop(columns="weights_hash")) == {}
