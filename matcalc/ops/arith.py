"""Arithmetic: broadcasting elementwise +, -, *, /, **, unary minus; matrix product; transpose.

These records declare Python's operators (``operator=``): ``A + B`` on expressions and in the
input language both build them.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import sympy

from ..expr import PREC_ADD, PREC_HAD, PREC_MUL, PREC_NEG, PREC_POW, Param, toposort
from ..latexstyle import style
from . import _sympy as sp
from ._base import (
    PREC_ATOM,
    Builder,
    Expr,
    InputError,
    ShapeError,
    alias,
    as_expr,
    broadcast_shape,
    builder,
    defop,
    describe,
    number,
)
from .elementwise import log as log_
from .leaves import eye
from .reductions import sum as sum_
from .structure import commutation, kron, scale_jac, spread, total

__all__ = ["add", "div", "fold_constant", "hadamard", "matmul", "mul", "neg", "power",
           "reciprocal", "square", "sub", "transpose", "unbroadcast"]


def _neg(d: Expr | None) -> Expr | None:
    return None if d is None else -d


def unbroadcast(g: Expr, shape: Any) -> Expr:
    """Sum a cotangent over the axes along which its argument was broadcast."""
    rows_b = shape[0].is_one and not g.rows.is_one
    cols_b = shape[1].is_one and not g.cols.is_one
    if rows_b and cols_b:
        return sum_(g)
    if rows_b:
        return sum_(g, axis=0)
    if cols_b:
        return sum_(g, axis=1)
    return g


def _sum_sympy(node: Expr, a: list[Any]) -> Any:
    """A ± B, broadcasts written out with OneMatrix."""
    args = node.args
    if node.is_scalar:
        x, y = sp.scalar(a[0]), sp.scalar(a[1])
    else:
        x = sp.broadcast(a[0], args[0].shape, node.shape)
        y = sp.broadcast(a[1], args[1].shape, node.shape)
    return x - y if node.op.name == "sub" else x + y


def _hadamard_sympy(node: Expr, a: list[Any]) -> Any:
    return sp.scaling(node, a, lambda x, y: sympy.HadamardProduct(
        sp.broadcast(x, node.args[0].shape, node.shape),
        sp.broadcast(y, node.args[1].shape, node.shape)))


def _div_sympy(node: Expr, a: list[Any]) -> Any:
    args = node.args
    if args[1].is_scalar:
        d = sp.scalar(a[1])
        if args[0].is_scalar:
            return sp.scalar(a[0]) / d
        return sympy.MatMul(sympy.Pow(d, -1), a[0])
    y = sympy.HadamardPower(sp.broadcast(a[1], args[1].shape, node.shape), -1)
    if args[0].is_scalar:
        c = sp.scalar(a[0])
        return y if c == 1 else sympy.MatMul(c, y)
    return sympy.HadamardProduct(sp.broadcast(a[0], args[0].shape, node.shape), y)


def _pow_sympy(node: Expr, a: list[Any]) -> Any:
    p = node.get("p")
    exponent = sympy.Integer(p) if isinstance(p, int) else sympy.Float(p)
    if node.is_scalar:
        return sympy.Pow(sp.scalar(a[0]), exponent)
    return sympy.HadamardPower(a[0], exponent)


def _elementwise_product(x: Expr) -> bool:
    """A Hadamard product or an elementwise division of two matrices (not a scaling)."""
    return x.op.name in ("mul", "div") and not (x.args[0].is_scalar or x.args[1].is_scalar)


def _infix_text(operator: str) -> Any:
    """``A op B``; where ``@`` meets an elementwise ``*`` or ``/`` the left operand is
    parenthesised: Python reads ``G * H @ X`` as (G ⊙ H) X, people often as G ⊙ (H X)."""
    prec = PREC_ADD if operator in "+-" else PREC_MUL

    def template(n: Expr) -> list[Any]:
        left = n.args[0]
        clash = (operator == "@" and _elementwise_product(left)) or (
            operator in "*/" and left.op.name == "matmul" and _elementwise_product(n))
        return [(0, prec + 1 if clash else prec), f" {operator} ", (1, prec + 1)]

    return template


def _binary(name: str, operator: str, verb: str, **fields: Any) -> Any:
    """A broadcasting elementwise operator; its errors name what it does (add, multiply, …)."""
    label = verb.split()[0]

    def build(a: Any, b: Any) -> Expr:
        return Expr.make(op, (as_expr(a, label), as_expr(b, label)))

    op = defop(
        name, 2,
        build=build,
        params=(Param("a"), Param("b")),
        operator=operator,
        shape=lambda args: broadcast_shape(name, verb, *args),
        text=_infix_text(operator),
        prec=PREC_ADD if operator in "+-" else PREC_MUL,
        kind="binary",
        code={"all": "{0} " + operator + " {1}"},
        **fields,
    )
    return op


ADD = _binary(
    "add", "+", "add",
    vjp=lambda g, out: (unbroadcast(g, out.args[0].shape), unbroadcast(g, out.args[1].shape)),
    jac=lambda out, d: total(spread(d[0], out.args[0], out), spread(d[1], out.args[1], out)),
    domain_through="positive",
    sympy=_sum_sympy,
    latex=lambda n: [(0, PREC_ADD), " + ", (1, PREC_ADD + 1)],
    doc="A + B, broadcasting 1-dimensions; ∂/∂A = G, ∂/∂B = G (summed over broadcast axes).",
    sample=lambda S: S.W @ S.X + S.b,
)
add: Builder = builder(ADD)

SUB = _binary(
    "sub", "-", "subtract",
    vjp=lambda g, out: (unbroadcast(g, out.args[0].shape), unbroadcast(-g, out.args[1].shape)),
    jac=lambda out, d: total(spread(d[0], out.args[0], out), _neg(spread(d[1], out.args[1], out))),
    sympy=_sum_sympy,
    latex=lambda n: [(0, PREC_ADD), " - ", (1, PREC_ADD + 1)],
    doc="A − B; ∂/∂A = G, ∂/∂B = −G.",
    sample=lambda S: S.W - S.G,
)
sub: Builder = builder(SUB)


def _is_hadamard(n: Expr) -> bool:
    return n.op.name == "mul" and not (n.args[0].is_scalar or n.args[1].is_scalar)


def _mul_latex(n: Expr) -> list[Any]:
    a, b = n.args
    if a.is_scalar or b.is_scalar:  # scaling reads as juxtaposition, number first: 2 X, \alpha W
        # the number or 1×1 factor goes first, unless both are numbers (keep 2 · 3 in order)
        both_numbers = a.op.name == "const" and b.op.name == "const"
        s, m = (0, 1) if a.is_scalar and (both_numbers or b.op.name != "const") else (1, 0)
        if n.args[m].op.name == "const":
            return [(s, PREC_MUL + 1), r" \cdot ", (m, PREC_MUL + 1)]
        return [(s, PREC_MUL + 1), " ", (m, PREC_MUL)]
    left = PREC_HAD if _is_hadamard(a) else PREC_MUL + 1
    return [(0, left), " " + style().hadamard + " ", (1, PREC_MUL + 1)]


MUL = _binary(
    "mul", "*", "multiply elementwise",
    vjp=lambda g, out: (unbroadcast(g * out.args[1], out.args[0].shape),
                        unbroadcast(g * out.args[0], out.args[1].shape)),
    jac=lambda out, d: total(scale_jac(out.args[1], spread(d[0], out.args[0], out), out),
                             scale_jac(out.args[0], spread(d[1], out.args[1], out), out)),
    domain_through="positive",
    sympy=_hadamard_sympy,
    latex=_mul_latex,
    latex_prec=lambda n: PREC_HAD if _is_hadamard(n) else PREC_MUL,
    latex_in=(r"\odot", r"\circ"),
    doc="A ⊙ B (Hadamard), or scaling when one side is 1×1; ∂/∂A = G ⊙ B, ∂/∂B = G ⊙ A.",
    sample=lambda S: S.W * S.G,
)
mul: Builder = builder(MUL)
hadamard = mul

DIV = _binary(
    "div", "/", "divide",
    vjp=lambda g, out: (unbroadcast(g / out.args[1], out.args[0].shape),
                        unbroadcast(-(g * out) / out.args[1], out.args[1].shape)),
    jac=lambda out, d: total(
        scale_jac(1 / out.args[1], spread(d[0], out.args[0], out), out),
        _neg(scale_jac(out / out.args[1], spread(d[1], out.args[1], out), out))),
    domain_through="positive",
    sympy=_div_sympy,
    latex=lambda n: [r"\frac{", (0, 0), "}{", (1, 0), "}"],
    latex_prec=PREC_ATOM - 1,  # a fraction is a unit, but (a/b)^T keeps its parentheses
    latex_in=(r"\div",),
    domain={1: "nonzero"},
    doc="A / B elementwise (B may be 1×1); ∂/∂A = G / B, ∂/∂B = −G ⊙ (A / B) / B.",
    sample=lambda S: S.W / S.s,
)
div: Builder = builder(DIV)


def _pow_vjp(g: Expr, out: Expr) -> tuple[Expr]:
    (a,) = out.args
    p = out.get("p")
    if p == 2:
        return (g * (2 * a),)
    return (g * (p * power(a, p - 1)),)


def _exp_text(p: float) -> str:
    """An exponent as written: 2, 0.5, and 1/3 for a float that is exactly a short fraction."""
    if isinstance(p, int):
        return str(p)
    frac = Fraction(p).limit_denominator(1000)
    if frac.denominator != 1 and float(frac) == p and len(repr(p)) > 6:
        return f"{frac.numerator}/{frac.denominator}"
    return repr(p)


_FOLDABLE = {"const", "add", "sub", "mul", "div", "neg", "pow"}


def fold_constant(e: Expr) -> int | float | None:
    """The value of a 1×1 expression made of numbers and arithmetic ((1/3), 2 ** -1), exactly
    while it is rational; None for anything that reads a variable."""
    if not e.is_scalar:
        return None
    values: dict[int, Fraction | float] = {}
    for node in toposort([e]):
        name = node.op.name
        if name not in _FOLDABLE or not node.is_scalar:
            return None
        a = [values[id(x)] for x in node.args]
        try:
            if name == "const":
                v = node.get("value")
                values[id(node)] = Fraction(v) if isinstance(v, int) else v
            elif name == "pow":
                p = node.get("p")
                values[id(node)] = a[0] ** p if isinstance(p, int) else float(a[0]) ** p
            elif name == "neg":
                values[id(node)] = -a[0]
            else:
                values[id(node)] = {"add": lambda x, y: x + y, "sub": lambda x, y: x - y,
                                    "mul": lambda x, y: x * y,
                                    "div": lambda x, y: x / y}[name](a[0], a[1])
        except (ZeroDivisionError, OverflowError):
            return None
    out = values[id(e)]
    if isinstance(out, complex):
        return None
    return number(out.numerator if isinstance(out, Fraction) and out.denominator == 1
                  else float(out), "power: the exponent")


def power(a: Any, p: Any) -> Expr:
    """Elementwise power: a constant exponent (also a constant expression such as 1/3), or an
    expression broadcast against the base (x ** y)."""
    base = as_expr(a, "power")
    if isinstance(p, Expr):
        folded = fold_constant(p)
        if folded is None:
            return Expr.make(POW_VAR, (base, p))
        p = folded
    if isinstance(p, int) and not isinstance(p, bool) and abs(p) > 2**53:
        raise InputError(f"power: the exponent {p} is too large")
    p = number(p, "power: the exponent")
    if p == 1:
        return base
    return Expr.make(POW, (base,), p=p)


POW = defop(
    "pow", 1,
    build=power,
    params=(Param("a"), Param("p", "number")),
    spell=("power",),
    aliases={"square": {"p": 2}, "reciprocal": {"p": -1}},
    operator="**",
    shape=lambda args, p: args[0].shape,
    vjp=_pow_vjp,
    domain=lambda n: {} if isinstance(n.get("p"), int) and n.get("p") >= 0 else
    {0: "nonzero" if isinstance(n.get("p"), int) else "positive"},
    jac=lambda out, d: scale_jac(out.get("p") * power(out.args[0], out.get("p") - 1), d[0], out),
    domain_through="positive",
    sympy=_pow_sympy,
    text=lambda n: [(0, PREC_POW + 1), " ** " + _paren_fraction(_exp_text(n.get("p")))],
    # a matrix's elementwise power is the Hadamard power X^{∘p}, never the matrix power
    latex=lambda n: [(0, PREC_POW + 1), "^{" + ("" if n.args[0].is_scalar else r"\circ ")
                     + _latex_exponent(n.get("p")) + "}"],
    prec=PREC_POW,
    kind="elementwise",
    doc="A ** p elementwise, p a constant; ∂/∂A = G ⊙ p A^(p−1).",
    code={"numpy": lambda n, args, env: f"np.power({args[0]}, {float(n.get('p'))!r})",
          "torch": lambda n, args, env: f"torch.pow({args[0]}, {float(n.get('p'))!r})"},
    sample=lambda S: S.W ** 2,
)
square: Builder = alias(POW, "square", "A ** 2, elementwise.")
reciprocal: Builder = alias(POW, "reciprocal", "1 / A, elementwise (A ** -1).")


def _latex_exponent(p: float) -> str:
    text = _exp_text(p)
    if "/" not in text:
        return text
    num, den = text.split("/")
    sign = "-" if num.startswith("-") else ""
    return sign + r"\frac{" + num.lstrip("-") + "}{" + den + "}"


def _paren_fraction(text: str) -> str:
    return f"({text})" if "/" in text else text


def _pow_var_vjp(g: Expr, out: Expr) -> tuple[Expr, Expr]:
    a, y = out.args
    return (unbroadcast(g * y * power(a, y - 1), a.shape),
            unbroadcast(g * out * log_(a), y.shape))


def _pow_var_jac(out: Expr, d: list[Expr | None]) -> Expr | None:
    a, y = out.args
    return total(scale_jac(y * power(a, y - 1), spread(d[0], a, out), out),
                 scale_jac(out * log_(a), spread(d[1], y, out), out))


POW_VAR = defop(
    "pow_var", 2,
    build=lambda a, y: power(a, y),
    params=(Param("a"), Param("y")),
    shape=lambda args: broadcast_shape("pow_var", "raise to a power", *args),
    vjp=_pow_var_vjp,
    jac=_pow_var_jac,
    domain={0: "positive"},
    text=lambda n: [(0, PREC_POW + 1), " ** ", (1, PREC_POW)],
    latex=lambda n: [(0, PREC_POW + 1), "^{" + ("" if n.args[0].is_scalar else r"\circ "),
                     (1, 0), "}"],
    prec=PREC_POW,
    kind="binary",
    doc="A ** Y elementwise with a variable exponent (A > 0); ∂/∂A = G ⊙ Y A^(Y−1), "
        "∂/∂Y = G ⊙ A^Y log A.",
    code={"numpy": "np.power({0}, {1})", "torch": "torch.pow({0}, {1})"},
    sample=lambda S: S.W ** S.s,
)


def neg(a: Any) -> Expr:
    """−A, elementwise."""
    return Expr.make(NEG, (as_expr(a, "negate"),))


NEG = defop(
    "neg", 1,
    build=neg,
    operator="-x",
    shape=lambda args: args[0].shape,
    vjp=lambda g, out: (-g,),
    jac=lambda out, d: _neg(d[0]),
    sympy=lambda node, a: -a[0],
    text=lambda n: ["-", (0, PREC_NEG)],
    latex=lambda n: ["-", (0, PREC_HAD)],  # −AB and −A ⊙ B need no parentheses
    prec=PREC_NEG,
    latex_prec=PREC_ADD,  # but A − (−B) and A (−B) do
    kind="elementwise",
    doc="−A; ∂/∂A = −G.",
    code={"all": "-{0}"},
    sample=lambda S: -S.W,
)


def _matmul_shape(args: tuple[Expr, ...]) -> Any:
    a, b = args
    if a.cols != b.rows:
        raise ShapeError(f"cannot multiply {describe(a)} by {describe(b)}: {a.cols} ≠ {b.rows}")
    return (a.rows, b.cols)


def _is_diagonal_matrix(x: Expr) -> bool:
    return x.op.name == "diag" and x.args[0].cols.is_one


def _matmul_lower(n: Expr) -> Expr | None:
    """Products that are broadcasts: diag(v) B = v ⊙ B, A diag(v) = A ⊙ vᵀ, and an outer product
    u vᵀ = u ⊙ vᵀ (a multiply per entry, not a matrix product with inner size 1)."""
    a, b = n.args
    if _is_diagonal_matrix(a) and not b.rows.is_one:
        return a.args[0] * b
    if _is_diagonal_matrix(b) and not a.cols.is_one:
        return a * b.args[0].T
    if a.cols.is_one and not (a.rows.is_one and b.cols.is_one):
        return a * b
    return None


def matmul(a: Any, b: Any) -> Expr:
    """The matrix product AB."""
    return Expr.make(MATMUL, (as_expr(a, "matmul"), as_expr(b, "matmul")))


MATMUL = defop(
    "matmul", 2,
    build=matmul,
    params=(Param("a"), Param("b")),
    operator="@",
    shape=_matmul_shape,
    vjp=lambda g, out: (g @ out.args[1].T, out.args[0].T @ g),
    jac=lambda out, d: total(
        None if d[0] is None else kron(out.args[1].T, eye(out.args[0].rows)) @ d[0],
        None if d[1] is None else kron(eye(out.args[1].cols), out.args[0]) @ d[1]),
    domain_through="positive",
    sympy=lambda node, a: sp.scaling(node, a, lambda x, y: sympy.MatMul(x, y)),
    text=_infix_text("@"),
    latex=lambda n: [(0, PREC_MUL), " ", (1, PREC_MUL)],  # the product is associative
    latex_in=(r"\cdot", r"\times", r"\ast"),
    prec=PREC_MUL,
    kind="linalg",
    doc="Matrix product AB; ∂/∂A = G Bᵀ, ∂/∂B = Aᵀ G (Matrix Cookbook eq. 2.2 style).",
    code={"all": "{0} @ {1}"},
    lower=_matmul_lower,
    sample=lambda S: S.W @ S.X,
)


def _transpose_latex(n: Expr) -> list[Any]:
    (a,) = n.args
    s = style()
    if a.op.name == "inv" and s.inverse_transpose:  # (X⁻¹)ᵀ = X^{-T}
        return [(a.args[0], PREC_ATOM), "^{-" + s.t_symbol + "}"]
    return [(0, PREC_ATOM), s.sup_t]


def transpose(a: Any) -> Expr:
    """The transpose Aᵀ."""
    return Expr.make(TRANSPOSE, (as_expr(a, "transpose"),))


TRANSPOSE = defop(
    "transpose", 1,
    build=transpose,
    operator=".T",
    spell=("transpose",),
    shape=lambda args: (args[0].cols, args[0].rows),
    vjp=lambda g, out: (g.T,),
    jac=lambda out, d: None if d[0] is None else commutation(*out.args[0].shape) @ d[0],
    domain_through="all",
    sympy=lambda node, a: sympy.Transpose(a[0]) if sp.is_mat(a[0]) else a[0],
    text=lambda n: [(0, PREC_ATOM), ".T"],
    latex=_transpose_latex,
    prec=PREC_ATOM,
    latex_prec=PREC_POW,
    kind="linalg",
    doc="Aᵀ; ∂/∂A = Gᵀ.",
    code={"all": "{0}.T"},
    sample=lambda S: S.W.T,
)
