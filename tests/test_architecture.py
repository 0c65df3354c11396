"""The layering rules of docs/architecture.md, checked on the source: only the store speaks SQL,
the library never imports Streamlit, and no module is over 400 lines."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SQL = re.compile(r"\b(SELECT|INSERT|CREATE)\b|\bexecute\(")
LIBRARY = sorted((ROOT / "core").rglob("*.py"))
MAX_LINES = 400
DASHBOARD = [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py")), *sorted((ROOT / "ui").rglob("*.py"))]
DASHBOARD += [ROOT / "dashboard_server.py"]  # serves it to a browser; checked like the dashboard


def sql_lines(path: Path) -> list[str]:
    """Lines of ``path`` that hold SQL keywords or call ``execute(``."""
    return [
        f"{path.name}:{i}: {line.strip()}"
        for i, line in enumerate(path.read_text().splitlines(), 1)
        if SQL.search(line)
    ]


def imported_modules(path: Path) -> set[str]:
    """Top-level names of every module ``path`` imports (at any depth of the file)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            out.add(node.module.split(".")[0])
    return out


@pytest.mark.parametrize(
    "path",
    [p for p in LIBRARY + DASHBOARD if p.name != "store.py" or p.parent.name != "core"],
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_only_the_store_speaks_sql(path):
    assert sql_lines(path) == []


def test_the_store_does_speak_sql():
    """The check above can fail: it finds the store's own statements."""
    assert len(sql_lines(ROOT / "core" / "store.py")) > 10


@pytest.mark.parametrize("path", LIBRARY, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_library_never_imports_streamlit(path):
    assert "streamlit" not in imported_modules(path)


def test_the_import_check_sees_streamlit(tmp_path):
    f = tmp_path / "x.py"
    f.write_text("def f():\n    import streamlit.components.v1 as c\n")
    assert "streamlit" in imported_modules(f)


def n_lines(path: Path) -> int:
    return len(path.read_text().splitlines())


@pytest.mark.parametrize("path", LIBRARY + DASHBOARD, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_over_400_lines(path):
    assert n_lines(path) <= MAX_LINES, f"{path.relative_to(ROOT)}: split it by idea (docs/architecture.md)"


def test_the_line_count_sees_a_long_module(tmp_path):
    f = tmp_path / "long.py"
    f.write_text("x = 1\n" * (MAX_LINES + 1))
    assert n_lines(f) > MAX_LINES
