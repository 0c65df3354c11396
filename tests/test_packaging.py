"""A non-editable ``pip install .`` ships every stage package with its data files, and the installed command runs."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_pip_install_ships_every_stage_package(tmp_path):
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    py = env_dir / "bin" / "python"
    # --no-deps: the dependencies are this environment's (below); what is checked is what the wheel holds
    subprocess.run(
        [str(py), "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", str(ROOT)],
        check=True,
        capture_output=True,
        env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PYTHONPATH": sysconfig.get_paths()["purelib"]},
        timeout=600,
    )
    site = Path(
        subprocess.check_output(
            [str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True
        ).strip()
    )
    shipped = {
        p.relative_to(site).as_posix()
        for p in (site / "core").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    wanted = {
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / "core").rglob("*")
        if p.is_file() and p.suffix in {".py", ".sql", ".sha256"} and "__pycache__" not in p.parts
    }
    assert wanted <= shipped, sorted(wanted - shipped)
    assert {p.parent.name for p in (site / "core").glob("*/__init__.py")} >= {
        "text", "model", "experts", "extraction", "storage", "analysis", "render", "cli"
    }  # fmt: skip
    out = subprocess.run(
        [str(env_dir / "bin" / "expert-neurons"), "--help"],
        capture_output=True,
        text=True,
        cwd=tmp_path,  # not the checkout: the installed package answers
        env={**os.environ, "PYTHONPATH": sysconfig.get_paths()["purelib"]},  # this environment's dependencies
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert "usage: python -m core" in out.stdout and "extract" in out.stdout
    where = subprocess.check_output([str(py), "-c", "import core; print(core.__file__)"], text=True, cwd=tmp_path,
                                    env={**os.environ, "PYTHONPATH": sysconfig.get_paths()["purelib"]})  # fmt: skip
    assert where.startswith(str(site)), where
    assert sys.executable != str(py)
