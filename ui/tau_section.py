"""τ answers at once: the τ slider and everything a page draws at τ, in one Streamlit fragment.

A page calls ``ui.tau_section(p, draw)`` once, after what does not depend on τ (its text, its pickers), and
``draw(q)`` draws the rest from ``q``, the page at the slider's τ. Moving τ then reruns only this fragment: the
sidebar, the pickers and the sections outside it stay as they are and are not sent again. The slider itself stays
in the sidebar, in the place ``ui.page`` keeps for it (``Page.tau_slot``): a fragment may write into a container
made outside it, and a widget written there reruns the fragment, not the page (``st.fragment``).
τ lives in the link (``?tau=``) and the session as before (``ui.links``); a drag sends one value, on release.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import streamlit as st

from core.tau import TAU_DEFAULT, TAU_MAX, TAU_MIN, TAU_STEP
from ui.link_values import parse_tau

from .links import from_link, linked
from .page_state import Page

TAU_LABEL = "Expert threshold τ (AP >)"


def tau_section(p: Page, draw: Callable[[Page], None]) -> None:
    """The τ slider (in the sidebar) and ``draw(p at its τ)``, rerun alone when τ moves."""
    _section(p, draw)


@st.fragment
def _section(p: Page, draw: Callable[[Page], None]) -> None:
    full_run = st.session_state.get("_full_run")
    if st.session_state.get("_tau_section_run") == full_run:  # a rerun of this fragment alone: the same page
        st.session_state["_page_changed"] = False
    st.session_state["_tau_section_run"] = full_run
    with p.tau_slot if p.tau_slot is not None else st.sidebar:
        tau = slider(from_link("tau", parse_tau, TAU_DEFAULT))
    draw(replace(p, tau_value=tau))


def slider(value: float) -> float:
    """The τ slider showing ``value``, kept in the link as ``tau``."""
    return linked(
        st.slider,
        "tau",
        value,
        label=TAU_LABEL,
        min_value=TAU_MIN,
        max_value=TAU_MAX,
        step=TAU_STEP,
        format="%.2f",
        to_text=lambda v: f"{v:.2f}",
        help="A unit is an expert of a concept when its average precision exceeds τ.",
    )
