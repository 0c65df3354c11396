"""τ answers at once, in Chromium on the real server: a τ step reruns only what depends on τ.

The test reads what the server sends over the page's websocket (Streamlit's ``ForwardMsg`` protobufs): each script
run starts with a ``new_session`` message naming the fragments it reruns (none: the whole page), and each element
drawn arrives as a delta. A τ step must start one run, of the τ section alone, and must not send the page's title
or its sidebar pickers again; the link must carry the new τ after a step and after a drag (one run, on release),
and another page must open at that τ.
"""

from __future__ import annotations

import pytest
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from dashboard_server import keep_local, launch_chromium
from tests.ui.test_browser import BROWSER_TESTS, _serve, _wait_idle, sync_api, synthetic_env
from tests.ui.test_browser_inputs import on_failure, open_page, query, wait_link
from ui.page_state import PAGES
from ui.tau_section import TAU_LABEL

pytestmark = BROWSER_TESTS
HEADINGS = {  # the h1 of every page that draws at τ
    "home": "Analyze the neurons, not the embeddings",
    "domains": "Concept domains",
    "alignment": "Alignment with human similarity",
    "stability": "Stability of expert sets",
    "explorer": "Concept explorer",
}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The dashboard on a synthetic store: one model at three revisions, two folds, a domain list, a benchmark."""
    d = tmp_path_factory.mktemp("tau")
    _, env = synthetic_env(d)
    yield from _serve(d, env)


@pytest.fixture(scope="module")
def watched(server):
    """A Chromium page and the list of every ``ForwardMsg`` its websockets receive, in order."""
    received: list[ForwardMsg] = []

    def on_frame(payload) -> None:
        if isinstance(payload, bytes):
            received.append(ForwardMsg.FromString(payload))

    with sync_api.sync_playwright() as pw:
        browser = launch_chromium(pw)
        ctx = browser.new_context(viewport={"width": 1400, "height": 1500})
        keep_local(ctx)
        page = ctx.new_page()
        page.on("websocket", lambda ws: ws.on("framereceived", on_frame))
        yield page, received
        browser.close()


def runs(msgs: list[ForwardMsg]) -> list[list[str]]:
    """The script runs these messages start: for each, the fragments it reruns ([] for the whole page)."""
    return [list(m.metadata.run.fragment_ids) for m in msgs if m.WhichOneof("type") == "new_session"]


def drawn(msgs: list[ForwardMsg]) -> list[str]:
    """``kind: text`` of every element these messages draw (a heading's or text's body, a widget's label)."""
    out = []
    for m in msgs:
        if m.WhichOneof("type") != "delta" or m.delta.WhichOneof("type") != "new_element":
            continue
        kind = m.delta.new_element.WhichOneof("type")
        element = getattr(m.delta.new_element, kind)
        text = getattr(element, "label", "") or getattr(element, "body", "")
        out.append(f"{kind}: {text}")
    return out


def tau_thumb(page):
    """The τ slider's thumb (in the sidebar)."""
    slider = page.locator('[data-testid="stSidebar"] [data-testid="stSlider"]').filter(has_text=TAU_LABEL)
    return slider.locator('input[type="range"]')


def test_a_tau_step_reruns_only_the_tau_section(server, watched):
    page, received = watched
    try:
        _steps_and_drag(server, page, received)
    except BaseException:
        on_failure(page, server, "tau")
        raise


def _steps_and_drag(server, page, received):
    base = server["base"]
    # 1. On every page that draws at τ: one key step reruns the τ section alone and sends nothing outside it again.
    for link in PAGES:
        if link.key not in HEADINGS:
            continue
        heading = HEADINGS[link.key]
        open_page(page, base, f"/{link.path}?tau=0.50", heading)
        assert any(f"heading: {heading}" == d for d in drawn(received)), "the watcher sees no heading at all"
        mark = len(received)
        tau_thumb(page).focus()
        page.keyboard.press("ArrowRight")
        wait_link(page, "tau", "0.51")
        _wait_idle(page)
        after = received[mark:]
        started, sent = runs(after), drawn(after)
        print(link.key, "runs after one τ step:", started, "elements sent:", len(sent))
        assert len(started) == 1, f"{link.key}: one τ step started {len(started)} runs"
        assert started[0], f"{link.key}: a τ step reran the whole page, not the τ section"
        resent = [d for d in sent if d == f"heading: {heading}" or d.startswith(("selectbox: Model", "page_link"))]
        assert resent == [], f"{link.key}: a τ step sent again what does not depend on τ: {resent}"
        assert f"slider: {TAU_LABEL}" in sent and len(sent) > 1, f"{link.key}: nothing at τ was redrawn: {sent}"
        assert float(tau_thumb(page).input_value()) == pytest.approx(0.51)

    # 2. A drag from 0.50 towards 0.80: one run, when it is released, and the link holds the value it ended on.
    open_page(page, base, "/stability?tau=0.50", HEADINGS["stability"])
    thumb = tau_thumb(page)
    track = page.locator('[data-testid="stSidebar"] [data-testid="stSlider"]').filter(has_text=TAU_LABEL)
    track, box = track.bounding_box(), thumb.bounding_box()
    x0, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    x1 = x0 + (0.80 - 0.50) / 0.50 * (track["width"] - box["width"])
    mark = len(received)
    page.mouse.move(x0, y)
    page.mouse.down()
    for i in range(1, 21):
        page.mouse.move(x0 + (x1 - x0) * i / 20, y)
        page.wait_for_timeout(40)
    assert runs(received[mark:]) == [], "the slider sent values while it was still held"
    page.mouse.up()
    value = thumb.input_value()
    assert 0.7 <= float(value) <= 0.9, f"the drag ended at {value}"
    wait_link(page, "tau", f"{float(value):.2f}")
    _wait_idle(page)
    started = runs(received[mark:])
    assert len(started) == 1 and started[0], f"a drag started these runs (fragments each): {started}"

    # 3. Another page opens at that τ: in its slider and in its link.
    page.locator('[data-testid="stSidebar"]').get_by_text("Concept explorer", exact=True).click()
    page.wait_for_selector(f"h1:has-text('{HEADINGS['explorer']}')", timeout=60_000)
    _wait_idle(page)
    wait_link(page, "tau", f"{float(value):.2f}")
    assert tau_thumb(page).input_value() == value and query(page)["tau"] == f"{float(value):.2f}"
