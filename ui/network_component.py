"""The concept network's frame: a Streamlit component that loads vis-network once and redraws from data.

The frame (``network_frontend/index.html``) stays in the page across reruns, so a τ step sends only the nodes and
links (tens of kilobytes) and vis-network updates them in place; an HTML page with the library inlined would be
sent, parsed and laid out again at every step. The component's folder is assembled once per server in the
temporary directory: our ``index.html`` beside the vis-network files of the installed pyvis (nothing is fetched
from a CDN, and nothing is vendored into the repository).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from functools import lru_cache

import streamlit.components.v1 as components

from core.render.netview import NetworkView, vis_network_files

FRONTEND = os.path.join(os.path.dirname(__file__), "network_frontend", "index.html")


def _folder() -> str:
    """The component's folder: index.html and vis-network, named by a hash of their contents."""
    files = {"index.html": FRONTEND, **vis_network_files()}
    digest = hashlib.sha256()
    for name, path in sorted(files.items()):
        with open(path, "rb") as f:
            digest.update(name.encode() + b"\0" + f.read())
    folder = os.path.join(tempfile.gettempdir(), f"expert-neurons-network-{digest.hexdigest()[:16]}")
    if not os.path.isfile(os.path.join(folder, "index.html")):
        tmp = tempfile.mkdtemp(prefix="expert-neurons-network-")
        for name, path in files.items():
            shutil.copyfile(path, os.path.join(tmp, name))
        try:
            os.replace(tmp, folder)  # atomic; another server may have made the same folder first
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)
    return folder


@lru_cache(maxsize=1)
def _component():
    return components.declare_component("concept_network", path=_folder())


def network_frame(view: NetworkView, key: str = "concept_network") -> None:
    """Draw ``view`` in the page's network frame (one per ``key``; it persists across reruns)."""
    _component()(view=view.to_json(), key=key, default=None)
