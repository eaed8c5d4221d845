"""Elementwise algebra as Laurent polynomials over atoms, and ways to write one back.

Elementwise +, −, ⊙, /, powers and scaling form a commutative ring, broadcasting included: the
value of a subexpression built from them is a sum of monomials c · a₁^e₁ ⋯ aₖ^eₖ over *atoms* —
the nodes that are not elementwise arithmetic (symbols, named intermediates, matrix products,
functions, means). In that form like terms collect, x / x cancels and numbers fold, exactly.
Coefficients and exponents are exact fractions.

Cancelling x / x assumes x ≠ 0 where the expression is defined (it divided by x), as a textbook
does. Polynomials are kept small: a product whose expansion would pass ``MAX_TERMS`` terms keeps a
factor whole, as an atom.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from math import gcd
from typing import Any

from ..dims import ONE, Shape
from ..expr import Expr
from ..ops import const, ones, power, zeros

__all__ = [
    "ARITH",
    "MAX_TERMS",
    "Atoms",
    "Mono",
    "Poly",
    "Q",
    "Reader",
    "candidates",
    "mono_mul",
    "mono_pow",
    "q",
    "qdiv",
    "write",
    "write_monomial",
]

ARITH = frozenset({"add", "sub", "mul", "div", "neg", "pow", "const"})
MAX_TERMS = 48
SHARED_WEIGHT = 10  # a node used more than once is read through only if its form is this small

Q = int | Fraction  # exact rationals; ints where they are whole (Python's ints are fast)
Mono = tuple[tuple[int, Q], ...]  # (atom index, exponent), sorted by atom index
ONE_F: Q = 1


def q(x: Q) -> Q:
    """x as an int when it is whole."""
    return x.numerator if isinstance(x, Fraction) and x.denominator == 1 else x


def qabs(x: Q) -> Q:
    return -x if x < 0 else x


def qdiv(a: Q, b: Q) -> Q:
    """a / b exactly."""
    return q(Fraction(a) / b)


def number_of(value: Any) -> Q | None:
    """A constant's value as an exact rational (None for a float that is not a short ratio)."""
    if isinstance(value, int):
        return value
    f = Fraction(value).limit_denominator(10**6)
    return q(f) if float(f) == value else None


class Atoms:
    """The atoms of one normalisation, numbered in order of first appearance (the print order)."""

    def __init__(self) -> None:
        self.nodes: list[Expr] = []
        self.index: dict[Expr, int] = {}

    def of(self, node: Expr) -> int:
        i = self.index.get(node)
        if i is None:
            i = self.index[node] = len(self.nodes)
            self.nodes.append(node)
        return i


def mono_mul(a: Mono, b: Mono, k: Q = 1) -> Mono:
    """a · b^k."""
    exps: dict[int, Q] = dict(a)
    for i, e in b:
        exps[i] = q(exps.get(i, 0) + k * e)
    return tuple(sorted((i, e) for i, e in exps.items() if e != 0))


def mono_pow(m: Mono, k: Q) -> Mono:
    return tuple((i, q(e * k)) for i, e in m)


class Poly:
    """Σ coefficient · monomial."""

    __slots__ = ("terms",)

    def __init__(self, terms: dict[Mono, Q] | None = None):
        self.terms: dict[Mono, Q] = {m: q(c) for m, c in (terms or {}).items() if c != 0}

    @staticmethod
    def number(c: Q) -> Poly:
        return Poly({(): c})

    @staticmethod
    def atom(i: int, e: Q = 1) -> Poly:
        return Poly({((i, e),): 1})

    def __add__(self, other: Poly) -> Poly:
        out = dict(self.terms)
        for m, c in other.terms.items():
            out[m] = out.get(m, 0) + c
        return Poly(out)

    def scale(self, k: Q) -> Poly:
        return Poly({m: c * k for m, c in self.terms.items()})

    def __mul__(self, other: Poly) -> Poly:
        out: dict[Mono, Q] = {}
        for m1, c1 in self.terms.items():
            for m2, c2 in other.terms.items():
                m = mono_mul(m1, m2)
                out[m] = out.get(m, 0) + c1 * c2
        return Poly(out)

    def monomial(self) -> tuple[Q, Mono] | None:
        """(c, m) when the polynomial is one term."""
        if len(self.terms) != 1:
            return None
        ((m, c),) = self.terms.items()
        return c, m

    def __len__(self) -> int:
        return len(self.terms)


# --- Expr → Poly ----------------------------------------------------------------------------------

def _weight(p: Poly) -> int:
    """The size of a polynomial: its atom occurrences, a term at least one."""
    return sum(max(1, len(m)) for m in p.terms)


def broadcast_of(node: Expr) -> Expr | None:
    """What a node stretches by broadcasting, when that is all it does: 𝟏 (ones), or v for the
    outer products v 𝟏ᵀ (a column copied along the columns) and 𝟏 v (a row down the rows)."""
    if node.op.name == "ones":
        return node
    if node.op.name != "matmul":
        return None
    a, b = node.args
    if b.op.name == "ones" and b.rows.is_one and a.cols.is_one:
        return a
    if a.op.name == "ones" and a.cols.is_one and b.rows.is_one:
        return b
    return None


class Reader:
    """Reads an elementwise-arithmetic expression as a Poly. ``atom(node)`` gives the poly of a
    node that is not arithmetic (an atom, or what the caller makes of it: a sum is a count times
    a mean, a named definition is its name); ``whole`` atoms stop the walk."""

    def __init__(self, atoms: Atoms, atom: Callable[[Expr], Poly], keep_spread: bool = False):
        self.atoms, self.atom_poly = atoms, atom
        # inside a reduction, m ⊙ (X − x̄) stays whole: distributed, its mean would split into
        # mean(m ⊙ X) − x̄ mean(m), a difference that cancels
        self.keep_spread = keep_spread
        self.shared: set[Expr] = set()  # nodes used more than once in the graph
        # the polys read so far (a shared node is read once); clear it when readings change
        self.memo: dict[Expr, Poly] = {}

    def atom(self, node: Expr) -> Poly:
        return Poly.atom(self.atoms.of(node))

    def read(self, root: Expr) -> Poly:
        memo = self.memo
        if root in memo:
            return memo[root]
        stack: list[tuple[Expr, bool]] = [(root, False)]
        while stack:
            node, ready = stack.pop()
            if node in memo:
                continue
            spread = broadcast_of(node)
            if spread is not None:  # 𝟏 or v𝟏ᵀ: under elementwise arithmetic, 1 or v broadcast
                if spread.op.name == "ones":
                    memo[node] = Poly.number(ONE_F)
                elif spread in memo:
                    memo[node] = memo[spread]
                else:
                    stack += [(node, False), (spread, False)]
                continue
            if node.op.name not in ARITH:
                memo[node] = self.atom_poly(node)
                continue
            if not ready:
                stack.append((node, True))
                stack += [(a, False) for a in node.args if a not in memo]
                continue
            p = self.combine(node, [self.use(a, memo[a]) for a in node.args])
            if len(p) > MAX_TERMS:  # too big to expand further: keep it whole
                p = self.atom(write(p, self.atoms, node.shape))
            memo[node] = p
        return memo[root]

    def use(self, node: Expr, p: Poly) -> Poly:
        """A child's poly as its parent reads it: a node used elsewhere too stays whole unless
        it is small (copying it into each use would make the result grow with every use)."""
        if node in self.shared and _weight(p) > SHARED_WEIGHT:
            return self.atom(node)
        return p

    def combine(self, node: Expr, args: list[Poly]) -> Poly:
        name = node.op.name
        if name == "const":
            c = number_of(node.get("value"))
            return Poly.number(c) if c is not None else self.atom(node)
        if name == "add":
            return args[0] + args[1]
        if name == "sub":
            return args[0] + args[1].scale(-1)
        if name == "neg":
            return args[0].scale(-1)
        if name == "mul":
            return self.product(args[0], args[1], node)
        if name == "div":
            return self.product(args[0], self.inverse(node.args[1], args[1]), node)
        p = number_of(node.get("p"))
        return self.atom(node) if p is None else self.power(node.args[0], args[0], p)

    def product(self, a: Poly, b: Poly, node: Expr) -> Poly:
        """a · b when one side is a single term; a product of two sums is kept whole: expanding
        it, (x − y)(x − y) = x² − 2xy + y², would trade an exact difference for cancellation."""
        if len(a) > 1 and len(b) > 1:
            return self.atom(node)
        if self.keep_spread and (self.spread(a) or self.spread(b)):
            return self.atom(node)
        return a * b if len(a) * len(b) <= MAX_TERMS else self.atom(node)

    def spread(self, p: Poly) -> bool:
        """Whether a sum has terms of different shapes (one broadcast against another)."""
        if len(p) < 2:
            return False
        shapes = set()
        for m in p.terms:
            rows, cols = False, False
            for i, _ in m:
                r, c = self.atoms.nodes[i].shape
                rows, cols = rows or not r.is_one, cols or not c.is_one
            shapes.add((rows, cols))
        return len(shapes) > 1

    def inverse(self, node: Expr, p: Poly) -> Poly:
        mono = p.monomial()
        if mono is not None:
            c, m = mono
            return Poly({mono_pow(m, -1): qdiv(1, c)})
        return Poly.atom(self.atoms.of(write(p, self.atoms, node.shape)), -1)

    def power(self, base: Expr, p: Poly, k: Q) -> Poly:
        mono = p.monomial()
        if mono is not None and (k.denominator == 1 or mono[0] == 1):
            c, m = mono
            return Poly({mono_pow(m, k): q(Fraction(c) ** int(k)) if k.denominator == 1 else ONE_F})
        return Poly.atom(self.atoms.of(write(p, self.atoms, base.shape)), k)


# --- Poly → Expr ----------------------------------------------------------------------------------

def _num(c: Q) -> Expr:
    return const(c.numerator if c.denominator == 1 else float(c))


def _factor_expr(atoms: Atoms, i: int, e: Q) -> Expr:
    node = atoms.nodes[i]
    return node if e == 1 else power(node, e.numerator if e.denominator == 1 else float(e))


def _product(factors: list[Expr]) -> Expr | None:
    out: Expr | None = None
    for f in factors:
        out = f if out is None else out * f
    return out


Fold = Callable[[Q, Mono], tuple[Q, Mono]]


def write_monomial(c: Q, m: Mono, atoms: Atoms,
                   fold: Fold | None = None) -> tuple[Expr | None, bool]:
    """The monomial |c|·m as an expression (None for 1), and whether c is negative; ``fold`` may
    first rewrite the term (a mean times its count is a sum)."""
    if fold is not None:
        c, m = fold(c, m)
    negative, c = c < 0, qabs(c)
    num = [_factor_expr(atoms, i, e) for i, e in m if e > 0]
    den = [_factor_expr(atoms, i, -e) for i, e in m if e < 0]
    if c.denominator != 1:
        den.insert(0, const(c.denominator))
    if c.numerator != 1:
        num.insert(0, const(c.numerator))
    if not num and not den:
        return None, negative
    top = _product(num) if num else const(1)
    assert top is not None
    d = _product(den)
    return (top if d is None else top / d), negative


def _shaped(e: Expr, shape: Shape) -> Expr:
    """e stretched to shape where cancelling removed every full-size factor."""
    if e.shape == shape:
        return e
    if e.op.name == "const" and e.get("value") == 0:
        return zeros(*shape)
    return e * ones(*shape)


def write(p: Poly, atoms: Atoms, shape: Shape, fold: Fold | None = None
          ) -> Expr:
    """Σ terms written out, a positive term first, of the given shape."""
    items = list(p.terms.items())
    if not items:
        return zeros(*shape)
    first = next((k for k, (_, c) in enumerate(items) if c > 0), 0)
    items = [items[first]] + items[:first] + items[first + 1:]
    out: Expr | None = None
    for m, c in items:
        term, negative = write_monomial(c, m, atoms, fold)
        term = const(1) if term is None else term
        if out is None:
            out = -term if negative else term
        else:
            out = out - term if negative else out + term
    assert out is not None
    return _shaped(out, shape)


def _closer_to_zero(a: Q, b: Q) -> Q:
    """The shared power of an atom in two terms: x² and x³ share x², 1/x and 1/x³ share 1/x."""
    return min(a, b) if a > 0 else max(a, b)


def _common_factor(p: Poly) -> tuple[Q, Mono]:
    """The coefficient and monomial every term shares."""
    monos = list(p.terms)
    shared = dict(monos[0])
    for m in monos[1:]:  # an atom missing from a term has exponent 0 there: not shared
        exps = dict(m)
        shared = {i: _closer_to_zero(e, exps[i]) for i, e in shared.items()
                  if i in exps and (e > 0) == (exps[i] > 0)}
    coefs = [qabs(c) for c in p.terms.values()]
    if all(c == coefs[0] for c in coefs):
        common = coefs[0]
    elif all(c.denominator == 1 for c in coefs):
        g = 0
        for c in coefs:
            g = gcd(g, c.numerator)
        common = g or 1
    else:
        common = ONE_F
    if all(c < 0 for c in p.terms.values()):
        common = -common
    return common, tuple(sorted((i, e) for i, e in shared.items() if e != 0))


def _inner_shape(p: Poly, atoms: Atoms) -> Shape:
    """The broadcast shape of a polynomial's atoms."""
    rows, cols = ONE, ONE
    for m in p.terms:
        for i, _ in m:
            r, c = atoms.nodes[i].shape
            rows = r if not r.is_one else rows
            cols = c if not c.is_one else cols
    return (rows, cols)


def factored(p: Poly, atoms: Atoms, shape: Shape,
             fold: Fold | None = None) -> Expr | None:
    """p with the factor all its terms share outside, written c · m⁺ · (inner) / m⁻, or None."""
    if len(p) < 2:
        return None
    c, m = _common_factor(p)
    if c == 1 and not m:
        return None
    inner = Poly({mono_mul(mono, m, -1): qdiv(coef, c) for mono, coef in p.terms.items()})
    body = write(inner, atoms, _inner_shape(inner, atoms), fold)
    negative, c = c < 0, qabs(c)
    num_mono = tuple((i, e) for i, e in m if e > 0)
    num, _ = write_monomial(c.numerator, num_mono, atoms, fold)
    den = [_factor_expr(atoms, i, -e) for i, e in m if e < 0]
    if c.denominator != 1:
        den.insert(0, const(c.denominator))
    out = body if num is None else num * body
    d = _product(den)
    if d is not None:
        out = out / d
    return _shaped(-out if negative else out, shape)


def candidates(p: Poly, atoms: Atoms, shape: Shape,
               fold: Fold | None = None) -> list[Expr]:
    """Equivalent spellings of p: with the common factor outside (first: it wins ties, as a
    textbook writes G ⊙ (1 − h²)), and expanded."""
    out = []
    f = factored(p, atoms, shape, fold)
    if f is not None:
        out.append(f)
    out.append(write(p, atoms, shape, fold))
    return out
