"""Training checkpoints: which revisions a model has, and whether two of them hold the same weights.

A model's checkpoints are its revisions: the ``step<N>`` branches of a Hub repository (as Pythia publishes them) or
the ``step<N>`` sub-folders of a local model folder. Sweeping them runs one run per revision with the same words,
sentences and seeded sets, so the runs differ only in the weights. Published series have had byte-identical
consecutive checkpoints (EleutherAI/pythia#195: steps 0-6300 of pythia-2.8b), so every run stores a hash of the
weights it used and identical neighbours are flagged.
"""

from __future__ import annotations

import hashlib
import os
import re

from core.config import check_revision
from core.errors import first_line

STEP = re.compile(r"step(\d+)")
TRAIN_LOG = "train_log.csv"  # written beside the step folders by scripts/train_checkpoints.py


def parse_step(revision: str | None) -> int | None:
    """Training step of a checkpoint revision (``step1000`` → 1000), else None."""
    m = STEP.fullmatch(revision or "")
    return int(m.group(1)) if m else None


def _by_step(names: list[str]) -> list[str]:
    """Step revisions in training order (other names after them, in text order)."""
    return sorted(names, key=lambda n: (parse_step(n) is None, parse_step(n) or 0, n))


def list_revisions(model: str, api=None) -> list[str]:
    """Every checkpoint revision of ``model``, in training order.

    A local folder lists its ``step<N>`` sub-folders; a Hub id lists its ``step<N>`` branches (or every branch
    when it has none; ``api``: an ``HfApi``-like object, default the Hub). A model with no revisions is an error
    that names what was looked at.
    """
    if os.path.isdir(model):
        names = [n for n in os.listdir(model) if STEP.fullmatch(n) and os.path.isdir(os.path.join(model, n))]
        if not names:
            raise ValueError(f"no step<N> revision folders in {model!r}")
        return _by_step(names)
    if os.path.exists(model) or model.startswith((".", "/", "~")) or model.count("/") != 1:
        raise ValueError(f"{model!r} has no revisions: give a Hub id (org/name) or a folder of step<N> folders")
    from huggingface_hub import list_repo_refs

    try:
        branches = [b.name for b in (api.list_repo_refs if api else list_repo_refs)(model).branches]
    except Exception as e:  # offline, unknown repository, gated: one line, nothing written
        raise ValueError(f"cannot list the revisions of {model!r}: {first_line(e)}") from None
    steps = [b for b in branches if STEP.fullmatch(b)]
    return _by_step(steps or branches)


def resolve_revisions(model: str, text: str, api=None) -> list[str]:
    """``"all"`` → every revision of ``model``; otherwise the comma-separated revisions, checked and deduplicated.

    Local revisions are checked to exist before anything runs, so a typo fails before the first run is written.
    """
    if text.strip() == "all":
        return list_revisions(model, api)
    revisions = list(dict.fromkeys(r.strip() for r in text.split(",") if r.strip()))
    if not revisions:
        raise ValueError("--revisions is empty: give step1,step2,... or all")
    for r in revisions:
        check_revision(r)
    if os.path.isdir(model):
        missing = [r for r in revisions if not os.path.isdir(os.path.join(model, r))]
        if missing:
            have = ", ".join(list_revisions(model)[:8]) if any(STEP.fullmatch(n) for n in os.listdir(model)) else ""
            more = f" and {len(missing) - 10} more" if len(missing) > 10 else ""
            raise ValueError(
                f"revision(s) {', '.join(missing[:10])}{more} not found in {model!r}"
                + (f" (it has {have} …)" if have else "")
            )
    return revisions


def weights_hash(module) -> str:
    """SHA-256 (16 hex digits) of every parameter and buffer of ``module``: names, dtypes, shapes and bytes.

    Two revisions with the same hash hold byte-identical weights (the hash is of the loaded tensors, so it does
    not depend on how the checkpoint files were serialised).
    """
    import torch

    h = hashlib.sha256()
    for name, tensor in sorted(module.state_dict().items()):
        t = tensor.detach()
        h.update(f"{name}|{t.dtype}|{tuple(t.shape)}|".encode())
        h.update(t.contiguous().view(torch.uint8).flatten().cpu().numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()[:16]


def identical_neighbours(runs) -> dict[str, str]:
    """``{run_id: revision}`` for each run whose weights equal those of the previous checkpoint of its model.

    ``runs`` is a table with ``run_id``, ``model``, ``revision``, ``step`` and ``weights_hash``; runs of the same
    model and data (``dataset_hash``) are compared in step order, so two runs of one revision are not flagged.
    """
    flagged: dict[str, str] = {}
    if runs is None or len(runs) == 0 or "weights_hash" not in runs:
        return flagged
    have = runs[runs["weights_hash"].notna() & runs["step"].notna()]
    keys = ["model", "dataset_hash"] if "dataset_hash" in have else ["model"]
    for _, group in have.groupby(keys, sort=False):
        previous = None
        for row in group.sort_values("step").itertuples():
            if previous is not None and row.weights_hash == previous.weights_hash and row.step != previous.step:
                flagged[row.run_id] = previous.revision
            previous = row
    return flagged


def training_log_of(model: str):
    """The training log kept beside a local model's revision folders (step, tokens, loss, held-out loss), or None."""
    path = os.path.join(model, TRAIN_LOG)
    if not os.path.isfile(path):
        return None
    import pandas as pd

    try:
        log = pd.read_csv(path)
    except (OSError, ValueError) as e:
        raise ValueError(f"unreadable training log {path!r}: {e}") from None
    missing = {"step", "tokens", "loss", "held_out_loss"} - set(log.columns)
    if missing:
        raise ValueError(f"training log {path!r} lacks column(s) {', '.join(sorted(missing))}")
    return log
