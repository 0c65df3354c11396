import numpy as np
import pytest
import torch

from core.config import ModelSpec
from core.model.activations import ActivationRecorder, fits, length_batches, length_runs, pool, pooled_matrix
from core.model.loading import load_model
from core.model.units import hook_groups
from tests.tiny import save_tiny_model


def test_pool_masks_padding_unless_asked():
    x = torch.tensor([[[1.0], [5.0], [9.0]], [[2.0], [3.0], [-7.0]]])  # (batch 2, tokens 3, units 1)
    mask = torch.tensor([[1, 1, 0], [1, 1, 1]]).bool()
    assert pool(x, mask, "max", False).flatten().tolist() == [5.0, 3.0]
    assert pool(x, mask, "max", True).flatten().tolist() == [9.0, 3.0]
    assert pool(x, mask, "mean", False).flatten().tolist() == [3.0, pytest.approx(-2 / 3)]
    assert pool(x, mask, "mean", True).flatten().tolist() == [5.0, pytest.approx(-2 / 3)]


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_pooling_by_runs_equals_the_masked_pool(dtype):
    """Slicing each run of equal-length rows gives exactly the masked max, cast into a float32 buffer."""
    g = torch.Generator().manual_seed(0)
    lengths = torch.tensor([0, 3, 3, 5, 7, 7, 7, 9])  # sorted, as length_batches makes them; one empty row
    mask = torch.arange(9)[None] < lengths[:, None]
    hidden = torch.randn(8, 9, 6, generator=g).to(dtype)
    runs = length_runs(mask)
    assert runs == [(0, 1, 0), (1, 3, 3), (3, 4, 5), (4, 7, 7), (7, 8, 9)]
    for pooling in ("max", "mean"):
        x = hidden if pooling == "max" else hidden.float()
        masked = pool(x, mask, pooling, False, out=torch.empty(8, 6))
        buffer = torch.zeros(8, 10)
        by_runs = pool(x, mask, pooling, False, runs, out=buffer[:, 2:8])
        assert buffer[:, :2].eq(0).all() and buffer[:, 8:].eq(0).all()  # only its columns are written
        if pooling == "max":
            assert torch.equal(by_runs, masked) and by_runs[0].eq(float("-inf")).all()
        else:
            torch.testing.assert_close(by_runs, masked)
            assert by_runs[0].eq(0).all()


def test_length_runs_falls_back_to_the_mask_when_slices_would_not_do():
    left_padded = torch.tensor([[0, 1, 1], [1, 1, 1]]).bool()
    assert length_runs(left_padded) is None
    many = (torch.arange(9)[:, None] >= torch.arange(9)[None]).flip(0)  # lengths 9..1, one run each
    assert len(length_runs(many)) == 9 and length_runs(many, max_runs=8) is None
    assert length_runs(torch.ones(4, 5).bool()) == [(0, 4, 5)]


def test_length_batches_cover_everything_within_budget():
    rng = np.random.default_rng(0)
    lengths = rng.integers(3, 60, 500).tolist()
    batches = length_batches(lengths, batch_tokens=512)
    flat = np.concatenate(batches)
    assert sorted(flat.tolist()) == list(range(500))
    for b in batches:
        assert max(lengths[i] for i in b) * len(b) <= 512 or len(b) == 1
    padding = sum(max(lengths[i] for i in b) * len(b) for b in batches) - sum(lengths)
    assert padding / sum(lengths) < 0.1  # bucketing keeps padding small
    assert [b.tolist() for b in length_batches(lengths, 512)] == [b.tolist() for b in batches]


def test_length_batches_cut_before_padding_grows_past_a_tenth():
    lengths = [12] * 50 + [8] * 200
    batches = length_batches(lengths, batch_tokens=4096)  # the budget alone would take all 250 (250 x 12 <= 4096)
    assert [sorted({lengths[i] for i in b}) for b in batches] == [[8], [12]]
    assert [len(b) for b in length_batches(lengths, 4096, max_padding=1.0)] == [250]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    path = save_tiny_model(str(tmp_path_factory.mktemp("llama")), "llama")
    model = load_model(ModelSpec(path))
    return model, hook_groups(model.base, model.config)


TEXTS = ["the cat sat on the table .", "a dog ran .", "the red bus was big and the horse ran in the city at night ."]


def test_padding_does_not_change_a_sentence_score(tiny):
    model, groups = tiny
    with ActivationRecorder(model.base, groups) as rec:
        together, _ = pooled_matrix(rec, model.tokenizer, TEXTS, batch_tokens=10_000, max_length=64)
        alone = np.vstack([pooled_matrix(rec, model.tokenizer, [t], 10_000, 64)[0] for t in TEXTS])
    np.testing.assert_allclose(together, alone, atol=1e-5)


def test_the_recorder_pools_by_runs_and_matches_the_masked_pool(tiny, monkeypatch):
    """A padded batch pools each run of equal-length rows by slicing; the numbers are the masked pool's."""
    import core.model.activations as activations

    model, groups = tiny
    calls = []
    slicing = activations.length_runs
    monkeypatch.setattr(activations, "length_runs", lambda *a: calls.append(slicing(*a)) or calls[-1])
    with ActivationRecorder(model.base, groups) as rec:
        by_runs, emb_runs = pooled_matrix(rec, model.tokenizer, TEXTS, batch_tokens=10_000, max_length=64)
        assert len(calls) == 1 and len(calls[0]) == len(TEXTS)  # one batch of three lengths: three runs
        monkeypatch.setattr(activations, "length_runs", lambda *a: None)
        masked, emb_masked = pooled_matrix(rec, model.tokenizer, TEXTS, batch_tokens=10_000, max_length=64)
    assert torch.equal(by_runs, masked)
    torch.testing.assert_close(emb_runs, emb_masked)


def test_pooling_over_padding_needs_fixed_length_padding(tiny):
    """Max over padding depends on the batch unless every sentence is padded to the same length.

    Padding each batch only to its longest sentence (the old ``--include-padding``) gives a short
    sentence more pad positions beside a long one than alone; fixed-length padding, as apple/ml-selfcond
    pads, gives it the same positions in any batch (the reference comparison is in test_extract.py).
    """
    model, groups = tiny
    with ActivationRecorder(model.base, groups, include_padding=True) as rec:
        batch_padded, _ = pooled_matrix(rec, model.tokenizer, TEXTS, batch_tokens=10_000, max_length=64)
        fixed = pooled_matrix(rec, model.tokenizer, TEXTS, 10_000, 64, fixed_length=True)[0]
        alone = np.vstack([pooled_matrix(rec, model.tokenizer, [t], 10_000, 64, fixed_length=True)[0] for t in TEXTS])
    with ActivationRecorder(model.base, groups) as rec:
        masked, _ = pooled_matrix(rec, model.tokenizer, TEXTS, batch_tokens=10_000, max_length=64)
    np.testing.assert_allclose(fixed, alone, atol=1e-5)  # fixed length: a sentence's score ignores its batch
    assert not np.allclose(batch_padded[1], fixed[1], atol=1e-3)  # batch-longest padding: it does not
    assert (fixed >= masked - 1e-5).all()  # max over a superset of positions
    assert not np.allclose(fixed, masked, atol=1e-3)


def test_fits_counts_special_tokens(tiny):
    model, _ = tiny
    n = len(model.tokenizer(TEXTS[2])["input_ids"])
    assert fits(model.tokenizer, TEXTS, n).tolist() == [True, True, True]
    assert fits(model.tokenizer, TEXTS, n - 1).tolist() == [True, True, False]


def test_recorded_values_equal_module_outputs(tiny):
    model, groups = tiny
    enc = model.tokenizer([TEXTS[0]], return_tensors="pt")
    seen = {}
    q_proj = model.base.layers[1].self_attn.q_proj
    down = model.base.layers[0].mlp.down_proj
    h1 = q_proj.register_forward_hook(lambda m, a, o: seen.__setitem__("q", o))
    h2 = down.register_forward_pre_hook(lambda m, a: seen.__setitem__("neuron", a[0]))
    with ActivationRecorder(model.base, groups) as rec:
        acts, emb = rec.run(enc["input_ids"], enc["attention_mask"])
    h1.remove()
    h2.remove()
    g_q = next(g for g in groups if g.layer == 1 and g.kind == "attn_q")
    g_n = next(g for g in groups if g.layer == 0 and g.kind == "mlp_neuron")
    np.testing.assert_allclose(acts[0, g_q.offset : g_q.offset + g_q.size], seen["q"][0].amax(0).numpy(), atol=1e-6)
    np.testing.assert_allclose(
        acts[0, g_n.offset : g_n.offset + g_n.size], seen["neuron"][0].amax(0).numpy(), atol=1e-6
    )
    assert emb.shape == (1, model.config.hidden_size)


def test_hooks_are_removed(tiny):
    model, groups = tiny
    with ActivationRecorder(model.base, groups):
        pass
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in model.base.modules())


def test_activations_stay_on_the_device_as_float32(tiny):
    model, groups = tiny
    with ActivationRecorder(model.base, groups) as rec:
        acts, emb = pooled_matrix(rec, model.tokenizer, TEXTS, 10_000, 64)
        no_emb = pooled_matrix(rec, model.tokenizer, TEXTS, 10_000, 64, embeddings=False)
    assert isinstance(acts, torch.Tensor) and acts.dtype == torch.float32 and acts.shape == (3, rec.n_units)
    assert emb.shape == (3, model.config.hidden_size)
    assert no_emb[1] is None
    torch.testing.assert_close(no_emb[0], acts)


FIRST_LAYER = {  # the linear maps of block 0 only
    "gpt2": ("h\\.0\\.attn\\.c_attn$", "h\\.0\\.mlp\\.c_proj$"),
    "gpt_neox": ("layers\\.0\\.attention\\.query_key_value$", "layers\\.0\\.mlp\\.dense_4h_to_h$"),
    "llama": ("layers\\.0\\.self_attn\\.q_proj$", "in:layers\\.0\\.mlp\\.down_proj$"),
}


@pytest.mark.parametrize("kind", sorted(FIRST_LAYER))
def test_forward_stops_after_the_last_hooked_layer(tmp_path, kind):
    """Hooking only block 0: the same activations with and without the early stop, and block 1 never runs."""
    model = load_model(ModelSpec(save_tiny_model(str(tmp_path), kind)))
    groups = hook_groups(model.base, model.config, FIRST_LAYER[kind])
    blocks = [m for name, m in model.base.named_modules() if name.count(".") == 1 and name.endswith(".1")]
    assert len(blocks) == 1
    calls = []
    handle = blocks[0].register_forward_hook(lambda *a: calls.append(1))
    try:
        with ActivationRecorder(model.base, groups, stop_early=False) as rec:
            full, _ = pooled_matrix(rec, model.tokenizer, TEXTS, 10_000, 64, embeddings=False)
        assert calls, "without the early stop every block runs"
        calls.clear()
        with ActivationRecorder(model.base, groups) as rec:
            early, _ = pooled_matrix(rec, model.tokenizer, TEXTS, 10_000, 64, embeddings=False)
            assert not calls, "block 1 ran although nothing above block 0 is hooked"
            _, emb = pooled_matrix(rec, model.tokenizer, TEXTS, 10_000, 64, embeddings=True)
        assert calls and emb is not None  # the sentence embedding needs the whole stack
    finally:
        handle.remove()
    torch.testing.assert_close(early, full, rtol=0, atol=0)
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in model.base.modules())


def test_half_precision_forward_pools_in_float32(tmp_path):
    path = save_tiny_model(str(tmp_path), "llama")
    ref = load_model(ModelSpec(path))
    half = load_model(ModelSpec(path, dtype="bf16"))
    assert next(half.base.parameters()).dtype == torch.bfloat16
    out = {}
    for name, m in (("fp32", ref), ("bf16", half)):
        groups = hook_groups(m.base, m.config)
        with ActivationRecorder(m.base, groups, pooling="mean") as rec:
            out[name] = pooled_matrix(rec, m.tokenizer, TEXTS, 10_000, 64)
    acts, emb = out["bf16"]
    assert acts.dtype == torch.float32 and emb.dtype == torch.float32
    torch.testing.assert_close(acts, out["fp32"][0], rtol=0.05, atol=0.05)  # bf16 drift, not garbage
