"""The embedded demo store: derived numbers only, small enough to commit.

``build_demo`` copies runs, unit tables, stored APs, results and embedding
vectors from a working store into a fresh one. Sentences are copied only when
the project may redistribute them (those it generated itself, source
``generated:*``); corpus text stays out, since the demo store is committed.
Benchmark ratings stay out too: given benchmarks, the demo store keeps an
alignment *snapshot* (ρ, CIs and tests at every τ of the dashboard's slider,
and ρ from one layer or module kind at a time),
so alignment can be shown where the benchmark file is not available.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping

import pandas as pd

from .alignment import N_BOOT
from .runs import with_results
from .settings import DEMO_STORE
from .store import Store
from .tau import SLIDER_TAUS

REDISTRIBUTABLE = "generated:%"


def build_demo(
    source: str,
    out: str = DEMO_STORE,
    run_ids: list[str] | None = None,
    max_mb: float = 50.0,
    benchmarks: Mapping[str, pd.DataFrame] | None = None,
    n_boot: int = N_BOOT,
) -> dict:
    """Write the demo store ``out`` from ``source``; refuse (and remove it) if it exceeds ``max_mb``.

    ``benchmarks`` (``{name: pairs}``, e.g. ``{"MEN test": load_men("test")}``) are scored at every τ of
    the slider and kept as alignment snapshots; the pairs themselves are not written.
    """
    src = Store(source, read_only=True)
    have = [r.run_id for r in with_results(src.runs())]
    if run_ids:
        unknown = set(run_ids) - set(have)
        if unknown:
            raise ValueError(f"no results for run(s) {', '.join(sorted(unknown))} in {source}")
        have = [r for r in have if r in set(run_ids)]
    if not have:
        raise ValueError(f"{source} has no run with results to put in a demo store")
    ids = have
    tmp = out + ".building"
    for p in (tmp, tmp + ".wal"):
        if os.path.exists(p):
            os.remove(p)
    snapshot = tmp + ".source"
    with src.connect():  # holding a read connection keeps writers out while the file is copied
        for suffix in ("", ".wal"):
            if os.path.exists(source + suffix):
                shutil.copyfile(source + suffix, snapshot + suffix)
    demo = Store(tmp)
    demo.copy_runs(snapshot, ids, REDISTRIBUTABLE)
    for suffix in ("", ".wal"):
        if os.path.exists(snapshot + suffix):
            os.remove(snapshot + suffix)
    n_snap = 0
    if benchmarks:
        from .alignment import alignment_over_taus
        from .layers import group_alignment_rows

        for name, pairs in benchmarks.items():
            table = alignment_over_taus(demo, ids, pairs, SLIDER_TAUS, n_boot=n_boot)
            n_snap += demo.save_alignment_snapshot(name, table, n_boot)
            for by in ("layer", "kind"):  # where in the network: one group of units at a time
                n_snap += demo.save_alignment_snapshot(
                    name, group_alignment_rows(demo, ids, pairs, SLIDER_TAUS, by), n_boot
                )
        demo.checkpoint()
    size_mb = os.path.getsize(tmp) / 2**20
    if size_mb > max_mb:
        os.remove(tmp)
        raise ValueError(f"demo store would be {size_mb:.1f} MB, over the {max_mb:g} MB budget: pass fewer --runs")
    os.replace(tmp, out)
    counts = Store(out, read_only=True).counts()
    return {
        "path": out,
        "size_mb": round(size_mb, 2),
        **{k: counts[k] for k in ("runs", "ap_rows", "sentences")},
        "concepts": counts["concepts_done"],
        "snapshot_rows": n_snap,
    }
