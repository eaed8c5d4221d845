"""Rules of scalar factors, sums, matrix products and transposes."""

from __future__ import annotations

from collections.abc import Callable

from ..expr import Expr
from ..ops import diag, inv, kron, ones, zeros
from .base import (
    Coef,
    _combine,
    _factor,
    _factors,
    _is,
    _is_const,
    _left_chain,
    _number,
    _scaled,
    _split_coef,
    _terms,
    rule,
)


@rule("mul", "div", "neg")
def collect_scalar_factors(node: Expr) -> Expr | None:
    """c·s·A·(1/d) in canonical order: numbers folded, equal scalars' powers added, 1s dropped."""
    parts = _factor(node)
    if parts is None:
        return None
    coef, powers, core = parts
    powers = {b: p for b, p in powers.items() if p != 0}
    if core is None and not powers:
        return _number(coef)
    if core is not None and core.shape != node.shape:
        core = core * ones(*node.shape) if core.is_scalar else core
    out = _scaled(coef, powers, core, node.shape)
    return out if out.shape == node.shape else None


def _scalars_out(node: Expr, combine: Callable[[Expr, Expr], Expr]) -> Expr | None:
    """c·s·combine(A, B) from combine(cA, sB), for a product that commutes with scaling."""
    a, b = node.args
    fa, fb = _factor(a), _factor(b)
    if fa is None or fb is None or fa[2] is None or fb[2] is None:
        return None
    if fa[0] == 1 and not fa[1] and fb[0] == 1 and not fb[1]:
        return None
    powers = dict(fa[1])
    for k, p in fb[1].items():
        powers[k] = powers.get(k, 0) + p
    return _scaled(fa[0] * fb[0], powers, combine(fa[2], fb[2]), node.shape)


@rule("mul")
def scalar_out_of_hadamard(node: Expr) -> Expr | None:
    """(cA) ⊙ B = c(A ⊙ B): scalar factors move to the front of a Hadamard product."""
    a, b = node.args
    if a.is_scalar or b.is_scalar:
        return None
    return _scalars_out(node, lambda p, q: p * q)


@rule("mul")
def hadamard_with_ones(node: Expr) -> Expr | None:
    """𝟏 ⊙ A = A (same shapes: nothing is broadcast)."""
    a, b = node.args
    if _is(a, "ones") and b.shape == node.shape:
        return b
    if _is(b, "ones") and a.shape == node.shape:
        return a
    return None


@rule("mul", "matmul")
def product_with_zeros(node: Expr) -> Expr | None:
    """0 ⊙ A = 0 and 0 A = A 0 = 0."""
    if any(_is(a, "zeros") or _is_const(a, 0) for a in node.args):
        return zeros(*node.shape)
    return None




@rule("add", "sub")
def collect_like_terms(node: Expr) -> Expr | None:
    """A + A = 2A, A − A = 0, A + 0 = A, 2 + 3 = 5: equal terms merge, their coefficients add."""
    merged: dict[Expr | None, Coef] = {}  # term (None: a number) -> its coefficient, in order
    terms = _terms(node)
    plain = terms[0][0] > 0  # each term its own, with coefficient 1: nothing to collect
    for sign, e in terms:
        coef, rest = _split_coef(e)
        plain = plain and rest is e and coef == 1 and rest not in merged and not _is(e, "zeros")
        merged[rest] = merged.get(rest, 0) + sign * coef
    if plain and _is_left_chain_of(node, terms):
        return None  # the sum would be rebuilt as it is
    out = _combine([(c, t) for t, c in merged.items()], node.shape)
    if out.shape != node.shape:
        return None
    return out if out is not node else None


def _is_left_chain_of(node: Expr, terms: list[tuple[int, Expr]]) -> bool:
    """Whether node is t₀ ± t₁ ± … nested to the left, exactly as _combine would build it."""
    e = node
    for sign, t in reversed(terms[1:]):
        if e.op.name != ("add" if sign > 0 else "sub") or e.args[1] is not t:
            return False
        e = e.args[0]
    return e is terms[0][1]


@rule("add", "sub")
def factor_common_operand(node: Expr) -> Expr | None:
    """P x + Q x = (P + Q) x and x P + x Q = x (P + Q) (Cookbook: ∂xᵀAx/∂x = (A + Aᵀ)x)."""
    terms = _terms(node)
    if len(terms) < 2:
        return None
    for side in (1, 0):
        groups: dict[Expr, list[int]] = {}
        for i, (_, e) in enumerate(terms):
            if _is(e, "matmul"):
                groups.setdefault(e.args[side], []).append(i)
        for shared, idx in groups.items():
            if len(idx) < 2:
                continue
            inner = None
            for i in idx:
                sign, e = terms[i]
                other = e.args[1 - side]
                inner = (other if sign > 0 else -other) if inner is None else (
                    inner + other if sign > 0 else inner - other)
            factored = inner @ shared if side == 1 else shared @ inner
            rest = [(s, e) for j, (s, e) in enumerate(terms) if j not in idx]
            out = factored
            for s, e in rest:
                out = out + e if s > 0 else out - e
            return out if out.shape == node.shape else None
    return None


@rule("add", "sub")
def sum_of_diagonals(node: Expr) -> Expr | None:
    """diag(a) ± diag(b) = diag(a ± b) for columns a, b."""
    a, b = node.args
    if (_is_diagonal_of_column(a) and _is_diagonal_of_column(b)
            and a.shape == b.shape == node.shape):  # a 1×1 diag(s) would broadcast instead
        return diag(a.args[0] + b.args[0] if _is(node, "add") else a.args[0] - b.args[0])
    return None


# --- matrix products ---------------------------------------------------------------------------

@rule("matmul")
def product_with_identity(node: Expr) -> Expr | None:
    """A I = I A = A."""
    a, b = node.args
    if _is(b, "eye"):
        return a
    if _is(a, "eye"):
        return b
    return None


@rule("matmul")
def product_with_scalar(node: Expr) -> Expr | None:
    """A s = s A for a 1×1 s (an m×1 times a 1×1, or a 1×1 times a 1×n, is a scaling)."""
    a, b = node.args
    if b.is_scalar:
        return b * a if not a.is_scalar else a * b
    if a.is_scalar:
        return a * b
    return None


@rule("matmul")
def scalar_out_of_product(node: Expr) -> Expr | None:
    """(cA)B = A(cB) = c(AB): scalar factors and signs move to the front."""
    return _scalars_out(node, lambda p, q: p @ q)


@rule("matmul")
def left_associate(node: Expr) -> Expr | None:
    """A(BC) = (AB)C: products read left to right without parentheses (a chain in one step)."""
    out = _left_chain(node)
    return None if out is node else out


def _last_pair(node: Expr) -> tuple[Expr | None, Expr, Expr]:
    """A product as (P, x, y) with x y its last two factors: (P x) y, or x y with P None."""
    a, b = node.args
    if _is(a, "matmul"):
        return a.args[0], a.args[1], b
    return None, a, b


def _times(prefix: Expr | None, x: Expr) -> Expr:
    return x if prefix is None else prefix @ x


def _is_diagonal_of_column(x: Expr) -> bool:
    return _is(x, "diag") and x.args[0].cols.is_one


@rule("matmul")
def diagonal_times_ones(node: Expr) -> Expr | None:
    """diag(v) 𝟏 = v and 𝟏ᵀ diag(v) = vᵀ (also at the end of a longer product)."""
    prefix, a, b = _last_pair(node)
    if _is_diagonal_of_column(a) and _is(b, "ones") and b.cols.is_one:
        return _times(prefix, a.args[0])
    if prefix is None and _is_diagonal_of_column(b) and _is(a, "ones") and a.rows.is_one:
        return b.args[0].T
    return None


@rule("matmul")
def product_of_diagonals(node: Expr) -> Expr | None:
    """diag(a) diag(b) = diag(a ⊙ b) (also at the end of a longer product)."""
    prefix, a, b = _last_pair(node)
    if _is_diagonal_of_column(a) and _is_diagonal_of_column(b):
        return _times(prefix, diag(a.args[0] * b.args[0]))
    return None


# --- transposes ---------------------------------------------------------------------------------

@rule("transpose")
def transpose_of_transpose(node: Expr) -> Expr | None:
    """(Aᵀ)ᵀ = A."""
    (a,) = node.args
    return a.args[0] if _is(a, "transpose") else None


@rule("transpose")
def transpose_of_product(node: Expr) -> Expr | None:
    """(AB)ᵀ = BᵀAᵀ, and (A₁A₂…Aₙ)ᵀ = Aₙᵀ…A₁ᵀ for a whole chain in one step."""
    (a,) = node.args
    if not _is(a, "matmul"):
        return None
    factors = _factors(a)
    out = factors[-1].T
    for f in reversed(factors[:-1]):
        out = out @ f.T
    return out


@rule("transpose")
def transpose_of_symmetric(node: Expr) -> Expr | None:
    """sᵀ = s for 1×1 s; Iᵀ = I; diag(v)ᵀ = diag(v); 𝟏ᵀ and 0ᵀ change shape only."""
    (a,) = node.args
    if a.is_scalar or _is(a, "eye") or _is_diagonal_of_column(a):
        return a
    if _is(a, "ones"):
        return ones(a.cols, a.rows)
    if _is(a, "zeros"):
        return zeros(a.cols, a.rows)
    return None


@rule("transpose")
def scalar_out_of_transpose(node: Expr) -> Expr | None:
    """(cA)ᵀ = c Aᵀ and (−A)ᵀ = −Aᵀ."""
    (a,) = node.args
    parts = _factor(a)
    if parts is None or parts[2] is None or (parts[0] == 1 and not parts[1]):
        return None
    return _scaled(parts[0], parts[1], parts[2].T, node.shape)


@rule("transpose")
def transpose_of_kron(node: Expr) -> Expr | None:
    """(A ⊗ B)ᵀ = Aᵀ ⊗ Bᵀ."""
    (a,) = node.args
    if _is(a, "kron"):

        return kron(a.args[0].T, a.args[1].T)
    return None


@rule("inv")
def inverse_of_transpose(node: Expr) -> Expr | None:
    """(Aᵀ)⁻¹ = (A⁻¹)ᵀ, written A⁻ᵀ."""
    (a,) = node.args
    if _is(a, "transpose"):

        return inv(a.args[0]).T
    return None


