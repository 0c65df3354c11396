"""The dashboard's non-UI helpers: settings, link values, run choice, network HTML, figures, jobs."""

from __future__ import annotations

import os
import re
import sys
import xml.etree.ElementTree as ET

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from core import browse, figures, jobs
from core.netview import network_html

XSS = "<img src=x onerror=alert(1)>"


# -- settings -----------------------------------------------------------------------------------------
def test_settings_default_store_and_demo_fallback(tmp_path):
    cfg = browse.resolve_settings({}, {}, root=str(tmp_path))
    assert cfg.store == str(tmp_path / "cache" / "experts.duckdb") and cfg.source == "default"
    assert not cfg.hosted and cfg.can_extract and not cfg.is_demo
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "demo.duckdb").write_bytes(b"")
    cfg = browse.resolve_settings({}, {}, root=str(tmp_path))
    assert cfg.is_demo and cfg.store.endswith("demo.duckdb") and cfg.notices
    assert cfg.write_store.endswith("experts.duckdb")  # extraction never writes into the demo
    (tmp_path / "cache" / "experts.duckdb").write_bytes(b"")
    assert not browse.resolve_settings({}, {}, root=str(tmp_path)).is_demo


def test_settings_env_beats_secrets_and_named_store_is_never_replaced(tmp_path):
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "demo.duckdb").write_bytes(b"")
    cfg = browse.resolve_settings(
        {"EXPERTS_STORE": "a.duckdb"}, {"store": "b.duckdb", "hosted": True}, root=str(tmp_path)
    )
    assert cfg.store == str(tmp_path / "a.duckdb") and cfg.source == "EXPERTS_STORE" and cfg.hosted
    cfg = browse.resolve_settings({}, {"store": "/abs/b.duckdb"}, root=str(tmp_path))
    assert cfg.store == "/abs/b.duckdb" and cfg.source == "secrets:store" and not cfg.is_demo
    assert browse.resolve_settings({"EXPERTS_HOSTED": "0"}, {"hosted": True}, root=str(tmp_path)).hosted is False
    assert not browse.resolve_settings({"EXPERTS_HOSTED": "1"}, {}, root=str(tmp_path)).can_extract


def test_benchmarks_are_found_not_downloaded(tmp_path):
    men = tmp_path / "MEN"
    men.mkdir()
    (men / "MEN_dataset_lemma_form.test").write_text("cat-n dog-n 40\n")
    extra = tmp_path / "simlex.txt"
    extra.write_text("a b 1\n")
    found = browse.find_benchmarks(str(men), [str(extra), str(tmp_path / "missing.txt")])
    assert [n for n, _ in found] == ["MEN test", "simlex"]


def test_fingerprint_changes_with_the_file(tmp_path):
    f = tmp_path / "s.duckdb"
    assert browse.fingerprint(str(f))[1] is None
    f.write_bytes(b"x")
    a = browse.fingerprint(str(f))
    f.write_bytes(b"xy")
    assert browse.fingerprint(str(f)) != a


# -- link values ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "raw, expected, notice",
    [
        ("0.7", 0.7, False),
        ("0.70", 0.7, False),
        ("1", 1.0, False),
        ("0.5", 0.5, False),
        ("0.734", 0.73, False),
        (None, 0.5, False),
        ("", 0.5, False),
        ("abc", 0.5, True),
        ("0.49", 0.5, True),
        ("1.01", 0.5, True),
        ("nan", 0.5, True),
        ("inf", 0.5, True),
        ("<script>", 0.5, True),
    ],
)
def test_parse_tau(raw, expected, notice):
    value, msg = browse.parse_tau(raw)
    assert value == pytest.approx(expected) and bool(msg) == notice


@given(st.text(max_size=30))
def test_parse_tau_never_fails_and_stays_in_range(raw):
    value, _ = browse.parse_tau(raw)
    assert browse.TAU_MIN <= value <= browse.TAU_MAX


def test_parse_multi_and_choice():
    assert browse.parse_multi("a,zz,b", ["a", "b"], "domains")[0] == ["a", "b"]
    assert "zz" in browse.parse_multi("a,zz", ["a"], "domains")[1]
    assert browse.parse_choice("x", ["a"], "a", "bench") == ("a", browse.parse_choice("x", ["a"], "a", "bench")[1])
    assert browse.parse_number("2", 0, 1, 0.05, "min_w")[0] == 0.05


def _runs() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "run_id": ["r1", "r2", "r3", "p1"],
            "model": ["m", "m", "m", "big"],
            "revision": ["step1000", None, "step0", None],
            "step": [1000, None, 0, None],
            "n_params": [1e6, 1e6, 1e6, 1e9],
            "n_results": [8, 8, 8, 2],
        }
    )


def _same_revision_runs() -> pd.DataFrame:
    cfg = '{"dataset": {"n_pos": 400, "n_neg": 1000}}'
    return pd.DataFrame(
        {
            "run_id": ["a", "b", "c"],
            "model": ["m"] * 3,
            "revision": [None] * 3,
            "step": [None] * 3,
            "n_params": [1e6] * 3,
            "n_results": [40, 30, 600],
            "n_concepts": [40, 10, 600],
            "config": [cfg] * 3,
        }
    )


def test_several_runs_of_one_revision_are_told_apart_by_the_page_need():
    runs = _same_revision_runs()
    contents = {
        "a": browse.RunContents(frozenset({"cat", "dog", "red", "blue"}), 1),
        "b": browse.RunContents(frozenset({"cat", "red"}), 3),
        "c": browse.RunContents(frozenset({"cat", "dog", "sun", "moon"}), 1),
    }
    assert browse.choose_run(runs, None, None)[0]["run_id"] == "c"  # no need: most results
    assert browse.choose_run(runs, None, None, prefer=browse.fold_preference(contents))[0]["run_id"] == "b"
    listed = browse.concept_coverage(contents, ["cat", "dog", "red", "blue"])
    assert listed == {"a": 4.0, "b": 2.0, "c": 2.0}
    assert browse.choose_run(runs, "m", "final", prefer=listed)[0]["run_id"] == "a"
    pairs = pd.DataFrame({"word1": ["sun", "cat", "red"], "word2": ["moon", "dog", "cat"]})
    cover = browse.pair_coverage(contents, pairs)
    assert cover == {"a": 2.0, "b": 1.0, "c": 2.0}
    assert browse.choose_run(runs, None, None, prefer=cover)[0]["run_id"] == "c"  # a tie goes to more results
    run, notes = browse.choose_run(runs, "m", "final", run="b", prefer=cover)
    assert run["run_id"] == "b" and not notes  # a run named in the link wins over the page's need
    run, notes = browse.choose_run(runs, "m", "final", run="zzz", prefer=listed)
    assert run["run_id"] == "a" and "'zzz'" in notes[0]
    assert browse.alignment_runs(runs, prefer=listed) == ["a"]  # one run per (model, revision)
    assert browse.alignment_runs(runs) == ["c"]
    label = browse.run_label(runs.iloc[1], contents)
    assert label == "10 concepts · 400+1000 sentences · 3 folds · b"


def test_run_contents_from_a_store(tmp_path):
    from tests.synthetic import make_store

    store, _ = make_store(str(tmp_path / "s.duckdb"), folds=2)
    make_store(str(tmp_path / "s.duckdb"), domains={"d": ["cat", "dog"]}, folds=3, run_prefix="other", sentences=False)
    got = browse.run_contents(store)
    assert got["synthetic00"].folds == 2 and len(got["synthetic00"].concepts) == 8
    assert got["other00"] == browse.RunContents(frozenset({"cat", "dog"}), 3)


def test_run_table_with_nullable_steps():
    """DuckDB returns a BIGINT column with NULLs as pandas' nullable Int64 (a model's final weights have no step)."""
    runs = _runs().astype({"step": "Int64", "n_results": "Int64"})
    assert list(browse.run_table(runs)["rev"]) == ["final", "step0", "step1000", "final"]
    assert browse.choose_run(runs, None, None)[0]["run_id"] == "r2"
    frame = browse.curve_frame(_alignment_table().astype({"step": "Int64"}))
    assert frame["x"].dtype == "float64"


def test_run_choice_defaults_and_fallbacks():
    t = browse.run_table(_runs())
    assert list(t.loc[t["model"] == "m", "rev"]) == ["step0", "step1000", "final"]
    run, notes = browse.choose_run(_runs(), None, None)
    assert run["run_id"] == "r2" and not notes  # model with most results, latest revision
    run, notes = browse.choose_run(_runs(), "big", "final")
    assert run["run_id"] == "p1" and not notes
    run, notes = browse.choose_run(_runs(), "m", "step0")
    assert run["run_id"] == "r3"
    run, notes = browse.choose_run(_runs(), "ghost", "step0")
    assert run["model"] == "m" and "ghost" in notes[0]
    run, notes = browse.choose_run(_runs(), "m", "step5")
    assert run["run_id"] == "r2" and "step5" in notes[0]
    assert browse.choose_run(_runs().iloc[:0], "m", None) == (None, [])
    assert browse.latest_per_model(_runs()) == ["p1", "r2"]


# -- network page -------------------------------------------------------------------------------------------
def _graph(domain: str = XSS) -> nx.Graph:
    g = nx.Graph()
    for c, d, n in [("cat", domain, 30), ("dog", domain, 20), ("car", "vehicle", 10), ("bus", "vehicle", 12)]:
        g.add_node(c, domain=d, n_experts=n)
    g.add_edge("cat", "dog", weight=0.6, shared=14)
    g.add_edge("car", "bus", weight=0.4, shared=5)
    g.add_edge("cat", "car", weight=0.05, shared=1)
    return g


def test_network_html_is_offline_and_escaped():
    g = _graph()
    page = network_html(g, browse.domain_colours([XSS, "vehicle"]), browse.layout(g), caption="</script><b>x</b>")
    assert "vis-network" in page or "vis.Network" in page
    assert "bootstrap" not in page.lower()
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", page)
    assert XSS not in page and "<b>x</b>" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page  # legend: escaped markup
    assert "\\u003cimg src=x onerror=alert(1)\\u003e" in page  # data: JSON with < and > escaped
    data = page[page.index("nodes = new vis.DataSet(") :]
    assert data.index('"id": "bus"') < data.index('"id": "car"')  # sorted, so the same graph is the same page


def test_network_html_never_uses_pyvis_link_tooltips():
    """pyvis shows titles with innerHTML when one contains "href"; our pages never take that path."""
    g = _graph('<a href="javascript:alert(1)">x</a>')
    page = network_html(g, browse.domain_colours(['<a href="javascript:alert(1)">x</a>', "vehicle"]), browse.layout(g))
    assert "popup.innerHTML" not in page and 'href="javascript' not in page


def test_layout_is_seeded_and_spread():
    g = _graph("animal")
    a, b = browse.layout(g, seed=0), browse.layout(g, seed=0)
    assert a == b
    assert browse.layout(g, seed=1) != a
    xy = np.array(list(a.values()))
    d = np.sqrt(((xy[:, None] - xy[None]) ** 2).sum(-1)) + np.eye(len(xy)) * 1e9
    assert d.min() > 60  # no two nodes on top of each other
    assert browse.layout(nx.Graph()) == {}


def test_graph_edges_and_cut():
    g = _graph("animal")
    e = browse.graph_edges(g)
    assert list(e["weight"]) == sorted(e["weight"], reverse=True) and all(e["a"] < e["b"])
    cut = browse.cut_graph(g, 0.3, ["cat", "dog", "car"])
    assert sorted(cut.nodes) == ["car", "cat", "dog"] and list(cut.edges) == [("cat", "dog")]
    assert g.number_of_edges() == 3  # the original is untouched


def test_concept_helpers():
    units = pd.DataFrame({"unit": [1, 2, 3], "layer": [0, 1, 2], "kind": ["a", "b", "c"], "module": ["x"] * 3})
    top = browse.top_units(pd.DataFrame({"unit": [1, 2, 3], "ap": [0.6, 0.9, 0.7]}), units, n=2)
    assert list(top["unit"]) == [2, 3] and list(top["layer"]) == [1, 2]
    jac = pd.DataFrame([[1, 0.2, 0.5], [0.2, 1, 0.1], [0.5, 0.1, 1]], index=list("abc"), columns=list("abc"))
    assert list(browse.nearest(jac, "a")["concept"]) == ["c", "b"]
    assert browse.nearest(jac, "zz").empty
    assert browse.compare_sets(np.array([1, 2, 3]), np.array([3, 4])) == {
        "only_a": 2,
        "shared": 1,
        "only_b": 1,
        "jaccard": 0.25,
    }
    assert browse.size_label(70_000_000, "m") == "70M" and browse.size_label(1.4e9, "m") == "1.4B"
    assert browse.size_label(None, "m") == "m"
    assert browse.stability_taus(0.73)[:2] == (0.5, 0.55) and 0.73 in browse.stability_taus(0.73)


# -- figures -----------------------------------------------------------------------------------------------------
def _alignment_table(steps=(0, 1000, 143000)) -> pd.DataFrame:
    rows = []
    for size, n in (("m70", 7e7), ("m410", 4.1e8)):
        for s in steps:
            for k, method in enumerate(("experts", "word_embedding", "sentence_embedding")):
                rho = 0.3 + 0.1 * k + (s or 1) / 1e6
                rows.append(
                    {
                        "run_id": f"{size}-{s}",
                        "model": size,
                        "family": "toy",
                        "n_params": n,
                        "revision": None if s is None else f"step{s}",
                        "step": s,
                        "method": method,
                        "tau": 0.5,
                        "rho": rho,
                        "ci_low": rho - 0.05,
                        "ci_high": rho + 0.05,
                        "p_value": 0.01,
                        "p_vs_experts": 0.2,
                        "n_pairs": 100,
                        "n_missing": 3,
                    }
                )
    return pd.DataFrame(rows)


@pytest.mark.parametrize("steps", [(0, 1000, 143000), (None,)])
def test_alignment_figures(steps):
    frame = browse.curve_frame(_alignment_table(steps))
    assert figures.has_curves(frame) == (steps[0] is not None)
    fig = figures.alignment_figure(frame, 0.84)
    assert any(getattr(s, "name", None) for s in fig.data)
    svg = figures.alignment_svg(frame, 0.84, title=f"MEN {XSS}")
    root = ET.fromstring(svg)  # well-formed
    assert root.tag.endswith("svg") and "human ceiling 0.84" in svg and XSS not in svg
    assert len(browse.alignment_display(frame)) == len(frame)


def test_alignment_figure_empty_table():
    frame = browse.curve_frame(pd.DataFrame(columns=_alignment_table().columns))
    ET.fromstring(figures.alignment_svg(frame))
    figures.alignment_figure(frame)


# -- jobs ------------------------------------------------------------------------------------------------------------
def test_extract_command_is_a_safe_argument_list():
    cmd = jobs.extract_command("s.duckdb", "-rf /", ["Cat", "dog", "cat"], revision="step1000", folds=2, min_pos=50)
    assert cmd[:3] == [sys.executable, "-m", "core"]
    assert "--model=-rf /" in cmd and "--concepts=cat,dog" in cmd and "--revision=step1000" in cmd
    assert "--folds=2" in cmd and "--min-pos=50" in cmd and "--skip-short" in cmd
    with pytest.raises(ValueError):
        jobs.extract_command("s.duckdb", "m", ["<img src=x>"])
    with pytest.raises(ValueError):
        jobs.extract_command("s.duckdb", "m", [])
    with pytest.raises(ValueError):
        jobs.extract_command("s.duckdb", "a\nb", ["cat"])
    with pytest.raises(ValueError):
        jobs.extract_command("s.duckdb", "m", ["cat"], n_pos=0)


def test_job_progress_counts_results_of_its_run(tmp_path):
    import time

    from tests.synthetic import make_store

    started = time.time()
    store, _ = make_store(str(tmp_path / "s.duckdb"), folds=2)
    job = jobs.Job("j", 0, [], "", store.path, "synthetic/toy-10m", None, ["cat", "dog", "zebra"], 2, started)
    assert jobs.progress(store, job) == (4, 6)  # cat and dog done in both folds; zebra not
    later = jobs.Job("k", 0, [], "", store.path, "synthetic/toy-10m", None, ["cat"], 2, time.time() + 60)
    assert jobs.progress(store, later) == (0, 2)  # runs not touched since the job started do not count
    other = jobs.Job("m", 0, [], "", store.path, "synthetic/toy-10m", "step1", ["cat"], 2, started)
    assert jobs.progress(store, other) == (0, 2)


def test_job_lifecycle(tmp_path):
    store = str(tmp_path / "s.duckdb")
    job = jobs.start(
        [sys.executable, "-c", "import time; print('working', flush=True); time.sleep(30)"], store, "m", ["cat"]
    )
    assert jobs.status(job) == "running" and os.path.exists(job.log)
    assert [j.id for j in jobs.load_all(store)] == [job.id]
    assert jobs.progress(None, job) == (0, 1)
    jobs.stop(job)
    jobs._PROCS[job.id].wait(10)
    assert jobs.status(jobs.refresh(job)) == "stopped"
    done = jobs.start([sys.executable, "-c", "print('ok')"], store, "m", ["cat"])
    jobs._PROCS[done.id].wait(10)
    assert jobs.status(jobs.refresh(done)) == "done" and "ok" in jobs.log_tail(done)
    with pytest.raises(TypeError):
        jobs.start("echo hi", store, "m", ["cat"])  # never a shell string


def test_link_values_echoed_in_notices_stay_plain_text():
    raw = "![x](https://elsewhere.example/p.png) <img src=x> [a](javascript:alert(1)) www.x.org"
    out = browse.md_escape(f"Model {raw!r} from the link is not in this store.")
    assert re.search(r"(?<!\\)[!\[\]()<>]", out) is None  # every Markdown/HTML character is escaped
    assert "https://" not in out and "www." not in out  # no bare-URL autolinks either
    assert out.replace("\\", "").replace("\u2060", "") == f"Model {raw!r} from the link is not in this store."
