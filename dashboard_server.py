"""The dashboard in a real browser: ``streamlit run app.py`` on a free port of 127.0.0.1, and Debian's Chromium
launched so that nothing outside 127.0.0.1 is fetched.

One home for what the browser test, the dashboard benchmark and the README screenshot share. It imports neither
Streamlit nor Playwright: the server is a subprocess, and callers pass their own Playwright handle.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

ROOT = os.path.dirname(os.path.abspath(__file__))
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOCAL = ("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:", "about:")  # what a page may load


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve(
    env: dict | None = None,
    log: str | None = None,
    timeout: float = 60.0,
    command: list[str] | None = None,
    cwd: str = ROOT,
) -> Iterator[tuple[str, subprocess.Popen]]:
    """Serve ``app.py`` headless on 127.0.0.1; yields (base URL, server process) once its health check says ok.

    ``env``: the server's environment (default: this one); ``log``: a file for its output (default: discarded).
    ``command``: a start command to run from the repository root instead, one that reads ``HOST`` and ``PORT`` from
    its environment (as ``scripts/serve_hosted.sh``, the Dockerfile's CMD, does); it gets 127.0.0.1 and a free port,
    and runs in ``cwd`` (default: this repository).
    ``RuntimeError`` (with the end of the log) when it is not up within ``timeout`` seconds; stopped on exit.
    """
    port = free_port()
    out = open(log, "wb") if log else subprocess.DEVNULL
    if command is None:
        command = [sys.executable, "-m", "streamlit", "run", os.path.join(ROOT, "app.py"), "--server.address=127.0.0.1"]
        command += [f"--server.port={port}", "--server.headless=true", "--browser.gatherUsageStats=false"]
    else:
        env = {**(os.environ if env is None else env), "HOST": "127.0.0.1", "PORT": str(port)}
    proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while not _healthy(base):
            if time.monotonic() > deadline or proc.poll() is not None:
                tail = open(log, errors="replace").read()[-3000:] if log else "(no log kept)"
                raise RuntimeError(f"streamlit did not start:\n{tail}")
            time.sleep(0.3)
        yield base, proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        if log:
            out.close()


def _healthy(base: str) -> bool:
    try:
        with urllib.request.urlopen(base + "/_stcore/health", timeout=2) as r:
            return r.read().strip() == b"ok"
    except OSError:
        return False


def launch_chromium(playwright):
    """Debian's headless Chromium through Playwright (``sync_playwright()``'s handle), without background traffic."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def keep_local(target, blocked: list[str] | None = None) -> None:
    """Route every request of a Playwright page or context: those to 127.0.0.1 (``LOCAL``) go through, the rest
    are aborted and their URLs appended to ``blocked``."""

    def route(r):
        if r.request.url.startswith(LOCAL):
            r.continue_()
        else:
            if blocked is not None:
                blocked.append(r.request.url)
            r.abort()

    target.route("**/*", route)


def wait_idle(page, timeout: float = 120.0) -> None:
    """Wait until a Playwright page's Streamlit script run has finished and no spinner shows."""
    page.wait_for_function(
        """() => { const a = document.querySelector('[data-testid="stApp"]');
                   return a && a.getAttribute('data-test-script-state') !== 'running'
                          && !document.querySelector('[data-testid="stSpinner"]'); }""",
        timeout=timeout * 1000,
    )
