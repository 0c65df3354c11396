import pytest
import torch

from core.model.units import UnknownArchitectureError, hook_groups, n_units, unit_table
from tests.tiny import tiny_config


def build(kind, **overrides):
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(tiny_config(kind, **overrides))
    return model.base_model, model.config


def test_gpt_neox_pythia_70m_shape_has_27648_units():
    # Pythia-70m: d=512, 6 layers, 8 heads, 4d MLP → 6 * (3d + d + 4d + d) = 27,648
    base, cfg = build("gpt_neox", hidden_size=512, num_hidden_layers=6, num_attention_heads=8, intermediate_size=2048)
    groups = hook_groups(base, cfg)
    assert n_units(groups) == 27_648
    table = unit_table(groups)
    assert len(table) == 27_648 and table["unit"].is_unique
    assert table.groupby("kind").size().to_dict() == {
        "attn_qkv": 6 * 1536,
        "attn_out": 6 * 512,
        "mlp_in": 6 * 2048,
        "mlp_out": 6 * 512,
    }
    qkv = table[(table.layer == 0) & (table.kind == "attn_qkv")]
    # GPT-NeoX fuses q, k, v per head: [q(64) k(64) v(64)] for head 0, then head 1 ...
    assert qkv["role"].iloc[[0, 64, 128, 192]].tolist() == ["q", "k", "v", "q"]
    assert qkv["head"].iloc[[0, 191, 192]].tolist() == [0, 0, 1]


def test_gpt2_units_and_fused_layout():
    base, cfg = build("gpt2")
    table = unit_table(hook_groups(base, cfg))
    d = cfg.n_embd
    assert len(table) == cfg.n_layer * 9 * d
    qkv = table[(table.layer == 1) & (table.kind == "attn_qkv")]
    # GPT-2's c_attn is [q | k | v], each d wide
    assert qkv["role"].iloc[[0, d, 2 * d]].tolist() == ["q", "k", "v"]
    assert qkv["head"].iloc[[0, d // 4, d]].tolist() == [0, 1, 0]
    assert set(table["module"]) >= {"h.0.attn.c_attn", "h.1.mlp.c_proj"}


def test_llama_units_with_grouped_kv_heads_and_mlp_neurons():
    base, cfg = build("llama")
    table = unit_table(hook_groups(base, cfg))
    hd = cfg.hidden_size // cfg.num_attention_heads
    per_layer = (
        cfg.hidden_size + 2 * cfg.num_key_value_heads * hd + cfg.hidden_size + cfg.intermediate_size + cfg.hidden_size
    )
    assert len(table) == cfg.num_hidden_layers * per_layer
    neurons = table[table.kind == "mlp_neuron"]
    assert len(neurons) == cfg.num_hidden_layers * cfg.intermediate_size
    assert neurons["module"].iloc[0] == "layers.0.mlp.down_proj:in"
    k = table[(table.kind == "attn_k") & (table.layer == 0)]
    assert k["head"].max() == cfg.num_key_value_heads - 1


def test_unknown_architecture_names_the_option():
    base, cfg = build("llama")
    cfg.model_type = "mystery"
    with pytest.raises(UnknownArchitectureError, match="module_patterns"):
        hook_groups(base, cfg)


def test_module_patterns_by_hand():
    base, cfg = build("llama")
    cfg.model_type = "mystery"
    groups = hook_groups(base, cfg, (r"self_attn\.o_proj$", r"in:mlp\.down_proj$"))
    assert [(g.layer, g.kind, g.hook) for g in groups][:2] == [(0, "custom", "out"), (0, "custom", "in")]
    assert n_units(groups) == cfg.num_hidden_layers * (cfg.hidden_size + cfg.intermediate_size)
    with pytest.raises(UnknownArchitectureError, match="matches no module"):
        hook_groups(base, cfg, (r"nothing_here",))
