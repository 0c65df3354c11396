"""Expertise: the average precision (AP) of every unit at once, and experts at τ.

A unit's pooled activation is a score for "the sentence contains concept c".
Its AP over c's positive and negative sentences is its expertise (Suau et al.).
The reference code calls ``sklearn.metrics.average_precision_score`` once per
unit; here every unit is scored at once, with ties grouped exactly as
scikit-learn groups them, by one of two exact implementations:

- torch (any device): sort each unit's scores, count with ``torch.searchsorted``;
  with a shared negative pool (``NegativePool``) the pool is sorted once per
  fold and stays on the model's device;
- numba (CPU): one compiled sort-and-merge pass per unit, parallel over units.

``ap_backend`` is the one place that picks between them
(``bench/bench_core.py`` measures both against the sklearn loop).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache

import numpy as np
import torch

from core.tau import TAU_DEFAULT, check_tau

CHUNK_BYTES = {"cpu": 2**27, "other": 2**30}  # scratch memory of one chunk of units in the torch path


def ap_backend(device: str | torch.device) -> str:
    """``"numba"`` for activations on the CPU, ``"torch"`` on any other device.

    On the CPU the compiled merge is faster than sort + searchsorted in torch
    (``bench/bench_core.py`` prints both); elsewhere activations stay where they are.
    """
    return "numba" if torch.device(device).type == "cpu" else "torch"


def average_precision(pos, neg, chunk: int | None = None) -> np.ndarray:
    """AP of each unit, given its scores on positive and negative sentences.

    Parameters
    ----------
    pos : array or tensor of shape (n_pos, n_units), scores of the positive sentences.
    neg : array or tensor of shape (n_neg, n_units), scores of the negative sentences.
    chunk : units per block (default: by memory).

    Returns
    -------
    ap : float64 array of shape (n_units,), equal to
        ``average_precision_score(y, scores[:, u])`` for every unit ``u``.

    Notes
    -----
    With ties grouped by threshold, AP is the mean over positives ``i`` of the
    precision at threshold ``s_i``: ``TP(>= s_i) / (TP(>= s_i) + FP(>= s_i))``.
    Tensors on an accelerator are scored there (``ap_backend``).
    """
    _check_shapes(pos, neg)
    device = pos.device if isinstance(pos, torch.Tensor) else "cpu"
    if ap_backend(device) == "torch":
        return ap_torch(_tensor(pos, device), _tensor(neg, device), chunk).cpu().numpy()
    return ap_numba(pos, neg, chunk or 4096)


def _check_shapes(pos, neg) -> None:
    if len(pos.shape) != 2 or len(neg.shape) != 2 or pos.shape[1] != neg.shape[1]:
        raise ValueError("pos and neg must be 2-D with the same number of units")
    if pos.shape[0] == 0:
        raise ValueError("AP needs at least one positive")


def _tensor(x, device) -> torch.Tensor:
    return x.to(device) if isinstance(x, torch.Tensor) else torch.as_tensor(np.asarray(x), device=device)


def _float_dtype(*xs: torch.Tensor) -> torch.dtype:
    dtype = xs[0].dtype
    for x in xs[1:]:
        dtype = torch.promote_types(dtype, x.dtype)
    return dtype if dtype.is_floating_point and dtype.itemsize >= 4 else torch.float32


def _chunk_units(n_rows: int, device: torch.device, chunk: int | None) -> int:
    """Units per block so that one block's scratch (about 40 bytes per score) fits ``CHUNK_BYTES``."""
    if chunk:
        return chunk
    budget = CHUNK_BYTES["cpu" if device.type == "cpu" else "other"]
    return max(256, budget // (40 * max(n_rows, 1)))


def _sorted_rows(x: torch.Tensor, cols: slice, dtype: torch.dtype) -> torch.Tensor:
    """Columns ``cols`` of (sentences, units) as (units, sentences), each row sorted ascending."""
    return torch.sort(x[:, cols].to(dtype).T.contiguous(), dim=1).values


def _count_at_or_above(sorted_rows: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
    """Per row, how many of ``sorted_rows`` are >= each of ``values`` (ties count)."""
    return sorted_rows.shape[1] - torch.searchsorted(sorted_rows, values, side="left")


def _ap_from_counts(pos_sorted: torch.Tensor, fp: torch.Tensor) -> torch.Tensor:
    """Mean over positives of TP / (TP + FP) at each positive's own score: tied positives share one threshold."""
    tp = _count_at_or_above(pos_sorted, pos_sorted)
    return (tp / (tp + fp).to(torch.float64)).mean(dim=1)


@torch.inference_mode()
def ap_torch(pos: torch.Tensor, neg: torch.Tensor, chunk: int | None = None) -> torch.Tensor:
    """``average_precision`` in torch on the inputs' device; float64 tensor of shape (n_units,)."""
    _check_shapes(pos, neg)
    dtype = _float_dtype(pos, neg)
    n_units = pos.shape[1]
    out = torch.empty(n_units, dtype=torch.float64, device=pos.device)
    step = _chunk_units(pos.shape[0] + neg.shape[0], pos.device, chunk)
    for start in range(0, n_units, step):
        cols = slice(start, min(start + step, n_units))
        ps = _sorted_rows(pos, cols, dtype)
        out[cols] = _ap_from_counts(ps, _count_at_or_above(_sorted_rows(neg, cols, dtype), ps))
    return out


class NegativePool:
    """The activations of a fold's shared negative pool, ready to score any concept against.

    With the torch backend each unit's pool scores are sorted once, on the
    activations' device; a concept's false-positive counts are then the pool's
    counts (``searchsorted`` against the sorted pool) minus those of the pool
    sentences that are not its negatives (the ones that contain it), so every
    AP is exact. When a concept leaves out more of the pool than it keeps (a
    pool of independent negatives), its negatives are sorted directly instead
    and the pool is never sorted. With the numba backend (CPU) the
    concept's negatives are gathered and merged as in ``average_precision``.
    """

    def __init__(self, acts, chunk: int | None = None, backend: str | None = None):
        self.acts = _tensor(acts, acts.device if isinstance(acts, torch.Tensor) else "cpu")
        self.backend = backend or ap_backend(self.acts.device)
        if self.backend not in ("torch", "numba") or (self.backend == "numba" and self.device.type != "cpu"):
            raise ValueError(f"no AP backend {self.backend!r} for activations on {self.device}")
        self.chunk = chunk
        self._sorted: torch.Tensor | None = None

    @property
    def sorted(self) -> torch.Tensor:
        """(units, pool) scores, each row ascending; sorted on first use (torch backend only)."""
        if self._sorted is None:
            dtype = _float_dtype(self.acts)
            n, units = self.acts.shape
            self._sorted = torch.empty((units, n), dtype=dtype, device=self.device)
            step = _chunk_units(n, self.device, self.chunk)
            with torch.inference_mode():
                for start in range(0, units, step):
                    cols = slice(start, min(start + step, units))
                    self._sorted[cols] = _sorted_rows(self.acts, cols, dtype)
        return self._sorted

    def __len__(self) -> int:
        return self.acts.shape[0]

    @property
    def device(self) -> torch.device:
        return self.acts.device

    def average_precision(self, pos, members) -> torch.Tensor:
        """AP of every unit for positives ``pos`` against the pool rows ``members``.

        Returns a float64 tensor on the pool's device (copy back only what is kept).
        """
        members = torch.as_tensor(np.asarray(members, dtype=np.int64), device=self.device)
        pos = _tensor(pos, self.device)
        _check_shapes(pos, self.acts)
        if self.backend == "numba":
            return torch.from_numpy(ap_numba(pos, self.acts.index_select(0, members), self.chunk or 4096))
        keep = torch.zeros(len(self), dtype=torch.bool, device=self.device)
        keep[members] = True
        if int(keep.sum()) != len(members):
            raise ValueError("negative indices must be distinct")
        excluded = torch.nonzero(~keep).flatten()
        if len(excluded) > len(members):
            return ap_torch(pos, self.acts.index_select(0, members), self.chunk)
        return self._ap_excluding(pos, self.acts.index_select(0, excluded))

    @torch.inference_mode()
    def _ap_excluding(self, pos: torch.Tensor, left_out: torch.Tensor) -> torch.Tensor:
        dtype = _float_dtype(pos, self.acts)
        n_units = pos.shape[1]
        out = torch.empty(n_units, dtype=torch.float64, device=self.device)
        step = _chunk_units(pos.shape[0] + len(self), self.device, self.chunk)
        for start in range(0, n_units, step):
            cols = slice(start, min(start + step, n_units))
            ps = _sorted_rows(pos, cols, dtype)
            fp = _count_at_or_above(self.sorted[cols].to(dtype), ps)
            if len(left_out):
                fp = fp - _count_at_or_above(_sorted_rows(left_out, cols, dtype), ps)
            out[cols] = _ap_from_counts(ps, fp)
        return out


def ap_numba(pos, neg, chunk: int = 4096) -> np.ndarray:
    """``average_precision`` on the CPU: NumPy sorts, then a compiled merge per unit, blocks in parallel threads."""
    _check_shapes(pos, neg)
    p = np.asarray(pos.cpu() if hasattr(pos, "cpu") else pos)
    n = np.asarray(neg.cpu() if hasattr(neg, "cpu") else neg)
    dtype = np.result_type(p.dtype, n.dtype)
    if not np.issubdtype(dtype, np.floating):
        dtype = np.float64
    n_units = p.shape[1]
    out = np.empty(n_units, dtype=np.float64)
    kernel = _ap_kernel()

    def block(start: int) -> None:  # transpose and sort (NumPy), then merge (numba); all release the GIL
        cols = slice(start, min(start + chunk, n_units))
        ps = np.ascontiguousarray(p[:, cols].T, dtype=dtype)
        ns = np.ascontiguousarray(n[:, cols].T, dtype=dtype)
        ps.sort(axis=1)
        ns.sort(axis=1)
        out[cols] = kernel(ps, ns)

    starts = range(0, n_units, chunk)
    with ThreadPoolExecutor(max(1, min(len(starts), os.cpu_count() or 1))) as pool:
        list(pool.map(block, starts))
    return out


@lru_cache(maxsize=1)
def _ap_kernel():
    """The compiled merge of each unit's sorted positive and negative scores (numba, releases the GIL)."""
    from numba import njit

    @njit(nogil=True, cache=True)
    def ap_rows(pos_sorted, neg_sorted):
        n_units, n_pos = pos_sorted.shape
        n_neg = neg_sorted.shape[1]
        out = np.empty(n_units)
        for u in range(n_units):
            ps = pos_sorted[u]
            ns = neg_sorted[u]
            below = 0  # negatives scoring strictly below the current positive score
            total = 0.0
            i = 0
            while i < n_pos:
                v = ps[i]
                k = i
                while k < n_pos and ps[k] == v:  # a run of tied positives shares one threshold
                    k += 1
                while below < n_neg and ns[below] < v:
                    below += 1
                tp = n_pos - i
                total += (k - i) * tp / (tp + n_neg - below)
                i = k
            out[u] = total / n_pos
        return out

    return ap_rows


def experts(ap: np.ndarray, tau: float = TAU_DEFAULT) -> np.ndarray:
    """Indices of the units whose AP is strictly above ``tau`` (the paper's rule)."""
    check_tau(tau)
    return np.flatnonzero(np.asarray(ap) > tau)
