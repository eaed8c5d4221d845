"""NumPy routines that the ops' code templates call, written once.

The same function serves :func:`matcalc.evaluate` (called in process) and compiled code (its
source is copied into the generated module, which therefore runs without matcalc installed).
Each routine uses only ``np`` and the other routines here, and keeps 2-D shapes.
"""

from __future__ import annotations

import numpy as np

__all__ = ["_commutation", "_logdet", "_logsumexp", "_softmax", "_unkron_left", "_unkron_right"]


def _logsumexp(a, axis):
    """log Σ exp(a) along axis (None: all entries), kept 2-D; stable for large entries."""
    axis = (0, 1) if axis is None else axis
    m = np.max(a, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    return m + np.log(np.sum(np.exp(a - m), axis=axis, keepdims=True))


def _softmax(a, axis):
    """exp(a) normalised along axis; stable for large entries."""
    e = np.exp(a - np.max(a, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def _logdet(a):
    """log det(a) as a 1×1 array, NaN where det(a) ≤ 0."""
    sign, logabs = np.linalg.slogdet(a)
    return np.where(sign > 0, logabs, np.nan).reshape(1, 1)


def _commutation(m, n):
    """K with vec(Aᵀ) = K vec(A) for an m×n A: the identity with its rows permuted."""
    return np.eye(m * n)[np.arange(m * n).reshape(n, m).T.reshape(-1)]


def _unkron_left(g, b, rows, cols):
    """C[i, j] = Σ_kl G[(i, k), (j, l)] B[k, l]: the VJP of kron(A, B) with respect to A."""
    return np.einsum("ikjl,kl->ij", g.reshape(rows, b.shape[0], cols, b.shape[1]), b)


def _unkron_right(g, a, rows, cols):
    """C[k, l] = Σ_ij G[(i, k), (j, l)] A[i, j]: the VJP of kron(A, B) with respect to B."""
    return np.einsum("ikjl,ij->kl", g.reshape(a.shape[0], rows, a.shape[1], cols), a)
