"""Screenshot of a dashboard page, for the README: `python scripts/screenshot.py [page?query] [out.png]`.

Starts `streamlit run app.py` on 127.0.0.1 with the current settings (EXPERTS_STORE etc.), opens the page in
Debian's Chromium (nothing outside 127.0.0.1 is fetched) and writes a PNG.
"""

import os
import socket
import subprocess
import sys
import time
import urllib.request

from playwright.sync_api import sync_playwright

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def main(path: str = "concept_domains?tau=0.5", out: str = os.path.join(ROOT, "docs", "domain_graph.png")) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            os.path.join(ROOT, "app.py"),
            "--server.address=127.0.0.1",
            f"--server.port={port}",
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(base + "/_stcore/health", timeout=2).read()
                break
            except OSError:
                time.sleep(0.5)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            ctx = browser.new_context(viewport={"width": 1400, "height": 1100})
            ctx.route("**/*", lambda r: r.continue_() if r.request.url.startswith(base) else r.abort())
            page = ctx.new_page()
            page.goto(f"{base}/{path}", wait_until="domcontentloaded")
            page.wait_for_timeout(12000)  # let the page compute and the network settle
            page.screenshot(path=out, full_page=False)
            browser.close()
        print(out)
    finally:
        proc.terminate()


if __name__ == "__main__":
    main(*sys.argv[1:])
