"""The page record and the page list: one definition each."""

from __future__ import annotations

import dataclasses
import os
import re

import pytest

from ui.page_state import PAGES, Page
from ui.settings import resolve_settings

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_a_page_is_frozen_and_holds_tau_rounded_to_the_slider_step(tmp_path):
    cfg = resolve_settings({}, {}, root=str(tmp_path))
    p = Page("home", cfg, cfg.store, (), None, [], None, 0.53000000001)
    assert p.tau == 0.53 and not p.ready
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.tau = 0.6  # type: ignore[misc]


def test_a_page_without_tau_refuses_to_be_read_at_tau(tmp_path):
    """``ui.page`` leaves τ unset; only ``ui.tau_section`` sets it, so a section drawn outside it cannot show a stale
    τ: reading ``p.tau`` there fails at once."""
    cfg = resolve_settings({}, {}, root=str(tmp_path))
    p = Page("home", cfg, cfg.store, (), None, [], None, None)
    with pytest.raises(RuntimeError, match="outside ui.tau_section"):
        _ = p.tau
    assert dataclasses.replace(p, tau_value=0.7).tau == 0.7


def test_the_page_list_names_every_page_once_by_its_streamlit_path():
    assert len({link.key for link in PAGES}) == len(PAGES) == len({link.path for link in PAGES})
    scripts = {link.script for link in PAGES}
    assert scripts == {"app.py", *(f"pages/{f}" for f in os.listdir(os.path.join(ROOT, "pages")) if f.endswith(".py"))}
    for link in PAGES:
        stem = os.path.splitext(os.path.basename(link.script))[0]
        assert link.path == ("" if link.script == "app.py" else re.sub(r"^\d+_", "", stem))
