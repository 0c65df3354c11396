"""Redraw results/alignment_over_training.png and results/where_when.png from the committed CSVs beside them.

`python scripts/redraw_series_figures.py [--results results] [--store cache/demo.duckdb]`: the figures of
`python -m core report`, drawn from `alignment_over_training.csv` and `alignment_where_when.csv` (left unchanged)
with the training log and the model names and colours (`core.render.style.model_looks`) of a store that holds the same runs,
so that a figure change does not need the hours-long extraction behind the CSVs.
"""

import argparse
import os
import sys

import pandas as pd

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from core.render.series_figures import training_png, where_when_png  # noqa: E402
from core.render.style import model_looks  # noqa: E402
from core.storage.store import Store  # noqa: E402
from core.text.benchmarks import MEN_HUMAN_CEILING  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", default=os.path.join(ROOT, "results"))
    parser.add_argument("--store", default=os.path.join(ROOT, "cache", "demo.duckdb"))
    parser.add_argument("--benchmark", default="MEN test")
    args = parser.parse_args()
    curves = pd.read_csv(os.path.join(args.results, "alignment_over_training.csv"), keep_default_na=True)
    curves["same_weights_as"] = [v if isinstance(v, str) else "" for v in curves["same_weights_as"]]
    long = pd.read_csv(os.path.join(args.results, "alignment_where_when.csv"))
    models = list(dict.fromkeys(curves["model"]))
    matrices = {
        m: long[long["model"] == m].pivot_table(index="layer", columns="step", values="rho", dropna=False)
        for m in models
        if (long["model"] == m).any()
    }
    store = Store(args.store, read_only=True)
    looks = model_looks((r.model, r.n_params) for r in store.runs())
    log = store.training_log()
    log = log[log["model"].isin(models)]
    tau = float(curves["tau"].iloc[0])
    title = f"{args.benchmark} · τ = {tau:g}"
    ceiling = MEN_HUMAN_CEILING if args.benchmark.lower().startswith("men") else None
    for path in (
        training_png(curves, log, os.path.join(args.results, "alignment_over_training.png"), ceiling, title, looks),
        where_when_png(matrices, os.path.join(args.results, "where_when.png"), f"where × when · {title}", looks),
    ):
        print(path)


if __name__ == "__main__":
    main()
