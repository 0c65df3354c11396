"""The expert threshold τ: its range, its default and the grids it is evaluated on.

An expert of a concept is a unit whose AP exceeds τ. The method is defined for
τ in [0.5, 1] (AP 0.5 is chance), so 0.5 is also the lowest AP the store keeps:
every expert set at any allowed τ is a subset of what is stored.
"""

from __future__ import annotations

TAU_MIN = 0.5  # the lowest τ, and the AP floor of what the store keeps
TAU_MAX = 1.0
TAU_DEFAULT = 0.5
TAU_STEP = 0.01  # the dashboard slider's step


def grid(step: float, lo: float = TAU_MIN, hi: float = TAU_MAX) -> tuple[float, ...]:
    """τ values from ``lo`` to ``hi`` inclusive every ``step``, rounded to the step's decimals."""
    n = int(round((hi - lo) / step))
    return tuple(round(lo + step * i, 4) for i in range(n + 1))


SLIDER_TAUS = grid(TAU_STEP)  # 0.50, 0.51, …, 1.00: what an alignment snapshot stores
STABILITY_TAUS = grid(0.05, hi=0.95)  # 0.50, 0.55, …, 0.95: fold overlap curves of the CLI and report
REPORT_TAUS = grid(0.1, hi=0.9)  # 0.5, 0.6, …, 0.9: alignment against τ in the results report


def check_tau(tau) -> float:
    """Return ``tau`` as a float if it lies in [0.5, 1], the range the method is defined on."""
    try:
        value = float(tau)
    except (TypeError, ValueError):
        raise ValueError(f"tau must be a number in [{TAU_MIN}, {TAU_MAX:g}], got {tau!r}") from None
    if not TAU_MIN <= value <= TAU_MAX:
        raise ValueError(f"tau must be in [{TAU_MIN}, {TAU_MAX:g}], got {value:g}")
    return value


CURVE_STEP = 0.05  # the stability curves' grid: 0.50, 0.55, …, 1.00


def curve_taus(tau: float, step: float = CURVE_STEP) -> tuple[float, ...]:
    """The dashboard's stability grid (0.50, 0.55, … 1.00) plus the chosen τ."""
    return tuple(sorted(set(grid(step)) | {round(float(tau), 2)}))
