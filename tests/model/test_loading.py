import os

import pytest

from core.config import ModelSpec
from core.model.loading import ModelLoadError, load_model, resolve, word_embedding
from tests.tiny import save_checkpoints, save_tiny_model


def test_hub_id_keeps_revision_for_from_pretrained():
    assert resolve(ModelSpec("EleutherAI/pythia-70m", revision="step1000")) == (
        "EleutherAI/pythia-70m",
        "step1000",
        None,
    )


def test_local_folder_per_revision(tmp_path):
    root = save_checkpoints(str(tmp_path / "pythia-mini"), "gpt_neox", steps=(1, 1000))
    assert resolve(ModelSpec(root, revision="step1000"))[0] == os.path.join(root, "step1000")
    a = load_model(ModelSpec(root, revision="step1"))
    b = load_model(ModelSpec(root, revision="step1000"))
    wa = a.base.get_input_embeddings().weight
    wb = b.base.get_input_embeddings().weight
    assert wa.shape == wb.shape and not (wa == wb).all()  # two different checkpoints
    with pytest.raises(ModelLoadError, match="revision 'step7' not found"):
        resolve(ModelSpec(root, revision="step7"))


def test_gguf_and_bad_paths(tmp_path):
    f = tmp_path / "model.bin"
    f.write_text("x")
    with pytest.raises(ModelLoadError, match="is a file"):
        resolve(ModelSpec(str(f)))
    g = tmp_path / "m.gguf"
    g.write_bytes(b"GGUF")
    assert resolve(ModelSpec(str(g))) == (str(tmp_path), None, "m.gguf")
    with pytest.raises(ModelLoadError, match="no such model folder"):
        resolve(ModelSpec("./not/a/model"))


def test_unloadable_model_gives_one_line_error(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ModelLoadError) as e:
        load_model(ModelSpec(str(empty)))
    assert "\n" not in str(e.value) and "cannot load model" in str(e.value)


def test_unknown_hub_id_offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelLoadError, match="cannot load model 'no-such-org/no-such-model'"):
        load_model(ModelSpec("no-such-org/no-such-model", revision="step1"))


def test_word_embedding_is_mean_of_subtokens(tmp_path):
    m = load_model(ModelSpec(save_tiny_model(str(tmp_path / "t"), "llama")))
    ids = m.tokenizer(" cat", add_special_tokens=False)["input_ids"]
    w = m.base.get_input_embeddings().weight[ids].mean(0).detach().numpy()
    assert (word_embedding(m, "cat") == w).all()


@pytest.mark.slow
def test_loading_the_gguf_model_draws_no_de_quantizing_bar(capfd, monkeypatch):
    """transformers draws "Converting and de-quantizing GGUF tensors" on every GGUF load unless asked."""
    from core.model.loading import LOAD_PROGRESS, load_causal_lm

    monkeypatch.delenv(LOAD_PROGRESS, raising=False)
    load_causal_lm(ModelSpec("smollm2"))
    assert "de-quantizing" not in capfd.readouterr().err
