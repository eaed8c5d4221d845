"""Simplification as named rewrite rules, so derived results read like the Matrix Cookbook.

Each rule is one small function named by its effect, registered under the head op it looks at. The
engine rebuilds the DAG bottom-up (iteratively, each node once), tries the rules of each node's head
op until none fires (a step limit guarantees termination), and can report every firing: rule,
before and after. Rules preserve value and shape; the engine checks the shape of every rewrite.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal, overload

from .dims import Dim, Shape, shape_str
from .errors import InputError, InternalError
from .expr import Expr, toposort
from .ops import const, diag, ones, power, zeros

Rule = Callable[[Expr], Expr | None]  # a rewrite of a node, or None where it does not apply
Coef = Fraction | float  # a numeric coefficient: exact while the constants are integers
# a scaling chain: (numeric coefficient, {1×1 factor: exponent}, the non-scalar core or None)
Factored = tuple[Coef, dict[Expr, Coef], Expr | None]

RULES: dict[str, list[Rule]] = {}


def rule(*heads: str) -> Callable[[Rule], Rule]:
    """Register a rewrite rule for nodes whose op is one of ``heads``."""

    def register(fn: Rule) -> Rule:
        for head in heads:
            RULES.setdefault(head, []).append(fn)
        return fn

    return register


def _is(node: Expr, *names: str) -> bool:
    return node.op.name in names


def _is_const(node: Expr, value: float | None = None) -> bool:
    return node.op.name == "const" and (value is None or node.get("value") == value)


# --- scalar factors: coefficient × scalar powers × one non-scalar core ----------------------------

def _factor(node: Expr) -> Factored | None:
    """Split a scaling chain into (numeric coefficient, {scalar: exponent}, core or None)."""
    coef: Coef = Fraction(1)
    powers: dict[Expr, Coef] = {}
    core = None
    stack: list[tuple[Expr, int]] = [(node, 1)]
    while stack:
        e, sign = stack.pop()
        name = e.op.name
        if name == "mul" and (e.args[0].is_scalar or e.args[1].is_scalar):
            stack.append((e.args[1], sign))
            stack.append((e.args[0], sign))
        elif name == "div" and e.args[1].is_scalar:
            stack.append((e.args[1], -sign))
            stack.append((e.args[0], sign))
        elif name == "neg":
            coef = -coef
            stack.append((e.args[0], sign))
        elif name == "const":
            value = e.get("value")
            v: Coef = Fraction(value) if isinstance(value, int) else value
            if v == 0 and sign < 0:
                return None  # division by zero: leave it for the evaluator to report
            coef = coef * v if sign > 0 else coef / v
        elif e.is_scalar:
            base, exponent = (e.args[0], e.get("p")) if name == "pow" else (e, 1)
            p: Coef = Fraction(exponent) if isinstance(exponent, int) else exponent
            powers[base] = powers.get(base, 0) + sign * p
        else:
            if core is not None or sign < 0:
                return None  # not a scaling chain (a Hadamard product is handled elsewhere)
            core = e
    return coef, powers, core


def _number(v: Coef) -> Expr:
    return const(_exp(v))


def _scaled(coef: Coef, powers: dict[Expr, Coef], core: Expr | None, shape: Shape) -> Expr:
    """Rebuild coefficient × scalars × core in canonical order."""
    if coef == 0:
        return zeros(*shape)
    num = [b if p == 1 else power(b, _exp(p)) for b, p in powers.items() if p > 0]
    den = [b if p == -1 else power(b, _exp(-p)) for b, p in powers.items() if p < 0]
    if isinstance(coef, Fraction) and coef.denominator != 1:
        den.insert(0, const(coef.denominator))
        coef = Fraction(coef.numerator)
    negative = coef < 0
    magnitude = -coef if negative else coef
    factors: list[Expr] = [] if magnitude == 1 else [_number(magnitude)]
    factors += num
    if core is not None:
        factors.append(core)
    if negative and len(factors) <= 1 and (not factors or _is_const(factors[0])):
        out = _number(-magnitude)  # a plain negative number
        negative = False
    else:
        out = factors[0] if factors else const(1)
    for f in factors[1:]:
        out = out * f
    if den:
        d = den[0]
        for f in den[1:]:
            d = d * f
        out = out / d
    return -out if negative else out


def _exp(p: Coef) -> int | float:
    """A coefficient as the number a constant holds (an int when it is integral)."""
    if isinstance(p, Fraction):
        return p.numerator if p.denominator == 1 else float(p)
    return p


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


# --- sums: like terms collected, common factors pulled out ---------------------------------------

def _terms(node: Expr) -> list[tuple[int, Expr]]:
    """Flatten +, − and unary − into signed terms (broadcast operands stay whole)."""
    out: list[tuple[int, Expr]] = []
    stack: list[tuple[Expr, int]] = [(node, 1)]
    while stack:
        e, sign = stack.pop()
        if e.shape == node.shape and e.op.name in ("add", "sub"):
            stack.append((e.args[1], -sign if e.op.name == "sub" else sign))
            stack.append((e.args[0], sign))
        elif e.shape == node.shape and e.op.name == "neg":
            stack.append((e.args[0], -sign))
        else:
            out.append((sign, e))
    return out


def _split_coef(e: Expr) -> tuple[Coef, Expr | None]:
    """(numeric coefficient, the rest with coefficient 1)."""
    parts = _factor(e)
    if parts is None or (parts[2] is None and not parts[1]):
        if parts is not None:
            return parts[0], None  # a pure number
        return Fraction(1), e
    coef, powers, core = parts
    powers = {b: p for b, p in powers.items() if p != 0}
    if core is None and not powers:
        return coef, None
    return coef, _scaled(Fraction(1), powers, core, e.shape)


def _combine(terms: list[tuple[Coef, Expr | None]], shape: Shape) -> Expr:
    """Rebuild Σ cᵢ·tᵢ, starting with a positive term when there is one."""
    terms = [(c, t) for c, t in terms if c != 0 and not (t is not None and _is(t, "zeros"))]
    if not terms:
        return zeros(*shape)
    first = next((i for i, (c, _) in enumerate(terms) if c > 0), 0)
    terms = [terms[first]] + terms[:first] + terms[first + 1:]

    def term(c: Coef, t: Expr | None) -> Expr:
        if t is None:
            return _number(c)
        return t if c == 1 else _scaled(c, {}, t, t.shape) if not t.is_scalar else _number(c) * t

    c0, t0 = terms[0]
    out = term(c0, t0)
    for c, t in terms[1:]:
        out = out - term(-c, t) if c < 0 else out + term(c, t)
    return out


@rule("add", "sub")
def collect_like_terms(node: Expr) -> Expr | None:
    """A + A = 2A, A − A = 0, A + 0 = A, 2 + 3 = 5: equal terms merge, their coefficients add."""
    merged: dict[Expr | None, Coef] = {}  # term (None: a number) -> its coefficient, in order
    for sign, e in _terms(node):
        coef, rest = _split_coef(e)
        merged[rest] = merged.get(rest, 0) + sign * coef
    out = _combine([(c, t) for t, c in merged.items()], node.shape)
    if out.shape != node.shape:
        return None
    return out if out is not node else None


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
    if (_is(a, "diag") and _is(b, "diag") and a.args[0].cols.is_one and b.args[0].cols.is_one
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
    if a.is_scalar or _is(a, "eye") or (_is(a, "diag") and a.args[0].cols.is_one):
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
        from .ops import kron

        return kron(a.args[0].T, a.args[1].T)
    return None


@rule("inv")
def inverse_of_transpose(node: Expr) -> Expr | None:
    """(Aᵀ)⁻¹ = (A⁻¹)ᵀ, written A⁻ᵀ."""
    (a,) = node.args
    if _is(a, "transpose"):
        from .ops import inv

        return inv(a.args[0]).T
    return None


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
    if _is(a, "diag") and a.args[0].cols.is_one and node.cols.is_one:
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
        from .ops import size

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
    from .ops import trace

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
    from .ops import size

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
    from .ops import kron

    return _times(prefix, kron(a @ c, b @ d))


@rule("exp")
def exp_of_log_softmax(node: Expr) -> Expr | None:
    """exp(log softmax(A)) = softmax(A), and exp(A − logsumexp(A)) along an axis too."""
    (a,) = node.args
    from .ops import softmax

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


# --- structured matrices and decompositions ------------------------------------------------------

_SYMMETRIC = ("symmetric", "spd", "diagonal")


def _is_symmetric(x: Expr) -> bool:
    """Declared symmetric (or spd, diagonal), or the inverse of such a matrix."""
    if _is(x, "inv"):
        x = x.args[0]
    return _is(x, "symbol") and x.get("structure") in _SYMMETRIC


@rule("transpose")
def transpose_of_symmetric_matrix(node: Expr) -> Expr | None:
    """Sᵀ = S and (S⁻¹)ᵀ = S⁻¹ for S declared symmetric, spd or diagonal."""
    (a,) = node.args
    return a if _is_symmetric(a) else None


@rule("matmul")
def orthonormal_eigenvectors(node: Expr) -> Expr | None:
    """V Vᵀ = Vᵀ V = I for the eigenvectors V = eigvecsh(A)."""
    a, b = node.args
    if _is(a, "eigvecsh") and _is(b, "transpose") and b.args[0] is a:
        return eye_of(a.rows)
    if _is(b, "eigvecsh") and _is(a, "transpose") and a.args[0] is b:
        return eye_of(b.rows)
    return None


@rule("diag")
def diagonal_of_ones(node: Expr) -> Expr | None:
    """diag(𝟏) = I."""
    (a,) = node.args
    return eye_of(a.rows) if _is(a, "ones") and a.cols.is_one and not a.rows.is_one else None


# --- slices and blocks ---------------------------------------------------------------------------

def _bounds(node: Expr) -> tuple[Dim, Dim, Dim, Dim]:
    return node.get("r0"), node.get("r1"), node.get("c0"), node.get("c1")


@rule("slice")
def slice_of_slice(node: Expr) -> Expr | None:
    """X[a:b][c:d] = X[a + c : a + d]: one slice."""
    (x,) = node.args
    if not _is(x, "slice"):
        return None
    from .ops import take

    r0, r1, c0, c1 = _bounds(node)
    a0, _, b0, _ = _bounds(x)
    return take(x.args[0], a0 + r0, a0 + r1, b0 + c0, b0 + c1)


@rule("slice")
def slice_of_embed(node: Expr) -> Expr | None:
    """embed(G at (p, q))[rows, cols] = G (or a slice of it) where the slice falls on the block."""
    (x,) = node.args
    if not _is(x, "embed"):
        return None
    from .ops import take

    g, p, q = x.args[0], x.get("r0"), x.get("c0")
    r0, r1, c0, c1 = _bounds(node)
    inside = all((d.is_int and d.coef >= 0) or d.is_zero or d.provably_positive
                 for d in (r0 - p, p + g.rows - r1, c0 - q, q + g.cols - c1))
    if not inside:
        return None
    return take(g, r0 - p, r1 - p, c0 - q, c1 - q)


@rule("slice")
def slice_of_concat(node: Expr) -> Expr | None:
    """[A; B][rows of A, :] = A: a slice that is exactly one block."""
    (x,) = node.args
    if not _is(x, "concat"):
        return None
    r0, r1, c0, c1 = _bounds(node)
    axis, at = x.get("axis"), Dim(terms=())
    for block in x.args:
        end = at + block.shape[axis]
        if axis == 0 and (r0, r1, c0, c1) == (at, end, Dim(terms=()), x.cols):
            return block
        if axis == 1 and (r0, r1, c0, c1) == (Dim(terms=()), x.rows, at, end):
            return block
        at = end
    return None


def _join(a: Expr, b: Expr, axis: int) -> Expr | None:
    """X[p:q] and X[q:r] (rows, axis 0; columns, axis 1; the other range the same) as X[p:r]."""
    if not (_is(a, "slice") and _is(b, "slice") and a.args[0] is b.args[0]):
        return None
    ar0, ar1, ac0, ac1 = _bounds(a)
    br0, br1, bc0, bc1 = _bounds(b)
    from .ops import take

    if axis == 0 and (ac0, ac1) == (bc0, bc1) and ar1 == br0:
        return take(a.args[0], ar0, br1, ac0, ac1)
    if axis == 1 and (ar0, ar1) == (br0, br1) and ac1 == bc0:
        return take(a.args[0], ar0, ar1, ac0, bc1)
    return None


@rule("concat")
def concat_of_adjacent_slices(node: Expr) -> Expr | None:
    """[X[p:q]; X[q:r]] = X[p:r]: neighbouring slices of one matrix stacked back."""
    parts = list(node.args)
    for i in range(len(parts) - 1):
        joined = _join(parts[i], parts[i + 1], node.get("axis"))
        if joined is not None:
            rest = parts[:i] + [joined] + parts[i + 2:]
            from .ops import concat

            return concat(*rest, axis=node.get("axis"))
    return None


@rule("add")
def sum_of_adjacent_embeds(node: Expr) -> Expr | None:
    """X[p:q] and X[q:r], each put back where it came from, add up to X[p:r] put back."""
    a, b = node.args
    if not (_is(a, "embed") and _is(b, "embed") and a.shape == b.shape == node.shape):
        return None
    from .ops import embed

    for first, second in ((a, b), (b, a)):
        for axis in (0, 1):
            joined = _join(first.args[0], second.args[0], axis)
            if joined is not None and (first.get("r0"), first.get("c0")) == (
                    joined.get("r0", Dim(terms=())), joined.get("c0", Dim(terms=()))) \
                    and _placed_as_taken(first) and _placed_as_taken(second):
                return embed(joined, node.rows, node.cols, first.get("r0"), first.get("c0"))
    return None


def _placed_as_taken(e: Expr) -> bool:
    """embed(X[r0:…, c0:…]) at (r0, c0) in X's shape: the slice put back where it was."""
    s_ = e.args[0]
    return (s_.args[0].shape == e.shape and s_.get("r0") == e.get("r0")
            and s_.get("c0") == e.get("c0"))


@rule("embed")
def embed_of_embed(node: Expr) -> Expr | None:
    """A block placed in zeros, placed again: one placement."""
    (x,) = node.args
    if not _is(x, "embed"):
        return None
    from .ops import embed

    return embed(x.args[0], node.get("rows"), node.get("cols"), node.get("r0") + x.get("r0"),
                 node.get("c0") + x.get("c0"))


@rule("sum")
def sum_of_embed(node: Expr) -> Expr | None:
    """The entries of zeros with a block in them add up to the block's entries."""
    (x,) = node.args
    if node.get("axis") is None and _is(x, "embed"):
        return Expr.make(node.op, (x.args[0],), **dict(node.params))
    return None


def eye_of(n: Dim) -> Expr:
    from .ops import eye

    return eye(n)


# --- the engine ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Step:
    rule: str
    before: Expr
    after: Expr

    def __str__(self) -> str:
        return f"{self.rule}: {self.before}  →  {self.after}"


@dataclass
class Simplified:
    """A simplification with its trace: which rules fired, before and after."""

    expr: Expr
    steps: list[Step]

    def __str__(self) -> str:
        lines = [str(s) for s in self.steps] or ["(no rule fired)"]
        return "\n".join(lines + [f"result: {self.expr}"])


def _is_sum(node: Expr) -> bool:
    return node.op.name in ("add", "sub")


def _signed_sum(terms: list[tuple[int, Expr]], like: Expr) -> Expr:
    """Σ ±tᵢ, starting with a positive term when there is one (the order the rules keep)."""
    first = next((i for i, (sign, _) in enumerate(terms) if sign > 0), 0)
    terms = [terms[first]] + terms[:first] + terms[first + 1:]
    sign, out = terms[0]
    out = out if sign > 0 else -out
    for sign, t in terms[1:]:
        out = out + t if sign > 0 else out - t
    if out.shape != like.shape:  # every term was broadcast: keep the sum's shape
        out = out * ones(*like.shape)
    return out


def _factors(node: Expr) -> list[Expr]:
    """The factors of a tree of matrix products, in order (iterative)."""
    out: list[Expr] = []
    stack = [node]
    while stack:
        e = stack.pop()
        if e.op is node.op:
            stack += [e.args[1], e.args[0]]
        else:
            out.append(e)
    return out


def _left_chain(node: Expr) -> Expr:
    """A product tree with a product on its right, rebuilt left-nested in one pass."""
    if not (_is(node, "matmul") and _is(node.args[1], "matmul")):
        return node
    factors = _factors(node)
    out = factors[0]
    for f in factors[1:]:
        out = out @ f
    return out


# The engine's work items: a node to visit or rebuild, an alias, a whole sum with its terms.
_WorkItem = (tuple[Literal["visit", "build"], Expr] | tuple[Literal["alias"], Expr, Expr]
             | tuple[Literal["sum"], Expr, list[tuple[int, Expr]]])


class _Engine:
    """Rewrites a DAG bottom-up from an explicit worklist (no recursion, whatever the depth).

    Work items: ("visit", node) schedules a node's arguments, then its rebuild; ("build", node)
    rebuilds it from its simplified arguments and fires the first applicable rule at its head;
    ("alias", node, out) records that node simplifies to whatever ``out`` simplifies to. A flat
    chain (a sum of many terms, a right-nested product) is taken whole when first visited, so a
    chain of n links costs O(n), not O(n²).
    """

    def __init__(self, trace: bool, max_steps: int) -> None:
        self.memo: dict[Expr, Expr] = {}
        self.steps: list[Step] = []
        self.trace = trace
        self.budget = max_steps

    def run(self, root: Expr) -> Expr:
        memo = self.memo
        work: list[_WorkItem] = [("visit", root)]
        while work:
            item = work.pop()
            kind, node = item[0], item[1]
            if item[0] == "alias":
                result = memo[item[2]]
                memo[node] = result
                memo[result] = result
                continue
            if node in memo:
                continue
            if kind == "visit":
                if _is_sum(node):  # a whole sum at once: its terms, then the rules at its root
                    terms = _terms(node)
                    work.append(("sum", node, terms))
                    work += [("visit", t) for _, t in reversed(terms) if t not in memo]
                    continue
                flat = _left_chain(node)
                if flat is not node:
                    work += [("alias", node, flat), ("visit", flat)]
                    continue
                work.append(("build", node))
                work += [("visit", a) for a in reversed(node.args) if a not in memo]
                continue
            if item[0] == "sum":
                rebuilt = _signed_sum([(sign, memo[t]) for sign, t in item[2]], node)
            else:
                args = tuple(memo[a] for a in node.args)
                rebuilt = node if all(x is y for x, y in zip(args, node.args)) else \
                    Expr.make(node.op, args, **dict(node.params))
            if rebuilt in memo:
                memo[node] = memo[rebuilt]
                continue
            out = self.fire(rebuilt)
            if out is None:
                memo[node] = memo[rebuilt] = rebuilt
                continue
            memo[rebuilt] = rebuilt  # in progress: a rewrite cycle back to it stops here
            work += [("alias", node, out), ("alias", rebuilt, out), ("visit", out)]
        return memo[root]

    def fire(self, node: Expr) -> Expr | None:
        """The first applicable rule's rewrite of node (None when none applies or the step
        budget is spent)."""
        for fn in RULES.get(node.op.name, ()):
            out = fn(node)
            if out is None or out is node:
                continue
            if out.shape != node.shape:
                raise InternalError(f"rule {fn.__name__} changed a shape from "
                                    f"{shape_str(node.shape)} to {shape_str(out.shape)}")
            if self.budget <= 0:
                return None
            self.budget -= 1
            if self.trace:
                self.steps.append(Step(fn.__name__, node, out))
            return out
        return None


GOALS = ("readable", "fast")


def _run(engine: _Engine, exprs: list[Expr], goal: str, context: list[Expr] | None) -> list[Expr]:
    """The rules, then for the readable goal names and normal forms, to a fixed point."""
    roots = [engine.run(e) for e in exprs]
    if goal != "readable":
        return roots
    from .algebra.readable import definitions, normalize, substitute_names

    def report(rule: str, before: Expr, after: Expr) -> None:
        if engine.trace:
            engine.steps.append(Step(rule, before, after))

    defs = definitions(list(context or []) + list(exprs))
    program = frozenset(toposort(list(context or [])))  # the forward values, as written
    done: dict[Expr, Expr] = {}
    for _ in range(4):
        named = substitute_names(roots, defs, report)
        again = [engine.run(e) for e in normalize(named, defs, engine.run, report, done, program)]
        if all(a is b for a, b in zip(again, roots)):
            break
        roots = again
    return roots


@overload
def simplify(expr: Expr, trace: Literal[False] = False, max_steps: int = ...,
             goal: str = ..., context: list[Expr] | None = ...) -> Expr: ...
@overload
def simplify(expr: Expr, trace: Literal[True], max_steps: int = ...,
             goal: str = ..., context: list[Expr] | None = ...) -> Simplified: ...
@overload
def simplify(expr: Expr, trace: bool, max_steps: int = ...,
             goal: str = ..., context: list[Expr] | None = ...) -> Expr | Simplified: ...


def simplify(expr: Expr, trace: bool = False, max_steps: int = 1_000_000, goal: str = "readable",
             context: list[Expr] | None = None) -> Expr | Simplified:
    """Simplify to the form the goal asks for, with the trace of rules that fired if asked.

    goal="readable" (the default, and what grad, jacobian and hessian return): the shortest text,
    written with the named intermediates of ``context`` (and of expr); goal="fast": the rules only
    (compile orders products for the actual sizes on top of it).
    """
    if not isinstance(expr, Expr):
        raise InputError(f"simplify expects a matcalc expression, got {type(expr).__name__}")
    if goal not in GOALS:
        raise InputError(f"simplify: goal must be one of {', '.join(GOALS)}, got {goal!r}")
    engine = _Engine(trace, max_steps)
    (out,) = _run(engine, [expr], goal, context)
    return Simplified(out, engine.steps) if trace else out


def simplify_many(exprs: list[Expr], goal: str = "readable", context: list[Expr] | None = None
                  ) -> list[Expr]:
    """Simplify several expressions sharing one memo, so shared subgraphs are simplified once."""
    return _run(_Engine(False, 1_000_000), list(exprs), goal, context)


def rule_names() -> list[str]:
    """Every rule, once, in registration order."""
    seen: dict[str, None] = {}
    for fns in RULES.values():
        for fn in fns:
            seen.setdefault(fn.__name__, None)
    return list(seen)

