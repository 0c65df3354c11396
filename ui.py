"""The Streamlit layer shared by ``app.py`` and ``pages/``: sidebar, link state and cached reads.

Navigation uses Streamlit's classic ``pages/`` discovery on every run (no
``st.navigation``), so a cold deep link such as ``/concept_domains?tau=0.7``
opens the same page, drawn by the same code, as a click does. The built-in
page list is hidden (``client.showSidebarNavigation = false``) and replaced by
labelled links, which lets hosted mode leave the Extract page out.

Link state: every value a view depends on (τ, model, revision and the page's
own choices) lives in ``st.session_state`` and is written back to the query
string on every run. A value in the link is read when it differs from what
this session last wrote there (a shared link, or the first visit), validated,
and replaced by a default with a visible notice when it is not usable.
Streamlit clears the query string on a page switch; the session copy restores it.

Caching: nothing here keeps a DuckDB connection. Cached results are keyed by
the store path and its fingerprint (mtime/size of the file and its WAL), so an
extraction writing to the store is picked up on the next rerun and the file is
never held open between reruns.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import streamlit as st

from core import browse
from core.store import Store, StoreError

APP_TITLE = "Expert neurons"
PAGES: list[tuple[str, str, str]] = [  # (script, label, icon)
    ("app.py", "Home", ":material/home:"),
    ("pages/1_concept_domains.py", "Concept domains", ":material/hub:"),
    ("pages/2_alignment.py", "Alignment", ":material/show_chart:"),
    ("pages/3_stability.py", "Stability", ":material/balance:"),
    ("pages/4_concept_explorer.py", "Concept explorer", ":material/search:"),
    ("pages/5_extract.py", "Extract", ":material/play_circle:"),
]
EXTRACT_PAGE = "pages/5_extract.py"
GLOBAL_PARAMS = ("tau", "model", "rev", "run")
_INDEX_LOCK = threading.Lock()  # ExpertIndex keeps a small LRU of matrices; sessions share cached indexes


# -- settings and store ------------------------------------------------------------------------
def _secrets() -> dict:
    """``.streamlit/secrets.toml`` as a dict; empty when there is none (never an error)."""
    try:
        return {k: st.secrets[k] for k in st.secrets}
    except Exception:  # no secrets file, or an unreadable one: settings fall back to env and defaults
        return {}


def settings() -> browse.Settings:
    return browse.resolve_settings(os.environ, _secrets())


@st.cache_resource(show_spinner=False, max_entries=16)
def _open(path: str, fp: tuple) -> Store:
    """A read-only Store handle (holds a path, not a connection); the schema check runs once per version."""
    return Store(path, read_only=True)  # waits out a writer's brief lock (EXPERTS_LOCK_TIMEOUT, default 60 s)


@st.cache_data(show_spinner=False, max_entries=32)
def runs(path: str, fp: tuple) -> pd.DataFrame:
    return browse.run_table(_open(path, fp).runs())


@st.cache_data(show_spinner=False, max_entries=32)
def overview(path: str, fp: tuple) -> dict:
    return browse.store_overview(_open(path, fp))


@st.cache_data(show_spinner=False, max_entries=32)
def contents(path: str, fp: tuple) -> dict[str, browse.RunContents]:
    return browse.run_contents(_open(path, fp))


@st.cache_data(show_spinner=False, max_entries=64)
def units(path: str, fp: tuple, run_id: str) -> pd.DataFrame:
    return _open(path, fp).units(run_id)


@st.cache_resource(show_spinner="Reading the run's stored APs…", max_entries=48)
def expert_index(path: str, fp: tuple, run_id: str):
    """The run's ``ExpertIndex``: every stored AP read once; each τ is then answered from memory."""
    from core.similarity import ExpertIndex

    return ExpertIndex.from_store(_open(path, fp), run_id)


@st.cache_data(show_spinner=False, max_entries=64)
def concept_ap(path: str, fp: tuple, run_id: str, concept: str, tau: float) -> pd.DataFrame:
    return _open(path, fp).ap(run_id, [concept], fold=0, min_ap=tau)


@st.cache_data(show_spinner=False, max_entries=64)
def sentences(path: str, fp: tuple, concept: str) -> pd.DataFrame:
    return _open(path, fp).sentences([concept])


@st.cache_data(show_spinner=False, max_entries=16)
def domain_list(path: str, mtime: float) -> dict[str, str]:
    from core.concepts import read_domains

    return read_domains(path)


@st.cache_data(show_spinner=False, max_entries=16)
def benchmark_pairs(path: str, mtime: float) -> pd.DataFrame:
    from core.benchmarks import read_pairs

    return read_pairs(path)


def preference(need: str | None, cfg: browse.Settings, path: str, fp: tuple) -> dict[str, float] | None:
    """``{run_id: score}`` for the run a page needs when a model and revision have several runs.

    ``need``: "benchmark" (most pairs of the first benchmark covered), "domains" (most concepts of the domain
    list), "folds" (most folds), or None (most results).
    """
    if need is None:
        return None
    c = contents(path, fp)
    if need == "folds":
        return browse.fold_preference(c)
    try:
        if need == "domains":
            return browse.concept_coverage(c, domain_list(cfg.domains, os.path.getmtime(cfg.domains)))
        if need == "benchmark" and cfg.benchmarks:
            bench = cfg.benchmarks[0][1]
            return browse.pair_coverage(c, benchmark_pairs(bench, os.path.getmtime(bench)))
    except (ValueError, OSError):  # an unreadable list or benchmark: the page itself says so
        return None
    if need == "benchmark":  # no file: the pairs each run covered when its snapshot was taken
        return snapshot_coverage(path, fp, None)
    return None


def snapshot_coverage(path: str, fp: tuple, name: str | None) -> dict[str, float]:
    """``{run_id: pairs scored by experts}`` from the store's alignment snapshot (first benchmark if no name)."""
    t = _snapshot(path, fp, name, 0.5)
    if t.empty:
        return {}
    t = t[(t["benchmark"] == (name or t["benchmark"].iloc[0])) & (t["method"] == "experts")]
    return {str(r): float(n) for r, n in zip(t["run_id"], t["n_pairs"])}


def coverage(p: Page, bench_path: str | None, name: str | None = None) -> dict[str, float]:
    """Pairs of a benchmark each run covers, with the run picked by hand (if any) put first.

    ``bench_path`` None: the coverage recorded in the store's snapshot of benchmark ``name``.
    """
    try:
        score = (
            snapshot_coverage(p.path, p.fp, name)
            if bench_path is None
            else browse.pair_coverage(contents(p.path, p.fp), benchmark_pairs(bench_path, os.path.getmtime(bench_path)))
        )
    except (ValueError, OSError):  # an unreadable benchmark: the alignment call reports it
        score = {}
    picked = _state().get(":run")
    if picked:
        score[picked] = float("inf")
    return score


def locked(fn: Callable, *args, **kwargs):
    """Call ``fn`` while no other session uses a shared ExpertIndex."""
    with _INDEX_LOCK:
        return fn(*args, **kwargs)


# -- link state --------------------------------------------------------------------------------
def _state() -> dict:
    return st.session_state.setdefault("_link_state", {})


def _written() -> dict:
    return st.session_state.setdefault("_link_written", {})


def from_link(name: str, parse: Callable[[str], tuple[Any, str | None]], default: Any, scope: str = "") -> Any:
    """The current value of link parameter ``name``: from the link when it is new, else from the session.

    ``parse(raw)`` returns ``(value, notice)``; a notice is shown and the
    session (or default) value kept. ``scope`` keeps page-specific values apart.
    """
    key = f"{scope}:{name}"
    raw = st.query_params.get(name)
    if raw is not None and raw != _written().get(name):
        value, notice = parse(raw)
        if notice:
            st.warning(browse.md_escape(notice), icon=":material/link_off:")
            _written()[name] = raw  # shown once; the corrected value replaces it below
        else:
            _state()[key] = value
    return _state().get(key, default)


def remember(name: str, value: Any, scope: str = "", text: str | None = None) -> None:
    """Store ``value`` in the session and write it to the link (``text`` or ``str(value)``)."""
    _state()[f"{scope}:{name}"] = value
    s = text if text is not None else ("" if value is None else str(value))
    if s == "":
        if name in st.query_params:
            del st.query_params[name]
        _written()[name] = None
        return
    if st.query_params.get(name) != s:
        st.query_params[name] = s
    _written()[name] = s


def _copy_widget(widget_key: str, name: str, scope: str, also_clear: Sequence[str] = ()) -> None:
    _state()[f"{scope}:{name}"] = st.session_state[widget_key]
    for other in also_clear:
        _state().pop(other, None)


def linked(
    widget: Callable,
    name: str,
    value: Any,
    scope: str = "",
    also_clear: Sequence[str] = (),
    to_text: Callable[[Any], str] = str,
    **kwargs,
) -> Any:
    """Draw ``widget`` (st.slider, st.selectbox, …) showing ``value`` and keep it in the link.

    The widget is driven through its session-state key, never ``value=``, so
    a value from a link and a value from the user cannot fight.
    """
    wkey = f"w:{scope}:{name}"
    # Set the widget only when it must change (a new link value, a fallback) or on the first run of a page, where
    # the same key is a new widget that ignores a value left from the last page. Setting it on every run would
    # push the old value back to the browser while the user is still moving the widget.
    if st.session_state.get("_page_changed", True) or wkey not in st.session_state or st.session_state[wkey] != value:
        st.session_state[wkey] = value
    out = widget(key=wkey, on_change=_copy_widget, args=(wkey, name, scope, also_clear), **kwargs)
    remember(name, out, scope, text=to_text(out) if out is not None else "")
    return out


def choice(
    name: str,
    options: Sequence,
    default: Any,
    scope: str,
    label: str,
    to_text: Callable[[Any], str] = str,
    from_text: Callable[[str], Any] | None = None,
    **kwargs,
) -> Any:
    """A selectbox kept in the link; a value no longer among ``options`` falls back to ``default``."""
    options = list(options)

    def parse(raw: str):
        value = from_text(raw) if from_text else raw
        if value in options:
            return value, None
        return default, f"{name} {raw[:40]!r} from the link is not available here; showing {to_text(default)}."

    value = from_link(name, parse, default, scope)
    if value not in options:
        value = default
    return linked(st.selectbox, name, value, scope, label=label, options=options, to_text=to_text, **kwargs)


def multi(name: str, options: Sequence[str], default: Sequence[str], scope: str, label: str, **kwargs) -> list:
    """A multiselect kept in the link as a comma-separated list."""
    options = list(options)
    value = from_link(name, lambda raw: browse.parse_multi(raw, options, name), list(default), scope) or list(default)
    value = [v for v in value if v in options]
    every = set(options)  # all chosen (the default) leaves the link short: new options join in later
    return linked(
        st.multiselect,
        name,
        value,
        scope,
        label=label,
        options=options,
        to_text=lambda v: "" if set(v) == every else ",".join(v),
        **kwargs,
    )


def number(
    name: str, lo: float, hi: float, step: float, default: float, scope: str, label: str, digits: int = 2, **kwargs
) -> float:
    """A float slider kept in the link."""
    value = from_link(name, lambda raw: browse.parse_number(raw, lo, hi, default, name), default, scope)
    value = round(round(float(value) / step) * step, digits)
    return linked(
        st.slider,
        name,
        value,
        scope,
        label=label,
        min_value=lo,
        max_value=hi,
        step=step,
        format=f"%.{digits}f",
        to_text=lambda v: f"{v:.{digits}f}",
        **kwargs,
    )


# -- page frame ----------------------------------------------------------------------------------
@dataclass
class Page:
    """What every page gets: settings, the store (or None), the chosen run and τ."""

    key: str
    settings: browse.Settings
    path: str
    fp: tuple
    store: Store | None
    runs: pd.DataFrame
    run: pd.Series | None
    tau: float
    error: str | None = None
    extra: dict = field(default_factory=dict)

    @property
    def ready(self) -> bool:
        return self.run is not None

    @property
    def run_id(self) -> str:
        return str(self.run["run_id"])

    def index(self):
        return expert_index(self.path, self.fp, self.run_id)

    def units(self) -> pd.DataFrame:
        return units(self.path, self.fp, self.run_id)


def page(title: str, key: str, params: Sequence[str] = (), need: str | None = None) -> Page:
    """Start a page: config, sidebar (links, model/revision/run, τ), link state, the store.

    ``params`` names the page's own link parameters; others (left by another page) are dropped from the link.
    ``need`` says which run the page shows by default when a model and revision have several (see
    ``preference``); a run picked by hand or named in the link is kept.
    """
    # No page_icon: a Material icon as favicon is fetched from Google's servers; the default favicon is local.
    st.set_page_config(page_title=f"{title} · {APP_TITLE}", layout="wide")
    _drop_foreign_params(params)
    st.session_state["_page_changed"] = st.session_state.get("_page") != key
    st.session_state["_page"] = key
    cfg = settings()
    _sidebar_links(cfg)
    path = cfg.store
    fp = browse.fingerprint(path)
    store, error, table = None, None, pd.DataFrame()
    if os.path.exists(path):
        try:
            store = _open(path, fp)
            table = runs(path, fp)
        except StoreError as e:
            error = str(e)
            store = None
    tau = from_link("tau", browse.parse_tau, browse.TAU_DEFAULT)
    run, prefer = None, None
    if len(table):
        prefer = preference(need, cfg, path, fp)
        run, notices = browse.choose_run(
            table,
            from_link("model", lambda raw: (raw, None), None),
            from_link("rev", lambda raw: (raw, None), None),
            from_link("run", lambda raw: (raw, None), None),
            prefer,
        )
        for n in notices:
            st.warning(browse.md_escape(n), icon=":material/link_off:")
        if notices:
            _state().pop(":run", None)
    with st.sidebar:
        st.divider()
        if run is not None:
            models = list(dict.fromkeys(table["model"]))
            model = linked(
                st.selectbox,
                "model",
                run["model"],
                label="Model",
                options=models,
                also_clear=(":rev", ":run"),
                help="Models with results in the store",
            )
            revs = list(dict.fromkeys(table.loc[table["model"] == model, "rev"]))
            rev_value = run["rev"] if run["model"] == model and run["rev"] in revs else revs[-1]
            rev = linked(
                st.selectbox,
                "rev",
                rev_value,
                label="Revision",
                options=revs,
                also_clear=(":run",),
                help="Training checkpoint (final = the model's released weights)",
            )
            run, _ = browse.choose_run(table, model, rev, _state().get(":run"), prefer)
            run = _run_picker(browse.runs_of(table, model, rev), run, contents(path, fp))
        tau = linked(
            st.slider,
            "tau",
            tau,
            label="Expert threshold τ (AP >)",
            min_value=browse.TAU_MIN,
            max_value=browse.TAU_MAX,
            step=browse.TAU_STEP,
            format="%.2f",
            to_text=lambda v: f"{v:.2f}",
            help="A unit is an expert of a concept when its average precision exceeds τ.",
        )
        _store_caption(cfg, path, run)
    if error:
        st.error(f"The store cannot be read: {error}")
    for notice in cfg.notices:
        st.info(notice, icon=":material/info:")
    return Page(key, cfg, path, fp, store, table, run, float(tau), error)


def _run_picker(same: pd.DataFrame, run: pd.Series, held: dict) -> pd.Series:
    """A run picker when the model and revision have several runs (concept sets, set sizes, folds).

    The run is written to the link, but kept for the session only when picked by hand (or named in a link),
    so that each page otherwise opens on the run it needs.
    """
    if len(same) < 2:
        if "run" in st.query_params:
            del st.query_params["run"]
        _written()["run"] = None
        return run
    wkey = "w::run"
    options = list(same["run_id"])
    labels = {r["run_id"]: browse.run_label(r, held) for _, r in same.iterrows()}
    if st.session_state.get("_page_changed", True) or st.session_state.get(wkey) != run["run_id"]:
        st.session_state[wkey] = run["run_id"]
    out = st.selectbox(
        "Run",
        options,
        key=wkey,
        format_func=lambda r: labels.get(r, r),
        on_change=_copy_widget,
        args=(wkey, "run", ""),
        help="This model and revision have several runs (concept sets, set sizes, folds); "
        "each page opens on the one it needs unless you pick one.",
    )
    if st.query_params.get("run") != out:
        st.query_params["run"] = out
    _written()["run"] = out
    return same[same["run_id"] == out].iloc[0]


def _drop_foreign_params(params: Sequence[str]) -> None:
    keep = set(GLOBAL_PARAMS) | set(params)
    for name in [k for k in st.query_params if k not in keep]:
        del st.query_params[name]


def html_frame(page_html: str, height: int) -> None:
    """Embed a generated HTML page (``st.iframe`` where it exists, ``components.html`` before it)."""
    if hasattr(st, "iframe"):
        st.iframe(page_html, height=height)
    else:  # Streamlit < 1.5x
        import streamlit.components.v1 as components

        components.html(page_html, height=height, scrolling=False)


def _sidebar_links(cfg: browse.Settings) -> None:
    with st.sidebar:
        st.markdown(f"### {APP_TITLE}")
        for script, label, icon in PAGES:
            if script == EXTRACT_PAGE and not cfg.can_extract:
                continue
            st.page_link(script, label=label, icon=icon)


def _store_caption(cfg: browse.Settings, path: str, run: pd.Series | None) -> None:
    where = os.path.relpath(path, browse.ROOT) if path.startswith(browse.ROOT) else path
    mode = " · hosted demo (read-only)" if cfg.hosted else (" · demo store (read-only)" if cfg.is_demo else "")
    st.caption(f"Store: `{where}`{mode}")
    if run is not None:
        st.caption(f"Run `{run['run_id']}` · {browse.as_int(run.get('n_concepts'))} concepts")


def empty_state(p: Page, what: str = "") -> None:
    """What a page shows when there is nothing to draw yet."""
    if p.error:
        return
    if p.store is None:
        st.info(f"No store at `{p.path}` yet. {what}", icon=":material/inbox:")
    else:
        st.info(f"The store has no runs with results yet. {what}", icon=":material/hourglass_empty:")
    st.page_link("app.py", label="Getting started (Home)", icon=":material/home:")


def require_run(p: Page, what: str = "") -> None:
    """Stop the page with a clear panel unless a run with results is chosen."""
    if not p.ready or browse.as_int(p.run.get("n_results")) == 0:
        if p.ready:
            st.info(
                f"Run {browse.run_title(p.run)} has no results yet (an extraction may still be writing). {what}",
                icon=":material/hourglass_empty:",
            )
        else:
            empty_state(p, what)
        st.stop()


def fmt(x: Any, digits: int = 3) -> str:
    """A number for display; '—' for missing values."""
    try:
        v = float(x)
    except (TypeError, ValueError):
        return "—"
    if v != v:
        return "—"
    return "∞" if v == float("inf") else f"{v:.{digits}f}"


# -- cached analysis ------------------------------------------------------------------------------
@st.cache_data(show_spinner="Scoring alignment with human ratings…", max_entries=64)
def _alignment(
    path: str, fp: tuple, bench: str, bench_mtime: float, run_ids: tuple, tau: float, n_boot: int
) -> pd.DataFrame:
    from core.alignment import alignment_table

    pairs = benchmark_pairs(bench, bench_mtime)
    cache = {rid: expert_index(path, fp, rid) for rid in run_ids}
    return locked(
        alignment_table, _open(path, fp), list(run_ids), pairs, tau=tau, n_boot=n_boot, seed=0, index_cache=cache
    )


def alignment(
    p: Page, bench: str | None, run_ids: Sequence[str], n_boot: int = 1000, name: str | None = None
) -> pd.DataFrame:
    """``core.alignment.alignment_table`` of runs on a benchmark file at the page's τ (cached).

    With no file (``bench`` None), the store's snapshot of benchmark ``name`` at this τ is read instead.
    """
    if bench is None:
        t = _snapshot(p.path, p.fp, name, round(p.tau, 2))
        t = t[t["run_id"].isin(list(run_ids)) & t["method"].isin(list(browse.METHOD_LABELS))]
        t = t.drop(columns=["benchmark", "n_boot"])
        order = {m: i for i, m in enumerate(browse.METHOD_LABELS)}  # the order alignment_table gives
        rank = t["run_id"].map({r: i for i, r in enumerate(run_ids)}) * 10 + t["method"].map(order).fillna(9)
        return t.assign(_o=rank).sort_values("_o", kind="stable").drop(columns="_o").reset_index(drop=True)
    return _alignment(p.path, p.fp, bench, os.path.getmtime(bench), tuple(run_ids), p.tau, n_boot)


@st.cache_data(show_spinner=False, max_entries=64)
def _where(path: str, fp: tuple, run_id: str, bench: str, bench_mtime: float, tau: float) -> tuple:
    from core.layers import alignment_by_layer

    index, units, pairs = (
        expert_index(path, fp, run_id),
        _open(path, fp).units(run_id),
        benchmark_pairs(bench, bench_mtime),
    )
    return tuple(locked(alignment_by_layer, index, units, pairs, tau, by=by) for by in ("layer", "kind"))


def where(p: Page, bench: str | None, name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """ρ from one layer and one module kind at a time, for the page's run (live, or from the snapshot)."""
    if bench is None:
        from core.layers import groups_from_rows

        t = _snapshot(p.path, p.fp, name, round(p.tau, 2))
        t = t[t["run_id"] == p.run_id]
        return groups_from_rows(t, "layer"), groups_from_rows(t, "kind")
    return _where(p.path, p.fp, p.run_id, bench, os.path.getmtime(bench), round(p.tau, 2))


@st.cache_data(show_spinner=False, max_entries=128)
def _snapshot(path: str, fp: tuple, name: str | None, tau: float | None) -> pd.DataFrame:
    return _open(path, fp).alignment_snapshot(name, tau)


def snapshot_meta(p: Page, name: str) -> pd.DataFrame:
    """The snapshot rows of benchmark ``name`` at the page's τ, with how they were computed."""
    return _snapshot(p.path, p.fp, name, round(p.tau, 2))


def benchmarks(p: Page) -> list[tuple[str, str | None]]:
    """Benchmarks to show: files on disk, then those only the store's snapshots hold (path None)."""
    live = list(p.settings.benchmarks)
    if p.store is None:
        return live
    names = {n for n, _ in live}
    kept = [n for n in dict.fromkeys(_snapshot(p.path, p.fp, None, 0.5)["benchmark"]) if n not in names]
    return live + [(n, None) for n in kept]


def snapshot_note(name: str, table: pd.DataFrame) -> str:
    """Where numbers read from a snapshot come from."""
    n_boot = int(table["n_boot"].max()) if "n_boot" in table and len(table) else None
    return (
        f"{name}: read from the alignment snapshot stored with this store (computed from the benchmark file "
        f"when the store was built{f', {n_boot} bootstrap resamples' if n_boot else ''}; the ratings are not "
        "shipped). Put the MEN files in `cache/MEN/` or set `EXPERTS_MEN_DIR` to recompute them here."
    )


@st.cache_data(show_spinner=False, max_entries=128)
def _domain_view(
    path: str,
    fp: tuple,
    run_id: str,
    tau: float,
    domains_path: str,
    domains_mtime: float,
    chosen: tuple,
    min_weight: float,
    seed: int,
) -> dict:
    index = expert_index(path, fp, run_id)
    return locked(browse.domain_view, index, domain_list(domains_path, domains_mtime), tau, chosen, min_weight, seed)


def domain_view(p: Page, chosen: Sequence[str], min_weight: float, seed: int = 0) -> dict:
    """The concept-domain network of the page's run at τ: HTML, ARI/NMI, edges, nodes (cached)."""
    path = p.settings.domains
    return _domain_view(
        p.path, p.fp, p.run_id, p.tau, path, os.path.getmtime(path), tuple(chosen), round(float(min_weight), 4), seed
    )


@st.cache_data(show_spinner=False, max_entries=64)
def _shared(path: str, fp: tuple, run_id: str, tau: float, a: str, b: str) -> pd.DataFrame:
    from core.domains import shared_experts

    index = expert_index(path, fp, run_id)
    return locked(shared_experts, index, a, b, tau, units(path, fp, run_id))


def shared(p: Page, a: str, b: str) -> pd.DataFrame:
    """The experts ``a`` and ``b`` share at the page's τ, with their APs and unit positions."""
    return _shared(p.path, p.fp, p.run_id, p.tau, a, b)


@st.cache_data(show_spinner="Comparing expert sets across folds…", max_entries=64)
def _fold_overlap(path: str, fp: tuple, run_id: str, taus: tuple) -> pd.DataFrame:
    from core.stability import fold_overlap

    return locked(fold_overlap, expert_index(path, fp, run_id), taus)


def fold_overlap(p: Page, taus: Sequence[float], run_id: str | None = None) -> pd.DataFrame:
    """``core.stability.fold_overlap`` of a run (default: the page's) on a τ grid (cached)."""
    return _fold_overlap(p.path, p.fp, run_id or p.run_id, tuple(taus))


@st.cache_data(show_spinner=False, max_entries=64)
def _by_size(path: str, fp: tuple, run_ids: tuple, tau: float) -> pd.DataFrame:
    from core.stability import stability_by_size

    cache = {rid: expert_index(path, fp, rid) for rid in run_ids}
    return locked(stability_by_size, _open(path, fp), run_ids, (tau,), cache)


def by_size(p: Page) -> pd.DataFrame:
    """Fold overlap at the page's τ of the runs that differ from the chosen one only in set sizes."""
    ids = browse.size_runs(p.runs, contents(p.path, p.fp), p.run)
    return _by_size(p.path, p.fp, tuple(ids), round(p.tau, 2)) if len(ids) > 1 else pd.DataFrame()


@st.cache_data(show_spinner=False, max_entries=64)
def _set_sizes(path: str, fp: tuple, run_id: str, taus: tuple) -> pd.DataFrame:
    return locked(browse.set_sizes, expert_index(path, fp, run_id), taus)


def set_sizes(p: Page, taus: Sequence[float]) -> pd.DataFrame:
    return _set_sizes(p.path, p.fp, p.run_id, tuple(taus))


@st.cache_data(show_spinner=False, max_entries=64)
def _by_layer(path: str, fp: tuple, run_id: str, tau: float, concepts: tuple) -> pd.DataFrame:
    from core.layers import experts_by_layer

    return locked(experts_by_layer, expert_index(path, fp, run_id), units(path, fp, run_id), tau, list(concepts))


def by_layer(p: Page, concepts: Sequence[str]) -> pd.DataFrame:
    """Experts of ``concepts`` per (layer, kind) at the page's τ."""
    return _by_layer(p.path, p.fp, p.run_id, p.tau, tuple(concepts))


@st.cache_data(show_spinner=False, max_entries=32)
def _jaccard(path: str, fp: tuple, run_id: str, tau: float) -> pd.DataFrame:
    return locked(expert_index(path, fp, run_id).jaccard, tau)


def jaccard(p: Page) -> pd.DataFrame:
    """Concept × concept Jaccard of expert sets at the page's τ."""
    return _jaccard(p.path, p.fp, p.run_id, p.tau)


@st.cache_data(show_spinner=False, max_entries=32)
def _sets(path: str, fp: tuple, run_id: str, tau: float) -> dict:
    return locked(expert_index(path, fp, run_id).sets, tau)


def sets(p: Page) -> dict:
    """``{concept: expert unit ids}`` at the page's τ."""
    return _sets(p.path, p.fp, p.run_id, p.tau)


@st.cache_data(show_spinner=False, max_entries=32)
def results(path: str, fp: tuple, run_id: str) -> pd.DataFrame:
    return _open(path, fp).results(run_id)
