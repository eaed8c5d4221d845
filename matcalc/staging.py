"""Staging: a graph that is linear in some symbols, cut where those symbols enter.

A backward pass is linear in the upstream gradient G, and a Hessian-vector product is linear in
the direction v. Everything in such a graph that reads the inputs but not G (the forward
activations, a mask step(WX), the scale 1/σ of a layer norm) can be computed once, by the forward
pass, and kept; only the rest has to run when G arrives. :func:`split` finds that cut: the
*residuals* are the nodes that read an input but no linear symbol, and that a node reading a
linear symbol uses as an argument. Each gets a fresh symbol of its shape, and the expressions are
rebuilt over those symbols, the linear symbols and constants. Nodes that read no input (ones(n, 1),
size(d), constants) are not residuals: the second stage computes them itself.

The second stage's dimensions come from its symbols' shapes. A dimension none of them binds (the
n of ones(n, 1) in the gradient of a 1×1 output, say) is reported by :func:`unbound_dims`, so that
the caller can hand over an input that binds it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .dims import Dim
from .evaluate import symbols_of
from .expr import Expr, toposort
from .ops import Matrix
from .verify import substitute

__all__ = ["Split", "bound_dims", "split", "unbound_dims"]


@dataclass(frozen=True)
class Split:
    """Expressions cut into what is computed once (residuals) and what reads the linear symbols."""

    residuals: tuple[Expr, ...]  # nodes over the inputs, in topological order
    symbols: tuple[Expr, ...]  # one fresh symbol per residual, of its shape
    exprs: tuple[Expr, ...]  # the expressions over the symbols, linear symbols and constants


def _fresh(stem: str, taken: set[str]) -> str:
    k = 0
    while f"{stem}{k}" in taken:
        k += 1
    taken.add(f"{stem}{k}")
    return f"{stem}{k}"


def split(exprs: Sequence[Expr], linear: Iterable[Expr], inputs: Iterable[Expr],
          stem: str = "r", reserved: Iterable[str] = ()) -> Split:
    """Cut exprs where the linear symbols enter; residuals are named stem0, stem1, … (skipping
    the names in exprs and in reserved)."""
    order = toposort(exprs)
    reads_linear = {id(s) for s in linear}
    reads_input = {id(s) for s in inputs} - reads_linear
    for node in order:  # arguments come first, so one pass settles both sets
        if any(id(a) in reads_linear for a in node.args):
            reads_linear.add(id(node))
        if any(id(a) in reads_input for a in node.args):
            reads_input.add(id(node))

    def kept(node: Expr) -> bool:
        return id(node) in reads_input and id(node) not in reads_linear

    wanted: set[int] = {id(e) for e in exprs if kept(e)}  # an expression that needs no G at all
    for node in order:
        if id(node) in reads_linear:
            wanted.update(id(a) for a in node.args if kept(a))
    residuals = tuple(n for n in order if id(n) in wanted)
    taken = {n.name for n in order if n.name is not None} | set(reserved)
    symbols = tuple(Matrix(_fresh(stem, taken), r.rows, r.cols) for r in residuals)
    rebuilt = substitute(list(exprs), dict(zip(residuals, symbols))) if residuals else list(exprs)
    return Split(residuals, symbols, tuple(rebuilt))


def bound_dims(symbols: Iterable[Expr]) -> set[str]:
    """The dimensions that generated code reads off these symbols' shapes (plain names only)."""
    out: set[str] = set()
    for s in symbols:
        for d in s.shape:
            if d.is_name:  # (coef raises on a sum: m + 1 binds nothing by itself)
                out.add(d.names[0])
    return out


def unbound_dims(exprs: Sequence[Expr]) -> list[str]:
    """Dimensions that exprs use (in a shape or a parameter) but the shape of no symbol they read
    binds: code generated for exprs alone would have no value for them."""
    used: dict[str, None] = {}
    for node in toposort(exprs):
        dims = list(node.shape) + [v for _, v in node.params if isinstance(v, Dim)]
        for d in dims:
            used.update(dict.fromkeys(d.names))
    bound = bound_dims(symbols_of(list(exprs)).values())
    return [d for d in used if d not in bound]
