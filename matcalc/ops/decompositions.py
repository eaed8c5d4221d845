"""Solves and decompositions: solve, solve_triangular, cholesky, eigvalsh/eigvecsh (eigh),
svdvals, pinv, expm, matrix_power, logabsdet (slogdet); and ``inv(A) @ B`` computed as a solve.

Symmetric arguments. cholesky, eigvalsh and eigvecsh read the symmetric part (A + Aᵀ)/2 of their
argument, so they are functions of every entry and their gradients are symmetric: the gradient in
the space of symmetric matrices (see docs/guide.md, "Structured matrices"). For a symmetric A this
is A itself, and NumPy's and PyTorch's values.

Conditions. The gradient of the eigenvectors needs distinct eigenvalues (it divides by their
gaps); the eigenvalues' own gradient V diag(G) Vᵀ stays finite where eigenvalues repeat, and for a
symmetric function of them (a sum, a trace) it is the same whichever eigenvectors are chosen.
svdvals needs distinct, nonzero singular values for its gradient; pinv a matrix of full rank (its
rank constant nearby); solve, logabsdet and matrix_power with k < 0 an invertible matrix.
"""

from __future__ import annotations

import math
from typing import Any

from ..dims import ONE, Dim, Shape
from ..expr import PREC_MUL, PREC_POW, Param, lowering
from . import kernels, kernels_jax, kernels_torch
from ._base import (
    PREC_ATOM,
    Builder,
    Expr,
    InputError,
    ShapeError,
    as_expr,
    builder,
    check_axis,
    check_int,
    check_ord,
    defop,
    describe,
    reduced_shape,
    require_square,
)
from .blocks import block, flip, take, tril, triu
from .elementwise import abs as abs_
from .elementwise import sign
from .leaves import eye, ones, zeros
from .linalg import _to_scalar, det, inv
from .reductions import sum as sum_
from .selections import _by_groups, _peak
from .structure import commutation, diag, dvec, kron, total, vec

__all__ = ["cholesky", "eigh", "eigvalsh", "eigvecsh", "expm", "logabsdet", "matrix_power",
           "norm", "pinv", "slogdet", "solve", "solve_triangular", "svdvals"]


def _sym(x: Expr) -> Expr:
    """(X + Xᵀ)/2."""
    return (x + x.T) / 2


def _sym_jac(n: Dim) -> Expr:
    """P with vec((A + Aᵀ)/2) = P vec(A)."""
    return (eye(n * n) + commutation(n, n)) / 2


# --- solves ---------------------------------------------------------------------------------------

def _solve_shape(opname: str) -> Any:
    def shape(args: tuple[Expr, ...], **params: Any) -> Shape:
        a, b = args
        require_square(opname, a)
        if a.rows != b.rows:
            raise ShapeError(f"{opname}: cannot solve with {describe(a)} for {describe(b)}: "
                             f"{a.rows} ≠ {b.rows}")
        return (a.cols, b.cols)

    return shape


def _solve_vjp(g: Expr, out: Expr) -> tuple[Expr, Expr]:
    a, _ = out.args
    gb = solve(a.T, g)
    return (-(gb @ out.T), gb)


def _solve_jac(out: Expr, d: list[Expr | None]) -> Expr | None:
    """dX = A⁻¹ (dB − dA X)."""
    a, b = out.args
    ainv = inv(a)
    return total(None if d[0] is None else -(kron(out.T, ainv) @ d[0]),
                 None if d[1] is None else kron(eye(b.cols), ainv) @ d[1])


def _solve_code(n: Expr, args: list[str], lib: str) -> str:
    """Structure-aware: Cholesky for a declared spd matrix, substitution for a triangular one."""
    a, b = args
    structure = n.args[0].get("structure") if n.args[0].op.name == "symbol" else None
    if structure == "spd":
        return f"_cho_solve({a}, {b})"
    if structure in ("lower", "upper"):
        lower = structure == "lower"
        if lib == "np":
            return f"_solve_triangular({a}, {b}, {lower})"
        return f"torch.linalg.solve_triangular({a}, {b}, upper={not lower})"
    return f"{lib}.linalg.solve({a}, {b})"


SOLVE = defop(
    "solve", 2,
    params=(Param("a"), Param("b")),
    spell=("solve",),
    shape=_solve_shape("solve"),
    vjp=_solve_vjp,
    jac=_solve_jac,
    domain={0: "invertible"},
    latex=lambda n: [(0, PREC_ATOM), "^{-1} ", (1, PREC_MUL)],
    latex_prec=PREC_MUL,
    kind="linalg",
    doc="A⁻¹B, computed by an LU solve (inv(A) @ B compiles to it); ∂/∂B = A⁻ᵀG, "
        "∂/∂A = −A⁻ᵀG Xᵀ with X = A⁻¹B.",
    code={"numpy": lambda n, args, env: _solve_code(n, args, "np"),
          "torch": lambda n, args, env: _solve_code(n, args, "torch")},
    code_helpers={"numpy": [kernels._cho_solve, kernels._solve_triangular],
                  "jax": [kernels_jax._cho_solve, kernels_jax._solve_triangular],
                  "torch": [kernels_torch._cho_solve]},
    sample=lambda S: solve(S.A, S.X),
)
solve: Builder = builder(SOLVE)


def _triangle(x: Expr, lower: bool) -> Expr:
    return tril(x) if lower else triu(x)


def _solve_triangular_vjp(g: Expr, out: Expr) -> tuple[Expr, Expr]:
    a, _ = out.args
    lower = out.get("lower")
    gb = solve_triangular(a.T, g, lower=not lower)
    return (-_triangle(gb @ out.T, lower), gb)


def _solve_triangular_jac(out: Expr, d: list[Expr | None]) -> Expr | None:
    a, b = out.args
    t = _triangle(a, out.get("lower"))
    tinv = inv(t)
    mask = _triangle(ones(a.rows, a.cols), out.get("lower"))
    return total(None if d[0] is None else -(kron(out.T, tinv) @ dvec(mask) @ d[0]),
                 None if d[1] is None else kron(eye(b.cols), tinv) @ d[1])


def _solve_triangular_text(n: Expr) -> list[Any]:
    return ["solve_triangular(", (0, 0), ", ", (1, 0),
            ")" if n.get("lower") else ", lower=False)"]


def _solve_triangular_latex(n: Expr) -> list[Any]:
    which = "tril" if n.get("lower") else "triu"
    return [r"\operatorname{" + which + r"}\left(", (0, 0), r"\right)^{-1} ", (1, PREC_MUL)]


SOLVE_TRIANGULAR = defop(
    "solve_triangular", 2,
    params=(Param("a"), Param("b"), Param("lower", "bool", True, keyword=True)),
    spell=("solve_triangular",),
    shape=_solve_shape("solve_triangular"),
    vjp=_solve_triangular_vjp,
    jac=_solve_triangular_jac,
    domain=lambda n: {_triangle(n.args[0], n.get("lower")): "invertible"},
    text=_solve_triangular_text,
    latex=_solve_triangular_latex,
    latex_prec=PREC_MUL,
    kind="linalg",
    doc="T⁻¹B for T the lower (lower=True) or upper triangle of A, by substitution; the other "
        "triangle is not read. ∂/∂B = T⁻ᵀG, ∂/∂A = −tril(T⁻ᵀG Xᵀ) (triu when upper).",
    code={"numpy": lambda n, args, env: f"_solve_triangular({args[0]}, {args[1]}, "
                                        f"{n.get('lower')})",
          "torch": lambda n, args, env: f"torch.linalg.solve_triangular({args[0]}, {args[1]}, "
                                        f"upper={not n.get('lower')})"},
    code_helpers={"numpy": [kernels._solve_triangular],
                  "jax": [kernels_jax._solve_triangular]},
    sample=lambda S: solve_triangular(S.A, S.x),
)
solve_triangular: Builder = builder(SOLVE_TRIANGULAR)


# --- cholesky -------------------------------------------------------------------------------------

def _phi(m: Expr) -> Expr:
    """The lower triangle of M with its diagonal halved."""
    return tril(m) - (m * eye(m.rows)) / 2


def _cholesky_vjp(g: Expr, out: Expr) -> tuple[Expr]:
    """Ā = sym(L⁻ᵀ Φ(LᵀḠ) L⁻¹) (Murray 2016)."""
    linv = inv(out)
    return (_sym(linv.T @ _phi(out.T @ g) @ linv),)


def _cholesky_jac(out: Expr, d: list[Expr | None]) -> Expr | None:
    """dL = L Φ(L⁻¹ dS L⁻ᵀ) with dS = sym(dA)."""
    if d[0] is None:
        return None
    n = out.rows
    linv = inv(out)
    halved = tril(ones(n, n)) - eye(n) / 2
    return kron(eye(n), out) @ dvec(halved) @ kron(linv, linv) @ _sym_jac(n) @ d[0]


CHOLESKY = defop(
    "cholesky", 1,
    spell=("cholesky",),
    latex_in=("chol", "cholesky"),
    shape=lambda args: require_square("cholesky", args[0]),
    vjp=_cholesky_vjp,
    jac=_cholesky_jac,
    domain={0: "spd"},
    latex=lambda n: [r"\operatorname{chol}\left(", (0, 0), r"\right)"],
    kind="linalg",
    doc="The lower-triangular L with L Lᵀ = (A + Aᵀ)/2, A positive definite; ∂/∂A = "
        "sym(L⁻ᵀ Φ(LᵀG) L⁻¹), Φ the lower triangle with its diagonal halved.",
    code={"numpy": "np.linalg.cholesky(({0} + {0}.T) / 2)",
          "torch": "torch.linalg.cholesky(({0} + {0}.T) / 2)"},
    sample=lambda S: cholesky(S.A),
)
cholesky: Builder = builder(CHOLESKY)


# --- symmetric eigenproblems ----------------------------------------------------------------------

def _diagonal_embedding(n: Dim) -> Expr:
    """E with vec(diag(v)) = E v."""
    return dvec(eye(n)) @ kron(ones(n, 1), eye(n))


def _eigvalsh_jac(out: Expr, d: list[Expr | None]) -> Expr | None:
    """dλᵢ = vᵢᵀ dA vᵢ."""
    if d[0] is None:
        return None
    v = eigvecsh(out.args[0])
    return _diagonal_embedding(out.rows).T @ kron(v.T, v.T) @ d[0]


EIGVALSH = defop(
    "eigvalsh", 1,
    spell=("eigvalsh",),
    latex_in=("eigvalsh",),
    shape=lambda args: (require_square("eigvalsh", args[0])[0], ONE),
    vjp=lambda g, out: (eigvecsh(out.args[0]) @ diag(g) @ eigvecsh(out.args[0]).T,),
    jac=_eigvalsh_jac,
    latex=lambda n: [r"\lambda\left(", (0, 0), r"\right)"],
    kind="linalg",
    doc="The eigenvalues of (A + Aᵀ)/2, ascending, as a column; ∂/∂A = V diag(G) Vᵀ (finite "
        "where eigenvalues repeat).",
    code={"numpy": "np.linalg.eigvalsh(({0} + {0}.T) / 2).reshape(-1, 1)",
          "torch": "torch.linalg.eigvalsh(({0} + {0}.T) / 2).reshape(-1, 1)"},
    sample=lambda S: eigvalsh(S.A),
)
eigvalsh: Builder = builder(EIGVALSH)


def _gaps(a: Expr) -> Expr:
    """λⱼ − λᵢ off the diagonal, 1 on it."""
    w = eigvalsh(a)
    n = a.rows
    return ones(n, 1) @ w.T - w @ ones(1, n) + eye(n)


def _inverse_gaps(a: Expr) -> Expr:
    """F with Fᵢⱼ = 1 / (λⱼ − λᵢ) off the diagonal and 0 on it."""
    n = a.rows
    return (ones(n, n) - eye(n)) / _gaps(a)


def _eigvecsh_vjp(g: Expr, out: Expr) -> tuple[Expr]:
    a = out.args[0]
    return (_sym(out @ (_inverse_gaps(a) * (out.T @ g)) @ out.T),)


def _eigvecsh_jac(out: Expr, d: list[Expr | None]) -> Expr | None:
    """dV = V (F ⊙ (Vᵀ dS V)), dS = sym(dA)."""
    if d[0] is None:
        return None
    a, n = out.args[0], out.rows
    return (kron(eye(n), out) @ dvec(_inverse_gaps(a)) @ kron(out.T, out.T) @ _sym_jac(n)
            @ d[0])


EIGVECSH = defop(
    "eigvecsh", 1,
    spell=("eigvecsh",),
    latex_in=("eigvecsh",),
    shape=lambda args: require_square("eigvecsh", args[0]),
    vjp=_eigvecsh_vjp,
    jac=_eigvecsh_jac,
    domain=lambda n: {_gaps(n.args[0]): "kink"},
    latex=lambda n: [r"\operatorname{eigvecsh}\left(", (0, 0), r"\right)"],
    kind="linalg",
    doc="The orthonormal eigenvectors of (A + Aᵀ)/2 as columns, by ascending eigenvalue, each "
        "signed so its largest entry is positive; needs distinct eigenvalues: ∂/∂A = "
        "sym(V (F ⊙ VᵀG) Vᵀ), Fᵢⱼ = 1/(λⱼ − λᵢ).",
    code={"all": "_eigh_vectors({0})"},
    code_helpers={"numpy": [kernels._eigh_vectors], "torch": [kernels_torch._eigh_vectors]},
    sample=lambda S: eigvecsh(S.A),
)
eigvecsh: Builder = builder(EIGVECSH)


def eigh(a: Any) -> tuple[Expr, Expr]:
    """(eigenvalues, eigenvectors) of the symmetric part of A, as numpy.linalg.eigh."""
    return eigvalsh(a), eigvecsh(a)


# --- singular values, pseudo-inverse --------------------------------------------------------------

def _svdvals_shape(args: tuple[Expr, ...]) -> Shape:
    (a,) = args
    r, c = a.shape
    if r == c or c.is_one:
        return (c, ONE)
    if r.is_one:
        return (r, ONE)
    if r.is_int and c.is_int:
        return (r if r.coef < c.coef else c, ONE)
    raise ShapeError(f"svdvals: {describe(a)} has min({r}, {c}) singular values, which depends "
                     f"on its sizes; take them of a square matrix such as {a.name or 'A'}ᵀ "
                     f"{a.name or 'A'}, or declare sizes")


def _svd_vjp(g: Expr, out: Expr) -> tuple[Expr]:
    """U diag(G) Vᵀ, written with the eigenvectors of AᵀA (or AAᵀ) so that it can be
    differentiated again: uᵢ = A vᵢ / σᵢ."""
    a = out.args[0]
    if out.rows == a.cols:
        v = flip(eigvecsh(a.T @ a), axis=1)  # by descending singular value
        return (a @ v @ diag(g / out) @ v.T,)
    u = flip(eigvecsh(a @ a.T), axis=1)
    return (u @ diag(g / out) @ u.T @ a,)


def _svd_jac(out: Expr, d: list[Expr | None]) -> Expr | None:
    """dσᵢ = uᵢᵀ dA vᵢ with uᵢ = A vᵢ / σᵢ (or vᵢ = Aᵀuᵢ / σᵢ for a wide A)."""
    if d[0] is None:
        return None
    a, k = out.args[0], out.rows
    pick = diag(1 / out) @ _diagonal_embedding(k).T
    if k == a.cols:
        v = flip(eigvecsh(a.T @ a), axis=1)
        return pick @ kron(v.T, (a @ v).T) @ d[0]
    u = flip(eigvecsh(a @ a.T), axis=1)
    return pick @ kron((a.T @ u).T, u.T) @ d[0]


SVDVALS = defop(
    "svdvals", 1,
    spell=("svdvals",),
    latex_in=("svdvals",),
    shape=_svdvals_shape,
    vjp=_svd_vjp,
    jac=_svd_jac,
    domain=lambda n: {n: "positive"},
    latex=lambda n: [r"\operatorname{svdvals}\left(", (0, 0), r"\right)"],
    kind="linalg",
    doc="The singular values of A, descending, as a column; ∂/∂A = U diag(G) Vᵀ (distinct, "
        "nonzero singular values).",
    code={"numpy": "np.linalg.svd({0}, compute_uv=False).reshape(-1, 1)",
          "torch": "torch.linalg.svdvals({0}).reshape(-1, 1)"},
    sample=lambda S: svdvals(S.A),
)
svdvals: Builder = builder(SVDVALS)


def _pinv_vjp(g: Expr, out: Expr) -> tuple[Expr]:
    """Ā = −XᵀGXᵀ + (I − AX)GᵀXXᵀ + XᵀXGᵀ(I − XA) for X = A⁺ (constant rank)."""
    a, x = out.args[0], out
    left = eye(a.rows) - a @ x
    right = eye(a.cols) - x @ a
    return (-(x.T @ g @ x.T) + left @ g.T @ x @ x.T + x.T @ x @ g.T @ right,)


def _pinv_jac(out: Expr, d: list[Expr | None]) -> Expr | None:
    if d[0] is None:
        return None
    a, x = out.args[0], out
    m, n = a.shape
    k = commutation(m, n)
    left = eye(m) - a @ x
    right = eye(n) - x @ a
    return (-kron(x.T, x) + kron(left.T, x @ x.T) @ k + kron(x.T @ x, right) @ k) @ d[0]


PINV = defop(
    "pinv", 1,
    spell=("pinv",),
    latex_in=("pinv",),
    shape=lambda args: (args[0].cols, args[0].rows),
    vjp=_pinv_vjp,
    jac=_pinv_jac,
    latex=lambda n: [(0, PREC_ATOM), "^{+}"],
    latex_prec=PREC_POW,
    kind="linalg",
    doc="The Moore–Penrose pseudo-inverse A⁺ (n×m for m×n A); for constant rank ∂/∂A = −XᵀGXᵀ "
        "+ (I − AX)GᵀXXᵀ + XᵀXGᵀ(I − XA), X = A⁺ (Golub & Pereyra).",
    code={"numpy": "np.linalg.pinv({0})", "torch": "torch.linalg.pinv({0})"},
    sample=lambda S: pinv(S.W),
)
pinv: Builder = builder(PINV)


# --- exponential and powers -----------------------------------------------------------------------

def _expm_vjp(g: Expr, out: Expr) -> tuple[Expr]:
    """The adjoint Fréchet derivative: the top-right block of expm([[Aᵀ, G], [0, Aᵀ]])."""
    a = out.args[0]
    n = a.rows
    big = expm(block([[a.T, g], [zeros(n, n), a.T]]))
    return (take(big, 0, n, n, n + n),)


def _expm_jac(out: Expr, d: list[Expr | None]) -> Expr | None:
    """vec L(A, E) = (I ⊗ e^A) φ₁(Aᵀ ⊗ I − I ⊗ A) vec E, φ₁(M) the top-right block of
    expm([[M, I], [0, 0]])."""
    if d[0] is None:
        return None
    a = out.args[0]
    n = a.rows
    nn = n * n
    m = kron(a.T, eye(n)) - kron(eye(n), a)
    phi = take(expm(block([[m, eye(nn)], [zeros(nn, nn), zeros(nn, nn)]])), 0, nn, nn, nn + nn)
    return kron(eye(n), out) @ phi @ d[0]


EXPM = defop(
    "expm", 1,
    spell=("expm",),
    latex_in=("expm",),
    shape=lambda args: require_square("expm", args[0]),
    vjp=_expm_vjp,
    jac=_expm_jac,
    latex=lambda n: [r"\operatorname{expm}\left(", (0, 0), r"\right)"],
    kind="linalg",
    doc="The matrix exponential e^A; ∂/∂A = the top-right block of expm([[Aᵀ, G], [0, Aᵀ]]) "
        "(the adjoint of its Fréchet derivative).",
    code={"numpy": "_expm({0})", "torch": "torch.linalg.matrix_exp({0})"},
    code_helpers={"numpy": [kernels._expm], "jax": [kernels_jax._expm]},
    sample=lambda S: expm(S.A),
)
expm: Builder = builder(EXPM)


def matrix_power(a: Any, k: Any) -> Expr:
    """A^k for an integer k (A⁰ = I; a negative k is a power of A⁻¹)."""
    x = as_expr(a, "matrix_power")
    k = check_int("matrix_power", "k", k)
    require_square("matrix_power", x)
    if k < 0:
        return matrix_power(inv(x), -k)
    if k == 0:
        return eye(x.rows)
    if k == 1:
        return x
    return Expr.make(MATRIX_POWER, (x,), k=k)


def _matrix_power_vjp(g: Expr, out: Expr) -> tuple[Expr]:
    """Σᵢ (Aᵀ)ⁱ G (Aᵀ)^(k−1−i)."""
    a, k = out.args[0], out.get("k")
    terms = [matrix_power(a.T, i) @ g @ matrix_power(a.T, k - 1 - i) for i in range(k)]
    return (total(*terms) or zeros(*a.shape),)


def _matrix_power_jac(out: Expr, d: list[Expr | None]) -> Expr | None:
    if d[0] is None:
        return None
    a, k = out.args[0], out.get("k")
    terms = [kron(matrix_power(a, k - 1 - i).T, matrix_power(a, i)) @ d[0] for i in range(k)]
    return total(*terms)


MATRIX_POWER = defop(
    "matrix_power", 1,
    build=matrix_power,
    params=(Param("a"), Param("k", "int")),
    spell=("matrix_power",),
    shape=lambda args, k: require_square("matrix_power", args[0]),
    vjp=_matrix_power_vjp,
    jac=_matrix_power_jac,
    latex=lambda n: [(0, PREC_ATOM), "^{" + str(n.get("k")) + "}"],
    latex_prec=PREC_POW,
    kind="linalg",
    doc="A^k, the matrix power, for an integer k; ∂/∂A = Σᵢ (Aᵀ)ⁱ G (Aᵀ)^(k−1−i).",
    code={"numpy": lambda n, args, env: f"np.linalg.matrix_power({args[0]}, {n.get('k')})",
          "torch": lambda n, args, env: f"torch.linalg.matrix_power({args[0]}, {n.get('k')})"},
    sample=lambda S: matrix_power(S.A, 3),
)


LOGABSDET = defop(
    "logabsdet", 1,
    spell=("logabsdet",),
    latex_in=("logabsdet",),
    shape=_to_scalar("logabsdet"),
    vjp=lambda g, out: (g * inv(out.args[0]).T,),
    jac=lambda out, d: None if d[0] is None else vec(inv(out.args[0]).T).T @ d[0],
    domain={0: "invertible"},
    latex=lambda n: [r"\log\left|\det\left(", (0, 0), r"\right)\right|"],
    kind="linalg",
    doc="log |det A| (any sign of det A ≠ 0); ∂/∂A = A⁻ᵀ.",
    code={"numpy": "np.linalg.slogdet({0})[1].reshape(1, 1)",
          "torch": "torch.linalg.slogdet({0})[1].reshape(1, 1)"},
    sample=lambda S: logabsdet(S.A),
)
logabsdet: Builder = builder(LOGABSDET)


def slogdet(a: Any) -> tuple[Expr, Expr]:
    """(sign of det A, log |det A|), as numpy.linalg.slogdet."""
    return sign(det(a)), logabsdet(a)


# --- inv(A) @ B is a solve ------------------------------------------------------------------------

@lowering("matmul")
def _solve_lower(n: Expr) -> Expr | None:
    """A⁻¹B = solve(A, B): one LU factorisation and no explicit inverse."""
    a, b = n.args
    if a.op.name == "inv" and not b.is_scalar:
        return solve(a.args[0], b)
    return None



# --- norms ----------------------------------------------------------------------------------------

def _norm_sympy(node: Expr, a: list[Any]) -> Any:
    import sympy

    from . import _sympy as sp

    if node.args[0].is_scalar:
        return sympy.Abs(sp.scalar(a[0]))
    return sympy.sqrt(sympy.Trace(sympy.MatMul(sympy.Transpose(a[0]), a[0])))


def _frobenius_latex(n: Expr) -> list[Any]:
    return [r"\left\lVert ", (0, 0), r" \right\rVert" + ("" if n.args[0].cols.is_one else "_F")]


def norm(x: Any, ord: Any = None, axis: Any = None) -> Expr:
    """The norm of NumPy's ``linalg.norm``: Frobenius (Euclidean for vectors) by default; ord=1,
    2, inf, -inf or p ≥ 1 for vectors (or along an axis: one norm per column, axis 0, or per
    row, axis 1); ord=1, 2 (spectral), inf, 'nuc' (nuclear) or 'fro' for matrices."""
    a = as_expr(x, "norm")
    ord = check_ord("norm", "ord", ord)
    axis = check_axis("norm", axis, True)
    vector = a.rows.is_one or a.cols.is_one
    if axis is None and ord in (None, "fro") or (vector and axis is None and ord == 2):
        if ord == "fro" and vector:
            raise InputError("norm: ord='fro' is for matrices; a vector's 2-norm is ord=2")
        return Expr.make(NORM, (a,))
    if axis is not None or vector:
        if ord in ("fro", "nuc"):
            raise InputError(f"norm: ord={ord!r} is for matrices, not for vectors or norms "
                             f"along an axis")
        return Expr.make(VECTOR_NORM, (a,), ord=2 if ord is None else ord, axis=axis)
    if ord not in (1, 2, math.inf, "nuc"):
        raise InputError(f"norm: a matrix norm of order {ord!r} is not supported (use 1, 2, "
                         f"inf, 'fro' or 'nuc')")
    return Expr.make(MATRIX_NORM, (a,), ord=ord)


NORM = defop(
    "norm", 1,
    build=norm,
    params=(Param("x"), Param("ord", "ord", None, keyword=True),
            Param("axis", "axis", None, keyword=True)),
    spell=("norm",),
    shape=lambda args, **params: (ONE, ONE),
    vjp=lambda g, out: (g * out.args[0] / out,),
    jac=lambda out, d: None if d[0] is None else (vec(out.args[0]).T @ d[0]) / out,
    sympy=_norm_sympy,
    latex=_frobenius_latex,
    domain={0: "nonzero"},
    kind="linalg",
    doc="Frobenius norm ‖A‖_F (Euclidean for vectors); ∂/∂A = A / ‖A‖_F. norm(x, ord=…, "
        "axis=…) gives the other norms (vector_norm, matrix_norm).",
    code={"all": "_norm({0})"},  # scaled: entries of 1e200 have a norm
    code_helpers={"numpy": [kernels._norm], "torch": [kernels_torch._norm]},
    sample=lambda S: norm(S.W),
)


def _ord_latex(ord: Any) -> str:
    return {math.inf: r"\infty", -math.inf: r"-\infty", "nuc": "*"}.get(ord, str(ord))


def _vector_norm_weights(out: Expr) -> Expr:
    """∂out/∂x entry by entry (each output depends on its own column, row or the whole)."""
    x, p, axis = out.args[0], out.get("ord"), out.get("axis")
    if p == 2:
        return x / out
    if p == 1:
        return sign(x)
    if math.isinf(p):
        return sign(x) * _peak(abs_(x), out, axis)
    weights: Expr = sign(x) * (abs_(x) / out) ** (p - 1)
    return weights


def _vector_norm_shape(args: tuple[Expr, ...], ord: Any, axis: Any) -> Shape:
    return reduced_shape(args[0], axis)


def _vector_norm_text(n: Expr) -> list[Any]:
    p, axis = n.get("ord"), n.get("axis")
    out: list[Any] = ["norm(", (0, 0)]
    if p != 2 or axis is None:
        out.append(f", ord={_ord_text(p)}")
    if axis is not None:
        out.append(f", axis={axis}")
    return out + [")"]


def _ord_text(p: Any) -> str:
    return {math.inf: "inf", -math.inf: "-inf"}.get(p, repr(p) if isinstance(p, float) else
                                                   str(p))


_WHICH = {None: "", 0: r", \text{col}", 1: r", \text{row}"}


VECTOR_NORM = defop(
    "vector_norm", 1,
    build=lambda x, ord=2, axis=None: norm(x, ord=ord, axis=axis),
    params=(Param("x"), Param("ord", "ord", 2, keyword=True),
            Param("axis", "axis", None, keyword=True)),
    shape=_vector_norm_shape,
    vjp=lambda g, out: (g * _vector_norm_weights(out),),
    jac=lambda out, d: _by_groups(out, d[0], _vector_norm_weights(out)),
    domain=lambda n: {abs_(n.args[0]) - n: "kink"} if math.isinf(n.get("ord"))
    else {n.args[0]: "kink"} if n.get("ord") == 1 else {n: "positive"},
    text=_vector_norm_text,
    latex=lambda n: [r"\left\lVert ", (0, 0), r" \right\rVert_{" + _ord_latex(n.get("ord"))
                     + _WHICH[n.get("axis")] + "}"],
    kind="reduction",
    doc="The p-norm (Σ|x|ᵖ)^(1/p) of a vector, or of each column (axis 0) or row (axis 1); "
        "p = inf is max |x|. ∂/∂x = G ⊙ sign(x) (|x| / ‖x‖)^(p−1); for inf, G at the largest "
        "|x| (shared by ties).",
    code={"numpy": lambda n, args, env: f"_vector_norm({args[0]}, {_ord_np(n)}, "
                                        f"{_axis_np(n)})",
          "torch": lambda n, args, env: f"torch.linalg.vector_norm({args[0]}, ord={_ord_np(n)}, "
                                        f"dim={_axis_np(n, torch=True)}, keepdim=True)"},
    code_helpers={"numpy": [kernels._vector_norm]},
    sample=lambda S: norm(S.Z, ord=1, axis=0),
)


def _ord_np(n: Expr) -> str:
    p = n.get("ord")
    return {math.inf: "float('inf')", -math.inf: "float('-inf')"}.get(p, repr(p))


def _axis_np(n: Expr, torch: bool = False) -> str:
    axis = n.get("axis")
    if axis is None:
        return "(0, 1)" if torch else "None"
    return str(axis)


def _matrix_norm_vjp(g: Expr, out: Expr) -> tuple[Expr]:
    a, p = out.args[0], out.get("ord")
    if p == "nuc":
        s = svdvals(a)
        return (SVDVALS.vjp(g * ones(*s.shape), s)[0],)  # type: ignore[misc]
    if p == 2:
        s = svdvals(a)
        return (SVDVALS.vjp(g * _peak(s, out, None), s)[0],)  # type: ignore[misc]
    axis = 0 if p == 1 else 1  # 1: the largest column sum of |A|; inf: the largest row sum
    sums = sum_(abs_(a), axis=axis)
    return (g * sign(a) * _peak(sums, out, None),)


MATRIX_NORM = defop(
    "matrix_norm", 1,
    build=lambda x, ord: norm(x, ord=ord),
    params=(Param("x"), Param("ord", "ord")),
    shape=lambda args, ord: (_svdvals_shape(args) if ord in (2, "nuc") else None, (ONE, ONE))[1],
    vjp=_matrix_norm_vjp,
    jac=lambda out, d: None if d[0] is None else vec(_matrix_norm_vjp(ones(1, 1), out)[0]).T
    @ d[0],
    domain=lambda n: {svdvals(n.args[0]): "positive"} if n.get("ord") in (2, "nuc") else
    {n.args[0]: "kink"},
    text=lambda n: ["norm(", (0, 0), f", ord={_ord_text(n.get('ord'))})"],
    latex=lambda n: [r"\left\lVert ", (0, 0), r" \right\rVert_{" + _ord_latex(n.get("ord"))
                     + "}"],
    kind="linalg",
    doc="Matrix norms: ord=1 the largest column sum of |A|, inf the largest row sum, 2 the "
        "largest singular value (spectral), 'nuc' their sum (nuclear); ∂ of the spectral norm "
        "is u₁v₁ᵀ, of the nuclear U Vᵀ.",
    code={"numpy": lambda n, args, env: f"np.linalg.norm({args[0]}, ord={_ord_np(n)})"
                                        ".reshape(1, 1)",
          "torch": lambda n, args, env: f"torch.linalg.matrix_norm({args[0]}, "
                                        f"ord={_ord_np(n)}).reshape(1, 1)"},
    sample=lambda S: norm(S.A, ord="nuc"),
)
