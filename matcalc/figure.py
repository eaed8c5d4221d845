"""Computational-graph figures in the style of CS231n lecture 4: operations as nodes, values on
edges — the forward value above each edge (green), the gradient below it (red) — and names and
shapes on the edges of matrix graphs.

The ``graphviz`` package writes the DOT source; Graphviz lays it out and draws it: the system's
``dot`` program when there is one, else the Graphviz bundled in the ``pygraphviz`` wheel
(``pip install 'matcalc-symbolic[figures]'``), so that pip alone can draw figures. A figure is
laid out left to right like the lecture's, unless its text would then be too small in a blog's
column (700–860 px wide): then top to bottom.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .dims import shape_str
from .errors import FigureError, InputError
from .expr import Expr, toposort
from .latexnames import GREEK, LAMBDA_NAME, is_regular
from .publish import check_line
from .render import to_text

__all__ = ["COLUMN_PX", "FigureError", "check_path", "draw", "graph_dot", "how_to_draw",
           "min_text_px", "render"]

GREEN, RED = "#1a7f37", "#cf222e"
COLUMN_PX = 760  # a typical blog column (Chirpy's is about 760 px at full width)
MIN_TEXT_PX = 11.0  # below this, a label is hard to read in the column

# How an op is drawn as a node; ops not listed are drawn by name.
SYMBOLS = {"add": "+", "sub": "−", "mul": "×", "div": "÷", "neg": "−", "matmul": "@",
           "transpose": "ᵀ", "pow": "^", "relu": "ReLU", "sigmoid": "σ", "step": "step",
           "sum": "Σ"}

_GREEK_CHARS = dict(zip(
    ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa",
     "lambda", "mu", "nu", "xi", "pi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi",
     "omega", "Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Phi", "Psi", "Omega"],
    "αβγδεζηθικλμνξπρστυφχψωΓΔΘΛΞΠΣΦΨΩ"))
_LETTER_DIGITS = re.compile(r"([A-Za-z]+?)([0-9]+)")


def _fmt(v: np.ndarray) -> str:
    if v.size == 1:
        return f"{float(v.reshape(-1)[0]):.4g}"
    return f"‖·‖={np.linalg.norm(v):.3g}"


def _escape(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _greek(word: str) -> str:
    """A word, or its Greek letter (alpha1 → α1)."""
    m = _LETTER_DIGITS.fullmatch(word)
    letters, digits = (m.group(1), m.group(2)) if m else (word, "")
    return _GREEK_CHARS.get(letters, letters) + digits if letters in GREEK else word


def html_name(name: str, size: int = 14) -> str:
    """A name as a Graphviz HTML label, spelled as in LaTeX (matcalc.latexnames): W_v →
    W<SUB>v</SUB>, W1 → W1, alpha → α, lam → λ; subscripts ``size`` points high."""
    if name == LAMBDA_NAME:
        return _GREEK_CHARS["lambda"]
    if not is_regular(name):
        return _escape(name)
    head, *parts = name.split("_")
    if not parts:
        return _escape(_greek(head))
    subs = ",".join(_GREEK_CHARS.get(p, p) if p in GREEK else p for p in parts)
    return (f'{_escape(_greek(head))}<SUB><FONT POINT-SIZE="{size}">{_escape(subs)}</FONT>'
            f"</SUB>")


def _values(nodes: list[Expr], expr: Expr, values: Mapping[str, Any] | None
            ) -> tuple[dict[Expr, np.ndarray], dict[Expr, np.ndarray]]:
    """Forward values of every node and, for a scalar result, gradients."""
    from .diff import backward
    from .evaluate import evaluate_many
    from .ops import const

    if values is None:
        return {}, {}
    forward = dict(zip(nodes, evaluate_many(nodes, values)))
    gradient: dict[Expr, np.ndarray] = {}
    if expr.is_scalar:
        cots = backward(expr, const(1), nodes)
        present = [(n, c) for n, c in zip(nodes, cots) if c is not None]
        evaluated = evaluate_many([c for _, c in present], values) if present else []
        gradient = {n: v for (n, _), v in zip(present, evaluated)}
    return forward, gradient


def graph_dot(expr: Expr, values: Mapping[str, Any] | None = None, title: str = "",
              rankdir: str = "LR") -> str:
    """DOT source for expr's computational graph; with values, forward values and gradients."""
    import graphviz

    nodes = toposort([expr])
    forward, gradient = _values(nodes, expr, values)
    font = "Helvetica"
    dot = graphviz.Digraph("matcalc", graph_attr={"rankdir": rankdir, "label": title,
                                                  "labelloc": "t", "fontname": font,
                                                  "nodesep": "0.3", "ranksep": "0.45"},
                           node_attr={"fontname": font, "fontsize": "18"},
                           edge_attr={"fontname": font, "fontsize": "16"})
    ids: dict[Expr, str] = {}
    drawn = [n for n in nodes if n.op.name != "named"]

    def target(n: Expr) -> Expr:  # named nodes are drawn as labels on the edge they name
        while n.op.name == "named":
            n = n.args[0]
        return n

    for i, n in enumerate(drawn):
        ids[n] = f"n{i}"
        if not n.args:
            name = n.get("name")
            label = f"<{html_name(name, 15)}>" if name else to_text(n)
            dot.node(ids[n], label=label, shape="plaintext", fontsize="20")
        else:
            text = SYMBOLS.get(n.op.name, n.op.name)
            shape = "circle" if len(text) <= 2 else "box"  # long names in rounded boxes
            dot.node(ids[n], label=text, shape=shape, style="rounded", width="0.5")
    names: dict[Expr, str] = {target(n): n.get("name") for n in nodes if n.op.name == "named"}
    scalar_graph = all(x.is_scalar for x in drawn)
    dot.node("out", label="", shape="point", width="0.05")
    edges = [(a, n) for n in drawn for a in n.args] + [(expr, None)]
    for child, parent in edges:
        source = target(child)
        parts = []
        head = html_name(names[source], 12) if source in names else ""
        if not scalar_graph:
            head = (head + "&#160;" if head else "") + _escape(shape_str(source.shape))
        if head:
            parts.append(head)
        if source in forward:
            parts.append(f'<font color="{GREEN}">{_escape(_fmt(forward[source]))}</font>')
        if source in gradient:
            parts.append(f'<font color="{RED}">{_escape(_fmt(gradient[source]))}</font>')
        label = "<" + "<br/>".join(parts) + ">" if parts else ""
        dot.edge(ids[source], "out" if parent is None else ids[parent], label=label)
    return str(dot.source)


def min_text_px(svg: str, column_px: float = COLUMN_PX) -> float:
    """The smallest text in an SVG, in CSS pixels, once the SVG is fitted to a column that wide
    (images shrink to the column, never grow)."""
    root = ET.fromstring(svg.encode("utf-8"))
    width_pt = float(re.sub(r"[a-z]+$", "", root.get("width", "0")) or 0)
    view = [float(v) for v in (root.get("viewBox") or "0 0 0 0").split()]
    if width_pt <= 0 or view[2] <= 0:
        raise FigureError("figure: the SVG has no width")
    width_px = width_pt * 4 / 3
    px_per_unit = min(width_px, column_px) / view[2]
    sizes = [float(t.get("font-size", "14")) for t in root.iter()
             if t.tag.endswith("text") and "".join(t.itertext()).strip()]
    return min(sizes, default=14.0) * px_per_unit


def how_to_draw(dot_path: str | Path, path: str | Path) -> str:
    """The commands that draw a figure from its DOT source."""
    fmt = Path(path).suffix.lstrip(".") or "svg"
    return (f"pip install 'matcalc-symbolic[figures]' (or install Graphviz, e.g. apt-get "
            f"install graphviz), then run: dot -T{fmt} {dot_path} -o {path}")


def _draw_bytes(dot_source: str, fmt: str) -> bytes:
    """Graphviz's drawing of a DOT source: the dot program, else pygraphviz's bundled Graphviz."""
    exe = shutil.which("dot")
    if exe is not None:
        done = subprocess.run([exe, f"-T{fmt}"], input=dot_source.encode("utf-8"),
                              capture_output=True, check=False)
        if done.returncode != 0:
            raise FigureError(f"figure: dot failed: {done.stderr.decode(errors='replace').strip()}")
        return done.stdout
    try:
        import pygraphviz
    except ImportError:
        raise FigureError("figure: Graphviz is not available (neither the dot program nor the "
                          "pygraphviz package)") from None
    try:
        data = pygraphviz.AGraph(string=dot_source).draw(format=fmt, prog="dot")
    except (OSError, ValueError) as exc:
        raise FigureError(f"figure: Graphviz (pygraphviz) failed: {exc}") from None
    return bytes(data)


def draw(expr: Expr, path: str | Path, values: Mapping[str, Any] | None = None,
         title: str = "", column_px: float = COLUMN_PX) -> Path:
    """Draw expr's graph to ``path`` (.svg, .png or .pdf), laid out to be readable in a column.

    On failure the DOT source is written beside ``path`` (``.dot``) and the FigureError says how
    to draw it.
    """
    if not isinstance(expr, Expr):
        raise InputError(f"figure: draw expects a matcalc expression, got {type(expr).__name__}")
    path = check_path(path)
    fmt = _format(path)
    _writable(path)
    if fmt == "dot":
        _write(path, graph_dot(expr, values, title))
        return path
    source = graph_dot(expr, values, title)
    try:
        svg = _draw_bytes(source, "svg")
        if min_text_px(svg.decode("utf-8"), column_px) < MIN_TEXT_PX:
            tall = graph_dot(expr, values, title, rankdir="TB")
            tall_svg = _draw_bytes(tall, "svg")
            if min_text_px(tall_svg.decode("utf-8"), column_px) > \
                    min_text_px(svg.decode("utf-8"), column_px):
                source, svg = tall, tall_svg
        _write(path, svg if fmt == "svg" else _draw_bytes(source, fmt))
    except FigureError as exc:
        raise _not_drawn(exc, path, source) from None
    return path


def check_path(path: object) -> Path:
    """A figure's file: one line (InputError for a line break or another control character), a
    file rather than a folder and a format matcalc draws (FigureError otherwise)."""
    if not isinstance(path, (str, os.PathLike)):
        raise InputError(f"figure: the path must be a file name, got {type(path).__name__}")
    text = check_line(os.fspath(path), "the figure's path")
    if not text.strip():
        raise FigureError("figure: give a file name such as graph.svg")
    if text.endswith(("/", os.sep)) or Path(text).is_dir():
        raise FigureError(f"figure: {text} is a folder; give a file name such as graph.svg")
    _format(Path(text))
    return Path(text)


def _writable(path: Path) -> None:
    """Make the figure's folder; a FigureError if it cannot be made."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FigureError(f"figure: cannot write {path}: {exc.strerror}") from None


def _write(path: Path, data: str | bytes) -> None:
    """Write a figure's file; a FigureError (not an OSError) if it cannot be written."""
    try:
        if isinstance(data, str):
            path.write_text(data, encoding="utf-8")
        else:
            path.write_bytes(data)
    except OSError as exc:
        raise FigureError(f"figure: cannot write {path}: {exc.strerror}") from None


def _not_drawn(exc: FigureError, path: Path, source: str) -> FigureError:
    """The error for a figure Graphviz could not draw, once its DOT source is written beside it
    (``.dot``), saying how to draw that."""
    dot_path = path.with_suffix(".dot")
    _write(dot_path, source)
    return FigureError(f"{exc.message}; {path.name} was not drawn. The graph's DOT source is in "
                       f"{dot_path}: {how_to_draw(dot_path, path)}")


def _format(path: Path) -> str:
    fmt = path.suffix.lstrip(".").lower() or "svg"
    if fmt not in ("svg", "png", "pdf", "dot"):
        raise FigureError(f"figure: unsupported format {fmt!r}; use .svg, .png, .pdf or .dot")
    return fmt


def render(dot_source: str, path: str | Path) -> list[Path]:
    """Draw a DOT source to ``path`` (.svg, .png or .pdf, by its suffix; .dot writes the source).

    Without Graphviz, writes the .dot source beside ``path`` and raises FigureError saying how to
    draw it.
    """
    path = check_path(path)
    fmt = _format(path)
    _writable(path)
    if fmt == "dot":
        _write(path, dot_source)
        return [path]
    try:
        _write(path, _draw_bytes(dot_source, fmt))
    except FigureError as exc:
        raise _not_drawn(exc, path, dot_source) from None
    return [path]
