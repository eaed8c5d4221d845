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

__all__ = ["is_symmetric", "project", "projector", "structure_of"]


def structure_of(x: Expr) -> str | None:
    """The declared structure of a symbol, or None."""
    if x.op.name != "symbol":
        return None
    value: str | None = x.get("structure")
    return value


_SYMMETRIC_STRUCTURES = ("symmetric", "spd", "diagonal")


def _factors(x: Expr) -> list[Expr]:
    """The factors of a chain of matrix products, in order."""
    out, stack = [], [x]
    while stack:
        e = stack.pop()
        if e.op.name == "matmul":
            stack += [e.args[1], e.args[0]]
        else:
            out.append(e)
    return out


def is_symmetric(x: Expr, budget: int = 200) -> bool:
    """Whether x is provably symmetric (a sufficient test: declared symmetric symbols, I, diag(v),
    sums, scalings and inverses of symmetric matrices, and products A B Aᵀ with B symmetric),
    looking at no more than ``budget`` nodes."""
    if x.rows != x.cols:
        return False
    todo, seen = [x], 0
    while todo:
        e = todo.pop()
        seen += 1
        if seen > budget:
            return False
        name = e.op.name
        if e.is_scalar or name in ("eye", "ones", "zeros"):
            continue
        if name == "symbol" and e.get("structure") in _SYMMETRIC_STRUCTURES:
            continue
        if name == "diag" and e.args[0].cols.is_one:
            continue
        summed = name in ("add", "sub") and all(a.shape == e.shape or a.is_scalar for a in e.args)
        scaled = name in ("mul", "div") and any(a.is_scalar for a in e.args)
        if summed or scaled:
            todo += [a for a in e.args if not a.is_scalar]
        elif name in ("neg", "transpose", "inv", "named", "expm", "matrix_power"):
            todo.append(e.args[0])
        elif name != "matmul" or not _palindrome(_factors(e), todo):
            return False
    return True


def _palindrome(factors: list[Expr], todo: list[Expr]) -> bool:
    """A₁ A₂ … Aₖ with Aᵢ = A_{k+1−i}ᵀ (the middle one symmetric): symmetric."""
    k = len(factors)
    for i in range(k // 2):
        a, b = factors[i], factors[k - 1 - i]
        if not (b.op.name == "transpose" and b.args[0] is a) and not (
                a.op.name == "transpose" and a.args[0] is b):
            return False
    if k % 2:
        todo.append(factors[k // 2])
    return True


def project(structure: str | None, g: Expr) -> Expr:
    """The gradient G projected onto the structure's subspace (G itself when it is provably
    there already)."""
    if structure in ("symmetric", "spd"):
        return g if is_symmetric(g) else (g + g.T) / 2
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
