"""What the dashboard needs that is not drawing: settings, link state, run choice and small views.

The Streamlit pages stay thin (read state, call a cached function, draw); the
decisions behind them live here so they can be tested without a browser and
reused by scripts. Nothing here imports Streamlit, torch or transformers: a
hosted demo only browses stored APs, and moving τ never runs a model.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .benchmarks import MEN_FILES, MEN_HUMAN_CEILING
from .concepts import DEFAULT_DOMAINS

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_STORE = os.path.join("cache", "experts.duckdb")
DEMO_STORE = os.path.join("cache", "demo.duckdb")
TAU_MIN, TAU_MAX, TAU_STEP, TAU_DEFAULT = 0.5, 1.0, 0.01, 0.5
FINAL = "final"  # how a run without a revision (the model's default weights) is named in links
HUMAN_CEILING = MEN_HUMAN_CEILING
METHOD_LABELS = {
    "experts": "Expert neurons (Jaccard)",
    "word_embedding": "Word embedding (cosine)",
    "sentence_embedding": "Sentence embedding (cosine)",
}
# Ten colours that stay distinct for colour-blind readers (Okabe-Ito + Tol), then repeats with a dash.
PALETTE = [
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#F0E442",
    "#332288",
    "#882255",
    "#44AA99",
    "#999933",
    "#AA4499",
]


# -- settings -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Settings:
    """Where the dashboard reads from and what it may do.

    ``store`` is the file to browse; ``write_store`` is where an extraction
    started from the dashboard writes (differs from ``store`` while the demo
    store is shown because the configured one does not exist yet).
    """

    store: str
    source: str
    hosted: bool
    write_store: str
    domains: str
    benchmarks: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    notices: tuple[str, ...] = field(default_factory=tuple)

    @property
    def is_demo(self) -> bool:
        return self.source == "demo"

    @property
    def can_extract(self) -> bool:
        return not self.hosted


def _truthy(value) -> bool:
    return str(value).strip().lower() in {"1", "true", "yes", "on"}


def _abs(path: str, root: str) -> str:
    return path if os.path.isabs(path) else os.path.join(root, path)


def resolve_settings(env: Mapping[str, str], secrets: Mapping | None = None, root: str = ROOT) -> Settings:
    """Settings from the environment, then ``.streamlit/secrets.toml``, then defaults.

    Store: ``EXPERTS_STORE`` or secret ``store`` (relative paths are relative
    to the project root), default ``cache/experts.duckdb``; when that file does
    not exist, the shipped demo store ``cache/demo.duckdb`` is browsed instead
    (read-only) if present; a store named explicitly is never replaced. Hosted mode (``EXPERTS_HOSTED=1`` or secret
    ``hosted = true``) hides extraction. ``EXPERTS_DOMAINS`` / ``domains`` names
    the domain list, ``EXPERTS_BENCHMARK`` / ``benchmark`` extra benchmark files
    (comma-separated); MEN splits already in ``cache/MEN`` (or ``men_dir``) are
    found without downloading anything.
    """
    secrets = secrets or {}

    def get(env_key: str, secret_key: str) -> tuple[str | None, str]:
        if env.get(env_key):
            return env[env_key], env_key
        value = secrets.get(secret_key)
        if value not in (None, ""):
            return str(value), f"secrets:{secret_key}"
        return None, "default"

    notices: list[str] = []
    configured, source = get("EXPERTS_STORE", "store")
    path = _abs(configured or DEFAULT_STORE, root)
    write_store = path
    demo = _abs(DEMO_STORE, root)
    if configured is None and not os.path.exists(path) and os.path.exists(demo):
        notices.append(f"No store at {os.path.relpath(path, root)}: showing the shipped demo store (read-only).")
        path, source = demo, "demo"
    hosted_raw, _ = get("EXPERTS_HOSTED", "hosted")
    hosted = _truthy(hosted_raw) if hosted_raw is not None else False
    domains_raw, _ = get("EXPERTS_DOMAINS", "domains")
    domains = _abs(domains_raw, root) if domains_raw else DEFAULT_DOMAINS
    bench_raw, _ = get("EXPERTS_BENCHMARK", "benchmark")
    men_raw, _ = get("EXPERTS_MEN_DIR", "men_dir")
    men_dir = _abs(men_raw, root) if men_raw else os.path.join(root, "cache", "MEN")
    benchmarks = find_benchmarks(men_dir, [_abs(p.strip(), root) for p in (bench_raw or "").split(",") if p.strip()])
    return Settings(path, source, hosted, write_store, domains, tuple(benchmarks), tuple(notices))


def find_benchmarks(men_dir: str, extra: Iterable[str] = ()) -> list[tuple[str, str]]:
    """(name, path) of the benchmark files present: MEN splits in ``men_dir``, then ``extra`` files.

    Only files already on disk count: the dashboard never downloads.
    """
    out = []
    for split in ("test", "dev", "full"):
        path = os.path.join(men_dir, MEN_FILES[split])
        if os.path.isfile(path):
            out.append((f"MEN {split}", path))
    for path in extra:
        if os.path.isfile(path):
            out.append((os.path.splitext(os.path.basename(path))[0], path))
    return out


def fingerprint(path: str) -> tuple:
    """What changes when the store changes: size and mtime of the file and its write-ahead log.

    Used as part of every cache key, so a page shows new results as soon as an
    extraction has written them, and never re-reads an unchanged store.
    """
    out: list = [os.path.abspath(path)]
    for p in (path, path + ".wal"):
        try:
            st = os.stat(p)
            out += [st.st_mtime_ns, st.st_size]
        except OSError:
            out += [None, None]
    return tuple(out)


# -- link (query-string) values -------------------------------------------------------------
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&=])")
_AUTOLINK = re.compile(r"(?i)(https?|ftp|www|mailto)")


def md_escape(text: str) -> str:
    """``text`` as literal Markdown: a link value echoed in a notice must not become an image, link or HTML.

    Streamlit renders notices as Markdown, so ``?model=![x](https://elsewhere/pixel.png)`` would otherwise
    make every visitor's browser fetch from another server.
    """
    escaped = _MARKDOWN.sub(r"\\\1", str(text))
    return _AUTOLINK.sub(lambda m: m.group(0)[0] + "\u2060" + m.group(0)[1:], escaped)  # no bare-URL links


def parse_tau(raw: str | None, default: float = TAU_DEFAULT) -> tuple[float, str | None]:
    """τ from a link: a number in [0.5, 1] on the slider's 0.01 grid, else ``default`` and a notice."""
    if raw is None or raw == "":
        return default, None
    value = _link_float(raw, TAU_MIN, TAU_MAX)
    if value is None:
        return default, f"τ = {str(raw)[:20]!r} in the link is not a number in [0.5, 1]; showing τ = {default:.2f}."
    return round(round(value / TAU_STEP) * TAU_STEP, 2), None


def parse_number(raw: str | None, lo: float, hi: float, default: float, name: str) -> tuple[float, str | None]:
    """A float link value clipped to nothing: out of [lo, hi] or not a number gives ``default`` and a notice."""
    if raw is None or raw == "":
        return default, None
    value = _link_float(raw, lo, hi)
    if value is None:
        return default, f"{name} = {str(raw)[:20]!r} in the link is not in [{lo:g}, {hi:g}]; showing {default:g}."
    return value, None


def _link_float(raw: str, lo: float, hi: float) -> float | None:
    """``raw`` as a finite float in [lo, hi], else None."""
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) and lo <= value <= hi else None


def parse_choice(
    raw: str | None, options: Iterable[str], default: str | None, name: str
) -> tuple[str | None, str | None]:
    """One of ``options`` from a link, else ``default`` and a notice."""
    options = list(options)
    if raw is None or raw == "":
        return default, None
    if raw in options:
        return raw, None
    shown = default if default is not None else "nothing"
    return default, f"{name} {str(raw)[:40]!r} from the link is not in this store; showing {shown}."


def parse_multi(raw: str | None, options: Iterable[str], name: str) -> tuple[list[str] | None, str | None]:
    """A comma-separated subset of ``options`` from a link (unknown items dropped with a notice)."""
    if raw is None or raw == "":
        return None, None
    options = list(options)
    items = [x for x in (s.strip() for s in raw.split(",")) if x]
    kept = [x for x in items if x in options]
    dropped = [x for x in items if x not in options]
    notice = None
    if dropped:
        notice = f"{name}: {', '.join(repr(x[:30]) for x in dropped[:5])} from the link not found; left out."
    return kept or None, notice


# -- runs -----------------------------------------------------------------------------------
def revision_label(revision) -> str:
    """How a revision is named in pickers and links (``final`` for the model's default weights)."""
    return (
        FINAL
        if revision is None or (isinstance(revision, float) and math.isnan(revision)) or revision == ""
        else str(revision)
    )


def run_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Runs in picker order (model, step, revision) with a ``rev`` label column."""
    if runs.empty:
        return runs.assign(rev=pd.Series(dtype=str))
    t = runs.copy()
    t["rev"] = [revision_label(r) for r in t["revision"]]
    t["_step"] = pd.to_numeric(t["step"], errors="coerce").astype("float64").fillna(np.inf)  # step may be Int64
    return t.sort_values(["model", "_step", "rev"], ignore_index=True).drop(columns="_step")


@dataclass(frozen=True)
class RunContents:
    """What a run holds: the concepts with results and how many folds the most complete concept has."""

    concepts: frozenset[str]
    folds: int


def run_contents(store) -> dict[str, RunContents]:
    """``{run_id: RunContents}`` for every run with results (one small query)."""
    rows = store.query("SELECT run_id, concept, count(*) AS n_folds FROM results GROUP BY ALL")
    out: dict[str, RunContents] = {}
    for rid, g in rows.groupby("run_id", sort=False):
        out[str(rid)] = RunContents(frozenset(g["concept"]), int(g["n_folds"].max()))
    return out


def pair_coverage(contents: Mapping[str, RunContents], pairs: pd.DataFrame) -> dict[str, float]:
    """Benchmark pairs whose two words both have results, per run: the run to show alignment with."""
    words = list(zip(pairs["word1"], pairs["word2"]))
    return {rid: float(sum(a in c.concepts and b in c.concepts for a, b in words)) for rid, c in contents.items()}


def concept_coverage(contents: Mapping[str, RunContents], concepts: Iterable[str]) -> dict[str, float]:
    """Listed concepts with results, per run: the run to draw a domain list with."""
    wanted = set(concepts)
    return {rid: float(len(wanted & c.concepts)) for rid, c in contents.items()}


def fold_preference(contents: Mapping[str, RunContents]) -> dict[str, float]:
    """Runs with more folds first (then more concepts): the run to measure stability across folds with."""
    return {rid: c.folds + len(c.concepts) / 1e6 for rid, c in contents.items()}


def _best(candidates: pd.DataFrame, prefer: Mapping[str, float] | None) -> pd.Series:
    """The candidate run with the highest preference score, then the most results, then the first listed."""
    score = candidates["run_id"].map(lambda r: (prefer or {}).get(r, 0.0)).astype(float)
    results = pd.to_numeric(candidates["n_results"], errors="coerce").fillna(0).astype(float)
    order = np.lexsort((np.arange(len(candidates)), -results.to_numpy(), -score.to_numpy()))
    return candidates.iloc[int(order[0])]


def default_run(runs: pd.DataFrame, prefer: Mapping[str, float] | None = None) -> pd.Series | None:
    """The run shown when a link names none: the latest revision of the model with the most results.

    Several runs of one model and revision (different concept sets or set sizes) are told apart by
    ``prefer`` (``{run_id: score}``, higher first; a page's need, e.g. benchmark coverage), then by results.
    """
    t = run_table(runs)
    if t.empty:
        return None
    per_model = t.groupby("model")["n_results"].sum().sort_values(ascending=False, kind="stable")
    mine = t[t["model"] == per_model.index[0]]
    return _best(mine[mine["rev"] == mine.iloc[-1]["rev"]], prefer)


def choose_run(
    runs: pd.DataFrame,
    model: str | None,
    rev: str | None,
    run: str | None = None,
    prefer: Mapping[str, float] | None = None,
) -> tuple[pd.Series | None, list[str]]:
    """The run a link asks for (model, revision and, when they have several runs, run id), or a default.

    Returns the run and notices saying what from the link was replaced.
    """
    t = run_table(runs)
    notices: list[str] = []
    if t.empty:
        return None, notices
    fallback = default_run(t, prefer)
    if model in (None, ""):
        model = fallback["model"]
    elif model not in set(t["model"]):
        notices.append(f"Model {str(model)[:60]!r} from the link is not in this store; showing {fallback['model']}.")
        model = fallback["model"]
    mine = t[t["model"] == model]
    if rev not in (None, "") and not (mine["rev"] == rev).any():
        notices.append(f"Revision {str(rev)[:40]!r} of {model} is not in this store; showing {mine.iloc[-1]['rev']}.")
        rev = None
    if rev in (None, ""):
        rev = mine.iloc[-1]["rev"]
    same = mine[mine["rev"] == rev]
    if run not in (None, ""):
        hit = same[same["run_id"] == run]
        if not hit.empty:
            return hit.iloc[0], notices
        notices.append(f"Run {str(run)[:20]!r} of {model} @ {rev} is not in this store; showing another run.")
    return _best(same, prefer), notices


def runs_of(runs: pd.DataFrame, model: str, rev: str) -> pd.DataFrame:
    """The runs of one model and revision, in picker order."""
    t = run_table(runs)
    return t[(t["model"] == model) & (t["rev"] == rev)]


def size_runs(runs: pd.DataFrame, contents: Mapping[str, RunContents], run: Mapping) -> list[str]:
    """Runs that differ from ``run`` only in set sizes: same model, revision and concepts, several folds.

    Their fold overlap against positive and negative set size is the rest of the paper's Fig. 1.
    """
    mine = contents.get(str(run["run_id"]))
    if mine is None or mine.folds < 2:
        return []
    same = runs_of(runs, run["model"], revision_label(run.get("revision")))
    return [
        rid
        for rid in same["run_id"]
        if (c := contents.get(rid)) is not None and c.folds >= 2 and c.concepts == mine.concepts
    ]


def run_label(run: Mapping, contents: Mapping[str, RunContents] | None = None) -> str:
    """How a run is named in the run picker: its concepts, set sizes, folds and id."""
    n_pos = n_neg = None
    try:
        dataset = json.loads(run.get("config") or "{}").get("dataset", {})
        n_pos, n_neg = dataset.get("n_pos"), dataset.get("n_neg")
    except (TypeError, ValueError, AttributeError):
        pass
    c = (contents or {}).get(str(run["run_id"]))
    folds = c.folds if c else None
    parts = [f"{as_int(run.get('n_concepts'))} concepts"]
    if n_pos and n_neg:
        parts.append(f"{n_pos}+{n_neg} sentences")
    if folds:
        parts.append(f"{folds} fold{'s' if folds > 1 else ''}")
    parts.append(str(run["run_id"])[:8])
    return " · ".join(parts)


def as_int(value, default: int = 0) -> int:
    """An integer from a store value that may be None, NaN or pandas' NA."""
    try:
        return default if value is None or pd.isna(value) else int(value)
    except (TypeError, ValueError):
        return default


def run_title(run: Mapping) -> str:
    return f"{run['model']} @ {revision_label(run.get('revision'))}"


# -- overview -------------------------------------------------------------------------------
def store_overview(store) -> dict:
    """Counts for the home page: runs, models, revisions, concepts, sentences, results."""
    counts = store.query(
        "SELECT (SELECT count(*) FROM concepts) AS concepts, (SELECT count(*) FROM sentences) AS sentences, "
        "(SELECT count(*) FROM results) AS results, (SELECT count(DISTINCT concept) FROM results) AS concepts_done"
    ).iloc[0]
    runs = run_table(store.runs())
    return {
        "runs": runs,
        "n_runs": len(runs),
        "n_models": runs["model"].nunique() if len(runs) else 0,
        "n_revisions": len(runs),
        "n_concepts": int(counts["concepts"]),
        "n_concepts_done": int(counts["concepts_done"]),
        "n_sentences": int(counts["sentences"]),
        "n_results": int(counts["results"]),
    }


def headline(table: pd.DataFrame) -> dict[str, dict]:
    """``{method: row}`` of an alignment table for one run, for the home page's numbers."""
    return {str(r["method"]): r.to_dict() for _, r in table.iterrows()}


# -- domains --------------------------------------------------------------------------------
def domain_colours(domains: Iterable[str]) -> dict[str, str]:
    """A stable colour per domain, in order of first appearance."""
    names = list(dict.fromkeys(domains))
    return {d: PALETTE[i % len(PALETTE)] for i, d in enumerate(names)}


def domain_concepts(
    domains: Mapping[str, str], available: Iterable[str], chosen: Iterable[str] | None = None
) -> dict[str, str]:
    """``{concept: domain}`` of the listed concepts the run has, limited to ``chosen`` domains if given."""
    have = set(available)
    keep = set(chosen) if chosen else None
    return {c: d for c, d in domains.items() if c in have and (keep is None or d in keep)}


def graph_edges(graph) -> pd.DataFrame:
    """Edges of a domain graph as a table (a, b, weight, shared, same_domain), strongest first."""
    rows = []
    for a, b, data in graph.edges(data=True):
        a, b = sorted((a, b))
        da, db = graph.nodes[a].get("domain"), graph.nodes[b].get("domain")
        rows.append((a, b, float(data.get("weight", 0.0)), int(data.get("shared", 0)), da == db))
    t = pd.DataFrame(rows, columns=["a", "b", "weight", "shared", "same_domain"])
    return t.sort_values(["weight", "a", "b"], ascending=[False, True, True], ignore_index=True)


def cut_graph(graph, min_weight: float, keep_nodes: Iterable[str] | None = None):
    """A copy of ``graph`` with edges below ``min_weight`` dropped and only ``keep_nodes`` (if given)."""
    g = graph.copy() if keep_nodes is None else graph.subgraph(list(keep_nodes)).copy()
    g.remove_edges_from([(a, b) for a, b, w in g.edges(data="weight") if (w or 0.0) < min_weight])
    return g


def layout(
    graph, seed: int = 0, width: float = 640.0, height: float = 480.0, min_dist: float = 70.0
) -> dict[str, tuple[float, float]]:
    """Seeded spring layout in pixels: the same graph and seed always give the same picture.

    Strong links pull concepts together, but every pair also gets a faint link
    so that separate components stay in view, and nodes closer than
    ``min_dist`` are pushed apart afterwards so that labels stay readable.
    """
    import networkx as nx

    nodes = sorted(graph.nodes)
    if not nodes:
        return {}
    g = nx.Graph()
    g.add_nodes_from(nodes)
    for i, a in enumerate(nodes):
        for b in nodes[i + 1 :]:
            w = graph[a][b].get("weight", 0.0) if graph.has_edge(a, b) else 0.0
            g.add_edge(a, b, w=0.02 + float(w or 0.0))
    pos = nx.spring_layout(g, weight="w", seed=seed, k=1.0 / math.sqrt(len(nodes)), iterations=200)
    xy = np.array([pos[n] for n in nodes], dtype=np.float64)
    xy -= xy.mean(axis=0)
    span = np.abs(xy).max(axis=0)
    span[span == 0] = 1.0
    xy = xy / span * np.array([width / 2, height / 2])
    xy = _spread(xy, min_dist)
    return {n: (round(float(x), 1), round(float(y), 1)) for n, (x, y) in zip(nodes, xy)}


def _spread(xy: np.ndarray, min_dist: float, rounds: int = 60) -> np.ndarray:
    """Push apart points closer than ``min_dist`` (deterministic: ties are broken by index)."""
    xy = xy.copy()
    n = len(xy)
    if n < 2:
        return xy
    jitter = np.stack([np.cos(np.arange(n)), np.sin(np.arange(n))], axis=1) * 1e-3
    for _ in range(rounds):
        d = xy[:, None, :] - xy[None, :, :]
        dist = np.sqrt((d**2).sum(-1))
        np.fill_diagonal(dist, 2 * min_dist)  # a point never pushes itself
        close = dist < min_dist
        if not close.any():
            break
        d = np.where((dist == 0)[..., None], jitter[:, None, :] - jitter[None, :, :], d)
        dist = np.where(dist == 0, 1e-3, dist)
        push = np.where(close, (min_dist - dist) / 2 / dist, 0.0)[..., None] * d
        xy += push.sum(axis=1)
    return xy


def domain_view(
    index, listed_all: Mapping[str, str], tau: float, chosen: Iterable[str] = (), min_weight: float = 0.0, seed: int = 0
) -> dict:
    """Everything the concept-domain page draws at one τ (the paper's Fig. 3).

    Scores (ARI/NMI of Louvain communities vs domains) and the layout come from
    the full graph of the listed concepts the run has, so filtering domains or
    raising the edge cut-off changes the picture, not the numbers or positions.
    Returns html (self-contained network page), scores, edges, nodes, n_nodes,
    n_edges and domains.
    """
    from .domains import domain_graph, domain_scores, find_communities
    from .netview import network_html

    sets = index.sets(tau)
    listed = domain_concepts(listed_all, sets)
    full = domain_graph(sets, listed, 0.0)
    scores = domain_scores(full, listed, seed=seed)
    communities = find_communities(full, seed=seed)
    positions = layout(full, seed=seed)
    chosen = set(chosen)
    keep = [c for c, d in listed.items() if not chosen or d in chosen]
    shown = cut_graph(full, min_weight, keep)
    colours = domain_colours(listed_all.values())
    caption = (
        f"{shown.number_of_nodes()} concepts · {shown.number_of_edges()} links with reciprocal overlap ≥ "
        f"{min_weight:.2f} · τ = {tau:.2f}. Click a link for its shared experts."
    )
    nodes = pd.DataFrame(
        [(c, listed[c], communities.get(c), full.nodes[c]["n_experts"]) for c in listed],
        columns=["concept", "domain", "community", "n_experts"],
    )
    return {
        "html": network_html(shown, colours, positions, caption=caption),
        "scores": scores,
        "edges": graph_edges(shown),
        "nodes": nodes,
        "n_nodes": shown.number_of_nodes(),
        "n_edges": shown.number_of_edges(),
        "domains": list(dict.fromkeys(listed.values())),
    }


# -- concepts -------------------------------------------------------------------------------
def top_units(ap_rows: pd.DataFrame, units: pd.DataFrame, n: int = 25) -> pd.DataFrame:
    """A concept's best units (highest AP first) with their layer, module and kind."""
    t = ap_rows.sort_values(["ap", "unit"], ascending=[False, True]).head(n)
    cols = [c for c in ("unit", "layer", "kind", "module", "index", "head") if c in units]
    if not units.empty:
        t = t.merge(units[cols], on="unit", how="left")
    return t[[c for c in ("unit", "ap", "layer", "kind", "module", "index", "head") if c in t]].reset_index(drop=True)


def nearest(jaccard: pd.DataFrame, concept: str, n: int = 10) -> pd.DataFrame:
    """The ``n`` concepts whose expert sets overlap most with ``concept``'s (Jaccard), itself excluded."""
    if concept not in jaccard.index:
        return pd.DataFrame(columns=["concept", "jaccard"])
    s = jaccard.loc[concept].drop(index=concept, errors="ignore")
    s = s.sort_values(ascending=False, kind="stable").head(n)
    return pd.DataFrame({"concept": s.index, "jaccard": s.to_numpy()})


def compare_sets(a: np.ndarray, b: np.ndarray) -> dict[str, int | float]:
    """Sizes of two expert sets, their intersection and Jaccard."""
    a, b = np.unique(a), np.unique(b)
    inter = int(np.intersect1d(a, b, assume_unique=True).size)
    union = int(a.size + b.size - inter)
    return {
        "only_a": int(a.size - inter),
        "shared": inter,
        "only_b": int(b.size - inter),
        "jaccard": inter / union if union else 0.0,
    }


# -- alignment figure -----------------------------------------------------------------------
def curve_frame(table: pd.DataFrame) -> pd.DataFrame:
    """Alignment rows ready to plot: a ``size`` label per model and a log-safe x (step 0 drawn at 1)."""
    t = table.copy()
    if t.empty:
        return t.assign(size=pd.Series(dtype=str), x=pd.Series(dtype=float), rev=pd.Series(dtype=str))
    t["size"] = [size_label(n, m) for n, m in zip(t["n_params"], t["model"])]
    step = pd.to_numeric(t["step"], errors="coerce").astype("float64")
    t["x"] = step.clip(lower=1)
    t["method_label"] = t["method"].map(METHOD_LABELS).fillna(t["method"])
    t["rev"] = [revision_label(r) for r in t["revision"]]
    return t


def size_label(n_params, model: str) -> str:
    """``70M`` / ``1.4B`` from a parameter count, else the model name."""
    try:
        n = float(n_params)
    except (TypeError, ValueError):
        return str(model)
    if not math.isfinite(n) or n <= 0:
        return str(model)
    for unit, div in (("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if n >= div:
            return f"{n / div:.3g}{unit}"
    return f"{int(n)}"


def alignment_runs(
    runs: pd.DataFrame, model: str | None = None, prefer: Mapping[str, float] | None = None
) -> list[str]:
    """Run ids with results, of one model or of all, in picker order: one per (model, revision).

    Where a model and revision have several runs, the one ``prefer`` scores highest (e.g. most benchmark
    pairs covered) stands for it, so each checkpoint is one point of the training curve.
    """
    t = run_table(runs)
    t = t[pd.to_numeric(t["n_results"], errors="coerce").fillna(0) > 0]
    if model is not None:
        t = t[t["model"] == model]
    return [_best(g, prefer)["run_id"] for _, g in t.groupby(["model", "rev"], sort=False)]


def n_boot_for(n_runs: int) -> int:
    """Bootstrap resamples per run: 1000 (the paper's) for a few runs, fewer for long checkpoint series."""
    return 1000 if n_runs <= 8 else 300 if n_runs <= 40 else 100


def alignment_display(frame: pd.DataFrame) -> pd.DataFrame:
    """The alignment table as shown under the figure."""
    cols = [
        "model",
        "rev",
        "step",
        "size",
        "method_label",
        "rho",
        "ci_low",
        "ci_high",
        "p_value",
        "p_vs_experts",
        "n_pairs",
        "n_missing",
    ]
    if frame.empty:
        return pd.DataFrame(columns=cols)
    return frame[cols].rename(columns={"rev": "revision", "method_label": "method"})


# -- stability ------------------------------------------------------------------------------
def stability_taus(tau: float, step: float = 0.05) -> tuple[float, ...]:
    """The τ grid of the stability curves (0.50, 0.55, … 0.95, 1.00) plus the chosen τ."""
    grid = {round(TAU_MIN + step * i, 2) for i in range(int(round((TAU_MAX - TAU_MIN) / step)) + 1)}
    return tuple(sorted(grid | {round(float(tau), 2)}))


def set_sizes(index, taus: Iterable[float], fold: int = 0) -> pd.DataFrame:
    """Distribution of expert-set sizes per τ: median, quartiles, mean, and concepts with no expert."""
    rows = []
    for tau in taus:
        c = index.counts(tau, fold)
        if c.empty:
            continue
        rows.append(
            {
                "tau": float(tau),
                "median": float(c.median()),
                "q25": float(c.quantile(0.25)),
                "q75": float(c.quantile(0.75)),
                "mean": float(c.mean()),
                "max": int(c.max()),
                "no_experts": int((c == 0).sum()),
                "n_concepts": int(c.size),
            }
        )
    return pd.DataFrame(rows, columns=["tau", "median", "q25", "q75", "mean", "max", "no_experts", "n_concepts"])


def latest_per_model(runs: pd.DataFrame) -> list[str]:
    """One run per model (its last revision with results), for comparisons across model sizes."""
    t = run_table(runs)
    t = t[pd.to_numeric(t["n_results"], errors="coerce").fillna(0) > 0]
    return [g.iloc[-1]["run_id"] for _, g in t.groupby("model", sort=False)]
