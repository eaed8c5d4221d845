"""Pieces shared by the Jacobian rules: ∂vec(out)/∂vec(x) in Kronecker form (numerator layout).

A Jacobian rule ``jac(out, dargs)`` receives, per argument, the Jacobian of vec(argument) by vec(x)
(None where the argument does not depend on x) and returns that of vec(out) (None for zero). These
are the forward-mode twins of the VJP rules; they give Jacobians and Hessians in closed form.
"""

from __future__ import annotations

from ._base import ONE, Expr, defop, dim_latex, np
from .leaves import eye, ones


def expand(arg_shape, out_shape) -> Expr | None:
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


def total(*terms: Expr | None) -> Expr | None:
    """Sum of the non-zero terms, None when all are zero."""
    present = [t for t in terms if t is not None]
    if not present:
        return None
    out = present[0]
    for t in present[1:]:
        out = out + t
    return out


def _commutation_np(m: int, n: int) -> np.ndarray:
    k = np.zeros((m * n, m * n))
    for i in range(m):
        for j in range(n):
            k[i * n + j, j * m + i] = 1.0
    return k


COMMUTATION = defop(
    "commutation", 0,
    shape=lambda args, rows, cols: (rows * cols, rows * cols),
    numpy=lambda ctx, node: _commutation_np(ctx.dim(node.get("rows")), ctx.dim(node.get("cols"))),
    text=lambda n: [f"commutation({n.get('rows').text}, {n.get('cols').text})"],
    latex=lambda n: ["K_{" + dim_latex(n.get("rows")) + "," + dim_latex(n.get("cols")) + "}"],
    kind="leaf",
    doc="The commutation matrix K with vec(Aᵀ) = K vec(A) for an m×n A (Magnus & Neudecker).",
    code={"all": lambda n, args, env:
          f"_commutation({env.dim(n.get('rows'))}, {env.dim(n.get('cols'))})"},
    code_helpers={"numpy": {"_commutation": '''def _commutation(m, n):
    """K with vec(Aᵀ) = K vec(A) for an m×n A: the identity with its rows permuted."""
    return np.eye(m * n)[np.arange(m * n).reshape(n, m).T.reshape(-1)]'''},
                  "torch": {"_commutation": '''def _commutation(m, n):
    """K with vec(Aᵀ) = K vec(A) for an m×n A: the identity with its rows permuted."""
    rows = torch.arange(m * n).reshape(n, m).T.reshape(-1)
    return torch.eye(m * n, dtype=torch.float64)[rows]'''}},
)


def commutation(rows, cols) -> Expr:
    """K_{m,n}: vec(Aᵀ) = K_{m,n} vec(A) for A of shape m×n."""
    from ..dims import dim

    rows, cols = dim(rows), dim(cols)
    if rows == ONE or cols == ONE:
        return eye(rows * cols)
    return Expr.make(COMMUTATION, (), rows=rows, cols=cols)


from .linalg import diag, kron, vec  # noqa: E402  (linalg's rules import this module lazily)
