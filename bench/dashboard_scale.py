"""The dashboard on grid-shaped stores (``bench/grid_store.py``): what a person waits for at 10, 100 and 462 runs.

For each store: a fresh server (the store's own settings, MEN from ``--men-dir`` as a user's checkout has it), then in
Chromium every page opened once, in the sidebar's order: its first render (from navigation to the page settled:
nothing in it changed for ``QUIET_MS``, no script running, no spinner), then ``--steps`` τ key steps (0.01) to the
page settled again; the server's RSS after each page and its highest; the store's size and size per run.
Called by ``python bench/bench_dashboard.py --grid-store 10,100,462``; prints, never asserts.
"""

from __future__ import annotations

import os
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

TARGET_FIRST_S, TARGET_STEP_MS, TARGET_RSS_GB = 5.0, 1000.0, 3.0
NAV_JS = """() => { window.__last = performance.now();
    window.__nav = new MutationObserver(() => { window.__last = performance.now(); });
    window.__nav.observe(document.documentElement,
                         {subtree: true, childList: true, attributes: true, characterData: true}); }"""


def grid_path(n: int) -> str:
    from bench.grid_store import GRID_DIR

    return os.path.join(GRID_DIR, f"grid_{n}.duckdb")


def rss_bytes(proc) -> int:
    """RSS of the server process and its children (Streamlit runs pages in threads of one process)."""
    import psutil

    p = psutil.Process(proc.pid)
    return p.memory_info().rss + sum(c.memory_info().rss for c in p.children(recursive=True))


def bench_store(path: str, men_dir: str, steps: int) -> list[dict]:
    """One store: first render and τ steps per page, server RSS; one row per page."""
    from playwright.sync_api import sync_playwright

    from bench.bench_dashboard import WATCH_JS, _settled_ms, _thumb
    from core.storage.store import Store
    from dashboard_server import keep_local, launch_chromium, serve
    from ui.page_state import PAGES

    n_runs = len(Store(path, read_only=True).runs())
    size = os.path.getsize(path)
    env = {**os.environ, "EXPERTS_STORE": path, "EXPERTS_MEN_DIR": men_dir}
    for key in ("EXPERTS_BENCHMARK", "EXPERTS_DOMAINS", "EXPERTS_HOSTED"):
        env.pop(key, None)
    rows, peak = [], 0
    print(
        f"\n{os.path.relpath(path, ROOT)}: {n_runs} runs, {size / 2**30:.2f} GiB ({size / n_runs / 2**20:.1f} MiB per run)"
    )
    with serve(env, timeout=120) as (base, proc), sync_playwright() as pw:
        browser = launch_chromium(pw)
        page = browser.new_page(viewport={"width": 1400, "height": 1100})
        keep_local(page)
        for link in PAGES:
            t0 = time.perf_counter()
            page.goto(f"{base}/{link.path}?tau=0.50", wait_until="commit")
            page.evaluate(NAV_JS)
            page.wait_for_selector("h1", timeout=600_000)
            page.evaluate("() => { window.__t0 = 0; }")  # performance.now() counts from the navigation
            first = _settled_ms(page) / 1000
            page.evaluate("() => window.__nav.disconnect()")  # steps watch the page's main area only
            wall = time.perf_counter() - t0
            ms = []
            if link.key != "extract":
                for k in range(steps + 1):  # the first step warms the caches of a new τ path; not counted
                    _thumb(page).focus()
                    page.evaluate(WATCH_JS)
                    page.keyboard.press("ArrowRight")
                    t = _settled_ms(page)
                    if k:
                        ms.append(t)
            rss = rss_bytes(proc)
            peak = max(peak, rss)
            step = f"τ step median {statistics.median(ms):6.0f} ms  max {max(ms):6.0f} ms" if ms else " " * 38
            print(
                f"  {link.label:<18} first render {first:6.1f} s (wall {wall:5.1f} s)  {step}  server RSS "
                f"{rss / 2**30:5.2f} GiB",
                flush=True,
            )
            rows.append({"runs": n_runs, "page": link.label, "first_s": first, "steps_ms": ms, "rss": rss})
        browser.close()
    worst_first = max(r["first_s"] for r in rows)
    medians = [statistics.median(r["steps_ms"]) for r in rows if r["steps_ms"]]
    print(
        f"  targets: first render ≤ {TARGET_FIRST_S:.0f} s (worst page {worst_first:.1f} s, ratio "
        f"{worst_first / TARGET_FIRST_S:.2f}); τ step ≤ {TARGET_STEP_MS:.0f} ms (worst page median "
        f"{max(medians):.0f} ms, ratio {max(medians) / TARGET_STEP_MS:.2f}); server RSS ≤ {TARGET_RSS_GB:.0f} GB "
        f"(highest {peak / 1e9:.2f} GB, ratio {peak / 1e9 / TARGET_RSS_GB:.2f})"
    )
    return rows


def bench_grid_stores(ns: list[int], men_dir: str, steps: int = 4) -> list[dict]:
    """Every scale in ``ns`` whose store exists (``bench/grid_store.py --runs N`` makes it)."""
    rows = []
    for n in ns:
        path = grid_path(n)
        if not os.path.exists(path):
            print(f"\nno grid store of {n} runs at {path}: make it with `python bench/grid_store.py --runs {n}`")
            continue
        rows += bench_store(path, men_dir, steps)
    return rows
