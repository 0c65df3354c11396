"""Widget values the browser sends are checked before Streamlit deserializes them.

A browser sends each widget's value in a typed protobuf field (a select box a
``string_value``, a slider a ``double_array_value``). A crafted websocket
message can send another field, or a value its deserializer cannot read (a
slider with no number), and Streamlit then fails inside its own callback
dispatch, before any page code runs, showing the visitor a TypeError. So,
once per process, ``install`` puts a check in front of Streamlit's
``SessionState.set_widgets_from_proto`` (values as they arrive) and
``register_widget`` (a value that arrived before its widget was first drawn):
a value in the wrong field, or one the widget's own deserializer refuses, is
dropped, and the widget keeps the value the page last gave it, as a link value
that does not parse falls back.
A number input is registered as ``double_value`` whatever its type, but the browser sends an integer number
input's value as ``int_value`` (Streamlit's ``NumberInput`` frontend calls ``setIntValue`` for ``DataType.INT``), so
``double_value`` widgets accept both fields (``SENT_AS``); the deserializer's trial read still checks the value.
Values of the right type that are not among the options (an unknown option, a
number out of range) are already dropped by Streamlit; ``ui.links`` checks
what reaches a page as it checks links.
"""

from __future__ import annotations

import logging

from streamlit.proto.WidgetStates_pb2 import WidgetStates
from streamlit.runtime.runtime_util import get_max_widget_state_size_bytes
from streamlit.runtime.state.common import unpack_widget_state_value
from streamlit.runtime.state.session_state import Serialized, SessionState

log = logging.getLogger(__name__)

# Fields whose deserializers are pure, so a trial read changes nothing (a chat input's or file uploader's
# deserializer consumes its upload records; those values keep only the field check).
TRIAL_READ = {
    "bool_value",
    "double_value",
    "int_value",
    "string_value",
    "json_value",
    "double_array_value",
    "int_array_value",
    "string_array_value",
}

# The fields the browser may send for a registered field, beyond the field itself. Only number inputs register
# ``double_value`` (streamlit/elements/widgets/number_input.py), and their integer kind arrives as ``int_value``.
SENT_AS = {"double_value": frozenset({"double_value", "int_value"})}


def readable(metadata, state) -> bool:
    """Whether ``state`` (a WidgetState proto) is in the field ``metadata`` expects and its deserializer reads it."""
    field = state.WhichOneof("value")
    if field is None or metadata is None:  # a cleared widget, or one not drawn yet: Streamlit handles both
        return True
    if field not in SENT_AS.get(metadata.value_type, (metadata.value_type,)):
        return False
    if field not in TRIAL_READ:
        return True
    try:
        metadata.deserializer(unpack_widget_state_value(state))
    except Exception:  # noqa: BLE001 - whatever a deserializer raises on a crafted value, the value is refused
        return False
    return True


def checked(session_state: SessionState, states: WidgetStates) -> WidgetStates:
    """``states`` without the values their widgets cannot read."""
    if states.ByteSize() > get_max_widget_state_size_bytes():
        return states  # Streamlit refuses the whole message itself
    known = session_state._new_widget_state.widget_metadata
    kept = WidgetStates()
    for state in states.widgets:
        if readable(known.get(state.id), state):
            kept.widgets.append(state)
        else:
            log.warning("dropped a widget value the browser sent in a form its widget cannot read: %s", state.id)
    return kept


def drop_unreadable(session_state: SessionState, metadata) -> None:
    """Drop the value waiting for a widget being drawn if the widget cannot read it.

    This covers a value sent before its widget was first drawn in this session, when ``checked`` had no
    metadata to check it against.
    """
    waiting = session_state._new_widget_state.states.get(metadata.id)
    if isinstance(waiting, Serialized) and not readable(metadata, waiting.value):
        del session_state._new_widget_state[metadata.id]
        log.warning("dropped a widget value the browser sent in a form its widget cannot read: %s", metadata.id)


def install() -> None:
    """Check every widget value the browser sends from now on (once per process; later calls do nothing)."""
    receive, register = SessionState.set_widgets_from_proto, SessionState.register_widget
    if getattr(receive, "_checks_widget_states", False):
        return

    def set_widgets_from_proto(self: SessionState, widget_states: WidgetStates) -> None:
        receive(self, checked(self, widget_states))

    def register_widget(self: SessionState, metadata, user_key):
        drop_unreadable(self, metadata)
        return register(self, metadata, user_key)

    set_widgets_from_proto._checks_widget_states = True
    SessionState.set_widgets_from_proto = set_widgets_from_proto
    SessionState.register_widget = register_widget
