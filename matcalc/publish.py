"""What a post needs to be right where it is published: math delimiters per publisher, front
matter from a YAML emitter, and figure links that work on the post's URL.

Publishers differ in one thing that matters to math: what their Markdown engine does to it.

* ``jekyll`` (kramdown, Jekyll's engine, with MathJax or KaTeX): ``$$…$$`` is kramdown's own
  math syntax, kept verbatim — on a line of its own a display block, inside a paragraph inline
  math (kramdown writes ``\\(…\\)`` for it). A single ``$`` is not math to kramdown: it would
  rewrite ``\\\\`` to ``\\``, quotes and dashes inside it.
* ``hugo`` (Goldmark): math survives only through Goldmark's passthrough extension (see
  docs/guide.md); inline ``\\(…\\)`` and display ``$$…$$`` are its usual delimiters.
* ``plain`` (GitHub, GitLab, Jupyter, Pandoc, Obsidian): inline ``$…$``, display ``$$…$$``.

Everything with row breaks (aligned steps, matrices of worked values) is a display block in
every target, and inline math never holds a row break.
"""

from __future__ import annotations

import datetime as _dt
import posixpath
import re
import urllib.parse
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from .errors import InputError

__all__ = ["HUGO_NOTE", "TARGETS", "check_line", "display_math", "figure_url", "front_matter",
           "inline_math", "latex_text", "link_url"]

TARGETS = ("jekyll", "hugo", "plain")

_INLINE = {"jekyll": ("$$", "$$"), "hugo": ("\\(", "\\)"), "plain": ("$", "$"),
           "latex": ("$", "$")}

HUGO_NOTE = ("This post's math needs Hugo's Goldmark passthrough extension "
             "(markup.goldmark.extensions.passthrough, delimiters $$…$$ and \\(…\\)); "
             "see matcalc's guide, 'Publishing on Hugo'.")

DEFAULT_CATEGORIES = ("Deep Learning",)
DEFAULT_TAGS = ("backpropagation", "matrix calculus")


# line breaks and other control characters (C0, DEL, C1, Unicode's line and paragraph separators)
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_LATEX_SPECIAL = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&",
                  "#": r"\#", "^": r"\textasciicircum{}", "_": r"\_", "%": r"\%",
                  "~": r"\textasciitilde{}"}
# what a link keeps as it is: a URL's own punctuation (not spaces, quotes, <, >, parentheses)
_URL_SAFE = "/:@!$&+,;=~?#"
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")  # javascript:, data:, file: …


def check_line(text: object, what: str) -> str:
    """text if it is one line of text; InputError for anything else (a line break would start a
    new front-matter key, a new Markdown block or, in LaTeX, end a comment)."""
    if not isinstance(text, str):
        raise InputError(f"{what} must be text, got {type(text).__name__}")
    bad = _CONTROL.search(text)
    if bad is not None:
        raise InputError(f"{what} must be one line without control characters, but it holds "
                         f"{bad.group()!r} at position {bad.start()}: {text!r:.80}")
    return text


def latex_text(text: str) -> str:
    """Plain text in a LaTeX document: every character LaTeX would read as markup escaped
    (\\input{x} is printed, not run)."""
    return "".join(_LATEX_SPECIAL.get(c, c) for c in text)


def link_url(url: str, encoded: bool = False) -> str:
    """A URL as a Markdown link's target: spaces, quotes, <, > and parentheses percent-encoded,
    so that no path can end the link or open HTML. ``encoded``: the URL's own % escapes are
    kept (a URL the author gave), else % is a character of a file name."""
    check_line(url, "a figure's URL")
    scheme = _SCHEME.match(url)
    if scheme is not None and scheme.group(1).lower() not in ("http", "https") and not \
            url.startswith("data:image/"):  # an image embedded whole (an <img> runs no script)
        if encoded:  # an author's URL: only the web's own schemes are links to a figure
            raise InputError(f"a figure's URL must be http, https, an image's data: URL or a "
                             f"path, not {url!r:.80}")
        url = "./" + url  # a file whose name has a colon: a relative link, never a scheme
    return urllib.parse.quote(url, safe=_URL_SAFE + ("%" if encoded else ""))


def check_target(target: str) -> str:
    """The target, or an InputError naming the ones there are."""
    if target not in TARGETS:
        raise InputError(f"explain: target must be one of {', '.join(TARGETS)}, got {target!r}")
    return target


def inline_math(tex: str, target: str) -> str:
    """Inline math for a target; the formula must fit on one line and hold no row break."""
    if "\n" in tex or r"\\" in tex:
        raise InputError(f"inline math cannot hold a row break: {tex!r}")  # a bug, not input
    left, right = _INLINE[target]
    return left + tex + right


def display_math(tex: str, target: str) -> list[str]:
    """The lines of a display block (blank lines around it are the caller's)."""
    if target == "latex":
        return [r"\[", tex, r"\]"]
    return ["$$", tex, "$$"]


def _yaml_list(value: str | Sequence[str] | None, default: Sequence[str]) -> list[str]:
    if value is None:
        return list(default)
    if not isinstance(value, (str, list, tuple)):
        raise InputError(f"front matter: categories and tags must be text or a list of text, "
                         f"got {type(value).__name__}")
    items = [value] if isinstance(value, str) else list(value)
    return [check_line(s.strip(), "a category or tag") for item in items
            for s in str(item).split(",") if s.strip()]


def front_matter(title: str, target: str, options: Mapping[str, Any] | None = None) -> str:
    """YAML front matter written by a YAML emitter (any one-line title is valid YAML; a line
    break is refused). Text is kept as given: the emitter quotes what YAML would read otherwise
    (``&a``, ``*a``, ``: ``, quotes), and a theme escapes the title where it puts it into HTML
    (Jekyll's ``| escape``, Hugo's templates), so entities written here would show as ``&amp;``
    there."""
    import yaml

    opts = dict(options or {})
    data: dict[str, Any] = {"title": check_line(str(opts.pop("title", title)), "the title")}
    date = opts.pop("date", None) or _dt.date.today()
    data["date"] = date if isinstance(date, _dt.date) else check_line(str(date), "the date")
    data["categories"] = _yaml_list(opts.pop("categories", None), DEFAULT_CATEGORIES)
    data["tags"] = _yaml_list(opts.pop("tags", None), DEFAULT_TAGS)
    data["math"] = bool(opts.pop("math", True))
    data.update(opts)  # anything else the author asked for, as given
    body = str(yaml.safe_dump(data, allow_unicode=True, sort_keys=False, default_flow_style=None,
                          width=1000))
    note = "# " + HUGO_NOTE + "\n" if target == "hugo" else ""
    return "---\n" + note + body + "---\n"


def _site_relative(figure: Path, marker: str) -> str | None:
    """/path of figure below the folder that holds ``marker`` (a site's root or static folder)."""
    for parent in figure.parents:
        if parent.name == marker:
            return "/" + figure.relative_to(parent).as_posix()
    return None


def figure_url(figure: str | Path, output: str | Path | None, target: str) -> tuple[str, bool]:
    """What a post links to for a figure file, and whether that is a guess.

    Never a filesystem path: a figure in the post's folder (or below it) is linked relatively —
    this works for a Hugo page bundle and on GitHub; for Jekyll, a post in ``_posts/`` links
    ``/…`` from the site's root; for Hugo, a figure under ``static/`` links ``/…`` from there.
    Anything else links the file's name alone, and the caller should say that it is a guess
    (``--figure-url`` gives the URL).
    """
    fig = Path(figure).resolve()
    if output is not None:
        out_dir = Path(output).resolve().parent
        if target == "jekyll" and out_dir.name == "_posts":
            try:
                return "/" + fig.relative_to(out_dir.parent).as_posix(), False
            except ValueError:
                pass
        if target == "hugo":
            url = _site_relative(fig, "static")
            if url is not None:
                return url, False
        try:
            return fig.relative_to(out_dir).as_posix(), False
        except ValueError:
            pass
    elif not Path(figure).is_absolute():
        rel = PurePosixPath(Path(figure).as_posix())
        if ".." not in rel.parts:
            return posixpath.normpath(str(rel)), False
    return fig.name, True
