"""NumPy routines that the ops' code templates call, written once.

The same function serves :func:`matcalc.evaluate` (called in process) and compiled code (its
source is copied into the generated module, which therefore runs without matcalc installed).
Each routine uses only ``np`` and the other routines here, and keeps 2-D shapes. Their annotations
are strings, never evaluated: the generated module (where ``np`` may be jax.numpy) does not define
the names they use.
"""

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray

    Array = NDArray[np.float64]

__all__ = ["_adjugate", "_commutation", "_logdet", "_logsumexp", "_norm", "_softmax",
           "_unkron_left", "_unkron_right"]


def _logsumexp(a: "Array", axis: "int | None") -> "Array":
    """log Σ exp(a) along axis (None: all entries), kept 2-D; stable for large entries."""
    axes = (0, 1) if axis is None else axis
    m = np.max(a, axis=axes, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    out: Array = m + np.log(np.sum(np.exp(a - m), axis=axes, keepdims=True))
    return out


def _softmax(a: "Array", axis: "int") -> "Array":
    """exp(a) normalised along axis; stable for large entries."""
    e = np.exp(a - np.max(a, axis=axis, keepdims=True))
    out: Array = e / np.sum(e, axis=axis, keepdims=True)
    return out


def _logdet(a: "Array") -> "Array":
    """log det(a) as a 1×1 array, NaN where det(a) ≤ 0."""
    sign, logabs = np.linalg.slogdet(a)
    return np.where(sign > 0, logabs, np.nan).reshape(1, 1)


def _norm(a: "Array") -> "Array":
    """‖a‖_F as a 1×1 array, scaled by the largest entry so that no square overflows (entries
    of 1e200 have a norm, 1e400 does not)."""
    scale = np.max(np.abs(a))
    usable = np.isfinite(scale) & (scale > 0)  # no branch: the code also runs under jax.jit
    safe = np.where(usable, scale, 1.0)
    out: Array = np.where(usable, safe * np.sqrt(np.sum(np.square(a / safe))), scale)
    return out.reshape(1, 1)


def _adjugate(a: "Array") -> "Array":
    """adj(a) = det(a) a⁻¹, from an SVD a = U S Vᵀ: adj(a) = det(U) det(V) V adj(S) Uᵀ with
    adj(S) = diag(Π_{j≠i} s_j), which is defined at a singular a too."""
    u, s, vt = np.linalg.svd(a)
    n = s.shape[0]
    before = np.concatenate([[1.0], np.cumprod(s[:-1])])  # Π_{j<i} s_j
    after = np.concatenate([np.cumprod(s[::-1][:-1])[::-1], [1.0]])  # Π_{j>i} s_j
    sign = np.linalg.det(u) * np.linalg.det(vt)
    out: Array = sign * (vt.T * (before * after)[:n]) @ u.T
    return out


def _commutation(m: "int", n: "int") -> "Array":
    """K with vec(Aᵀ) = K vec(A) for an m×n A: the identity with its rows permuted."""
    return np.eye(m * n)[np.arange(m * n).reshape(n, m).T.reshape(-1)]


def _unkron_left(g: "Array", b: "Array", rows: "int", cols: "int") -> "Array":
    """C[i, j] = Σ_kl G[(i, k), (j, l)] B[k, l]: the VJP of kron(A, B) with respect to A."""
    out: Array = np.einsum("ikjl,kl->ij", g.reshape(rows, b.shape[0], cols, b.shape[1]), b)
    return out


def _unkron_right(g: "Array", a: "Array", rows: "int", cols: "int") -> "Array":
    """C[k, l] = Σ_ij G[(i, k), (j, l)] A[i, j]: the VJP of kron(A, B) with respect to B."""
    out: Array = np.einsum("ikjl,ij->kl", g.reshape(a.shape[0], rows, a.shape[1], cols), a)
    return out
