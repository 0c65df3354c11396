"""Pooled unit activations from batched, hooked forward passes.

Forward hooks on the modules of ``core.units`` pool each module's output over
the tokens of every sentence as it is produced, so memory is bounded by one
batch: no per-token activation outlives its hook. Sentences are run in
length-bucketed batches so little compute goes to padding (except in the
reference mode, which pads every sentence to the same fixed length). Pooled
activations stay on the model's device (AP is computed there too, see
``core.expertise``); pooling is done in float32 whatever the forward pass's
dtype. When no sentence embedding is asked for, the forward pass stops as soon
as the last hooked module has run, so layers above the hooked ones are never
computed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import numpy as np
import torch

from .units import HookGroup, n_units


def length_batches(lengths: Sequence[int], batch_tokens: int, max_batch: int = 256) -> list[np.ndarray]:
    """Split sentence indices into batches of similar length.

    Sentences are sorted by length (stable, so the split is deterministic) and
    cut so that ``longest * count <= batch_tokens`` (at least one sentence per
    batch, at most ``max_batch``).
    """
    order = np.argsort(np.asarray(lengths), kind="stable")
    batches: list[np.ndarray] = []
    current: list[int] = []
    for i in order:
        if current and (len(current) >= max_batch or lengths[i] * (len(current) + 1) > batch_tokens):
            batches.append(np.array(current))
            current = []
        current.append(int(i))
    if current:
        batches.append(np.array(current))
    return batches


def pool(hidden: torch.Tensor, mask: torch.Tensor, pooling: str, include_padding: bool) -> torch.Tensor:
    """Pool (batch, tokens, units) over tokens → (batch, units).

    ``mask`` is (batch, tokens), true on real tokens; it is ignored when
    ``include_padding``. Pooling over padding only makes sense when every
    sentence is padded to the same length (``iter_pooled(fixed_length=True)``,
    the reference mode); otherwise a score depends on the batch.
    """
    if include_padding:
        return hidden.amax(dim=1) if pooling == "max" else hidden.mean(dim=1)
    m = mask.unsqueeze(-1)
    if pooling == "max":
        return hidden.masked_fill(~m, float("-inf")).amax(dim=1)
    return (hidden * m).sum(dim=1) / m.sum(dim=1).clamp(min=1)


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
        self._buffer[:, g.offset : g.offset + g.size] = pool(x, self._mask, self.pooling, self.include_padding)
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
        self._buffer = torch.empty((input_ids.shape[0], self.n_units), dtype=torch.float32, device=device)
        self._pending = set(range(len(self.groups)))
        self._stop = self.stop_early and not embeddings
        emb = None
        try:
            out = self.base_model(input_ids=input_ids, attention_mask=attention_mask, use_cache=False)
            if embeddings:
                emb = pool(out.last_hidden_state.float(), self._mask, "mean", False)
        except _ForwardDone:
            pass
        finally:
            self._stop = False
        if self._pending:
            missing = ", ".join(self.groups[i].module for i in sorted(self._pending)[:3])
            raise RuntimeError(f"hooked modules did not run in the forward pass: {missing}")
        acts = self._buffer
        self._buffer = self._mask = None
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
    progress: Callable[[int], None] | None = None,
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
