"""Stores people can find, in Chromium on the real server: the store picker and its link, the demo one click
away, the domains page's advice, and hosted visitors who see no server path and no developer notice."""

from __future__ import annotations

import os
import shutil

import pytest

from dashboard_server import keep_local, launch_chromium
from tests.synthetic import make_store, write_benchmark
from tests.ui.test_browser import BROWSER_TESTS, DEMO, ROOT, _serve, _shot, _wait_idle, sync_api
from tests.ui.test_browser_inputs import on_failure, open_page, pick, query, wait_link, widget

pytestmark = BROWSER_TESTS


@pytest.fixture(scope="module")
def own(tmp_path_factory):
    """A local dashboard on a store of its own (synthetic), with a domain list none of whose concepts it has."""
    d = tmp_path_factory.mktemp("own")
    make_store(str(d / "mine.duckdb"), revisions=("step0", "step1000"), folds=2)
    (d / "domains.txt").write_text("myth: dragon, unicorn, griffin\n")
    env = {
        **os.environ,
        "EXPERTS_STORE": str(d / "mine.duckdb"),
        "EXPERTS_DOMAINS": str(d / "domains.txt"),
        "EXPERTS_BENCHMARK": write_benchmark(str(d / "men_synthetic.txt")),
    }
    env.pop("EXPERTS_HOSTED", None)
    yield from _serve(d, env)


def _hosted(d, store: str):
    env = {**os.environ, "EXPERTS_STORE": store, "EXPERTS_HOSTED": "1", "EXPERTS_MEN_DIR": str(d / "no_men")}
    for key in ("EXPERTS_BENCHMARK", "EXPERTS_DOMAINS"):
        env.pop(key, None)
    return _serve(d, env)


@pytest.fixture(scope="module")
def hosted(tmp_path_factory):
    """The hosted demo with its store outside the project (an absolute server path a visitor must not see)."""
    d = tmp_path_factory.mktemp("hosted")
    shutil.copyfile(DEMO, d / "demo.duckdb")
    yield from _hosted(d, str(d / "demo.duckdb"))


@pytest.fixture(scope="module")
def hosted_broken(tmp_path_factory):
    """The hosted dashboard on a damaged store file."""
    d = tmp_path_factory.mktemp("broken")
    (d / "store.duckdb").write_bytes(b"not a duckdb file " * 1000)
    yield from _hosted(d, str(d / "store.duckdb"))


@pytest.fixture(scope="module")
def page():
    with sync_api.sync_playwright() as pw:
        browser = launch_chromium(pw)
        ctx = browser.new_context(viewport={"width": 1400, "height": 1500})
        keep_local(ctx)
        yield ctx.new_page()
        browser.close()


def picked(page, label: str) -> str:
    """What a select box shows as chosen."""
    return widget(page, "stSelectbox", label).locator("input").first.input_value()


def sidebar_text(page) -> str:
    return page.locator('[data-testid="stSidebar"]').inner_text()


def test_the_store_picker_and_the_demo_one_click_away(own, page):
    try:
        _picker(own, page)
    except BaseException:
        on_failure(page, own, "stores")
        raise


def _picker(own, page):
    base = own["base"]
    open_page(page, base, "/", "Analyze the neurons")
    assert picked(page, "Store").startswith("Your store")
    assert query(page)["model"] == "synthetic/toy-10m"
    # One click: the demo store, its runs and models, kept in the link.
    page.get_by_role("button", name="Show the demo store").click()
    _wait_idle(page)
    wait_link(page, "store", "demo")
    assert "demo store (read-only)" in sidebar_text(page)
    page.wait_for_function("() => !location.search.includes('synthetic')", timeout=20_000)  # the demo's own model
    demo_model = query(page)["model"]
    assert not page.get_by_role("button", name="Show the demo store").count()  # already shown
    _shot(page, "stores_demo")
    # A shared link opens the store it names; another page keeps it.
    open_page(page, base, "/stability?store=own", "Stability of expert sets")
    wait_link(page, "store", "own")
    wait_link(page, "model", "synthetic/toy-10m")
    page.locator('[data-testid="stSidebar"]').get_by_text("Concept domains", exact=True).click()
    page.wait_for_selector("h1:has-text('Concept domains')", timeout=60_000)
    _wait_idle(page)
    assert query(page)["store"] == "own"
    # The domains page names EXPERTS_DOMAINS and offers the domain list of the run's concepts.
    notice = page.locator('[data-testid="stAlert"]', has_text="Fewer than two concepts").inner_text()
    assert "EXPERTS_DOMAINS" in notice and "domains.txt" in notice, notice
    with page.expect_download() as got:
        page.get_by_role("button", name="Domain list of this run's concepts (domains.txt)").click()
    listed = open(got.value.path()).read()
    assert "animal: cat, cheetah, dog, horse" in listed and "vehicle: bike, bus, car" in listed, listed  # data/domains
    assert "unsorted: truck" in listed, listed  # data/domains.txt does not list it
    # The picker itself: the demo again, by a click on its option.
    pick(page, "stSelectbox", "Store", "Demo store")
    wait_link(page, "store", "demo")
    wait_link(page, "model", demo_model)
    # A link naming a store that is not offered (a path) falls back with a notice; nothing else is opened.
    open_page(page, base, "/?store=/etc/passwd", "Analyze the neurons")
    shown = " ".join(page.locator('[data-testid="stAlert"]').all_inner_texts())
    assert "store '/etc/passwd' from the link is not available here" in shown, shown
    assert picked(page, "Store").startswith("Your store")


@pytest.mark.parametrize("which", ["hosted", "hosted_broken"])
def test_hosted_visitors_see_no_server_path_and_no_developer_notice(which, request, page):
    server = request.getfixturevalue(which)
    folder = os.path.dirname(server["log"])
    try:
        pages = [("/", "Analyze the neurons"), ("/concept_domains", "Concept domains")]
        pages += [("/alignment", "Alignment with human similarity")] if which == "hosted" else []
        for path, heading in pages:
            open_page(page, server["base"], path, heading)
            page.wait_for_timeout(1500)
            text = page.locator('[data-testid="stApp"]').inner_text()
            assert folder not in text and "/tmp" not in text, f"a server path is shown on {path}"
            assert ROOT not in text, f"the project's server path is shown on {path}"
            # Store files and setup advice; model names like cache/checkpoints/wiki-neox-1.2m are issue 20's item 3.
            for advice in ("python -m core", "EXPERTS_", "No store at", ".duckdb", "cache/MEN"):
                assert advice not in text, f"{advice!r} shown to a visitor on {path}"
            assert not widget(page, "stSelectbox", "Store").count()  # one hosted store, no picker
        if which == "hosted_broken":
            assert "The store cannot be read" in page.locator('[data-testid="stAlert"]').first.inner_text()
        else:
            assert "Store: hosted demo (read-only)" in sidebar_text(page)
    except BaseException:
        on_failure(page, server, which)
        raise
