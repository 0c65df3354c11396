"""Memory of one run's ``ExpertIndex`` at a Pythia-12b-sized shape, measured in one run (prints, never asserts).

The dashboard shares expert indexes in a cache bounded by their stored AP rows (``ui.data.INDEX_ROWS``); this
prints what a row costs: the index as read (its four row arrays), then after the per-τ expert matrices it keeps
(up to 16, LRU) are built, as a τ slider builds them. Rows are random: ``--concepts`` concepts of ``--per-concept``
units each among ``--units`` (default 613 MEN-test concepts × 5,550 of 1,658,880 units: ≈ 3.4M rows, SmolLM2's
0.33% above AP 0.5, scaled to Pythia-12b).

Usage: ``python bench/bench_index_memory.py [--concepts 613] [--per-concept 5550] [--units 1658880]``
"""

from __future__ import annotations

import argparse
import gc
import os
import sys

import numpy as np
import psutil

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from core.experts.index import ExpertIndex  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--concepts", type=int, default=613)
    ap.add_argument("--per-concept", type=int, default=5550)
    ap.add_argument("--units", type=int, default=1_658_880)
    args = ap.parse_args()
    proc = psutil.Process()
    gc.collect()
    before = proc.memory_info().rss
    rng = np.random.default_rng(0)
    n, per = args.concepts, args.per_concept
    units = [np.sort(rng.choice(args.units, per, replace=False)) for _ in range(n)]
    idx = ExpertIndex(
        [f"c{i}" for i in range(n)],
        np.repeat(np.arange(n, dtype=np.int32), per),
        np.zeros(n * per, np.int16),
        np.concatenate(units).astype(np.int32),
        rng.uniform(0.5001, 1.0, n * per).astype(np.float32),
        n_units=args.units,
    )
    del units
    gc.collect()
    read = proc.memory_info().rss - before
    for tau in np.round(np.linspace(0.5, 0.95, 16), 2):
        idx.matrix(float(tau))
        idx.sizes(float(tau))
    gc.collect()
    full = proc.memory_info().rss - before
    rows = idx.n_rows
    print(f"index of {n} concepts x {per:,} units of {args.units:,}: {rows:,} rows")
    print(f"  as read:                  {read / 2**20:7.0f} MB  ({read / rows:5.1f} bytes a row)")
    print(f"  with 16 per-τ matrices:   {full / 2**20:7.0f} MB  ({full / rows:5.1f} bytes a row)")
    print(f"  12M rows (ui.data.INDEX_ROWS) at that rate: {12e6 * full / rows / 2**30:.2f} GB")


if __name__ == "__main__":
    main()
