"""Every dashboard page under Streamlit's AppTest, on an empty and on a populated store.

Pages are opened the way a link opens them (``switch_page`` before the first
run is Streamlit's routing by file name, as a cold deep link is), and the τ
slider, the pickers and bad link values are exercised.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time

import numpy as np
import pandas as pd
import pytest
import streamlit as st

from tests.synthetic import make_store, write_benchmark
from ui import jobs

streamlit_testing = pytest.importorskip("streamlit.testing.v1")
AppTest = streamlit_testing.AppTest
PAGE_LINKS = pytest.importorskip("ui.page_state").PAGES

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
APP = os.path.join(ROOT, "app.py")
PAGES = {link.key: None if link.script == "app.py" else link.script for link in PAGE_LINKS}
XSS = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def populated(tmp_path_factory):
    """A synthetic store with three checkpoints and two folds, a benchmark and a domain list."""
    d = tmp_path_factory.mktemp("populated")
    make_store(str(d / "store.duckdb"), revisions=("step0", "step1000", "step143000"), folds=2)
    bench = write_benchmark(str(d / "men_synthetic.txt"))
    domains = d / "domains.txt"
    domains.write_text(f"{XSS}: cat, dog, horse, cheetah\nvehicle: car, bus, bike, truck\n")
    return {"store": str(d / "store.duckdb"), "bench": bench, "domains": str(domains)}


def use(files: dict, monkeypatch) -> dict:
    """Point the app at a store, benchmark and domain list (not hosted)."""
    monkeypatch.setenv("EXPERTS_STORE", files["store"])
    monkeypatch.setenv("EXPERTS_BENCHMARK", files["bench"])
    monkeypatch.setenv("EXPERTS_DOMAINS", files["domains"])
    monkeypatch.delenv("EXPERTS_HOSTED", raising=False)
    return files


@pytest.fixture
def env_populated(populated, monkeypatch):
    return use(populated, monkeypatch)


@pytest.fixture
def env_empty(tmp_path, monkeypatch):
    monkeypatch.setenv("EXPERTS_STORE", str(tmp_path / "missing.duckdb"))
    for key in ("EXPERTS_BENCHMARK", "EXPERTS_DOMAINS", "EXPERTS_HOSTED"):
        monkeypatch.delenv(key, raising=False)
    return tmp_path


def open_page(name: str, **params) -> AppTest:
    """Open a page cold, as a link ``/<page>?k=v`` would."""
    at = AppTest.from_file(APP, default_timeout=60)
    if PAGES[name]:
        at.switch_page(PAGES[name])
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def metric(at: AppTest, label_start: str) -> str:
    return next(m.value for m in at.metric if m.label.startswith(label_start))


def slider(at: AppTest, label_start: str):
    return next(s for s in at.slider if s.label.startswith(label_start))


def network_args(at: AppTest) -> dict:
    """The data the Concept domains page sends its network frame (nodes, edges, legend, caption)."""
    frames = [e for e in at.get("component_instance") if e.proto.component_name.endswith("concept_network")]
    assert frames, "no network frame drawn"
    return json.loads(frames[0].proto.json_args)["view"]


def texts(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [i.value for i in at.info] + [c.value for c in at.caption]
    return "\n".join(str(p) for p in parts)


# -- empty store ------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(PAGES))
def test_every_page_handles_an_empty_store(env_empty, name):
    at = open_page(name)
    assert not at.error
    if name == "home":
        assert "Getting started" in texts(at)
        assert "python -m core extract" in texts(at)
    elif name == "extract":
        assert at.button  # the form is there: extraction creates the store
    else:
        assert "No store at" in texts(at)
    assert at.query_params["tau"] == "0.50"


# -- populated store ----------------------------------------------------------------------------------
def test_home_shows_store_contents_and_headline(env_populated):
    at = open_page("home")
    assert metric(at, "Models") == "1"
    assert metric(at, "Runs") == "3"
    assert metric(at, "Concepts with results") == "8"
    rho = metric(at, "Expert neurons")
    assert rho.startswith("ρ = ")
    assert metric(at, "Human ceiling") == "0.84"
    assert at.dataframe  # the runs table
    assert at.query_params["rev"] == "step143000"  # default: latest checkpoint


def test_home_tau_changes_headline(env_populated):
    at = open_page("home")
    before = metric(at, "Expert neurons")
    slider(at, "Expert threshold").set_value(0.97).run()
    assert not at.exception
    assert at.query_params["tau"] == "0.97"
    assert metric(at, "Expert neurons") != before


def test_domains_page_draws_network_and_scores(env_populated):
    at = open_page("domains", tau="0.5")
    view = network_args(at)
    assert {n["id"] for n in view["nodes"]} == {"cat", "dog", "horse", "cheetah", "car", "bus", "bike", "truck"}
    assert view["legend"][0][0] == XSS  # sent as data; the frame sets it as text (the browser test checks)
    assert view["edges"] and all({"from", "to", "weight", "shared"} <= set(e) for e in view["edges"])
    assert metric(at, "ARI") == "1.000"
    assert metric(at, "Concepts") == "8"
    shared = at.dataframe[0].value  # shared experts of the strongest link
    assert {"unit", "ap_a", "ap_b", "layer", "kind"} <= set(shared.columns) and len(shared) >= 50
    a, b = at.query_params["pair"].split("~")
    assert a < b


def test_domains_tau_slider_changes_graph(env_populated):
    at = open_page("domains", tau="0.5")
    before = network_args(at)
    shared_before = next(c.value for c in at.caption if "units are experts of both" in c.value)
    slider(at, "Expert threshold").set_value(0.95).run()
    assert not at.exception
    assert at.query_params["tau"] == "0.95"
    assert network_args(at)["edges"] != before["edges"]
    shared_after = next(c.value for c in at.caption if "units are experts of both" in c.value)
    assert shared_after != shared_before
    # the units' positions (read once per pair, at the run's floor) are those of the store's unit table
    from core.storage.store import Store

    table = at.dataframe[0].value
    store = Store(env_populated["store"], read_only=True)
    whole = store.units(store.runs()[-1].run_id).set_index("unit")
    assert len(table) and table["layer"].tolist() == whole.loc[table["unit"], "layer"].tolist()


def test_domains_filter_and_cutoff_are_in_the_link(env_populated):
    at = open_page("domains", tau="0.6", domains="vehicle", min_w="0.2")
    assert at.multiselect[0].value == ["vehicle"]
    ids = {n["id"] for n in network_args(at)["nodes"]}
    assert "car" in ids and "cat" not in ids
    assert at.query_params["domains"] == "vehicle" and at.query_params["min_w"] == "0.20"
    slider(at, "Edge cut-off").set_value(0.99).run()
    assert at.query_params["min_w"] == "0.99"
    assert any("No links above the cut-off" in c.value for c in at.caption)


def test_alignment_page_table_and_downloads(env_populated):
    at = open_page("alignment", tau="0.5")
    assert not at.error
    table = at.dataframe[0].value
    assert set(table["method"]) == {
        "Expert neurons (Jaccard)",
        "Word embedding (cosine)",
        "Sentence embedding (cosine)",
    }
    assert len(table) == 9  # 3 checkpoints × 3 methods
    labels = [b.label for b in at.get("download_button")]
    assert labels == ["Table (CSV)", "Figure (SVG)"]
    assert at.get("plotly_chart")
    assert any("human ceiling" in c.value for c in at.caption)
    rho_before = table["rho"].tolist()
    assert any(h.value == "Where in the network" for h in at.subheader)
    assert any(h.value == "Where × when" for h in at.subheader)  # three checkpoints of one model: a series
    assert len(at.get("plotly_chart")) == 3
    slider(at, "Expert threshold").set_value(0.9).run()
    assert at.dataframe[0].value["rho"].tolist() != rho_before


@pytest.fixture
def env_snapshot_only(populated, tmp_path, monkeypatch):
    """A demo-like store with an alignment snapshot, opened where no benchmark file exists."""
    from core.render.demo import build_demo
    from core.text.benchmarks import read_pairs

    info = build_demo(
        populated["store"],
        str(tmp_path / "demo.duckdb"),
        benchmarks={"MEN test": read_pairs(populated["bench"])},
        n_boot=100,
    )
    monkeypatch.setenv("EXPERTS_STORE", info["path"])
    monkeypatch.setenv("EXPERTS_MEN_DIR", str(tmp_path / "no_men_here"))
    monkeypatch.delenv("EXPERTS_BENCHMARK", raising=False)
    monkeypatch.setenv("EXPERTS_DOMAINS", populated["domains"])
    monkeypatch.delenv("EXPERTS_HOSTED", raising=False)
    return info


def test_alignment_from_the_stored_snapshot_without_benchmark_files(env_snapshot_only):
    at = open_page("alignment", tau="0.5")
    assert not at.error
    assert any("alignment snapshot" in i.value for i in at.info)
    table = at.dataframe[0].value
    assert len(table) == 9 and set(table["n_pairs"]) == {28}
    assert list(table["method"][:3]) == [
        "Expert neurons (Jaccard)",
        "Word embedding (cosine)",
        "Sentence embedding (cosine)",
    ]
    rho_before = table["rho"].tolist()
    assert any(h.value == "Where in the network" for h in at.subheader) and len(at.get("plotly_chart")) == 3
    where_before = [c.value for c in at.caption if c.value.startswith("Best single layers")]
    slider(at, "Expert threshold").set_value(0.9).run()
    assert not at.exception
    assert at.dataframe[0].value["rho"].tolist() != rho_before  # every slider τ is in the snapshot
    assert [c.value for c in at.caption if c.value.startswith("Best single layers")] != where_before
    home = open_page("home", tau="0.9")
    assert metric(home, "Expert neurons").startswith("ρ = ")
    assert any("alignment snapshot" in c.value for c in home.caption)


def test_stability_page(env_populated):
    at = open_page("stability", tau="0.5")
    assert metric(at, "Concepts × folds") == "8 × 2"
    within, between = float(metric(at, "Same concept")), float(metric(at, "Different concepts"))
    assert within > between
    slider(at, "Expert threshold").set_value(0.85).run()
    assert next(m.label for m in at.metric if m.label.startswith("Same concept")).endswith("0.85")
    assert len(at.get("plotly_chart")) == 2


def test_explorer_page_and_comparison(env_populated):
    at = open_page("explorer", tau="0.5", concept="dog", other="car")
    assert at.selectbox[0].value == "dog" or any(s.value == "dog" for s in at.selectbox)
    n_before = int(metric(at, "Experts at").replace(",", ""))
    assert n_before == 110  # 60 shared + 20 own + 30 scattered units in the synthetic store
    assert int(metric(at, "Shared")) < 10  # dog and car are in different planted domains: noise only
    assert any("sentences stored" in c.value for c in at.caption)
    slider(at, "Expert threshold").set_value(0.8).run()
    assert int(metric(at, "Experts at").replace(",", "")) < n_before
    assert at.query_params["concept"] == "dog" and at.query_params["other"] == "car"


@pytest.fixture(scope="module")
def final_only(tmp_path_factory):
    """A store whose only run is a model's released weights: no revision, no step (NULL), one fold."""
    d = tmp_path_factory.mktemp("final")
    make_store(str(d / "store.duckdb"), revisions=(None,), folds=1)
    return {"store": str(d / "store.duckdb"), "bench": write_benchmark(str(d / "men_synthetic.txt"))}


@pytest.mark.parametrize("name", list(PAGES))
def test_every_page_with_final_weights_only(final_only, monkeypatch, name):
    monkeypatch.setenv("EXPERTS_STORE", final_only["store"])
    monkeypatch.setenv("EXPERTS_BENCHMARK", final_only["bench"])
    monkeypatch.delenv("EXPERTS_DOMAINS", raising=False)
    at = open_page(name)
    assert not at.error
    assert at.query_params["rev"] == "final"
    if name == "stability":
        assert any("one fold" in i.value for i in at.info)
    if name == "alignment":
        assert len(at.dataframe[0].value) == 3


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    """One model and revision with two runs: all 8 concepts in one fold, and the animals in three folds."""
    d = tmp_path_factory.mktemp("two_runs")
    path = str(d / "store.duckdb")
    make_store(path, folds=1, run_prefix="domainsrun")
    make_store(
        path,
        domains={"animal": ["cat", "dog", "horse", "cheetah"]},
        folds=3,
        run_prefix="foldsrun",
        sentences=False,
        seed=1,
    )
    domains = d / "domains.txt"
    domains.write_text("animal: cat, dog, horse, cheetah\nvehicle: car, bus, bike, truck\n")
    return {"store": path, "bench": write_benchmark(str(d / "men_synthetic.txt")), "domains": str(domains)}


@pytest.fixture
def env_two_runs(two_runs, monkeypatch):
    return use(two_runs, monkeypatch)


def run_picker(at: AppTest):
    return next(s for s in at.selectbox if s.label == "Run")


def test_each_page_opens_on_the_run_it_needs(env_two_runs):
    at = open_page("stability")
    assert metric(at, "Concepts × folds") == "4 × 3"
    assert run_picker(at).value == "foldsrun00" and at.query_params["run"] == "foldsrun00"
    at = open_page("domains")
    assert metric(at, "Concepts") == "8" and run_picker(at).value == "domainsrun00"
    at = open_page("home")
    assert run_picker(at).value == "domainsrun00"  # covers the benchmark's pairs
    at = open_page("alignment")
    table = at.dataframe[0].value
    assert len(table) == 3 and set(table["n_pairs"]) == {28}  # one run per revision: the one covering the pairs
    labels = [run_picker(at).format_func(o) for o in run_picker(at).options]
    assert any("3 folds" in label and "4 concepts" in label for label in labels), labels


def test_a_run_picked_by_hand_or_linked_is_kept(env_two_runs):
    at = open_page("stability", run="domainsrun00")
    assert any("one fold" in i.value for i in at.info)
    at = open_page("domains")
    run_picker(at).set_value("foldsrun00").run()
    assert not at.exception
    assert at.query_params["run"] == "foldsrun00" and metric(at, "Concepts") == "4"
    at.switch_page("pages/3_stability.py").run()
    assert not at.exception and run_picker(at).value == "foldsrun00"
    at.switch_page("pages/2_alignment.py").run()
    assert set(at.dataframe[0].value["n_pairs"]) == {6}  # the picked run stands for its revision: animal pairs


def test_stability_against_set_sizes(tmp_path, monkeypatch):
    path = str(tmp_path / "store.duckdb")
    animals = {"animal": ["cat", "dog", "horse", "cheetah"]}
    make_store(path, animals, folds=3, run_prefix="pos100_", n_pos=100, n_neg=1000)
    make_store(path, animals, folds=3, run_prefix="pos50_", n_pos=50, n_neg=1000, sentences=False, seed=1)
    make_store(path, animals, folds=3, run_prefix="neg250_", n_pos=100, n_neg=250, sentences=False, seed=2)
    monkeypatch.setenv("EXPERTS_STORE", path)
    monkeypatch.delenv("EXPERTS_BENCHMARK", raising=False)
    at = open_page("stability", tau="0.6")
    assert any(h.value == "Stability against set sizes" for h in at.subheader)
    sizes = next(d.value for d in at.dataframe if "n_neg" in d.value.columns)
    assert sorted(zip(sizes["n_pos"], sizes["n_neg"])) == [(50, 1000), (100, 250), (100, 1000)]
    assert len(at.get("plotly_chart")) >= 2


def test_unknown_run_in_link_falls_back_with_a_notice(env_two_runs):
    at = open_page("stability", run="nosuchrun")
    assert any("not in this store" in w.value for w in at.warning)
    assert run_picker(at).value == "foldsrun00"


def test_pickers_change_run_and_link(env_populated):
    at = open_page("explorer", tau="0.95", concept="cat")
    late = metric(at, "Experts at")
    rev = next(s for s in at.selectbox if s.label == "Revision")
    rev.set_value("step0").run()
    assert not at.exception
    assert at.query_params["rev"] == "step0"
    assert metric(at, "Experts at") != late  # the first checkpoint has weaker experts in the synthetic store


def test_deep_link_restores_view_and_survives_page_switch(env_populated):
    at = open_page("domains", tau="0.7", rev="step1000", pair="bike~bus")
    assert slider(at, "Expert threshold").value == pytest.approx(0.7)
    assert next(s for s in at.selectbox if s.label == "Revision").value == "step1000"
    assert at.query_params["pair"] == "bike~bus"
    at.switch_page("pages/3_stability.py").run()
    assert not at.exception
    assert at.query_params["tau"] == "0.70" and at.query_params["rev"] == "step1000"
    assert "pair" not in at.query_params  # page-specific values do not leak into other pages' links


@pytest.mark.parametrize(
    "params, notice",
    [
        ({"tau": "abc"}, "not a number in [0.5, 1]"),
        ({"tau": "0.2"}, "not a number in [0.5, 1]"),
        ({"model": "nobody/unknown"}, "not in this store"),
        ({"rev": "step999"}, "not in this store"),
    ],
)
def test_bad_link_values_fall_back_with_a_notice(env_populated, params, notice):
    at = open_page("home", **params)
    shown = [w.value.replace("\\", "") for w in at.warning]  # notices are Markdown-escaped
    assert any(notice in w for w in shown), shown
    assert at.query_params["tau"] in ("0.50",)
    assert at.query_params["model"] == "synthetic/toy-10m"


def test_unreadable_benchmark_is_an_error_not_a_traceback(env_populated, tmp_path, monkeypatch):
    bad = tmp_path / "men_bad.txt"
    bad.write_text("cat dog not-a-number\n")
    monkeypatch.setenv("EXPERTS_BENCHMARK", str(bad))
    for name in ("home", "alignment"):
        at = open_page(name)
        assert any("Alignment cannot be computed" in e.value for e in at.error)


@pytest.mark.parametrize("page", ["domains", "explorer", "stability"])
def test_a_store_that_fails_deep_in_a_page_read_stops_the_page_with_one_line(populated, page, tmp_path, monkeypatch):
    """A damaged block only met when a page reads the run's APs: one line naming the store, no traceback."""
    import shutil

    from core.experts.index import ExpertIndex
    from core.storage.store import StoreError

    store = tmp_path / "store.duckdb"  # a path of its own, so no cached read from another test answers
    shutil.copy(populated["store"], store)
    use({**populated, "store": str(store)}, monkeypatch)
    message = f"store {str(store)!r} is corrupt (IO Error: block checksum mismatch); rebuild it from its parts"

    def damaged(*args, **kwargs):
        raise StoreError(message)

    monkeypatch.setattr(ExpertIndex, "from_store", damaged)
    before = store.read_bytes()
    at = open_page(page)
    assert [e.value for e in at.error] == [message]
    assert store.read_bytes() == before
    monkeypatch.setenv("EXPERTS_HOSTED", "1")  # a visitor: the same stop, without the path and the advice
    at = open_page(page)
    try:
        assert [e.value for e in at.error] == ["The store cannot be read right now."]
    finally:
        st.set_option("client.showErrorDetails", "full")


def test_pair_link_in_either_order(env_populated):
    at = open_page("domains", tau="0.5", pair="dog~cat")
    assert not at.warning and at.query_params["pair"] == "cat~dog"


def test_unknown_concept_in_link(env_populated):
    at = open_page("explorer", concept="zebra")
    assert any("not available" in w.value for w in at.warning)
    assert at.query_params["concept"] == "cat"


def test_hosted_mode_hides_extraction(env_populated, monkeypatch):
    monkeypatch.setenv("EXPERTS_HOSTED", "1")
    at = open_page("home")
    labels = [link.proto.label for link in at.get("page_link")]
    assert "Extract" not in labels and "Alignment" in labels
    at = open_page("extract")
    assert any("disabled" in i.value for i in at.info)
    assert not at.get("form") and not at.button
    try:
        assert st.get_option("client.showErrorDetails") == "none"  # no tracebacks for visitors
    finally:
        st.set_option("client.showErrorDetails", "full")


def test_extract_page_without_the_model_stack_says_what_to_install(env_empty, monkeypatch):
    """A browse-only install (requirements-dashboard.txt) has no torch: the page names the missing packages."""
    monkeypatch.setattr(jobs, "MODEL_STACK", ("torch", "no_such_model_package"))
    assert jobs.missing_model_stack() == ["no_such_model_package"]
    at = open_page("extract")
    assert not at.error and not at.get("form") and not at.button
    assert any("no_such_model_package" in i.value and "pip install -r requirements.txt" in i.value for i in at.info)


def test_extract_page_runs_cli_in_background(env_empty):
    """Start a real `python -m core extract` from the form; it fails fast (no sentences) and is reported."""
    at = open_page("extract")

    def labelled(widgets, label):
        return next(w for w in widgets if w.label.startswith(label))

    labelled(at.text_input, "Model").set_value("smollm2")
    labelled(at.radio, "Concepts").set_value("typed below")
    at.text_area[0].set_value("zebra, quagga")
    labelled(at.button, "Start extraction").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("Started job" in s.value for s in at.success)
    store = os.environ["EXPERTS_STORE"]
    job = jobs.load_all(store)[0]
    assert job.cmd[:3] == [sys.executable, "-m", "core"] and "--concepts=zebra,quagga" in job.cmd
    deadline = time.time() + 60
    while jobs.status(jobs.refresh(job)) == "running" and time.time() < deadline:
        time.sleep(0.3)
    assert jobs.status(job) == "failed"
    assert "error" in jobs.log_tail(job).lower()
    at.run()  # the job panel shows it
    assert any("failed" in m.value for m in at.markdown)


def test_browse_pages_do_not_import_torch(populated):
    """Visit every page in a fresh interpreter: no torch, no transformers (hosted memory and start-up)."""
    code = textwrap.dedent(f"""
        import os, sys
        sys.path.insert(0, {ROOT!r})
        os.environ.update(EXPERTS_STORE={populated["store"]!r}, EXPERTS_BENCHMARK={populated["bench"]!r})
        from streamlit.testing.v1 import AppTest
        at = AppTest.from_file({APP!r}, default_timeout=60)
        at.run()
        for page in {[p for p in PAGES.values() if p]!r}:
            at.switch_page(page).run()
            assert not at.exception, (page, [e.value for e in at.exception])
        heavy = [m for m in ("torch", "transformers") if m in sys.modules]
        print("HEAVY", heavy)
        """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "HEAVY []" in out.stdout, out.stdout


@pytest.fixture(scope="module")
def series_files(tmp_path_factory, populated):
    """Two model sizes × four checkpoints, a training log, and one checkpoint identical to the one before."""
    d = tmp_path_factory.mktemp("series")
    path = str(d / "store.duckdb")
    revisions = ("step0", "step1", "step4", "step16")
    make_store(path, revisions=revisions, folds=1, model="toy/neox-1m", run_prefix="small", n_params=1_000_000)
    store, big = make_store(
        path, revisions=revisions, folds=1, model="toy/neox-5m", run_prefix="big", sentences=False, n_params=5_000_000
    )
    for run_id, weights in zip(big, ("w0", "w0", "w4", "w16")):
        store.add_run({"run_id": run_id, "weights_hash": weights})
    log = pd.DataFrame({"step": [0, 4, 16], "tokens": [0, 400, 1600], "loss": [None, 6.0, 5.0]})
    store.add_training_log("toy/neox-1m", log.assign(held_out_loss=[8.3, 6.1, 5.2]))
    return {**populated, "store": path}


def plotly_data(chart) -> list[dict]:
    """The traces of a drawn plotly chart, with binary-encoded arrays (``bdata``) decoded."""
    import base64

    import numpy as np

    def decode(v):
        if isinstance(v, dict) and "bdata" in v:
            a = np.frombuffer(base64.b64decode(v["bdata"]), dtype=v["dtype"])
            shape = v.get("shape")  # "4, 4" in plotly's encoding
            return a.reshape([int(n) for n in str(shape).split(",")]) if shape else a
        return v

    return [{k: decode(v) for k, v in t.items()} for t in json.loads(chart.proto.spec)["data"]]


def test_alignment_page_draws_the_checkpoint_series(series_files, monkeypatch):
    use(series_files, monkeypatch)
    at = open_page("alignment", tau="0.5")
    assert not at.error
    charts = at.get("plotly_chart")
    traces = plotly_data(charts[0])
    curves = [t for t in traces if t.get("mode") == "lines+markers"]
    assert len(curves) == 2 * 3 and all(len(t["x"]) == 4 for t in curves)  # 2 sizes × 3 methods, 4 steps each
    assert json.loads(charts[0].proto.spec)["layout"]["xaxis"]["ticktext"][0] == "0"  # step 0 on the log axis
    flags = [t for t in traces if t.get("marker", {}).get("symbol") == "x"]
    assert len(flags) == 1 and len(flags[0]["x"]) == 1
    assert any("step1 = step0" in w.value for w in at.warning)
    assert [h.value for h in at.subheader][-2:] == ["Where × when", "Training loss"]

    def rho_maps(chart):
        return [t for t in plotly_data(chart) if t["type"] == "heatmap" and t["meta"]["kind"] == "rho"]

    heatmaps = rho_maps(charts[-2])
    assert [t["name"] for t in heatmaps] == ["neox-1m", "neox-5m"]  # display names: the last part of the id
    assert [len(t["x"]) for t in heatmaps] == [4, 4] and len(heatmaps[0]["y"]) == 4  # 4 layers × 4 steps
    z_before = np.asarray(heatmaps[0]["z"], float)
    slider(at, "Expert threshold").set_value(0.95).run()
    z_after = np.asarray(rho_maps(at.get("plotly_chart")[-2])[0]["z"], float)
    assert z_after.shape == z_before.shape and not np.allclose(z_after, z_before, equal_nan=True)


# -- crafted widget values ------------------------------------------------------------------------------
def craft(widget, **field) -> None:
    """Make the next run send ``field`` for ``widget``, as a crafted websocket message would (AppTest itself only
    sends values among the options)."""
    from streamlit.proto.WidgetStates_pb2 import WidgetState

    state = WidgetState(id=widget.id, **field)
    widget.__class__ = type("Crafted", (type(widget),), {"_widget_state": property(lambda self: state)})


CRAFTED = {  # in the wire type each widget uses
    "unknown option": {"string_value": "<b>no such option</b>"},
    "unknown options": {"string_array_value": {"data": ["cat", "<b>no such option</b>"]}},
    "number out of range": {"double_array_value": {"data": [7.5]}},
}
DRIVEN = {"unknown option": "selectbox", "unknown options": "multiselect", "number out of range": "slider"}
WRONG_TYPE = {  # each kind of widget, sent a value in another wire type than its own
    "selectbox": {"int_value": 7},
    "multiselect": {"string_value": "<b>no such option</b>"},
    "slider": {"string_value": "7.5"},
    "radio": {"string_array_value": {"data": ["<b>no such option</b>"]}},
    "number_input": {"string_value": "<b>no such option</b>"},
    "checkbox": {"double_array_value": {"data": [7.5]}},
    "text_input": {"int_value": 7},
}
UNREADABLE = {  # in the widget's own wire type, but a value its deserializer cannot read
    "slider": {"double_array_value": {"data": []}},
    "selectbox": {"string_value": ""},
}


def crafted_page_renders(at: AppTest, values: dict) -> None:
    """Send ``values`` (by widget kind) for every such widget of ``at``'s page; the page and the run after render."""
    driven = 0
    for kind, field in values.items():
        for w in getattr(at, kind):
            craft(w, **field)
            driven += 1
    assert driven, "the page has no widget to drive"
    for _ in range(2):  # the run that receives the values, and the one after it
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        assert at.title or at.header or at.markdown  # the page drew something
        link = dict(at.query_params)
        assert not any("no such option" in str(v) or "7.5" in str(v) for v in link.values()), link


@pytest.mark.parametrize("page", list(PAGES))
@pytest.mark.parametrize("values", [WRONG_TYPE, UNREADABLE], ids=["wrong type", "unreadable"])
def test_widget_values_of_the_wrong_type_are_dropped_and_the_page_renders(env_populated, page, values):
    crafted_page_renders(open_page(page), values)


@pytest.mark.parametrize("page", ["home", "domains", "alignment", "explorer"])
@pytest.mark.parametrize("kind", list(CRAFTED))
def test_crafted_widget_values_fall_back_and_the_page_renders(env_populated, page, kind):
    at = open_page(page)
    assert at.selectbox, "the page has no select box to drive"
    for w in getattr(at, DRIVEN[kind]):
        craft(w, **CRAFTED[kind])
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    link = dict(at.query_params)  # what the page kept: the crafted value never reaches the link or the session
    assert not any("no such option" in str(v) or "7.5" in str(v) for v in link.values()), link
    at.run()  # and the run after it draws the defaults again
    assert not at.exception, [e.value for e in at.exception]
    assert not any("no such option" in str(v) or "7.5" in str(v) for v in dict(at.query_params).values())


def test_a_store_with_sentences_only_points_to_the_demo_one_click_away(env_empty):
    """After one `mine` the store exists but has no runs: Home says so and the sidebar's button opens the demo."""
    from core.storage.store import Store

    Store(os.environ["EXPERTS_STORE"]).add_sentences("cat", ["The cat sat on the mat."], source="mined")
    at = open_page("home")
    assert any("This store is empty" in i.value for i in at.info)
    assert any("Show the demo store" in i.value for i in at.info)
    demo = next(b for b in at.button if b.label == "Show the demo store")
    demo.click().run()
    assert not at.exception and at.query_params["store"] == "demo"
    assert int(metric(at, "Runs")) > 0  # the demo's runs


# -- measure pickers (issue #23) ------------------------------------------------------------------------
def widget(at: AppTest, kind: str, label: str):
    return next(w for w in getattr(at, kind) if w.label == label)


def panels(at: AppTest) -> list[str]:
    """The panel titles of the Alignment page's Fig. 2 (one per method), read from the figure's JSON as a person
    reads them (a title drawn on two lines reads as one)."""
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    titles = [a["text"] for a in spec["layout"]["annotations"] if not a["text"].startswith("human ceiling")]
    return [t.replace("<br>", " ") for t in titles]


def test_alignment_measure_picker_scores_and_draws_more_measures(env_populated):
    at = open_page("alignment", tau="0.5")
    assert "measures" not in at.query_params and len(at.dataframe[0].value) == 9  # the default page
    assert len(panels(at)) == 3
    widget(at, "multiselect", "More measures").set_value(["weighted_jaccard"]).run()
    assert not at.exception
    assert at.query_params["measures"] == "weighted_jaccard"
    table = at.dataframe[0].value
    assert len(table) == 12 and "Expert neurons (weighted Jaccard of APs)" in set(table["method"])
    assert panels(at)[-1] == "Expert neurons (weighted Jaccard of APs)" and len(panels(at)) == 4
    linked = open_page("alignment", tau="0.5", measures="clipped_ap_cosine,raw_ap_cosine")
    assert widget(linked, "multiselect", "More measures").value == ["clipped_ap_cosine", "raw_ap_cosine"]
    assert "Expert neurons (cosine of clipped APs)" in set(linked.dataframe[0].value["method"])
    assert any("All units (cosine of raw APs): no run here stored every AP" in i.value for i in linked.info)
    widget(linked, "multiselect", "More measures").set_value([]).run()
    assert "measures" not in linked.query_params and len(linked.dataframe[0].value) == 9


def test_alignment_measure_picker_reads_the_snapshot_and_names_what_it_lacks(env_snapshot_only):
    at = open_page("alignment", tau="0.5", measures="weighted_jaccard,raw_ap_kl")
    assert not at.error
    methods = set(at.dataframe[0].value["method"])
    assert "Expert neurons (weighted Jaccard of APs)" in methods and len(methods) == 4
    assert any(i.value.startswith("All units (−symmetric KL of APs): not in this store's snapshot") for i in at.info)


def test_domains_measure_picker_reweights_the_graph(env_populated):
    at = open_page("domains", tau="0.5")
    assert "measure" not in at.query_params
    before, ratio = network_args(at), metric(at, "Within / between")
    assert "links with reciprocal overlap ≥ 0.05" in before["caption"]
    widget(at, "selectbox", "Link weight").set_value("weighted_jaccard").run()
    assert not at.exception
    assert at.query_params["measure"] == "weighted_jaccard"
    view = network_args(at)
    assert view["edges"] != before["edges"] and "links with weighted Jaccard ≥ 0.05" in view["caption"]
    assert metric(at, "Within / between") != ratio
    assert slider(at, "Edge cut-off").label == "Edge cut-off (weighted Jaccard ≥)"
    linked = open_page("domains", tau="0.5", measure="experts")
    assert widget(linked, "selectbox", "Link weight").value == "experts"
    assert "links with experts ≥" in network_args(linked)["caption"]


def test_explorer_nearest_concepts_by_the_picked_measure(env_populated):
    at = open_page("explorer", tau="0.5", concept="dog")

    def near(at):
        return next(d.value for d in at.dataframe if list(d.value.columns)[0] == "concept")

    before = near(at)
    assert list(before.columns) == ["concept", "jaccard"] and "measure" not in at.query_params
    widget(at, "selectbox", "Similarity").set_value("clipped_ap_cosine").run()
    assert not at.exception
    assert at.query_params["measure"] == "clipped_ap_cosine"
    after = near(at)
    assert list(after.columns) == ["concept", "clipped_ap_cosine"]
    assert after["clipped_ap_cosine"].tolist() != before["jaccard"].tolist()
    assert set(after["concept"][:3]) == {"cat", "horse", "cheetah"}  # dog's planted domain comes first
