"""Where the dashboard and the CLI read from: store paths, benchmark files and the ``EXPERTS_*`` settings."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from core.storage.paths import DEFAULT_STORE, DEMO_STORE, MEN_CACHE, ROOT
from core.text.benchmarks import find_benchmarks
from core.text.concepts import DEFAULT_DOMAINS


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
    men_dir = _abs(men_raw, root) if men_raw else os.path.join(root, MEN_CACHE)
    benchmarks = find_benchmarks(men_dir, [_abs(p.strip(), root) for p in (bench_raw or "").split(",") if p.strip()])
    return Settings(path, source, hosted, write_store, domains, tuple(benchmarks), tuple(notices))


@dataclass(frozen=True)
class StoreChoice:
    """A store the dashboard can browse: ``key`` is what the link holds (never a path), ``label`` what the picker
    shows, ``path`` where it is."""

    key: str
    label: str
    path: str


OWN, DEMO = "own", "demo"  # link keys of the configured store and the shipped demo store


def store_choices(cfg: Settings, root: str = ROOT) -> list[StoreChoice]:
    """The stores a local dashboard offers: the configured one (if it exists), the demo store, and every other
    ``.duckdb`` under ``cache/`` (named by its path under ``cache/``). Hosted: only the one it serves."""
    if cfg.hosted:
        return [StoreChoice(DEMO if cfg.is_demo else OWN, "hosted store", cfg.store)]
    cache = os.path.join(root, "cache")
    own, demo = os.path.abspath(cfg.write_store), os.path.abspath(os.path.join(root, DEMO_STORE))
    out = []
    if os.path.isfile(own):
        out.append(StoreChoice(OWN, f"Your store ({_shown(own, root)})", own))
    if os.path.isfile(demo) and demo != own:
        out.append(StoreChoice(DEMO, "Demo store (read-only)", demo))
    found = []
    for folder, _, names in os.walk(cache):
        found += [os.path.abspath(os.path.join(folder, n)) for n in names if n.endswith(".duckdb")]
    for path in sorted(found):
        if path not in (own, demo):
            out.append(StoreChoice(os.path.relpath(path, cache), _shown(path, root), path))
    return out


def _shown(path: str, root: str) -> str:
    return os.path.relpath(path, root) if path.startswith(root + os.sep) else path


def with_store(cfg: Settings, choice: StoreChoice) -> Settings:
    """``cfg`` browsing ``choice`` (an extraction still writes to ``cfg.write_store``)."""
    if os.path.abspath(choice.path) == os.path.abspath(cfg.store):
        return cfg
    source = DEMO if choice.key == DEMO else ("configured" if choice.key == OWN else "picked")
    return replace(cfg, store=choice.path, source=source, notices=())
