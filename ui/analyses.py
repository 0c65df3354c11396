"""Cached analyses of one run's ``ExpertIndex`` at the page's τ: every public function takes the page first.

Each goes through ``_on_index``, cached by the store's stamp and the arguments; the index itself comes from
``ui.data`` (read once per run, shared by sessions under one lock).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pandas as pd
import streamlit as st

from core.analysis import run_choice as run_policy
from core.analysis.measures import DOMAIN_MEASURE
from core.render.domain_view import domain_layout
from core.render.domain_view import domain_view as compose_domain_view
from core.tau import CURVE_STEP, grid

from .data import _domain_list, _index, _mtime, _read, locked, open_store, page_read, runs, units

if TYPE_CHECKING:
    from .page_state import Page


def _analysis(name: str):
    """The analysis ``name`` as ``f(index, units, *args)`` (imported when first used)."""
    from core.analysis import layers, stability
    from core.analysis.domains import shared_experts
    from core.analysis.measures import concept_matrix

    return {
        "domain_view": lambda idx, _, *a: compose_domain_view(
            idx, _domain_list(a[0], a[1]), *a[2:-2], positions=a[-2], measure=a[-1]
        ),
        "similarity": lambda idx, _, measure, tau: concept_matrix(idx, measure, tau),
        "domain_layout": lambda idx, _, path, mtime, seed: domain_layout(idx, _domain_list(path, mtime), seed),
        "shared": lambda idx, _, a, b, tau: shared_experts(idx, a, b, tau),
        "fold_overlap": lambda idx, _, taus: stability.fold_overlap(idx, taus),
        "set_sizes": lambda idx, _, taus: stability.set_sizes(idx, taus),
        "by_layer": lambda idx, units, tau, concepts: layers.experts_by_layer(idx, units, tau, list(concepts)),
        "jaccard_row": lambda idx, _, concept, tau: idx.jaccard_row(concept, tau),
        "sets": lambda idx, _, tau: idx.sets(tau),
    }[name]


@st.cache_data(show_spinner=False, max_entries=256)
def _on_index(path: str, stamp: tuple, run_id: str, name: str, *args):
    """An analysis of a run's ``ExpertIndex`` (see ``_analysis``), cached by store stamp and arguments."""
    layer_kinds = _read(path, stamp, "units", run_id, None, ("layer", "kind")) if name == "by_layer" else None
    return locked(_analysis(name), _index(path, stamp, run_id), layer_kinds, *args)


@page_read
def domain_view(
    p: Page, chosen: Sequence[str], min_weight: float, seed: int = 0, measure: str = DOMAIN_MEASURE
) -> dict:
    """The concept-domain network of the page's run at τ, links weighted by ``measure``: the drawing, ARI/NMI, edges,
    nodes (cached)."""
    d = p.settings.domains
    positions = _on_index(p.path, p.stamp, p.run_id, "domain_layout", d, _mtime(d), seed)  # the same at every τ
    args = (d, _mtime(d), p.tau, tuple(chosen), round(float(min_weight), 4), seed, positions, measure)
    return _on_index(p.path, p.stamp, p.run_id, "domain_view", *args)


@page_read
def shared(p: Page, a: str, b: str) -> pd.DataFrame:
    """The experts ``a`` and ``b`` share at the page's τ, with their APs and unit positions.

    The positions are read once per pair, for the units the two share at the run's AP floor (every τ's shared units
    are among them), so a τ step reads nothing from the store and no pair reads a 12b-sized run's whole unit table."""
    table = _on_index(p.path, p.stamp, p.run_id, "shared", a, b, p.tau)
    floor = _index(p.path, p.stamp, p.run_id).floor
    widest = _on_index(p.path, p.stamp, p.run_id, "shared", a, b, floor)
    return table.merge(units(p, widest["unit"]), on="unit", how="left")


@page_read
def fold_overlap(p: Page, taus: Sequence[float], run_id: str | None = None) -> pd.DataFrame:
    """``core.analysis.stability.fold_overlap`` of a run (default: the page's) on a τ grid (cached)."""
    return _on_index(p.path, p.stamp, run_id or p.run_id, "fold_overlap", tuple(taus))


@page_read
def set_sizes(p: Page, taus: Sequence[float]) -> pd.DataFrame:
    """Expert-set sizes of the page's run on a τ grid (median, quartiles, concepts without experts)."""
    return _on_index(p.path, p.stamp, p.run_id, "set_sizes", tuple(taus))


def _curve(p: Page, name: str) -> pd.DataFrame:
    """An analysis on the fixed curve grid (computed once per run) plus the page's τ (the one part τ reruns)."""
    fixed = _on_index(p.path, p.stamp, p.run_id, name, grid(CURVE_STEP))
    here = _on_index(p.path, p.stamp, p.run_id, name, (p.tau,))
    t = pd.concat([fixed[fixed["tau"].round(2) != p.tau], here], ignore_index=True)
    return t.sort_values("tau", ignore_index=True)


@page_read
def fold_overlap_curve(p: Page) -> pd.DataFrame:
    """Fold overlap of the page's run on the curve grid (0.50, 0.55, …) and at the page's τ."""
    return _curve(p, "fold_overlap")


@page_read
def set_sizes_curve(p: Page) -> pd.DataFrame:
    """Expert-set sizes of the page's run on the curve grid and at the page's τ."""
    return _curve(p, "set_sizes")


@page_read
def by_layer(p: Page, concepts: Sequence[str]) -> pd.DataFrame:
    """Experts of ``concepts`` per (layer, kind) at the page's τ."""
    return _on_index(p.path, p.stamp, p.run_id, "by_layer", p.tau, tuple(concepts))


@page_read
def jaccard_row(p: Page, concept: str) -> pd.DataFrame:
    """``concept``'s Jaccard with every concept's expert set at the page's τ (one row of the matrix)."""
    return _on_index(p.path, p.stamp, p.run_id, "jaccard_row", concept, p.tau)


@page_read
def similarity(p: Page, measure: str) -> pd.DataFrame:
    """Concept × concept similarity by ``measure`` (``measures.concept_measures``) at the page's τ."""
    return _on_index(p.path, p.stamp, p.run_id, "similarity", measure, p.tau)


@page_read
def sets(p: Page) -> dict:
    """``{concept: expert unit ids}`` at the page's τ."""
    return _on_index(p.path, p.stamp, p.run_id, "sets", p.tau)


@st.cache_data(show_spinner=False, max_entries=64)
def _by_size(path: str, stamp: tuple, run_ids: tuple, tau: float) -> pd.DataFrame:
    from core.analysis.stability import stability_by_size

    cache = {rid: _index(path, stamp, rid) for rid in run_ids}
    known = {r.run_id: r for r in runs(path, stamp)}
    return locked(stability_by_size, open_store(path, stamp), run_ids, (tau,), cache, known)


@page_read
def by_size(p: Page) -> pd.DataFrame:
    """Fold overlap at the page's τ of the runs that differ from the chosen one only in set sizes."""
    ids = run_policy.size_variants(p.runs, p.run) if p.run is not None else []
    return _by_size(p.path, p.stamp, tuple(ids), p.tau) if len(ids) > 1 else pd.DataFrame()
