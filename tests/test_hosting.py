"""The hosting recipes agree with each other and with what CI's hosted-install check runs.

The check itself (a fresh browse-only venv serving every page in Chromium) is ``tests/test_hosted_install.py``,
run once by ``scripts/check_hosted_install.sh``; no Docker engine runs here, so the image is never built: these
tests read the files a host reads.
"""

from __future__ import annotations

import os
import re
import subprocess

from deploy import recipe
from ui.jobs import MODEL_STACK

ROOT = recipe.ROOT


def read(path: str) -> str:
    return open(os.path.join(ROOT, path), encoding="utf-8").read()


def names(pins: list[str]) -> list[str]:
    return [re.split(r"[=<>!~\[ ;]", p, maxsplit=1)[0].lower() for p in pins]


def test_browse_only_requirements_have_no_model_stack_and_pins_live_once():
    browse = recipe.pins(os.path.join(ROOT, "requirements-dashboard.txt"))
    model = recipe.pins(os.path.join(ROOT, "requirements-model.txt"))
    everything = recipe.pins(os.path.join(ROOT, "requirements.txt"))
    assert not set(names(browse)) & {"torch", "transformers", "accelerate", "gguf", "numba"}
    assert set(MODEL_STACK) <= set(names(model))
    assert everything == browse + model and len(set(names(everything))) == len(everything)
    assert all("==" in p for p in everything)  # pinned
    dynamic = re.search(r"^dependencies = \{ file = \[(.*)\] \}$", read("pyproject.toml"), re.M)
    files = re.findall(r'"([^"]+)"', dynamic.group(1))
    assert files == ["requirements-dashboard.txt", "requirements-model.txt"]  # what requirements.txt includes
    assert re.findall(r"^-r (\S+)", read("requirements.txt"), re.M) == files


def test_dockerfile_installs_the_browse_only_requirements_as_uid_1000_on_a_slim_base():
    assert re.fullmatch(r"python:3\.\d+-slim", recipe.base_image())
    steps = recipe.instructions()
    assert ("RUN", "useradd -m -u 1000 user") in steps and ("USER", "user") in steps
    assert steps.index(("USER", "user")) < steps.index(("RUN", recipe.install_command()))  # installed as the user
    install = recipe.install_command().split()
    assert install[:2] == ["pip", "install"] and install.count("-r") == 1
    assert install[install.index("-r") + 1] == recipe.BROWSE_REQUIREMENTS
    assert ("COPY", f"--chown=user {recipe.BROWSE_REQUIREMENTS} .") in steps


def test_space_front_matter_names_the_port_the_dockerfile_serves():
    meta = recipe.front_matter()
    assert meta["sdk"] == "docker"
    env = recipe.env()
    assert meta["app_port"] == env["PORT"] == next(a for w, a in recipe.instructions() if w == "EXPOSE")
    assert env["HOST"] == "0.0.0.0"  # inside the container; scripts/serve_hosted.sh defaults to 127.0.0.1
    assert recipe.start_command() == ["sh", "scripts/serve_hosted.sh"]


def test_the_hosted_check_runs_the_dockerfiles_install_and_start_commands(tmp_path):
    """scripts/check_hosted_install.sh installs with the line deploy/recipe.py reads from the Dockerfile, and
    tests/test_hosted_install.py starts the server with its CMD; the reader follows the file, not a constant."""
    script = read("scripts/check_hosted_install.sh")
    assert "INSTALL=$($PY deploy/recipe.py install)" in script and 'sh -c "$INSTALL"' in script
    assert "pip install" not in script.replace("`RUN pip install ...`", "")  # no install of its own
    assert "EXPERTS_HOSTED_VENV=" in script and "tests/test_hosted_install.py" in script
    test = read("tests/test_hosted_install.py")
    assert "command = start_command()" in test and "serve(venv_env(), log, timeout=120, command=command, cwd=" in test
    other = tmp_path / "Dockerfile"
    other.write_text(read("Dockerfile").replace("-r requirements-dashboard.txt", "-r other.txt").replace(
        '"sh", "scripts/serve_hosted.sh"', '"sh", "other.sh"'))  # fmt: skip
    assert recipe.install_command(str(other)).endswith("-r other.txt")
    assert recipe.start_command(str(other)) == ["sh", "other.sh"]
    ci = read(".ci/run").splitlines()
    assert ci.index("scripts/check_hosted_install.sh") > ci.index("make test")


def test_serve_hosted_binds_127_0_0_1_unless_asked_and_make_runs_it():
    script = read("scripts/serve_hosted.sh")
    assert '--server.address="${HOST:-127.0.0.1}"' in script and "export EXPERTS_HOSTED=1" in script
    assert "--server.baseUrlPath=" in script and "--server.enableXsrfProtection=" in script
    dry = subprocess.run(["make", "-n", "serve-hosted"], cwd=ROOT, capture_output=True, text=True, check=True)
    assert "scripts/serve_hosted.sh" in dry.stdout


def test_community_cloud_folder_mirrors_the_app_with_the_browse_only_pins():
    cloud = recipe.CLOUD_DIR
    assert recipe.pins(os.path.join(cloud, "requirements.txt")) == recipe.pins(
        os.path.join(ROOT, "requirements-dashboard.txt")
    )
    # Cloud reads the first of these next to the entrypoint: only requirements.txt may be there
    for first in ("uv.lock", "Pipfile", "environment.yml", "pyproject.toml"):
        assert not os.path.exists(os.path.join(cloud, first))
    assert sorted(os.listdir(os.path.join(cloud, "pages"))) == sorted(
        f for f in os.listdir(os.path.join(ROOT, "pages")) if f.endswith(".py")
    )
    assert 'run("app.py")' in read("deploy/cloud/app.py")
    for f in os.listdir(os.path.join(cloud, "pages")):
        assert f'run("pages/{f}")' in read(f"deploy/cloud/pages/{f}")


def test_make_space_writes_a_self_contained_space_folder(tmp_path):
    out = tmp_path / "space"
    done = subprocess.run([os.path.join(ROOT, "scripts", "make_space.sh"), str(out)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert (out / "README.md").read_text() == read("deploy/space/README.md")
    assert (out / "cache" / "demo.duckdb").read_bytes() == open(os.path.join(ROOT, "cache", "demo.duckdb"), "rb").read()
    assert "*.duckdb filter=lfs" in (out / ".gitattributes").read_text()
    for path in ("Dockerfile", "app.py", "pages/2_alignment.py", "ui/frame.py", "core/storage/schema.sql", "data/domains.txt",
                 ".streamlit/config.toml", "scripts/serve_hosted.sh", recipe.BROWSE_REQUIREMENTS):  # fmt: skip
        assert (out / path).read_bytes() == open(os.path.join(ROOT, path), "rb").read(), path
    assert not (out / "tests").exists() and not (out / "results").exists()
    again = subprocess.run([os.path.join(ROOT, "scripts", "make_space.sh"), str(out)], capture_output=True, text=True)
    assert again.returncode == 1 and "not empty" in again.stdout  # never writes over a folder


def test_the_hosted_check_opens_every_page_of_the_page_list():
    """The fresh-venv check's titles cover exactly the dashboard's pages (``ui.page_state.PAGES``)."""
    import ast

    from ui.page_state import PAGES as PAGE_LINKS

    tree = ast.parse(open(os.path.join(ROOT, "tests", "test_hosted_install.py")).read())
    titled = next(
        n.value for n in tree.body if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", "") == "PAGES"
    )
    assert {k.value for k in titled.keys} == {"/" + link.path for link in PAGE_LINKS}
