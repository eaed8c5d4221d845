"""Derivation documents (the Markdown that :func:`matcalc.explain` writes) as HTML for the page.

markdown-it-py renders the Markdown; its dollarmath plugin keeps every ``$…$`` and ``$$…$$`` as an
escaped ``<span class="math inline">`` or ``<div class="math block">``, which the page typesets with
the KaTeX shipped in the package. The documents' only raw HTML is the ``<details>`` around a worked
example; every name in them comes from a parsed program.
"""

from __future__ import annotations

from functools import cache

from markdown_it import MarkdownIt
from mdit_py_plugins.dollarmath import dollarmath_plugin


@cache
def _renderer() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": True})
    return md.use(dollarmath_plugin, double_inline=True).enable("table")


def strip_front_matter(text: str) -> str:
    """The document without a leading ``---`` … ``---`` block."""
    if text.startswith("---\n"):
        end = text.find("\n---\n", 4)
        if end != -1:
            return text[end + 5:]
    return text


def derivation_html(markdown: str) -> str:
    """HTML for a derivation document, its math left as TeX for the page to typeset."""
    html: str = _renderer().render(strip_front_matter(markdown))
    return html
