"""Train a family of small Pythia-architecture (GPT-NeoX) models with checkpoints on Pythia's schedule.

Demo-data tooling, not part of the library: it makes a real checkpoint series that the tool then sweeps exactly as
it would sweep ``EleutherAI/pythia-*`` revisions. Each size is written as ``<out>/<name>/step<N>/`` (a Hugging Face
model folder with its tokenizer), which ``python -m core extract --model <out>/<name> --revisions all`` reads as
the revisions of one local model.

- Tokenizer: byte-level BPE trained on the corpus with the ``tokenizers`` library (a small vocabulary, so the output
  layer does not dominate compute on a CPU), saved as ``<out>/tokenizer.json`` and reused when present.
- Models: ``GPTNeoXConfig`` as Pythia (rotary on 25 % of each head, parallel residual, untied embeddings, no dropout),
  sizes named by their non-embedding parameters.
- Data: every sentence of the corpus (a document-level held-out split aside), joined with ``<|endoftext|>`` and cut
  into random windows; the windows of step ``s`` depend only on ``(seed, s)``, so a resumed run sees the same data.
- Schedule: step 0 (the initialisation), log-spaced 1, 2, 4, ..., 512, then evenly spaced to the end.
- Resumable: the optimiser state is kept with the last checkpoint (``<out>/<name>/train_state.pt``); rerunning the
  same command continues. Training log (step, tokens, loss, held-out loss, tokens/s) in ``<out>/<name>/train_log.csv``.

Usage::

    python scripts/train_checkpoints.py --corpus ../shared/data/corpus/enwiki2015_sample/sentences.jsonl.gz \
        --out cache/checkpoints --steps 1536
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import json
import math
import os
import sys
import time
from dataclasses import dataclass

import numpy as np

EOS = "<|endoftext|>"


@dataclass(frozen=True)
class Size:
    """One model of the family; named like Pythia by its (non-embedding) parameter count."""

    layers: int
    hidden: int
    heads: int

    @property
    def non_embedding(self) -> int:
        return 12 * self.layers * self.hidden**2 + 13 * self.layers * self.hidden  # linear maps + biases/norms

    @property
    def name(self) -> str:
        n = self.non_embedding
        return f"wiki-neox-{n / 1e6:.1f}m" if n >= 1e6 else f"wiki-neox-{round(n / 1e3)}k"


SIZES = {"s": Size(2, 64, 2), "m": Size(3, 96, 3), "l": Size(4, 160, 5)}


def checkpoint_steps(total: int, every: int | None = None) -> list[int]:
    """Pythia's schedule shape: 0, 1, 2, 4, ..., 512 (capped at ``total``), then every ``every`` steps to ``total``."""
    steps = [0] + [2**i for i in range(10) if 2**i <= total]
    every = every or max(1, math.ceil((total - min(total, 512)) / 6))
    s = 512 + every if total > 512 else total
    while s < total:
        steps.append(s)
        s += every
    steps.append(total)
    return sorted(set(steps))


def read_sentences(path: str, limit: int | None = None) -> list[tuple[str, str]]:
    """``(doc, text)`` of the corpus (JSONL, optionally gzipped), in file order."""
    opener = gzip.open if path.endswith(".gz") else open
    out = []
    with opener(path, "rt", encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            out.append((str(rec.get("doc", "")), rec["text"]))
            if limit and len(out) >= limit:
                break
    return out


def is_held_out(doc: str, every: int = 50) -> bool:
    """About 1 document in ``every`` is held out (by a hash of its id, so the split is stable)."""
    return int(hashlib.sha1(doc.encode()).hexdigest()[:8], 16) % every == 0


def train_tokenizer(texts: list[str], vocab_size: int, path: str):
    """Byte-level BPE (as GPT-2/Pythia), trained on ``texts``; loaded from ``path`` when it exists."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    if os.path.exists(path):
        return Tokenizer.from_file(path)
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[EOS],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer)
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    tok.save(path)
    return tok


def hf_tokenizer(tok):
    from transformers import PreTrainedTokenizerFast

    return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token=EOS, eos_token=EOS, unk_token=EOS, pad_token=EOS)


def token_stream(tok, texts: list[str]) -> np.ndarray:
    """All texts as one stream of token ids, each followed by the end-of-text token."""
    eos = tok.token_to_id(EOS)
    ids: list[int] = []
    for enc in tok.encode_batch(texts, add_special_tokens=False):
        ids.extend(enc.ids)
        ids.append(eos)
    return np.asarray(ids, dtype=np.int32)


def model_config(size: Size, vocab_size: int, context: int, eos_id: int):
    from transformers import GPTNeoXConfig

    return GPTNeoXConfig(
        vocab_size=vocab_size,
        hidden_size=size.hidden,
        num_hidden_layers=size.layers,
        num_attention_heads=size.heads,
        intermediate_size=4 * size.hidden,
        rotary_pct=0.25,
        rotary_emb_base=10000,
        max_position_embeddings=context,
        use_parallel_residual=True,
        tie_word_embeddings=False,
        attention_dropout=0.0,
        hidden_dropout=0.0,
        bos_token_id=eos_id,
        eos_token_id=eos_id,
        initializer_range=0.02,
    )


def batch(stream: np.ndarray, seed: int, step: int, batch_size: int, context: int):
    """The windows of one step: a function of (seed, step) only, so resuming sees the same data."""
    import torch

    rng = np.random.default_rng([seed, step])
    starts = rng.integers(0, len(stream) - context - 1, size=batch_size)
    x = np.stack([stream[s : s + context + 1] for s in starts]).astype(np.int64)
    return torch.from_numpy(x)


def lr_at(step: int, total: int, peak: float, warmup: int) -> float:
    """Pythia's shape: linear warm-up, cosine decay to 10 % of the peak."""
    if step < warmup:
        return peak * (step + 1) / warmup
    t = (step - warmup) / max(1, total - warmup)
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, t))))


def held_out_loss(model, held: np.ndarray, context: int, n: int = 64) -> float:
    import torch

    x = batch(held, 12345, 0, n, context)
    with torch.no_grad():
        return float(model(input_ids=x[:, :-1], labels=x[:, :-1].clone()).loss)


LOG_FIELDS = ["step", "tokens", "loss", "held_out_loss", "lr", "tokens_per_s", "elapsed_s"]


def train_size(size: Size, args, tok, stream: np.ndarray, held: np.ndarray) -> dict:
    """Train one size to ``args.steps``, saving each checkpoint; resume from ``train_state.pt`` if present."""
    import torch
    from tqdm.auto import tqdm
    from transformers import GPTNeoXForCausalLM

    root = os.path.join(args.out, size.name)
    os.makedirs(root, exist_ok=True)
    state_path = os.path.join(root, "train_state.pt")
    log_path = os.path.join(root, "train_log.csv")
    saves = checkpoint_steps(args.steps, args.every)
    eos = tok.token_to_id(EOS)
    torch.manual_seed(args.seed)
    model = GPTNeoXForCausalLM(model_config(size, tok.get_vocab_size(), args.context, eos))
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.01)
    start, elapsed, rows = 0, 0.0, []
    if os.path.exists(state_path):
        st = torch.load(state_path, weights_only=False)
        model.load_state_dict(st["model"])
        opt.load_state_dict(st["optimizer"])
        start, elapsed = st["step"], st["elapsed"]
        with open(log_path) as f:
            rows = [r for r in csv.DictReader(f) if int(r["step"]) <= start]
    n_tokens = args.batch_size * args.context
    hf_tok = hf_tokenizer(tok)

    def save(step: int, loss: float | None, tps: float) -> None:
        folder = os.path.join(root, f"step{step}")
        model.save_pretrained(folder)
        hf_tok.save_pretrained(folder)
        model.eval()
        rows.append(
            {
                "step": step,
                "tokens": step * n_tokens,
                "loss": "" if loss is None else f"{loss:.4f}",
                "held_out_loss": f"{held_out_loss(model, held, args.context):.4f}",
                "lr": f"{lr_at(max(step - 1, 0), args.steps, args.lr, args.warmup):.6f}",
                "tokens_per_s": f"{tps:.0f}",
                "elapsed_s": f"{elapsed:.1f}",
            }
        )
        model.train()
        with open(log_path + ".tmp", "w", newline="") as f:
            w = csv.DictWriter(f, LOG_FIELDS)
            w.writeheader()
            w.writerows(rows)
        os.replace(log_path + ".tmp", log_path)
        torch.save(
            {"model": model.state_dict(), "optimizer": opt.state_dict(), "step": step, "elapsed": elapsed},
            state_path + ".tmp",
        )
        os.replace(state_path + ".tmp", state_path)

    if start == 0 and not rows:
        save(0, None, 0.0)
    model.train()
    bar = tqdm(
        total=args.steps,
        initial=start,
        desc=size.name,
        unit="step",
        file=sys.stderr,
        dynamic_ncols=True,
        mininterval=1 if sys.stderr.isatty() else 30,
    )
    t_window, tok_window, loss = time.perf_counter(), 0, None
    for step in range(start, args.steps):
        t0 = time.perf_counter()
        for g in opt.param_groups:
            g["lr"] = lr_at(step, args.steps, args.lr, args.warmup)
        x = batch(stream, args.seed, step, args.batch_size, args.context)
        out = model(input_ids=x[:, :-1], labels=x[:, :-1].clone())
        out.loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        loss = float(out.loss.detach())
        elapsed += time.perf_counter() - t0
        tok_window += n_tokens
        tps = tok_window / max(1e-9, time.perf_counter() - t_window)
        bar.set_postfix(loss=f"{loss:.3f}", tok_s=f"{tps:.0f}", refresh=False)
        bar.update(1)
        if step + 1 in saves:
            save(step + 1, loss, tps)
            t_window, tok_window = time.perf_counter(), 0
    bar.close()
    return {
        "name": size.name,
        "layers": size.layers,
        "hidden": size.hidden,
        "heads": size.heads,
        "non_embedding_params": size.non_embedding,
        "params": sum(p.numel() for p in model.parameters()),
        "steps": args.steps,
        "tokens": args.steps * n_tokens,
        "final_loss": float(rows[-1]["loss"] or "nan"),
        "final_held_out_loss": float(rows[-1]["held_out_loss"]),
        "train_seconds": round(elapsed, 1),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--corpus", required=True, help="JSONL(.gz) of sentences with 'text' (and 'doc') fields")
    p.add_argument("--out", required=True, help="root folder: <out>/<model-name>/step<N>/")
    p.add_argument("--sizes", default="s,m,l", help=f"comma-separated of {','.join(SIZES)} (smallest first)")
    p.add_argument("--steps", type=int, default=1536, help="optimiser steps per size")
    p.add_argument("--every", type=int, help="checkpoint spacing after step 512 (default: 6 more checkpoints)")
    p.add_argument("--batch-size", type=int, default=16, help="windows per step")
    p.add_argument("--context", type=int, default=128, help="tokens per window")
    p.add_argument("--lr", type=float, default=1e-3, help="peak learning rate (Pythia-70m: 1e-3)")
    p.add_argument("--warmup", type=int, default=50, help="warm-up steps")
    p.add_argument("--vocab-size", type=int, default=4096)
    p.add_argument("--tokenizer", help="tokenizer.json to use or create (default: <out>/tokenizer.json)")
    p.add_argument("--limit", type=int, help="read only the first N sentences (tests)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    p.add_argument("--summary", help="write the per-size summary (JSON) here")
    args = p.parse_args(argv)
    for name in ("steps", "batch_size", "context", "vocab_size", "warmup"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be at least 1")
    unknown = [s for s in args.sizes.split(",") if s not in SIZES]
    if unknown:
        p.error(f"unknown size(s) {unknown}; choose from {list(SIZES)}")

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    records = read_sentences(args.corpus, args.limit)
    train_texts = [t for d, t in records if not is_held_out(d)]
    held_texts = [t for d, t in records if is_held_out(d)] or train_texts[-max(1, len(train_texts) // 50) :]
    tok = train_tokenizer(train_texts, args.vocab_size, args.tokenizer or os.path.join(args.out, "tokenizer.json"))
    stream, held = token_stream(tok, train_texts), token_stream(tok, held_texts)
    if len(stream) <= args.context + 1 or len(held) <= args.context + 1:
        p.error(f"corpus too small for --context {args.context}: {len(stream)} training tokens")
    print(
        f"{len(train_texts)} training sentences ({len(stream)} tokens), {len(held_texts)} held out "
        f"({len(held)} tokens); checkpoints at {checkpoint_steps(args.steps, args.every)}",
        file=sys.stderr,
    )
    summary = [train_size(SIZES[s], args, tok, stream, held) for s in args.sizes.split(",")]
    for row in summary:
        row["train_tokens_in_corpus"] = int(len(stream))
    if args.summary:
        with open(args.summary, "w") as f:
            json.dump(summary, f, indent=1)
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
