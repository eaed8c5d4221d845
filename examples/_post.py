"""Shared by the examples: write a derivation as an English and a Korean post for a Jekyll blog
(kramdown + MathJax, the reference post's setup), with its computational-graph figure, into
examples/output/ (or the folder given as the first argument).

Regenerate every example's output with one command: ``python examples/build.py``.
"""

from __future__ import annotations

import datetime
import sys
from pathlib import Path

import matcalc as mc
from matcalc.errors import FigureError
from matcalc.explain import Figure, derive, render
from matcalc.figure import draw

# A fixed date keeps the committed posts reproducible (tests/test_examples.py rebuilds them).
DATE = datetime.date(2026, 11, 27)


def write_post(slug: str, program: str, shapes: dict, title: dict, values=None, node=False,
               wrt=None, exercise=()) -> list[Path]:
    """Write <slug>.en.md, <slug>.ko.md and <slug>.svg; return their paths."""
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent / "output"
    out.mkdir(parents=True, exist_ok=True)
    expr = mc.parse(program, shapes)
    path = out / f"{slug}.svg"
    written = []
    with_values = bool(values) and expr.is_scalar
    try:
        written.append(draw(expr, path, values if with_values else None))
        figure = Figure(path.name, with_values=with_values, scalar_graph=expr.is_scalar and all(
            s.is_scalar for s in mc.toposort([expr])))
    except FigureError as exc:  # no Graphviz: the posts still link the figure and say why
        print(f"note: {exc}", file=sys.stderr)
        figure = Figure(path.name, with_values=with_values, missing=str(exc))
    d = derive(expr, wrt, values, node=node, exclude=exercise)
    source = "; ".join(line.strip() for line in program.strip().splitlines())
    for lang in ("en", "ko"):
        post = out / f"{slug}.{lang}.md"
        post.write_text(render(d, lang=lang, target="jekyll", figure=figure, exercise=exercise,
                               program=source,
                               front_matter={"title": title[lang], "date": DATE}),
                        encoding="utf-8")
        written.append(post)
    for p in written:
        print(p)
    return written
