"""The negative pool of a fold, kept between tasks and cached on disk (``<store>.scratch``) for resumption.

A cache file carries its SHA-256 beside it (``.sha256``): one that fails it, or cannot be read, is named on stderr
and recomputed, so a changed cache never changes a stored AP.
"""

from __future__ import annotations

import hashlib
import os
import sys
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from core.experts.ap import NegativePool


class NegativePools:
    """The last negative pool computed in this process, sorted and on its device, for the next task.

    A fold's pool is shared by all its tasks: here it is kept (one at a
    time, so memory stays bounded) and reused. Activations on the CPU are also
    saved to ``scratch_dir`` as ``.npy``, so a resumed run does not run the pool
    again (minutes on a CPU); on an accelerator the pool is recomputed instead
    (seconds there, while a large model's pool is gigabytes of disk).
    """

    def __init__(self) -> None:
        self._key: tuple | None = None
        self._pool = None

    def get(self, task, scratch_dir: str | None, compute, device, progress) -> NegativePool:
        import torch

        from core.experts.ap import NegativePool

        digest = hashlib.sha1("\n".join(task.neg_texts).encode()).hexdigest()[:16]
        key = (task.run_id, task.fold, digest)
        if key == self._key and self._pool is not None:
            if progress is not None:
                progress(len(task.neg_texts))
            return self._pool
        self._key = self._pool = None  # free the previous pool before computing the next
        path = os.path.join(scratch_dir, task.run_id, f"negatives_f{task.fold}_{digest}.npy") if scratch_dir else None
        cached = _load_scratch(path) if path and os.path.exists(path) else None
        if cached is not None:
            if progress is not None:
                progress(len(task.neg_texts))
            acts = torch.from_numpy(cached).to(device)
        else:
            acts = compute()
            if path and acts.device.type == "cpu":
                _save_scratch(path, acts.numpy())
        pool = NegativePool(acts)
        self._pool, self._key = pool, key
        return pool


def _save_scratch(path: str, acts: np.ndarray) -> None:
    """Cache a pool's activations as ``.npy`` with its SHA-256 beside it (``<path>.sha256``), both atomically."""
    from core.storage.legacy import file_sha256

    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.tmp{os.getpid()}.npy"
    np.save(tmp, acts)
    digest = file_sha256(tmp)
    with open(f"{tmp}.sha256", "w") as f:
        f.write(digest)
    os.replace(tmp, path)
    os.replace(f"{tmp}.sha256", f"{path}.sha256")


def _load_scratch(path: str) -> np.ndarray | None:
    """A cached pool's activations, or None (named on stderr) when the cache fails its checksum or cannot be read:
    the pool is then recomputed, never trusted."""
    from core.errors import first_line
    from core.storage.legacy import file_sha256

    try:
        with open(f"{path}.sha256") as f:
            expected = f.read().strip()
        if file_sha256(path) != expected:
            raise ValueError("it fails its checksum")
        return np.load(path)
    except Exception as e:  # a missing checksum, a truncated or changed file: whatever it is, recompute
        print(f"warning: scratch file {path} not used ({first_line(e, 160)}); recomputing it", file=sys.stderr)
        return None
