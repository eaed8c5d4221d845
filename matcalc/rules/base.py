"""The rule registry and what several groups of rules share: reading a product of scalars as
coefficient × powers × core, and a sum as signed terms."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction

from ..algebra.fast import signed_sum
from ..dims import Shape
from ..expr import Expr
from ..ops import const, ones, power, zeros

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

# A scaling chain is read this many products deep at most; below, a product is one factor. The
# engine collects bottom-up, so what lies below is collected already, and a chain of n factors
# (the gradient of an n-deep chain of 1×1 functions) costs O(n), not O(n²).
MAX_DEPTH = 16


def _factor(node: Expr) -> Factored | None:
    """Split a scaling chain into (numeric coefficient, {scalar: exponent}, core or None)."""
    coef: Coef = Fraction(1)
    powers: dict[Expr, Coef] = {}
    core = None
    stack: list[tuple[Expr, int]] = [(node, 1)]
    opened = 0
    while stack:
        e, sign = stack.pop()
        name = e.op.name
        if opened >= MAX_DEPTH and name in ("mul", "div", "neg") and e.is_scalar:
            powers[e] = powers.get(e, 0) + sign  # deep enough: a factor of its own
            continue
        opened += name in ("mul", "div", "neg")
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
            p: Coef = exponent  # an int stays an int: exact, and cheaper than a Fraction
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




def _terms(node: Expr) -> list[tuple[int, Expr]]:
    """Flatten +, − and unary − into signed terms (broadcast operands stay whole). A sum met a
    second time is a term of its own, not flattened again: the terms of x₁ + x₁ with x₁ = x₀ + x₀
    are x₀, x₀, x₁ — a DAG of n doublings has n + 1 terms, not 2ⁿ."""
    out: list[tuple[int, Expr]] = []
    stack: list[tuple[Expr, int]] = [(node, 1)]
    opened: set[Expr] = set()
    while stack:
        e, sign = stack.pop()
        if e in opened:
            out.append((sign, e))
        elif e.shape == node.shape and e.op.name in ("add", "sub"):
            opened.add(e)
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


def rule_names() -> list[str]:
    """Every rule, once, in registration order."""
    seen: dict[str, None] = {}
    for fns in RULES.values():
        for fn in fns:
            seen.setdefault(fn.__name__, None)
    return list(seen)


def _is_sum(node: Expr) -> bool:
    return node.op.name in ("add", "sub")


def _signed_sum(terms: list[tuple[int, Expr]], like: Expr) -> Expr:
    """Σ ±tᵢ, starting with a positive term when there is one (the order the rules keep)."""
    first = next((i for i, (sign, _) in enumerate(terms) if sign > 0), 0)
    out = signed_sum([terms[first]] + terms[:first] + terms[first + 1:])
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
