"""What a run's results can hold: a part is range-checked against its run before it is ingested.

A checksum shows a file did not change by accident; it proves nothing about a file written by hand. So every
part, checksummed or legacy, must also fit its run: its concept and fold are the run's, its set sizes are at most
the run's, its units are in the run's unit table and every AP is a number in [0, 1].
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.config import RunConfig

from .parts import PartError
from .records import Run


def check_results(path: str, metas: list[dict], rows: pd.DataFrame, run: Run, n_units: int) -> None:
    """Refuse (``PartError`` naming ``path`` and the first value out of range) results that do not fit ``run``."""
    if run.config is None:
        raise PartError(f"part {path}: run {run.run_id} has no stored configuration to check it against")
    cfg = RunConfig.from_json(run.config)
    ds = cfg.dataset

    def refuse(what: str):
        raise PartError(f"part {path} does not fit run {run.run_id}: {what}")

    for meta in metas:
        concept, fold = meta["concept"], meta["fold"]
        if meta["run_id"] != run.run_id:
            refuse(f"it names run {str(meta['run_id'])[:40]!r}")
        if concept not in ds.concepts:
            refuse(f"concept {str(concept)[:40]!r} is not one of the run's")
        if not isinstance(fold, int) or not 0 <= fold < ds.folds:
            refuse(f"fold {str(fold)[:20]} is outside 0..{ds.folds - 1}")
        limits = {"n_pos": ds.n_pos, "n_neg": ds.n_neg, "n_units": n_units, "n_stored": n_units}
        for key, hi in limits.items():
            v = meta[key]
            if not isinstance(v, int) or not 0 <= v <= hi:
                refuse(f"{key} {str(v)[:20]} of {concept}, fold {fold} is outside 0..{hi}")
        if meta["n_units"] != n_units:
            refuse(f"n_units {meta['n_units']} of {concept}, fold {fold} is not the run's {n_units}")
        for key in ("ap_floor", "max_ap", "mean_ap"):
            v = meta[key]
            if not isinstance(v, (int, float)) or not 0 <= v <= 1:
                refuse(f"{key} {str(v)[:20]} of {concept}, fold {fold} is not in [0, 1]")
    units = rows["unit"].to_numpy()
    ap = rows["ap"].to_numpy(dtype=np.float64, na_value=np.nan)
    if len(units) and (pd.isna(rows["unit"]).any() or units.min() < 0 or units.max() >= n_units):
        refuse(f"a unit is outside the run's unit table (0..{n_units - 1})")
    bad = ~((ap >= 0) & (ap <= 1))  # NaN too
    if bad.any():
        refuse(f"AP {ap[bad][0]} of unit {units[bad][0]} is not a number in [0, 1]")
    counts: dict = {}
    highest: dict = {}
    lowest: dict = {}
    if len(rows):
        groups = rows.groupby(["concept", "fold"])["ap"]
        counts, highest, lowest = groups.size().to_dict(), groups.max().to_dict(), groups.min().to_dict()
    for meta in metas:
        key = (meta["concept"], meta["fold"])
        n = counts.get(key, 0)
        if n != meta["n_stored"]:
            refuse(f"{meta['concept']}, fold {meta['fold']} holds {n} AP rows, its metadata says {meta['n_stored']}")
        if n and abs(highest[key] - meta["max_ap"]) > 1e-5:  # the stored rows hold the highest AP of all units
            refuse(f"{meta['concept']}, fold {meta['fold']}: its highest AP {highest[key]:.6g} is not max_ap")
        if n and lowest[key] < meta["ap_floor"] - 1e-6:  # only APs at or above the floor are stored
            refuse(f"{meta['concept']}, fold {meta['fold']}: AP {lowest[key]:.6g} is below its ap_floor")
