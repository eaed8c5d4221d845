"""The state of one LaTeX parse: names (:mod:`.latex_names`) and placeholders
(:mod:`.latex_shapes`) together, and how a value on the stack becomes an operand or has a function
applied to it."""

from __future__ import annotations

import re
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from lark import Token

from .. import ops
from ..expr import Expr
from .common import Positioned, Val
from .latex_commands import OF_BARS, LatexTables
from .latex_names import LatexNames
from .latex_shapes import Operand, Placeholders, Poly

__all__ = ["CURRENT", "LatexProgram"]


class LatexProgram(LatexNames, Placeholders):
    """Per-parse state of the LaTeX front end."""

    def __init__(self, source: str, symbols: dict[str, Expr], tables: LatexTables,
                 reparse: Callable[[str], Any]):
        super().__init__(source, symbols, tables)
        self.reparse = reparse  # parses a padded copy of the source with the same grammar

    def operand(self, v: Val) -> Operand:
        """The Expr (or placeholder) a value stands for."""
        kind = v.kind
        if kind in ("expr", "poly"):
            out: Operand = v.value
            return out
        if kind == "num":
            return self.build(v, ops.const, v.value)
        if kind == "name":
            return self.resolve(v)
        f, arg = v.value  # barecall
        return self.apply(f, arg)

    def wrap(self, x: Operand, at: Positioned, extra: Any = None) -> Val:
        """An operand as a value on the stack, starting where ``at`` does."""
        return Val("poly" if isinstance(x, Poly) else "expr", x, at.line or 1, at.column or 1,
                   extra)

    def apply(self, f: Token, v: Val) -> Operand:
        """A function token (its value an op's name) applied to a value."""
        function = self.tables.functions[str(f.value)]
        of_bars = self.tables.functions.get(OF_BARS.get(function.op.name, ""))
        if of_bars is not None and v.extra is not None and v.extra[0] == "bars":
            inner = v.extra[1]
            if isinstance(inner, Expr) and inner.rows == inner.cols and not inner.is_scalar:
                return self.build(f, of_bars.apply, inner)  # log|X| of a square X
        x = self.operand(v)
        if function.keeps == "all":
            return self.unary(f, function.apply, x)
        if function.keeps == "square":
            return self.square_unary(f, function.op.name, function.apply, x)
        return self.build(f, function.apply, self.resolved(x))

    def subparse(self, body: str, pos: int) -> Expr:
        """Parse a superscript's body as a formula of its own, keeping its source positions."""
        padded = re.sub(r"[^\n]", " ", self.source[:pos]) + body
        out: Expr = self.reparse(padded)
        return out


CURRENT: ContextVar[LatexProgram] = ContextVar("matcalc_latex_program")
