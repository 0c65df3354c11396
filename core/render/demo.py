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

import duckdb
import pandas as pd

from core.analysis.alignment import N_BOOT
from core.analysis.run_choice import with_results
from core.errors import first_line
from core.storage.paths import DEMO_STORE
from core.storage.store import Store
from core.tau import SLIDER_TAUS

from .outputs import check_output

REDISTRIBUTABLE = "generated:%"


def build_demo(
    source: str,
    out: str = DEMO_STORE,
    run_ids: list[str] | None = None,
    max_mb: float = 50.0,
    benchmarks: Mapping[str, pd.DataFrame] | None = None,
    n_boot: int = N_BOOT,
    force: bool = False,
) -> dict:
    """Write the demo store ``out`` from ``source``; refuse (and remove it) if it exceeds ``max_mb``.

    ``benchmarks`` (``{name: pairs}``, e.g. ``{"MEN test": load_men("test")}``) are scored at every τ of
    the slider and kept as alignment snapshots; the pairs themselves are not written. ``out`` is never
    ``source``, and an existing ``out`` is replaced only with ``force``. The free space the build needs is
    checked first, and whatever a failed build wrote is removed.
    """
    check_output(out, source, force)
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
    snapshot = tmp + ".source"
    leftovers = [p + suffix for p in (tmp, snapshot) for suffix in ("", ".wal")]
    _check_space(source, out, max_mb)
    try:
        for p in leftovers:  # of an earlier build that was killed
            if os.path.exists(p):
                os.remove(p)
        n_snap, size_mb = _build(src, source, tmp, snapshot, ids, max_mb, benchmarks, n_boot)
        os.replace(tmp, out)
    except duckdb.Error as e:  # a full disk, most often: one line, not a traceback
        raise OSError(f"building the demo store {out} failed: {first_line(e, 300)}") from None
    finally:
        for p in leftovers:
            if os.path.exists(p):
                os.remove(p)
    counts = Store(out, read_only=True).counts()
    return {
        "path": out,
        "size_mb": round(size_mb, 2),
        **{k: counts[k] for k in ("runs", "ap_rows", "sentences")},
        "concepts": counts["concepts_done"],
        "snapshot_rows": n_snap,
    }


def _check_space(source: str, out: str, max_mb: float) -> None:
    """Refuse a build the disk cannot hold: a copy of the source store and the demo store (at most ``max_mb``)."""
    src_bytes = sum(os.path.getsize(source + x) for x in ("", ".wal") if os.path.exists(source + x))
    need = src_bytes + min(src_bytes, max_mb * 2**20) + 2**20
    folder = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(folder):
        raise ValueError(f"no folder {folder} for the demo store {out}")
    free = shutil.disk_usage(folder).free
    if free < need:
        raise OSError(
            f"not enough free space in {folder} to build the demo store: {need / 2**20:.1f} MB needed "
            f"(a copy of {source} and the demo store), {free / 2**20:.1f} MB free"
        )


def _build(src, source, tmp, snapshot, ids, max_mb, benchmarks, n_boot) -> tuple[int, float]:
    """Write the demo store at ``tmp`` from a copy of ``source`` (``snapshot``); its snapshot rows and size in MB."""
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
        from core.analysis.alignment import alignment_over_taus
        from core.analysis.layers import group_alignment_rows
        from core.analysis.measures import alignment_methods

        for name, pairs in benchmarks.items():
            every = alignment_methods(every=True)  # every registered measure, for a picker on the hosted demo
            table = alignment_over_taus(demo, ids, pairs, SLIDER_TAUS, n_boot=n_boot, methods=every)
            table = table[
                table["method"].isin(alignment_methods()) | (table["n_pairs"] > 0)
            ]  # raw-AP rows need --ap-floor 0
            n_snap += demo.save_alignment_snapshot(name, table, n_boot)
            for by in ("layer", "kind"):  # where in the network: one group of units at a time
                n_snap += demo.save_alignment_snapshot(
                    name, group_alignment_rows(demo, ids, pairs, SLIDER_TAUS, by), n_boot
                )
        demo.checkpoint()
    size_mb = os.path.getsize(tmp) / 2**20
    if size_mb > max_mb:
        raise ValueError(f"demo store would be {size_mb:.1f} MB, over the {max_mb:g} MB budget: pass fewer --runs")
    return n_snap, size_mb
