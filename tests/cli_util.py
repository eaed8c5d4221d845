"""Running the command line in the tests: ``python -m matcalc`` in a subprocess, this tree's
matcalc first on its path, and the shape of a clean refusal."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def cli_env(**extra: str) -> dict[str, str]:
    """The environment of a subprocess that imports this tree's matcalc."""
    return {**os.environ, "PYTHONPATH": str(ROOT), **extra}


def run(*args: str, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    """python -m matcalc args, its output captured as UTF-8."""
    return subprocess.run([sys.executable, "-m", "matcalc", *args], check=False, capture_output=True,
                          encoding="utf-8", errors="replace", env=cli_env(**env), cwd=cwd,
                          timeout=120)


def assert_error(done: subprocess.CompletedProcess[str], *words: str) -> None:
    """Exit 2 with one clean error: …, never a traceback."""
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr
    assert done.stderr.startswith("error: "), done.stderr
    for word in words:
        assert word in done.stderr, (word, done.stderr)
