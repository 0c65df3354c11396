"""Checkpoints audited before download: which Hub revisions hold the same weight files, and which mix revisions.

Published checkpoint series are not always what their branch names say: pythia-2.8b serves final-era weights on
most of its branches (EleutherAI/pythia#205), two pythia-12b steps hold the final model's first shard (#206), and
step0 equals step1 for every size (#83). Hashing the loaded weights (``checkpoints.weights_hash``) finds this only
after terabytes are fetched; the Hub already knows the SHA-256 of every LFS file, so the audit reads that metadata
alone (``HfApi.list_repo_refs`` and ``HfApi.list_repo_tree`` per branch) and compares revisions by their weight files.

``RecordedHub`` replays metadata written by ``record`` with the same method signatures as ``HfApi``, so an audit can
be kept, shared and rerun offline (and the tests run on recorded responses).
"""

from __future__ import annotations

import glob
import json
import os
from dataclasses import dataclass, field

from core.errors import first_line
from core.model.checkpoints import STEP, _by_step, parse_step

WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".gguf", ".h5", ".msgpack")


@dataclass(frozen=True)
class RevisionFiles:
    """One branch of a Hub repository: its commit and the SHA-256 of each weight file (path → sha256)."""

    revision: str
    commit: str
    files: dict[str, str]
    sizes: dict[str, int] = field(default_factory=dict)

    @property
    def fingerprint(self) -> tuple[tuple[str, str], ...]:
        """What two revisions must share to hold the same weights: every weight file's path and hash."""
        return tuple(sorted(self.files.items()))

    @property
    def n_bytes(self) -> int:
        return sum(self.sizes.values())


@dataclass(frozen=True)
class AuditRow:
    """The audit of one revision: the first other revision with the same weight files, and partial overlaps."""

    revision: str
    commit: str
    n_files: int
    n_bytes: int
    same_as: str | None  # the first revision (training order) with the same weight files, if another
    group: list[str]  # the revisions holding these weight files, this one included, in training order
    mixed_with: dict[str, int]  # owner → files of it, when this revision's files have several owners (see audit)

    @property
    def n_same(self) -> int:
        return len(self.group)

    @property
    def later_same(self) -> str | None:
        """The latest step<N> after this one with the same weight files: its weights are not of its own step."""
        step = parse_step(self.revision)
        later = [g for g in self.group if step is not None and (parse_step(g) or -1) > step]
        return later[-1] if later else None

    @property
    def mixed(self) -> bool:
        """Some of this revision's weight files belong to another revision and others do not."""
        return bool(self.mixed_with)


def is_weight_file(path: str) -> bool:
    return path.lower().endswith(WEIGHT_SUFFIXES)


def hub_api(record: str | None = None):
    """The Hub's API, or a ``RecordedHub`` replaying ``record`` (files written by ``checkpoints audit --record``)."""
    if record:
        return RecordedHub(record)
    from huggingface_hub import HfApi

    return HfApi()


def branches_of(model: str, api) -> list[tuple[str, str]]:
    """(branch, commit) of every branch: ``step<N>`` ones in training order, then the others (``main``)."""
    refs = api.list_repo_refs(model)
    commits = {b.name: b.target_commit for b in refs.branches}
    return [(name, commits[name]) for name in _by_step(list(commits))]


def revision_files(model: str, revisions: list[str] | None = None, api=None) -> list[RevisionFiles]:
    """The weight files of ``revisions`` (default: every branch), from the Hub's metadata; nothing is downloaded.

    Branches on one commit are listed once. A revision that is not a branch is an error naming what the model has.
    """
    api = api or hub_api()
    try:
        branches = branches_of(model, api)
    except Exception as e:  # offline, unknown repository, gated: one line
        raise ValueError(f"cannot audit the checkpoints of {model!r}: {first_line(e)}") from None
    commits = dict(branches)
    wanted = [b for b, _ in branches] if revisions is None else list(dict.fromkeys(revisions))
    missing = [r for r in wanted if r not in commits]
    if missing:
        have = ", ".join(b for b, _ in branches[:8])
        raise ValueError(f"revision(s) {', '.join(missing)} are not branches of {model!r} (it has {have} …)")
    by_commit: dict[str, tuple[dict[str, str], dict[str, int]]] = {}
    out = []
    for revision in wanted:
        commit = commits[revision]
        if commit not in by_commit:
            files, sizes = {}, {}
            for entry in api.list_repo_tree(model, revision=commit, recursive=True):
                lfs = getattr(entry, "lfs", None)
                if lfs is not None and is_weight_file(entry.path):
                    files[entry.path], sizes[entry.path] = lfs.sha256, lfs.size
            by_commit[commit] = (files, sizes)
        files, sizes = by_commit[commit]
        out.append(RevisionFiles(revision, commit, files, sizes))
    return out


def audit(revisions: list[RevisionFiles]) -> list[AuditRow]:
    """Each revision against the others: identical weight files (``same_as``) and files of several owners (mixed).

    A file's owner is the latest ``step<N>`` holding it: published series leak later weights back into earlier
    branches, never the reverse. A revision whose files have more than one owner mixes checkpoints. Revisions with
    no weight files are never called identical (there is nothing to compare). ``revisions`` are in training order.
    """
    groups: dict[tuple, list[str]] = {}
    for r in revisions:
        if r.files:
            groups.setdefault(r.fingerprint, []).append(r.revision)
    order = [r.revision for r in revisions]
    files_of = {r.revision: r.files for r in revisions}
    owner: dict[str, str] = {}  # sha256 → its owner: the latest step<N> holding it (else the first other branch)
    for name in order:
        for sha in set(files_of[name].values()):
            if STEP.fullmatch(name) or sha not in owner:
                owner[sha] = name
    rows = []
    for r in revisions:
        group = groups.get(r.fingerprint, [r.revision]) if r.files else [r.revision]
        same_as = None if group[0] == r.revision else group[0]
        owners: dict[str, int] = {}
        for sha in r.files.values():
            owners[owner[sha]] = owners.get(owner[sha], 0) + 1
        mixed = {o: n for o, n in owners.items() if o != r.revision} if len(owners) > 1 else {}
        rows.append(AuditRow(r.revision, r.commit, len(r.files), r.n_bytes, same_as, group, mixed))
    return rows


def audit_frame(rows: list[AuditRow]):
    """The audit as a table: one row per revision (what ``checkpoints audit`` prints and writes as CSV)."""
    import pandas as pd

    return pd.DataFrame(
        {
            "revision": [r.revision for r in rows],
            "commit": [r.commit[:10] for r in rows],
            "weight_files": [r.n_files for r in rows],
            "gb": [round(r.n_bytes / 1e9, 2) for r in rows],
            "same_weights_as": [r.same_as or "" for r in rows],
            "n_same": [r.n_same for r in rows],
            "mixes_files_of": [_mixes(r) for r in rows],
        }
    )


def _mixes(row: AuditRow, most: int = 3) -> str:
    items = [f"{o}({n}/{row.n_files})" for o, n in row.mixed_with.items()]
    return " ".join(items[:most]) + (f" +{len(items) - most} more" if len(items) > most else "")


def summary_lines(model: str, rows: list[AuditRow]) -> list[str]:
    """What the audit found, in a few lines: duplicated revisions, mixed ones, the download they would waste."""
    same = [r for r in rows if r.same_as]
    mixed = [r for r in rows if r.mixed]
    steps = [r for r in rows if STEP.fullmatch(r.revision)]
    lines = [f"{model}: {len(rows)} branches audited ({len(steps)} step<N>) from the Hub's metadata"]
    lines.append(
        f"{len(same)} revision(s) hold the same weight files as an earlier one"
        + (f" ({sum(r.n_bytes for r in same) / 1e9:.1f} GB not worth fetching)" if same else "")
    )
    later = [r for r in rows if r.later_same]
    if later:
        names = ", ".join(f"{r.revision} (= {r.later_same})" for r in later[:6]) + (" …" if len(later) > 6 else "")
        lines.append(f"{len(later)} revision(s) hold the weights of a later checkpoint: {names}")
    if mixed:
        names = ", ".join(r.revision for r in mixed[:10]) + (" …" if len(mixed) > 10 else "")
        lines.append(f"{len(mixed)} revision(s) mix weight files of other revisions: {names}")
    return lines


@dataclass
class Plan:
    """The revisions of one model to run after the audit, and those left out as identical to a planned one."""

    keep: list[str]
    skipped: dict[str, str]  # revision → the planned revision it equals
    marked: dict[str, str]  # kept anyway (``--keep-duplicates``): revision → the planned revision it equals
    mixed: dict[str, dict[str, int]]  # planned revision → owners of some of its weight files (see ``audit``)
    later: dict[str, str]  # planned revision → the later step<N> whose weight files it holds


def plan_revisions(files: list[RevisionFiles], wanted: list[str], keep_duplicates: bool = False) -> Plan:
    """``wanted`` in order, less each revision whose weight files equal those of one planned before it.

    ``files`` covers at least ``wanted`` (more revisions, e.g. ``main``, only widen the mixed check).
    """
    rows = {r.revision: r for r in audit(files)}
    by_name = {f.revision: f for f in files}
    plan = Plan([], {}, {}, {}, {})
    planned: dict[tuple, str] = {}
    for revision in wanted:
        f = by_name[revision]
        first = planned.get(f.fingerprint) if f.files else None
        if first is not None and not keep_duplicates:
            plan.skipped[revision] = first
            continue
        if first is not None:
            plan.marked[revision] = first
        else:
            planned[f.fingerprint] = revision
        plan.keep.append(revision)
        if rows[revision].mixed:
            plan.mixed[revision] = rows[revision].mixed_with
        later = rows[revision].later_same
        if later and first is None:
            plan.later[revision] = later
    return plan


def record(model: str, path: str, api=None) -> int:
    """Write the Hub's metadata of ``model`` (refs and each branch's file tree) to ``path`` as JSON; branches kept.

    The file holds the raw response shapes of the Hub's API, so ``RecordedHub`` replays it through the same
    ``huggingface_hub`` types.
    """
    api = api or hub_api()
    refs = api.list_repo_refs(model)
    raw_refs = {
        kind: [{"name": b.name, "ref": b.ref, "targetCommit": b.target_commit} for b in getattr(refs, kind) or []]
        for kind in ("branches", "converts", "tags")
    }
    trees = {}
    for b in refs.branches:
        if b.target_commit not in trees:
            tree = api.list_repo_tree(model, revision=b.target_commit, recursive=True)
            trees[b.target_commit] = [_raw_entry(e) for e in tree]
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as fh:
        json.dump({"model": model, "refs": raw_refs, "trees": trees}, fh)
    return len(refs.branches)


def _raw_entry(e) -> dict:
    if not hasattr(e, "size"):  # a folder
        return {"type": "directory", "oid": e.tree_id, "path": e.path}
    out = {"type": "file", "oid": e.blob_id, "size": e.size, "path": e.path}
    if e.lfs is not None:
        out["lfs"] = {"oid": e.lfs.sha256, "size": e.lfs.size, "pointerSize": e.lfs.pointer_size}
    return out


class RecordedHub:
    """``HfApi``'s ``list_repo_refs`` and ``list_repo_tree``, answered from recordings (same signatures and types).

    ``paths``: comma-separated files written by ``record``, or folders of them; one recording per model.
    """

    def __init__(self, paths: str):
        self.models: dict[str, dict] = {}
        files = []
        for p in (p.strip() for p in paths.split(",") if p.strip()):
            files += sorted(glob.glob(os.path.join(p, "*.json"))) if os.path.isdir(p) else [p]
        for path in files:
            try:
                with open(path) as fh:
                    data = json.load(fh)
                self.models[data["model"]] = {"refs": data["refs"], "trees": data["trees"]}
            except (OSError, ValueError, KeyError, TypeError) as e:
                raise ValueError(f"unreadable Hub recording {path!r}: {first_line(e)}") from None
        if not self.models:
            raise ValueError(f"no Hub recordings in {paths!r}")
        self.paths = paths

    def _of(self, repo_id: str) -> dict:
        if repo_id not in self.models:
            raise ValueError(f"no recording of {repo_id!r} in {self.paths!r} (it has {', '.join(self.models)})")
        return self.models[repo_id]

    def list_repo_refs(self, repo_id, *, repo_type=None, include_pull_requests=False, token=None):
        from huggingface_hub.hf_api import GitRefInfo, GitRefs

        raw = self._of(repo_id)["refs"]

        def refs(kind):
            return [GitRefInfo(name=r["name"], ref=r["ref"], target_commit=r["targetCommit"]) for r in raw[kind]]

        return GitRefs(branches=refs("branches"), converts=refs("converts"), tags=refs("tags"))

    def list_repo_tree(
        self, repo_id, path_in_repo=None, *, recursive=False, expand=False, revision=None, repo_type=None, token=None
    ):
        from huggingface_hub.hf_api import RepoFile, RepoFolder

        data = self._of(repo_id)
        commit = {r["name"]: r["targetCommit"] for r in data["refs"]["branches"]}.get(revision, revision)
        if commit not in data["trees"]:
            raise ValueError(f"revision {revision!r} of {repo_id!r} is not in the recordings {self.paths!r}")
        for e in data["trees"][commit]:
            entry = dict(e)
            kind = entry.pop("type")
            yield RepoFile(**entry) if kind == "file" else RepoFolder(**entry)
