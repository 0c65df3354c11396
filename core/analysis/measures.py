"""Similarity measures: each one once, with everything a consumer needs to compute, name and draw it.

A ``Measure`` scores the covered pairs of a benchmark (``pairs``); a set measure also says how it follows from
shared counts and set sizes (``from_counts``, used for whole concept × concept matrices such as the domain
graph). Alignment, layers, series, the report, the figures and every page read ``MEASURES`` at call time, so adding
a measure is one ``register`` call (and its test): it then appears in the alignment table, the report and the
Alignment page (``default=False``: only where named, as the report's table of every measure and the demo
snapshot name them; ``alignment_methods(every=True)`` lists those too). ``experts`` (Jaccard) is the method the
paper compares the others against.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core.experts.ap_vectors import cosine_rows_sparse, raw_ap_kl, weighted_jaccard_rows
from core.experts.index import ExpertIndex
from core.experts.overlap import jaccard_from_counts, vector_cosines

BASELINE = "experts"  # every paired test is against this measure
DOMAIN_MEASURE = "reciprocal_overlap"  # the domain graph's edge weight unless another is picked


@dataclass(frozen=True)
class Pairs:
    """What a measure may read to score pairs: the run's index, the pairs' words, τ, fold and the vectors."""

    index: ExpertIndex
    words1: list[str]
    words2: list[str]
    tau: float
    fold: int
    vectors: Mapping[str, Mapping[str, np.ndarray] | None] = field(default_factory=dict)


@dataclass(frozen=True)
class Measure:
    """One similarity measure: its key, its names, its look, and how it scores pairs."""

    name: str  # the key in tables, links and snapshots
    label: str  # legend and picker label
    short: str  # in sentences of the report and captions
    colour: str
    dash: str  # Plotly line dash
    linestyle: str  # matplotlib line style
    pairs: Callable[[Pairs], np.ndarray]
    from_counts: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray] | None = None
    alignment: bool = True  # scored against human ratings (alignment table, report, Alignment page)
    default: bool = True  # in every alignment table and series; False: only where asked for by name
    concepts: bool = False  # scores any two concepts of a run from its stored APs alone (domain graph, neighbours)


MEASURES: dict[str, Measure] = {}


def register(measure: Measure) -> Measure:
    """Add a measure to the registry (its name must be new)."""
    if measure.name in MEASURES:
        raise ValueError(f"a measure named {measure.name!r} is already registered")
    MEASURES[measure.name] = measure
    return measure


def alignment_methods(every: bool = False) -> tuple[str, ...]:
    """The measures scored against human ratings, baseline first, in registration order (``every``: also those
    not shown by default)."""
    return tuple(name for name, m in MEASURES.items() if m.alignment and (m.default or every))


def concept_measures() -> tuple[str, ...]:
    """The measures that score any two concepts of a run from its stored APs (``concept_matrix`` computes them)."""
    return tuple(name for name, m in MEASURES.items() if m.concepts)


def concept_matrix(
    index: ExpertIndex, name: str, tau: float = 0.5, fold: int = 0, concepts: Iterable[str] | None = None
) -> pd.DataFrame:
    """Concept × concept similarity by measure ``name`` (one of ``concept_measures``) at τ, diagonal 1.

    A set measure follows from the shared counts (``from_counts``); any other scores the upper triangle's pairs.
    """
    m = MEASURES[name]
    if not m.concepts:
        raise ValueError(f"{m.label} does not score concept pairs from stored APs")
    inter = index.overlap(tau, fold, concepts)
    names, n = list(inter.index), len(inter)
    if m.from_counts is not None:
        sizes = np.diag(inter.to_numpy())
        values = m.from_counts(inter.to_numpy(), sizes[:, None], sizes[None, :])
    else:
        i, j = np.triu_indices(n, k=1)
        values = np.zeros((n, n))
        values[i, j] = m.pairs(Pairs(index, [names[k] for k in i], [names[k] for k in j], tau, fold))
        values = values + values.T
    values = np.asarray(values, np.float64).copy()
    np.fill_diagonal(values, 1.0)
    return pd.DataFrame(values, index=names, columns=names)


def reciprocal_from_counts(inter: np.ndarray, size_a: np.ndarray, size_b: np.ndarray) -> np.ndarray:
    """|A∩B| / sqrt(|A|·|B|) from counts (0 where a set is empty): does not shrink when one set is much larger."""
    den = np.sqrt(np.asarray(size_a, np.float64) * np.asarray(size_b, np.float64))
    inter = np.asarray(inter, np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, inter / np.where(den > 0, den, 1.0), 0.0)


def set_pairs(from_counts) -> Callable[[Pairs], np.ndarray]:
    """A pair scorer for a set measure given by its counts form (shared experts, the two set sizes) at the pairs' τ."""

    def score(p: Pairs) -> np.ndarray:
        if not p.words1:
            return np.zeros(0)
        po = p.index.pair_overlap(p.words1, p.words2, p.fold)
        sizes = p.index.sizes(p.tau, p.fold)
        return from_counts(po.shared(p.tau), sizes[po.rows_a], sizes[po.rows_b])

    return score


def _cosine_pairs(kind: str) -> Callable[[Pairs], np.ndarray]:
    def score(p: Pairs) -> np.ndarray:
        vectors = p.vectors.get(kind)
        if vectors is not None and vectors is p.index.vectors.get(kind):
            return p.index.pair_cosines(kind, p.words1, p.words2)  # cached with the index
        return vector_cosines(vectors, p.words1, p.words2)

    return score


def _clipped_pairs(measure) -> Callable[[Pairs], np.ndarray]:
    """Pairs scored on ``(AP − floor)₊`` of the stored APs (no τ): exact from what the store keeps; computed once
    per run and pairs (a τ slider or a summary over every τ reuses them)."""

    def score(p: Pairs) -> np.ndarray:
        if not p.words1:
            return np.zeros(0)
        rows_a, rows_b = p.index.position(p.words1), p.index.position(p.words2)
        key = (measure.__name__, p.fold, rows_a.tobytes(), rows_b.tobytes())
        return p.index.pair_scores(key, lambda: measure(p.index.clipped_matrix(p.fold), rows_a, rows_b))

    return score


def _raw_ap_pairs(measure) -> Callable[[Pairs], np.ndarray]:
    """Pairs scored on full AP vectors (``vectors["ap"]``, stored by ``--ap-floor 0`` runs); NaN without them."""

    def score(p: Pairs) -> np.ndarray:
        vectors = p.vectors.get("ap") or p.index.vectors.get("ap")
        return measure(vectors, p.words1, p.words2)

    return score


register(
    Measure(
        "experts",
        "Expert neurons (Jaccard)",
        "experts",
        "#0072B2",
        "solid",
        "-",
        set_pairs(jaccard_from_counts),
        jaccard_from_counts,
        concepts=True,
    )
)
register(
    Measure("word_embedding", "Word embedding (cosine)", "word embedding", "#E69F00", "dot", ":", _cosine_pairs("word"))
)
register(
    Measure(
        "sentence_embedding",
        "Sentence embedding (cosine)",
        "sentence embedding",
        "#009E73",
        "dash",
        "--",
        _cosine_pairs("sentence"),
    )
)
register(
    Measure(
        "reciprocal_overlap",
        "Expert neurons (reciprocal overlap)",
        "reciprocal overlap",
        "#CC79A7",
        "dashdot",
        "-.",
        set_pairs(reciprocal_from_counts),
        reciprocal_from_counts,
        alignment=False,  # the domain graph's edge weight; not one of the paper's alignment methods
        concepts=True,
    )
)
# Threshold-free measures of the AP vectors (``core.experts.ap_vectors``): asked for by name (the report's table
# of measures, the demo snapshot), not added to every alignment table and series.
register(
    Measure(
        "weighted_jaccard",
        "Expert neurons (weighted Jaccard of APs)",
        "weighted Jaccard",
        "#56B4E9",
        "longdash",
        "-",
        _clipped_pairs(weighted_jaccard_rows),
        default=False,
        concepts=True,
    )
)
register(
    Measure(
        "clipped_ap_cosine",
        "Expert neurons (cosine of clipped APs)",
        "cosine of clipped APs",
        "#D55E00",
        "longdashdot",
        "-.",
        _clipped_pairs(cosine_rows_sparse),
        default=False,
        concepts=True,
    )
)
register(
    Measure(
        "raw_ap_cosine",
        "All units (cosine of raw APs)",
        "cosine of raw APs",
        "#999999",
        "dot",
        ":",
        _raw_ap_pairs(vector_cosines),
        default=False,
    )
)
register(
    Measure(
        "raw_ap_kl",
        "All units (−symmetric KL of APs)",
        "−KL of raw APs",
        "#000000",
        "dash",
        "--",
        _raw_ap_pairs(raw_ap_kl),
        default=False,
    )
)
