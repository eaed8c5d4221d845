"""Sampling and perturbing within a declared structure, for :func:`matcalc.check`.

A symbol declared symmetric, spd, diagonal, lower or upper is sampled with that structure (spd:
a random Gram matrix plus the identity), and its gradient — which lives in the structure's
subspace (matcalc/ops/structured.py) — is compared with finite differences along directions of
that subspace only: random directions projected onto it, and for full differences an orthonormal
basis of it (Eᵢᵢ, and (Eᵢⱼ + Eⱼᵢ)/√2 for symmetric matrices). Outside the structure the function
is not what the user declared, so no difference is taken there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

__all__ = ["basis", "direction", "project_value", "sample"]

Sampler = Callable[[np.random.Generator, set[str], tuple[int, int]], np.ndarray]


def project_value(structure: str, a: np.ndarray) -> np.ndarray:
    """The orthogonal projection of an array onto the structure's subspace."""
    if structure in ("symmetric", "spd"):
        return (a + a.T) / 2
    if structure == "diagonal":
        return np.diag(np.diag(a))
    if structure == "lower":
        return np.tril(a)
    return np.triu(a)


def sample(rng: np.random.Generator, structure: str, kinds: set[str], shape: tuple[int, int],
           plain: Sampler) -> np.ndarray:
    """A random value with the structure, meeting the domain kinds as ``plain`` would."""
    n = shape[0]
    if structure == "spd":
        a = rng.standard_normal((n, n))
        return a @ a.T / n + np.eye(n)
    base = plain(rng, kinds, shape)
    if structure in ("lower", "upper", "diagonal") and kinds & {"invertible", "spd"}:
        # a triangular or diagonal matrix is invertible through its diagonal: keep it away from 0
        base = base + np.diag(np.sign(np.diag(base)) + (np.diag(base) == 0))
    return project_value(structure, base)


def direction(rng: np.random.Generator, structure: str, shape: tuple[int, int]) -> np.ndarray:
    """A random unit direction within the structure."""
    u = project_value(structure, rng.standard_normal(shape))
    return u / np.linalg.norm(u)


def basis(structure: str, shape: tuple[int, int]) -> Iterator[np.ndarray]:
    """An orthonormal basis of the structure's subspace."""
    n = shape[0]
    for i in range(n):
        for j in range(n):
            if structure in ("symmetric", "spd") and j >= i:
                e = np.zeros(shape)
                e[i, j] = e[j, i] = 1.0 if i == j else 1 / np.sqrt(2)
                yield e
            elif (structure == "diagonal" and i == j) or (structure == "lower" and j <= i) \
                    or (structure == "upper" and j >= i):
                e = np.zeros(shape)
                e[i, j] = 1.0
                yield e
