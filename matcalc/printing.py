"""Printing for users: programs, LaTeX equations for gradients, spaces ℝ^{m×n}.

The printer engine itself (templates, precedence, parentheses) is :mod:`matcalc.render`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .errors import InputError
from .expr import Expr, toposort
from .latexnames import dim_latex, latex_name
from .latexstyle import LatexStyle
from .render import short
from .render import to_latex as _to_latex
from .render import to_text as _to_text

__all__ = ["GradientList", "gradient_symbol", "latex", "latex_gradients", "latex_space",
           "program_text", "short", "to_latex", "to_text"]


def _expression(expr: Any, what: str) -> Expr:
    if not isinstance(expr, Expr):
        raise InputError(f"{what} expects a matcalc expression, got {type(expr).__name__}")
    return expr


def to_latex(expr: Expr, style: LatexStyle | None = None, **options: Any) -> str:
    """LaTeX for an expression (options as for :func:`latex`)."""
    return _to_latex(_expression(expr, "to_latex"), style, **options)


def to_text(expr: Expr) -> str:
    """An expression in matcalc's text language, on one line."""
    return _to_text(_expression(expr, "to_text"))


def program_text(expr: Expr) -> str:
    """A whole program: one assignment per named intermediate, then the result."""
    _expression(expr, "program_text")
    lines = []
    for node in toposort([expr]):
        if node.op.name == "named":
            lines.append(f"{node.get('name')} = {to_text(node.args[0])}")
    if expr.op.name != "named":
        lines.append(to_text(expr))
    return "\n".join(lines)


def latex_space(shape: Any) -> str:
    """ℝ^{m×n} for a shape: ℝ for 1×1, ℝ^{n} for a column n×1."""
    rows, cols = shape
    if rows.is_one and cols.is_one:
        return r"\mathbb{R}"
    if cols.is_one:
        return r"\mathbb{R}^{" + dim_latex(rows) + "}"
    return r"\mathbb{R}^{" + dim_latex(rows) + r" \times " + dim_latex(cols) + "}"


def gradient_symbol(var: str, loss: str = "L") -> str:
    """\\frac{\\partial L}{\\partial W}."""
    return r"\frac{\partial " + latex_name(loss) + r"}{\partial " + latex_name(var) + "}"


def latex(expr: Expr, wrt: str | None = None, loss: str = "L", space: bool = True,
          style: LatexStyle | None = None, **options: Any) -> str:
    """LaTeX for expr; with ``wrt="W"`` the equation ∂L/∂W = … ∈ ℝ^{m×n} (for a gradient)."""
    body = to_latex(_expression(expr, "latex"), style, **options)
    if wrt is None:
        return body
    out = gradient_symbol(wrt, loss) + " = " + body
    return out + (r" \in " + latex_space(expr.shape) if space else "")


def latex_gradients(grads: Mapping[str, Expr] | Iterable[tuple[str, Expr]], loss: str = "L",
                    space: bool = True, style: LatexStyle | None = None, **options: Any) -> str:
    """Several gradients in one aligned block: ``{"W": gW, "b": gb}`` or a list of pairs."""
    try:
        pairs = list(grads.items()) if isinstance(grads, Mapping) else list(grads)
    except TypeError:
        raise InputError(f"latex_gradients expects {{name: gradient}} or (name, gradient) "
                         f"pairs, got {type(grads).__name__}") from None
    for pair in pairs:
        if not (isinstance(pair, tuple) and len(pair) == 2 and isinstance(pair[0], str)
                and isinstance(pair[1], Expr)):
            raise InputError(f"latex_gradients expects (name, gradient) pairs, got {pair!r:.80}")
    lines = []
    for var, g in pairs:
        rhs = to_latex(g, style, **options) + (r" \in " + latex_space(g.shape) if space else "")
        lines.append(gradient_symbol(var, loss) + " &= " + rhs)
    return "\\begin{aligned}\n" + " \\\\\n".join(lines) + "\n\\end{aligned}"


class GradientList(list[Expr]):
    """The gradients ``grad(L, [...])`` returns: a list, shown in Jupyter as ∂L/∂W = … rows."""

    def __init__(self, grads: Iterable[Expr], variables: Iterable[str], loss: str = "L"):
        super().__init__(grads)
        self.variables = list(variables)
        self.loss = loss

    def _repr_latex_(self) -> str:
        return "$$" + latex_gradients(list(zip(self.variables, self)), loss=self.loss) + "$$"
