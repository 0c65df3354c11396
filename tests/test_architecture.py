"""The rules of docs/architecture.md that import-linter cannot state: only the store speaks SQL, no module is
over 400 lines, and no module of core/ lives outside a stage package. The layers themselves are import-linter
contracts in pyproject.toml (`make lint`)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SQL = re.compile(r"\b(SELECT|INSERT|CREATE)\b|\bexecute\(")
LIBRARY = sorted((ROOT / "core").rglob("*.py"))
STORE = ROOT / "core" / "storage" / "store.py"
STORE_SQL = [STORE, ROOT / "core" / "storage" / "alignment_rows.py"]  # the store and its alignment table's queries
MAX_LINES = 400
ROOT_MODULES = {"__init__", "__main__", "config", "tau", "errors"}  # the rest of core/ lives in stage packages
DASHBOARD = [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py")), *sorted((ROOT / "ui").rglob("*.py"))]
DASHBOARD += [ROOT / "dashboard_server.py"]  # serves it to a browser; checked like the dashboard


def sql_lines(path: Path) -> list[str]:
    """Lines of ``path`` that hold SQL keywords or call ``execute(``."""
    return [
        f"{path.name}:{i}: {line.strip()}"
        for i, line in enumerate(path.read_text().splitlines(), 1)
        if SQL.search(line)
    ]


@pytest.mark.parametrize(
    "path",
    [p for p in LIBRARY + DASHBOARD if p not in STORE_SQL],
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_only_the_store_speaks_sql(path):
    assert sql_lines(path) == []


def test_the_store_does_speak_sql():
    """The check above can fail: it finds the store's own statements."""
    assert all(len(sql_lines(p)) > 3 for p in STORE_SQL) and len(sql_lines(STORE)) > 10


def test_core_modules_live_in_stage_packages():
    loose = sorted(p.stem for p in (ROOT / "core").glob("*.py") if p.stem not in ROOT_MODULES)
    assert loose == [], f"core/{loose[0]}.py: put it in the stage package it belongs to (docs/architecture.md)"


def test_every_stage_package_is_in_the_layers_contract():
    """A new stage package must be given its place among the layers."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    layered = {
        name.strip()
        for c in config
        if c["type"] == "layers"
        for layer in c["layers"]
        for name in re.split(r"[|:]", layer)
    }
    packages = {f"core.{p.parent.name}" for p in (ROOT / "core").glob("*/__init__.py")}
    assert packages <= layered, packages - layered


def n_lines(path: Path) -> int:
    return len(path.read_text().splitlines())


@pytest.mark.parametrize("path", LIBRARY + DASHBOARD, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_over_400_lines(path):
    assert n_lines(path) <= MAX_LINES, f"{path.relative_to(ROOT)}: split it by idea (docs/architecture.md)"


def test_the_line_count_sees_a_long_module(tmp_path):
    f = tmp_path / "long.py"
    f.write_text("x = 1\n" * (MAX_LINES + 1))
    assert n_lines(f) > MAX_LINES
