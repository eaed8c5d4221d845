"""PyTorch routines that the ops' code templates call in generated code, written once.

Only their source is used (copied into generated modules); this module never imports torch. Their
annotations are strings, never evaluated.
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    # The functions below use torch at run time, but only in the generated modules their source is
    # copied into (which import torch); matcalc itself must not need torch.
    import torch  # noqa: TC004

__all__ = ["_adjugate", "_cho_logdet", "_cho_solve", "_commutation", "_eigh_vectors", "_embed",
           "_logdet", "_norm", "_slice", "_unkron_left", "_unkron_right"]


def _logdet(a: "torch.Tensor") -> "torch.Tensor":
    """log det(a) as a 1×1 tensor, NaN where det(a) ≤ 0."""
    sign, logabs = torch.linalg.slogdet(a)
    return torch.where(sign > 0, logabs, torch.nan).reshape(1, 1)


def _norm(a: "torch.Tensor") -> "torch.Tensor":
    """‖a‖_F as a 1×1 tensor, scaled by the largest entry so that no square overflows."""
    scale = torch.max(torch.abs(a))
    if not torch.isfinite(scale) or scale == 0:
        return scale.reshape(1, 1).clone()
    return (scale * torch.sqrt(torch.sum((a / scale) ** 2))).reshape(1, 1)


def _adjugate(a: "torch.Tensor") -> "torch.Tensor":
    """adj(a) = det(a) a⁻¹ from an SVD (defined at a singular a too); see kernels._adjugate."""
    u, s, vt = torch.linalg.svd(a)
    ones = torch.ones(1, dtype=s.dtype)
    before = torch.cat([ones, torch.cumprod(s[:-1], 0)])
    after = torch.cat([torch.flip(torch.cumprod(torch.flip(s, [0])[:-1], 0), [0]), ones])
    sign = torch.linalg.det(u) * torch.linalg.det(vt)
    out: torch.Tensor = sign * (vt.T * (before * after)) @ u.T
    return out


def _commutation(m: "int", n: "int") -> "torch.Tensor":
    """K with vec(Aᵀ) = K vec(A) for an m×n A: the identity with its rows permuted."""
    rows = torch.arange(m * n).reshape(n, m).T.reshape(-1)
    return torch.eye(m * n, dtype=torch.float64)[rows]


def _unkron_left(g: "torch.Tensor", b: "torch.Tensor", rows: "int", cols: "int") -> "torch.Tensor":
    """C[i, j] = Σ_kl G[(i, k), (j, l)] B[k, l]: the VJP of kron(A, B) with respect to A."""
    return torch.einsum("ikjl,kl->ij", g.reshape(rows, b.shape[0], cols, b.shape[1]), b)


def _unkron_right(g: "torch.Tensor", a: "torch.Tensor", rows: "int", cols: "int"
                  ) -> "torch.Tensor":
    """C[k, l] = Σ_ij G[(i, k), (j, l)] A[i, j]: the VJP of kron(A, B) with respect to B."""
    return torch.einsum("ikjl,ij->kl", g.reshape(a.shape[0], rows, a.shape[1], cols), a)


def _slice(a: "torch.Tensor", r0: "int", r1: "int", c0: "int", c1: "int") -> "torch.Tensor":
    """a[r0:r1, c0:c1], refusing bounds outside the array (PyTorch would shorten the slice)."""
    rows, cols = a.shape
    if not (0 <= r0 < r1 <= rows and 0 <= c0 < c1 <= cols):
        raise IndexError(f"the slice [{r0}:{r1}, {c0}:{c1}] does not fit an array of shape "
                         f"{rows}×{cols}")
    return a[r0:r1, c0:c1]


def _embed(g: "torch.Tensor", rows: "int", cols: "int", r0: "int", c0: "int") -> "torch.Tensor":
    """A rows×cols tensor of zeros with g placed at (r0, c0): the gradient of a slice."""
    h, w = g.shape
    if not (0 <= r0 and r0 + h <= rows and 0 <= c0 and c0 + w <= cols):
        raise IndexError(f"a {h}×{w} block at ({r0}, {c0}) does not fit in {rows}×{cols}")
    return torch.nn.functional.pad(g, (c0, cols - c0 - w, r0, rows - r0 - h))


def _eigh_vectors(a: "torch.Tensor") -> "torch.Tensor":
    """The eigenvectors of (a + aᵀ)/2 by ascending eigenvalue, each signed so that its entry of
    largest magnitude is positive."""
    _, v = torch.linalg.eigh((a + a.T) / 2)
    pick = torch.argmax(torch.abs(v), dim=0)
    out: torch.Tensor = v * torch.sign(v[pick, torch.arange(v.shape[1])])
    return out


def _cho_solve(a: "torch.Tensor", b: "torch.Tensor") -> "torch.Tensor":
    """a⁻¹ b for a symmetric positive definite a, by its Cholesky factor."""
    return torch.cholesky_solve(b, torch.linalg.cholesky(a))


def _cho_logdet(a: "torch.Tensor") -> "torch.Tensor":
    """log det a for a symmetric positive definite a, by its Cholesky factor."""
    return (2.0 * torch.sum(torch.log(torch.diagonal(torch.linalg.cholesky(a))))).reshape(1, 1)
