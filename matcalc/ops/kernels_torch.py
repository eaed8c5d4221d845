"""PyTorch routines that the ops' code templates call in generated code, written once.

Only their source is used (copied into generated modules); this module never imports torch. Their
annotations are strings, never evaluated.
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    # The functions below use torch at run time, but only in the generated modules their source is
    # copied into (which import torch); matcalc itself must not need torch.
    import torch  # noqa: TC004

__all__ = ["_adjugate", "_commutation", "_logdet", "_norm", "_unkron_left", "_unkron_right"]


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
