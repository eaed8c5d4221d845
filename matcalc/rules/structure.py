"""Rules of vec, Kronecker products, diagonals, sums and traces, ones, inverses, exp and powers."""

from __future__ import annotations

from fractions import Fraction

from ..expr import Expr
from ..ops import const, kron, ones, size, softmax, trace
from .arithmetic import _is_diagonal_of_column, _last_pair, _times
from .base import Coef, _factor, _is, _is_const, _scaled, _terms, rule

# --- vec, kron, diag ------------------------------------------------------------------------------

@rule("vec")
def vec_of_column(node: Expr) -> Expr | None:
    """vec(v) = v for a column v; vec(unvec(v)) = v."""
    (a,) = node.args
    if a.cols.is_one:
        return a
    if _is(a, "unvec"):
        return a.args[0]
    return None


@rule("unvec")
def unvec_of_vec(node: Expr) -> Expr | None:
    """unvec(vec(A)) = A."""
    (a,) = node.args
    return a.args[0] if _is(a, "vec") and a.args[0].shape == node.shape else None


@rule("kron")
def kron_with_one(node: Expr) -> Expr | None:
    """I₁ ⊗ A = A ⊗ I₁ = A, and s ⊗ A = sA for a 1×1 s."""
    a, b = node.args
    if a.is_scalar:
        return b if _is(a, "eye") or _is_const(a, 1) else a * b
    if b.is_scalar:
        return a if _is(b, "eye") or _is_const(b, 1) else b * a
    return None


@rule("diag")
def diag_of_diag(node: Expr) -> Expr | None:
    """diag(diag(v)) = v for a column v."""
    (a,) = node.args
    if _is_diagonal_of_column(a) and node.cols.is_one:
        return a.args[0]
    return None


@rule("eye", "ones", "zeros")
def one_by_one_constant(node: Expr) -> Expr | None:
    """I₁ = 𝟏₁ₓ₁ = 1 and 0₁ₓ₁ = 0: a 1×1 constant is a number."""
    if node.is_scalar:
        return const(0 if node.op.name == "zeros" else 1)
    return None


@rule("sum", "mean")
def scalar_out_of_sum(node: Expr) -> Expr | None:
    """Σ(cA) = c ΣA: numbers and 1×1 factors move out of a sum of entries."""
    (a,) = node.args
    parts = _factor(a)
    if parts is None or parts[2] is None or (parts[0] == 1 and not parts[1]):
        return None
    inner = Expr.make(node.op, (parts[2],), **dict(node.params))
    return _scaled(parts[0], parts[1], inner, node.shape)


@rule("add", "sub")
def common_scalar_out_of_sum(node: Expr) -> Expr | None:
    """c A + c B = c (A + B) for a 1×1 factor c shared by every term (numbers stay inside)."""
    terms = _terms(node)
    if len(terms) < 2:
        return None
    split: list[tuple[Coef, dict[Expr, Coef], Expr]] = []
    for _, e in terms:
        parts = _factor(e)
        if parts is None or parts[2] is None:
            return None
        split.append((parts[0], parts[1], parts[2]))
    common = dict(split[0][1])
    for _, powers, _ in split[1:]:
        common = {b: p for b, p in common.items() if b in powers and (powers[b] > 0) == (p > 0)}
        common = {b: (min(p, powers[b]) if p > 0 else max(p, powers[b])) for b, p in common.items()}
    common = {b: p for b, p in common.items() if p != 0}
    if not common:
        return None
    inner: Expr | None = None
    for (sign, _), (coef, powers, core) in zip(terms, split):
        rest = {b: p - common.get(b, 0) for b, p in powers.items()}
        t = _scaled(coef, {b: p for b, p in rest.items() if p != 0}, core, core.shape)
        inner = (t if sign > 0 else -t) if inner is None else (inner + t if sign > 0 else inner - t)
    return _scaled(Fraction(1), common, inner, node.shape)


@rule("sum")
def sum_of_identity(node: Expr) -> Expr | None:
    """𝟏ᵀI = 𝟏ᵀ, I𝟏 = 𝟏 and 𝟏ᵀI𝟏 = n: sums of an identity's entries."""
    (a,) = node.args
    if not _is(a, "eye"):
        return None
    axis = node.get("axis")
    if axis is None:

        return size(a.rows)
    return ones(1, a.cols) if axis == 0 else ones(a.rows, 1)


@rule("sum")
def sum_of_products_is_inner_product(node: Expr) -> Expr | None:
    """Σᵢ aᵢbᵢ = aᵀb for columns a, b (and abᵀ for rows summed along axis 1)."""
    (e,) = node.args
    if not _is(e, "mul") or e.args[0].shape != e.args[1].shape or e.args[0].is_scalar:
        return None
    a, b = e.args
    axis = node.get("axis")
    if a.cols.is_one and axis in (None, 0):
        return a.T @ b
    if a.rows.is_one and axis in (None, 1):
        return a @ b.T
    return None


@rule("sum")
def sum_of_diagonal_is_trace(node: Expr) -> Expr | None:
    """Σ (I ⊙ E) = tr(E)."""
    (e,) = node.args
    if node.get("axis") is not None or not _is(e, "mul"):
        return None
    a, b = e.args

    if _is(a, "eye") and b.shape == a.shape:
        return trace(b)
    if _is(b, "eye") and a.shape == b.shape:
        return trace(a)
    return None


@rule("matmul")
def product_of_ones(node: Expr) -> Expr | None:
    """𝟏ₘₓₖ 𝟏ₖₓₙ = k 𝟏ₘₓₙ: a product of ones is ones (times the inner size)."""
    a, b = node.args
    if not (_is(a, "ones") and _is(b, "ones")):
        return None

    out = ones(a.rows, b.cols)
    return out if a.cols.is_one else size(a.cols) * out


@rule("inv")
def inverse_of_inverse(node: Expr) -> Expr | None:
    """(A⁻¹)⁻¹ = A."""
    (a,) = node.args
    return a.args[0] if _is(a, "inv") else None


@rule("matmul")
def kron_mixed_product(node: Expr) -> Expr | None:
    """(A ⊗ B)(C ⊗ D) = AC ⊗ BD when the factors fit (Magnus & Neudecker)."""
    prefix, x, y = _last_pair(node)
    if not (_is(x, "kron") and _is(y, "kron")):
        return None
    a, b = x.args
    c, d = y.args
    if a.cols != c.rows or b.cols != d.rows:
        return None

    return _times(prefix, kron(a @ c, b @ d))


@rule("exp")
def exp_of_log_softmax(node: Expr) -> Expr | None:
    """exp(log softmax(A)) = softmax(A), and exp(A − logsumexp(A)) along an axis too."""
    (a,) = node.args

    if _is(a, "log_softmax"):
        return softmax(a.args[0], axis=a.get("axis"))
    if _is(a, "sub") and _is(a.args[1], "logsumexp") and a.args[1].args[0] is a.args[0]:
        axis = a.args[1].get("axis")
        return softmax(a.args[0], axis=axis) if axis is not None else None
    return None


@rule("pow")
def power_zero(node: Expr) -> Expr | None:
    """A⁰ = 𝟏."""
    return ones(*node.shape) if node.get("p") == 0 else None


