"""Screenshot of a dashboard page, for the README: `python scripts/screenshot.py [page?query] [out.png]`.

Starts `streamlit run app.py` on 127.0.0.1 with the current settings (EXPERTS_STORE etc.), opens the page in
Debian's Chromium (nothing outside 127.0.0.1 is fetched) and writes a PNG.
"""

import os
import sys

from playwright.sync_api import sync_playwright

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from dashboard_server import keep_local, launch_chromium, serve  # noqa: E402


def main(path: str = "concept_domains?tau=0.5", out: str = os.path.join(ROOT, "docs", "domain_graph.png")) -> None:
    with serve() as (base, _), sync_playwright() as pw:
        browser = launch_chromium(pw)
        ctx = browser.new_context(viewport={"width": 1400, "height": 1100})
        keep_local(ctx)
        page = ctx.new_page()
        page.goto(f"{base}/{path}", wait_until="domcontentloaded")
        page.wait_for_timeout(12000)  # let the page compute and the network settle
        page.screenshot(path=out, full_page=False)
        browser.close()
    print(out)


if __name__ == "__main__":
    main(*sys.argv[1:])
