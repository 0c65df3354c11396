"""Figures kept between reruns: a figure is built once per key and reused while what it draws is unchanged.

Building a Plotly figure (validating every property) costs more than the analysis behind it, and most of a page does
not change when τ moves; the page names what a figure depends on in its key (store stamp, run, τ, pickers), and a
rerun with the same key reuses the built figure. Figures are shared, never changed after they are built.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any

import streamlit as st

if TYPE_CHECKING:
    from .page_state import Page


@st.cache_resource(show_spinner=False, max_entries=96)
def _built(name: str, path: str, stamp: tuple, key: tuple, _build: Callable[[], Any]) -> Any:
    return _build()


def figure(p: Page, name: str, key: tuple[Hashable, ...], build: Callable[[], Any]) -> Any:
    """``build()``, reused for the same page store, ``name`` and ``key`` (everything else the figure depends on)."""
    return _built(name, p.path, p.stamp, tuple(key), build)
