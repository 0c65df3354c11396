"""Pooled unit activations from batched, hooked forward passes.

Forward hooks on the modules of ``core.model.units`` pool each module's output over
the tokens of every sentence as it is produced, so memory is bounded by one
batch: no per-token activation outlives its hook. Sentences are run in
length-bucketed batches so little compute goes to padding (except in the
reference mode, which pads every sentence to the same fixed length). Pooled
activations stay on the model's device (AP is computed there too, see
``core.experts.ap``); pooling is done in float32 whatever the forward pass's
dtype. When no sentence embedding is asked for, the forward pass stops as soon
as the last hooked module has run, so layers above the hooked ones are never
computed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import numpy as np
import torch

from .units import HookGroup, n_units


def length_batches(
    lengths: Sequence[int], batch_tokens: int, max_batch: int = 256, max_padding: float = 0.1
) -> list[np.ndarray]:
    """Split sentence indices into batches of similar length.

    Sentences are sorted by length (stable, so the split is deterministic) and
    cut so that ``longest * count <= batch_tokens`` (at least one sentence per
    batch, at most ``max_batch``). A batch that already holds a quarter of
    ``batch_tokens`` is also cut before a sentence that would make over
    ``max_padding`` of it padding: a few more batches, fewer padded tokens
    run through the model (``bench/bench_core.py`` prints both counts).
    """
    order = np.argsort(np.asarray(lengths), kind="stable")
    batches: list[np.ndarray] = []
    current: list[int] = []
    real = 0  # tokens of the current batch's sentences, without padding
    for i in order:
        n, longest = len(current) + 1, lengths[i]
        if current and (
            n > max_batch
            or longest * n > batch_tokens
            or (real >= batch_tokens // 4 and longest * n - real - longest > max_padding * longest * n)
        ):
            batches.append(np.array(current))
            current, real = [], 0
        current.append(int(i))
        real += lengths[i]
    if current:
        batches.append(np.array(current))
    return batches


Runs = list[tuple[int, int, int]]
# On a CPU a slice per run saves each hooked module a masked copy of its output, however many runs a batch has
# (``bench/bench_core.py`` times the hooked pass both ways). On an accelerator every slice is a kernel launch, so
# past a few runs one masked pass is cheaper; the threshold is an estimate until ``bench_core.py --device cuda``
# times both there.
MAX_RUNS_ACCELERATOR = 8


def length_runs(mask: torch.Tensor, max_runs: int | None = None) -> Runs | None:
    """``(start, stop, length)`` for each run of consecutive rows with the same number of real tokens.

    None unless every row's real tokens come first (right padding, as
    ``iter_pooled`` pads) and there are at most ``max_runs`` runs (None: any
    number). Batches are length-sorted, so each run pools a plain slice of the
    hidden states: no masked copy of (batch, tokens, units).
    """
    lengths = mask.sum(dim=1)
    if not torch.equal(mask, torch.arange(mask.shape[1], device=mask.device)[None] < lengths[:, None]):
        return None
    runs: Runs = []
    start = 0
    values = lengths.tolist()
    for row in range(1, len(values) + 1):
        if row == len(values) or values[row] != values[start]:
            runs.append((start, row, values[start]))
            start = row
    return runs if max_runs is None or len(runs) <= max_runs else None


def pool(
    hidden: torch.Tensor,
    mask: torch.Tensor,
    pooling: str,
    include_padding: bool,
    runs: Runs | None = None,
    out: torch.Tensor | None = None,
) -> torch.Tensor:
    """Pool (batch, tokens, units) over tokens → (batch, units), written into ``out`` when given.

    ``mask`` is (batch, tokens), true on real tokens; it is ignored when
    ``include_padding``. Pooling over padding only makes sense when every
    sentence is padded to the same length (``iter_pooled(fixed_length=True)``,
    the reference mode); otherwise a score depends on the batch. ``runs``
    (from ``length_runs`` on ``mask``) pools each run of equal-length rows over
    its real tokens only; without them the padding is masked, which copies
    ``hidden``. Both give the same numbers; a row with no real token gives
    -inf (max) or 0 (mean).
    """
    if out is None:
        out = torch.empty((hidden.shape[0], hidden.shape[2]), dtype=hidden.dtype, device=hidden.device)
    reduce = torch.amax if pooling == "max" else torch.mean  # copy_ casts, e.g. a bf16 max into a float32 buffer
    if include_padding:
        return out.copy_(reduce(hidden, dim=1))
    if runs is not None:
        for start, stop, length in runs:
            if length == 0:
                out[start:stop] = float("-inf") if pooling == "max" else 0.0
            else:
                out[start:stop].copy_(reduce(hidden[start:stop, :length], dim=1))
        return out
    m = mask.unsqueeze(-1)
    if pooling == "max":
        return out.copy_(hidden.masked_fill(~m, float("-inf")).amax(dim=1))
    return out.copy_((hidden * m).sum(dim=1) / m.sum(dim=1).clamp(min=1))


class _ForwardDone(Exception):
    """Raised by the last hook of a pass to skip the layers above it."""


class ActivationRecorder:
    """Hooks ``groups`` of ``base_model``; ``run`` returns pooled activations.

    Use as a context manager so the hooks are always removed::

        with ActivationRecorder(base, groups) as rec:
            acts, sent_emb = rec.run(input_ids, attention_mask)

    With ``stop_early`` (the default), a pass that needs no sentence embedding
    ends once every hooked module has run (an exception raised by the last hook
    and caught in ``run``), which works for any architecture whatever the order
    its modules run in.
    """

    def __init__(
        self,
        base_model,
        groups: list[HookGroup],
        pooling: str = "max",
        include_padding: bool = False,
        stop_early: bool = True,
    ):
        self.base_model = base_model
        self.groups = groups
        self.pooling = pooling
        self.include_padding = include_padding
        self.stop_early = stop_early
        self.n_units = n_units(groups)
        self._handles: list = []
        self._buffer: torch.Tensor | None = None
        self._mask: torch.Tensor | None = None
        self._runs: Runs | None = None
        self._pending: set[int] = set()
        self._stop = False

    def __enter__(self) -> ActivationRecorder:
        modules = dict(self.base_model.named_modules())
        for i, g in enumerate(self.groups):
            module = modules[g.module]
            if g.hook == "in":
                handle = module.register_forward_pre_hook(self._pre_hook(i))
            else:
                handle = module.register_forward_hook(self._hook(i))
            self._handles.append(handle)
        return self

    def __exit__(self, *exc) -> None:
        for h in self._handles:
            h.remove()
        self._handles.clear()

    def _store(self, i: int, x: torch.Tensor) -> None:
        g = self.groups[i]
        if self.pooling != "max":  # a max is exact in any dtype; a mean is summed in float32
            x = x.float()
        assert self._buffer is not None and self._mask is not None  # hooks run only inside ``run``, which sets both
        out = self._buffer[:, g.offset : g.offset + g.size]
        pool(x, self._mask, self.pooling, self.include_padding, self._runs, out)
        self._pending.discard(i)
        if self._stop and not self._pending:
            raise _ForwardDone

    def _hook(self, i: int):
        def hook(module, args, output):
            self._store(i, output[0] if isinstance(output, tuple) else output)

        return hook

    def _pre_hook(self, i: int):
        def hook(module, args):
            self._store(i, args[0])

        return hook

    @torch.inference_mode()
    def run(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, embeddings: bool = True
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Pooled activations (batch, n_units) and sentence embeddings (batch, hidden), float32 on the device.

        The sentence embedding is the final hidden layer mean-pooled over real
        tokens (the paper's sentence-embedding baseline); without
        ``embeddings`` it is None and the pass may stop early.
        """
        device = input_ids.device
        self._mask = attention_mask.bool()
        max_runs = None if device.type == "cpu" else MAX_RUNS_ACCELERATOR
        self._runs = None if self.include_padding else length_runs(self._mask, max_runs)
        self._buffer = torch.empty((input_ids.shape[0], self.n_units), dtype=torch.float32, device=device)
        self._pending = set(range(len(self.groups)))
        self._stop = self.stop_early and not embeddings
        emb = None
        try:
            out = self.base_model(input_ids=input_ids, attention_mask=attention_mask, use_cache=False)
            if embeddings:
                emb = pool(out.last_hidden_state.float(), self._mask, "mean", False, self._runs)
        except _ForwardDone:
            pass
        finally:
            self._stop = False
        if self._pending:
            missing = ", ".join(self.groups[i].module for i in sorted(self._pending)[:3])
            raise RuntimeError(f"hooked modules did not run in the forward pass: {missing}")
        acts = self._buffer
        self._buffer = self._mask = self._runs = None
        return acts, emb


def encode(tokenizer, texts: Sequence[str], max_length: int) -> list[list[int]]:
    """Token ids of each text as the model sees them (special tokens added, truncated to ``max_length``)."""
    return tokenizer(list(texts), truncation=True, max_length=max_length, add_special_tokens=True)["input_ids"]


def iter_pooled(
    recorder: ActivationRecorder,
    tokenizer,
    texts: Sequence[str],
    batch_tokens: int,
    max_length: int,
    device: str | torch.device = "cpu",
    fixed_length: bool = False,
    embeddings: bool = True,
) -> Iterator[tuple[np.ndarray, torch.Tensor, torch.Tensor | None]]:
    """Yield ``(indices, activations, sentence_embeddings)`` batch by batch, tensors on ``device``.

    ``indices`` index into ``texts``; batches are length-bucketed, so results
    come out of order. The batching depends only on ``texts``, so the same
    sentences always give the same numbers. ``fixed_length`` pads every
    sentence to ``max_length`` tokens, as apple/ml-selfcond does, so that with
    pooling over padding every sentence's max still sees the same positions.
    """
    encoded = encode(tokenizer, texts, max_length)
    lengths = [len(ids) for ids in encoded]
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    widths = [max_length] * len(lengths) if fixed_length else lengths
    for idx in length_batches(widths, batch_tokens):
        width = max(widths[i] for i in idx)
        ids = torch.full((len(idx), width), pad_id, dtype=torch.long)
        mask = torch.zeros((len(idx), width), dtype=torch.long)
        for row, i in enumerate(idx):
            ids[row, : lengths[i]] = torch.tensor(encoded[i])
            mask[row, : lengths[i]] = 1
        acts, emb = recorder.run(ids.to(device), mask.to(device), embeddings)
        yield idx, acts, emb


def fits(tokenizer, texts: Sequence[str], max_length: int) -> np.ndarray:
    """Which ``texts`` have at most ``max_length`` tokens (apple/ml-selfcond drops the others)."""
    encoded = tokenizer(list(texts), add_special_tokens=True)["input_ids"]
    return np.array([len(ids) <= max_length for ids in encoded], dtype=bool)


def pooled_matrix(
    recorder,
    tokenizer,
    texts,
    batch_tokens,
    max_length,
    device="cpu",
    progress: Callable[[int], object] | None = None,
    fixed_length: bool = False,
    embeddings: bool = True,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """All pooled activations of ``texts`` in their order, float32 on ``device``: (n, n_units), (n, hidden) or None.

    Nothing is copied to the host: callers copy back only what they keep.
    """
    acts = torch.empty((len(texts), recorder.n_units), dtype=torch.float32, device=device)
    emb = None
    batches = iter_pooled(recorder, tokenizer, texts, batch_tokens, max_length, device, fixed_length, embeddings)
    for idx, a, e in batches:
        rows = torch.as_tensor(idx, device=acts.device)
        acts.index_copy_(0, rows, a)
        if e is not None:
            if emb is None:
                emb = torch.empty((len(texts), e.shape[1]), dtype=torch.float32, device=acts.device)
            emb.index_copy_(0, rows, e)
        if progress is not None:
            progress(len(idx))
    return acts, emb
