"""Structured matrices: what a symbol declared symmetric, spd, diagonal, lower or upper means for
its gradient.

The convention. A function of a structured matrix S is a function on the subspace of such
matrices, and its gradient lives there: the G in the subspace with f(S + E) = f(S) + ⟨G, E⟩ +
o(‖E‖) for every E of the structure, ⟨·,·⟩ the Frobenius inner product. It is the orthogonal
projection of the unstructured gradient: (G + Gᵀ)/2 for symmetric (and spd), G ⊙ I for diagonal,
tril(G) / triu(G) for triangular. The often quoted 2G − diag(G) for symmetric S is the derivative
with respect to the n(n + 1)/2 free entries of S, not a gradient in the space of symmetric
matrices: used in ⟨·, E⟩ it counts each off-diagonal pair twice (Srinivasan & Panda,
arXiv:1911.06491); docs/guide.md shows it numerically.
"""

from __future__ import annotations

from ..dims import Dim
from ._base import Expr
from .blocks import tril, triu
from .leaves import eye, ones
from .structure import commutation, dvec

__all__ = ["project", "projector", "structure_of"]


def structure_of(x: Expr) -> str | None:
    """The declared structure of a symbol, or None."""
    if x.op.name != "symbol":
        return None
    value: str | None = x.get("structure")
    return value


def project(structure: str | None, g: Expr) -> Expr:
    """The gradient G projected onto the structure's subspace."""
    if structure in ("symmetric", "spd"):
        return (g + g.T) / 2
    if structure == "diagonal":
        return g * eye(g.rows)
    if structure == "lower":
        return tril(g)
    if structure == "upper":
        return triu(g)
    return g


def projector(structure: str | None, n: Dim) -> Expr:
    """P with vec(project(X)) = P vec(X) for n×n X (the identity for no structure)."""
    if structure in ("symmetric", "spd"):
        return (eye(n * n) + commutation(n, n)) / 2
    if structure == "diagonal":
        return dvec(eye(n))
    if structure in ("lower", "upper"):
        return dvec((tril if structure == "lower" else triu)(ones(n, n)))
    return eye(n * n)
