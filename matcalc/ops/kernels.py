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

__all__ = ["_adjugate", "_cho_logdet", "_cho_solve", "_commutation", "_eigh_vectors", "_embed",
           "_erf", "_expm", "_gelu", "_logdet", "_logsumexp", "_norm", "_slice", "_softmax",
           "_solve_triangular", "_unkron_left", "_unkron_right", "_vector_norm"]


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
    one = np.ones(1, dtype=s.dtype)  # an array, not a list: jax.numpy concatenates arrays only
    before = np.concatenate([one, np.cumprod(s[:-1])])  # Π_{j<i} s_j
    after = np.concatenate([np.cumprod(s[::-1][:-1])[::-1], one])  # Π_{j>i} s_j
    sign = np.linalg.det(u) * np.linalg.det(vt)
    out: Array = sign * (vt.T * (before * after)) @ u.T
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


def _slice(a: "Array", r0: "int", r1: "int", c0: "int", c1: "int") -> "Array":
    """a[r0:r1, c0:c1], refusing bounds outside the array (NumPy would shorten the slice)."""
    rows, cols = a.shape
    if not (0 <= r0 < r1 <= rows and 0 <= c0 < c1 <= cols):
        raise IndexError(f"the slice [{r0}:{r1}, {c0}:{c1}] does not fit an array of shape "
                         f"{rows}×{cols}")
    out: Array = a[r0:r1, c0:c1]
    return out


def _embed(g: "Array", rows: "int", cols: "int", r0: "int", c0: "int") -> "Array":
    """A rows×cols array of zeros with g placed at (r0, c0): the gradient of a slice."""
    h, w = g.shape
    if not (0 <= r0 and r0 + h <= rows and 0 <= c0 and c0 + w <= cols):
        raise IndexError(f"a {h}×{w} block at ({r0}, {c0}) does not fit in {rows}×{cols}")
    out: Array = np.pad(g, ((r0, rows - r0 - h), (c0, cols - c0 - w)))  # no in-place write:
    return out  # the same code runs on jax.numpy, whose arrays are immutable


def _erf(x: "Array") -> "Array":
    """The error function, elementwise (SciPy's)."""
    from scipy.special import erf

    out: Array = erf(x)
    return out


def _gelu(x: "Array") -> "Array":
    """x Φ(x) with Φ the standard normal CDF (the exact GELU)."""
    from scipy.special import erf

    out: Array = 0.5 * x * (1.0 + erf(x / np.sqrt(2.0)))
    return out


def _eigh_vectors(a: "Array") -> "Array":
    """The eigenvectors of (a + aᵀ)/2 by ascending eigenvalue, each signed so that its entry of
    largest magnitude is positive (a choice that does not jump under small changes)."""
    _, v = np.linalg.eigh((a + a.T) / 2)
    pick = np.argmax(np.abs(v), axis=0)
    out: Array = v * np.sign(v[pick, np.arange(v.shape[1])])
    return out


def _solve_triangular(a: "Array", b: "Array", lower: "bool") -> "Array":
    """x with T x = b for T the lower (or upper) triangle of a (the rest of a is not read)."""
    from scipy.linalg import solve_triangular

    out: Array = solve_triangular(a, b, lower=lower)
    return out


def _expm(a: "Array") -> "Array":
    """The matrix exponential (SciPy's scaling and squaring)."""
    from scipy.linalg import expm

    out: Array = expm(a)
    return out


def _vector_norm(x: "Array", ord: "float", axis: "int | None") -> "Array":
    """The ord-norm of all entries as one vector (axis None) or of each column (0) or row (1)."""
    if axis is None:
        whole: Array = np.asarray(np.linalg.norm(x.reshape(-1), ord)).reshape(1, 1)
        return whole
    out: Array = np.linalg.norm(x, ord, axis=axis, keepdims=True)
    return out


def _cho_solve(a: "Array", b: "Array") -> "Array":
    """a⁻¹ b for a symmetric positive definite a, by its Cholesky factor."""
    from scipy.linalg import cho_factor, cho_solve

    out: Array = cho_solve(cho_factor(a, lower=True), b)
    return out


def _cho_logdet(a: "Array") -> "Array":
    """log det a for a symmetric positive definite a: twice the log-diagonal of its Cholesky
    factor."""
    diagonal = np.diag(np.linalg.cholesky(a))
    out: Array = (2.0 * np.sum(np.log(diagonal))).reshape(1, 1)
    return out
