"""Screenshots of dashboard pages: `python scripts/screenshot.py [page?query ...] [--out DIR] [--full]`.

Starts `streamlit run app.py` on 127.0.0.1 with the current settings (EXPERTS_STORE etc.), opens each page in
Debian's Chromium (nothing outside 127.0.0.1 is fetched), waits until the run has finished and the figures are
drawn, and writes one PNG per page into DIR (default docs/). With no page given: every page of the dashboard at
τ = 0.5. `--full` captures the whole page (a 4200-pixel window), not just the first 1100 pixels.
"""

import argparse
import os
import sys

from playwright.sync_api import sync_playwright

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from dashboard_server import keep_local, launch_chromium, serve  # noqa: E402
from ui.page_state import PAGES as PAGE_LINKS  # noqa: E402

PAGES = [f"{link.path}?tau=0.50" for link in PAGE_LINKS]
IDLE = """() => { const a = document.querySelector('[data-testid="stApp"]');
    return a && a.getAttribute('data-test-script-state') !== 'running'
           && !document.querySelector('[data-testid="stSpinner"]'); }"""


DRAWN = """() => !document.querySelector('[data-testid="stSkeleton"]')
    && document.querySelectorAll('.js-plotly-plot').length
       === document.querySelectorAll('[data-testid="stPlotlyChart"]').length"""  # lazy chart code has loaded


def file_name(path: str) -> str:
    """``alignment?tau=0.50`` -> ``alignment.png``; the home page is ``home.png``."""
    return (path.split("?", 1)[0].strip("/") or "home") + ".png"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pages", nargs="*", default=PAGES, help="page paths with their query (default: every page)")
    parser.add_argument("--out", default=os.path.join(ROOT, "docs"), help="folder for the PNGs")
    parser.add_argument("--full", action="store_true", help="the whole page, not only the first screen")
    parser.add_argument("--width", type=int, default=1400)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    with serve() as (base, _), sync_playwright() as pw:
        browser = launch_chromium(pw)
        # Streamlit scrolls inside its own container, so a whole page needs a tall window, not full_page alone
        ctx = browser.new_context(viewport={"width": args.width, "height": 4200 if args.full else 1100})
        keep_local(ctx)
        page = ctx.new_page()
        for path in args.pages:
            page.goto(f"{base}/{path}", wait_until="domcontentloaded")
            page.wait_for_selector("h1", timeout=120_000)
            page.wait_for_timeout(1000)
            page.wait_for_function(IDLE, timeout=120_000)
            page.wait_for_function(DRAWN, timeout=120_000)
            page.wait_for_timeout(2000)  # the network view settles after it is drawn
            out = os.path.join(args.out, file_name(path))
            page.screenshot(path=out, full_page=args.full)
            print(out)
        browser.close()


if __name__ == "__main__":
    main()
