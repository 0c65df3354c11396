"""The grid-shaped store generator (``bench/grid_store.py``): real architectures' unit tables, AP rows shaped like
the real run they are drawn from, written through the project's ingest path, resumable."""

from __future__ import annotations

import os

import numpy as np

from bench.grid_store import REVISIONS, TEMPLATE, Template, build, grid_runs
from core.analysis.alignment import alignment_table
from core.storage.store import Store
from core.text.benchmarks import read_pairs

MEN = os.path.join(
    os.path.dirname(__file__), "..", "..", "..", "shared", "data", "men", "MEN_dataset_natural_form_full"
)


def test_grid_runs_spread_over_models_and_checkpoints():
    assert len(grid_runs(462)) == 462 == 3 * len(REVISIONS)
    ten = grid_runs(10)
    assert [s for s, _ in ten].count("70m") == 4 and ("12b", "step143000") in ten and ("1b", "step0") in ten
    assert grid_runs(3, ("70m",)) == [("70m", "step0"), ("70m", "step66000"), ("70m", "step143000")]


def test_the_store_has_the_architecture_and_the_template_s_shape(grid_store):
    path, _ = grid_store
    store = Store(path, read_only=True)
    runs = store.runs()
    assert [r.revision for r in runs] == ["step0", "step66000", "step143000"]
    assert {r.model for r in runs} == {"EleutherAI/pythia-70m"} and all(r.n_units == 27_648 for r in runs)
    units = store.units(runs[0].run_id)
    assert len(units) == 27_648 and units["layer"].nunique() == 6
    assert units.groupby("kind").size().to_dict() == {
        "attn_out": 3072,
        "attn_qkv": 9216,
        "mlp_in": 12288,
        "mlp_out": 3072,
    }
    t = Template(TEMPLATE)
    per_concept = store.results(runs[-1].run_id).set_index("concept")["n_stored"]
    expected = np.array([len(t.rows[c][0]) for c in per_concept.index]) * 27_648 / t.n_units
    assert abs(per_concept.sum() / expected.sum() - 1) < 0.05  # counts scale with the units
    assert np.corrcoef(per_concept.to_numpy(), expected)[0, 1] > 0.95  # and keep the template's spread


def test_alignment_grows_over_training_and_rerunning_adds_nothing(grid_store):
    path, parts = grid_store
    store = Store(path, read_only=True)
    ids = [r.run_id for r in store.runs()]
    table = alignment_table(store, ids, read_pairs(MEN), tau=0.5, n_boot=0, methods=("experts",))
    rho = table.set_index("run_id").loc[ids, "rho"].to_numpy()
    assert rho[0] < rho[-1] and rho[-1] > 0.5, rho  # step0 drawn noisier than the final checkpoint
    before = store.counts()
    again = build(3, path, parts, sizes=("70m",))
    assert again["ingested"] == [] and Store(path, read_only=True).counts() == before
