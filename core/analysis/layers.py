"""Where in the network experts live, and which parts align with humans.

Units are grouped by their layer or by their module kind (attention query,
MLP neuron, ...). Counting experts per group shows where concepts are
represented; recomputing the expert Jaccard on one group's units at a time
shows which part of the network carries the human-like similarity.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import stats

from core.experts.counting import UnitGroups
from core.experts.index import ExpertIndex
from core.experts.overlap import jaccard_from_counts
from core.text.benchmarks import coverage

if TYPE_CHECKING:
    from core.storage.reader import StoreReader

UNKNOWN_LAYER = -1
UNKNOWN_KIND = "unknown"


def _layer_groups(units: pd.DataFrame | None, n_units: int, columns: list[str]) -> tuple[pd.DataFrame, np.ndarray]:
    """(groups, code): the distinct values of ``columns`` in the unit table, and each unit's group number.

    Units missing from the table (or a missing table) fall in a last group of
    layer -1 / kind "unknown", so that no expert is dropped from a breakdown.
    """
    fill = {"layer": UNKNOWN_LAYER, "kind": UNKNOWN_KIND, "module": UNKNOWN_KIND}
    if units is None or units.empty:
        table = pd.DataFrame({"unit": np.zeros(0, np.int64), **{c: pd.Series([], dtype=object) for c in columns}})
    else:
        missing = [c for c in ["unit", *columns] if c not in units]
        if missing:
            raise KeyError(f"unit table has no column {missing[0]!r}")
        table = units[units["unit"] < n_units]
    keys = table[columns].drop_duplicates().sort_values(columns, ignore_index=True)
    unknown = pd.DataFrame([{c: fill.get(c, UNKNOWN_KIND) for c in columns}])
    groups = pd.concat([keys, unknown], ignore_index=True) if len(keys) else unknown
    code = np.full(n_units, len(groups) - 1, dtype=np.int64)
    if len(table):
        numbered = table[["unit", *columns]].merge(keys.assign(_g=np.arange(len(keys))), on=columns, how="left")
        code[numbered["unit"].to_numpy(np.int64)] = numbered["_g"].to_numpy(np.int64)
    return groups, code


def _grouping(index: ExpertIndex, units: pd.DataFrame | None, columns: list[str]) -> tuple[pd.DataFrame, UnitGroups]:
    """``_layer_groups`` of the index's run, built once per index (the run's unit table is fixed)."""
    key = f"{','.join(columns)}:{0 if units is None else len(units)}"

    def build() -> tuple[pd.DataFrame, UnitGroups]:
        groups, code = _layer_groups(units, index.n_units, columns)
        return groups, UnitGroups(key, code, len(groups))

    return index.unit_groups(key, build)


def experts_by_layer(
    index: ExpertIndex,
    units: pd.DataFrame | None,
    tau: float = 0.5,
    concepts: Iterable[str] | None = None,
    fold: int = 0,
) -> pd.DataFrame:
    """Number of experts of each concept in each (layer, kind), zeros included.

    Columns concept, layer, kind, n_experts; one row per concept and per
    (layer, kind) of the unit table (plus layer -1 / kind "unknown" for units
    it does not list). Summed over groups, a concept's rows give its expert count.
    """
    names = list(concepts) if concepts is not None else index.concepts_of(fold)
    groups, ug = _grouping(index, units, ["layer", "kind"])
    counts = index.group_sizes(ug, tau, fold)[index.position(names)]  # a new τ: one binary search per group
    out = pd.DataFrame(
        {
            "concept": np.repeat(names, len(groups)),
            "layer": np.tile(groups["layer"].to_numpy(), len(names)),
            "kind": np.tile(groups["kind"].to_numpy(), len(names)),
            "n_experts": counts.ravel().astype(np.int64),
        }
    )
    unknown = (groups["kind"] == UNKNOWN_KIND) & (groups["layer"] == UNKNOWN_LAYER)
    if not counts[:, unknown.to_numpy()].any():  # drop the unknown group when nothing falls in it
        out = out[~((out["kind"] == UNKNOWN_KIND) & (out["layer"] == UNKNOWN_LAYER))]
    return out.reset_index(drop=True)


def alignment_by_layer(
    index: ExpertIndex,
    units: pd.DataFrame | None,
    pairs: pd.DataFrame,
    tau: float = 0.5,
    by: str = "layer",
    fold: int = 0,
) -> pd.DataFrame:
    """Spearman ρ of human scores with expert Jaccard restricted to one group of units at a time.

    ``by`` is a unit-table column: ``"layer"`` or ``"kind"`` (``"module"`` works too).
    Returns columns group, rho, p_value, n_pairs (covered pairs), n_units (units
    in the group) and mean_experts (mean experts per covered concept in the group).
    ρ is NaN when a group gives every pair the same similarity (e.g. no experts).
    """
    if by not in ("layer", "kind", "module"):
        raise ValueError(f"by must be 'layer', 'kind' or 'module', got {by!r}")
    covered, _ = coverage(pairs, set(index.concepts_of(fold)))
    groups, ug = _grouping(index, units, [by])
    sizes = index.group_sizes(ug, tau, fold)  # concepts × groups
    overlap = index.pair_group_overlap(covered["word1"], covered["word2"], ug, fold)
    a, b = overlap.rows_a, overlap.rows_b
    inter = overlap.shared(tau) if len(covered) else np.zeros((0, len(groups)), np.int64)
    jac = jaccard_from_counts(inter, sizes[a], sizes[b])
    human = covered["score"].to_numpy(np.float64)
    n_in_group = np.bincount(ug.code, minlength=len(groups))
    used = np.union1d(a, b)
    rows = []
    for k in range(len(groups)):
        if n_in_group[k] == 0:
            continue
        col = jac[:, k]
        if len(col) >= 3 and np.ptp(col) > 0 and np.ptp(human) > 0:
            res = stats.spearmanr(col, human)
            rho, p = float(res.statistic), float(res.pvalue)  # pyright: ignore[reportAttributeAccessIssue]  # scipy builds SignificanceResult at run time
        else:
            rho = p = float("nan")
        rows.append(
            {
                "group": groups[by].iloc[k],
                "rho": rho,
                "p_value": p,
                "n_pairs": len(covered),
                "n_units": int(n_in_group[k]),
                "mean_experts": float(sizes[used, k].mean()) if used.size else float("nan"),
            }
        )
    return pd.DataFrame(rows, columns=["group", "rho", "p_value", "n_pairs", "n_units", "mean_experts"])


GROUP_PREFIX = {"layer": "layer:", "kind": "kind:"}


def group_alignment_rows(
    store: StoreReader,
    run_ids: Iterable[str],
    pairs: pd.DataFrame,
    taus: Iterable[float],
    by: str = "layer",
    index_cache: dict | None = None,
    unit_tables: dict | None = None,
) -> pd.DataFrame:
    """``alignment_by_layer`` of runs at several τs, as alignment-table rows with method ``layer:<n>``/``kind:<k>``.

    This is the form an alignment snapshot (and a run's summary) stores, so a store without its benchmark file can
    still show where in the network the human-aligned units sit. ``index_cache`` (``{run_id: ExpertIndex}``) and
    ``unit_tables`` (``{run_id: units}``) are used where they have the run (then not read again).
    """
    rows = []
    taus = list(taus)
    for run_id in run_ids:
        index = (index_cache or {}).get(run_id)
        index = index if index is not None else ExpertIndex.from_store(store, run_id)
        units = (unit_tables or {}).get(run_id)
        units = units if units is not None else store.units(run_id)
        for tau in taus:
            t = alignment_by_layer(index, units, pairs, tau, by=by)
            rows.append(
                pd.DataFrame(
                    {
                        "run_id": run_id,
                        "method": [f"{GROUP_PREFIX[by]}{g}" for g in t["group"]],
                        "tau": float(tau),
                        "rho": t["rho"],
                        "ci_low": np.nan,
                        "ci_high": np.nan,
                        "p_value": t["p_value"],
                        "p_vs_experts": np.nan,
                        "n_pairs": t["n_pairs"],
                        "n_missing": len(pairs) - t["n_pairs"],
                    }
                )
            )
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()


def groups_from_rows(rows: pd.DataFrame, by: str = "layer") -> pd.DataFrame:
    """``alignment_by_layer``-like columns (group, rho, p_value, n_pairs) back from snapshot rows."""
    prefix = GROUP_PREFIX[by]
    t = rows[rows["method"].str.startswith(prefix)]
    group = t["method"].str.slice(len(prefix))
    out = pd.DataFrame(
        {
            "group": group.astype(int) if by == "layer" else group,
            "rho": t["rho"],
            "p_value": t["p_value"],
            "n_pairs": t["n_pairs"],
        }
    )
    return out.sort_values("group", ignore_index=True)


def best_units(ap_rows: pd.DataFrame, n: int = 25) -> pd.DataFrame:
    """A concept's ``n`` best units: highest AP first, ties by unit."""
    return ap_rows.sort_values(["ap", "unit"], ascending=[False, True]).head(n)


def top_units(ap_rows: pd.DataFrame, units: pd.DataFrame, n: int = 25) -> pd.DataFrame:
    """A concept's best units (``best_units``) with their layer, module and kind from ``units`` (a unit table
    holding at least those units)."""
    t = best_units(ap_rows, n)
    cols = [c for c in ("unit", "layer", "kind", "module", "index", "head") if c in units]
    if not units.empty:
        t = t.merge(units[cols], on="unit", how="left")
    return t[[c for c in ("unit", "ap", "layer", "kind", "module", "index", "head") if c in t]].reset_index(drop=True)
