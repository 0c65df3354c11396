"""The page frame: page config, sidebar (page links, model/revision/run, τ's place), store caption and empty states.

Navigation uses Streamlit's classic ``pages/`` discovery on every run (no
``st.navigation``), so a cold deep link such as ``/concept_domains?tau=0.7``
opens the same page, drawn by the same code, as a click does. The built-in
page list is hidden (``client.showSidebarNavigation = false``) and replaced by
labelled links, which lets hosted mode leave the Extract page out.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from typing import Any

import streamlit as st

from core.analysis import run_choice as run_policy
from core.render.style import fmt_number
from core.storage.paths import ROOT, store_stamp
from core.storage.records import Run
from core.storage.store import StoreError
from core.tau import TAU_DEFAULT
from ui.link_values import md_escape, parse_tau
from ui.settings import DEMO, Settings, resolve_settings, store_choices, with_store

from . import data, widget_states
from .links import choice, copy_widget, forget, from_link, linked, pick, remember, session_value, set_link
from .page_state import EXTRACT_PAGE, PAGES, Page

log = logging.getLogger(__name__)
APP_TITLE = "Expert neurons"
GLOBAL_PARAMS = ("store", "tau", "model", "rev", "run")


def _secrets() -> dict:
    """``.streamlit/secrets.toml`` as a dict; empty when there is none (never an error)."""
    try:
        return {k: st.secrets[k] for k in st.secrets}
    except Exception:  # no secrets file, or an unreadable one: settings fall back to env and defaults
        return {}


def page(title: str, key: str, params: Sequence[str] = (), need: str | None = None) -> Page:
    """Start a page: config, sidebar (links, model/revision/run, a place for τ), link state, the store.

    The page's τ is unset: ``ui.tau_section`` draws the τ slider in its place and gives the page its τ.

    ``params`` names the page's own link parameters; others (left by another page) are dropped from the link.
    ``need`` says which run the page shows by default when a model and revision have several (see
    ``preference``); a run picked by hand or named in the link is kept.
    """
    # No page_icon: a Material icon as favicon is fetched from Google's servers; the default favicon is local.
    st.set_page_config(page_title=f"{title} · {APP_TITLE}", layout="wide")
    widget_states.install()  # from the next message on, a widget value the widget cannot read is dropped
    _drop_foreign_params(params)
    st.session_state["_page_changed"] = st.session_state.get("_page") != key
    st.session_state["_page"] = key
    st.session_state["_full_run"] = st.session_state.get("_full_run", 0) + 1  # tells ui.tau_section its own reruns
    cfg = resolve_settings(os.environ, _secrets())
    if cfg.hosted:  # visitors see a generic message, never a traceback with server paths and source lines
        st.set_option("client.showErrorDetails", "none")
    _sidebar_links(cfg)
    cfg = _pick_store(cfg)
    path = cfg.store
    stamp = store_stamp(path)
    store, error, table = None, None, []
    if os.path.exists(path):
        try:
            store = data.open_store(path, stamp)
            table = data.runs(path, stamp)
        except StoreError as e:
            error = "the file is not a readable store" if cfg.hosted else str(e)  # visitors never see a path
            log.warning("store %s cannot be read: %s", path, e)
            store = None
    tau = from_link("tau", parse_tau, TAU_DEFAULT)
    run, prefer = None, None
    if table:  # which run the page needs is judged on the store alone (no run chosen yet)
        prefer = data.preference(need, Page(key, cfg, path, stamp, store, table, None, tau, error))
        run, notices = run_policy.choose_run(
            table,
            from_link("model", lambda raw: (raw, None), None),
            from_link("rev", lambda raw: (raw, None), None),
            from_link("run", lambda raw: (raw, None), None),
            prefer,
        )
        for n in notices:
            st.warning(md_escape(n), icon=":material/link_off:")
        if notices:
            forget("run")
    with st.sidebar:
        st.divider()
        if run is not None:
            models = list(dict.fromkeys(r.model for r in table))
            model = linked(
                st.selectbox,
                "model",
                run.model,
                label="Model",
                options=models,
                also_clear=(":rev", ":run"),
                help="Models with results in the store",
            )
            revs = list(dict.fromkeys(r.rev for r in table if r.model == model))
            rev_value = run.rev if run.model == model and run.rev in revs else revs[-1]
            rev = linked(
                st.selectbox,
                "rev",
                rev_value,
                label="Revision",
                options=revs,
                also_clear=(":run",),
                help="Training checkpoint (final = the model's released weights)",
            )
            run, _ = run_policy.choose_run(table, model, rev, session_value("run"), prefer)
            if run is not None:  # always: the table has runs
                run = _run_picker(run_policy.runs_of(table, model, rev), run, data.contents(path, stamp))
        slot = st.container()  # the τ slider's place: ui.tau_section draws it there, so τ moves rerun only that
        remember("tau", tau, text=f"{tau:.2f}")  # in the link on every page, a page without τ sections too
        _store_caption(cfg, path, run)
    if error:
        st.error(f"The store cannot be read: {error}")
    for notice in () if cfg.hosted else cfg.notices:  # developer notices are for the person running it
        st.info(notice, icon=":material/info:")
    return Page(key, cfg, path, stamp, store, table, run, None, error, tau_slot=slot)


STORE_KEEPS = (":model", ":rev", ":run")  # what a store change clears: another store has other runs


def _pick_store(cfg: Settings) -> Settings:
    """The store picker (local only, with more than one store: yours, the demo, others under ``cache/``), kept in
    the link as ``store``; the demo store is one click away while another is shown."""
    choices = store_choices(cfg)
    if len(choices) < 2:
        set_link("store", None)
        return cfg
    by_key = {c.key: c for c in choices}
    here = os.path.abspath(cfg.store)
    default = next((c.key for c in choices if os.path.abspath(c.path) == here), choices[0].key)
    with st.sidebar:
        key = choice(
            "store",
            list(by_key),
            default,
            "",
            "Store",
            format_func=lambda k: by_key[k].label,
            also_clear=STORE_KEEPS,
            help="Your store, the shipped demo store, or any .duckdb under cache/",
        )
        if key != DEMO and DEMO in by_key:
            st.button(
                "Show the demo store", icon=":material/science:", on_click=pick, args=("store", DEMO, "", STORE_KEEPS)
            )
    return with_store(cfg, by_key[key])


def _run_picker(same: list[Run], run: Run, held: dict) -> Run:
    """A run picker when the model and revision have several runs (concept sets, set sizes, folds).

    The run is written to the link, but kept for the session only when picked by hand (or named in a link),
    so that each page otherwise opens on the run it needs.
    """
    if len(same) < 2:
        set_link("run", None)
        return run
    wkey = "w::run"
    options = [r.run_id for r in same]
    labels = {r.run_id: run_policy.run_label(r, held) for r in same}
    if st.session_state.get("_page_changed", True) or st.session_state.get(wkey) != run.run_id:
        st.session_state[wkey] = run.run_id
    out = st.selectbox(
        "Run",
        options,
        key=wkey,
        format_func=lambda r: labels.get(r, str(r)),
        on_change=copy_widget,
        args=(wkey, "run", ""),
        help="This model and revision have several runs (concept sets, set sizes, folds); "
        "each page opens on the one it needs unless you pick one.",
    )
    set_link("run", out)
    return next(r for r in same if r.run_id == out)


def _drop_foreign_params(params: Sequence[str]) -> None:
    keep = set(GLOBAL_PARAMS) | set(params)
    for name in [k for k in st.query_params if k not in keep]:
        del st.query_params[name]


def _sidebar_links(cfg: Settings) -> None:
    with st.sidebar:
        st.markdown(f"### {APP_TITLE}")
        for link in PAGES:
            if link.script == EXTRACT_PAGE and not cfg.can_extract:
                continue
            st.page_link(link.script, label=link.label, icon=link.icon)


def _store_caption(cfg: Settings, path: str, run: Run | None) -> None:
    if cfg.hosted:  # a visitor sees no server path
        st.caption("Store: hosted demo (read-only)")
    else:
        where = os.path.relpath(path, ROOT) if path.startswith(ROOT) else path
        st.caption(f"Store: `{where}`" + (" · demo store (read-only)" if cfg.is_demo else ""))
    if run is not None:
        st.caption(f"Run `{run.run_id}` · {run.n_concepts} concepts")


def empty_state(p: Page, what: str = "") -> None:
    """What a page shows when there is nothing to draw yet."""
    if p.error:
        return
    if p.store is None and p.settings.hosted:
        st.info("This demo has no results to show.", icon=":material/inbox:")
    elif p.store is None:
        st.info(f"No store at `{p.path}` yet. {what}", icon=":material/inbox:")
    else:
        advice = "" if p.settings.hosted else what
        st.info(f"The store has no runs with results yet. {advice}", icon=":material/hourglass_empty:")
    st.page_link("app.py", label="Getting started (Home)", icon=":material/home:")


def require_run(p: Page, what: str = "") -> None:
    """Stop the page with a clear panel unless a run with results is chosen."""
    if p.run is None or p.run.n_results == 0:
        if p.run is not None:
            st.info(
                f"Run {p.run.title} has no results yet (an extraction may still be writing). {what}",
                icon=":material/hourglass_empty:",
            )
        else:
            empty_state(p, what)
        st.stop()


def fmt(x: Any, digits: int = 3) -> str:
    """A number for display; '—' for missing or infinite values (``core.render.style.fmt_number``)."""
    return fmt_number(x, digits)
