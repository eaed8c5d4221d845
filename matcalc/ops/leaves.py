"""Leaves (symbols, constants) and named intermediates."""

from __future__ import annotations

import keyword
import math
import re

from ..latexnames import latex_name
from ..expr import PREC_ADD, PREC_NEG
from ..latexstyle import style
from ._base import ONE, PREC_ATOM, Expr, InputError, as_expr, defop, dim, dim_latex, np, number_latex

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z_0-9]*$")


def _check_name(name, what: str) -> str:
    if not isinstance(name, str) or not _IDENT.fullmatch(name) or keyword.iskeyword(name):
        raise InputError(f"{what} name must be an identifier like 'W' or 'W_hh', got {name!r}")
    return name


# --- symbols -----------------------------------------------------------------------------------

def _sp():
    import sympy

    from .. import interop

    return sympy, interop


def _symbol_sympy(node, a):
    sympy, sp = _sp()
    if node.is_scalar:
        return sympy.Symbol(node.get("name"), real=True)
    return sympy.MatrixSymbol(node.get("name"), sp._sdim(node.rows), sp._sdim(node.cols))


def _filled_sympy(node, a):
    """ones and zeros: OneMatrix / ZeroMatrix, or the number for a 1×1."""
    sympy, sp = _sp()
    one = node.op.name == "ones"
    if node.is_scalar:
        return sympy.Integer(1 if one else 0)
    return (sympy.OneMatrix if one else sympy.ZeroMatrix)(sp._sdim(node.rows), sp._sdim(node.cols))


SYMBOL = defop(
    "symbol", 0,
    shape=lambda args, name, rows, cols, tex=None: (rows, cols),
    numpy=lambda ctx, node: ctx.value(node.get("name")),
    sympy=_symbol_sympy,
    text=lambda n: [n.get("name")],
    latex=lambda n: [n.get("tex") or latex_name(
        n.get("name"), bold=style().bold_vectors and n.cols.is_one and not n.rows.is_one)],
    # a gradient symbol is a fraction: (∂L/∂Y)^T keeps its parentheses
    latex_prec=lambda n: PREC_ATOM - 1 if n.get("tex") else PREC_ATOM,
    kind="leaf",
    doc="A named input of the given shape.",
    code={"all": lambda n, args, env: n.get("name")},
)


def Matrix(name: str, rows, cols) -> Expr:
    """A symbolic matrix ``name`` of shape rows×cols (dimensions are names or positive ints)."""
    return Expr.make(SYMBOL, (), name=_check_name(name, "a symbol"), rows=dim(rows), cols=dim(cols))


def cotangent(of: str, rows, cols, loss: str = "L") -> Expr:
    """The upstream gradient ∂L/∂Y as a symbol (its value is named ``dL_dY``)."""
    from ..latexnames import latex_name as tex_of

    return Expr.make(SYMBOL, (), name=_check_name(f"d{loss}_d{of}", "a gradient"), rows=dim(rows),
                     cols=dim(cols), tex=rf"\frac{{\partial {tex_of(loss)}}}{{\partial {tex_of(of)}}}")


def Vector(name: str, n) -> Expr:
    """A symbolic column vector (n×1)."""
    return Matrix(name, n, 1)


def Scalar(name: str) -> Expr:
    """A symbolic scalar (1×1)."""
    return Matrix(name, 1, 1)


# --- constants ---------------------------------------------------------------------------------

def _number_text(v) -> str:
    if isinstance(v, int):
        return str(v)
    return repr(v)


CONST = defop(
    "const", 0,
    shape=lambda args, value: (ONE, ONE),
    numpy=lambda ctx, node: np.full((1, 1), float(node.get("value"))),
    sympy=lambda node, a: _sp()[0].Integer(node.get("value")) if isinstance(
        node.get("value"), int) else _sp()[0].Float(node.get("value")),
    text=lambda n: [_number_text(n.get("value"))],
    latex=lambda n: [number_latex(n.get("value"))],
    latex_prec=lambda n: PREC_ADD if n.get("value") < 0 else PREC_ATOM,
    # just below an atom, so that a transposed number prints as (2).T, not 2.T
    prec=lambda n: PREC_NEG if n.get("value") < 0 else PREC_ATOM - 1,
    kind="leaf",
    doc="A numeric constant (1×1).",
    code={"numpy": lambda n, args, env: f"np.full((1, 1), {float(n.get('value'))!r})",
          "torch": lambda n, args, env:
          f"torch.full((1, 1), {float(n.get('value'))!r}, dtype=torch.float64)"},
)


def const(value) -> Expr:
    """A 1×1 numeric constant."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InputError(f"a constant must be a real number, got {value!r}")
    value = float(value) if isinstance(value, (float, np.floating)) else int(value)
    if isinstance(value, int) and abs(value) > 2**53:
        value = float(value) if abs(value) < 1e308 else math.inf
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InputError(f"a constant must be finite, got {value!r}")
        if value.is_integer() and abs(value) < 2**53:
            value = int(value)
    return Expr.make(CONST, (), value=value)


EYE = defop(
    "eye", 0,
    shape=lambda args, n: (n, n),
    numpy=lambda ctx, node: np.eye(ctx.dim(node.get("n"))),
    sympy=lambda node, a: _sp()[0].Integer(1) if node.get("n").is_one else
    _sp()[0].Identity(_sp()[1]._sdim(node.get("n"))),
    text=lambda n: [f"eye({n.get('n').text})"],
    latex=lambda n: ["I_{" + dim_latex(n.get("n")) + "}"],
    kind="leaf",
    doc="The n×n identity matrix.",
    code={"numpy": lambda n, args, env: f"np.eye({env.dim(n.get('n'))})",
          "torch": lambda n, args, env: f"torch.eye({env.dim(n.get('n'))}, dtype=torch.float64)"},
)


def eye(n) -> Expr:
    """The n×n identity."""
    return Expr.make(EYE, (), n=dim(n))


def _sized(symbol: str, n: Expr) -> str:
    """𝟏_m for a column, 𝟏_nᵀ for a row, 𝟏_{m×n} for a matrix (the same for 0)."""
    rows, cols = n.shape
    if rows.is_one and cols.is_one:
        return symbol[-2]  # "1" or "0"
    if cols.is_one:
        return rf"\mathbf{{{symbol[-2]}}}_{{{dim_latex(rows)}}}"
    if rows.is_one:
        return rf"\mathbf{{{symbol[-2]}}}_{{{dim_latex(cols)}}}" + style().sup_t
    return rf"\mathbf{{{symbol[-2]}}}_{{{dim_latex(rows)} \times {dim_latex(cols)}}}"


def _ones_latex(n: Expr) -> str:
    return _sized(r"\mathbf{1}", n)


ONES = defop(
    "ones", 0,
    shape=lambda args, rows, cols: (rows, cols),
    numpy=lambda ctx, node: np.ones((ctx.dim(node.get("rows")), ctx.dim(node.get("cols")))),
    sympy=_filled_sympy,
    text=lambda n: [f"ones({n.get('rows').text}, {n.get('cols').text})"],
    latex=lambda n: [_ones_latex(n)],
    kind="leaf",
    doc="The all-ones matrix.",
    code={"numpy": lambda n, args, env:
          f"np.ones(({env.dim(n.get('rows'))}, {env.dim(n.get('cols'))}))",
          "torch": lambda n, args, env:
          f"torch.ones({env.dim(n.get('rows'))}, {env.dim(n.get('cols'))}, dtype=torch.float64)"},
)

ZEROS = defop(
    "zeros", 0,
    shape=lambda args, rows, cols: (rows, cols),
    numpy=lambda ctx, node: np.zeros((ctx.dim(node.get("rows")), ctx.dim(node.get("cols")))),
    sympy=_filled_sympy,
    text=lambda n: [f"zeros({n.get('rows').text}, {n.get('cols').text})"],
    latex=lambda n: [_sized(r"\mathbf{0}", n)],
    kind="leaf",
    doc="The all-zeros matrix.",
    code={"numpy": lambda n, args, env:
          f"np.zeros(({env.dim(n.get('rows'))}, {env.dim(n.get('cols'))}))",
          "torch": lambda n, args, env:
          f"torch.zeros({env.dim(n.get('rows'))}, {env.dim(n.get('cols'))}, dtype=torch.float64)"},
)


def ones(rows, cols=1) -> Expr:
    """The rows×cols matrix of ones (a column when cols is omitted)."""
    return Expr.make(ONES, (), rows=dim(rows), cols=dim(cols))


def zeros(rows, cols=1) -> Expr:
    """The rows×cols matrix of zeros (a column when cols is omitted)."""
    return Expr.make(ZEROS, (), rows=dim(rows), cols=dim(cols))


SIZE = defop(
    "size", 0,
    shape=lambda args, d: (ONE, ONE),
    numpy=lambda ctx, node: np.full((1, 1), float(ctx.dim(node.get("d")))),
    sympy=lambda node, a: _sp()[1]._sdim(node.get("d")),
    text=lambda n: [f"size({n.get('d').text})"],
    latex=lambda n: [dim_latex(n.get("d"))],
    kind="leaf",
    doc="The value of a dimension, as a 1×1 constant (used by mean and its gradient).",
    code={"numpy": lambda n, args, env: f"np.full((1, 1), float({env.dim(n.get('d'))}))",
          "torch": lambda n, args, env:
          f"torch.full((1, 1), float({env.dim(n.get('d'))}), dtype=torch.float64)"},
)


def size(d) -> Expr:
    """A dimension's value as a 1×1 expression (an integer dimension gives a constant)."""
    d = dim(d)
    return const(d.coef) if d.is_int else Expr.make(SIZE, (), d=d)


# --- named intermediates -----------------------------------------------------------------------

NAMED = defop(
    "named", 1,
    shape=lambda args, name: args[0].shape,
    numpy=lambda ctx, node, x: x,
    vjp=lambda g, out: (g,),
    jac=lambda out, d: d[0],
    domain_through="all",
    sympy=lambda node, a: a[0],
    text=lambda n: [(0, 0)],
    latex=lambda n: [(0, 0)],
    kind="structural",
    doc="A named intermediate Y = expr; a derivation speaks of ∂L/∂Y through it.",
    code={"all": "{0}"},
)


def named(name: str, x) -> Expr:
    """Give an intermediate a name; the value is unchanged."""
    return Expr.make(NAMED, (as_expr(x, "named"),), name=_check_name(name, "an intermediate"))
