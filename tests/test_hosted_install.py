"""The hosted demo from a browse-only install, as a host builds it: a fresh venv where only the Dockerfile's
``pip install`` (``requirements-dashboard.txt``) has run, served by the Dockerfile's ``CMD`` in hosted mode.

Slow (it needs that venv), so it runs once in CI: ``scripts/check_hosted_install.sh`` builds the venv from the
package index, then runs this file with ``EXPERTS_HOSTED_VENV`` set to it; without it every test here is skipped.
Checks: the model stack cannot be imported there; every page renders in Chromium, through the Dockerfile's start
command in the Space folder ``scripts/make_space.sh`` writes and through the Streamlit Community Cloud entrypoint
(hosted by its secret), with no exception, no traceback (on the page or in the server log) and no request leaving
127.0.0.1; the Extract page, served without hosted mode, says what to install; ``serve_hosted.sh`` binds 127.0.0.1.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from dashboard_server import CHROMIUM, free_port, keep_local, launch_chromium, serve, wait_idle
from deploy.recipe import CLOUD_DIR, ROOT, base_image, start_command
from ui.jobs import MODEL_STACK

VENV = os.environ.get("EXPERTS_HOSTED_VENV")
ARTIFACTS = os.path.join(ROOT, "artifacts", "hosted_install")
PAGES = {  # link path -> the page's title
    "/": "Analyze the neurons, not the embeddings",
    "/concept_domains": "Concept domains",
    "/alignment": "Alignment with human similarity",
    "/stability": "Stability",
    "/concept_explorer": "Concept explorer",
    "/extract": "Extract experts",
}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not VENV, reason="set by scripts/check_hosted_install.sh (a fresh browse-only venv)"),
]


def venv_env(hosted: bool = True) -> dict:
    """This environment with the fresh venv first on PATH (as the image's ENV PATH) and no EXPERTS_* settings."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("EXPERTS_") and k not in ("PYTHONPATH", "PYTHONHOME")
    }
    env.update(PATH=os.path.join(VENV, "bin") + os.pathsep + env["PATH"], VIRTUAL_ENV=VENV)
    if hosted:
        env["EXPERTS_HOSTED"] = "1"
    return env


def test_browse_only_venv_lacks_the_model_stack():
    python = os.path.join(VENV, "bin", "python")
    for name in MODEL_STACK:
        out = subprocess.run([python, "-c", f"import {name}"], capture_output=True, text=True)
        assert out.returncode != 0 and "ModuleNotFoundError" in out.stderr, (name, out.stderr[-500:])
    out = subprocess.run([python, "-c", "import streamlit, duckdb, scipy, sklearn, pyvis, plotly"], capture_output=True)
    assert out.returncode == 0, out.stderr[-1000:]


def test_venv_python_is_the_dockerfile_base_images():
    """The check's Python is the version the image's base (``FROM python:3.11-slim``) brings."""
    tag = base_image().split(":", 1)[1]
    out = subprocess.run([os.path.join(VENV, "bin", "python"), "-c", "import sys; print(*sys.version_info[:2], sep='.')"],
                         capture_output=True, text=True, check=True)  # fmt: skip
    assert tag.startswith(out.stdout.strip() + "-"), (tag, out.stdout)


def render_all(base: str, log: str, name: str) -> tuple[dict[str, str], dict[str, str]]:
    """Open every page cold in Chromium; returns ({path: what went wrong} (empty when all is well), {path: text})."""
    from playwright.sync_api import sync_playwright

    problems: dict[str, str] = {}
    texts: dict[str, str] = {}
    outside: list[str] = []
    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        ctx = browser.new_context(viewport={"width": 1400, "height": 1500})
        keep_local(ctx, outside)
        page = ctx.new_page()
        js_errors: list[str] = []
        page.on("pageerror", lambda e: js_errors.append(str(e)))
        for path, title in PAGES.items():
            page.goto(base + path, wait_until="domcontentloaded")
            try:
                page.wait_for_selector(f"h1:has-text('{title}')", timeout=90_000)
                wait_idle(page)
                page.wait_for_timeout(500)
            except Exception as e:
                problems[path] = f"not rendered: {str(e).splitlines()[0]}"
            os.makedirs(ARTIFACTS, exist_ok=True)
            page.screenshot(path=os.path.join(ARTIFACTS, f"{name}{path.replace('/', '_') or '_home'}.png"))
            errors = page.locator('[data-testid="stException"]').count()
            text = texts[path] = page.inner_text("body")
            if errors or "Traceback" in text:
                problems[path] = f"{errors} exception element(s); page text: {text[-500:]}"
            if js_errors:
                problems[path] = f"browser errors: {js_errors}"
                js_errors.clear()
        browser.close()
    if outside:
        problems["requests leaving 127.0.0.1"] = ", ".join(sorted(set(outside)))
    server_log = open(log, errors="replace").read()
    if "Traceback" in server_log:
        problems["server log"] = server_log[-3000:]
    return problems, texts


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"no Chromium at {CHROMIUM}")
def test_dockerfile_start_command_serves_every_page_from_a_space_folder(tmp_path):
    """The Dockerfile's CMD as it is, from the fresh venv, in the folder scripts/make_space.sh writes (what the
    image's WORKDIR holds), on the committed demo store in hosted mode."""
    space = tmp_path / "space"
    subprocess.run([os.path.join(ROOT, "scripts", "make_space.sh"), str(space)], check=True)
    log = str(tmp_path / "server.log")
    command = start_command()
    with serve(venv_env(), log, timeout=120, command=command, cwd=str(space)) as (base, proc):
        cmdline = open(f"/proc/{proc.pid}/cmdline").read().split("\0")
        assert cmdline[0].startswith(os.path.join(VENV, "bin")), cmdline  # the venv's streamlit, nothing else
        problems, texts = render_all(base, log, "docker")
    shutil.copy(log, os.path.join(ARTIFACTS, "docker_server.log"))
    assert problems == {}
    assert "Extraction is disabled in this hosted demo" in texts["/extract"]


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"no Chromium at {CHROMIUM}")
def test_community_cloud_entrypoint_serves_every_page(tmp_path):
    """``streamlit run deploy/cloud/app.py`` from the repository root, as Community Cloud runs it, hosted by the
    README's secret (``hosted = true`` in a secrets.toml; Streamlit also reads ``~/.streamlit/secrets.toml``)."""
    (tmp_path / ".streamlit").mkdir()
    (tmp_path / ".streamlit" / "secrets.toml").write_text("hosted = true\n")
    env = {**venv_env(hosted=False), "HOME": str(tmp_path)}
    log = str(tmp_path / "server.log")
    entry = os.path.relpath(os.path.join(CLOUD_DIR, "app.py"), ROOT)
    command = ["sh", "-c", f'exec streamlit run {entry} --server.address="$HOST" --server.port="$PORT"']
    with serve(env, log, timeout=120, command=command) as (base, _):
        problems, texts = render_all(base, log, "cloud")
    shutil.copy(log, os.path.join(ARTIFACTS, "cloud_server.log"))
    assert problems == {}
    assert "Extraction is disabled in this hosted demo" in texts["/extract"]


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"no Chromium at {CHROMIUM}")
def test_extract_page_without_the_model_stack_says_what_to_install(tmp_path):
    """Not hosted (a local browse-only checkout): the Extract page names the missing packages and the fix."""
    from playwright.sync_api import sync_playwright

    log = str(tmp_path / "server.log")
    command = ["sh", "-c", 'exec streamlit run app.py --server.address="$HOST" --server.port="$PORT"']
    env = venv_env(hosted=False)
    env["EXPERTS_STORE"] = str(tmp_path / "none.duckdb")
    with serve(env, log, timeout=120, command=command) as (base, _), sync_playwright() as pw:
        browser = launch_chromium(pw)
        page = browser.new_page()
        keep_local(page)
        page.goto(base + "/extract", wait_until="domcontentloaded")
        page.wait_for_selector("text=pip install -r requirements.txt", timeout=90_000)
        text = page.inner_text("body")
        assert page.locator("button:has-text('Start extraction')").count() == 0
        browser.close()
    assert all(name in text for name in MODEL_STACK), text
    assert "Traceback" not in open(log, errors="replace").read()


def test_serve_hosted_binds_127_0_0_1_by_default_and_serves_under_a_base_url_path():
    """``scripts/serve_hosted.sh`` with no HOST listens on 127.0.0.1 only; BASE_URL_PATH moves every route."""
    import time
    import urllib.request

    import psutil

    port = free_port()
    env = {**venv_env(), "PORT": str(port), "BASE_URL_PATH": "demo"}
    env.pop("HOST", None)
    proc = subprocess.Popen(start_command(), cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        deadline, body = time.monotonic() + 120, b""
        while time.monotonic() < deadline and body != b"ok":
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/demo/_stcore/health", timeout=2) as r:
                    body = r.read().strip()
            except OSError:
                time.sleep(0.5)
        assert body == b"ok", "not serving under /demo/"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/demo/", timeout=10) as r:
            assert r.status == 200 and b"<html" in r.read().lower()
        listening = {c.laddr.ip for c in psutil.Process(proc.pid).net_connections("inet") if c.status == "LISTEN"}
        assert listening == {"127.0.0.1"}, listening
    finally:
        proc.terminate()
        proc.wait(10)
