"""Linear algebra: trace, det, logdet, inv, norm, diag, kron, vec (and the helpers their VJPs need)."""

from __future__ import annotations

from ..expr import PREC_HAD, PREC_MUL, PREC_POW
from ._base import (
    ONE, PREC_ATOM, Expr, ShapeError, as_expr, defop, describe, np, require_square,
)
from .leaves import eye, ones


def _scalar(x) -> np.ndarray:
    return np.full((1, 1), float(x))


def _dims_code(fn: str):
    """A code template ``fn(arg, ..., rows, cols)`` passing the node's shape parameters."""
    return lambda n, args, env: (f"{fn}({', '.join(args)}, {env.dim(n.get('rows'))}, "
                                 f"{env.dim(n.get('cols'))})")


def _sp():
    import sympy

    from .. import interop

    return sympy, interop


def _square_sympy(matrix_form, scalar_form):
    """trace, det, logdet, inv: the matrix expression, or the scalar one on a 1×1."""

    def convert(node, a):
        sympy, sp = _sp()
        if not sp._is_mat(a[0]) or node.args[0].is_scalar:
            return scalar_form(sympy, sp._scalar(a[0]))
        return matrix_form(sympy, a[0])

    return convert


def _kron_sympy(node, a):
    from .arith import _scaling_sympy  # arith imports this module

    return _scaling_sympy(node, a, lambda x, y: _sp()[0].KroneckerProduct(x, y))


def _norm_sympy(node, a):
    sympy, sp = _sp()
    if node.args[0].is_scalar:
        return sympy.Abs(sp._scalar(a[0]))
    return sympy.sqrt(sympy.Trace(sympy.MatMul(sympy.Transpose(a[0]), a[0])))


def _diag_sympy(node, a):
    from sympy.matrices.expressions.diagonal import DiagMatrix, DiagonalOf

    _, sp = _sp()
    if node.args[0].is_scalar:
        return sp._scalar(a[0])
    return DiagMatrix(a[0]) if node.args[0].cols.is_one else DiagonalOf(a[0])


TRACE = defop(
    "trace", 1,
    shape=lambda args: (require_square("trace", args[0]), (ONE, ONE))[1],
    numpy=lambda ctx, node, a: _scalar(np.trace(a)),
    vjp=lambda g, out: (g * eye(out.args[0].rows),),
    jac=lambda out, d: None if d[0] is None else vec(eye(out.args[0].rows)).T @ d[0],
    domain_through="positive",
    sympy=_square_sympy(lambda sp, x: sp.Trace(x), lambda sp, s: s),
    text=lambda n: ["trace(", (0, 0), ")"],
    latex=lambda n: [r"\operatorname{tr}\left(", (0, 0), r"\right)"],
    kind="linalg",
    doc="tr(A) for square A; ∂tr(A)/∂A = I (Cookbook 2.4.2).",
    code={"numpy": "np.trace({0}).reshape(1, 1)", "torch": "torch.trace({0}).reshape(1, 1)"},
)

DET = defop(
    "det", 1,
    shape=lambda args: (require_square("det", args[0]), (ONE, ONE))[1],
    numpy=lambda ctx, node, a: _scalar(np.linalg.det(a)),
    vjp=lambda g, out: (g * out * inv(out.args[0]).T,),
    jac=lambda out, d: None if d[0] is None else out * (vec(inv(out.args[0]).T).T @ d[0]),
    sympy=_square_sympy(lambda sp, x: sp.Determinant(x), lambda sp, s: s),
    text=lambda n: ["det(", (0, 0), ")"],
    latex=lambda n: [r"\det\left(", (0, 0), r"\right)"],
    domain={0: "invertible"},
    kind="linalg",
    doc="det(A); ∂det(A)/∂A = det(A) A⁻ᵀ (Cookbook eq. 49).",
    code={"numpy": "np.linalg.det({0}).reshape(1, 1)",
          "torch": "torch.linalg.det({0}).reshape(1, 1)"},
)


def _logdet_np(a):
    sign, logabs = np.linalg.slogdet(a)
    return _scalar(logabs if sign > 0 else np.nan)


LOGDET = defop(
    "logdet", 1,
    shape=lambda args: (require_square("logdet", args[0]), (ONE, ONE))[1],
    numpy=lambda ctx, node, a: _logdet_np(a),
    vjp=lambda g, out: (g * inv(out.args[0]).T,),
    jac=lambda out, d: None if d[0] is None else vec(inv(out.args[0]).T).T @ d[0],
    sympy=_square_sympy(lambda sp, x: sp.log(sp.Determinant(x)), lambda sp, s: sp.log(s)),
    text=lambda n: ["logdet(", (0, 0), ")"],
    latex=lambda n: [r"\log\det\left(", (0, 0), r"\right)"],
    domain={0: "spd"},
    kind="linalg",
    doc="log det(A) for det(A) > 0 (NaN otherwise); ∂/∂A = A⁻ᵀ (Cookbook eq. 57).",
    code={"all": "_logdet({0})"},
    code_helpers={
        "numpy": {"_logdet": '''def _logdet(a):
    """log det(a) as a 1×1 array, NaN where det(a) ≤ 0."""
    sign, logabs = np.linalg.slogdet(a)
    return np.where(sign > 0, logabs, np.nan).reshape(1, 1)'''},
        "torch": {"_logdet": '''def _logdet(a):
    """log det(a) as a 1×1 tensor, NaN where det(a) ≤ 0."""
    sign, logabs = torch.linalg.slogdet(a)
    return torch.where(sign > 0, logabs, torch.nan).reshape(1, 1)'''}},
)

INV = defop(
    "inv", 1,
    shape=lambda args: require_square("inv", args[0]),
    numpy=lambda ctx, node, a: np.linalg.inv(a),
    vjp=lambda g, out: (-(out.T @ g @ out.T),),
    jac=lambda out, d: None if d[0] is None else -(kron(out.T, out) @ d[0]),
    sympy=_square_sympy(lambda sp, x: sp.Inverse(x), lambda sp, s: 1 / s),
    text=lambda n: ["inv(", (0, 0), ")"],
    latex=lambda n: [(0, PREC_ATOM), "^{-1}"],
    latex_prec=PREC_POW,
    domain={0: "invertible"},
    kind="linalg",
    doc="A⁻¹; ∂/∂A = −A⁻ᵀ G A⁻ᵀ (Cookbook eq. 61).",
    code={"numpy": "np.linalg.inv({0})", "torch": "torch.linalg.inv({0})"},
)

NORM = defop(
    "norm", 1,
    shape=lambda args: (ONE, ONE),
    numpy=lambda ctx, node, a: _scalar(np.sqrt(np.sum(a * a))),
    vjp=lambda g, out: (g * out.args[0] / out,),
    jac=lambda out, d: None if d[0] is None else (vec(out.args[0]).T @ d[0]) / out,
    sympy=_norm_sympy,
    text=lambda n: ["norm(", (0, 0), ")"],
    latex=lambda n: [r"\left\lVert ", (0, 0),
                     r" \right\rVert" + ("" if n.args[0].cols.is_one else "_F")],
    domain={0: "nonzero"},
    kind="linalg",
    doc="Frobenius norm ‖A‖_F (Euclidean for vectors); ∂/∂A = A / ‖A‖_F.",
    code={"numpy": "np.linalg.norm({0}).reshape(1, 1)",
          "torch": "torch.linalg.norm({0}).reshape(1, 1)"},
)


def _diag_shape(args):
    (a,) = args
    if a.cols.is_one:
        return (a.rows, a.rows)
    if a.rows == a.cols:
        return (a.rows, ONE)
    raise ShapeError(f"diag needs an n×1 column (→ n×n) or a square n×n matrix (→ n×1), "
                     f"got {describe(a)}")


def _diag_np(a):
    if a.shape[1] == 1:
        return np.diag(a[:, 0])
    return np.diag(a).reshape(-1, 1).copy()


def _diag_jac(out, d0):
    (a,) = out.args
    if a.is_scalar:
        return d0
    n = a.rows
    mask = diag(vec(eye(n)))  # keeps the diagonal entries of a vec'd n×n matrix
    if a.cols.is_one:  # vec(diag(v)) = diag(vec I) (𝟏 ⊗ I) v
        return mask @ kron(ones(n, 1), eye(n)) @ d0
    return kron(ones(1, n), eye(n)) @ mask @ d0  # diag(A) = (A ⊙ I) 𝟏


DIAG = defop(
    "diag", 1,
    shape=_diag_shape,
    numpy=lambda ctx, node, a: _diag_np(a),
    vjp=lambda g, out: (diag(g),),
    jac=lambda out, d: None if d[0] is None else _diag_jac(out, d[0]),
    sympy=_diag_sympy,
    text=lambda n: ["diag(", (0, 0), ")"],
    latex=lambda n: [r"\operatorname{diag}\left(", (0, 0), r"\right)"],
    kind="linalg",
    doc="diag(v): n×1 → n×n diagonal; diag(A): n×n → n×1 diagonal; each is the other's VJP.",
    code={"numpy": lambda n, args, env: (f"np.diag({args[0]}[:, 0])" if n.args[0].cols.is_one
                                         else f"np.diagonal({args[0]}).reshape(-1, 1).copy()"),
          "torch": lambda n, args, env: (f"torch.diag({args[0]}[:, 0])" if n.args[0].cols.is_one
                                         else f"torch.diagonal({args[0]}).reshape(-1, 1).clone()")},
)

def _kron_perm(a_shape, b_shape) -> Expr:
    """P with vec(A ⊗ B) = P (vec A ⊗ vec B): I_n ⊗ K_{q,m} ⊗ I_p for A m×n, B p×q."""
    from ._jac import commutation

    (m, n), (p, q) = a_shape, b_shape
    return kron(kron(eye(n), commutation(q, m)), eye(p))


def _kron_jac(out, d):
    """vec(A ⊗ B) = (I ⊗ K_{q,m} ⊗ I_p)(vec A ⊗ vec B) for A m×n, B p×q (Magnus & Neudecker)."""
    from ._jac import total

    a, b = out.args
    if d[0] is None and d[1] is None:
        return None
    perm = _kron_perm(a.shape, b.shape)
    inner = total(None if d[0] is None else kron(d[0], vec(b)),
                  None if d[1] is None else kron(vec(a), d[1]))
    return perm @ inner


KRON = defop(
    "kron", 2,
    shape=lambda args: (args[0].rows * args[1].rows, args[0].cols * args[1].cols),
    numpy=lambda ctx, node, a, b: np.kron(a, b),
    vjp=lambda g, out: (kron_contract_left(g, out.args[1], out.args[0].shape),
                        kron_contract_right(g, out.args[0], out.args[1].shape)),
    jac=_kron_jac,
    domain_through="positive",
    sympy=lambda node, a: _kron_sympy(node, a),
    text=lambda n: ["kron(", (0, 0), ", ", (1, 0), ")"],
    latex=lambda n: [(0, PREC_MUL + 1), r" \otimes ", (1, PREC_MUL + 1)],
    latex_prec=PREC_HAD,  # A (B ⊗ C) keeps its parentheses
    kind="linalg",
    doc="Kronecker product A ⊗ B; its VJPs contract G's blocks with B (for A) or with A (for B).",
    code={"numpy": "np.kron({0}, {1})", "torch": "torch.kron({0}, {1})"},
)


def _contract_shape(opname, g, other, rows, cols):
    if g.rows != rows * other.rows or g.cols != cols * other.cols:
        raise ShapeError(f"{opname}: {describe(g)} is not the shape of a Kronecker product of a "
                         f"{rows}×{cols} matrix with {describe(other)}")
    return (rows, cols)


def _blocks(g, ra, ca, rb, cb):
    return g.reshape(ra, rb, ca, cb)


def _contract_jac(out, d, left: bool):
    """Both contractions are linear in each argument: with u = Pᵀ vec(G) and U = unvec(u) (one
    column per entry of A), vec(C_left) = Uᵀ vec(B) and vec(C_right) = U vec(A)."""
    from ._jac import total

    g, other = out.args
    a_shape, b_shape = (out.shape, other.shape) if left else (other.shape, out.shape)
    perm = _kron_perm(a_shape, b_shape)
    na, nb = a_shape[0] * a_shape[1], b_shape[0] * b_shape[1]
    dg = None
    if d[0] is not None:
        pick = kron(eye(na), vec(other).T) if left else kron(vec(other).T, eye(nb))
        dg = pick @ perm.T @ d[0]
    do = None
    if d[1] is not None:
        u = unvec(perm.T @ vec(g), nb, na)
        do = (u.T if left else u) @ d[1]
    return total(dg, do)


KRON_CONTRACT_LEFT = defop(
    "kron_contract_left", 2,
    shape=lambda args, rows, cols: _contract_shape("kron_contract_left", args[0], args[1], rows, cols),
    numpy=lambda ctx, node, g, b: np.einsum(
        "ikjl,kl->ij", _blocks(g, g.shape[0] // b.shape[0], g.shape[1] // b.shape[1], *b.shape), b),
    vjp=lambda h, out: (kron(h, out.args[1]), kron_contract_right(out.args[0], h, out.args[1].shape)),
    jac=lambda out, d: _contract_jac(out, d, left=True),
    text=lambda n: ["kron_contract_left(", (0, 0), ", ", (1, 0), ")"],
    latex=lambda n: [r"\operatorname{unkron}_{1}\left(", (0, 0), ", ", (1, 0), r"\right)"],
    kind="linalg",
    doc="C_ij = Σ_kl G[(i,k),(j,l)] B_kl: the VJP of A ⊗ B with respect to A.",
    code={"all": _dims_code("_unkron_left")},
    code_helpers={backend: {"_unkron_left": f'''def _unkron_left(g, b, rows, cols):
    """C[i, j] = Σ_kl G[(i, k), (j, l)] B[k, l]: the VJP of kron(A, B) with respect to A."""
    return {lib}.einsum("ikjl,kl->ij", g.reshape(rows, b.shape[0], cols, b.shape[1]), b)'''}
        for backend, lib in (("numpy", "np"), ("torch", "torch"))},
)

KRON_CONTRACT_RIGHT = defop(
    "kron_contract_right", 2,
    shape=lambda args, rows, cols: _contract_shape("kron_contract_right", args[0], args[1], rows, cols),
    numpy=lambda ctx, node, g, a: np.einsum(
        "ikjl,ij->kl", _blocks(g, *a.shape, g.shape[0] // a.shape[0], g.shape[1] // a.shape[1]), a),
    vjp=lambda h, out: (kron(out.args[1], h), kron_contract_left(out.args[0], h, out.args[1].shape)),
    jac=lambda out, d: _contract_jac(out, d, left=False),
    text=lambda n: ["kron_contract_right(", (0, 0), ", ", (1, 0), ")"],
    latex=lambda n: [r"\operatorname{unkron}_{2}\left(", (0, 0), ", ", (1, 0), r"\right)"],
    kind="linalg",
    doc="C_kl = Σ_ij G[(i,k),(j,l)] A_ij: the VJP of A ⊗ B with respect to B.",
    code={"all": _dims_code("_unkron_right")},
    code_helpers={backend: {"_unkron_right": f'''def _unkron_right(g, a, rows, cols):
    """C[k, l] = Σ_ij G[(i, k), (j, l)] A[i, j]: the VJP of kron(A, B) with respect to B."""
    return {lib}.einsum("ikjl,ij->kl", g.reshape(a.shape[0], rows, a.shape[1], cols), a)'''}
        for backend, lib in (("numpy", "np"), ("torch", "torch"))},
)

VEC = defop(
    "vec", 1,
    shape=lambda args: (args[0].rows * args[0].cols, ONE),
    numpy=lambda ctx, node, a: a.reshape(-1, 1, order="F"),
    vjp=lambda g, out: (unvec(g, *out.args[0].shape),),
    jac=lambda out, d: d[0],
    domain_through="positive",
    text=lambda n: ["vec(", (0, 0), ")"],
    latex=lambda n: [r"\operatorname{vec}\left(", (0, 0), r"\right)"],
    kind="linalg",
    doc="vec(A): the columns of A stacked into one column; its VJP folds G back.",
    code={"all": "{0}.T.reshape(-1, 1)"},
)


def _unvec_shape(args, rows, cols):
    (v,) = args
    if v.cols != ONE or v.rows != rows * cols:
        raise ShapeError(f"unvec: {describe(v)} is not a column of {rows}·{cols} entries")
    return (rows, cols)


UNVEC = defop(
    "unvec", 1,
    shape=_unvec_shape,
    numpy=lambda ctx, node, v: v.reshape(ctx.dim(node.get("rows")), ctx.dim(node.get("cols")),
                                         order="F"),
    vjp=lambda g, out: (vec(g),),
    jac=lambda out, d: d[0],
    text=lambda n: ["unvec(", (0, 0), f", {n.get('rows').text}, {n.get('cols').text})"],
    latex=lambda n: [r"\operatorname{vec}^{-1}\left(", (0, 0), r"\right)"],
    kind="linalg",
    doc="The inverse of vec: fold an (m·n)×1 column into m×n, column by column.",
    code={"all": lambda n, args, env:
          f"{args[0]}.reshape({env.dim(n.get('cols'))}, {env.dim(n.get('rows'))}).T"},
)


def _unary_builder(op):
    def build(a) -> Expr:
        return Expr.make(op, (as_expr(a, op.name),))

    build.__name__ = op.name
    build.__doc__ = op.doc
    return build


trace = _unary_builder(TRACE)
det = _unary_builder(DET)
logdet = _unary_builder(LOGDET)
inv = _unary_builder(INV)
norm = _unary_builder(NORM)
diag = _unary_builder(DIAG)
vec = _unary_builder(VEC)


def kron(a, b) -> Expr:
    """Kronecker product A ⊗ B."""
    return Expr.make(KRON, (as_expr(a, "kron"), as_expr(b, "kron")))


def kron_contract_left(g, b, shape) -> Expr:
    """The A-shaped contraction of G's blocks with B (VJP of kron with respect to A)."""
    from ..dims import dim

    return Expr.make(KRON_CONTRACT_LEFT, (as_expr(g), as_expr(b)), rows=dim(shape[0]),
                     cols=dim(shape[1]))


def kron_contract_right(g, a, shape) -> Expr:
    """The B-shaped contraction of G's blocks with A (VJP of kron with respect to B)."""
    from ..dims import dim

    return Expr.make(KRON_CONTRACT_RIGHT, (as_expr(g), as_expr(a)), rows=dim(shape[0]),
                     cols=dim(shape[1]))


def unvec(v, rows, cols) -> Expr:
    """Fold an (rows·cols)×1 column back into rows×cols."""
    from ..dims import dim

    return Expr.make(UNVEC, (as_expr(v, "unvec"),), rows=dim(rows), cols=dim(cols))
