"""Every example runs and writes its English and Korean posts and its figure; every math block of
those posts renders in KaTeX; and examples/output is what `python examples/build.py` makes now."""

from __future__ import annotations

import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted(p for p in (ROOT / "examples").glob("[a-z]*.py") if p.name != "build.py")
OUTPUT = ROOT / "examples" / "output"


def test_there_is_an_example_per_reference_case():
    names = {p.stem for p in EXAMPLES}
    assert {"scalar_to_scalar", "vector_to_scalar", "vector_to_vector", "batched_matrices", "relu",
            "mlp_softmax_cross_entropy", "attention_head"} <= names


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_writes_posts(script, tmp_path, katex):
    done = subprocess.run([sys.executable, str(script), str(tmp_path)], capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    posts = sorted(tmp_path.glob("*.md"))
    assert posts and {p.name.split(".")[1] for p in posts} == {"en", "ko"}
    for post in posts:
        text = post.read_text()
        assert text.startswith("---\ntitle:") and "math: true" in text
        svg = post.name.split(".")[0] + ".svg"
        assert f"]({svg})" in text  # linked even when it could not be drawn
        for block in re.findall(r"^\$\$\n(.*?)\n\$\$$", text, flags=re.DOTALL | re.MULTILINE):
            assert katex.render(block) is None, (post.name, block, katex.render(block))


def _svg_texts(path: Path) -> list[str]:
    """The text of a figure, in order: what a reader sees, whatever Graphviz laid it out."""
    root = ET.parse(path).getroot()
    return ["".join(t.itertext()) for t in root.iter() if t.tag.endswith("text")]


def test_examples_output_is_current(tmp_path):
    done = subprocess.run([sys.executable, str(ROOT / "examples" / "build.py"), str(tmp_path)],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    fresh = sorted(p.name for p in tmp_path.iterdir())
    committed = sorted(p.name for p in OUTPUT.iterdir())
    hint = "examples/output is stale: run python examples/build.py"
    assert fresh == committed, hint
    for name in fresh:
        if name.endswith(".md"):
            assert (tmp_path / name).read_text() == (OUTPUT / name).read_text(), (hint, name)
        elif name.endswith(".svg"):
            assert _svg_texts(tmp_path / name) == _svg_texts(OUTPUT / name), (hint, name)
