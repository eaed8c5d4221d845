"""Regenerate examples/output/ (or the folder given as the first argument) from every example:
``python examples/build.py``. tests/test_examples.py fails when the committed output is stale."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = sorted(p for p in HERE.glob("[a-z]*.py") if p.name != "build.py")


def build(out: Path) -> list[Path]:
    """Run every example with ``out`` as its output folder; the files it holds afterwards."""
    out.mkdir(parents=True, exist_ok=True)
    for old in out.iterdir():  # a removed example leaves nothing behind
        if old.suffix in (".md", ".svg", ".dot"):
            old.unlink()
    sys.path.insert(0, str(HERE))
    argv = sys.argv
    try:
        for script in SCRIPTS:
            sys.argv = [str(script), str(out)]
            runpy.run_path(str(script), run_name="__main__")
    finally:
        sys.argv = argv
        sys.path.remove(str(HERE))
    return sorted(out.iterdir())


if __name__ == "__main__":
    build(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "output")
