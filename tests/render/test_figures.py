"""Figures of stability, set sizes and where experts sit: what they draw is what the tables hold."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.render import figures


def test_set_size_log_axis_shows_no_value_that_is_not_there():
    sizes = pd.DataFrame(
        {"tau": [0.5, 0.7, 0.9], "median": [40.0, 3.0, 0.0], "q25": [20.0, 0.5, 0.0], "q75": [60.0, 6.0, 1.0]}
    )
    fig = figures.set_size_figure(sizes, 0.7)
    line = next(t for t in fig.data if t.name == "median experts per concept")
    assert np.isnan(line.y[2]) and list(line.y[:2]) == [40.0, 3.0]  # a median of 0 has no point
    band = [t for t in fig.data if t.fill == "toself"]
    assert band and min(band[0].y) >= 1  # the quartile of 0.5 is left out, not drawn
    ticks = list(fig.layout.yaxis.tickvals)
    assert min(ticks) >= 1 and list(fig.layout.yaxis.ticktext) == [f"{t:,}" for t in ticks]
    assert fig.layout.yaxis.range[0] > -0.1  # the axis starts near one expert, not below


def test_where_figure_names_its_model_in_its_colour():
    layers = pd.DataFrame({"group": [0, 1, 2], "rho": [0.1, np.nan, 0.3]})
    kinds = pd.DataFrame({"group": ["mlp", "attn"], "rho": [0.2, 0.25]})
    fig = figures.where_figure(layers, kinds, 0.4, "#123456", "smollm2")
    assert {t.meta["model"] for t in fig.data} == {"smollm2"}
    assert fig.data[0].line.color == "#123456" and fig.data[1].marker.color == "#123456"
    assert len(fig.layout.shapes) == 2  # the all-units line in both panels
