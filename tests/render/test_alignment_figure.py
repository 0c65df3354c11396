"""The alignment figure: Plotly and SVG from one table, escaped, with and without training curves."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pandas as pd
import pytest

from core.render import alignment_figure

XSS = "<img src=x onerror=alert(1)>"


def _alignment_table(steps=(0, 1000, 143000)) -> pd.DataFrame:
    rows = []
    for size, n in (("m70", 7e7), ("m410", 4.1e8)):
        for s in steps:
            for k, method in enumerate(("experts", "word_embedding", "sentence_embedding")):
                rho = 0.3 + 0.1 * k + (s or 1) / 1e6
                rows.append(
                    {
                        "run_id": f"{size}-{s}",
                        "model": size,
                        "family": "toy",
                        "n_params": n,
                        "revision": None if s is None else f"step{s}",
                        "step": s,
                        "method": method,
                        "tau": 0.5,
                        "rho": rho,
                        "ci_low": rho - 0.05,
                        "ci_high": rho + 0.05,
                        "p_value": 0.01,
                        "p_vs_experts": 0.2,
                        "n_pairs": 100,
                        "n_missing": 3,
                    }
                )
    return pd.DataFrame(rows)


@pytest.mark.parametrize("steps", [(0, 1000, 143000), (None,)])
def test_alignment_figures(steps):
    frame = alignment_figure.curve_frame(_alignment_table(steps))
    assert alignment_figure.has_curves(frame) == (steps[0] is not None)
    fig = alignment_figure.alignment_figure(frame, 0.84)
    assert any(getattr(s, "name", None) for s in fig.data)
    svg = alignment_figure.alignment_svg(frame, 0.84, title=f"MEN {XSS}")
    root = ET.fromstring(svg)  # well-formed
    assert root.tag.endswith("svg") and "human ceiling 0.84" in svg and XSS not in svg
    assert len(alignment_figure.alignment_display(frame)) == len(frame)


def test_alignment_figure_empty_table():
    frame = alignment_figure.curve_frame(pd.DataFrame(columns=_alignment_table().columns))
    ET.fromstring(alignment_figure.alignment_svg(frame))
    alignment_figure.alignment_figure(frame)


def test_curve_frame_with_nullable_steps():
    """DuckDB returns a BIGINT column with NULLs as pandas' nullable Int64 (a model's final weights have no step)."""
    frame = alignment_figure.curve_frame(_alignment_table().astype({"step": "Int64"}))
    assert frame["x"].dtype == "float64"
