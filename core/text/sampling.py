"""Drawing positive and negative sets, seeded and independent of store order.

Every draw is keyed by (seed, concept, fold) through a stable hash, and works
on sentence ids sorted first, so the same store content gives the same sets on
any machine and in any resumption order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core.config import DatasetConfig, stable_hash

from .words import tokens, word_forms


class NotEnoughSentencesError(ValueError):
    """A concept has fewer sentences than its positive or negative set needs."""


def rng_for(seed: int, *keys: object) -> np.random.Generator:
    """A generator seeded by ``seed`` and any keys (stable across processes)."""
    return np.random.default_rng(int(stable_hash([seed, *keys]), 16))


@dataclass
class Plan:
    """The sentence ids of every (concept, fold) set, and the texts they refer to."""

    positives: dict[tuple[str, int], np.ndarray] = field(default_factory=dict)
    negatives: dict[tuple[str, int], np.ndarray] = field(default_factory=dict)
    texts: dict[int, str] = field(default_factory=dict)

    def fingerprint(self) -> str:
        """Hash of the drawn sets: part of a run's identity."""
        keys = sorted(self.positives)
        return stable_hash([[k, self.positives[k].tolist(), self.negatives[k].tolist()] for k in keys])


def check_counts(counts: dict[str, int], n_pos: int, min_pos: int | None) -> None:
    """Raise a one-line error naming every concept with too few sentences."""
    need = min_pos or n_pos
    short = {c: n for c, n in counts.items() if n < need}
    if short:
        listed = ", ".join(f"{c!r} has {n}" for c, n in sorted(short.items())[:8])
        more = f" (and {len(short) - 8} more)" if len(short) > 8 else ""
        hint = "lower --n-pos or set --min-pos" if min_pos is None else "lower --min-pos or add sentences"
        raise NotEnoughSentencesError(
            f"too few positive sentences ({need} needed): {listed}{more}; add sentences, {hint}, or pass --skip-short"
        )


def make_plan(cfg: DatasetConfig, sentences: pd.DataFrame) -> Plan:
    """Draw the sets of ``cfg`` from a (concept, sid, text) frame of positive sentences."""
    plan = Plan(texts=dict(zip(sentences["sid"].astype("uint64").tolist(), sentences["text"])))
    by_concept = {c: np.sort(g["sid"].to_numpy(dtype=np.uint64)) for c, g in sentences.groupby("concept")}
    counts = {c: len(by_concept.get(c, ())) for c in cfg.concepts}
    check_counts(counts, cfg.n_pos, cfg.min_pos)
    universe = np.unique(np.concatenate([by_concept[c] for c in cfg.concepts]))
    token_cache: dict[int, set[str]] = {}

    def has(sid: int, concept: str) -> bool:
        toks = token_cache.get(sid)
        if toks is None:
            toks = token_cache[sid] = tokens(plan.texts[sid])
        return not word_forms(concept).isdisjoint(toks)

    for fold in range(cfg.folds):
        for c in cfg.concepts:
            pool = by_concept[c]
            k = min(cfg.n_pos, len(pool))
            plan.positives[(c, fold)] = np.sort(
                rng_for(cfg.seed, "positives", c, fold).choice(pool, size=k, replace=False)
            )
        if cfg.negatives == "shared":
            order = rng_for(cfg.seed, "negatives", fold).permutation(universe)
            _fill_negatives(plan, cfg, fold, list(cfg.concepts), order, has)
        else:
            for c in cfg.concepts:
                order = rng_for(cfg.seed, "negatives", c, fold).permutation(universe)
                _fill_negatives(plan, cfg, fold, [c], order, has)
    return plan


def _fill_negatives(plan: Plan, cfg: DatasetConfig, fold: int, concepts: list[str], order: np.ndarray, has) -> None:
    """Give each concept the first ``n_neg`` sentences of ``order`` that do not contain it."""
    chosen: dict[str, list[int]] = {c: [] for c in concepts}
    open_ = set(concepts)
    for sid in order.tolist():
        if not open_:
            break
        for c in list(open_):
            if not has(sid, c):
                chosen[c].append(sid)
                if len(chosen[c]) == cfg.n_neg:
                    open_.discard(c)
    if open_:
        c = sorted(open_)[0]
        raise NotEnoughSentencesError(
            f"only {len(chosen[c])} negative sentences for {c!r} ({cfg.n_neg} asked): add concepts or lower --n-neg"
        )
    for c in concepts:
        plan.negatives[(c, fold)] = np.array(chosen[c], dtype=np.uint64)
