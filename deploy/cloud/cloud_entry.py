"""Run one of the repository's dashboard scripts from this folder (Streamlit Community Cloud's entrypoint folder).

Cloud installs the dependency file next to the entrypoint (here: ``requirements.txt``, the browse-only pins) and
finds pages in ``pages/`` beside it, so this folder mirrors ``app.py`` and ``pages/`` with scripts that execute the
real ones; Streamlit puts this folder, not the repository root, on ``sys.path``, so the root is added here.
"""

from __future__ import annotations

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run(relative: str) -> None:
    """Execute ``ROOT/relative`` as Streamlit would (its own globals; ``sys.modules`` untouched)."""
    if ROOT not in sys.path:
        sys.path.insert(0, ROOT)
    path = os.path.join(ROOT, relative)
    with open(path, encoding="utf-8") as f:
        code = compile(f.read(), path, "exec")
    exec(code, {"__name__": "__page__", "__file__": path})
