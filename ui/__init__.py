"""The Streamlit layer shared by ``app.py`` and ``pages/``: the page frame, link state and cached data.

Every page starts with ``p = ui.page(...)``, draws what does not depend on τ, and hands the rest to
``ui.tau_section(p, draw)``, which calls ``draw(q)`` with the page at the slider's τ and reruns alone when τ moves;
data comes from ``ui.<data>(p, ...)``: one calling convention, the page object first. ``ui.links`` keeps widget
values in the link, ``ui.widget_states`` checks the widget values the browser sends, ``ui.frame`` draws the frame
(sidebar, run, the place of the τ slider), ``ui.tau_section`` the slider and what depends on τ, ``ui.data`` caches
what pages read from the store, ``ui.alignment_data`` their alignment, and ``ui.analyses`` the analyses of a run at
the page's τ. Nothing in ``core`` imports this.
"""

from .alignment_data import (
    alignment,
    alignment_source,
    benchmarks,
    coverage,
    series,
    snapshot_meta,
    snapshot_note,
    where,
)
from .analyses import (
    by_layer,
    by_size,
    domain_view,
    fold_overlap,
    fold_overlap_curve,
    jaccard_row,
    set_sizes,
    set_sizes_curve,
    sets,
    shared,
    similarity,
)
from .data import (
    benchmark_pairs,
    concept_ap,
    domain_list,
    index,
    overview,
    results,
    same_weights,
    sentences,
    training_log,
    units,
)
from .figures import figure
from .frame import empty_state, fmt, page, require_run
from .links import choice, measure_choice, multi, number
from .network_component import network_frame
from .page_state import PAGES, Page
from .tau_section import tau_section

__all__ = [
    "PAGES",
    "Page",
    "alignment",
    "alignment_source",
    "benchmark_pairs",
    "benchmarks",
    "by_layer",
    "by_size",
    "choice",
    "measure_choice",
    "concept_ap",
    "coverage",
    "domain_list",
    "domain_view",
    "empty_state",
    "figure",
    "fmt",
    "fold_overlap",
    "fold_overlap_curve",
    "network_frame",
    "index",
    "jaccard_row",
    "multi",
    "number",
    "overview",
    "page",
    "require_run",
    "results",
    "same_weights",
    "sentences",
    "series",
    "set_sizes",
    "set_sizes_curve",
    "sets",
    "shared",
    "similarity",
    "tau_section",
    "snapshot_meta",
    "snapshot_note",
    "training_log",
    "units",
    "where",
]
