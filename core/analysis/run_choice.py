"""Runs: the typed ``Run`` record, and the one policy for which run answers which question.

A store holds several runs per model and revision (concept sets, set sizes,
folds). The dashboard's pages and the results report both ask "which run do I
show?"; both answer it here, from the runs' configurations (read through
``RunConfig.from_json``) and from what each run has stored.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

import pandas as pd

from core.storage.records import Run, RunContents, runs_frame

from .series import series_models


def picker_order(runs: Iterable[Run]) -> list[Run]:
    """Runs in picker order: model, training step (none last), revision label."""
    return sorted(runs, key=lambda r: (r.model, math.inf if r.step is None else r.step, r.rev))


def best(candidates: Sequence[Run], prefer: Mapping[str, float] | None = None) -> Run:
    """The candidate with the highest ``prefer`` score, then the most results, then the first listed."""
    prefer = prefer or {}
    return min(enumerate(candidates), key=lambda ir: (-prefer.get(ir[1].run_id, 0.0), -ir[1].n_results, ir[0]))[1]


def default_run(runs: Sequence[Run], prefer: Mapping[str, float] | None = None) -> Run | None:
    """The run shown when a link names none: the latest revision of the model whose latest revision has the most
    results (a checkpoint series counts its last checkpoint, not the sum over its checkpoints).

    Several runs of one model and revision (different concept sets or set sizes) are told apart by
    ``prefer`` (``{run_id: score}``, higher first; a page's need, e.g. benchmark coverage), then by results.
    """
    t = picker_order(runs)
    if not t:
        return None
    latest = {r.model: r.rev for r in t}  # picker order: a model's last run is its latest revision
    totals: dict[str, int] = {}
    for r in t:
        if r.rev == latest[r.model]:
            totals[r.model] = totals.get(r.model, 0) + r.n_results
    model = max(totals, key=lambda m: totals[m])  # the first model listed wins a tie
    return best([r for r in t if r.model == model and r.rev == latest[model]], prefer)


def runs_of(runs: Iterable[Run], model: str, rev: str) -> list[Run]:
    """The runs of one model and revision, in picker order."""
    return [r for r in picker_order(runs) if r.model == model and r.rev == rev]


def choose_run(
    runs: Sequence[Run],
    model: str | None,
    rev: str | None,
    run: str | None = None,
    prefer: Mapping[str, float] | None = None,
) -> tuple[Run | None, list[str]]:
    """The run a link asks for (model, revision and, when they have several runs, run id), or a default.

    Returns the run and notices saying what from the link was replaced.
    """
    t = picker_order(runs)
    notices: list[str] = []
    if not t:
        return None, notices
    fallback = default_run(t, prefer)
    assert fallback is not None  # t is not empty
    if model in (None, ""):
        model = fallback.model
    elif model not in {r.model for r in t}:
        notices.append(f"Model {str(model)[:60]!r} from the link is not in this store; showing {fallback.model}.")
        model = fallback.model
    mine = [r for r in t if r.model == model]
    if rev not in (None, "") and not any(r.rev == rev for r in mine):
        notices.append(f"Revision {str(rev)[:40]!r} of {model} is not in this store; showing {mine[-1].rev}.")
        rev = None
    if rev in (None, ""):
        rev = mine[-1].rev
    same = [r for r in mine if r.rev == rev]
    if run not in (None, ""):
        hit = [r for r in same if r.run_id == run]
        if hit:
            return hit[0], notices
        notices.append(f"Run {str(run)[:20]!r} of {model} @ {rev} is not in this store; showing another run.")
    return best(same, prefer), notices


def with_results(runs: Iterable[Run]) -> list[Run]:
    return [r for r in runs if r.n_results > 0]


def alignment_runs(
    runs: Iterable[Run], model: str | None = None, prefer: Mapping[str, float] | None = None
) -> list[str]:
    """Run ids with results, of one model or of all, in picker order: one per (model, revision).

    Where a model and revision have several runs, the one ``prefer`` scores highest (e.g. most benchmark
    pairs covered) stands for it, so each checkpoint is one point of the training curve.
    """
    groups: dict[tuple[str, str], list[Run]] = {}
    for r in picker_order(with_results(runs)):
        if model is None or r.model == model:
            groups.setdefault((r.model, r.rev), []).append(r)
    return [best(g, prefer).run_id for g in groups.values()]


def latest_per_model(runs: Iterable[Run]) -> list[str]:
    """One run per model (its last revision with results), for comparisons across model sizes."""
    last: dict[str, str] = {}
    for r in picker_order(with_results(runs)):
        last[r.model] = r.run_id
    return list(last.values())


def size_variants(runs: Iterable[Run], run: Run) -> list[str]:
    """Runs that differ from ``run`` only in set sizes: same model, revision and configured concepts,
    several folds, with results; ordered by (n_pos, n_neg). Their fold overlap against set size is the
    rest of the paper's Fig. 1. Empty when ``run`` itself has one fold.
    """
    if run.folds < 2 or not run.concepts:
        return []
    same = [
        (r, s.dataset)
        for r in with_results(runs)
        if r.model == run.model
        and r.rev == run.rev
        and r.folds > 1
        and r.concepts == run.concepts
        and (s := r.settings) is not None  # always, for a run with folds > 1
    ]
    return [r.run_id for r, d in sorted(same, key=lambda rd: (rd[1].n_pos, rd[1].n_neg))]


# -- what a page or the report needs: {run_id: score}, higher first ---------------------------
def pair_coverage(contents: Mapping[str, RunContents], pairs: pd.DataFrame) -> dict[str, float]:
    """Benchmark pairs whose two words both have results, per run: the run to show alignment with."""
    words = list(zip(pairs["word1"], pairs["word2"]))
    return {rid: float(sum(a in c.concepts and b in c.concepts for a, b in words)) for rid, c in contents.items()}


def concept_coverage(contents: Mapping[str, RunContents], concepts: Iterable[str]) -> dict[str, float]:
    """Listed concepts with results, per run: the run to draw a domain list with."""
    wanted = set(concepts)
    return {rid: float(len(wanted & c.concepts)) for rid, c in contents.items()}


def fold_preference(contents: Mapping[str, RunContents]) -> dict[str, float]:
    """Runs with more folds first (then more concepts): the run to measure stability across folds with."""
    return {rid: c.folds + len(c.concepts) / 1e6 for rid, c in contents.items()}


def pick_runs(runs: Sequence[Run], domains: Mapping[str, str], pairs: pd.DataFrame | None) -> dict[str, str | None]:
    """The runs the results report is computed from, by what their configurations hold.

    domains: one fold, configured with exactly the domain list's concepts; stability: several folds;
    benchmark: one fold, over 90% of its concepts are benchmark words. Among candidates, ``best``
    (most results, then the first listed) decides.
    """
    d = with_results(runs)
    single = [r for r in d if r.folds == 1]
    dom = [r for r in single if r.concepts == set(domains)]
    stab = [r for r in d if r.folds > 1]
    bench = []
    if pairs is not None:
        words = set(pairs["word1"]) | set(pairs["word2"])
        bench = [r for r in single if len(words & r.concepts) / max(len(r.concepts), 1) > 0.9]
        series = set(series_models(runs_frame(bench))) if bench else set()
        bench = [r for r in bench if r.model not in series] or bench  # a checkpoint series has its own section
    return {
        "domains": best(dom).run_id if dom else None,
        "stability": best(stab).run_id if stab else None,
        "benchmark": best(bench).run_id if bench else None,
    }


def run_label(run: Run, contents: Mapping[str, RunContents] | None = None) -> str:
    """How a run is named in the run picker: its concepts, set sizes, folds and id."""
    c = (contents or {}).get(run.run_id)
    parts = [f"{run.n_concepts} concepts"]
    if run.settings:
        parts.append(f"{run.settings.dataset.n_pos}+{run.settings.dataset.n_neg} sentences")
    if c and c.folds:
        parts.append(f"{c.folds} fold{'s' if c.folds > 1 else ''}")
    parts.append(run.run_id[:8])
    return " · ".join(parts)


def resolve_run_id(text: str, run_ids: Iterable[str]) -> str:
    """The run id ``text`` names: itself, or the one id it is a prefix of (the short id progress bars print).

    ``ValueError`` when it is the prefix of several; unchanged when of none (the command then says no such run).
    """
    ids = list(run_ids)
    if text in ids:
        return text
    matches = [r for r in ids if r.startswith(text)] if text else []
    if len(matches) > 1:
        shown = ", ".join(matches[:5]) + (" …" if len(matches) > 5 else "")
        raise ValueError(f"run id {text!r} is the start of {len(matches)} runs ({shown}): give more of it")
    return matches[0] if matches else text
