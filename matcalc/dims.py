"""Symbolic dimensions: positive integers, names, and products of them (for Kronecker shapes).

Two dimensions are equal only when they are provably equal: the same integer, or the same
product of names with the same integer coefficient. ``m`` and ``n`` are never assumed equal.
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass

from .errors import InputError, SizeLimitError
from .limits import LIMITS

_NAME = re.compile(r"[A-Za-z_][A-Za-z_0-9]*")
_DIGITS = re.compile(r"[0-9]{1,300}")  # a longer number is no size (and int() refuses 4,300+)
_MAX_COEF = 10**300


@dataclass(frozen=True, slots=True)
class Dim:
    """coef · name_1 · name_2 · …; names sorted so that equal products compare equal."""

    coef: int
    names: tuple[str, ...] = ()

    def __str__(self) -> str:
        parts = [str(self.coef)] if self.coef != 1 or not self.names else []
        return "·".join(parts + list(self.names))

    def __repr__(self) -> str:
        return f"Dim({self})"

    @property
    def text(self) -> str:
        """The input-language spelling: ``m*n`` for a product."""
        return str(self).replace("·", "*")

    @property
    def is_one(self) -> bool:
        return self.coef == 1 and not self.names

    @property
    def is_int(self) -> bool:
        return not self.names

    def __mul__(self, other: Dim) -> Dim:
        names = self.names + other.names
        if len(names) > LIMITS.max_dim_factors:  # checked before sorting: each product re-sorts
            raise SizeLimitError(
                f"a product of {len(names)} dimension names is more than the limit of "
                f"{LIMITS.max_dim_factors} (matcalc.limits.configure(max_dim_factors=…))")
        return Dim(_coef(self.coef * other.coef), tuple(sorted(names, key=_order)))

    def value(self, bindings: dict[str, int]) -> int:
        out = self.coef
        for name in self.names:
            out *= bindings[name]
        return out

    def as_user(self) -> int | str:
        """The plain int or name a user wrote (products print as text)."""
        if self.is_int:
            return self.coef
        return str(self)


def _coef(n: int) -> int:
    if n > _MAX_COEF:
        raise SizeLimitError("a dimension with more than 300 digits is not a size")
    return n


def _order(name: str) -> tuple[bool, str]:
    # lower-case names first, so products read m·B and m·n as in the Matrix Cookbook
    return (name[:1].isupper(), name)


ONE = Dim(1)


def dim(x: int | str | Dim) -> Dim:
    """Normalise a user's dimension: a positive int, a name like ``"m"``, or ``"m*n"``."""
    if isinstance(x, Dim):
        return x
    if isinstance(x, bool):
        raise InputError(f"a dimension must be a positive integer or a name, not {x!r}")
    if isinstance(x, int) or (hasattr(x, "__index__") and not isinstance(x, str)):
        try:
            n = int(x.__index__()) if not isinstance(x, int) else x
        except (TypeError, ValueError):
            raise InputError(
                f"a dimension must be a positive integer or a name, not {x!r}") from None
        if n <= 0:
            raise InputError(f"a dimension must be a positive integer or a name, not {n}")
        return Dim(_coef(n))
    if isinstance(x, str):
        s = x.strip()
        if _DIGITS.fullmatch(s):  # ASCII digits only: "²".isdigit() and "٣".isdigit() are True
            return dim(int(s))
        parts = [p.strip() for p in re.split(r"[*·]", s)]
        if len(parts) > LIMITS.max_dim_factors:
            raise SizeLimitError(
                f"a product of {len(parts)} dimension factors is more than the limit of "
                f"{LIMITS.max_dim_factors} (matcalc.limits.configure(max_dim_factors=…))")
        out = ONE
        for p in parts:
            if _DIGITS.fullmatch(p) and int(p) > 0:
                out = out * Dim(int(p))
            elif _NAME.fullmatch(p) and not keyword.iskeyword(p):
                out = out * Dim(1, (p,))
            else:
                raise InputError(
                    f"invalid dimension {x!r}: use a positive integer or a name like 'm'")
        return out
    raise InputError(f"a dimension must be a positive integer or a name, not {x!r}")


Shape = tuple[Dim, Dim]


def shape_str(shape: Shape) -> str:
    """``m×n``; products are parenthesised: ``(m·B)×(m·n)``."""
    return "×".join(f"({d})" if len(d.names) + (d.coef != 1) > 1 else str(d) for d in shape)
