"""Dashboard latency and memory: what moving τ costs on the server, and what a browsing app process holds.

Measures, on synthetic stores built here:

* the concept-domain page at a new τ, 40 concepts (10 domains × 4): expert sets,
  graph, ARI/NMI, seeded layout and the network HTML (``core.render.domain_view.domain_view``,
  the same call the page makes) — target < 100 ms;
* the alignment at a new τ on 1000 MEN-style pairs with 1000 bootstrap
  resamples (``core.analysis.alignment.alignment_table`` with the page's cached index) —
  target < 300 ms;
* the resident memory (RSS) of a ``streamlit run app.py`` process after a
  browser has visited every page (Chromium via Playwright when
  /usr/bin/chromium exists; otherwise an AppTest process, reported as such).

and, when a real store and MEN are at hand (``--store``, default ``cache/experts.duckdb``; ``--men-dir``,
default ``../shared/data/men``), the same two calls on its domain run and its MEN-test run.

Each τ is new to the index's matrix cache, so nothing is reused between
measurements except what the dashboard caches per run (the ExpertIndex).
Benchmarks print numbers and ratios to target; they never assert.

Run: ``python bench/bench_dashboard.py [--quick]``; ``--grid-store 10,100,462`` measures the dashboard on the
grid-shaped stores of ``bench/grid_store.py`` instead (``bench/dashboard_scale.py``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time

import numpy as np
import pandas as pd

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from core.render import domain_view  # noqa: E402
from core.render.style import colours  # noqa: E402
from core.storage.paths import DEFAULT_STORE  # noqa: E402
from core.storage.store import Store  # noqa: E402
from dashboard_server import CHROMIUM, keep_local, launch_chromium, serve  # noqa: E402
from ui.page_state import PAGES  # noqa: E402
from ui.tau_section import TAU_LABEL  # noqa: E402

TARGET_GRAPH_MS = 100.0
TARGET_ALIGN_MS = 300.0


def word(i: int) -> str:
    """A valid concept name for an integer: 0 → 'baa', 1 → 'bab', ..."""
    letters = []
    for _ in range(3):
        letters.append(chr(ord("a") + i % 26))
        i //= 26
    return "b" + "".join(reversed(letters))


def build_store(
    path: str,
    n_concepts: int,
    n_units: int,
    per_domain: int = 4,
    shared: int = 300,
    own: int = 150,
    noise: int = 400,
    folds: int = 1,
    seed: int = 0,
    dim: int = 64,
) -> tuple[str, list[str], dict]:
    """A store with planted domains, written in one transaction per table (fast, unlike part-by-part ingest)."""
    rng = np.random.default_rng(seed)
    store = Store(path)
    concepts = [word(i) for i in range(n_concepts)]
    domains = {c: f"d{i // per_domain}" for i, c in enumerate(concepts)}
    run_id = f"bench{n_concepts}"
    units = pd.DataFrame(
        {
            "unit": np.arange(n_units, dtype=np.int32),
            "layer": (np.arange(n_units) * 30 // n_units).astype(np.int16),
            "module": "m",
            "kind": np.where(np.arange(n_units) % 3, "mlp_neuron", "attn_q"),
            "index": np.arange(n_units, dtype=np.int32),
            "head": np.int16(-1),
            "role": "",
        }
    )
    store.add_run(
        {
            "run_id": run_id,
            "model": "bench/toy",
            "revision": None,
            "step": None,
            "family": "toy",
            "n_params": 135_000_000,
            "n_units": n_units,
            "n_layers": 30,
            "unit_table": f"bench-{n_units}",
            "dataset_hash": "bench",
            "config": "{}",
            "versions": "{}",
        },
        units,
    )
    n_domains = (n_concepts + per_domain - 1) // per_domain
    domain_units = {d: rng.choice(n_units, size=shared, replace=False) for d in range(n_domains)}
    domain_dirs = rng.normal(size=(n_domains, dim))
    ap_rows, res_rows, vec_rows = [], [], []
    for i, c in enumerate(concepts):
        d = i // per_domain
        for fold in range(folds):
            u = np.unique(np.concatenate([domain_units[d], rng.choice(n_units, size=own + noise, replace=False)]))
            ap = np.where(np.isin(u, domain_units[d]), rng.uniform(0.75, 1.0, u.size), rng.uniform(0.5, 0.8, u.size))
            ap_rows.append(
                pd.DataFrame(
                    {
                        "run_id": run_id,
                        "concept": c,
                        "fold": np.int16(fold),
                        "unit": u.astype(np.int32),
                        "ap": ap.astype(np.float32),
                    }
                )
            )
            res_rows.append((run_id, c, fold, 400, 1000, n_units, u.size, 0.5, float(ap.max()), 0.3, None, None))
        for kind in ("word", "sentence"):
            vec_rows.append((run_id, c, kind, (domain_dirs[d] + rng.normal(size=dim)).astype(np.float32).tolist()))
    ap_df = pd.concat(ap_rows, ignore_index=True)
    res_df = pd.DataFrame(
        res_rows,
        columns=[
            "run_id",
            "concept",
            "fold",
            "n_pos",
            "n_neg",
            "n_units",
            "n_stored",
            "ap_floor",
            "max_ap",
            "mean_ap",
            "part",
            "finished_at",
        ],
    )
    vec_df = pd.DataFrame(vec_rows, columns=["run_id", "concept", "kind", "vec"])
    with store.connect(write=True) as con:
        con.register("ap_df", ap_df)
        con.register("res_df", res_df)
        con.register("vec_df", vec_df)
        con.execute("INSERT INTO ap SELECT * FROM ap_df")
        con.execute("INSERT INTO results SELECT * FROM res_df")
        con.execute("INSERT INTO vectors SELECT run_id, concept, kind, vec::FLOAT[] FROM vec_df")
        con.execute("INSERT INTO concepts SELECT DISTINCT concept, now() FROM res_df")
    return run_id, concepts, domains


def pairs_for(concepts: list[str], domains: dict, n: int, seed: int = 1) -> pd.DataFrame:
    """``n`` distinct word pairs with human-like scores: same-domain pairs rate higher."""
    rng = np.random.default_rng(seed)
    seen, rows = set(), []
    while len(rows) < n:
        a, b = rng.choice(len(concepts), 2, replace=False)
        key = (min(a, b), max(a, b))
        if key in seen:
            continue
        seen.add(key)
        same = domains[concepts[a]] == domains[concepts[b]]
        rows.append((concepts[a], concepts[b], float(rng.normal(38 if same else 15, 8)), "n", "n"))
    return pd.DataFrame(rows, columns=["word1", "word2", "score", "pos1", "pos2"])


def timed(fn, taus) -> list[float]:
    out = []
    for tau in taus:
        t = time.perf_counter()
        fn(tau)
        out.append((time.perf_counter() - t) * 1000)
    return out


def report(name: str, ms: list[float], target: float) -> dict:
    med, p95 = statistics.median(ms), float(np.percentile(ms, 95))
    print(
        f"{name:<58} median {med:8.1f} ms  p95 {p95:8.1f} ms  target {target:6.0f} ms  "
        f"ratio {med / target:5.2f}  (n={len(ms)})"
    )
    return {"name": name, "median_ms": med, "p95_ms": p95, "target_ms": target, "ratio": med / target}


def bench_graph(tmp: str, quick: bool) -> list[dict]:
    from core.analysis.domains import domain_graph, domain_scores
    from core.experts.index import ExpertIndex
    from core.render.netview import network_view

    path = os.path.join(tmp, "graph.duckdb")
    run_id, concepts, domains = build_store(path, 40, n_units=110_000, folds=1)
    t = time.perf_counter()
    index = ExpertIndex.from_store(Store(path, read_only=True), run_id)
    print(f"40 concepts × 110k units: index read once in {(time.perf_counter() - t) * 1000:.0f} ms ({index!r})")
    taus = [round(0.5 + 0.01 * i, 2) for i in range(1, 16 if quick else 46)]
    domain_view.domain_view(index, domains, 0.5, (), 0.05)  # warm-up: imports, once per process
    rows = [
        report(
            "domain page at a new τ (sets+graph+ARI/NMI+layout+network data)",
            timed(lambda tau: domain_view.domain_view(index, domains, tau, (), 0.05), taus),
            TARGET_GRAPH_MS,
        )
    ]
    index2 = ExpertIndex.from_store(Store(path, read_only=True), run_id)  # fresh matrix cache for the breakdown
    graph_ms, layout_ms, data_ms = [], [], []
    for tau in taus:
        t0 = time.perf_counter()
        sets = index2.sets(tau)
        g = domain_graph(sets, domains)
        domain_scores(g, domains)
        t1 = time.perf_counter()
        pos = domain_view.layout(g)
        t2 = time.perf_counter()
        network_view(g, colours(domains.values()), pos)
        t3 = time.perf_counter()
        graph_ms.append((t1 - t0) * 1000)
        layout_ms.append((t2 - t1) * 1000)
        data_ms.append((t3 - t2) * 1000)
    print(
        f"   breakdown (median): sets+graph+scores {statistics.median(graph_ms):.1f} ms, layout "
        f"{statistics.median(layout_ms):.1f} ms, network data {statistics.median(data_ms):.1f} ms"
    )
    return rows


def bench_alignment(tmp: str, quick: bool) -> list[dict]:
    from core.analysis.alignment import alignment_table
    from core.experts.index import ExpertIndex

    path = os.path.join(tmp, "men.duckdb")
    n_concepts = 650  # MEN's test split: 1000 pairs over roughly this many words
    t = time.perf_counter()
    run_id, concepts, domains = build_store(path, n_concepts, n_units=110_000, per_domain=8, folds=1)
    print(f"\n{n_concepts} concepts × 110k units store built in {time.perf_counter() - t:.1f} s")
    store = Store(path, read_only=True)
    pairs = pairs_for(concepts, domains, 1000)
    t = time.perf_counter()
    index = ExpertIndex.from_store(store, run_id)
    print(f"index read once in {(time.perf_counter() - t) * 1000:.0f} ms ({index!r})")
    alignment_table(store, [run_id], pairs, 0.5, n_boot=10, index_cache={run_id: index})  # warm-up (imports)
    taus = [round(0.5 + 0.01 * i, 2) for i in range(1, 8 if quick else 26)]
    rows = []
    for n_boot in (1000, 0):
        label = f"alignment at a new τ, 1000 pairs, {n_boot} bootstrap resamples"
        idx = ExpertIndex.from_store(store, run_id)
        cache = {run_id: idx}
        ms = timed(
            lambda tau, nb=n_boot, c=cache: alignment_table(
                store, [run_id], pairs, tau, n_boot=nb, seed=0, index_cache=c
            ),
            taus,
        )
        rows.append(report(label, ms, TARGET_ALIGN_MS))
    return rows


def bench_real(store_path: str, men_dir: str, quick: bool) -> list[dict]:
    """The domain page and the MEN-test alignment at a new τ on a real store's runs (read-only)."""
    from core.analysis.alignment import alignment_table
    from core.analysis.run_choice import pick_runs
    from core.experts.index import ExpertIndex
    from core.text.benchmarks import load_men
    from core.text.concepts import read_domains

    store = Store(store_path, read_only=True)
    domains = read_domains()
    pairs = load_men("test", men_dir)
    picked = pick_runs(store.runs(), domains, pairs)
    taus = [round(0.5 + 0.01 * i, 2) for i in range(1, 16 if quick else 46)]
    rows = []
    print(f"\nreal store {store_path}")
    if picked["domains"]:
        index = ExpertIndex.from_store(store, picked["domains"])
        domain_view.domain_view(index, domains, 0.5, (), 0.05)
        rows.append(
            report(
                f"domain page at a new τ, real run ({len(index.concepts)} concepts)",
                timed(lambda tau: domain_view.domain_view(index, domains, tau, (), 0.05), taus),
                TARGET_GRAPH_MS,
            )
        )
    if picked["benchmark"]:
        rid = picked["benchmark"]
        cache = {rid: ExpertIndex.from_store(store, rid)}
        n = int(alignment_table(store, [rid], pairs, 0.5, n_boot=10, index_cache=cache)["n_pairs"].max())
        rows.append(
            report(
                f"MEN-test alignment at a new τ, real run ({n} pairs covered, 1000 resamples)",
                timed(
                    lambda tau: alignment_table(store, [rid], pairs, tau, n_boot=1000, seed=0, index_cache=cache),
                    taus[:25],
                ),
                TARGET_ALIGN_MS,
            )
        )
    return rows


def bench_memory(tmp: str) -> dict:
    """RSS of the app process in hosted mode on the committed demo store, after every page was visited.

    Hosted mode as on a demo server: the embedded store read-only, no benchmark file (alignment from the
    store's snapshot), every page visited once, and again with the run picker's other runs.
    """
    import psutil

    env = {**os.environ, "EXPERTS_HOSTED": "1", "EXPERTS_MEN_DIR": os.path.join(tmp, "no-men")}
    for key in ("EXPERTS_STORE", "EXPERTS_BENCHMARK", "EXPERTS_DOMAINS"):
        env.pop(key, None)
    from core.storage.paths import DEMO_STORE
    from core.storage.store import Store

    run_ids = Store(os.path.join(ROOT, DEMO_STORE), read_only=True).runs()
    run_ids = [r.run_id for r in run_ids]
    pages = ["/", "/concept_domains", "/alignment", "/stability", "/concept_explorer", "/extract"]
    pages += [f"/concept_explorer?run={r}" for r in run_ids]  # every run's index loaded once
    if os.path.exists(CHROMIUM):
        try:
            from playwright.sync_api import sync_playwright
        except ImportError:
            sync_playwright = None
    else:
        sync_playwright = None
    if sync_playwright is None:
        code = textwrap.dedent(f"""
            import os, sys, json, psutil
            sys.path.insert(0, {ROOT!r})
            from streamlit.testing.v1 import AppTest
            at = AppTest.from_file({os.path.join(ROOT, "app.py")!r}, default_timeout=120)
            at.run()
            for p in ["pages/1_concept_domains.py", "pages/2_alignment.py", "pages/3_stability.py",
                      "pages/4_concept_explorer.py", "pages/5_extract.py"]:
                at.switch_page(p).run()
            print(json.dumps({{"rss": psutil.Process().memory_info().rss,
                               "torch": "torch" in sys.modules}}))
            """)
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=ROOT)
        info = json.loads(out.stdout.strip().splitlines()[-1])
        print(
            f"\nbrowse-mode RSS (AppTest process, no Chromium here): {info['rss'] / 2**20:.0f} MiB, "
            f"torch imported: {info['torch']}"
        )
        return {"rss_mib": info["rss"] / 2**20, "how": "apptest"}
    with serve(env) as (base, proc):
        server = psutil.Process(proc.pid)
        rss_start = server.memory_info().rss
        with sync_playwright() as pw:
            browser = launch_chromium(pw)
            page = browser.new_page()
            keep_local(page)
            for p in pages:
                page.goto(base + p + ("&" if "?" in p else "?") + "tau=0.7", wait_until="domcontentloaded")
                page.wait_for_selector("h1", timeout=60_000)
                page.wait_for_function(
                    """() => { const a = document.querySelector('[data-testid="stApp"]');
                               return a && a.getAttribute('data-test-script-state') !== 'running'
                                      && !document.querySelector('[data-testid="stSpinner"]'); }""",
                    timeout=60_000,
                )
                page.wait_for_timeout(500)
            browser.close()
        rss = server.memory_info().rss
    print(
        f"\nhosted-mode RSS of the streamlit server on the demo store after visiting {len(pages)} pages: "
        f"{rss / 2**20:.0f} MiB (at start {rss_start / 2**20:.0f} MiB)   target 700 MiB   "
        f"ratio {rss / 2**20 / 700:.2f}"
    )
    return {"rss_mib": rss / 2**20, "rss_start_mib": rss_start / 2**20, "how": "streamlit+chromium"}


TAU_PAGES = [link.path for link in PAGES if link.key != "extract"]  # every page that reads τ
TARGET_STEP_MS, TARGET_DRAG_MS = 300.0, 2000.0
WATCH_JS = """() => { window.__t0 = performance.now(); window.__last = window.__t0; window.__runs = 0;
    if (window.__obs) { window.__obs.disconnect(); window.__app.disconnect(); }
    window.__obs = new MutationObserver(() => { window.__last = performance.now(); });
    const what = {subtree: true, childList: true, attributes: true, characterData: true};
    window.__obs.observe(document.querySelector('[data-testid="stMain"]'), what);
    for (const f of document.querySelectorAll('[data-testid="stMain"] iframe')) {  // a component's own redraw
        try { if (f.contentDocument && f.contentDocument.body) window.__obs.observe(f.contentDocument.body, what); }
        catch (e) { /* a frame of another origin: its inside cannot be watched */ } }
    const app = document.querySelector('[data-testid="stApp"]');
    window.__app = new MutationObserver(() => {
        if (app.getAttribute('data-test-script-state') === 'running') window.__runs++; });
    window.__app.observe(app, {attributes: true, attributeFilter: ['data-test-script-state']}); }"""
SETTLED_JS = """(quiet) => { const a = document.querySelector('[data-testid="stApp"]');
    return a && a.getAttribute('data-test-script-state') !== 'running'
           && !document.querySelector('[data-testid="stSpinner"]') && performance.now() - window.__last > quiet; }"""
QUIET_MS = 600  # the page counts as settled when nothing in it has changed for this long


def _settled_ms(page, since: str = "__t0") -> float:
    """Milliseconds from the mark ``since`` to the page's last change, once it has been quiet for QUIET_MS."""
    page.wait_for_function(SETTLED_JS, arg=QUIET_MS, timeout=120_000, polling=50)
    return float(page.evaluate(f"() => window.__last - window.{since}"))


def _tau_slider(page):
    """The τ slider: in the sidebar, drawn there by ``ui.tau_section`` (the fragment that a τ step reruns)."""
    return page.locator('[data-testid="stSidebar"] [data-testid="stSlider"]').filter(has_text=TAU_LABEL)


def _thumb(page):
    return _tau_slider(page).locator('input[type="range"]')


def bench_tau_in_browser(quick: bool, store: str | None = None) -> list[dict]:
    """τ in Chromium on ``store`` (a store's path; default the demo store): one key step (0.01) to a settled page,
    and a mouse drag 0.50 -> 0.80.

    Per page: the median and max over several steps of the time from the key press to the last change of the
    page (a redrawn figure included), and the time from releasing a drag to the page settled at 0.80.
    """
    from playwright.sync_api import sync_playwright

    from core.storage.paths import DEMO_STORE

    store = store or os.path.join(ROOT, DEMO_STORE)
    env = {**os.environ, "EXPERTS_STORE": store, "EXPERTS_MEN_DIR": "/nonexistent"}
    for key in ("EXPERTS_BENCHMARK", "EXPERTS_DOMAINS", "EXPERTS_HOSTED"):
        env.pop(key, None)
    steps = 4 if quick else 8
    rows = []
    shown = os.path.relpath(store, ROOT) if store.startswith(ROOT) else store
    print(f"\nτ in Chromium on {shown} ({steps} key steps and one drag per page, settled = {QUIET_MS} ms quiet)")
    load = os.getloadavg()[0]
    with serve(env) as (base, _), sync_playwright() as pw:
        browser = launch_chromium(pw)
        page = browser.new_page(viewport={"width": 1400, "height": 1100})
        keep_local(page)
        for name in TAU_PAGES:
            page.goto(f"{base}/{name}?tau=0.50", wait_until="domcontentloaded")
            page.wait_for_selector("h1", timeout=120_000)
            page.evaluate(WATCH_JS)
            _settled_ms(page)
            thumb = _thumb(page)
            ms = []
            for k in range(steps + 1):  # the first step warms the caches of a new τ path; not counted
                thumb.focus()
                page.evaluate(WATCH_JS)
                page.keyboard.press("ArrowRight")
                t = _settled_ms(page)
                if k:
                    ms.append(t)
            label = name or "home"
            # a drag from 0.50 to 0.80: press on the thumb, move in 30 steps over about 1.5 s, release
            page.goto(f"{base}/{name}?tau=0.50", wait_until="domcontentloaded")
            page.wait_for_selector("h1", timeout=120_000)
            page.evaluate(WATCH_JS)
            _settled_ms(page)
            thumb = _thumb(page)
            page.evaluate(WATCH_JS)  # counts the reruns the drag starts
            track = _tau_slider(page).bounding_box()
            box = thumb.bounding_box()
            x0, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
            x1 = x0 + (0.80 - 0.50) / 0.50 * (track["width"] - box["width"])
            page.mouse.move(x0, y)
            page.mouse.down()
            for i in range(1, 31):
                page.mouse.move(x0 + (x1 - x0) * i / 30, y)
                page.wait_for_timeout(50)
            for _ in range(40):  # still pressed: settle the thumb on 0.80 exactly, a pixel at a time
                now = float(thumb.input_value())
                if abs(now - 0.80) < 1e-9:
                    break
                x1 += 1 if now < 0.80 else -1
                page.mouse.move(x1, y)
            page.evaluate("() => { window.__up = performance.now(); }")
            page.mouse.up()
            page.evaluate("() => { window.__last = Math.max(window.__last, window.__up); }")
            drag = _settled_ms(page, "__up")
            value, runs = thumb.input_value(), page.evaluate("window.__runs")
            print(
                f"{label:<18} τ step median {statistics.median(ms):7.0f} ms  max {max(ms):7.0f} ms  "
                f"(target {TARGET_STEP_MS:.0f}, ratio {statistics.median(ms) / TARGET_STEP_MS:4.2f}, n={len(ms)})   "
                f"drag 0.50→{value} settled {drag:7.0f} ms after release (target {TARGET_DRAG_MS:.0f}, "
                f"ratio {drag / TARGET_DRAG_MS:4.2f}, {runs} rerun{'s' if runs != 1 else ''})"
            )
            rows.append({"page": label, "step_median_ms": statistics.median(ms), "step_max_ms": max(ms),
                         "drag_ms": drag, "drag_value": value, "drag_reruns": runs})  # fmt: skip
        browser.close()
    print(
        f"load average (1 min) {load:.1f} at the start, {os.getloadavg()[0]:.1f} at the end, on {os.cpu_count()} CPUs"
    )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer τ values")
    parser.add_argument("--no-memory", action="store_true", help="skip the app-process memory measurement")
    parser.add_argument("--browser-only", action="store_true", help="only the τ step and drag in Chromium")
    parser.add_argument("--store", default=os.path.join(ROOT, DEFAULT_STORE), help="a real store (if present)")
    parser.add_argument("--men-dir", default=os.path.join(ROOT, "..", "shared", "data", "men"))
    parser.add_argument(
        "--grid-store", help="only the grid-shaped stores of these sizes, e.g. 10,100,462 (bench/dashboard_scale.py)"
    )
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}\n")
    if args.grid_store:
        from bench.dashboard_scale import bench_grid_stores

        bench_grid_stores([int(n) for n in args.grid_store.split(",")], os.path.abspath(args.men_dir))
        return
    if os.path.exists(CHROMIUM):
        bench_tau_in_browser(args.quick)
    else:
        print(f"no Chromium at {CHROMIUM}: the τ step and drag in a browser are not measured")
    if args.browser_only:
        return
    with tempfile.TemporaryDirectory() as tmp:
        rows = bench_graph(tmp, args.quick)
        rows += bench_alignment(tmp, args.quick)
        if os.path.exists(args.store) and os.path.isdir(args.men_dir):
            rows += bench_real(args.store, args.men_dir, args.quick)
        if not args.no_memory:
            bench_memory(tmp)
    print("\nratio = median / target (below 1 meets the target)")


if __name__ == "__main__":
    main()
