"""Helpers for the records' SymPy counterparts (``Op.sympy``), shared with matcalc.interop.

SymPy spells matcalc's conventions with its matrix-expression classes: a 1×1 value is a scalar
where SymPy has one, broadcasting is written out with ``OneMatrix``, dimensions are positive
integer symbols.
"""

from __future__ import annotations

from typing import Any

import sympy

from ..dims import Dim, Shape

__all__ = ["broadcast", "diagonal", "dim_symbol", "filled", "identity", "is_mat", "kronecker",
           "scalar", "scaling", "sdim", "square", "symbol"]


def dim_symbol(name: str) -> sympy.Symbol:
    return sympy.Symbol(name, integer=True, positive=True)


def sdim(d: Dim) -> Any:
    """A dimension as a SymPy polynomial in positive integer symbols."""
    out: Any = sympy.Integer(0)
    for names, coef in d.terms:
        term: Any = sympy.Integer(coef)
        for name in names:
            term = term * dim_symbol(name)
        out = out + term
    return out


def is_mat(s: Any) -> bool:
    return bool(getattr(s, "is_Matrix", False))


def scalar(s: Any) -> Any:
    """s as a SymPy scalar: a 1×1 matrix expression becomes its trace."""
    return sympy.Trace(s) if is_mat(s) else s


def broadcast(s: Any, frm: Shape, to: Shape) -> Any:
    """s (of matcalc shape frm) stretched to the shape to, spelled with OneMatrix."""
    (fr, fc), (tr, tc) = frm, to
    if (fr, fc) == (tr, tc):
        return s
    if fr.is_one and fc.is_one:
        return sympy.MatMul(scalar(s), sympy.OneMatrix(sdim(tr), sdim(tc)))
    if fr.is_one:  # a row copied down the rows
        return sympy.MatMul(sympy.OneMatrix(sdim(tr), 1), s)
    return sympy.MatMul(s, sympy.OneMatrix(1, sdim(tc)))  # a column copied along the columns


def symbol(name: str, shape: Shape) -> Any:
    """A real scalar Symbol for a 1×1, else a MatrixSymbol."""
    if shape[0].is_one and shape[1].is_one:
        return sympy.Symbol(name, real=True)
    return sympy.MatrixSymbol(name, sdim(shape[0]), sdim(shape[1]))


def identity(n: Dim) -> Any:
    return sympy.Integer(1) if n.is_one else sympy.Identity(sdim(n))


def filled(fill: float, shape: Shape) -> Any:
    """OneMatrix or ZeroMatrix, or the number for a 1×1."""
    if shape[0].is_one and shape[1].is_one:
        return sympy.Integer(int(fill))
    cls = sympy.OneMatrix if fill else sympy.ZeroMatrix
    return cls(sdim(shape[0]), sdim(shape[1]))


def scaling(node: Any, a: list[Any], product: Any) -> Any:
    """A product in which a 1×1 side scales (s·Matrix), or ``product`` of two matrices."""
    args = node.args
    if args[0].is_scalar or args[1].is_scalar:
        s, m = (0, 1) if args[0].is_scalar else (1, 0)
        if not is_mat(a[m]) or args[m].is_scalar:
            return scalar(a[0]) * scalar(a[1])
        return sympy.MatMul(scalar(a[s]), a[m])
    return product(a[0], a[1])


def square(matrix_form: Any, scalar_form: Any) -> Any:
    """trace, det, logdet, inv: the matrix expression, or the scalar one on a 1×1."""

    def convert(node: Any, a: list[Any]) -> Any:
        if not is_mat(a[0]) or node.args[0].is_scalar:
            return scalar_form(scalar(a[0]))
        return matrix_form(a[0])

    return convert


def kronecker(x: Any, y: Any) -> Any:
    return sympy.KroneckerProduct(x, y)


def diagonal(node: Any, a: Any) -> Any:
    """diag of a column is DiagMatrix, diag of a square matrix DiagonalOf; a 1×1 stays a scalar."""
    from sympy.matrices.expressions.diagonal import DiagMatrix, DiagonalOf

    if node.args[0].is_scalar:
        return scalar(a)
    return DiagMatrix(a) if node.args[0].cols.is_one else DiagonalOf(a)
