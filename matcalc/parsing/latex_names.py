r"""Names in LaTeX: subscripts, Greek letters, runs of letters, and the dimensions written in
subscripts.

``W_1`` reads the declared ``W_1``, else ``W1``; ``W1`` (digits right after the letters) and
``\mathrm{W1}`` read ``W1`` when it is declared; ``\mathrm{x\_}`` reads ``x_``; ``W_{hh}`` reads
``W_hh``; ``x_{t,1}`` reads ``x_t_1``; ``\alpha`` reads ``alpha`` (``\lambda``, a Python keyword,
reads ``lam``, ``lambda_`` or ``lmbda``). A run of letters that is not itself declared is split
into single-letter names when each letter is declared (or is ``I``). An undeclared name that is
a dimension of a declared symbol is that size as a 1×1 value; ``\pi`` is π unless declared; ``I``
is an identity sized by context and ``K_{m,n}`` the commutation matrix, unless those names are
declared.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from lark import Token

from .. import ops
from ..dims import Dim, dim
from ..errors import ParseError, UnknownNameError
from ..expr import Expr
from .common import Positioned, Program, Val, suggest
from .latex_commands import EYE, GREEK_ALIASES, LatexTables
from .latex_shapes import Operand, Poly, Var, eye_maker

__all__ = ["SCRIPT_FONT", "LatexNames", "Name", "script_body", "sub_text"]

SCRIPT_FONT = re.compile(
    r"\\(?:mathsf|mathrm|text|textsf|textrm|mathit|mathbf|operatorname)\s*\{([^{}]*)\}")
_PLAIN_SUB = re.compile(r"[0-9]+|[A-Za-z_][A-Za-z_0-9]*")


@dataclass(frozen=True, slots=True)
class Name:
    """A name as written: its base, its subscript (normalised and raw) and whether it is Greek."""

    base: str
    sub: str | None  # the subscript's text, normalised (hh, 1, t_1), or None
    sub_raw: str | None  # the subscript's body as written (for dimensions: I_{m B})
    greek: bool
    text: str  # as written, for messages

    def candidates(self, aliases: bool = True) -> list[str]:
        """The declared names it may stand for, in order of preference."""
        bases = [self.base] + (GREEK_ALIASES.get(self.base, []) if self.greek and aliases else [])
        out: list[str] = []
        for b in bases:
            if self.sub is None:
                out.append(b)
            else:
                out += [f"{b}_{self.sub}"] + ([b + self.sub] if self.sub.isalnum() else [])
        return out


def script_body(raw: str) -> tuple[str, int]:
    """A superscript's or subscript's body (without ^ or _ and one pair of braces), and offset."""
    i = 1
    while i < len(raw) and raw[i].isspace():
        i += 1
    if raw[i:i + 1] == "{" and raw.endswith("}"):
        return raw[i + 1:-1], i + 1
    return raw[i:], i


def sub_text(raw: str) -> str:
    """A subscript as part of a name: _1 → 1, _{hh} → hh, _{t,1} → t_1, _{\\alpha} → alpha."""
    body, _ = script_body(raw)
    body = SCRIPT_FONT.sub(r"\1", body).replace("\\_", "_")
    body = re.sub(r"\\([A-Za-z]+)", r"\1", body)
    return re.sub(r"\s+", "", body).replace(",", "_")


class LatexNames(Program):
    """Resolving names against the declared symbols, the dimensions and the LaTeX tables."""

    def __init__(self, source: str, symbols: dict[str, Expr], tables: LatexTables):
        super().__init__(source, symbols)
        self.tables = tables
        self.dims = {n for s in symbols.values() for d in s.shape for n in d.names}

    def dim_text(self, text: str, at: Positioned) -> Dim:
        """A dimension written in a subscript: 3, n, m B, 2 n, m \\cdot n, m·n, mn."""
        cleaned = SCRIPT_FONT.sub(r"\1", text)
        cleaned = re.sub(r"\\cdot|\\times|\\[,;!: ]|[*·{}]", " ", cleaned)
        factors = re.findall(r"[0-9]+|[A-Za-z][A-Za-z_0-9]*|\S", cleaned)
        if not factors:
            raise self.error(ParseError, "an empty subscript is not a dimension", at)
        out = Dim(1)
        for f in factors:
            if f.isdigit() and int(f) > 0:
                out = out * Dim(int(f))
                continue
            known = [n for n in (f, f.replace("_", "")) if n in self.dims]
            if known:
                out = out * Dim(1, (known[0],))
            elif f.isalpha() and all(c in self.dims for c in f):  # mn: m times n
                for c in f:
                    out = out * Dim(1, (c,))
            elif re.fullmatch(r"[A-Za-z][A-Za-z_0-9]*", f):
                raise self.error(UnknownNameError, f"unknown dimension {f!r}: no declared shape "
                                 "uses it" + suggest(f, self.dims), at)
            else:
                raise self.error(ParseError, f"{text.strip()} is not a dimension (use a positive "
                                 "integer or a dimension name like n)", at)
        return out

    def declared(self, name: Name) -> Expr | None:
        """The declared symbol a name stands for, or None."""
        for c in name.candidates():
            if c in self.symbols:
                return self.symbols[c]
        return None

    def _identity_sub(self, sub: str) -> bool:
        """Whether I_sub is an identity of a plain size (a positive integer or a dimension)."""
        return _PLAIN_SUB.fullmatch(sub) is not None and (sub.isdigit() or sub in self.dims)

    def exists(self, base: str, sub: str | None) -> bool:
        """Whether a Latin name stands for something: a declared symbol or an identity."""
        name = Name(base, sub, None, False, base)
        if self.declared(name) is not None:
            return True
        return base == "I" and (sub is None or self._identity_sub(sub))

    def find(self, name: Name, at: Positioned) -> Operand | None:
        """What a name stands for, or None."""
        found = self.declared(name)
        if found is not None:
            return found
        if not name.greek and name.base == "I":
            if name.sub is None:
                v = Var("I", at)
                return Poly(v, v, (v,), maker=eye_maker)
            if self._identity_sub(name.sub):
                return self.build(at, EYE, dim(name.sub))
            return None
        if name.sub is None and not name.greek and name.base in self.dims:
            return ops.size(name.base)
        if name.sub is None and name.greek and name.base == "pi":
            return ops.const(math.pi)
        return None

    def resolve(self, v: Val) -> Operand:
        """The symbol, placeholder or size a name stands for; UnknownNameError otherwise."""
        name: Name = v.value
        found = self.find(name, v)
        if found is not None:
            return found
        if name.base == "I" and name.sub_raw is not None and not name.greek:
            # I_{m·n} and friends: an identity with a dimension that is not a plain name
            return self.build(v, EYE, self.dim_text(name.sub_raw, v))
        if name.base == "K" and not name.greek and name.sub_raw and name.sub_raw.count(",") == 1:
            # K_{m,n}: the commutation matrix, vec(Aᵀ) = K vec(A) for an m×n A
            rows, cols = (self.dim_text(part, v) for part in name.sub_raw.split(","))
            return self.build(v, ops.commutation, rows, cols)
        raise self.undeclared(name, v)

    def undeclared(self, name: Name, at: Positioned) -> ParseError:
        """The error for a name that stands for nothing, with a hint and a suggestion."""
        wanted = name.base if name.sub is None else f"{name.base}_{name.sub}"
        if name.greek:
            if name.base == "sigma" and name.sub is None:
                message = (r"\sigma here is a name (sigmoid needs an argument, as in "
                           r"\sigma(W x)); declare 'sigma' to use it as a symbol")
            else:
                message = f"undeclared name {name.text} (declare {wanted!r} in shapes)"
            return self.error(UnknownNameError, message + suggest(wanted, self.symbols), at)
        hint = ""
        if name.base in self.tables.words or name.base in self.tables.commands:
            hint = f"; for the function write \\operatorname{{{name.base}}}(…)"
        elif name.base == "e":
            hint = r"; write e^{x} or \exp(x) for the exponential"
        return self.error(UnknownNameError, f"undeclared name {name.text!r}" + hint
                          + suggest(wanted, self.symbols), at)

    def split(self, tok: Token, sub_tok: Token | None) -> list[Token]:
        """A run of letters as one name or, when that is not declared, one name per letter."""
        run = str(tok)
        if len(run) == 1:
            return [tok]
        sub = sub_text(sub_tok) if sub_tok is not None else None
        if self.exists(run, sub) or self.exists(run, None) or run in self.dims:
            return [tok]
        letters = list(run)
        if not all(self.exists(c, None) for c in letters[:-1]) or not self.exists(letters[-1], sub):
            return [tok]  # not a product of declared letters: resolving reports the whole run
        start, line, column = tok.start_pos or 0, tok.line or 1, tok.column or 1
        return [Token("NAME", c, start + i, line, column + i, line, column + i + 1, start + i + 1)
                for i, c in enumerate(letters)]
