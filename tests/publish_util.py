"""Render posts the way a reader's blog does, for the tests: Markdown through kramdown (Debian's
ruby-kramdown with the GFM parser, configured as Jekyll configures it), then typeset by MathJax 3
(npm, served from local files) in headless Chromium (Debian's, driven by Playwright).

``.ci/run`` installs all of it. Without a tool the browser tests skip, except in CI (CI=true),
where a missing tool is a failure.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("MATCALC_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

# Jekyll's kramdown defaults (jekyll/lib/jekyll/configuration.rb), GFM input as Jekyll uses.
KRAMDOWN = ('require "kramdown"; require "kramdown-parser-gfm"; '
            'puts Kramdown::Document.new(STDIN.read, input: "GFM", hard_wrap: false, '
            'auto_ids: true, math_engine: "mathjax", entity_output: "as_char", '
            'smart_quotes: "lsquo,rsquo,ldquo,rdquo", syntax_highlighter: nil).to_html')

# The MathJax configuration of the Chirpy theme (assets/js/data/mathjax.js), made strict: an
# undefined macro is an error instead of red text.
PAGE = """<!doctype html>
<html><head><meta charset="utf-8">
<script>
window.MathJax = {{
  tex: {{
    inlineMath: [['$', '$'], ['\\\\(', '\\\\)']],
    displayMath: [['$$', '$$'], ['\\\\[', '\\\\]']],
    tags: 'ams',
    packages: {{'[-]': ['noundefined']}}
  }},
  startup: {{typeset: true}}
}};
</script>
<script src="{mathjax}"></script>
</head><body style="width: 760px">{body}</body></html>
"""

COLLECT = """async () => {
  await MathJax.startup.promise;
  const items = [];
  for (const item of MathJax.startup.document.math) {
    const tables = [], errors = [];
    const stack = [item.root];
    while (stack.length) {
      const node = stack.pop();
      if (node.isKind('merror')) errors.push(MathJax.startup.toMML(node));
      if (node.isKind('mtable')) {
        tables.push(node.childNodes
          .filter(r => r.isKind('mtr') || r.isKind('mlabeledtr'))
          .map(r => r.childNodes.filter(c => c.isKind('mtd')).length));
      }
      const kids = node.childNodes || [];
      for (let i = kids.length - 1; i >= 0; i--) if (kids[i]) stack.push(kids[i]);
    }
    items.push({tex: item.math, display: item.display, tables, errors});
  }
  const clone = document.body.cloneNode(true);
  clone.querySelectorAll('mjx-container, pre, code, script, summary').forEach(e => e.remove());
  return {items, leftover: clone.textContent};
}"""


def _mathjax() -> Path | None:
    for base in [os.environ.get("MATCALC_MATHJAX_DIR"), str(ROOT / ".ci" / "node" / "node_modules")]:
        if base and (Path(base) / "mathjax" / "es5" / "tex-chtml.js").is_file():
            return Path(base) / "mathjax" / "es5" / "tex-chtml.js"
    return None


def missing_tools() -> list[str]:
    """What the browser tests need and this machine lacks."""
    missing = []
    if shutil.which("ruby") is None or subprocess.run(
            ["ruby", "-e", 'require "kramdown"; require "kramdown-parser-gfm"'],
            capture_output=True, check=False).returncode != 0:
        missing.append("kramdown with its GFM parser (Debian: ruby-kramdown, "
                       "ruby-kramdown-parser-gfm)")
    if not Path(CHROMIUM).is_file():
        missing.append(f"Chromium ({CHROMIUM}; Debian: chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("Playwright for Python (pip install playwright)")
    if _mathjax() is None:
        missing.append("MathJax 3 (npm, see .ci/run)")
    return missing


def require_tools() -> None:
    """Skip (or, in CI, fail) when a tool is missing."""
    missing = missing_tools()
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail("the browser tests need: " + "; ".join(missing))
        pytest.skip("missing: " + "; ".join(missing))


def strip_front_matter(markdown: str) -> str:
    """The post without its YAML front matter, as Jekyll hands it to kramdown."""
    if markdown.startswith("---\n"):
        end = markdown.index("\n---\n", 4)
        return markdown[end + 5:]
    return markdown


def kramdown(markdown: str) -> str:
    """HTML from kramdown, configured as Jekyll configures it."""
    done = subprocess.run(["ruby", "-e", KRAMDOWN], input=strip_front_matter(markdown),
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


@dataclass
class Typeset:
    """What MathJax made of a page: its math items (TeX, display?, tables, errors) and the text
    left outside math (where untypeset TeX would show)."""

    items: list[dict]
    leftover: str


class Browser:
    """One headless Chromium, one page per document."""

    def __init__(self, driver: Any = None) -> None:
        from playwright.sync_api import sync_playwright

        self._tmp = tempfile.TemporaryDirectory()
        self._own = driver is None  # a driver shared by the session is stopped by its fixture
        self._pw = sync_playwright().start() if driver is None else driver
        self._ctx = self._pw.chromium.launch_persistent_context(
            str(Path(self._tmp.name) / "profile"), executable_path=CHROMIUM, args=CHROMIUM_ARGS,
            headless=True)
        self._count = 0

    def typeset(self, html_body: str) -> Typeset:
        """Load the body in a page with MathJax and collect what it typeset."""
        mathjax = _mathjax()
        assert mathjax is not None
        self._count += 1
        page_path = Path(self._tmp.name) / f"page{self._count}.html"
        page_path.write_text(PAGE.format(mathjax=mathjax.as_uri(), body=html_body),
                             encoding="utf-8")
        page = self._ctx.new_page()
        try:
            page.goto(page_path.as_uri())
            result = page.evaluate(COLLECT)
        finally:
            page.close()
        return Typeset(result["items"], result["leftover"])

    def close(self) -> None:
        self._ctx.close()
        if self._own:
            self._pw.stop()
        self._tmp.cleanup()


# --- what the Markdown meant -----------------------------------------------------------------------

def math_spans(markdown: str, target: str = "jekyll") -> list[tuple[str, bool]]:
    """(TeX, display?) for every math span of a post, in order, as its author wrote them."""
    body = strip_front_matter(markdown)
    body = re.sub(r"```.*?```", "", body, flags=re.DOTALL)  # code blocks hold no math
    spans: list[tuple[str, bool]] = []
    inline = {"jekyll": r"\$\$(.+?)\$\$", "hugo": r"\\\((.+?)\\\)", "plain": r"\$([^$]+?)\$"}
    lines = body.split("\n")
    i = 0
    while i < len(lines):
        if lines[i] == "$$":
            end = lines.index("$$", i + 1)
            spans.append(("\n".join(lines[i + 1:end]), True))
            i = end + 1
            continue
        spans += [(m, False) for m in re.findall(inline[target], lines[i])]
        i += 1
    return spans


def table_shapes(tex: str) -> list[list[int]]:
    """Rows and cells of every environment (aligned, bmatrix, …) in TeX, outermost first, as
    MathJax's tables: [cells in row 1, cells in row 2, …] per environment."""
    tokens = re.findall(r"\\begin\{(\w+)\}|\\end\{(\w+)\}|(\\\\)|(&)", tex)
    tables: list[list[int]] = []
    stack: list[int] = []  # indices into tables
    for begin, end, newline, amp in tokens:
        if begin:
            tables.append([1])
            stack.append(len(tables) - 1)
        elif end:
            stack.pop()
        elif newline and stack:
            tables[stack[-1]].append(1)
        elif amp and stack:
            tables[stack[-1]][-1] += 1
    return tables


def assert_renders(browser: Browser, markdown: str, name: str) -> Typeset:
    """The post through kramdown and MathJax: no math errors, no TeX left untypeset, every math
    span typeset as written (display or inline), every table with its rows and columns."""
    result = browser.typeset(kramdown(markdown))
    expected = math_spans(markdown, "jekyll")
    errors = [(i["tex"], i["errors"]) for i in result.items if i["errors"]]
    assert not errors, (name, errors)
    assert len(result.items) == len(expected), (name, len(result.items), len(expected),
                                                [i["tex"] for i in result.items][:5])
    for (tex, display), item in zip(expected, result.items):
        assert item["display"] == display, (name, tex, item)
        assert item["tables"] == table_shapes(tex), (name, tex, item["tables"])
        if item["tables"]:
            assert display, (name, "rows broken in inline math", tex)
    for marker in ("\\frac", "\\begin", "$$", "\\(", "\\[", "\\mathbb"):
        assert marker not in result.leftover, (name, marker, result.leftover[:500])
    return result


def dump(result: Typeset) -> str:
    """The typeset items as JSON, for a failing assertion's message."""
    return json.dumps(result.items, indent=1)[:2000]
