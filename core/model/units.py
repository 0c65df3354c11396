"""Units: the outputs of the four linear maps of every transformer block.

Each architecture names its maps differently; ``hook_groups`` finds them in a
base model (no LM head) and lays their outputs end to end, so that unit ``u``
of a run is one column of the pooled activation matrix. ``unit_table`` says
what each column is (layer, module, kind, index, and for q/k/v the head and
role).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.config import stable_hash

from .config_names import config_value

# (module suffix, kind, hook) per block; hook "out" = module output, "in" = its input.
LAYOUTS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "gpt2": (
        ("attn.c_attn", "attn_qkv", "out"),
        ("attn.c_proj", "attn_out", "out"),
        ("mlp.c_fc", "mlp_in", "out"),
        ("mlp.c_proj", "mlp_out", "out"),
    ),
    "gpt_neox": (
        ("attention.query_key_value", "attn_qkv", "out"),
        ("attention.dense", "attn_out", "out"),
        ("mlp.dense_h_to_4h", "mlp_in", "out"),
        ("mlp.dense_4h_to_h", "mlp_out", "out"),
    ),
    "llama": (
        ("self_attn.q_proj", "attn_q", "out"),
        ("self_attn.k_proj", "attn_k", "out"),
        ("self_attn.v_proj", "attn_v", "out"),
        ("self_attn.o_proj", "attn_out", "out"),
        ("mlp.down_proj", "mlp_neuron", "in"),
        ("mlp.down_proj", "mlp_out", "out"),
    ),
}
for _alias in ("mistral", "qwen2", "qwen3", "smollm3", "olmo", "olmo2", "gemma", "gemma2"):
    LAYOUTS[_alias] = LAYOUTS["llama"]

BLOCK_PREFIX = {"gpt2": "h", "gpt_neox": "layers"}


class UnknownArchitectureError(ValueError):
    """The units of this architecture are not known."""


@dataclass(frozen=True)
class HookGroup:
    """The units of one hooked module output (or input)."""

    layer: int
    module: str
    kind: str
    hook: str  # "out" or "in"
    size: int
    offset: int
    head_dim: int | None = None
    fused: str | None = None  # "gpt2" (q|k|v blocks) or "neox" (per-head interleaved)


def _linear_sizes(module) -> tuple[int, int]:
    """(in_features, out_features) of a Linear or a GPT-2 Conv1D."""
    if hasattr(module, "in_features"):
        return module.in_features, module.out_features
    w = module.weight  # transformers' Conv1D stores (in, out)
    return int(w.shape[0]), int(w.shape[1])


def hook_groups(base_model, config, module_patterns: tuple[str, ...] | None = None) -> list[HookGroup]:
    """The hooked modules of ``base_model`` in unit order.

    ``module_patterns`` overrides the known layouts: regular expressions on
    module names, each optionally prefixed ``in:`` to hook the module's input
    (e.g. ``("self_attn\\.q_proj$", "mlp\\.down_proj$", "in:mlp\\.down_proj$")``);
    the layer is the first number in the module name.
    """
    named = dict(base_model.named_modules())
    model_type = getattr(config, "model_type", None)
    specs: list[tuple[int, str, str, str]] = []  # (layer, name, kind, hook)
    if module_patterns:
        found = []
        for order, pattern in enumerate(module_patterns):
            hook, regex = ("in", pattern[3:]) if pattern.startswith("in:") else ("out", pattern)
            try:
                compiled = re.compile(regex)
            except re.error as e:
                raise ValueError(f"bad module pattern {pattern!r}: {e}") from None
            hits = [n for n in named if n and compiled.search(n)]
            if not hits:
                raise UnknownArchitectureError(f"module pattern {pattern!r} matches no module of this model")
            for name in hits:
                m = re.search(r"\d+", name)
                found.append((int(m.group()) if m else 0, order, name, hook))
        specs = [(layer, name, "custom", hook) for layer, _, name, hook in sorted(found)]
    elif model_type in LAYOUTS:
        prefix = BLOCK_PREFIX.get(model_type, "layers")
        for layer in range(int(config_value(config, "n_layers") or 0)):
            for suffix, kind, hook in LAYOUTS[model_type]:
                specs.append((layer, f"{prefix}.{layer}.{suffix}", kind, hook))
    else:
        raise UnknownArchitectureError(
            f"no unit layout for model_type {model_type!r} (known: {', '.join(sorted(LAYOUTS))}); "
            "pass module_patterns=(regex, ...) (CLI: --modules 'regex,regex,in:regex') naming the "
            "linear maps of each block"
        )

    heads, hidden = config_value(config, "n_heads"), config_value(config, "hidden")
    head_dim = getattr(config, "head_dim", None) or (hidden // heads if heads and hidden else None)
    groups: list[HookGroup] = []
    offset = 0
    for layer, name, kind, hook in specs:
        if name not in named:
            raise UnknownArchitectureError(f"module {name!r} not found in this {model_type} model")
        n_in, n_out = _linear_sizes(named[name])
        size = n_in if hook == "in" else n_out
        fused = {"gpt2": "gpt2", "gpt_neox": "neox"}.get(str(model_type)) if kind == "attn_qkv" else None
        hd = head_dim if kind.startswith("attn_") and kind != "attn_out" else None
        groups.append(HookGroup(layer, name, kind, hook, size, offset, hd, fused))
        offset += size
    return groups


def n_units(groups: list[HookGroup]) -> int:
    return sum(g.size for g in groups)


def unit_table(groups: list[HookGroup]) -> pd.DataFrame:
    """One row per unit: unit, layer, module, kind, index, head, role."""
    frames = []
    for g in groups:
        idx = np.arange(g.size)
        head = np.full(g.size, -1)
        role = np.full(g.size, "", dtype=object)
        if g.head_dim:
            if g.fused == "gpt2":  # [q | k | v], each heads x head_dim
                d = g.size // 3
                role = np.array(["q", "k", "v"], dtype=object)[idx // d]
                head = (idx % d) // g.head_dim
            elif g.fused == "neox":  # per head: [q k v] of head_dim each
                role = np.array(["q", "k", "v"], dtype=object)[(idx % (3 * g.head_dim)) // g.head_dim]
                head = idx // (3 * g.head_dim)
            else:
                role = np.full(g.size, g.kind[-1], dtype=object)
                head = idx // g.head_dim
        frames.append(
            pd.DataFrame(
                {
                    "unit": g.offset + idx,
                    "layer": g.layer,
                    "module": g.module + (":in" if g.hook == "in" else ""),
                    "kind": g.kind,
                    "index": idx,
                    "head": head,
                    "role": role,
                }
            )
        )
    table = pd.concat(frames, ignore_index=True)
    table["unit"] = table["unit"].astype("int32")
    table["layer"] = table["layer"].astype("int16")
    table["index"] = table["index"].astype("int32")
    table["head"] = table["head"].astype("int16")
    return table


def unit_table_id(table: pd.DataFrame) -> str:
    """The id under which a unit table is stored: the same for every checkpoint of an architecture."""
    return stable_hash(table[["module", "kind"]].drop_duplicates().values.tolist() + [len(table)])
