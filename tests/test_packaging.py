"""The wheel that ``pip install .`` builds ships the whole package, ``py.typed`` included (PEP 561).

The wheel is built offline, by the build backend pyproject.toml names (setuptools), from a copy of
the sources, so the checkout is left as it was.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_CACHES = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> list[str]:
    """The names of the files in a wheel built from the package's sources."""
    tmp = tmp_path_factory.mktemp("wheel")
    src, out = tmp / "src", tmp / "dist"
    shutil.copytree(ROOT / "matcalc", src / "matcalc", ignore=_CACHES)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    build = "import sys; from setuptools import build_meta; build_meta.build_wheel(sys.argv[1])"
    done = subprocess.run([sys.executable, "-c", build, str(out)], cwd=src, capture_output=True,
                          text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    (built,) = out.glob("*.whl")
    with zipfile.ZipFile(built) as z:
        return z.namelist()


def test_the_wheel_ships_py_typed(wheel):
    assert "matcalc/py.typed" in wheel


def test_py_typed_is_declared_package_data():
    # declared rather than left to a default: setuptools 68, which build-system.requires allows,
    # ships py.typed only when it is declared (69 made it an experimental default)
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "py.typed" in config["tool"]["setuptools"]["package-data"]["matcalc"]


def test_the_wheel_ships_every_file_of_the_package(wheel):
    sources = [p for p in (ROOT / "matcalc").rglob("*")
               if p.is_file() and "__pycache__" not in p.parts and p.suffix not in (".pyc", ".pyo")]
    expected = {p.relative_to(ROOT).as_posix() for p in sources}
    assert len(expected) > 30
    missing = sorted(expected - set(wheel))
    assert not missing, f"not in the wheel (package data to declare in pyproject.toml?): {missing}"
