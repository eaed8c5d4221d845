"""Symbolic dimensions: integers, names, products of them (Kronecker shapes) and sums of such
terms (stacked blocks: m + n; slices: m - 1).

A dimension is a polynomial with integer coefficients over dimension names. Two dimensions are
equal only when they are provably equal: the same polynomial (``m + n`` and ``n + m``, ``2·m`` and
``m + m``). ``m`` and ``n`` are never assumed equal. A dimension that is provably not positive
(a constant ≤ 0, or every coefficient ≤ 0) is refused where it is made; one that may be either
(``m - 3``, the rows left after a slice) is accepted and checked against the sizes bound at run
time.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Callable, Mapping, Sized
from typing import TypeVar

from .errors import InputError, InternalError, SizeLimitError
from .limits import LIMITS

_NAME = re.compile(r"[A-Za-z_][A-Za-z_0-9]*")
_DIGITS = re.compile(r"[0-9]{1,300}")  # a longer number is no size (and int() refuses 4,300+)
_MAX_COEF = 10**300


T = TypeVar("T", bound=Sized)
Term = tuple[tuple[str, ...], int]  # (names of a product, sorted; its integer coefficient)


def _few_terms(terms: T) -> T:
    """terms, or SizeLimitError when a sum of dimensions would have more than max_dim_terms
    (checked before they are sorted: each sum re-sorts them all)."""
    if len(terms) > LIMITS.max_dim_terms:
        raise SizeLimitError(
            f"a sum of {len(terms)} dimension terms is more than the limit of "
            f"{LIMITS.max_dim_terms} (matcalc.limits.configure(max_dim_terms=…))")
    return terms


def _coef(n: int) -> int:
    if n > _MAX_COEF:
        raise SizeLimitError("a dimension with more than 300 digits is not a size")
    return n


def _order(name: str) -> tuple[bool, str]:
    # lower-case names first, so products read m·B and m·n as in the Matrix Cookbook
    return (name[:1].isupper(), name)


def _term_order(term: Term) -> tuple[int, tuple[tuple[bool, str], ...]]:
    # higher degree first, the constant last: m·n + m + 2
    names = term[0]
    return (-len(names) if names else 1, tuple(_order(n) for n in names))


def _canonical(terms: list[Term]) -> tuple[Term, ...]:
    merged: dict[tuple[str, ...], int] = {}
    for names, coef in terms:
        key = tuple(sorted(names, key=_order))
        merged[key] = merged.get(key, 0) + coef
    return tuple(sorted(((k, c) for k, c in merged.items() if c != 0), key=_term_order))


class Dim:
    """Σ coef · name_1 · name_2 · …; ``Dim(3)``, ``Dim(1, ("m",))``; sums come from + and −."""

    __slots__ = ("_hash", "terms")
    terms: tuple[Term, ...]
    _hash: int

    def __init__(self, coef: int = 1, names: tuple[str, ...] = (), *,
                 terms: tuple[Term, ...] | None = None) -> None:
        value = _canonical(list(terms)) if terms is not None else _canonical([(names, coef)])
        object.__setattr__(self, "terms", value)
        object.__setattr__(self, "_hash", hash(("Dim", value)))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("dimensions are immutable")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Dim) and self.terms == other.terms

    def __hash__(self) -> int:
        return self._hash

    def __reduce__(self) -> tuple[object, ...]:
        return (_from_terms, (self.terms,))

    # --- what kind of polynomial ---------------------------------------------------------------
    @property
    def is_sum(self) -> bool:
        """More than one term: m + n, m − 1."""
        return len(self.terms) > 1

    @property
    def is_int(self) -> bool:
        """A constant (no names)."""
        return all(not names for names, _ in self.terms)

    @property
    def is_one(self) -> bool:
        return self.terms == (((), 1),)

    @property
    def is_zero(self) -> bool:
        return not self.terms

    @property
    def is_name(self) -> bool:
        """One name alone (m): what an input's axis binds."""
        return not self.is_sum and len(self.names) == 1 and self.coef == 1

    @property
    def coef(self) -> int:
        """The coefficient of a single term (a constant's value; 0 for zero)."""
        if not self.terms:
            return 0
        if self.is_sum:
            raise InternalError(f"the dimension {self} is a sum: it has no single coefficient")
        return self.terms[0][1]

    @property
    def names(self) -> tuple[str, ...]:
        """The names of a product (with repeats); of a sum, those of every term."""
        return tuple(n for names, _ in self.terms for n in names)

    @property
    def maybe_positive(self) -> bool:
        """Not provably ≤ 0. Names are at least 1, so a polynomial whose terms with names all
        have coefficients ≤ 0 is largest with every name 1."""
        if any(c > 0 for names, c in self.terms if names):
            return True
        return sum(c for _, c in self.terms) > 0

    @property
    def provably_positive(self) -> bool:
        """Every coefficient positive (and not zero)."""
        return bool(self.terms) and all(c > 0 for _, c in self.terms)

    # --- arithmetic ------------------------------------------------------------------------------
    def __mul__(self, other: Dim | int) -> Dim:
        o = other if isinstance(other, Dim) else Dim(other)
        factors = max((len(a) for a, _ in self.terms), default=0) + \
            max((len(b) for b, _ in o.terms), default=0)
        if factors > LIMITS.max_dim_factors:  # checked before sorting: each product re-sorts
            raise SizeLimitError(
                f"a product of {factors} dimension names is more than the limit of "
                f"{LIMITS.max_dim_factors} (matcalc.limits.configure(max_dim_factors=…))")
        _few_terms(range(len(self.terms) * len(o.terms)))
        return Dim(terms=tuple((a + b, _coef(c * d)) for a, c in self.terms for b, d in o.terms))

    __rmul__ = __mul__

    def __add__(self, other: Dim | int) -> Dim:
        o = other if isinstance(other, Dim) else Dim(other)
        return Dim(terms=_few_terms(self.terms + o.terms))

    __radd__ = __add__

    def __neg__(self) -> Dim:
        return Dim(terms=tuple((names, -c) for names, c in self.terms))

    def __sub__(self, other: Dim | int) -> Dim:
        o = other if isinstance(other, Dim) else Dim(other)
        return self + (-o)

    def __rsub__(self, other: int) -> Dim:
        return Dim(other) - self

    def value(self, bindings: Mapping[str, int]) -> int:
        out = 0
        for names, coef in self.terms:
            term = coef
            for name in names:
                term *= bindings[name]
            out += term
        return out

    # --- spellings -------------------------------------------------------------------------------
    def render(self, name: Callable[[str], str] = str, times: str = "·",
               plus: str = " + ", minus: str = " - ") -> str:
        """The polynomial with each name spelled by ``name``, factors joined by ``times``."""
        if not self.terms:
            return "0"
        out = ""
        for i, (names, coef) in enumerate(self.terms):
            magnitude = abs(coef)
            parts = ([str(magnitude)] if magnitude != 1 or not names else []) + \
                [name(n) for n in names]
            body = times.join(parts)
            if i == 0:
                out = ("-" if coef < 0 else "") + body
            else:
                out += (minus if coef < 0 else plus) + body
        return out

    def __str__(self) -> str:
        return self.render()

    def __repr__(self) -> str:
        return f"Dim({self})"

    def python(self, name: Callable[[str], str]) -> str:
        """The polynomial as a Python expression, each name spelled by ``name``, without
        parentheses around it: 3, n, 2 * n, m * n + 1."""
        return str(self.coef) if self.is_int else self.render(name, " * ")

    @property
    def text(self) -> str:
        """The input-language spelling: ``m*n``, ``m + n``."""
        return self.render(times="*")

    @property
    def compound(self) -> bool:
        """Whether the spelling has more than one piece (a product or a sum): it then takes
        parentheses beside × or as a factor."""
        if self.is_sum:
            return True
        if not self.terms:
            return False
        names, coef = self.terms[0]
        return len(names) + (abs(coef) != 1) + (coef < 0) > 1

    def as_user(self) -> int | str:
        """The plain int or name a user wrote (products and sums print as text)."""
        if self.is_int:
            return self.coef
        return str(self)


def _from_terms(terms: tuple[Term, ...]) -> Dim:
    return Dim(terms=terms)


ONE = Dim(1)
ZERO = Dim(terms=())


def _refuse(x: object) -> InputError:
    return InputError(f"a dimension must be a positive integer or a name, not {x!r}")


def _parse_product(text: str, whole: str) -> Dim:
    parts = [q.strip() for q in re.split(r"[*·]", text)]
    if len(parts) > LIMITS.max_dim_factors:
        raise SizeLimitError(
            f"a product of {len(parts)} dimension factors is more than the limit of "
            f"{LIMITS.max_dim_factors} (matcalc.limits.configure(max_dim_factors=…))")
    out = ONE
    for p in parts:
        if _DIGITS.fullmatch(p) and int(p) > 0:  # ASCII digits: "²".isdigit() is True
            out = out * Dim(int(p))
        elif _NAME.fullmatch(p) and not keyword.iskeyword(p):
            out = out * Dim(1, (p,))
        else:
            raise InputError(
                f"invalid dimension {whole!r}: use a positive integer, a name like 'm', or "
                f"products and sums of them ('m*n', 'm + n')")
    return out


def dim(x: int | str | Dim) -> Dim:
    """Normalise a user's dimension: a positive int, a name like ``"m"``, ``"m*n"``, ``"m + n"``
    or ``"m - 1"`` (refused when provably not positive)."""
    if isinstance(x, Dim):
        return x
    if isinstance(x, bool):
        raise _refuse(x)
    if isinstance(x, int) or (hasattr(x, "__index__") and not isinstance(x, str)):
        try:
            n = int(x.__index__()) if not isinstance(x, int) else x
        except (TypeError, ValueError):
            raise _refuse(x) from None
        if n <= 0:
            raise InputError(f"a dimension must be a positive integer or a name, not {n}")
        return Dim(_coef(n))
    if isinstance(x, str):
        s = x.strip()
        if _DIGITS.fullmatch(s):  # ASCII digits only: "²".isdigit() and "٣".isdigit() are True
            return dim(int(s))
        pieces = re.split(r"([+-])", s)
        _few_terms(pieces[::2])
        if not pieces[0].strip() and len(pieces) > 1 and pieces[1] == "-":
            pieces = ["0"] + pieces[1:]  # a leading minus: -1 + m
        out = ZERO
        sign = 1
        for i, piece in enumerate(pieces):
            if i % 2:
                sign = 1 if piece == "+" else -1
                continue
            if piece.strip() == "0" and i == 0:
                continue
            term = _parse_product(piece, x)
            out = out + term if sign > 0 else out - term
        if not out.maybe_positive:
            raise InputError(f"the dimension {x!r} is never positive")
        return out
    raise _refuse(x)


Shape = tuple[Dim, Dim]


def shape_str(shape: Shape) -> str:
    """``m×n``; products and sums are parenthesised: ``(m·B)×(m·n)``, ``(m + n)×n``."""
    return "×".join(f"({d})" if d.compound else str(d) for d in shape)
