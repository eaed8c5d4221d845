"""Arithmetic: broadcasting elementwise +, -, *, /, **, unary minus; matrix product; transpose."""

from __future__ import annotations

from ..expr import PREC_ADD, PREC_HAD, PREC_MUL, PREC_NEG, PREC_POW
from ..latexstyle import style
from ._jac import commutation, dvec, spread, total
from .leaves import eye, ones
from ._base import (
    PREC_ATOM, Expr, InputError, ShapeError, as_expr, broadcast_shape, defop, describe, np,
)


def _scale_jac(m: Expr, dj, out: Expr):
    """The Jacobian of M ⊙ F given F's: a scaling for 1×1 M, else diag(vec(M)) times it."""
    if dj is None:
        return None
    if m.is_scalar:
        return m * dj
    return dvec(m if m.shape == out.shape else m * ones(*out.shape)) @ dj


def _neg(d):
    return None if d is None else -d


def unbroadcast(g: Expr, shape) -> Expr:
    """Sum a cotangent over the axes along which its argument was broadcast."""
    from .reductions import sum as sum_

    rows_b = shape[0].is_one and not g.rows.is_one
    cols_b = shape[1].is_one and not g.cols.is_one
    if rows_b and cols_b:
        return sum_(g)
    if rows_b:
        return sum_(g, axis=0)
    if cols_b:
        return sum_(g, axis=1)
    return g


def _sp():
    import sympy

    from .. import interop

    return sympy, interop


def _sum_sympy(node, a):
    """A ± B, broadcasts written out with OneMatrix."""
    _, sp = _sp()
    args = node.args
    if node.is_scalar:
        x, y = sp._scalar(a[0]), sp._scalar(a[1])
    else:
        x = sp._broadcast(a[0], args[0].shape, node.shape)
        y = sp._broadcast(a[1], args[1].shape, node.shape)
    return x - y if node.op.name == "sub" else x + y


def _scaling_sympy(node, a, product):
    """A product in which a 1×1 side scales (sMatrix), or ``product`` of two matrices."""
    sympy, sp = _sp()
    args = node.args
    if args[0].is_scalar or args[1].is_scalar:
        s, m = (0, 1) if args[0].is_scalar else (1, 0)
        if not sp._is_mat(a[m]) or args[m].is_scalar:
            return sp._scalar(a[0]) * sp._scalar(a[1])
        return sympy.MatMul(sp._scalar(a[s]), a[m])
    return product(a[0], a[1])


def _hadamard_sympy(node, a):
    sympy, sp = _sp()
    return _scaling_sympy(node, a, lambda x, y: sympy.HadamardProduct(
        sp._broadcast(x, node.args[0].shape, node.shape),
        sp._broadcast(y, node.args[1].shape, node.shape)))


def _div_sympy(node, a):
    sympy, sp = _sp()
    args = node.args
    if args[1].is_scalar:
        d = sp._scalar(a[1])
        if args[0].is_scalar:
            return sp._scalar(a[0]) / d
        return sympy.MatMul(sympy.Pow(d, -1), a[0])
    y = sympy.HadamardPower(sp._broadcast(a[1], args[1].shape, node.shape), -1)
    if args[0].is_scalar:
        c = sp._scalar(a[0])
        return y if c == 1 else sympy.MatMul(c, y)
    return sympy.HadamardProduct(sp._broadcast(a[0], args[0].shape, node.shape), y)


def _pow_sympy(node, a):
    sympy, sp = _sp()
    p = node.get("p")
    exponent = sympy.Integer(p) if isinstance(p, int) else sympy.Float(p)
    if node.is_scalar:
        return sympy.Pow(sp._scalar(a[0]), exponent)
    return sympy.HadamardPower(a[0], exponent)


ADD = defop(
    "add", 2,
    shape=lambda args: broadcast_shape("add", "add", *args),
    numpy=lambda ctx, node, a, b: a + b,
    vjp=lambda g, out: (unbroadcast(g, out.args[0].shape), unbroadcast(g, out.args[1].shape)),
    jac=lambda out, d: total(spread(d[0], out.args[0], out), spread(d[1], out.args[1], out)),
    domain_through="positive",
    sympy=_sum_sympy,
    text=lambda n: [(0, PREC_ADD), " + ", (1, PREC_ADD + 1)],
    latex=lambda n: [(0, PREC_ADD), " + ", (1, PREC_ADD + 1)],
    prec=PREC_ADD,
    kind="binary",
    doc="A + B, broadcasting 1-dimensions; ∂/∂A = G, ∂/∂B = G (summed over broadcast axes).",
    code={"all": "{0} + {1}"},
)

SUB = defop(
    "sub", 2,
    shape=lambda args: broadcast_shape("sub", "subtract", *args),
    numpy=lambda ctx, node, a, b: a - b,
    vjp=lambda g, out: (unbroadcast(g, out.args[0].shape), unbroadcast(-g, out.args[1].shape)),
    jac=lambda out, d: total(spread(d[0], out.args[0], out), _neg(spread(d[1], out.args[1], out))),
    sympy=_sum_sympy,
    text=lambda n: [(0, PREC_ADD), " - ", (1, PREC_ADD + 1)],
    latex=lambda n: [(0, PREC_ADD), " - ", (1, PREC_ADD + 1)],
    prec=PREC_ADD,
    kind="binary",
    doc="A − B; ∂/∂A = G, ∂/∂B = −G.",
    code={"all": "{0} - {1}"},
)

MUL = defop(
    "mul", 2,
    shape=lambda args: broadcast_shape("mul", "multiply elementwise", *args),
    numpy=lambda ctx, node, a, b: a * b,
    vjp=lambda g, out: (unbroadcast(g * out.args[1], out.args[0].shape),
                        unbroadcast(g * out.args[0], out.args[1].shape)),
    jac=lambda out, d: total(_scale_jac(out.args[1], spread(d[0], out.args[0], out), out),
                             _scale_jac(out.args[0], spread(d[1], out.args[1], out), out)),
    domain_through="positive",
    sympy=_hadamard_sympy,
    text=lambda n: [(0, PREC_MUL), " * ", (1, PREC_MUL + 1)],
    latex=lambda n: _mul_latex(n),
    prec=PREC_MUL,
    latex_prec=lambda n: _mul_latex_prec(n),
    kind="binary",
    doc="A ⊙ B (Hadamard), or scaling when one side is 1×1; ∂/∂A = G ⊙ B, ∂/∂B = G ⊙ A.",
    code={"all": "{0} * {1}"},
)


def _is_hadamard(n: Expr) -> bool:
    return n.op.name == "mul" and not (n.args[0].is_scalar or n.args[1].is_scalar)


def _mul_latex(n: Expr) -> list:
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


def _mul_latex_prec(n: Expr) -> int:
    return PREC_HAD if _is_hadamard(n) else PREC_MUL


DIV = defop(
    "div", 2,
    shape=lambda args: broadcast_shape("div", "divide", *args),
    numpy=lambda ctx, node, a, b: a / b,
    vjp=lambda g, out: (unbroadcast(g / out.args[1], out.args[0].shape),
                        unbroadcast(-(g * out) / out.args[1], out.args[1].shape)),
    jac=lambda out, d: total(_scale_jac(1 / out.args[1], spread(d[0], out.args[0], out), out),
                             _neg(_scale_jac(out / out.args[1], spread(d[1], out.args[1], out), out))),
    domain_through="positive",
    sympy=_div_sympy,
    text=lambda n: [(0, PREC_MUL), " / ", (1, PREC_MUL + 1)],
    latex=lambda n: [r"\frac{", (0, 0), "}{", (1, 0), "}"],
    prec=PREC_MUL,
    latex_prec=PREC_ATOM - 1,  # a fraction is a unit, but (a/b)^T keeps its parentheses
    domain={1: "nonzero"},
    kind="binary",
    doc="A / B elementwise (B may be 1×1); ∂/∂A = G / B, ∂/∂B = −G ⊙ (A / B) / B.",
    code={"all": "{0} / {1}"},
)


def _pow_vjp(g: Expr, out: Expr):
    (a,) = out.args
    p = out.get("p")
    if p == 1:
        return (g,)
    if p == 2:
        return (g * (2 * a),)
    return (g * (p * power(a, p - 1)),)


def _exp_text(p) -> str:
    return str(p) if isinstance(p, int) else repr(p)


POW = defop(
    "pow", 1,
    shape=lambda args, p: args[0].shape,
    numpy=lambda ctx, node, a: np.power(a, float(node.get("p"))),
    vjp=_pow_vjp,
    domain=lambda n: {} if isinstance(n.get("p"), int) and n.get("p") >= 0 else
    {0: "nonzero" if isinstance(n.get("p"), int) else "positive"},
    jac=lambda out, d: _scale_jac(out.get("p") * power(out.args[0], out.get("p") - 1), d[0], out),
    domain_through="positive",
    sympy=_pow_sympy,
    text=lambda n: [(0, PREC_POW + 1), " ** " + _exp_text(n.get("p"))],
    # a matrix's elementwise power is the Hadamard power X^{∘p}, never the matrix power
    latex=lambda n: [(0, PREC_POW + 1), "^{" + ("" if n.args[0].is_scalar else r"\circ ")
                     + _exp_text(n.get("p")) + "}"],
    prec=PREC_POW,
    kind="elementwise",
    doc="A ** p elementwise, p a constant; ∂/∂A = G ⊙ p A^(p−1).",
    code={"numpy": lambda n, args, env: f"np.power({args[0]}, {float(n.get('p'))!r})",
          "torch": lambda n, args, env: f"torch.pow({args[0]}, {float(n.get('p'))!r})"},
)


def power(a, p) -> Expr:
    """Elementwise power with a constant exponent."""
    a = as_expr(a, "power")
    if isinstance(p, Expr):
        if p.op.name != "const":
            raise InputError(f"power: the exponent must be a constant number, got {p}")
        p = p.get("value")
    if isinstance(p, bool) or not isinstance(p, (int, float, np.integer, np.floating)):
        raise InputError(f"power: the exponent must be a constant number, got {p!r}")
    p = float(p) if isinstance(p, (float, np.floating)) else int(p)
    if isinstance(p, int) and abs(p) > 2**53:
        raise InputError(f"power: the exponent {p} is too large")
    if isinstance(p, float) and p.is_integer() and abs(p) <= 2**53:
        p = int(p)
    if p != p or p in (float("inf"), float("-inf")):
        raise InputError(f"power: the exponent must be finite, got {p!r}")
    if p == 1:
        return a
    return Expr.make(POW, (a,), p=p)


NEG = defop(
    "neg", 1,
    shape=lambda args: args[0].shape,
    numpy=lambda ctx, node, a: -a,
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
)


def _matmul_shape(args):
    a, b = args
    if a.cols != b.rows:
        raise ShapeError(f"cannot multiply {describe(a)} by {describe(b)}: {a.cols} ≠ {b.rows}")
    return (a.rows, b.cols)


MATMUL = defop(
    "matmul", 2,
    shape=_matmul_shape,
    numpy=lambda ctx, node, a, b: a @ b,
    vjp=lambda g, out: (g @ out.args[1].T, out.args[0].T @ g),
    jac=lambda out, d: total(
        None if d[0] is None else kron(out.args[1].T, eye(out.args[0].rows)) @ d[0],
        None if d[1] is None else kron(eye(out.args[1].cols), out.args[0]) @ d[1]),
    domain_through="positive",
    sympy=lambda node, a: _scaling_sympy(node, a, lambda x, y: _sp()[0].MatMul(x, y)),
    text=lambda n: [(0, PREC_MUL), " @ ", (1, PREC_MUL + 1)],
    latex=lambda n: [(0, PREC_MUL), " ", (1, PREC_MUL)],  # the product is associative
    prec=PREC_MUL,
    kind="linalg",
    doc="Matrix product AB; ∂/∂A = G Bᵀ, ∂/∂B = Aᵀ G (Matrix Cookbook eq. 2.2 style).",
    code={"all": lambda n, args, env: _matmul_code(n, args, env)},
)

def _is_diagonal_matrix(x: Expr) -> bool:
    return x.op.name == "diag" and x.args[0].cols.is_one


def _matmul_code(n: Expr, args: list, env) -> str:
    """A diagonal factor becomes a broadcast: diag(v) B = v ⊙ B and A diag(v) = A ⊙ vᵀ."""
    a, b = n.args
    if _is_diagonal_matrix(a):
        return f"{env.name(a.args[0])} * {args[1]}"
    if _is_diagonal_matrix(b):
        return f"{args[0]} * {env.name(b.args[0])}.T"
    return f"{args[0]} @ {args[1]}"


def _transpose_latex(n: Expr) -> list:
    (a,) = n.args
    s = style()
    if a.op.name == "inv" and s.inverse_transpose:  # (X⁻¹)ᵀ = X^{-T}
        return [(a.args[0], PREC_ATOM), "^{-" + s.t_symbol + "}"]
    return [(0, PREC_ATOM), s.sup_t]


TRANSPOSE = defop(
    "transpose", 1,
    shape=lambda args: (args[0].cols, args[0].rows),
    numpy=lambda ctx, node, a: a.T,
    vjp=lambda g, out: (g.T,),
    jac=lambda out, d: None if d[0] is None else commutation(*out.args[0].shape) @ d[0],
    domain_through="all",
    sympy=lambda node, a: _sp()[0].Transpose(a[0]) if _sp()[1]._is_mat(a[0]) else a[0],
    text=lambda n: [(0, PREC_ATOM), ".T"],
    latex=lambda n: _transpose_latex(n),
    prec=PREC_ATOM,
    latex_prec=PREC_POW,
    kind="linalg",
    doc="Aᵀ; ∂/∂A = Gᵀ.",
    code={"all": "{0}.T"},
)


def add(a, b) -> Expr:
    """A + B (broadcasting dimensions that are 1)."""
    return Expr.make(ADD, (as_expr(a, "add"), as_expr(b, "add")))


def sub(a, b) -> Expr:
    """A − B (broadcasting dimensions that are 1)."""
    return Expr.make(SUB, (as_expr(a, "subtract"), as_expr(b, "subtract")))


def mul(a, b) -> Expr:
    """Elementwise (Hadamard) product; scaling when one side is 1×1."""
    return Expr.make(MUL, (as_expr(a, "multiply"), as_expr(b, "multiply")))


hadamard = mul


def div(a, b) -> Expr:
    """Elementwise division (by a scalar or an array of the same shape)."""
    return Expr.make(DIV, (as_expr(a, "divide"), as_expr(b, "divide")))


def neg(a) -> Expr:
    """−A."""
    return Expr.make(NEG, (as_expr(a, "negate"),))


def matmul(a, b) -> Expr:
    """Matrix product A @ B."""
    return Expr.make(MATMUL, (as_expr(a, "matmul"), as_expr(b, "matmul")))


def transpose(a) -> Expr:
    """Aᵀ."""
    return Expr.make(TRANSPOSE, (as_expr(a, "transpose"),))


from .linalg import kron  # noqa: E402
