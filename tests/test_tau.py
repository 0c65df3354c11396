"""The τ range and its grids: one definition each."""

from __future__ import annotations

import pytest

from core import tau


def test_tau_grids():
    assert tau.SLIDER_TAUS == tuple(round(0.5 + 0.01 * i, 2) for i in range(51))
    assert tau.STABILITY_TAUS == (0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95)
    assert tau.REPORT_TAUS == (0.5, 0.6, 0.7, 0.8, 0.9)
    assert tau.curve_taus(0.73)[:2] == (0.5, 0.55) and 0.73 in tau.curve_taus(0.73) and tau.curve_taus(0.7)[-1] == 1.0


@pytest.mark.parametrize("bad", [0.49, 1.01, "x", None, float("nan")])
def test_tau_outside_the_range_is_refused(bad):
    with pytest.raises(ValueError, match="tau must be"):
        tau.check_tau(bad)
