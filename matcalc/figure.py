"""Computational-graph figures in the style of CS231n lecture 4: operations as nodes, values on
edges — the forward value above each edge (green), the gradient below it (red) — and shapes on the
edges of matrix graphs. Layout by Graphviz (the ``graphviz`` package writes DOT; ``dot`` draws it).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Mapping

import numpy as np

from .dims import shape_str
from .errors import MatcalcError
from .expr import Expr, toposort

GREEN, RED = "#1a7f37", "#cf222e"

# How an op is drawn as a node; ops not listed are drawn by name.
SYMBOLS = {"add": "+", "sub": "−", "mul": "×", "div": "÷", "neg": "−", "matmul": "@",
           "transpose": "ᵀ", "pow": "^", "relu": "ReLU", "sigmoid": "σ", "step": "𝟙[·>0]",
           "sum": "Σ"}


class FigureError(MatcalcError):
    """A figure that cannot be drawn (Graphviz's dot program is missing, or it failed)."""


def _fmt(v: np.ndarray) -> str:
    if v.size == 1:
        return f"{float(v.reshape(-1)[0]):.4g}"
    return f"‖·‖={np.linalg.norm(v):.3g}"


def _escape(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def graph_dot(expr: Expr, values: Mapping[str, np.ndarray] | None = None, title: str = "") -> str:
    """DOT source for expr's computational graph; with values, forward values and gradients."""
    import graphviz

    from .diff import backward
    from .evaluate import evaluate_many
    from .ops import const

    nodes = toposort([expr])
    forward: dict[Expr, np.ndarray] = {}
    gradient: dict[Expr, np.ndarray] = {}
    if values is not None:
        forward = dict(zip(nodes, evaluate_many(nodes, values)))
        if expr.is_scalar:
            cots = backward(expr, const(1), nodes)
            present = [(n, c) for n, c in zip(nodes, cots) if c is not None]
            evaluated = evaluate_many([c for _, c in present], values) if present else []
            gradient = {n: v for (n, _), v in zip(present, evaluated)}
    dot = graphviz.Digraph("matcalc", graph_attr={"rankdir": "LR", "label": title, "labelloc": "t",
                                                  "fontname": "Helvetica"},
                           node_attr={"fontname": "Helvetica"}, edge_attr={"fontname": "Helvetica"})
    ids: dict[Expr, str] = {}
    drawn = [n for n in nodes if n.op.name != "named"]

    def target(n: Expr) -> Expr:  # named nodes are drawn as labels on the edge they name
        while n.op.name == "named":
            n = n.args[0]
        return n

    for i, n in enumerate(drawn):
        ids[n] = f"n{i}"
        if not n.args:
            label = n.get("name") or n.op.text(n)[0]
            dot.node(ids[n], label=str(label), shape="plaintext", fontsize="14")
        else:
            label = SYMBOLS.get(n.op.name, n.op.name)
            shape = "circle" if len(label) <= 2 else "box"  # long names in rounded boxes
            dot.node(ids[n], label=label, shape=shape, style="rounded", width="0.5",
                     fontsize="14")
    names: dict[Expr, str] = {target(n): n.get("name") for n in nodes if n.op.name == "named"}
    out_id = "out"
    dot.node(out_id, label="", shape="point", width="0.05")
    edges = [(a, n) for n in drawn for a in n.args] + [(expr, None)]
    for child, parent in edges:
        source = target(child)
        parts = []
        name = names.get(source)
        scalar_graph = all(x.is_scalar for x in drawn)
        head = name or ""
        if not scalar_graph:
            head = (head + " " if head else "") + shape_str(source.shape)
        if head:
            parts.append(f'<font point-size="11">{_escape(head)}</font>')
        if source in forward:
            parts.append(f'<font color="{GREEN}">{_escape(_fmt(forward[source]))}</font>')
        if source in gradient:
            parts.append(f'<font color="{RED}">{_escape(_fmt(gradient[source]))}</font>')
        label = "<" + "<br/>".join(parts) + ">" if parts else ""
        dot.edge(ids[source], out_id if parent is None else ids[parent], label=label)
    return dot.source


def render(dot_source: str, path: str | Path) -> list[Path]:
    """Write ``path`` (.svg or .png, by its suffix) with Graphviz; the .dot source is kept beside it.

    Without Graphviz's ``dot`` program, writes only the .dot file and raises FigureError saying so.
    """
    path = Path(path)
    fmt = path.suffix.lstrip(".").lower() or "svg"
    if fmt not in ("svg", "png", "pdf", "dot"):
        raise FigureError(f"figure: unsupported format {fmt!r}; use .svg, .png, .pdf or .dot")
    dot_path = path.with_suffix(".dot")
    dot_path.write_text(dot_source, encoding="utf-8")
    if fmt == "dot":
        return [dot_path]
    exe = shutil.which("dot")
    if exe is None:
        raise FigureError(f"figure: Graphviz's 'dot' program is not installed, so {path.name} was "
                          f"not drawn; the graph's DOT source is in {dot_path} (install Graphviz, "
                          f"e.g. apt-get install graphviz, and run: dot -T{fmt} {dot_path} -o {path})")
    done = subprocess.run([exe, f"-T{fmt}", str(dot_path), "-o", str(path)], capture_output=True,
                          text=True)
    if done.returncode != 0:
        raise FigureError(f"figure: dot failed: {done.stderr.strip()}")
    return [path, dot_path]
