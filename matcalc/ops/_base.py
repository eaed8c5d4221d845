"""Helpers shared by the op definitions: coercion, shape checks, broadcasting, op declaration."""

from __future__ import annotations

import numbers

import numpy as np

from ..dims import ONE, Dim, Shape, dim, shape_str
from ..errors import InputError, ShapeError
from ..expr import PREC_ATOM, Expr, Op, register
from ..printing import short


def describe(x: Expr) -> str:
    """``W (m×n)``: an operand as error messages name it."""
    return f"{short(x, 40)} ({shape_str(x.shape)})"


def as_expr(x, where: str = "") -> Expr:
    """Coerce a Python or NumPy number to a 1×1 constant; pass expressions through."""
    if isinstance(x, Expr):
        return x
    if isinstance(x, (bool, np.bool_)):
        raise InputError(f"{where or 'operation'}: booleans are not numbers here, got {x!r}")
    if isinstance(x, numbers.Real):
        from .leaves import const

        return const(x)
    kind = type(x).__name__
    raise InputError(
        f"{where or 'operation'}: expected a matcalc expression or a number, got {kind}"
        + (" (wrap arrays as matcalc symbols and pass them to evaluate)" if kind == "ndarray" else "")
    )


def broadcast_shape(opname: str, verb: str, a: Expr, b: Expr) -> Shape:
    """Elementwise broadcasting along dimensions that are literally 1 (a 1×1 fits anything)."""
    out = []
    for axis in (0, 1):
        da, db = a.shape[axis], b.shape[axis]
        if da == db or db.is_one:
            out.append(da)
        elif da.is_one:
            out.append(db)
        else:
            which = "rows" if axis == 0 else "columns"
            raise ShapeError(
                f"cannot {verb} {describe(a)} and {describe(b)}: {which} {da} ≠ {db} "
                f"(broadcasting only stretches a dimension that is 1)"
            )
    return (out[0], out[1])


def require_square(opname: str, a: Expr) -> Shape:
    if a.rows != a.cols:
        raise ShapeError(f"{opname} needs a square matrix, got {describe(a)}: {a.rows} ≠ {a.cols}")
    return a.shape


def check_axis(opname: str, axis, allow_none: bool = True):
    allowed = (None, 0, 1) if allow_none else (0, 1)
    if isinstance(axis, np.integer):
        axis = int(axis)
    if isinstance(axis, bool) or not (axis is None or type(axis) is int) or axis not in allowed:
        options = "None, 0 or 1" if allow_none else "0 or 1"
        raise InputError(f"{opname}: axis must be {options}, got {axis!r}")
    return axis


def reduced_shape(a: Expr, axis) -> Shape:
    if axis is None:
        return (ONE, ONE)
    if axis == 0:
        return (ONE, a.cols)
    return (a.rows, ONE)


def dim_latex(d: Dim) -> str:
    """A dimension in LaTeX: n, 2n, m B (a product)."""
    from ..latexnames import latex_name

    parts = [str(d.coef)] if d.coef != 1 or not d.names else []
    return " ".join(parts + [latex_name(n) for n in d.names])


def number_latex(v) -> str:
    """A constant in LaTeX: 2, 0.5, 1.5 \\times 10^{-8}."""
    text = str(v) if isinstance(v, int) else repr(float(v))
    if "e" in text:
        mantissa, exp = text.split("e")
        exp = str(int(exp))
        return (f"10^{{{exp}}}" if mantissa in ("1", "1.0") else
                f"{mantissa} \\times 10^{{{exp}}}")
    return text


def sup(s: str) -> str:
    """A superscript group: ^{...}."""
    return "^{" + s + "}"


def defop(name: str, arity: int, **fields) -> Op:
    """Declare and register an op record."""
    return register(Op(name=name, arity=arity, **fields))


def call_text(fname: str, *keywords: str):
    """Text template ``fname(arg0, arg1, key=value)`` for ops spelled as function calls."""

    def template(node: Expr) -> list:
        pieces: list = [fname + "("]
        for i in range(len(node.args)):
            if i:
                pieces.append(", ")
            pieces.append((i, 0))
        for key in keywords:
            value = node.get(key)
            if value is not None:
                pieces.append(f", {key}={value}")
        pieces.append(")")
        return pieces

    return template


__all__ = [
    "Dim", "Expr", "InputError", "ONE", "PREC_ATOM", "Shape", "ShapeError", "as_expr",
    "broadcast_shape", "call_text", "check_axis", "defop", "describe", "dim", "dim_latex", "np",
    "number_latex", "sup",
    "reduced_shape", "require_square", "shape_str",
]
