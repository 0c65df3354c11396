"""Pooled unit activations from batched, hooked forward passes.

Forward hooks on the modules of ``core.units`` pool each module's output over
the tokens of every sentence as it is produced, so memory is bounded by one
batch: no per-token activation outlives its hook. Sentences are run in
length-bucketed batches so little compute goes to padding (except in the
reference mode, which pads every sentence to the same fixed length).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import torch

from .units import UnitGroup, n_units


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


class ActivationRecorder:
    """Hooks ``groups`` of ``base_model``; ``run`` returns pooled activations.

    Use as a context manager so the hooks are always removed::

        with ActivationRecorder(base, groups) as rec:
            acts, sent_emb = rec.run(input_ids, attention_mask)
    """

    def __init__(self, base_model, groups: list[UnitGroup], pooling: str = "max", include_padding: bool = False):
        self.base_model = base_model
        self.groups = groups
        self.pooling = pooling
        self.include_padding = include_padding
        self.n_units = n_units(groups)
        self._handles: list = []
        self._buffer: torch.Tensor | None = None
        self._mask: torch.Tensor | None = None

    def __enter__(self) -> ActivationRecorder:
        modules = dict(self.base_model.named_modules())
        for g in self.groups:
            module = modules[g.module]
            if g.hook == "in":
                handle = module.register_forward_pre_hook(self._pre_hook(g))
            else:
                handle = module.register_forward_hook(self._hook(g))
            self._handles.append(handle)
        return self

    def __exit__(self, *exc) -> None:
        for h in self._handles:
            h.remove()
        self._handles.clear()

    def _store(self, g: UnitGroup, x: torch.Tensor) -> None:
        pooled = pool(x, self._mask, self.pooling, self.include_padding)
        self._buffer[:, g.offset : g.offset + g.size] = pooled

    def _hook(self, g: UnitGroup):
        def hook(module, args, output):
            self._store(g, output[0] if isinstance(output, tuple) else output)

        return hook

    def _pre_hook(self, g: UnitGroup):
        def hook(module, args):
            self._store(g, args[0])

        return hook

    @torch.inference_mode()
    def run(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        """Pooled activations (batch, n_units) and sentence embeddings (batch, hidden).

        The sentence embedding is the final hidden layer mean-pooled over real
        tokens (the paper's sentence-embedding baseline).
        """
        device = input_ids.device
        self._mask = attention_mask.bool()
        self._buffer = torch.empty((input_ids.shape[0], self.n_units), dtype=torch.float32, device=device)
        out = self.base_model(input_ids=input_ids, attention_mask=attention_mask, use_cache=False)
        last = out.last_hidden_state.float()
        emb = pool(last, self._mask, "mean", False)
        acts = self._buffer.cpu().numpy()
        self._buffer = self._mask = None
        return acts, emb.cpu().numpy()


def iter_pooled(
    recorder: ActivationRecorder,
    tokenizer,
    texts: Sequence[str],
    batch_tokens: int,
    max_length: int,
    device: str | torch.device = "cpu",
    fixed_length: bool = False,
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Yield ``(indices, activations, sentence_embeddings)`` batch by batch.

    ``indices`` index into ``texts``; batches are length-bucketed, so results
    come out of order. The batching depends only on ``texts``, so the same
    sentences always give the same numbers. ``fixed_length`` pads every
    sentence to ``max_length`` tokens, as apple/ml-selfcond does, so that with
    pooling over padding every sentence's max still sees the same positions.
    """
    encoded = tokenizer(list(texts), truncation=True, max_length=max_length, add_special_tokens=True)["input_ids"]
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
        acts, emb = recorder.run(ids.to(device), mask.to(device))
        yield idx, acts, emb


def fits(tokenizer, texts: Sequence[str], max_length: int) -> np.ndarray:
    """Which ``texts`` have at most ``max_length`` tokens (apple/ml-selfcond drops the others)."""
    encoded = tokenizer(list(texts), add_special_tokens=True)["input_ids"]
    return np.array([len(ids) <= max_length for ids in encoded], dtype=bool)


def pooled_matrix(
    recorder, tokenizer, texts, batch_tokens, max_length, device="cpu", progress=None, fixed_length=False
):
    """All pooled activations of ``texts`` in their order: (n, n_units), (n, hidden)."""
    acts = np.empty((len(texts), recorder.n_units), dtype=np.float32)
    emb = None
    for idx, a, e in iter_pooled(recorder, tokenizer, texts, batch_tokens, max_length, device, fixed_length):
        acts[idx] = a
        if emb is None:
            emb = np.empty((len(texts), e.shape[1]), dtype=np.float32)
        emb[idx] = e
        if progress is not None:
            progress(len(idx))
    return acts, emb
