"""JAX routines for the ops whose NumPy kernels call SciPy, written once.

Generated JAX modules bind ``np`` to ``jax.numpy`` and run the NumPy kernels unchanged, except
these: SciPy's functions take NumPy arrays, so under ``jax.jit`` (and for JAX's own derivatives)
they must be JAX's. Only the source of these functions is used (copied into generated modules,
where the same names replace the NumPy kernels'); this module never imports JAX.
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    Array = Any

__all__ = ["_cho_solve", "_erf", "_expm", "_gelu", "_solve_triangular"]


def _erf(x: "Array") -> "Array":
    """The error function, elementwise (JAX's)."""
    from jax.scipy.special import erf

    return erf(x)


def _gelu(x: "Array") -> "Array":
    """x Φ(x) with Φ the standard normal CDF (the exact GELU)."""
    from jax.scipy.special import erf

    return 0.5 * x * (1.0 + erf(x * 0.7071067811865476))  # x / √2


def _solve_triangular(a: "Array", b: "Array", lower: "bool") -> "Array":
    """x with T x = b for T the lower (or upper) triangle of a (the rest of a is not read)."""
    from jax.scipy.linalg import solve_triangular

    return solve_triangular(a, b, lower=lower)


def _expm(a: "Array") -> "Array":
    """The matrix exponential (JAX's scaling and squaring)."""
    from jax.scipy.linalg import expm

    return expm(a)


def _cho_solve(a: "Array", b: "Array") -> "Array":
    """a⁻¹ b for a symmetric positive definite a, by its Cholesky factor."""
    from jax.scipy.linalg import cho_factor, cho_solve

    return cho_solve(cho_factor(a, lower=True), b)
