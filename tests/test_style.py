"""Colours, labels and the τ grids: one definition each."""

from __future__ import annotations

from core import style


def test_labels_and_colours():
    assert style.size_label(70_000_000, "m") == "70M" and style.size_label(1.4e9, "m") == "1.4B"
    assert style.size_label(None, "m") == "m"
    assert style.rgba("#0072B2", 0.5) == "rgba(0,114,178,0.5)"
    assert list(style.METHOD_LABELS) == list(style.METHODS) == list(style.METHOD_COLOURS)
    assert style.colours(["b", "a", "b"]) == {"b": style.PALETTE[0], "a": style.PALETTE[1]}
