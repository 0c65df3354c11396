"""Extraction: from a run configuration to stored APs, resumably.

The work of a run is split into self-contained ``Task``s (one fold × a few
concepts, carrying the texts they need). ``run_task`` turns a task into
one Parquet part per concept without touching the store, so tasks can be
shipped to other processes or machines; ``extract`` plans the tasks that are
not done yet, executes them here and ingests each part as soon as it is
written. Killing it loses at most the concept in flight.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from core import __version__
from core.config import ExtractConfig, RunConfig, stable_hash
from core.model.checkpoints import parse_step, training_log_of, weights_hash
from core.model.config_names import config_value
from core.storage.manifests import write_manifest
from core.storage.parts import REFUSED_DIR, PartError, is_part_file, part_path, read_metas, write_part
from core.storage.paths import scratch_dir_of
from core.storage.store import Store
from core.text.sampling import Plan, make_plan

from .negative_pools import NegativePools

if TYPE_CHECKING:
    from core.model.loading import LoadedModel


@dataclass(frozen=True)
class Task:
    """One fold × a batch of concepts, with every text it needs."""

    run_id: str
    fold: int
    concepts: tuple[str, ...]
    positives: tuple[tuple[str, ...], ...]
    negatives: tuple[tuple[int, ...], ...]  # indices into neg_texts, per concept
    neg_texts: tuple[str, ...]
    vectors: bool  # also compute the embedding baselines (fold 0)

    @property
    def n_sentences(self) -> int:
        return sum(len(p) for p in self.positives) + len(self.neg_texts)


@dataclass
class ExtractSummary:
    run_id: str
    done_before: int
    computed: int
    ingested: int
    total: int
    parts: list[str] = field(default_factory=list)


def run_id(cfg: RunConfig, plan: Plan) -> str:
    """Identity of a run: its configuration and the sentence sets it drew."""
    return stable_hash([cfg.config_id, plan.fingerprint()])


def model_family(model: str) -> str:
    """``EleutherAI/pythia-70m-deduped`` → ``pythia-deduped``: the name without its size."""
    name = os.path.basename(model.rstrip("/")).lower()
    return re.sub(r"-?\d+(\.\d+)?[mbk]\b", "", name).strip("-") or name


def plan_tasks(
    cfg: RunConfig, plan: Plan, rid: str, todo: set[tuple[str, int]], concepts_per_task: int = 8
) -> list[Task]:
    """The tasks covering ``todo`` (concept, fold) pairs, fold by fold."""
    tasks = []
    for fold in range(cfg.dataset.folds):
        concepts = [c for c in cfg.dataset.concepts if (c, fold) in todo]
        if not concepts:
            continue
        if cfg.dataset.negatives == "shared":  # one pool per fold, identical in every task
            pool = _ordered_union(plan.negatives[(c, fold)] for c in cfg.dataset.concepts)
        for i in range(0, len(concepts), concepts_per_task):
            batch = concepts[i : i + concepts_per_task]
            if cfg.dataset.negatives != "shared":
                pool = _ordered_union(plan.negatives[(c, fold)] for c in batch)
            where = {sid: j for j, sid in enumerate(pool)}
            tasks.append(
                Task(
                    run_id=rid,
                    fold=fold,
                    concepts=tuple(batch),
                    positives=tuple(tuple(plan.texts[s] for s in plan.positives[(c, fold)].tolist()) for c in batch),
                    negatives=tuple(tuple(where[s] for s in plan.negatives[(c, fold)].tolist()) for c in batch),
                    neg_texts=tuple(plan.texts[s] for s in pool),
                    vectors=fold == 0,
                )
            )
    return tasks


def _ordered_union(arrays) -> list[int]:
    return list(dict.fromkeys(s for a in arrays for s in a.tolist()))


@contextmanager
def pooling_pass(model: LoadedModel, groups, x: ExtractConfig, progress: Callable[[int], object] | None = None):
    """Hooks ``model``; yields ``acts(texts, embeddings)`` → pooled activations (and sentence embeddings or None).

    Applies ``x``'s pooling, reference mode, batching and truncation; tensors stay on the model's device.
    """
    from core.model.activations import ActivationRecorder, pooled_matrix

    reference = x.reference == "selfcond"
    with ActivationRecorder(model.base, groups, x.pooling, include_padding=reference) as rec:

        def acts(texts, embeddings: bool = True):
            return pooled_matrix(
                rec, model.tokenizer, texts, x.batch_tokens, x.max_length, model.device, progress, reference, embeddings
            )

        yield acts


def run_task(
    task: Task,
    model: LoadedModel,
    groups,
    cfg: RunConfig,
    parts_dir: str,
    scratch_dir: str | None = None,
    progress: Callable[[int], object] | None = None,
    pools: NegativePools | None = None,
) -> Iterator[str]:
    """Compute a task; yield the path of each concept's part as it is written.

    Pooled activations and APs stay on the model's device; only the APs at or
    above the floor (with their unit numbers) and the embedding vectors are
    copied back. ``pools`` keeps a fold's sorted negative pool for the next
    task of the same fold.
    """
    import torch

    from core.model.activations import fits
    from core.model.loading import word_embedding

    x = cfg.extract
    paths = [part_path(parts_dir, task.run_id, c, task.fold) for c in task.concepts]
    written = [is_part_file(p) for p in paths]  # a part is written once: a retried task skips what exists
    if all(written):
        yield from paths
        return
    reference = x.reference == "selfcond"  # fixed-length padding, max over all positions, long sentences dropped
    with pooling_pass(model, groups, x, progress) as acts:
        pools = pools if pools is not None else NegativePools()
        pool = pools.get(task, scratch_dir, lambda: acts(task.neg_texts, False)[0], model.device, progress)
        neg_fits = fits(model.tokenizer, task.neg_texts, x.max_length) if reference else None
        for concept, pos_texts, neg_idx, path, done in zip(
            task.concepts, task.positives, task.negatives, paths, written
        ):
            if done:
                yield path
                continue
            if reference and neg_fits is not None:  # neg_fits is None exactly when not reference
                pos_texts = tuple(t for t, ok in zip(pos_texts, fits(model.tokenizer, pos_texts, x.max_length)) if ok)
                neg_idx = tuple(j for j in neg_idx if neg_fits[j])
                if not pos_texts or not neg_idx:
                    raise ValueError(
                        f"{concept}: every positive or negative sentence is longer than {x.max_length} tokens"
                    )
            pos, emb = acts(pos_texts, task.vectors)
            ap = pool.average_precision(pos, neg_idx)
            del pos
            keep = torch.nonzero(ap >= x.ap_floor).flatten() if x.ap_floor > 0 else torch.arange(len(ap))
            kept_ap = ap[keep.to(ap.device)].cpu().numpy()
            meta = {
                "run_id": task.run_id,
                "config_id": cfg.config_id,  # every setting that changes an AP; checked before ingesting
                "concept": concept,
                "fold": task.fold,
                "n_pos": len(pos_texts),
                "n_neg": len(neg_idx),
                "n_units": int(len(ap)),
                "n_stored": int(len(keep)),
                "ap_floor": x.ap_floor,
                "max_ap": float(ap.max()),
                "mean_ap": float(ap.mean()),
                "vectors": {},
            }
            if task.vectors:
                assert emb is not None  # asked for, of positives that are not empty
                meta["vectors"] = {
                    "sentence": emb.mean(dim=0).cpu().numpy().round(6).tolist(),
                    "word": np.asarray(word_embedding(model, concept)).round(6).tolist(),
                }
            yield write_part(path, meta, keep.cpu().numpy(), kept_ap)


def check_parts(store: Store, rid: str, cfg: RunConfig) -> None:
    """Refuse (one-line ``ValueError``) to resume a run from parts computed under other settings."""
    for path in store.pending_parts(rid):
        try:
            metas = read_metas(path)
        except PartError:
            continue  # unreadable: ingest_parts sets it aside and its concepts are recomputed
        for meta in metas:
            if meta.get("config_id", cfg.config_id) != cfg.config_id:
                raise ValueError(
                    f"{path} was computed under other settings (config {meta['config_id']}) than run {rid} "
                    f"(config {cfg.config_id}); refusing to mix results: move the part away or rerun with its settings"
                )


def prepare(store: Store, cfg: RunConfig) -> tuple[Plan, str]:
    """Draw the sets of a run from the store; return them with the run id."""
    plan = make_plan(cfg.dataset, store.sentences(cfg.dataset.concepts))
    return plan, run_id(cfg, plan)


def extract(
    store: Store,
    cfg: RunConfig,
    concepts_per_task: int = 8,
    show_progress: bool = True,
    scratch_dir: str | None = None,
    max_tasks: int | None = None,
    model: LoadedModel | None = None,
) -> ExtractSummary:
    """Compute and store every (concept, fold) of a run that is not stored yet.

    Re-running the same call resumes: parts already on disk are ingested, stored
    results are skipped, and only the rest is computed.
    """
    import torch
    from tqdm.auto import tqdm

    from core.model.loading import check_context, check_loadable, load_model
    from core.model.units import hook_groups

    if model is None:
        check_loadable(cfg.model)
    plan, rid = prepare(store, cfg)  # may raise (too few sentences): nothing written yet
    check_parts(store, rid, cfg)
    ingested = ingest_parts(store, rid)
    done = store.done(rid)
    wanted = {(c, f) for c in cfg.dataset.concepts for f in range(cfg.dataset.folds)}
    todo = wanted - done
    summary = ExtractSummary(rid, len(done & wanted) - ingested, 0, ingested, len(wanted))
    if not todo and store.unit_table_of(rid) is not None:
        keep_training_log(store, cfg)  # a run rebuilt from its parts alone has no training log yet
        return summary
    # load before registering, so a model that cannot be loaded leaves the store as it was
    model = model or load_model(cfg.model)
    groups = hook_groups(model.base, model.config, cfg.model.module_patterns)
    work = plan_tasks(cfg, plan, rid, todo, concepts_per_task)[:max_tasks]
    check_context(model.config, cfg.extract.max_length, *_texts_to_fit(model, cfg, work))  # in every mode
    if cfg.extract.reference == "selfcond":  # sentences over max_length are dropped: say how many, before registering
        dropped, total = reference_drops(model.tokenizer, work, cfg.extract.max_length)
        if dropped:
            print(
                f"--reference selfcond: {dropped} of {total} sentences are longer than --max-length "
                f"{cfg.extract.max_length} tokens and are left out, as the reference does",
                file=sys.stderr,
            )
    register_run(store, cfg, *describe_run(cfg, rid, model, groups))
    if not todo:
        return summary
    scratch = scratch_dir or scratch_dir_of(store.path)
    total = sum(len(p) for u in work for p in u.positives) + sum(len(u.neg_texts) for u in work)
    torch.manual_seed(0)
    with tqdm(
        total=total,
        unit="sent",
        desc=f"run {rid[:8]}",
        disable=not show_progress,
        file=sys.stderr,
        dynamic_ncols=True,
        smoothing=0.05,
        mininterval=0.5 if sys.stderr.isatty() else 60,
    ) as bar:
        pools = NegativePools()
        for task in work:
            for part in run_task(task, model, groups, cfg, store.parts_dir, scratch, bar.update, pools):
                store.ingest(part)
                summary.computed += 1
                summary.parts.append(part)
    return summary


def _texts_to_fit(model, cfg: RunConfig, work: list[Task]) -> tuple:
    """What ``check_context`` checks against the context: every sentence in the default mode (truncated to
    ``max_length``), nothing more in the reference mode (always padded to ``max_length``)."""
    if cfg.extract.reference == "selfcond":
        return ()
    return model.tokenizer, list(dict.fromkeys(t for u in work for p in (*u.positives, u.neg_texts) for t in p))


def reference_drops(tokenizer, work: list[Task], max_length: int) -> tuple[int, int]:
    """(dropped, total): the sentences of ``work`` longer than ``max_length`` tokens, which the reference mode
    leaves out (a fold's shared pool counted once); ``ValueError`` naming the first concept left with no positive
    or no negative sentence, so that a run that cannot be computed is never registered."""
    from core.model.activations import fits

    dropped = total = 0
    pools = set()
    for task in work:
        neg_ok = fits(tokenizer, task.neg_texts, max_length)
        if (task.fold, task.neg_texts) not in pools:
            pools.add((task.fold, task.neg_texts))
            dropped, total = dropped + int((~neg_ok).sum()), total + len(neg_ok)
        for concept, pos, neg in zip(task.concepts, task.positives, task.negatives):
            pos_ok = fits(tokenizer, pos, max_length)
            dropped, total = dropped + int((~pos_ok).sum()), total + len(pos_ok)
            if not pos_ok.any() or not neg_ok[list(neg)].any():
                which = "positive" if not pos_ok.any() else "negative"
                raise ValueError(
                    f"{concept}: every {which} sentence of fold {task.fold} is longer than --max-length {max_length} "
                    "tokens (--reference selfcond drops them); nothing registered"
                )
    return dropped, total


def ingest_parts(store: Store, rid: str) -> int:
    """Ingest a run's pending parts; a bad one is set aside (named on stderr) so that its concept is recomputed."""
    refused: list[str] = []
    n = store.ingest_pending(rid, refused)
    for reason in refused:
        print(
            f"warning: {reason}; moved to {os.path.join(store.parts_dir, REFUSED_DIR)}, recomputing it", file=sys.stderr
        )
    return n


def register_run(store: Store, cfg: RunConfig, row: dict, table) -> None:
    """Store a run's row and unit table (also beside its parts: parts alone rebuild a store), and the training
    log of a local checkpoint series when it has one."""
    write_manifest(store.parts_dir, row, table)
    store.add_run(row, table)
    keep_training_log(store, cfg)


def keep_training_log(store: Store, cfg: RunConfig) -> None:
    """Store the training log kept beside a local checkpoint series (replacing the model's stored one), if any."""
    log = training_log_of(cfg.model.model)
    if log is not None:
        store.add_training_log(cfg.model.model, log)


def describe_run(cfg: RunConfig, rid: str, model: LoadedModel, groups) -> tuple[dict, object]:
    """The ``runs`` row and unit table of a run, from its loaded model (what ``Store.add_run`` takes)."""
    from core.model.units import unit_table, unit_table_id

    table = unit_table(groups)
    table_id = unit_table_id(table)
    return _run_row(cfg, rid, model, len(table), table_id, weights_hash(model.base)), table


def _run_row(
    cfg: RunConfig,
    rid: str,
    model: LoadedModel | None = None,
    n_units: int | None = None,
    table_id: str | None = None,
    weights: str | None = None,
) -> dict:
    import importlib.metadata as md

    versions = {"expert-neurons": __version__}
    for pkg in ("torch", "transformers", "duckdb", "numpy"):
        try:
            versions[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            pass
    n_layers = config_value(model.config, "n_layers") if model else None
    return {
        "run_id": rid,
        "model": cfg.model.model,
        "revision": cfg.model.revision,
        "step": parse_step(cfg.model.revision),
        "family": model_family(cfg.model.model),
        "n_params": model.n_params if model else None,
        "n_units": n_units,
        "n_layers": n_layers,
        "unit_table": table_id,
        "dataset_hash": cfg.dataset_hash,
        "config": cfg.to_json(),
        "versions": __import__("json").dumps(versions),
        "weights_hash": weights,
    }
