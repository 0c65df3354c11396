"""Ratios that hold under load: variants timed interleaved (A B C A B C …) and compared round by round.

A benchmark that times A, then B, then C measures whatever load arrived in between as a difference between them.
Timing them in rounds, each round running every variant once, puts each round's variants under the same load; the
ratio of two variants is taken within each round and reported as the median over rounds with its spread, beside
the load average seen while they ran (so a reader can tell a quiet run from a loaded one).
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field


def load_average() -> float:
    """The 1-minute load average (runnable processes; compare with the number of CPU cores)."""
    return os.getloadavg()[0]


@dataclass
class Rounds:
    """Wall times of each variant, one per round, and the load average sampled around every round."""

    times: dict[str, list[float]]
    loads: list[float] = field(default_factory=list)
    cpu: dict[str, list[float]] = field(default_factory=dict)  # this process's CPU seconds (all its threads)

    @property
    def n(self) -> int:
        return min(len(v) for v in self.times.values())

    def ratio(self, base: str, name: str, cpu: bool = False) -> list[float]:
        """``base``'s time over ``name``'s, per round: the speed of ``name`` relative to ``base`` (1 = as fast).

        ``cpu``: by this process's CPU time instead of wall time; on a CPU, work that other processes delay is not
        counted, so the ratio of CPU-bound variants moves less with the load (it misses what waits on I/O).
        """
        times = self.cpu if cpu else self.times
        return [b / t for b, t in zip(times[base], times[name])]

    def median(self, name: str) -> float:
        return statistics.median(self.times[name])

    def ratio_text(self, base: str, name: str, cpu: bool = False) -> str:
        """``median r (min-max over n rounds)`` of the per-round ratios."""
        r = self.ratio(base, name, cpu)
        return f"{statistics.median(r):5.2f} ({min(r):.2f}-{max(r):.2f} over {len(r)} rounds)"

    def load_text(self) -> str:
        cores = os.cpu_count() or 1
        lo, hi = min(self.loads), max(self.loads)
        return (
            f"load average seen: {lo:.1f}-{hi:.1f} (mean {statistics.fmean(self.loads):.1f}) on {cores} CPU cores"
            + ("; loaded" if hi > cores else "")
        )


def interleaved(variants: dict[str, Callable[[], object]], rounds: int, sync: Callable[[], None] = lambda: None):
    """Run every variant once per round, in the given order, ``rounds`` times; ``sync`` waits for an accelerator."""
    out = Rounds({name: [] for name in variants}, cpu={name: [] for name in variants})
    out.loads.append(load_average())
    for _ in range(rounds):
        for name, fn in variants.items():
            sync()
            t, c = time.perf_counter(), time.process_time()
            fn()
            sync()
            out.times[name].append(time.perf_counter() - t)
            out.cpu[name].append(time.process_time() - c)
        out.loads.append(load_average())
    return out
