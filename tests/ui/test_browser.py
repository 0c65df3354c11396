"""The dashboard in a real browser: `streamlit run` on 127.0.0.1, driven by Playwright with Debian's Chromium.

Checks, in one server session: a cold deep link (the first visit after the
server starts) opens the right page at the linked τ; the pyvis network is
drawn on its canvas; moving the τ slider redraws it and updates the link;
text from the store and the domain list that looks like HTML stays text; every
page renders and is screenshotted into ``artifacts/``; and no request leaves
127.0.0.1 (each one is blocked and counted).
"""

from __future__ import annotations

import math
import os
import re
import shutil
import urllib.parse
import urllib.request

import pytest

from dashboard_server import CHROMIUM, keep_local, launch_chromium, serve
from tests.synthetic import make_store, write_benchmark

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ARTIFACTS = os.path.join(ROOT, "artifacts")
DEMO = os.path.join(ROOT, "cache", "demo.duckdb")
XSS = "<img src=x onerror=alert(1)>"
XSS_SENTENCE = "A cat <img src=x onerror=alert(2)> sat on the </script> mat."
TAB_ICON_FONT = re.compile(r"fonts\.gstatic\.com/.*materialsymbols", re.IGNORECASE)  # tolerated, see the issue

BROWSER_TESTS = [  # the marks of every browser test module (they import them from here)
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)"),
]
pytestmark = BROWSER_TESTS
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (Python) is not installed")


def synthetic_env(d, first_domain: str = "animal"):
    """(store, environment) of a dashboard on a synthetic store in folder ``d``: one model at three revisions, two
    folds, a domain list (its first domain named ``first_domain``) and a benchmark file; not hosted."""
    store, _ = make_store(str(d / "store.duckdb"), revisions=("step0", "step1000", "step143000"), folds=2)
    domains = d / "domains.txt"
    domains.write_text(f"{first_domain}: cat, dog, horse, cheetah\nvehicle: car, bus, bike, truck\n")
    env = {
        **os.environ,
        "EXPERTS_STORE": str(d / "store.duckdb"),
        "EXPERTS_DOMAINS": str(domains),
        "EXPERTS_BENCHMARK": write_benchmark(str(d / "men_synthetic.txt")),
    }
    env.pop("EXPERTS_HOSTED", None)
    return store, env


def _serve(d, env: dict):
    """``streamlit run app.py`` on a free 127.0.0.1 port with ``env``; yields its base URL, process and log path."""
    log = d / "server.log"
    try:
        with serve(env, str(log)) as (base, proc):
            yield {"base": base, "proc": proc, "log": log}
    except RuntimeError as e:  # not up in time: the end of its log says why
        pytest.fail(str(e))


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A fresh `streamlit run app.py` on a synthetic store whose texts contain HTML."""
    d = tmp_path_factory.mktemp("browser")
    store, env = synthetic_env(d, first_domain=XSS)
    store.add_sentences("cat", [XSS_SENTENCE], source="xss-check")
    yield from _serve(d, env)


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory):
    """The hosted demo as a visitor gets it: the committed demo store, hosted mode, no MEN files on disk."""
    d = tmp_path_factory.mktemp("demo")
    shutil.copyfile(DEMO, d / "demo.duckdb")  # a copy: the committed file stays untouched
    (d / "no_men").mkdir()
    env = {
        **os.environ,
        "EXPERTS_STORE": str(d / "demo.duckdb"),
        "EXPERTS_HOSTED": "1",
        "EXPERTS_MEN_DIR": str(d / "no_men"),
    }
    for key in ("EXPERTS_BENCHMARK", "EXPERTS_DOMAINS"):
        env.pop(key, None)
    yield from _serve(d, env)


@pytest.fixture(scope="module")
def browser_page(server):
    """A Chromium page that blocks and counts every request not to 127.0.0.1, and records dialogs."""
    outside: list[str] = []
    dialogs: list[str] = []
    with sync_api.sync_playwright() as pw:
        browser = launch_chromium(pw)
        ctx = browser.new_context(viewport={"width": 1400, "height": 1500})
        keep_local(ctx, outside)
        page = ctx.new_page()
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        yield page, outside, dialogs
        browser.close()


def _wait_idle(page, timeout: float = 60.0) -> None:
    """Wait until Streamlit has finished the current run and no spinner is showing."""
    page.wait_for_timeout(300)
    page.wait_for_function(
        """() => { const app = document.querySelector('[data-testid="stApp"]');
                   return app && app.getAttribute('data-test-script-state') !== 'running'
                          && !document.querySelector('[data-testid="stSpinner"]'); }""",
        timeout=timeout * 1000,
    )
    page.wait_for_timeout(300)


def _network_frame(page):
    page.wait_for_selector("iframe", timeout=60_000)
    for _ in range(100):
        for f in page.frames:
            try:
                if f.evaluate("typeof network !== 'undefined' && network !== null"):
                    return f
            except Exception:  # a frame being replaced
                pass
        page.wait_for_timeout(200)
    raise AssertionError("no vis-network in any frame")


def _graph_state(frame) -> dict:
    return frame.evaluate("""() => {
        const c = document.querySelector('#mynetwork canvas');
        const ctx = c.getContext('2d');
        const px = ctx.getImageData(0, 0, c.width, c.height).data;
        let ink = 0;
        for (let i = 0; i < px.length; i += 4) { if (px[i + 3] > 0 && (px[i] < 240 || px[i + 1] < 240)) ink++; }
        return {nodes: network.body.data.nodes.length, edges: network.body.data.edges.length,
                weights: network.body.data.edges.get().map(e => e.from + '-' + e.to + ':' + e.weight).sort().join(','),
                ink: ink, imgs: document.querySelectorAll('img').length,
                legend: document.getElementById('legend').textContent};
    }""")


def _shot(page, name: str) -> None:
    os.makedirs(ARTIFACTS, exist_ok=True)
    page.screenshot(path=os.path.join(ARTIFACTS, f"{name}.png"), full_page=True)


def test_dashboard_in_chromium(server, browser_page):
    page = browser_page[0]
    try:
        _check_dashboard(server, *browser_page)
    except BaseException:
        _shot(page, "failure")  # what the browser showed when it failed, for CI's artifacts
        shutil.copy(server["log"], os.path.join(ARTIFACTS, "browser_server.log"))
        print("failed at", page.url)
        raise


def _check_dashboard(server, page, outside, dialogs):
    base = server["base"]

    # 1. Cold deep link: the first visit after the server started.
    page.goto(base + "/concept_domains?tau=0.7", wait_until="domcontentloaded")
    page.wait_for_selector("h1:has-text('Concept domains')", timeout=60_000)
    frame = _network_frame(page)
    _wait_idle(page)
    thumb = page.locator('[data-testid="stSidebar"] [data-testid="stSlider"] input[type="range"]').last
    assert float(thumb.input_value()) == pytest.approx(0.7)
    assert "tau=0.70" in page.url
    before = _graph_state(frame)
    assert before["nodes"] == 8 and before["edges"] > 0
    assert before["ink"] > 500, "the network canvas is blank"
    assert XSS in before["legend"] and before["imgs"] == 0  # shown as text, not as an element
    _shot(page, "concept_domains")

    # A click on a link tells how many experts its two concepts share (and the table below lists them).
    target = frame.evaluate("""() => {
        const pos = network.getPositions();
        let best = null;
        for (const e of edges.get()) {
            const a = pos[e.from], b = pos[e.to];
            const mid = {x: (a.x + b.x) / 2, y: (a.y + b.y) / 2};
            const clear = Object.values(pos).every(p => Math.hypot(p.x - mid.x, p.y - mid.y) > 45);
            const len = Math.hypot(a.x - b.x, a.y - b.y);
            if (clear && (!best || len > best.len)) best = {len: len, dom: network.canvasToDOM(mid)};
        }
        return best && best.dom;
    }""")
    assert target, "no link with a clear midpoint to click"
    box = page.locator("iframe").first.bounding_box()
    page.mouse.click(box["x"] + target["x"], box["y"] + target["y"])
    page.wait_for_timeout(300)
    info = frame.evaluate("document.getElementById('edge-info').textContent")
    assert "shared experts" in info, info

    # 2. Move the τ slider with the keyboard (0.01 per key): the graph is redrawn and the link follows.
    # One key at a time, focusing the thumb before each (a rerun redraws the sidebar and may take the focus). Under
    # load the browser can show a value whose rerun never reached the server; a user would see the stale graph and
    # nudge the slider, so at 0.95 with a stale link we step off and back (printed, so a log shows it happened).
    nudges = 0
    for _ in range(80):
        current = float(thumb.input_value())
        at_target = current >= 0.95 - 1e-9
        if at_target and "tau=0.95" in page.url:
            break
        if at_target:
            nudges += 1
            print(f"slider at 0.95, link at {page.url.split('tau=')[1][:4]}: nudging it off and back")
        thumb.focus()
        page.keyboard.press("ArrowLeft" if at_target else "ArrowRight")
        _wait_idle(page)
    print("slider at", thumb.input_value(), "after", nudges, "nudges")
    assert "tau=0.95" in page.url and nudges <= 3, page.url
    _wait_idle(page)
    frame = _network_frame(page)
    page.wait_for_timeout(500)
    after = _graph_state(frame)
    assert after["weights"] != before["weights"], "moving τ did not change the graph"
    assert after["ink"] > 500

    # 3. Every page, through the sidebar links; τ survives each page switch.
    expectations = [
        ("Home", "Analyze the neurons, not the embeddings", "home"),
        ("Alignment", "Alignment with human similarity", "alignment"),
        ("Stability", "Stability of expert sets", "stability"),
        ("Concept explorer", "Concept explorer", "concept_explorer"),
        ("Extract", "Extract experts", "extract"),
        ("Concept domains", "Concept domains", "concept_domains_tau095"),
    ]
    for label, heading, shot in expectations:
        page.locator('[data-testid="stSidebar"]').get_by_text(label, exact=True).click()
        page.wait_for_selector(f"h1:has-text('{heading}')", timeout=60_000)
        _wait_idle(page)
        page.wait_for_function("() => location.search.includes('tau=0.95')", timeout=15_000)
        assert not page.locator('[data-testid="stException"]').count(), f"exception on {label}"
        if label == "Home":
            page.wait_for_selector("text=Human ceiling", timeout=30_000)
        if label == "Alignment":
            page.wait_for_selector(".js-plotly-plot", timeout=30_000)
        if label == "Concept explorer":
            page.wait_for_selector('[data-testid="stDataFrame"]', timeout=30_000)
        _shot(page, shot)

    # 4. Link values that look like Markdown or HTML are echoed as plain text in the notices (no image is fetched
    # from elsewhere, no link or element is made), and the page falls back to what the store holds.
    query = urllib.parse.urlencode(
        {"model": "![x](http://203.0.113.9/pixel.png)", "rev": XSS, "tau": "[a](javascript:alert(4))"}
    )
    page.goto(f"{base}/?{query}", wait_until="domcontentloaded")
    page.wait_for_selector('[data-testid="stAlert"]', timeout=60_000)
    _wait_idle(page)
    shown = " ".join(page.locator('[data-testid="stAlert"]').all_inner_texts())
    assert "![x](http://203.0.113.9/pixel.png)".replace("http", "h\u2060ttp") in shown, shown
    assert page.locator('[data-testid="stAlert"] img, [data-testid="stAlert"] a').count() == 0
    page.wait_for_selector("text=Human ceiling", timeout=30_000)
    _shot(page, "bad_link_values")

    # 5. A sentence containing HTML, shown in the explorer, ran nothing; nothing left 127.0.0.1.
    assert dialogs == [], f"a dialog opened: {dialogs}"
    stray = [u for u in outside if not TAB_ICON_FONT.search(u)]
    assert stray == [], f"requests outside 127.0.0.1: {stray}"
    shutil.copy(server["log"], os.path.join(ARTIFACTS, "browser_server.log"))


PLOTS_JS = """() => Array.from(document.querySelectorAll('.js-plotly-plot')).map(el => ({
    traces: el._fullData.map(t => ({type: t.type, name: t.name || '', mode: t.mode || '', meta: t.meta || null,
        n: t._length || 0, x: Array.from(t.x || []), y: Array.from(t.y || []),
        colour: (t.line && t.line.color) || (t.marker && t.marker.color) || null})),
    ticks: (el._fullLayout.xaxis && el._fullLayout.xaxis.ticktext) || [],
    lines: Array.from(el.querySelectorAll('g.scatterlayer path.js-line')).filter(
        p => (p.getAttribute('d') || '').length > 20).length,
    heatmaps: el.querySelectorAll('g.hm image').length}))"""

SECTIONS_JS = """() => { const out = []; let cur = null;
    for (const el of document.querySelectorAll('[data-testid="stMain"] h3, [data-testid="stCaptionContainer"]')) {
        if (el.tagName === 'H3') { cur = {title: el.textContent.trim(), captions: []}; out.push(cur); }
        else if (cur) cur.captions.push(el.textContent); }
    return out; }"""


def _demo_alignment(page, base: str, tau: str) -> list[dict]:
    page.goto(f"{base}/alignment?tau={tau}", wait_until="domcontentloaded")
    page.wait_for_selector("h1:has-text('Alignment with human similarity')", timeout=60_000)
    page.wait_for_selector("h3:has-text('Where × when')", timeout=120_000)
    _wait_idle(page, 120)
    page.wait_for_function("() => document.querySelectorAll('g.hm image').length > 0", timeout=60_000)
    return page.evaluate(PLOTS_JS)


def test_hosted_demo_alignment_over_training(demo_server, browser_page):
    """The demo's Alignment page: Fig. 2 from snapshots with one experts line per size (>= 10 checkpoints each) and
    the selected model (smollm2, final weights only) as a point in every method's panel; every section names the
    selected run or says which other runs it shows; one colour per model in every figure; a missing where × when
    cell is drawn grey, unlike the white of ρ = 0."""
    page, outside, _ = browser_page
    try:
        plots = _demo_alignment(page, demo_server["base"], "0.50")
        sections = page.evaluate(SECTIONS_JS)
        _shot(page, "demo_alignment")
    except BaseException:
        _shot(page, "demo_failure")
        shutil.copy(demo_server["log"], os.path.join(ARTIFACTS, "demo_server.log"))
        raise
    curves = plots[0]
    lines = [t for t in curves["traces"] if t["meta"] and t["meta"].get("kind") == "line"]
    experts = {t["meta"]["model"]: t["n"] for t in lines if t["meta"]["method"] == "experts"}
    assert len(experts) >= 3, f"one experts line per size expected, got {experts}"
    assert all(n >= 10 for n in experts.values()), f"fewer than 10 checkpoints on a line: {experts}"
    assert curves["lines"] >= 3 * len(experts), "the lines are not drawn"  # experts, word, sentence per size
    # 1. The selected model is in Fig. 2: a finite point in each method's panel, at the 'final' column.
    chosen = [t for t in curves["traces"] if t["meta"] and t["meta"].get("selected") and t["meta"]["kind"] == "final"]
    assert {t["meta"]["method"] for t in chosen} == {"experts", "word_embedding", "sentence_embedding"}, chosen
    assert all(t["meta"]["model"] == "smollm2" and t["n"] == 1 and math.isfinite(t["y"][0]) for t in chosen), chosen
    assert "final" in curves["ticks"]
    # 2. Every section names the selected run (one and the same) or says which other runs it shows.
    run_ids = set()
    for sec in sections:
        text = " ".join(sec["captions"])
        named = re.findall(r"run ([0-9a-f]{8})", text)
        assert named or "Other runs" in text, f"section {sec['title']!r} names no run: {text[:300]}"
        run_ids.update(named)
    assert len(run_ids) == 1, run_ids
    assert {s["title"] for s in sections} >= {"Alignment over training", "Where in the network", "Where × when"}
    # 3. One colour per model across every figure of the page (read from the figures' JSON).
    seen: dict[str, set] = {}
    for plot in plots:
        for t in plot["traces"]:
            if t["meta"] and t["meta"].get("model") and isinstance(t["colour"], str):
                seen.setdefault(t["meta"]["model"], set()).add(t["colour"].lower())
    assert len(seen) >= 4 and all(len(c) == 1 for c in seen.values()), seen
    assert len({next(iter(c)) for c in seen.values()}) == len(seen), "two models share a colour"
    in_where = {t["meta"]["model"] for t in plots[1]["traces"] if t["meta"] and t["meta"].get("model")}
    assert in_where == {"smollm2"}  # where in the network: the selected run, in its colour
    # 4. A missing where × when cell (τ = 0.90 leaves layers without pairs) is grey, unlike ρ = 0 (white).
    page.goto("about:blank")
    plots = _demo_alignment(page, demo_server["base"], "0.90")
    index = next(i for i, p in enumerate(plots) if any(t["type"] == "heatmap" for t in p["traces"]))
    page.evaluate("(k) => document.querySelectorAll('.js-plotly-plot')[k].scrollIntoView()", index)
    page.wait_for_timeout(800)
    cell = page.evaluate(
        """(k) => { const el = document.querySelectorAll('.js-plotly-plot')[k];
        for (let i = 0; i < el._fullData.length; i++) { const t = el._fullData[i];
            if (!t.meta || t.meta.kind !== 'missing') continue;
            for (let r = 0; r < t.z.length; r++) for (let c = 0; c < t.z[r].length; c++) if (t.z[r][c] === 1) {
                const xa = el._fullLayout[(t.xaxis || 'x').replace('x', 'xaxis')];
                const ya = el._fullLayout[(t.yaxis || 'y').replace('y', 'yaxis')];
                const box = el.getBoundingClientRect();
                return {x: box.left + xa._offset + xa.l2p(c), y: box.top + ya._offset + ya.l2p(r)}; } }
        return null; }""",
        index,
    )
    assert cell, "no missing cell at τ = 0.90 on the demo store"
    from PIL import Image

    shot = os.path.join(ARTIFACTS, "demo_where_when.png")
    page.screenshot(path=shot)
    rgb = Image.open(shot).convert("RGB").getpixel((int(cell["x"]), int(cell["y"])))
    assert all(abs(v - 176) <= 12 for v in rgb), f"a missing cell is drawn {rgb}, not grey"
    assert min(abs(a - b) for a, b in zip(rgb, (247, 247, 247))) > 40, "a missing cell looks like ρ = 0"
    assert [u for u in outside if not TAB_ICON_FONT.search(u)] == []
