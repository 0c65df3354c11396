"""Colours, labels and the τ grids: one definition each."""

from __future__ import annotations

from core.analysis.measures import MEASURES
from core.render import style


def test_labels_and_colours():
    assert style.size_label(70_000_000, "m") == "70M" and style.size_label(1.4e9, "m") == "1.4B"
    assert style.size_label(None, "m") == "m"
    assert style.rgba("#0072B2", 0.5) == "rgba(0,114,178,0.5)"
    for name, measure in MEASURES.items():
        assert style.method_label(name) == measure.label and style.method_colour(name) == measure.colour
    assert style.method_label("not_a_measure") == "not_a_measure"
    assert style.colours(["b", "a", "b"]) == {"b": style.PALETTE[0], "a": style.PALETTE[1]}


def test_model_looks_order_by_parameters_and_short_names():
    looks = style.model_looks(
        [("cache/checkpoints/wiki-neox-1.2m", 1_892_800), ("smollm2", 134_515_008), ("a/wiki-neox-100k", 362_240)]
        + [("cache/checkpoints/wiki-neox-1.2m", None), ("x/m.gguf", None)]
    )
    assert [v.name for v in sorted(looks.values(), key=lambda v: v.order)] == [
        "wiki-neox-100k", "wiki-neox-1.2m", "smollm2", "m"
    ]  # fmt: skip
    assert looks["smollm2"].size == "135M" and looks["smollm2"].colour == style.PALETTE[2]
    assert style.model_looks([("a/m", 1), ("b/m", 2)])["a/m"].name == "a/m"  # a shared short name: the full one


def test_numbers_for_people():
    assert style.fmt_p(1e-12) == "< 0.001" and style.fmt_p(0.0123) == "0.012" and style.fmt_p(None) == "—"
    assert style.fmt_number(float("inf")) == "—" and style.fmt_number(float("nan")) == "—"
    assert style.fmt_number(None) == "—" and style.fmt_number(0.71449) == "0.714"
