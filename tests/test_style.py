"""Colours, labels and the τ grids: one definition each."""

from __future__ import annotations

from core import style, tau


def test_labels_and_colours():
    assert style.size_label(70_000_000, "m") == "70M" and style.size_label(1.4e9, "m") == "1.4B"
    assert style.size_label(None, "m") == "m"
    assert style.rgba("#0072B2", 0.5) == "rgba(0,114,178,0.5)"
    assert list(style.METHOD_LABELS) == list(style.METHODS) == list(style.METHOD_COLOURS)
    assert style.colours(["b", "a", "b"]) == {"b": style.PALETTE[0], "a": style.PALETTE[1]}


def test_tau_grids():
    assert tau.SLIDER_TAUS == tuple(round(0.5 + 0.01 * i, 2) for i in range(51))
    assert tau.STABILITY_TAUS == (0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95)
    assert tau.REPORT_TAUS == (0.5, 0.6, 0.7, 0.8, 0.9)
    assert tau.curve_taus(0.73)[:2] == (0.5, 0.55) and 0.73 in tau.curve_taus(0.73) and tau.curve_taus(0.7)[-1] == 1.0
