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


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium with MathJax, for posts rendered through kramdown (see publish_util)."""
    from publish_util import Browser, require_tools

    require_tools()
    b = Browser()
    yield b
    b.close()
