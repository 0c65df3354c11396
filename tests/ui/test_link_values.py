"""Link values: parsed, validated, replaced with a notice, and escaped when echoed."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.tau import TAU_MAX, TAU_MIN
from ui import link_values as links


# -- link values ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "raw, expected, notice",
    [
        ("0.7", 0.7, False),
        ("0.70", 0.7, False),
        ("1", 1.0, False),
        ("0.5", 0.5, False),
        ("0.734", 0.73, False),
        (None, 0.5, False),
        ("", 0.5, False),
        ("abc", 0.5, True),
        ("0.49", 0.5, True),
        ("1.01", 0.5, True),
        ("nan", 0.5, True),
        ("inf", 0.5, True),
        ("<script>", 0.5, True),
    ],
)
def test_parse_tau(raw, expected, notice):
    value, msg = links.parse_tau(raw)
    assert value == pytest.approx(expected) and bool(msg) == notice


@given(st.text(max_size=30))
def test_parse_tau_never_fails_and_stays_in_range(raw):
    value, _ = links.parse_tau(raw)
    assert TAU_MIN <= value <= TAU_MAX


def test_parse_multi_and_choice():
    assert links.parse_multi("a,zz,b", ["a", "b"], "domains")[0] == ["a", "b"]
    assert "zz" in links.parse_multi("a,zz", ["a"], "domains")[1]
    value, notice = links.parse_choice("x", ["a"], "a", "bench")
    assert value == "a" and "'x'" in notice
    assert links.parse_choice("a", ["a"], "b", "bench") == ("a", None)
    assert links.parse_choice(3, [1, 3], 1, "n", raw="3") == (3, None)  # a value converted from link text
    assert links.parse_number("2", 0, 1, 0.05, "min_w")[0] == 0.05


def test_link_values_echoed_in_notices_stay_plain_text():
    raw = "![x](https://elsewhere.example/p.png) <img src=x> [a](javascript:alert(1)) www.x.org"
    out = links.md_escape(f"Model {raw!r} from the link is not in this store.")
    assert re.search(r"(?<!\\)[!\[\]()<>]", out) is None  # every Markdown/HTML character is escaped
    assert "https://" not in out and "www." not in out  # no bare-URL autolinks either
    assert out.replace("\\", "").replace("\u2060", "") == f"Model {raw!r} from the link is not in this store."
