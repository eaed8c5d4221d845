"""Every example runs, writes its English and Korean posts and its figure, and every math block
of those posts renders in KaTeX."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted(p for p in (Path(__file__).parent.parent / "examples").glob("[a-z]*.py"))


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
    if shutil.which("dot"):
        assert sorted(tmp_path.glob("*.svg"))
    for post in posts:
        text = post.read_text()
        assert text.startswith("---\ntitle:") and "math: true" in text
        for block in re.findall(r"\$\$\n(.*?)\n\$\$", text, flags=re.DOTALL):
            assert katex.render(block) is None, (post.name, block, katex.render(block))
