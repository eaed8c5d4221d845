"""``matcalc explain``: its options and how a post, its figure and its link are written."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .cli_args import parse_values as parse_value_options
from .errors import FigureError, InputError
from .publish import HUGO_NOTE, TARGETS, check_line, figure_url

__all__ = ["add_arguments", "run_explain"]


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``matcalc explain`` (after the program and --shape)."""
    p.add_argument("--wrt", action="append", metavar="NAME", help="variables (default: all inputs)")
    p.add_argument("--lang", choices=["en", "ko"], default="en")
    p.add_argument("--format", choices=["markdown", "latex"], default="markdown")
    p.add_argument("--target", choices=list(TARGETS), default="jekyll",
                   help="where the post is published: jekyll (kramdown; the default), hugo "
                        "(Goldmark with its passthrough extension) or plain Markdown (GitHub, "
                        "Jupyter, Pandoc); they differ in how math is delimited")
    p.add_argument("--front-matter", action="store_true",
                   help="begin with YAML front matter (title, date, categories, tags, math: true); "
                        "the title is then left to the theme")
    p.add_argument("--title", help="the document's title")
    p.add_argument("--date", metavar="YYYY-MM-DD", help="the front matter's date (default: today)")
    p.add_argument("--categories", action="append", metavar="A,B",
                   help="front matter categories (repeatable; implies --front-matter)")
    p.add_argument("--tags", action="append", metavar="A,B",
                   help="front matter tags (repeatable; implies --front-matter)")
    p.add_argument("--values", metavar="x=-2,y=5",
                   help="numbers for a worked example (scalar inputs)")
    p.add_argument("--value", action="append", metavar="NAME=JSON",
                   help="an array for a worked example, e.g. W=[[1,2],[3,4]] (repeatable)")
    p.add_argument("--node", action="store_true",
                   help="treat the result as one node of a larger network: its upstream "
                        "gradient dL/dY is a symbol (automatic for a non-scalar result)")
    p.add_argument("--exercise", action="append", metavar="NAME",
                   help="leave the gradient by NAME to the reader: the post ends with an "
                        "exercise, the command that checks an answer, and the answer folded "
                        "away (repeatable)")
    p.add_argument("--figure", metavar="FILE",
                   help="also draw the computational graph into FILE (.svg, .png, .pdf)")
    p.add_argument("--figure-url", metavar="URL",
                   help="what the post links to for the figure, e.g. /assets/img/graph.svg "
                        "(default: worked out from --figure and --output)")
    p.add_argument("--output", metavar="FILE", help="write the document here (default: stdout)")


def _front(args: argparse.Namespace) -> dict[str, Any] | bool:
    wanted = args.front_matter or args.categories or args.tags
    if not wanted:
        return False
    front: dict[str, Any] = {}
    if args.title:
        front["title"] = args.title
    if args.date:
        import datetime as dt

        try:
            front["date"] = dt.date.fromisoformat(args.date)
        except ValueError:
            raise InputError(f"--date {args.date!r}: expected YYYY-MM-DD") from None
    if args.categories:
        front["categories"] = args.categories
    if args.tags:
        front["tags"] = args.tags
    return front or True


def run_explain(args: argparse.Namespace, program: Callable[..., Any]) -> int:
    """Write the post (and its figure); the exit code."""
    from .explain import Figure, derive, render
    from .figure import check_path, draw

    if args.figure is not None:  # a bad path is refused before anything is written
        check_path(args.figure)
    if args.figure_url is not None:
        check_line(args.figure_url, "--figure-url")
    if args.output is not None:
        check_output(args.output)
    values = parse_values(args)
    scalars = {k: (1, 1) for k, v in (values or {}).items() if isinstance(v, float)}
    result = program(args, scalars)  # a name given a number is a scalar unless declared
    exercise = list(args.exercise or [])
    d = derive(result, args.wrt, values, node=args.node, exclude=exercise)
    figure = None
    problem: FigureError | None = None
    notes = []
    if args.figure or args.figure_url:
        if args.figure_url:
            url, guessed = args.figure_url, False
        else:
            url, guessed = figure_url(args.figure, args.output, args.target)
        if guessed:
            notes.append(f"note: the post links the figure as {url!r}; give --figure-url with "
                         f"the URL your site serves it at")
        missing = None
        if args.figure:
            try:
                draw(result, Path(args.figure), values if result.is_scalar else None)
            except FigureError as exc:
                problem, missing = exc, str(exc)
        figure = Figure(url, with_values=values is not None and result.is_scalar,
                        scalar_graph=all(x.is_scalar for x in d.inputs), missing=missing,
                        encoded=bool(args.figure_url))
    source = getattr(args, "program", None)
    text = render(d, lang=args.lang, fmt=args.format, front_matter=_front(args),
                  title=args.title, figure=figure, target=args.target, exercise=exercise,
                  program=source)
    if args.output:
        write_text(Path(args.output), text)
    else:
        sys.stdout.write(text)
    if args.target == "hugo" and args.format == "markdown":
        notes.append("note: " + HUGO_NOTE)
    for note in notes:
        print(note, file=sys.stderr)
    if problem is not None:
        raise FigureError(f"{problem.message} The post links it as {figure.url if figure else ''}"
                          f" all the same.")
    return 0


def parse_values(args: argparse.Namespace) -> dict[str, Any] | None:
    """The worked example's values from --values and --value."""
    return parse_value_options(args.values, args.value)


def check_output(name: str) -> Path:
    """The file --output names: one line, not a folder (InputError otherwise)."""
    check_line(name, "--output")
    if not name.strip() or name.endswith(("/", os.sep)) or Path(name).is_dir():
        raise InputError(f"--output {name!r} is a folder; give a file name such as post.md")
    return Path(name)


def write_text(path: Path, text: str) -> None:
    """Write a file the user named, its folder made; an InputError (not a traceback) if it fails."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror or exc}") from None
