"""Link state: every value a view depends on lives in the session and is written back to the query string.

A value in the link is read when it differs from what this session last wrote
there (a shared link, or the first visit), validated, and replaced by a default
with a visible notice when it is not usable. Streamlit clears the query string
on a page switch; the session copy restores it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import streamlit as st

from core.analysis.measures import MEASURES, concept_measures
from ui import link_values as links


def _state() -> dict:
    return st.session_state.setdefault("_link_state", {})


def _written() -> dict:
    return st.session_state.setdefault("_link_written", {})


def from_link(name: str, parse: Callable[[str], tuple[Any, str | None]], default: Any, scope: str = "") -> Any:
    """The current value of link parameter ``name``: from the link when it is new, else from the session.

    ``parse(raw)`` returns ``(value, notice)``; a notice is shown and the
    session (or default) value kept. ``scope`` keeps page-specific values apart.
    """
    key = f"{scope}:{name}"
    raw = st.query_params.get(name)
    if raw is not None and raw != _written().get(name):
        value, notice = parse(raw)
        if notice:
            st.warning(links.md_escape(notice), icon=":material/link_off:")
            _written()[name] = raw  # shown once; the corrected value replaces it below
        else:
            _state()[key] = value
    return _state().get(key, default)


def remember(name: str, value: Any, scope: str = "", text: str | None = None) -> None:
    """Store ``value`` in the session and write it to the link (``text`` or ``str(value)``)."""
    _state()[f"{scope}:{name}"] = value
    s = text if text is not None else ("" if value is None else str(value))
    if s == "":
        if name in st.query_params:
            del st.query_params[name]
        _written()[name] = None
        return
    # Written on every run, even when the server's copy already holds it: the browser can lose a write made by a run
    # that a newer rerun interrupted, and a value written only on change would then never be sent again.
    st.query_params[name] = s
    _written()[name] = s


def copy_widget(widget_key: str, name: str, scope: str, also_clear: Sequence[str] = ()) -> None:
    _state()[f"{scope}:{name}"] = st.session_state[widget_key]
    for other in also_clear:
        _state().pop(other, None)


def linked(
    widget: Callable,
    name: str,
    value: Any,
    scope: str = "",
    also_clear: Sequence[str] = (),
    to_text: Callable[[Any], str] = str,
    **kwargs,
) -> Any:
    """Draw ``widget`` (st.slider, st.selectbox, …) showing ``value`` and keep it in the link.

    The widget is driven through its session-state key, never ``value=``, so
    a value from a link and a value from the user cannot fight.
    """
    wkey = f"w:{scope}:{name}"
    # Set the widget only when it must change (a new link value, a fallback) or on the first run of a page, where
    # the same key is a new widget that ignores a value left from the last page. Setting it on every run would
    # push the old value back to the browser while the user is still moving the widget.
    if st.session_state.get("_page_changed", True) or wkey not in st.session_state or st.session_state[wkey] != value:
        st.session_state[wkey] = value
    out = widget(key=wkey, on_change=copy_widget, args=(wkey, name, scope, also_clear), **kwargs)
    remember(name, out, scope, text=to_text(out) if out is not None else "")
    return out


def choice(
    name: str,
    options: Sequence,
    default: Any,
    scope: str,
    label: str,
    to_text: Callable[[Any], str] = str,
    from_text: Callable[[str], Any] | None = None,
    omit_default: bool = False,
    **kwargs,
) -> Any:
    """A selectbox kept in the link; a value no longer among ``options`` falls back to ``default``
    (``omit_default``: the default leaves the link without this parameter)."""
    options = list(options)

    def parse(raw: str):
        value = from_text(raw) if from_text else raw
        return links.parse_choice(value, options, default, name, shown=to_text(default), raw=raw)

    value = from_link(name, parse, default, scope)
    if value not in options:
        value = default
    text = (lambda v: "" if v == default else to_text(v)) if omit_default else to_text
    return linked(st.selectbox, name, value, scope, label=label, options=options, to_text=text, **kwargs)


def multi(name: str, options: Sequence[str], default: Sequence[str], scope: str, label: str, **kwargs) -> list:
    """A multiselect kept in the link as a comma-separated list (the default leaves the link short)."""
    options = list(options)
    value = from_link(name, lambda raw: links.parse_multi(raw, options, name), list(default), scope) or list(default)
    value = [v for v in value if v in options]
    short = set(default)  # all chosen, when that is the default, leaves the link short: new options join in later
    return linked(
        st.multiselect,
        name,
        value,
        scope,
        label=label,
        options=options,
        to_text=lambda v: "" if set(v) == short else ",".join(v),
        **kwargs,
    )


def number(
    name: str, lo: float, hi: float, step: float, default: float, scope: str, label: str, digits: int = 2, **kwargs
) -> float:
    """A float slider kept in the link."""
    value = from_link(name, lambda raw: links.parse_number(raw, lo, hi, default, name), default, scope)
    value = round(round(float(value) / step) * step, digits)
    return linked(
        st.slider,
        name,
        value,
        scope,
        label=label,
        min_value=lo,
        max_value=hi,
        step=step,
        format=f"%.{digits}f",
        to_text=lambda v: f"{v:.{digits}f}",
        **kwargs,
    )


def pick(name: str, value: Any, scope: str = "", clear: Sequence[str] = ()) -> None:
    """Set ``name`` as if picked in its widget (for a button beside it; call from the button's callback)."""
    st.session_state[f"w:{scope}:{name}"] = value
    _state()[f"{scope}:{name}"] = value
    for other in clear:
        _state().pop(other, None)


def session_value(name: str, scope: str = "") -> Any:
    """The value of link parameter ``name`` this session holds (None if none)."""
    return _state().get(f"{scope}:{name}")


def forget(name: str, scope: str = "") -> None:
    """Drop the session's value of ``name`` (a page then opens on its own default)."""
    _state().pop(f"{scope}:{name}", None)


def set_link(name: str, text: str | None) -> None:
    """Write ``text`` to the link (remove the parameter for None) without touching the session value."""
    if text is None:
        if name in st.query_params:
            del st.query_params[name]
    elif st.query_params.get(name) != text:
        st.query_params[name] = text
    _written()[name] = text


def measure_choice(scope: str, default: str, label: str, help: str) -> str:
    """A picker of the measures that score any two concepts (``core.analysis.measures``), ``default`` first, kept in
    the link as ``measure`` (left out while it is the default)."""
    options = [default, *(m for m in concept_measures() if m != default)]
    label_of = {m: MEASURES[m].label for m in options}
    return choice("measure", options, default, scope, label, omit_default=True, format_func=label_of.get, help=help)
