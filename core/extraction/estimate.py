"""What an extraction will cost, before running it (``extract --dry-run``).

The plan (sentences, tokens, units, parts) comes from the same code that runs
the extraction; time comes from a short timed probe on this device: a few of
the run's own sentences through the hooked model, and one concept's AP on
random scores of the run's shape. Nothing is written to the store or beside it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from core.config import RunConfig
from core.model.activations import encode

if TYPE_CHECKING:
    from core.model.loading import LoadedModel
    from core.storage.store import Store

PART_BYTES_PER_UNIT = 8  # int32 unit + float32 AP per stored row, before compression
AP_PROBE_UNITS = 32_768  # units scored in the AP probe; the time is scaled to all units


@dataclass
class Probe:
    """Timings measured on this device for one model."""

    device: str
    n_units: int
    hidden: int
    sentences: int
    tokens: int
    forward_s: float
    ap_s: float  # one concept, all units
    ap_backend: str

    @property
    def tokens_per_s(self) -> float:
        return self.tokens / self.forward_s


@dataclass
class DryRun:
    """The plan of one run and its estimated cost."""

    run_id: str
    todo: int  # (concept, fold) results to compute
    total: int
    on_disk: int  # parts already written, to be ingested rather than computed
    n_tasks: int
    positives: int
    negatives: int  # sentences of the negative pools (each pool run once)
    tokens: int
    probe: Probe
    stored_fraction: float | None  # of units kept by earlier results with as many units

    @property
    def forward_s(self) -> float:
        return self.tokens / self.probe.tokens_per_s

    @property
    def ap_s(self) -> float:
        return self.todo * self.probe.ap_s

    def lines(self, cfg: RunConfig) -> list[str]:
        p = self.probe
        part_max = p.n_units * PART_BYTES_PER_UNIT + 2 * p.hidden * 12  # + the two vectors as JSON
        out = [
            f"dry run of run {self.run_id} (nothing is written)",
            f"  results: {self.todo} of {self.total} (concept, fold) to compute in {self.n_tasks} tasks"
            + (f", {self.on_disk} parts on disk to ingest" if self.on_disk else ""),
            f"  sentences: {self.positives + self.negatives:,} ({self.positives:,} positive + {self.negatives:,} in "
            f"negative pools), {self.tokens:,} tokens (max_length {cfg.extract.max_length})",
            f"  units: {p.n_units:,}; device {p.device}, dtype {cfg.model.dtype}, AP by {p.ap_backend}",
            f"  probe: {p.sentences} sentences ({p.tokens:,} tokens) in {p.forward_s:.2f} s = {p.tokens_per_s:,.0f} "
            f"tokens/s; AP {p.ap_s:.2f} s per concept",
            f"  estimated time: {_duration(self.forward_s + self.ap_s)} ({_duration(self.forward_s)} forward, "
            f"{_duration(self.ap_s)} AP)",
            f"  parts: {self.todo} files, at most {part_max / 2**20:.2f} MB each if every unit were kept "
            f"(APs below {cfg.extract.ap_floor:g} are not)",
        ]
        if self.stored_fraction is not None:
            typical = self.todo * (p.n_units * self.stored_fraction * PART_BYTES_PER_UNIT + 2 * p.hidden * 12)
            out.append(
                f"  earlier results with {p.n_units:,} units kept {self.stored_fraction:.1%} of them: about "
                f"{typical / 2**20:.1f} MB in all"
            )
        return out


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def probe(
    model: LoadedModel, groups, cfg: RunConfig, texts: list[str], n_pos: int, n_neg: int, n_sentences: int = 32
) -> Probe:
    """Time the hooked forward pass on ``texts[:n_sentences]`` and one concept's AP at the run's set sizes."""
    import torch

    from core.experts.ap import NegativePool
    from core.model.units import n_units

    from .extract import pooling_pass

    x = cfg.extract
    sample = list(texts[:n_sentences])
    sync = torch.cuda.synchronize if str(model.device).startswith("cuda") else (lambda: None)
    with pooling_pass(model, groups, x) as acts:
        acts(sample[:2])  # warm up
        sync()
        t = time.perf_counter()
        _, emb = acts(sample)
        sync()
        forward_s = time.perf_counter() - t
    assert emb is not None  # asked for, of a sample that is not empty
    tokens = count_tokens(model.tokenizer, sample, x)
    units = n_units(groups)
    sub = min(units, AP_PROBE_UNITS)
    gen = torch.Generator(device=model.device).manual_seed(0)
    pos = torch.randn((n_pos, sub), generator=gen, device=model.device)
    pool = NegativePool(torch.randn((n_neg + 1, sub), generator=gen, device=model.device))
    pool.average_precision(pos[:2], np.arange(n_neg))  # warm up: compiles numba, sorts the pool (once a fold)
    sync()
    t = time.perf_counter()
    pool.average_precision(pos, np.arange(n_neg))
    sync()
    ap_s = (time.perf_counter() - t) * units / sub
    return Probe(str(model.device), units, emb.shape[1], len(sample), tokens, forward_s, ap_s, pool.backend)


def dry_run(
    store: Store,
    cfg: RunConfig,
    concepts_per_task: int = 8,
    model: LoadedModel | None = None,
    measured: Probe | None = None,
) -> DryRun:
    """Plan ``cfg`` against ``store`` (read only) and estimate its cost; ``measured`` reuses an earlier probe."""
    from core.model.activations import fits
    from core.model.loading import check_context, load_model
    from core.model.units import hook_groups
    from core.storage.parts import read_metas

    from .extract import _texts_to_fit, plan_tasks, prepare, reference_drops

    plan, rid = prepare(store, cfg)
    wanted = {(c, f) for c in cfg.dataset.concepts for f in range(cfg.dataset.folds)}
    on_disk = {(m["concept"], int(m["fold"])) for path in store.pending_parts(rid) for m in read_metas(path)}
    todo = wanted - store.done(rid) - on_disk
    work = plan_tasks(cfg, plan, rid, todo, concepts_per_task)
    positives = [t for u in work for p in u.positives for t in p]
    pools = {(u.fold, u.neg_texts) for u in work}  # a fold's shared pool runs once
    negatives = [t for _, texts in pools for t in texts]
    model = model or load_model(cfg.model)
    check_context(model.config, cfg.extract.max_length, *_texts_to_fit(model, cfg, work))
    if cfg.extract.reference == "selfcond":  # counted after dropping what is longer than max_length
        reference_drops(model.tokenizer, work, cfg.extract.max_length)  # a concept left with nothing: refused
        positives = [t for t, ok in zip(positives, fits(model.tokenizer, positives, cfg.extract.max_length)) if ok]
        negatives = [t for t, ok in zip(negatives, fits(model.tokenizer, negatives, cfg.extract.max_length)) if ok]
    if measured is None:
        groups = hook_groups(model.base, model.config, cfg.model.module_patterns)
        sample = positives[:: max(1, len(positives) // 32)] or negatives
        n_neg = max((len(u.neg_texts) for u in work), default=cfg.dataset.n_neg)
        measured = probe(model, groups, cfg, sample or ["."], cfg.dataset.n_pos, n_neg)
    tokens = count_tokens(model.tokenizer, positives + negatives, cfg.extract)
    return DryRun(
        rid,
        len(todo),
        len(wanted),
        len(on_disk & wanted),
        len(work),
        len(positives),
        len(negatives),
        tokens,
        measured,
        _stored_fraction(store, measured.n_units),
    )


def count_tokens(tokenizer, texts: list[str], x) -> int:
    """Tokens the forward passes run on ``texts``: their own, or ``max_length`` each in the reference mode."""
    if not texts:
        return 0
    if x.reference == "selfcond":  # every sentence padded to max_length (longer ones are dropped)
        return len(texts) * x.max_length
    return sum(len(ids) for ids in encode(tokenizer, texts, x.max_length))


def _stored_fraction(store: Store, units: int) -> float | None:
    """Mean fraction of units kept by the store's results that have ``units`` units (None without any)."""
    rows = store.results()
    rows = rows[rows["n_units"] == units]
    return float((rows["n_stored"] / rows["n_units"]).mean()) if len(rows) else None
