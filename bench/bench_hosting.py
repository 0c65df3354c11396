"""What a host pays for the hosted demo, measured on the browse-only install the Dockerfile makes.

* the venv's size on disk after the Dockerfile's ``RUN pip install`` (requirements-dashboard.txt) in a fresh venv,
  with its ``__pycache__`` share and largest packages — target <= 400 MB;
* cold start: from starting the Dockerfile's ``CMD`` (in hosted mode, on the committed demo store) to the Home
  page's title drawn in Chromium, and to the server's health check answering;
* the server's RSS after 100 page loads cycling over every page (each a new browser session) — target <= 600 MB,
  under Streamlit Community Cloud's smallest memory tier (690 MB).

The venv is built here from the package index (``--venv DIR`` reuses one, e.g. the one
``scripts/check_hosted_install.sh VENV`` built). The files it reads were just written, so the start is cold for the
Python process, not for the OS page cache. Benchmarks print figures and ratios to target; they never assert.

Run: ``python bench/bench_hosting.py [--venv DIR] [--loads 100]`` (needs /usr/bin/chromium and Playwright).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from dashboard_server import keep_local, launch_chromium, serve, wait_idle  # noqa: E402
from deploy.recipe import install_command, start_command  # noqa: E402
from ui.jobs import MODEL_STACK  # noqa: E402
from ui.page_state import PAGES as PAGE_LINKS  # noqa: E402

TARGET_VENV_MB = 400.0
TARGET_RSS_MB = 600.0
# Run with the venv's Python: MB of the files (RECORD) of streamlit and what it requires, transitively, and of all.
CLOSURE = """
import importlib.metadata as md, os
from packaging.requirements import Requirement
seen, todo = set(), ["streamlit"]
while todo:
    name = todo.pop().lower().replace("_", "-")
    if name in seen:
        continue
    seen.add(name)
    dist = md.distribution(name)
    for r in map(Requirement, dist.requires or []):
        if r.marker is None or r.marker.evaluate({"extra": ""}):
            todo.append(r.name)
def size(dists):
    return sum(os.path.getsize(d.locate_file(f)) for d in dists for f in d.files or [] if os.path.isfile(d.locate_file(f)))
print(size(map(md.distribution, seen)) / 2**20, size(md.distributions()) / 2**20)
"""
PAGES = ["/" + link.path for link in PAGE_LINKS]


def mb(path: str) -> float:
    """Disk usage (``du``) of a folder in MB (2**20 bytes)."""
    return int(subprocess.run(["du", "-sk", path], capture_output=True, text=True, check=True).stdout.split()[0]) / 1024


def build_venv(venv: str) -> float:
    """A fresh venv with the Dockerfile's install in it; returns the install's seconds."""
    subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(PATH=os.path.join(venv, "bin") + os.pathsep + env["PATH"], VIRTUAL_ENV=venv)
    start = time.perf_counter()
    subprocess.run(["sh", "-c", install_command()], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def sizes(venv: str) -> None:
    total = mb(venv)
    caches = subprocess.run(["find", venv, "-name", "__pycache__", "-prune"], capture_output=True, text=True)
    pyc = sum(mb(p) for p in caches.stdout.split())
    site = next(os.path.join(r, d) for r, ds, _ in os.walk(venv) for d in ds if d == "site-packages")
    per = sorted(((mb(os.path.join(site, d)), d) for d in os.listdir(site)), reverse=True)[:8]
    print(f"browse-only venv: {total:.0f} MB on disk ({pyc:.0f} MB of it __pycache__, {total - pyc:.0f} MB without)"
          f"   target {TARGET_VENV_MB:.0f} MB   ratio {total / TARGET_VENV_MB:.2f}")  # fmt: skip
    print("  largest in site-packages: " + ", ".join(f"{d} {s:.0f}" for s, d in per))
    present = [m for m in MODEL_STACK if os.path.exists(os.path.join(site, m))]
    if present:
        sys.exit(f"not a browse-only venv: {', '.join(present)} installed")
    out = subprocess.run([os.path.join(venv, "bin", "python"), "-c", CLOSURE], capture_output=True, text=True)
    if out.returncode == 0:
        floor, files = map(float, out.stdout.split())
        print(f"  installed files (RECORD): {files:.0f} MB, of which streamlit and what it requires: {floor:.0f} MB "
              f"(ratio {floor / TARGET_VENV_MB:.2f} to target by itself)")  # fmt: skip


def serve_and_load(venv: str, loads: int) -> None:
    import psutil
    from playwright.sync_api import sync_playwright

    env = {k: v for k, v in os.environ.items() if not k.startswith("EXPERTS_") and k != "PYTHONPATH"}
    env.update(PATH=os.path.join(venv, "bin") + os.pathsep + env["PATH"], VIRTUAL_ENV=venv)
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        browser = launch_chromium(pw)  # started first: the cold start times the server, not the browser
        t0 = time.perf_counter()
        with serve(env, os.path.join(tmp, "server.log"), timeout=180, command=start_command()) as (base, proc):
            healthy = time.perf_counter() - t0
            ctx = browser.new_context(viewport={"width": 1400, "height": 1500})
            keep_local(ctx)
            page = ctx.new_page()
            page.goto(base + "/", wait_until="domcontentloaded")
            page.wait_for_selector("h1", timeout=120_000)
            first = time.perf_counter() - t0
            wait_idle(page)
            done = time.perf_counter() - t0
            page.close()
            print(f"cold start (Dockerfile CMD, hosted, demo store): health check after {healthy:.1f} s, Home title "
                  f"drawn after {first:.1f} s, Home fully rendered after {done:.1f} s")  # fmt: skip
            server = psutil.Process(proc.pid)
            rss = [server.memory_info().rss / 2**20]
            t1 = time.perf_counter()
            for i in range(loads):
                page = ctx.new_page()  # a new session per load, as a new visitor
                page.goto(base + PAGES[i % len(PAGES)], wait_until="domcontentloaded")
                page.wait_for_selector("h1", timeout=120_000)
                wait_idle(page)
                page.close()
                if (i + 1) % len(PAGES) == 0 or i + 1 == loads:
                    rss.append(server.memory_info().rss / 2**20)
            seconds = time.perf_counter() - t1
            print(f"server RSS: {rss[0]:.0f} MB after the first Home page, {rss[1]:.0f} MB after every page once, "
                  f"{max(rss):.0f} MB at most, {rss[-1]:.0f} MB after {loads} page loads over {len(PAGES)} pages "
                  f"({seconds / loads:.2f} s a load)   target {TARGET_RSS_MB:.0f} MB   "
                  f"ratio {rss[-1] / TARGET_RSS_MB:.2f}")  # fmt: skip
            print("  RSS after each round of the pages (MB): " + " ".join(f"{r:.0f}" for r in rss[1:]))
        browser.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--venv", help="an existing browse-only venv (default: build a fresh one here)")
    ap.add_argument("--loads", type=int, default=100)
    args = ap.parse_args()
    print(f"Dockerfile install: {install_command()}; start: {' '.join(start_command())}")
    with tempfile.TemporaryDirectory() as tmp:
        venv = args.venv or os.path.join(tmp, "venv")
        if not args.venv:
            print(f"install from the package index: {build_venv(venv):.0f} s")
        sizes(venv)
        serve_and_load(os.path.abspath(venv), args.loads)


if __name__ == "__main__":
    main()
