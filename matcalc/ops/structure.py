"""Rearrangements: vec, unvec, diag, the Kronecker product and its contractions, the commutation
matrix; and the pieces every Jacobian rule builds from them.

A Jacobian rule ``jac(out, dargs)`` receives, per argument, the Jacobian of vec(argument) by vec(x)
(None where the argument does not depend on x) and returns that of vec(out) (None for zero), in
numerator layout and Kronecker form. These are the forward-mode twins of the VJP rules; they give
Jacobians and Hessians in closed form (Magnus & Neudecker).
"""

from __future__ import annotations

from typing import Any

from ..dims import Shape
from ..expr import PREC_HAD, PREC_MUL, Param
from ..latexnames import dim_latex
from . import _sympy as sp
from . import kernels, kernels_torch
from ._base import ONE, Builder, Expr, ShapeError, as_expr, builder, defop, describe, dim
from .leaves import eye, ones

__all__ = ["commutation", "diag", "dvec", "expand", "kron", "kron_contract_left",
           "kron_contract_right", "scale_jac", "spread", "total", "unvec", "vec"]


# --- pieces of Jacobian rules ---------------------------------------------------------------------

def total(*terms: Expr | None) -> Expr | None:
    """Sum of the non-zero terms, None when all are zero."""
    present = [t for t in terms if t is not None]
    if not present:
        return None
    out = present[0]
    for t in present[1:]:
        out = out + t
    return out


def expand(arg_shape: Shape, out_shape: Shape) -> Expr | None:
    """The matrix P with vec(broadcast(A)) = P vec(A); None when nothing is broadcast."""
    (ra, ca), (r, c) = arg_shape, out_shape
    if (ra, ca) == (r, c):
        return None
    if ra.is_one and ca.is_one:
        return ones(r * c, 1)
    if ra.is_one:  # a row copied down the rows: vec(𝟏 A) = (I ⊗ 𝟏) vec A
        return kron(eye(c), ones(r, 1))
    return kron(ones(c, 1), eye(r))  # a column copied along the columns


def spread(d: Expr | None, arg: Expr, out: Expr) -> Expr | None:
    """The Jacobian of broadcast(arg) given that of arg."""
    if d is None:
        return None
    p = expand(arg.shape, out.shape)
    return d if p is None else p @ d


def dvec(m: Expr) -> Expr:
    """diag(vec(M)): elementwise multiplication by M as a matrix acting on vec."""
    return diag(vec(m))


def scale_jac(m: Expr, dj: Expr | None, out: Expr) -> Expr | None:
    """The Jacobian of M ⊙ F given F's: a scaling for 1×1 M, else diag(vec(M)) times it (M
    broadcast to out's shape)."""
    if dj is None:
        return None
    if m.is_scalar:
        return m * dj
    return dvec(m if m.shape == out.shape else m * ones(*out.shape)) @ dj


# --- vec and unvec --------------------------------------------------------------------------------

VEC = defop(
    "vec", 1,
    spell=("vec",),
    latex_in=(r"\operatorname{vec}", "vec"),
    shape=lambda args: (args[0].rows * args[0].cols, ONE),
    vjp=lambda g, out: (unvec(g, *out.args[0].shape),),
    jac=lambda out, d: d[0],
    domain_through="positive",
    latex=lambda n: [r"\operatorname{vec}\left(", (0, 0), r"\right)"],
    kind="linalg",
    doc="vec(A): the columns of A stacked into one column; its VJP folds G back.",
    code={"all": "{0}.T.reshape(-1, 1)"},
    sample=lambda S: vec(S.W),
)
vec: Builder = builder(VEC)


def _unvec_shape(args: tuple[Expr, ...], rows: Any, cols: Any) -> Shape:
    (v,) = args
    if v.cols != ONE or v.rows != rows * cols:
        raise ShapeError(f"unvec: {describe(v)} is not a column of {rows}·{cols} entries")
    return (rows, cols)


UNVEC = defop(
    "unvec", 1,
    params=(Param("v"), Param("rows", "dim"), Param("cols", "dim")),
    spell=("unvec",),
    shape=_unvec_shape,
    vjp=lambda g, out: (vec(g),),
    jac=lambda out, d: d[0],
    latex=lambda n: [r"\operatorname{vec}^{-1}\left(", (0, 0), r"\right)"],
    kind="linalg",
    doc="The inverse of vec: fold an (m·n)×1 column into m×n, column by column.",
    code={"all": lambda n, args, env:
          f"{args[0]}.reshape({env.dim(n.get('cols'))}, {env.dim(n.get('rows'))}).T"},
    sample=lambda S: unvec(S.v, "m", "n"),
)
unvec: Builder = builder(UNVEC)


# --- diag -----------------------------------------------------------------------------------------

def _diag_shape(args: tuple[Expr, ...]) -> Shape:
    (a,) = args
    if a.cols.is_one:
        return (a.rows, a.rows)
    if a.rows == a.cols:
        return (a.rows, ONE)
    raise ShapeError(f"diag needs an n×1 column (→ n×n) or a square n×n matrix (→ n×1), "
                     f"got {describe(a)}")


def _diag_jac(out: Expr, d0: Expr) -> Expr:
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
    spell=("diag",),
    latex_in=(r"\operatorname{diag}", "diag", "Diag"),
    shape=_diag_shape,
    vjp=lambda g, out: (diag(g),),
    jac=lambda out, d: None if d[0] is None else _diag_jac(out, d[0]),
    sympy=lambda node, a: sp.diagonal(node, a[0]),
    latex=lambda n: [r"\operatorname{diag}\left(", (0, 0), r"\right)"],
    kind="linalg",
    doc="diag(v): n×1 → n×n diagonal; diag(A): n×n → n×1 diagonal; each is the other's VJP.",
    code={"numpy": lambda n, args, env: (f"np.diag({args[0]}[:, 0])" if n.args[0].cols.is_one
                                         else f"np.diagonal({args[0]}).reshape(-1, 1).copy()"),
          "torch": lambda n, args, env: (f"torch.diag({args[0]}[:, 0])" if n.args[0].cols.is_one
                                         else f"torch.diagonal({args[0]}).reshape(-1, 1).clone()")},
    sample=lambda S: diag(S.x),
)
diag: Builder = builder(DIAG)


# --- the commutation matrix -----------------------------------------------------------------------

def commutation(rows: Any, cols: Any) -> Expr:
    """K_{m,n}: vec(Aᵀ) = K_{m,n} vec(A) for A of shape m×n."""
    rows, cols = dim(rows), dim(cols)
    if rows == ONE or cols == ONE:
        return eye(rows * cols)
    return Expr.make(COMMUTATION, (), rows=rows, cols=cols)


COMMUTATION = defop(
    "commutation", 0,
    build=commutation,
    params=(Param("rows", "dim"), Param("cols", "dim")),
    spell=("commutation",),
    shape=lambda args, rows, cols: (rows * cols, rows * cols),
    latex=lambda n: ["K_{" + dim_latex(n.get("rows")) + "," + dim_latex(n.get("cols")) + "}"],
    kind="leaf",
    doc="The commutation matrix K with vec(Aᵀ) = K vec(A) for an m×n A (Magnus & Neudecker).",
    code={"all": lambda n, args, env:
          f"_commutation({env.dim(n.get('rows'))}, {env.dim(n.get('cols'))})"},
    code_helpers={"numpy": [kernels._commutation], "torch": [kernels_torch._commutation]},
    sample=lambda S: commutation("m", "n") @ vec(S.W),
)


# --- the Kronecker product and its contractions ---------------------------------------------------

def _kron_perm(a_shape: Shape, b_shape: Shape) -> Expr:
    """P with vec(A ⊗ B) = P (vec A ⊗ vec B): I_n ⊗ K_{q,m} ⊗ I_p for A m×n, B p×q."""
    (m, n), (p, q) = a_shape, b_shape
    return kron(kron(eye(n), commutation(q, m)), eye(p))


def _kron_jac(out: Expr, d: list[Expr | None]) -> Expr | None:
    """vec(A ⊗ B) = (I ⊗ K_{q,m} ⊗ I_p)(vec A ⊗ vec B) for A m×n, B p×q (Magnus & Neudecker)."""
    a, b = out.args
    if d[0] is None and d[1] is None:
        return None
    inner = total(None if d[0] is None else kron(d[0], vec(b)),
                  None if d[1] is None else kron(vec(a), d[1]))
    assert inner is not None
    return _kron_perm(a.shape, b.shape) @ inner


KRON = defop(
    "kron", 2,
    spell=("kron",),
    latex_in=(r"\otimes",),
    shape=lambda args: (args[0].rows * args[1].rows, args[0].cols * args[1].cols),
    vjp=lambda g, out: (kron_contract_left(g, out.args[1], out.args[0].shape),
                        kron_contract_right(g, out.args[0], out.args[1].shape)),
    jac=_kron_jac,
    domain_through="positive",
    sympy=lambda node, a: sp.scaling(node, a, sp.kronecker),
    latex=lambda n: [(0, PREC_MUL + 1), r" \otimes ", (1, PREC_MUL + 1)],
    latex_prec=PREC_HAD,  # A (B ⊗ C) keeps its parentheses
    kind="linalg",
    doc="Kronecker product A ⊗ B; its VJPs contract G's blocks with B (for A) or with A (for B).",
    # PyTorch's kron needs contiguous tensors (a transpose is a strided view)
    code={"numpy": "np.kron({0}, {1})", "torch": "torch.kron({0}.contiguous(), {1}.contiguous())"},
    sample=lambda S: kron(S.W, S.A),
)
kron: Builder = builder(KRON)


def _contract_shape(opname: str, g: Expr, other: Expr, rows: Any, cols: Any) -> Shape:
    if g.rows != rows * other.rows or g.cols != cols * other.cols:
        raise ShapeError(f"{opname}: {describe(g)} is not the shape of a Kronecker product of a "
                         f"{rows}×{cols} matrix with {describe(other)}")
    return (rows, cols)


def _contract_jac(out: Expr, d: list[Expr | None], left: bool) -> Expr | None:
    """Both contractions are linear in each argument: with u = Pᵀ vec(G) and U = unvec(u) (one
    column per entry of A), vec(C_left) = Uᵀ vec(B) and vec(C_right) = U vec(A)."""
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


def _contraction(name: str, left: bool, tex: str, doc: str, sample: Any) -> Any:
    helper = "_unkron_left" if left else "_unkron_right"

    def build(g: Any, other: Any, shape: Any) -> Expr:
        """The contraction of G's blocks with ``other``, of the given (rows, cols) shape."""
        return Expr.make(op, (as_expr(g, name), as_expr(other, name)), rows=dim(shape[0]),
                         cols=dim(shape[1]))

    op = defop(
        name, 2,
        build=build,
        params=(Param("g"), Param("other"), Param("shape", "shape")),
        shape=lambda args, rows, cols: _contract_shape(name, args[0], args[1], rows, cols),
        vjp=(lambda h, out: (kron(h, out.args[1]),
                             kron_contract_right(out.args[0], h, out.args[1].shape))) if left
        else (lambda h, out: (kron(out.args[1], h),
                              kron_contract_left(out.args[0], h, out.args[1].shape))),
        jac=lambda out, d: _contract_jac(out, d, left=left),
        text=lambda n: [name + "(", (0, 0), ", ", (1, 0),
                        f", {n.get('rows').text}, {n.get('cols').text})"],
        latex=lambda n: [r"\operatorname{unkron}_{" + tex + r"}\left(", (0, 0), ", ", (1, 0),
                         r"\right)"],
        kind="linalg",
        doc=doc,
        code={"all": lambda n, args, env: f"{helper}({args[0]}, {args[1]}, "
                                          f"{env.dim(n.get('rows'))}, {env.dim(n.get('cols'))})"},
        code_helpers={"numpy": [getattr(kernels, helper)],
                      "torch": [getattr(kernels_torch, helper)]},
        sample=sample,
    )
    return op


KRON_CONTRACT_LEFT = _contraction(
    "kron_contract_left", True, "1",
    "C_ij = Σ_kl G[(i,k),(j,l)] B_kl: the VJP of A ⊗ B with respect to A.",
    lambda S: kron_contract_left(S.K, S.A, ("m", "n")))
KRON_CONTRACT_RIGHT = _contraction(
    "kron_contract_right", False, "2",
    "C_kl = Σ_ij G[(i,k),(j,l)] A_ij: the VJP of A ⊗ B with respect to B.",
    lambda S: kron_contract_right(S.K, S.W, ("n", "n")))
kron_contract_left: Builder = builder(KRON_CONTRACT_LEFT)
kron_contract_right: Builder = builder(KRON_CONTRACT_RIGHT)
