"""A config's sizes under either of their Hugging Face names."""

from types import SimpleNamespace

from core.model.config_names import ALIASES, config_value


def test_gpt2_and_llama_spellings_give_the_same_sizes():
    gpt2 = SimpleNamespace(n_layer=2, n_head=4, n_embd=64, n_positions=128)
    llama = SimpleNamespace(num_hidden_layers=2, num_attention_heads=4, hidden_size=64, max_position_embeddings=128)
    for name in ALIASES:
        assert config_value(gpt2, name) == config_value(llama, name) is not None
    assert config_value(SimpleNamespace(), "context") is None
    assert config_value(SimpleNamespace(num_hidden_layers=None, n_layer=3), "n_layers") == 3
