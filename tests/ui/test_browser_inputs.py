"""Every value a person enters in the browser takes effect: typed, keyed, clicked into each input of each page.

AppTest sends widget values the way Python expects them (a number input's value as a double); the browser sends
an integer number input's value as ``int_value``. So these tests drive the real server in Chromium, the ways a
person does (``fill``, keys, the +/- buttons, a click on a slider's track, typing into a select box), and check
that each value reached what it should: the link (the URL's query) or the Extract page's job command.
"""

from __future__ import annotations

import os
import re
import shutil
import urllib.parse

import pytest

from dashboard_server import keep_local, launch_chromium
from tests.ui.test_browser import ARTIFACTS, BROWSER_TESTS, PLOTS_JS, _serve, _shot, _wait_idle, sync_api, synthetic_env

pytestmark = BROWSER_TESTS


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The dashboard on a synthetic store of its own: one model at three revisions, two folds, a benchmark."""
    d = tmp_path_factory.mktemp("inputs")
    _, env = synthetic_env(d)
    corpus = d / "corpus.txt"
    corpus.write_text("".join(f"The cat number {i} sat on a mat.\nA dog ran to the park {i}.\n" for i in range(30)))
    for running in _serve(d, env):
        yield {**running, "corpus": str(corpus)}


@pytest.fixture(scope="module")
def page(server):
    with sync_api.sync_playwright() as pw:
        browser = launch_chromium(pw)
        ctx = browser.new_context(viewport={"width": 1400, "height": 1500})
        keep_local(ctx)
        yield ctx.new_page()
        browser.close()


def widget(page, testid: str, label: str):
    """The widget of kind ``testid`` (``stNumberInput``, ``stSelectbox``, …) whose label starts with ``label``."""
    return page.locator(f'[data-testid="{testid}"]').filter(
        has=page.locator('[data-testid="stWidgetLabel"]', has_text=re.compile("^" + re.escape(label)))
    )


def query(page) -> dict[str, str]:
    return {k: v[0] for k, v in urllib.parse.parse_qs(urllib.parse.urlparse(page.url).query).items()}


def wait_link(page, name: str, value: str, timeout: float = 20.0) -> None:
    """Wait until the URL's query holds ``name=value``; fail naming what it holds instead."""
    try:
        page.wait_for_function(
            "([n, v]) => new URLSearchParams(location.search).get(n) === v", arg=[name, value], timeout=timeout * 1000
        )
    except sync_api.TimeoutError:
        raise AssertionError(f"{name}={value} never reached the link: {query(page)}") from None


def pick(page, testid: str, label: str, option: str, typed: str | None = None) -> None:
    """Open a select box or multiselect and choose ``option``: by typing ``typed`` and Enter, or by a click."""
    box = widget(page, testid, label)
    box.locator("input").first.click()
    if typed is not None:
        page.keyboard.type(typed)
        page.wait_for_timeout(200)
        page.keyboard.press("Enter")
    else:
        page.locator('[role="option"]', has_text=re.compile("^" + re.escape(option))).first.click()
    _wait_idle(page)


def slider_keys(page, label: str, key: str, times: int) -> str:
    """Focus a slider's thumb and press ``key`` ``times`` times, waiting for each rerun; the value it shows."""
    thumb = widget(page, "stSlider", label).locator('input[type="range"]')
    for _ in range(times):
        thumb.focus()  # a rerun may redraw the slider and take the focus
        page.keyboard.press(key)
        _wait_idle(page)
    return thumb.input_value()


def slider_click(page, label: str, fraction: float) -> str:
    """Click a slider's track at ``fraction`` of its width (a person jumping to a value); the value it shows."""
    box = widget(page, "stSlider", label)
    track = box.locator('[data-orientation="horizontal"][style*="touch-action"]').first.bounding_box()
    page.mouse.click(track["x"] + fraction * track["width"], track["y"] + track["height"] / 2)
    _wait_idle(page)
    return box.locator('input[type="range"]').input_value()


def network_text(page) -> str:
    """The Concept domains page's network frame: its caption and the links it draws."""
    return page.locator("iframe").first.evaluate(
        "f => f.contentDocument.body.textContent + JSON.stringify(f.contentWindow.edges ? f.contentWindow.edges.get() : [])"
    )


FIG2_HAS = """(m) => { const el = document.querySelector('.js-plotly-plot');
    return !!el && el._fullData.some(t => t.meta && t.meta.method === m); }"""


def fig2_methods(page) -> list[str]:
    """The methods Fig. 2 (the Alignment page's first figure) draws a panel of, read from the figure's JSON."""
    traces = page.evaluate(PLOTS_JS)[0]["traces"]
    return sorted({t["meta"]["method"] for t in traces if t["meta"] and t["meta"].get("method")})


INPUT_KINDS = ("stSelectbox", "stMultiSelect", "stSlider", "stNumberInput", "stTextInput", "stTextArea")


def inputs_on_page(page) -> list[str]:
    """``kind: label`` of every input of these kinds the page shows (sidebar included)."""
    return page.evaluate(
        """(kinds) => kinds.flatMap(k => Array.from(document.querySelectorAll(`[data-testid="${k}"]`)).map(
               e => k + ': ' + (e.querySelector('[data-testid="stWidgetLabel"]')?.innerText || '').trim()))""",
        list(INPUT_KINDS),
    )


def all_driven(page, driven: set[str]) -> None:
    """Every input the page shows is one the test drove (a new input fails here until it is driven too)."""
    missed = [w for w in inputs_on_page(page) if w not in driven]
    assert not missed, f"inputs not driven by the test: {missed}"


def open_page(page, base: str, path: str, heading: str) -> None:
    page.goto(base + path, wait_until="domcontentloaded")
    page.wait_for_selector(f"h1:has-text('{heading}')", timeout=60_000)
    _wait_idle(page)


def on_failure(page, server, name: str):
    _shot(page, f"inputs_{name}_failure")
    os.makedirs(ARTIFACTS, exist_ok=True)
    shutil.copy(server["log"], os.path.join(ARTIFACTS, f"inputs_{name}_server.log"))
    print("failed at", page.url)


def test_extract_job_gets_every_value_typed(server, page):
    """The numbers, text and choices of the Extract form reach the job's command: by fill, keys and +/-."""
    try:
        _extract(server, page)
    except BaseException:
        on_failure(page, server, "extract")
        raise


def _extract(server, page):
    open_page(page, server["base"], "/extract", "Extract experts")
    # 1. The sentence step: mine the corpus for two typed concepts, at most 20 each (keys on the number input).
    page.get_by_text("mine a corpus", exact=True).click()
    widget(page, "stTextInput", "Corpus or sentence file").locator("input").fill(server["corpus"])
    at_most = widget(page, "stNumberInput", "At most, per concept").locator("input")
    at_most.click()
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type("20")
    mine_for = widget(page, "stTextInput", "Concepts to mine").locator("input")
    mine_for.click()
    page.keyboard.type("cat, dog")
    assert not page.get_by_text("Press Enter to submit form").count(), "the form's hint covers the next input"
    page.get_by_role("button", name="Add sentences").click()
    _wait_idle(page)
    page.wait_for_selector("text=mine sentences", timeout=30_000)
    mined = page.locator(
        "[data-testid='stCaptionContainer']", has_text=re.compile(r"^-m core .* mine ")
    ).first.inner_text()
    print("sentence job command:", mined)
    for arg in (server["corpus"], "--concepts=cat,dog", "--limit=20"):
        assert arg in mined.split(), f"{arg} not in the sentence job's command: {mined}"

    # 2. The extraction form: fill, keys, the + button, an arrow key; then the dry-run plan, then the job.
    model = widget(page, "stTextInput", "Model").locator("input")
    model.fill("/nonexistent/toy-model")  # fill: the job fails at once, but its command is recorded
    rev = widget(page, "stTextInput", "Revision").locator("input")
    rev.click()
    page.keyboard.type("step1000")  # typed key by key
    page.get_by_text("typed below", exact=True).click()
    widget(page, "stTextArea", "Concepts").locator("textarea").fill("cat, dog")
    widget(page, "stNumberInput", "Positive sentences").locator("input").fill("20")  # fill
    neg = widget(page, "stNumberInput", "Negative sentences").locator("input")
    neg.click()
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type("60")  # keys
    widget(page, "stNumberInput", "Folds").locator('[data-testid="stNumberInputStepUp"]').click()  # + button: 2
    min_pos = widget(page, "stNumberInput", "Accept down to").locator("input")
    min_pos.click()
    page.keyboard.press("ArrowUp")  # one step of 10 by the arrow key
    page.wait_for_timeout(300)
    assert widget(page, "stNumberInput", "Positive sentences").locator("input").input_value() == "20"
    assert widget(page, "stNumberInput", "Folds").locator("input").input_value() == "2"
    assert not page.get_by_text("Press Enter to submit form").count(), "the form's hint covers the next input"
    wanted = (
        "--model=/nonexistent/toy-model",
        "--revision=step1000",
        "--concepts=cat,dog",
        "--n-pos=20",
        "--n-neg=60",
        "--folds=2",
        "--min-pos=10",
    )
    page.get_by_role("button", name="Show the plan (dry run)").click()
    page.wait_for_selector("text=nothing was written", timeout=120_000)
    _wait_idle(page)
    planned = page.locator("[data-testid='stCaptionContainer']", has_text=re.compile(r"^-m core .* extract ")).first
    planned = planned.inner_text()
    print("planned command:", planned)
    for arg in wanted:
        assert arg in planned.split(), f"{arg} not in the planned command: {planned}"
    shown = page.locator("[data-testid='stCode']").filter(has_text="toy-model").count()
    assert shown, "the dry run's output is not shown"
    page.get_by_role("button", name="Start extraction").click()
    _wait_idle(page)
    page.wait_for_selector("text=Started job", timeout=30_000)
    page.wait_for_selector("[data-testid='stCaptionContainer']:has-text(' extract ')", timeout=30_000)
    page.wait_for_selector("text=nothing was written", state="detached", timeout=30_000)  # the plan makes way
    command = page.locator("[data-testid='stCaptionContainer']", has_text=re.compile(r"^-m core .* extract "))
    assert command.count() == 1, "one extraction command: the job's"
    command = command.first.inner_text()
    print("job command:", command)
    for arg in wanted:
        assert arg in command.split(), f"{arg} not in the job's command: {command}"
    all_driven(
        page,
        SIDEBAR
        | {
            "stTextInput: Corpus or sentence file (a path on this machine)",
            "stNumberInput: At most, per concept (mine)",
            "stTextInput: Concepts to mine (comma-separated; empty: the domain list)",
            "stTextInput: Model (Hub id, local folder, .gguf, or smollm2)",
            "stTextInput: Revision (optional, e.g. step1000)",
            "stTextArea: Concepts (comma-separated)",
            "stNumberInput: Positive sentences",
            "stNumberInput: Negative sentences",
            "stNumberInput: Folds",
            "stNumberInput: Accept down to (0 = exactly n_pos)",
        },
    )


SIDEBAR = {"stSelectbox: Model", "stSelectbox: Revision", "stSlider: Expert threshold τ (AP >)"}
SIDEBAR |= {"stSelectbox: Store"}  # own store or the demo: driven in tests/test_browser_stores.py


def test_every_page_input_reaches_the_link(server, page):
    """Select boxes (clicked and typed into), multiselects, sliders (keys and a click on the track) on every page
    with inputs: each value chosen is the one in the link."""
    try:
        _pages(server, page)
    except BaseException:
        on_failure(page, server, "pages")
        raise


def _pages(server, page):
    base = server["base"]
    # Sidebar, on the domains page: revision by a click, τ by the arrow keys, model by typing its name.
    open_page(page, base, "/concept_domains", "Concept domains")
    pick(page, "stSelectbox", "Revision", "step1000")
    wait_link(page, "rev", "step1000")
    assert slider_keys(page, "Expert threshold", "ArrowRight", 3) == "0.53"
    wait_link(page, "tau", "0.53")
    pick(page, "stSelectbox", "Model", "synthetic/toy-10m", typed="toy")
    wait_link(page, "model", "synthetic/toy-10m")
    assert query(page)["rev"] == "step1000" and query(page)["tau"] == "0.53"

    # Concept domains: a domain removed from the multiselect, the cut-off by keys and by a click, a link picked.
    widget(page, "stMultiSelect", "Domains").get_by_role("button", name="Remove vehicle").click()
    _wait_idle(page)
    wait_link(page, "domains", "animal")
    assert slider_keys(page, "Edge cut-off", "ArrowRight", 2) == "0.07"
    wait_link(page, "min_w", "0.07")
    clicked = slider_click(page, "Edge cut-off", 0.2)
    assert clicked != "0.07", "a click on the track did not move the slider"
    wait_link(page, "min_w", f"{float(clicked):.2f}")
    slider_keys(page, "Edge cut-off", "Home", 1)  # back to 0: every link of the animal domain is listed
    wait_link(page, "min_w", "0.00")
    pair_box = widget(page, "stSelectbox", "Link (strongest first)")
    pair_box.locator("input").first.click()
    second = page.locator('[role="option"]').nth(1)
    a, b = re.split(r"\s+\(", second.inner_text())[0].split(" – ")
    second.click()
    _wait_idle(page)
    wait_link(page, "pair", "~".join(sorted((a, b))))
    before = network_text(page)
    pick(page, "stSelectbox", "Link weight", "Expert neurons (weighted Jaccard of APs)", typed="weighted")
    wait_link(page, "measure", "weighted_jaccard")
    page.wait_for_function(  # the frame stays; its caption follows once the rerun's data reaches it
        """() => { const f = document.querySelector('iframe');
                   return !!f && f.contentDocument.body.textContent.includes('links with weighted Jaccard'); }""",
        timeout=30_000,
    )
    after = network_text(page)
    assert "links with weighted Jaccard" in after and after != before, "the graph did not follow the link weight"
    all_driven(
        page,
        SIDEBAR
        | {
            "stMultiSelect: Domains",
            "stSelectbox: Link weight",
            "stSlider: Edge cut-off (weighted Jaccard ≥)",
            "stSelectbox: Link (strongest first)",
        },
    )

    # Alignment: the run scope by a click, the benchmark by typing.
    page.locator('[data-testid="stSidebar"]').get_by_text("Alignment", exact=True).click()
    page.wait_for_selector("h1:has-text('Alignment with human similarity')", timeout=60_000)
    _wait_idle(page)
    pick(page, "stSelectbox", "Runs", "only toy-10m")  # the display name (core.render.style.short_name)
    wait_link(page, "runs", "model")
    pick(page, "stSelectbox", "Benchmark", "men_synthetic", typed="men_syn")
    wait_link(page, "bench", "men_synthetic")
    assert query(page)["tau"] == "0.53" and query(page)["rev"] == "step1000"
    # A second measure (issue #23): picked by a click, then a third by typing; the link and Fig. 2 follow.
    assert "measures" not in query(page)
    drawn = fig2_methods(page)
    assert drawn == ["experts", "sentence_embedding", "word_embedding"], drawn
    pick(page, "stMultiSelect", "More measures", "Expert neurons (weighted Jaccard of APs)")
    page.keyboard.press("Escape")
    wait_link(page, "measures", "weighted_jaccard")
    page.wait_for_function(FIG2_HAS, arg="weighted_jaccard", timeout=30_000)
    assert fig2_methods(page) == sorted([*drawn, "weighted_jaccard"])
    pick(page, "stMultiSelect", "More measures", "Expert neurons (cosine of clipped APs)", typed="clipped")
    page.keyboard.press("Escape")
    wait_link(page, "measures", "weighted_jaccard,clipped_ap_cosine")
    page.wait_for_function(FIG2_HAS, arg="clipped_ap_cosine", timeout=30_000)
    assert fig2_methods(page) == sorted([*drawn, "weighted_jaccard", "clipped_ap_cosine"])
    all_driven(page, SIDEBAR | {"stSelectbox: Benchmark", "stSelectbox: Runs", "stMultiSelect: More measures"})

    # Concept explorer: a concept typed, the one to compare with clicked.
    open_page(page, base, "/concept_explorer", "Concept explorer")
    pick(page, "stSelectbox", "Concept", "horse", typed="hors")
    wait_link(page, "concept", "horse")
    pick(page, "stSelectbox", "Compare with", "truck")
    wait_link(page, "other", "truck")
    pick(page, "stSelectbox", "Similarity", "Expert neurons (cosine of clipped APs)")
    wait_link(page, "measure", "clipped_ap_cosine")
    page.wait_for_selector("th:has-text('cosine of clipped APs')", state="attached", timeout=30_000)  # neighbours
    all_driven(page, SIDEBAR | {"stSelectbox: Concept", "stSelectbox: Similarity", "stSelectbox: Compare with"})

    # Home and Stability have only the sidebar's inputs (driven above).
    for path, heading in (("/", "Analyze the neurons"), ("/stability", "Stability of expert sets")):
        open_page(page, base, path, heading)
        all_driven(page, SIDEBAR)
