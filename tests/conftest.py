import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.fixture(scope="session")
def katex():
    """A KaTeX renderer: katex.render(source) is None when it renders, else the error."""
    from katex_util import start_katex

    renderer = start_katex()
    yield renderer
    renderer.close()
