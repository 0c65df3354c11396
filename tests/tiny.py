"""Tiny randomly initialised GPT-2 / GPT-NeoX / Llama models saved to local folders.

For structural tests only (unit tables, hooks, pooling, revision folders,
resumption), never for results. The tokenizer is a word-level one built here,
so nothing is downloaded.
"""

from __future__ import annotations

import os

WORDS = (
    "the a an of and to in is was on at by with for from that this it he she they we you i "
    "cat cats dog dogs car cars bus horse red blue green tree sat ran runs running run big bigger "
    "house river road city man woman child day night water fire sun moon sky book table chair "
    "saw see seen eat ate food bread apple cheese sound music piano guitar . , ! ?"
).split()


def save_tokenizer(path: str) -> None:
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {w: i for i, w in enumerate(["<pad>", "<unk>", "<eos>", *dict.fromkeys(WORDS)])}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Punctuation()])
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", pad_token="<pad>", eos_token="<eos>")
    fast.save_pretrained(path)


def tiny_config(kind: str, vocab_size: int = 128, **overrides):
    from transformers import GPT2Config, GPTNeoXConfig, LlamaConfig

    if kind == "gpt2":
        cfg = GPT2Config(vocab_size=vocab_size, n_positions=128, n_embd=32, n_layer=2, n_head=4)
    elif kind == "gpt_neox":
        cfg = GPTNeoXConfig(
            vocab_size=vocab_size,
            hidden_size=32,
            num_hidden_layers=2,
            num_attention_heads=4,
            intermediate_size=128,
            max_position_embeddings=128,
        )
    elif kind == "llama":
        cfg = LlamaConfig(
            vocab_size=vocab_size,
            hidden_size=48,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
            intermediate_size=96,
            max_position_embeddings=128,
        )
    else:
        raise ValueError(kind)
    for k, v in overrides.items():
        setattr(cfg, k, v)
    return cfg


def save_tiny_model(path: str, kind: str = "llama", seed: int = 0) -> str:
    """Save a tiny random causal LM with the test tokenizer into ``path``."""
    import torch
    from transformers import AutoModelForCausalLM

    save_tokenizer(path)
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(tiny_config(kind))
    model.save_pretrained(path)
    return path


def save_checkpoints(root: str, kind: str = "gpt_neox", steps=(1, 1000)) -> str:
    """A local mirror of a Hub repo with one folder per revision (``step1``, ``step1000``)."""
    for i, step in enumerate(steps):
        save_tiny_model(os.path.join(root, f"step{step}"), kind, seed=i)
    return root
