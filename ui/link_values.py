"""Values read from a dashboard link (query string): validated, or replaced by a default with a notice.

A link is input from anyone, so every value is checked against what the store
holds, and a value echoed back in a notice is escaped so it cannot become
Markdown (an image, a link) in the visitor's page.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

from core.tau import TAU_DEFAULT, TAU_MAX, TAU_MIN, TAU_STEP

_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&=])")
_AUTOLINK = re.compile(r"(?i)(https?|ftp|www|mailto)")


def md_escape(text: str) -> str:
    """``text`` as literal Markdown: a link value echoed in a notice must not become an image, link or HTML.

    Streamlit renders notices as Markdown, so ``?model=![x](https://elsewhere/pixel.png)`` would otherwise
    make every visitor's browser fetch from another server.
    """
    escaped = _MARKDOWN.sub(r"\\\1", str(text))
    return _AUTOLINK.sub(lambda m: m.group(0)[0] + "\u2060" + m.group(0)[1:], escaped)  # no bare-URL links


def parse_tau(raw: str | None, default: float = TAU_DEFAULT) -> tuple[float, str | None]:
    """τ from a link: a number in [0.5, 1] on the slider's 0.01 grid, else ``default`` and a notice."""
    if raw is None or raw == "":
        return default, None
    value = _link_float(raw, TAU_MIN, TAU_MAX)
    if value is None:
        return default, f"τ = {str(raw)[:20]!r} in the link is not a number in [0.5, 1]; showing τ = {default:.2f}."
    return round(round(value / TAU_STEP) * TAU_STEP, 2), None


def parse_number(raw: str | None, lo: float, hi: float, default: float, name: str) -> tuple[float, str | None]:
    """A float link value clipped to nothing: out of [lo, hi] or not a number gives ``default`` and a notice."""
    if raw is None or raw == "":
        return default, None
    value = _link_float(raw, lo, hi)
    if value is None:
        return default, f"{name} = {str(raw)[:20]!r} in the link is not in [{lo:g}, {hi:g}]; showing {default:g}."
    return value, None


def _link_float(raw: str, lo: float, hi: float) -> float | None:
    """``raw`` as a finite float in [lo, hi], else None."""
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) and lo <= value <= hi else None


def parse_choice(value, options: Iterable, default, name: str, shown: str | None = None, raw: str | None = None):
    """``(value, None)`` if ``value`` (read from link text ``raw``) is one of ``options``, else ``default`` and a notice.

    ``shown`` is how ``default`` is named in the notice (default: ``str(default)``, "nothing" for None).
    """
    raw = value if raw is None else raw
    if raw is None or raw == "":
        return default, None
    if value in list(options):
        return value, None
    shown = shown if shown is not None else (str(default) if default is not None else "nothing")
    return default, f"{name} {str(raw)[:40]!r} from the link is not available here; showing {shown}."


def parse_multi(raw: str | None, options: Iterable[str], name: str) -> tuple[list[str] | None, str | None]:
    """A comma-separated subset of ``options`` from a link (unknown items dropped with a notice)."""
    if raw is None or raw == "":
        return None, None
    options = list(options)
    items = [x for x in (s.strip() for s in raw.split(",")) if x]
    kept = [x for x in items if x in options]
    dropped = [x for x in items if x not in options]
    notice = None
    if dropped:
        notice = f"{name}: {', '.join(repr(x[:30]) for x in dropped[:5])} from the link not found; left out."
    return kept or None, notice
