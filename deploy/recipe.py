"""The hosting recipes' commands, read from the files a host reads, so that checks run exactly those commands.

``Dockerfile`` (a Hugging Face Space or any Docker host): its base image, its ``RUN pip install`` line and its
``CMD``; ``deploy/space/README.md``: the Space's front matter (``sdk``, ``app_port``). Used by
``scripts/check_hosted_install.sh``, ``tests/test_hosted_install.py``, ``tests/test_hosting.py`` and
``bench/bench_hosting.py``. ``python deploy/recipe.py install|start|port`` prints one of them.
"""

from __future__ import annotations

import json
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCKERFILE = os.path.join(ROOT, "Dockerfile")
SPACE_README = os.path.join(ROOT, "deploy", "space", "README.md")
CLOUD_DIR = os.path.join(ROOT, "deploy", "cloud")
BROWSE_REQUIREMENTS = "requirements-dashboard.txt"


def instructions(path: str = DOCKERFILE) -> list[tuple[str, str]]:
    """The Dockerfile as (INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", open(path, encoding="utf-8").read())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), " ".join(rest.split())))
    return out


def _one(word: str, path: str = DOCKERFILE, startswith: str = "") -> str:
    found = [a for w, a in instructions(path) if w == word and a.startswith(startswith)]
    if len(found) != 1:
        raise ValueError(f"{path}: expected one {word} {startswith}…, found {len(found)}")
    return found[0]


def base_image(path: str = DOCKERFILE) -> str:
    return _one("FROM", path)


def install_command(path: str = DOCKERFILE) -> str:
    """The ``RUN pip install ...`` line's command (run with the image's venv first on PATH)."""
    return _one("RUN", path, "pip install")


def start_command(path: str = DOCKERFILE) -> list[str]:
    """The ``CMD`` (exec form), run from the repository root."""
    return json.loads(_one("CMD", path))


def env(path: str = DOCKERFILE) -> dict[str, str]:
    """``ENV KEY=value ...`` settings (later ones win)."""
    out = {}
    for w, a in instructions(path):
        if w == "ENV":
            out.update(kv.split("=", 1) for kv in a.split() if "=" in kv)
    return out


def front_matter(path: str = SPACE_README) -> dict[str, str]:
    """The ``key: value`` lines between the README's leading ``---`` lines."""
    text = open(path, encoding="utf-8").read()
    m = re.match(r"---\n(.*?)\n---\n", text, re.S)
    if not m:
        raise ValueError(f"{path}: no front matter")
    return {k.strip(): v.strip() for k, v in (line.split(":", 1) for line in m.group(1).splitlines() if ":" in line)}


def pins(path: str) -> list[str]:
    """A requirements file's requirement lines (comments and blanks dropped), ``-r`` files expanded in place."""
    out = []
    for line in open(path, encoding="utf-8"):
        line = line.split("#", 1)[0].strip()
        if line.startswith("-r "):
            out += pins(os.path.join(os.path.dirname(path), line[3:].strip()))
        elif line:
            out.append(line)
    return out


if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else ""
    if what == "install":
        print(install_command())
    elif what == "start":
        print(" ".join(start_command()))
    elif what == "port":
        print(env()["PORT"])
    else:
        sys.exit("usage: python deploy/recipe.py install|start|port")
