"""Shared by the examples: write a derivation as an English and a Korean Markdown post, with its
computational-graph figure, into examples/output/ (or the folder given as the first argument)."""

from __future__ import annotations

import sys
from pathlib import Path

import matcalc as mc
from matcalc.explain import derive, render
from matcalc.figure import FigureError, graph_dot
from matcalc.figure import render as draw


def write_post(slug: str, program: str, shapes: dict, title: dict, values=None, node=False,
               wrt=None) -> list[Path]:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent / "output"
    out.mkdir(parents=True, exist_ok=True)
    expr = mc.parse(program, shapes)
    figure = out / f"{slug}.svg"
    written = []
    try:
        written += draw(graph_dot(expr, values if (values and expr.is_scalar) else None), figure)
    except FigureError as exc:  # no Graphviz: the posts are still written, without the figure
        print(f"note: {exc}", file=sys.stderr)
        figure = None
    d = derive(expr, wrt, values, node=node)
    for lang in ("en", "ko"):
        path = out / f"{slug}.{lang}.md"
        path.write_text(render(d, lang=lang, front_matter={"title": title[lang]},
                               title=title[lang], figure=figure.name if figure else None),
                        encoding="utf-8")
        written.append(path)
    for p in written:
        print(p)
    return written
