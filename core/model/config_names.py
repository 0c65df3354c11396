"""A Hugging Face config's sizes under their several names, in one table.

GPT-2 spells them ``n_layer``, ``n_head``, ``n_embd``, ``n_positions``; Llama, GPT-NeoX and most others
``num_hidden_layers``, ``num_attention_heads``, ``hidden_size``, ``max_position_embeddings``. The unit table, the
context check and the run row read them here.
"""

from __future__ import annotations

ALIASES = {
    "n_layers": ("num_hidden_layers", "n_layer"),
    "n_heads": ("num_attention_heads", "n_head"),
    "hidden": ("hidden_size", "n_embd"),
    "context": ("max_position_embeddings", "n_positions"),
}


def config_value(config, name: str):
    """The value of the first of ``name``'s aliases that ``config`` sets (not None or 0), else None."""
    for attr in ALIASES[name]:
        value = getattr(config, attr, None)
        if value:
            return value
    return None
