"""Render LaTeX with KaTeX (the npm package, run with Node) from the tests.

KaTeX is looked up in ``.ci/node/node_modules`` (where ``.ci/run`` installs it), in
``$MATCALC_KATEX_DIR`` or on Node's own path. Without it the KaTeX tests skip, except in CI
(``CI=true``), where a missing KaTeX is a failure.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = Path(__file__).resolve().parent / "render_katex.js"


def _node_path() -> str | None:
    candidates = [os.environ.get("MATCALC_KATEX_DIR"), str(ROOT / ".ci" / "node" / "node_modules")]
    for c in candidates:
        if c and (Path(c) / "katex").is_dir():
            return c
    return None


class KaTeX:
    """A long-lived Node process rendering one string per request."""

    def __init__(self, node: str, node_path: str | None):
        env = dict(os.environ)
        if node_path:
            env["NODE_PATH"] = node_path
        self.proc = subprocess.Popen([node, str(SCRIPT)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, env=env, bufsize=1)

    def render(self, source: str) -> str | None:
        """None when KaTeX renders source, else its error message."""
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(json.dumps(source) + "\n")
        self.proc.stdin.flush()
        answer = json.loads(self.proc.stdout.readline())
        return None if answer["ok"] else answer["error"]

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        self.proc.wait(timeout=10)


def start_katex() -> KaTeX:
    node = shutil.which("node")
    node_path = _node_path()
    problem = None
    if node is None:
        problem = "Node.js is not installed"
    else:
        probe = subprocess.run([node, "-e", "require('katex')"], capture_output=True, check=False,
                               env={**os.environ, **({"NODE_PATH": node_path} if node_path else {})})
        if probe.returncode != 0:
            problem = "the npm package katex is not installed (see .ci/run)"
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"KaTeX is required in CI: {problem}")
        pytest.skip(problem)
    return KaTeX(node, node_path)
