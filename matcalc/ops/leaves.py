"""Leaves (symbols, identity, ones, zeros, sizes) and named intermediates.

Constants are declared in :mod:`matcalc.ops._base`, since every builder coerces numbers to them.
"""

from __future__ import annotations

import keyword
import re
from typing import Any

from ..expr import PREC_ATOM, Param
from ..latexnames import dim_latex, latex_name
from ..latexstyle import style
from . import _sympy as sp
from ._base import ONE, Builder, Expr, InputError, as_expr, builder, const, defop, dim, np

__all__ = ["STRUCTURES", "Matrix", "Scalar", "Vector", "check_structure", "cotangent", "eye",
           "named", "ones", "size", "zeros"]

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z_0-9]*$")


def check_name(name: Any, what: str) -> str:
    if not isinstance(name, str) or not _IDENT.fullmatch(name) or keyword.iskeyword(name):
        raise InputError(f"{what} name must be an identifier like 'W' or 'W_hh', got {name!r}")
    return name


# --- symbols -----------------------------------------------------------------------------------

# The structures a square symbol may be declared with: what a gradient with respect to it, a
# sample of it and the code that reads it may assume (see matcalc.ops.structured).
STRUCTURES = ("symmetric", "spd", "diagonal", "lower", "upper")


def check_structure(structure: Any, rows: Any, cols: Any, name: str) -> str | None:
    if structure is None:
        return None
    if structure not in STRUCTURES:
        raise InputError(f"{name}: structure must be one of {', '.join(STRUCTURES)}, "
                         f"got {structure!r}")
    if rows != cols:
        raise InputError(f"{name}: a {structure} matrix is square, but {name} is declared "
                         f"{rows}×{cols}")
    return str(structure)


SYMBOL = defop(
    "symbol", 0,
    build=lambda name, rows, cols, structure=None: Matrix(name, rows, cols, structure),
    shape=lambda args, name, rows, cols, tex=None, structure=None: (rows, cols),
    numpy=lambda ctx, node: ctx.value(node.get("name")),
    sympy=lambda node, a: sp.symbol(node.get("name"), node.shape),
    text=lambda n: [n.get("name")],
    latex=lambda n: [n.get("tex") or latex_name(
        n.get("name"), bold=style().bold_vectors and n.cols.is_one and not n.rows.is_one)],
    # a gradient symbol is a fraction: (∂L/∂Y)^T keeps its parentheses
    latex_prec=lambda n: PREC_ATOM - 1 if n.get("tex") else PREC_ATOM,
    kind="leaf",
    doc="A named input of the given shape.",
    code={"all": lambda n, args, env: n.get("name")},
    sample=lambda S: S.W,
)


def Matrix(name: str, rows: Any, cols: Any, structure: str | None = None) -> Expr:
    """A symbolic matrix ``name`` of shape rows×cols (dimensions are names or positive ints);
    ``structure`` declares a square one symmetric, spd (symmetric positive definite), diagonal,
    lower or upper (triangular)."""
    name = check_name(name, "a symbol")
    rows, cols = dim(rows), dim(cols)
    structure = check_structure(structure, rows, cols, name)
    if structure is None:
        return Expr.make(SYMBOL, (), name=name, rows=rows, cols=cols)
    return Expr.make(SYMBOL, (), name=name, rows=rows, cols=cols, structure=structure)


def cotangent(of: str, rows: Any, cols: Any, loss: str = "L") -> Expr:
    """The upstream gradient ∂L/∂Y as a symbol (its value is named ``dL_dY``)."""
    return Expr.make(SYMBOL, (), name=check_name(f"d{loss}_d{of}", "a gradient"), rows=dim(rows),
                     cols=dim(cols),
                     tex=rf"\frac{{\partial {latex_name(loss)}}}{{\partial {latex_name(of)}}}")


def Vector(name: str, n: Any) -> Expr:
    """A symbolic column vector (n×1)."""
    return Matrix(name, n, 1)


def Scalar(name: str) -> Expr:
    """A symbolic scalar (1×1)."""
    return Matrix(name, 1, 1)


# --- identity, ones, zeros, sizes --------------------------------------------------------------

EYE = defop(
    "eye", 0,
    params=(Param("n", "dim"),),
    spell=("eye",),
    shape=lambda args, n: (n, n),
    numpy=lambda ctx, node: np.eye(ctx.dim(node.get("n"))),
    sympy=lambda node, a: sp.identity(node.get("n")),
    latex=lambda n: ["I_{" + dim_latex(n.get("n")) + "}"],
    kind="leaf",
    doc="The n×n identity matrix.",
    code={"numpy": lambda n, args, env: f"np.eye({env.dim(n.get('n'))})",
          "torch": lambda n, args, env: f"torch.eye({env.dim(n.get('n'))}, dtype=torch.float64)"},
    sample=lambda S: eye("n") + S.A,
)
eye: Builder = builder(EYE)


def _sized(symbol: str, n: Expr) -> str:
    """𝟏_m for a column, 𝟏_nᵀ for a row, 𝟏_{m×n} for a matrix (the same for 0)."""
    rows, cols = n.shape
    if rows.is_one and cols.is_one:
        return symbol
    if cols.is_one:
        return rf"\mathbf{{{symbol}}}_{{{dim_latex(rows)}}}"
    if rows.is_one:
        return rf"\mathbf{{{symbol}}}_{{{dim_latex(cols)}}}" + style().sup_t
    return rf"\mathbf{{{symbol}}}_{{{dim_latex(rows)} \times {dim_latex(cols)}}}"


def _filled(name: str, fill: float, doc: str, sample: Any) -> Any:
    return defop(
        name, 0,
        params=(Param("rows", "dim"), Param("cols", "dim", 1)),
        spell=(name,),
        shape=lambda args, rows, cols: (rows, cols),
        numpy=lambda ctx, node: np.full((ctx.dim(node.get("rows")), ctx.dim(node.get("cols"))),
                                        fill),
        sympy=lambda node, a: sp.filled(fill, node.shape),
        latex=lambda n: [_sized(str(int(fill)), n)],
        kind="leaf",
        doc=doc,
        code={"numpy": lambda n, args, env:
              f"np.{name}(({env.dim(n.get('rows'))}, {env.dim(n.get('cols'))}))",
              "torch": lambda n, args, env: f"torch.{name}({env.dim(n.get('rows'))}, "
                                            f"{env.dim(n.get('cols'))}, dtype=torch.float64)"},
        sample=sample,
    )


ONES = _filled("ones", 1.0, "The all-ones matrix (a column when cols is omitted).",
               lambda S: ones("n", 1))
ZEROS = _filled("zeros", 0.0, "The all-zeros matrix (a column when cols is omitted).",
                lambda S: zeros("m", "n"))
ones: Builder = builder(ONES)
zeros: Builder = builder(ZEROS)


def size(d: Any) -> Expr:
    """A dimension's value as a 1×1 expression (an integer dimension gives a constant)."""
    d = dim(d)
    return const(d.coef) if d.is_int else Expr.make(SIZE, (), d=d)


SIZE = defop(
    "size", 0,
    build=size,
    params=(Param("d", "dim"),),
    spell=("size",),
    shape=lambda args, d: (ONE, ONE),
    numpy=lambda ctx, node: np.full((1, 1), float(ctx.dim(node.get("d")))),
    sympy=lambda node, a: sp.sdim(node.get("d")),
    latex=lambda n: [dim_latex(n.get("d"))],
    kind="leaf",
    doc="The value of a dimension, as a 1×1 constant (used by mean and its gradient).",
    code={"numpy": lambda n, args, env: f"np.full((1, 1), float({env.dim(n.get('d'))}))",
          "torch": lambda n, args, env:
          f"torch.full((1, 1), float({env.dim(n.get('d'))}), dtype=torch.float64)"},
    sample=lambda S: S.Z / size("B"),
)


# --- named intermediates -----------------------------------------------------------------------

def named(name: str, x: Any) -> Expr:
    """Give an intermediate a name; the value is unchanged."""
    return Expr.make(NAMED, (as_expr(x, "named"),), name=check_name(name, "an intermediate"))


NAMED = defop(
    "named", 1,
    build=named,
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
    sample=lambda S: named("Y", S.W @ S.X),
)
