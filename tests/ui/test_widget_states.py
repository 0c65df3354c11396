"""``ui.widget_states``: a widget value the browser sends in a form its widget cannot read is dropped.

The pages under crafted values are in ``tests/ui/test_app_pages.py``; these check the two checkpoints directly,
including a value sent before its widget was ever drawn (no metadata to check it against yet).
"""

from __future__ import annotations

import pytest
from streamlit.proto.WidgetStates_pb2 import WidgetStates
from streamlit.runtime.state.common import WidgetMetadata
from streamlit.runtime.state.session_state import SessionState

from ui import widget_states

OPTIONS = ["cat", "dog"]


def select_box(wid: str = "w1") -> WidgetMetadata:
    """A select box's metadata as Streamlit keeps it: the option's text on the wire, its index in Python."""

    def deserialize(text):
        if text is not None and not isinstance(text, str):
            raise TypeError(f"expected a str, got {text!r}")  # as Streamlit's own select box serde fails
        return OPTIONS.index(text) if text in OPTIONS else None

    return WidgetMetadata(id=wid, deserializer=deserialize, serializer=lambda i: OPTIONS[i], value_type="string_value")


def slider(wid: str = "w2") -> WidgetMetadata:
    return WidgetMetadata(
        id=wid, deserializer=lambda v: v[0], serializer=lambda x: [x], value_type="double_array_value"
    )


def sent(**fields) -> WidgetStates:
    states = WidgetStates()
    for wid, field in fields.items():
        states.widgets.add(id=wid, **field)
    return states


@pytest.fixture
def session():
    widget_states.install()
    widget_states.install()  # a second call changes nothing
    state = SessionState()
    for meta in (select_box(), slider()):
        state._new_widget_state.set_widget_metadata(meta)
    return state


def kept(state: SessionState) -> set[str]:
    return set(state._new_widget_state.states)


def test_values_in_their_widgets_form_pass(session):
    session.set_widgets_from_proto(sent(w1={"string_value": "dog"}, w2={"double_array_value": {"data": [0.7]}}))
    assert kept(session) == {"w1", "w2"}
    assert session._new_widget_state["w1"] == 1 and session._new_widget_state["w2"] == 0.7


@pytest.mark.parametrize(
    "fields",
    [
        {"w1": {"int_value": 7}},  # wrong field for a select box
        {"w1": {"string_array_value": {"data": ["cat"]}}},
        {"w2": {"string_value": "0.7"}},  # wrong field for a slider
        {"w2": {"double_array_value": {"data": []}}},  # its own field, but its deserializer cannot read it
    ],
)
def test_values_their_widget_cannot_read_are_dropped(session, fields):
    session.set_widgets_from_proto(sent(**fields, w3={"int_value": 1}))  # w3: a widget not drawn yet passes
    assert kept(session) == {"w3"}


def test_a_value_sent_before_its_widget_was_drawn_is_checked_when_it_is(session, caplog):
    session.set_widgets_from_proto(sent(w9={"int_value": 7}, w8={"string_value": "cat"}))
    assert kept(session) == {"w9", "w8"}  # no metadata yet: nothing to check against
    session.register_widget(select_box("w9"), None)  # without the check, deserializing 7 raises TypeError here
    session.register_widget(select_box("w8"), None)
    assert session._new_widget_state["w9"] is None  # the widget's default: the crafted value was dropped
    assert session._new_widget_state["w8"] == 0
    assert "cannot read: w9" in caplog.text and "w8" not in caplog.text


def number_input(wid: str = "w4") -> WidgetMetadata:
    """An integer number input as Streamlit registers it: ``double_value``, whatever the number's type."""

    def deserialize(v):
        if v is not None and not isinstance(v, (int, float)):
            raise TypeError(f"expected a number, got {v!r}")
        return v

    return WidgetMetadata(id=wid, deserializer=deserialize, serializer=lambda v: v, value_type="double_value")


@pytest.mark.parametrize("field", [{"int_value": 20}, {"double_value": 20.0}])
def test_a_number_input_takes_the_integer_field_the_browser_sends(session, field):
    """The browser sends an integer number input's value as ``int_value`` (the Extract page's 20 typed was lost)."""
    session._new_widget_state.set_widget_metadata(number_input())
    session.set_widgets_from_proto(sent(w4=field))
    assert kept(session) == {"w4"} and session._new_widget_state["w4"] == 20


@pytest.mark.parametrize("field", [{"string_value": "20"}, {"int_array_value": {"data": [20]}}])
def test_a_number_input_still_drops_other_fields(session, field):
    session._new_widget_state.set_widget_metadata(number_input())
    session.set_widgets_from_proto(sent(w4=field))
    assert kept(session) == set()
