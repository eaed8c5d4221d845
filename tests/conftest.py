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
def playwright_driver():
    """One Playwright driver for the session: its sync API runs one at a time in a thread."""
    from playwright.sync_api import sync_playwright

    driver = sync_playwright().start()
    yield driver
    driver.stop()


@pytest.fixture(scope="session")
def browser(request):
    """Headless Chromium with MathJax, for posts rendered through kramdown (see publish_util)."""
    from publish_util import Browser, require_tools

    require_tools()
    b = Browser(request.getfixturevalue("playwright_driver"))
    yield b
    b.close()
