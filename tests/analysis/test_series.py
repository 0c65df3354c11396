"""Alignment over a checkpoint series: tables, the where × when matrix, the log axis and the PNGs."""

import numpy as np
import pandas as pd

from core.analysis.series import (
    claim_lines,
    over_training,
    series_markdown,
    series_models,
    series_sizes,
    step_positions,
    where_when,
)
from core.render import style
from core.render.series_figures import training_png, where_when_png

STEPS = (0, 1, 4, 64, 512)


def _runs():
    rows = []
    for model, n_params in (("big", 2_000_000), ("small", 300_000)):
        for k, step in enumerate(STEPS):
            rows.append(
                {
                    "run_id": f"{model}{step}",
                    "model": model,
                    "revision": f"step{step}",
                    "step": step,
                    "n_params": n_params,
                    "dataset_hash": "d",
                    "weights_hash": f"{model}-w{min(k, 3)}",  # steps 64 and 512 share weights
                    "n_results": 10,
                }
            )
    rows.append({**rows[0], "run_id": "lone", "model": "other", "step": None, "revision": None})
    return pd.DataFrame(rows)


def _table(runs):
    rows = []
    for r in runs.itertuples():
        for method, base in (("experts", 0.6), ("word_embedding", 0.2), ("sentence_embedding", 0.4)):
            rho = base * np.log1p(r.step or 0) / np.log1p(512)
            rows.append({**r._asdict(), "method": method, "rho": rho, "ci_low": rho - 0.05, "ci_high": rho + 0.05})
        for layer in range(3):
            rows.append({"run_id": r.run_id, "method": f"layer:{layer}", "rho": 0.1 * layer + 0.001 * (r.step or 0)})
    return pd.DataFrame(rows).drop(columns="Index")


def test_series_models_are_sizes_with_several_steps_smallest_first():
    assert series_models(_runs()) == ["small", "big"]
    assert series_models(_runs().iloc[:1]) == []


def test_over_training_flags_identical_neighbours_and_drops_layer_rows():
    runs = _runs()
    t = over_training(_table(runs), runs)
    assert set(t["method"]) == {"experts", "word_embedding", "sentence_embedding"}
    assert t["model"].iloc[0] == "small" and "other" not in set(t["model"])
    flagged = t[t["same_weights_as"] != ""]
    assert set(flagged["step"]) == {512} and set(flagged["same_weights_as"]) == {"step64"}


def test_where_when_is_layers_by_steps():
    runs = _runs()
    m = where_when(_table(runs), runs)
    assert list(m) == ["small", "big"]
    assert list(m["big"].columns) == list(STEPS) and list(m["big"].index) == [0, 1, 2]
    assert np.isclose(m["big"].loc[2, 512], 0.2 + 0.512)


def test_step_positions_show_step_zero_left_of_step_one():
    x, vals, text = step_positions([0, 1, 4, 1000])
    assert x[0] == 0.5 and x[1] == 1 and x[0] < x[1]
    assert text[0] == "0" and vals[0] == 0.5 and "1,000" in text
    x, _, text = step_positions([512, 1024])
    assert "0" not in text and list(x) == [512, 1024]


def test_claim_lines_are_computed_from_the_curves():
    runs = _runs()
    curves = over_training(_table(runs), runs)
    text = "\n".join(claim_lines(curves))
    # experts 0.6·f vs sentence 0.4·f and word 0.2·f, CIs ± 0.05, f = log1p(step) / log1p(512)
    assert "experts ρ 0.000 at step 0 → 0.600 at step 512 (first above step 0's CI at step 4)" in text
    assert "above sentence embedding at 2, below at 0 of 5 checkpoints" in text
    assert "above word embedding at 3, below at 0 of 5 checkpoints" in text
    assert "spans 0.600–0.600 across the 2 sizes; the smallest and the largest size's CIs overlap." in text
    worse = curves.copy()
    worse.loc[worse["method"] == "sentence_embedding", ["rho", "ci_low", "ci_high"]] += 1.0
    worse.loc[(worse["model"] == "big") & (worse["method"] == "experts"), ["rho", "ci_low", "ci_high"]] += 0.3
    text = "\n".join(claim_lines(worse))
    assert "above sentence embedding at 0, below at 5 of 5 checkpoints" in text
    assert "CIs do not overlap." in text
    assert claim_lines(curves.iloc[:0]) == []


def test_markdown_and_pngs(tmp_path):
    runs = _runs()
    curves = over_training(_table(runs), runs)
    log = pd.DataFrame(
        {
            "model": ["small"] * 3 + ["big"] * 3,
            "step": [0, 64, 512] * 2,
            "tokens": [0, 6400, 51200] * 2,
            "loss": [np.nan, 5.0, 4.0, np.nan, 4.5, 3.5],
            "held_out_loss": [8.3, 5.1, 4.1, 8.3, 4.6, 3.6],
        }
    )
    sizes = series_sizes(runs, log)
    assert sizes.set_index("model").loc["big", "checkpoints"] == len(STEPS)
    assert sizes.set_index("model").loc["big", "held_out_loss"] == 3.6
    md = "\n".join(series_markdown(curves, sizes, 0.5))
    assert "| big | 512 |" in md and "| step64 |" in md and "51,200" in md
    for png in (
        training_png(curves, log, str(tmp_path / "t.png"), 0.84, "MEN test"),
        where_when_png(where_when(_table(runs), runs), str(tmp_path / "w.png"), "where × when"),
    ):
        with open(png, "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n"


def test_missing_cells_have_their_own_grey_trace_and_legend_entry():
    from core.render.series_figures import where_when_figure

    m = pd.DataFrame([[0.0, np.nan], [0.2, -0.1]], index=[0, 1], columns=[0, 64])
    fig = where_when_figure({"small": m})
    missing = [t for t in fig.data if t.meta and t.meta.get("kind") == "missing"]
    assert len(missing) == 1 and missing[0].colorscale[0][1] == style.MISSING_COLOUR
    z = np.asarray(missing[0].z, float)
    assert z[0, 1] == 1 and np.isnan(z[0, 0])  # grey where rho is missing, nothing over rho = 0
    assert any(t.name == "no result (missing cell)" for t in fig.data) and fig.layout.showlegend


def test_plotly_figures_have_one_heatmap_per_size_and_loss_lines():
    from core.render.series_figures import loss_figure, where_when_figure

    runs = _runs()
    fig = where_when_figure(where_when(_table(runs), runs))
    heatmaps = [t for t in fig.data if t.type == "heatmap" and t.meta["kind"] == "rho"]
    assert [t.name for t in heatmaps] == ["small", "big"] and len(heatmaps[0].x) == len(STEPS)
    assert {(t.zmin, t.zmax) for t in heatmaps} == {(-style.RHO_RANGE, style.RHO_RANGE)}  # fixed, whatever the data
    log = pd.DataFrame({"model": ["a", "a", "b"], "step": [0, 8, 8], "tokens": [0, 8, 8], "loss": [9, 5, 4]})
    fig = loss_figure(log.assign(held_out_loss=[9.1, 5.1, 4.1]))
    assert len(fig.data) == 4 and fig.data[0].x[0] == 4  # step 0 drawn at half the first positive step
