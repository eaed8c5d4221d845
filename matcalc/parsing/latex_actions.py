r"""The LaTeX transformer: one callback per reduction of ``latex.lark``, building matcalc
expressions in the order written, with shapes checked as it goes (no tree, no recursion).

LaTeX's own notation is read here: superscripts (``^\top``, ``^{-1}``, ``^{-\top}``, numeric and
Hadamard powers), ``e^{x}``, fractions, ``\frac{\partial L}{\partial Y}``, bars and norms,
``\max(0, Z)``, ``\mathbb{1}[Z > 0]`` and the sized placeholders ``\mathbf{1}_{n}``.
"""

from __future__ import annotations

import math
import re
from typing import Any

from lark import Token, Transformer, v_args

from .. import ops
from ..dims import Dim
from ..errors import ParseError, UnknownNameError
from ..expr import Expr
from .common import Val, constant, suggest
from .latex_commands import ABS, EXP, NORM, ONES, RELU, STEP, ZEROS
from .latex_names import SCRIPT_FONT, Name, script_body, sub_text
from .latex_program import CURRENT, LatexProgram
from .latex_shapes import (
    Operand,
    Poly,
    Var,
    describe,
    is_square,
    ones_maker,
    operator,
    zeros_maker,
)

__all__ = ["Actions"]

_SCRIPT_FONT_BARE = re.compile(r"\\(?:mathsf|mathrm|text|textsf|textrm|mathit|mathbf)(?![A-Za-z])")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_HPOW = re.compile(r"\\(?:circ|odot)\{?([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))\}?")
_TRANSPOSE = {"T", r"\top", r"\intercal", r"\prime", "'"}
_INV_TRANSPOSE = {"-T", r"-\top", r"-\intercal"}
_UNSUPPORTED_SUPERSCRIPTS = {"*", "H", r"\dagger", r"\ast", "+", "-", r"\star"}


def _number(text: str, prog: LatexProgram, at: Token) -> int | float:
    try:
        value: int | float = int(text) if re.fullmatch(r"[+-]?[0-9]+", text) else float(text)
        if not math.isfinite(float(value)):
            raise OverflowError
    except (ValueError, OverflowError):
        raise prog.error(ParseError, f"number {text[:30]} is out of range", at) from None
    return value


def _number_text(p: float) -> str:
    return str(p) if isinstance(p, int) else repr(p)


def _script_kind(prog: LatexProgram, tok: Token) -> tuple[tuple[Any, ...], str, int]:
    """What a superscript means: ("T",), ("inv",), ("invT",), ("pow", p), ("hpow", p) or
    ("expr",); with its body and the body's offset in the token."""
    raw = str(tok)
    body, offset = script_body(raw)
    norm = _SCRIPT_FONT_BARE.sub("", SCRIPT_FONT.sub(r"\1", body))
    compact = re.sub(r"\s+", "", norm)
    if compact in _TRANSPOSE:
        return ("T",), body, offset
    if compact == "-1":
        return ("inv",), body, offset
    if compact in _INV_TRANSPOSE:
        return ("invT",), body, offset
    m = _HPOW.fullmatch(compact)
    if m:
        return ("hpow", _number(m.group(1), prog, tok)), body, offset
    if _NUMBER.fullmatch(compact):
        return ("pow", _number(compact, prog, tok)), body, offset
    if compact in _UNSUPPORTED_SUPERSCRIPTS:
        raise prog.error(ParseError, f"unsupported superscript {raw}: use ^\\top, ^{{-1}}, "
                         "^{-\\top} or a numeric exponent such as ^{2}", tok)
    if not compact:
        raise prog.error(ParseError, "empty superscript", tok)
    return ("expr",), body, offset


def _is_zero(v: Val) -> bool:
    if v.kind == "num":
        return bool(v.value == 0)
    return v.kind == "expr" and constant(v.value) == 0


def _power(prog: LatexProgram, at: Token, x: Operand, p: float, hadamard: bool) -> Operand:
    """x^{p}: a plain power of a 1×1 value, elementwise for a matrix that is not square (or
    with ^{\\circ p}); ambiguous for a square matrix."""
    if not hadamard and not (isinstance(x, Expr) and x.is_scalar) and is_square(x):
        raise prog.error(
            ParseError, f"^{{{_number_text(p)}}} of the square matrix {describe(x)} is "
            "ambiguous: write X X for the matrix product, or X \\odot X or X^{\\circ "
            f"{_number_text(p)}}} for the elementwise power", at)
    power = operator("**")
    return prog.unary(at, lambda a: power(a, p), x)


def _placeholder_sizes(prog: LatexProgram, sub: Token) -> tuple[Dim, Dim | None]:
    """The rows and (if given) columns in a placeholder's subscript: _{n}, _{m \\times n}."""
    body, _ = script_body(str(sub))
    parts = re.split(r"\\times|×|,", body)
    if len(parts) > 2:
        raise prog.error(ParseError, f"{prog.text_of(sub)}: give rows \\times cols", sub)
    dims = [prog.dim_text(p, sub) for p in parts]
    return dims[0], (dims[1] if len(dims) == 2 else None)


@v_args(inline=True)
class Actions(Transformer[Token, Any]):
    """Builds Expr nodes as the LALR parser reduces (no tree, no recursion)."""

    def start(self, v: Val) -> Expr:
        """The whole formula: an expression whose every size is known."""
        prog = CURRENT.get()
        return prog.resolved(prog.operand(v))

    def add(self, a: Val, op: Token, b: Val) -> Val:
        """a + b, a placeholder taking the other side's shape."""
        prog = CURRENT.get()
        out = prog.elementwise(op, operator("+"), prog.operand(a), prog.operand(b), "add")
        return prog.wrap(out, a)

    def sub(self, a: Val, op: Token, b: Val) -> Val:
        """a - b, a placeholder taking the other side's shape."""
        prog = CURRENT.get()
        out = prog.elementwise(op, operator("-"), prog.operand(a), prog.operand(b), "subtract")
        return prog.wrap(out, a)

    def neg(self, op: Token, v: Val) -> Val:
        """-a (a negative number stays a number)."""
        if v.kind == "num":
            return Val("num", -v.value, op.line or 1, op.column or 1)
        prog = CURRENT.get()
        return prog.wrap(prog.unary(op, operator("-x"), prog.operand(v)), op)

    def pos(self, op: Token, v: Val) -> Val:
        """+a."""
        if v.kind == "num":
            return Val("num", v.value, op.line or 1, op.column or 1)
        prog = CURRENT.get()
        return prog.wrap(prog.operand(v), op)

    def juxt(self, a: Val, b: Val) -> Val:
        """a b: the matrix product, or scaling when one side is 1×1."""
        prog = CURRENT.get()
        return prog.wrap(prog.product(b, prog.operand(a), prog.operand(b)), a)

    def mulop(self, a: Val, op: Token, b: Val) -> Val:
        """*, /, and the infix commands of two-operand ops (\\cdot, \\odot, \\otimes, …)."""
        prog = CURRENT.get()
        x, y = prog.operand(a), prog.operand(b)
        kind = str(op.value)
        if kind == "*":
            return prog.wrap(prog.product(op, x, y), a)
        if kind == "/":
            return prog.wrap(prog.elementwise(op, operator("/"), x, y, "divide"), a)
        infix = prog.tables.infix[kind]
        assert infix.op.build is not None  # the tables admit only ops with a builder
        if infix.how == "product":
            out = prog.product(op, x, y)
        elif infix.how == "elementwise":
            out = prog.elementwise(op, infix.op.build, x, y, f"apply \\{kind} to")
        else:
            out = prog.build(op, infix.op.build, prog.resolved(x), prog.resolved(y))
        return prog.wrap(out, a)

    def sup(self, base: Val, tok: Token) -> Val:
        """base^{…}: transpose, inverse, power, or e^{x}."""
        prog = CURRENT.get()
        if base.kind == "barecall":  # \log x^2 is log(x²): the superscript binds to the argument
            f, arg = base.value
            return Val("barecall", (f, self.sup(arg, tok)), base.line, base.column)
        kind, body, offset = _script_kind(prog, tok)
        name = base.value if base.kind == "name" else None
        if (name is not None and name.base == "e" and name.sub is None and not name.greek
                and "e" not in prog.symbols):  # e^{x}
            power = prog.subparse(body, (tok.start_pos or 0) + offset)
            return prog.wrap(prog.build(tok, EXP, power), base)
        x = prog.operand(base)
        if kind[0] == "T":
            out = prog.transpose(tok, x)
        elif kind[0] == "inv":
            out = prog.inverse(tok, x)
        elif kind[0] == "invT":
            out = prog.transpose(tok, prog.inverse(tok, x))
        else:
            if kind[0] == "expr":
                hadamard = body.lstrip().startswith(r"\circ")
                exponent = prog.subparse(body.replace(r"\circ", " ", 1) if hadamard else body,
                                         (tok.start_pos or 0) + offset)
                p = constant(exponent)
                if p is None:  # x^{y}: a variable exponent, elementwise
                    return prog.wrap(prog.elementwise(tok, operator("**"), x, exponent,
                                                      "raise to the power"), base)
                kind = ("hpow" if hadamard else "pow", p)
            if base.kind == "num" and kind[0] == "pow":
                out = prog.build(tok, operator("**"), x, kind[1])
            else:
                out = _power(prog, tok, x, kind[1], kind[0] == "hpow")
        return prog.wrap(out, base)

    def prime(self, base: Val, tok: Token) -> Val:
        """base': the transpose."""
        prog = CURRENT.get()
        if base.kind == "barecall":
            f, arg = base.value
            return Val("barecall", (f, self.prime(arg, tok)), base.line, base.column)
        return prog.wrap(prog.transpose(tok, prog.operand(base)), base)

    def group(self, open_: Token, v: Val, close: Token) -> Val:
        """A delimited group; |x| is the absolute value."""
        prog = CURRENT.get()
        if open_.value == "|":
            inner = prog.operand(v)
            return prog.wrap(prog.unary(open_, ABS, inner), open_, ("bars", inner))
        if v.kind == "num":
            return Val("num", v.value, open_.line or 1, open_.column or 1, ("delim", open_.value))
        return prog.wrap(prog.operand(v), open_, ("delim", open_.value))

    def number(self, tok: Token) -> Val:
        """A numeric literal."""
        return Val("num", _number(str(tok), CURRENT.get(), tok), tok.line or 1, tok.column or 1)

    def ones(self, tok: Token, sub: Token | None = None) -> Val:
        """\\mathbf{1}, sized by a subscript or by context."""
        prog = CURRENT.get()
        if sub is None:
            v = Var(prog.text_of(tok), tok)
            return prog.wrap(Poly(v, Dim(1), (v,), maker=ones_maker), tok)
        rows, cols = _placeholder_sizes(prog, sub)
        return prog.wrap(prog.build(tok, ONES, rows, cols if cols is not None else 1), tok)

    def zeros(self, tok: Token, sub: Token | None = None) -> Val:
        """\\mathbf{0}, sized by a subscript or by context."""
        prog = CURRENT.get()
        if sub is None:
            r, c = Var(prog.text_of(tok), tok), Var(prog.text_of(tok), tok)
            return prog.wrap(Poly(r, c, (r, c), maker=zeros_maker), tok)
        rows, cols = _placeholder_sizes(prog, sub)
        return prog.wrap(prog.build(tok, ZEROS, rows, cols if cols is not None else 1), tok)

    def call(self, f: Token, arg: Val) -> Val:
        """A function applied to a group: \\exp(x)."""
        prog = CURRENT.get()
        return prog.wrap(prog.apply(f, arg), f)

    def barecall(self, f: Token, arg: Val) -> Val:
        """A function before an atom (\\log x^2): applied once the atom's scripts are read."""
        return Val("barecall", (f, arg), f.line or 1, f.column or 1)

    def frac(self, f: Token, a: Val, b: Val) -> Val:
        """\\frac{a}{b}: elementwise division (a number for two numbers)."""
        prog = CURRENT.get()
        for part in (a, b):
            if part.extra is None or part.extra != ("delim", "{"):
                raise prog.error(ParseError, f"{prog.text_of(f)} takes braced arguments, as in "
                                 r"\frac{a}{b}", part)
        if a.kind == "num" and b.kind == "num":
            return _fraction(prog, f, a, b)
        out = prog.elementwise(f, operator("/"), prog.operand(a), prog.operand(b), "divide")
        return prog.wrap(out, f)

    def gradient(self, f: Token, o1: Token, p1: Token, loss: Val, c1: Token, o2: Token,
                 p2: Token, of: Val, c2: Token) -> Val:
        """\\frac{\\partial L}{\\partial Y}: the declared symbol dL_dY."""
        prog = CURRENT.get()
        if o1.value != "{" or o2.value != "{":
            raise prog.error(ParseError, r"write the gradient as \frac{\partial L}{\partial Y}", f)
        return prog.wrap(_gradient_symbol(prog, f, loss.value, of.value), f)

    def norm(self, open_: Token, v: Val, close: Token, sub: Token | None = None) -> Val:
        """\\|x\\|, \\|X\\|_F: the Frobenius (Euclidean) norm."""
        prog = CURRENT.get()
        x = prog.resolved(prog.operand(v))
        if sub is not None:
            which = sub_text(sub)
            if which == "2":
                if not (x.rows.is_one or x.cols.is_one):
                    raise prog.error(ParseError, "the spectral norm ‖X‖_2 of a matrix is not "
                                     "supported; use the Frobenius norm ‖X‖_F", sub)
            elif which not in ("F", "Fro", "fro", "Frobenius"):
                raise prog.error(ParseError, f"unsupported norm {prog.text_of(sub)}: use _2 "
                                 "(vectors) or _F", sub)
        return prog.wrap(prog.build(open_, NORM, x), open_)

    def max(self, m: Token, open_: Token, a: Val, comma: Token, b: Val, close: Token) -> Val:
        """\\max(0, Z): ReLU."""
        prog = CURRENT.get()
        if _is_zero(a):
            x = prog.operand(b)
        elif _is_zero(b):
            x = prog.operand(a)
        else:
            raise prog.error(ParseError, r"only \max(0, Z) (ReLU) is supported", m)
        return prog.wrap(prog.unary(m, RELU, x), m)

    def indicator(self, ind: Token, open_: Token, a: Val, cmp: Token, b: Val,
                  close: Token) -> Val:
        """\\mathbb{1}[a > b]: the step of a - b."""
        prog = CURRENT.get()
        if cmp.value not in (">", "<"):
            raise prog.error(ParseError, "only strict comparisons are supported in an indicator: "
                             r"\mathbb{1}[Z > 0]", cmp)
        big, small = (a, b) if cmp.value == ">" else (b, a)
        x = prog.operand(big)
        if not _is_zero(small):
            x = prog.elementwise(cmp, operator("-"), x, prog.operand(small), "compare")
        return prog.wrap(prog.unary(ind, STEP, x), ind)

    def name_ref(self, tok: Token, sub: Token | None = None) -> Val:
        """A name with its subscript, resolved when it is used."""
        prog = CURRENT.get()
        greek = tok.type == "GREEK"
        text = prog.text_of(tok) + ("" if sub is None else prog.text_of(sub))
        name = Name(str(tok.value), None if sub is None else sub_text(sub),
                    None if sub is None else script_body(str(sub))[0], greek, text)
        return Val("name", name, tok.line or 1, tok.column or 1)


def _fraction(prog: LatexProgram, f: Token, a: Val, b: Val) -> Val:
    """\\frac{a}{b} of two numbers: the constant a / b (an int when it divides)."""
    if b.value == 0:
        raise prog.error(ParseError, "division by zero", b)
    try:
        value = a.value / b.value
    except OverflowError:
        raise prog.error(ParseError, "number out of range", a) from None
    if isinstance(a.value, int) and isinstance(b.value, int) and a.value % b.value == 0:
        value = a.value // b.value
    return Val("num", value, f.line or 1, f.column or 1)


def _gradient_symbol(prog: LatexProgram, f: Token, ln: Name, on: Name) -> Expr:
    """∂L/∂Y: the declared symbol dL_dY, as the cotangent of Y."""
    losses = [ln.base] if ln.sub is None else [f"{ln.base}_{ln.sub}", ln.base + ln.sub]
    ofs = [on.base] if on.sub is None else [f"{on.base}_{on.sub}", on.base + on.sub]
    tried = []
    for lname in losses:
        for oname in ofs:
            key = f"d{lname}_d{oname}"
            tried.append(key)
            sym = prog.symbols.get(key)
            if sym is not None:
                return prog.build(f, ops.cotangent, oname, sym.rows, sym.cols, lname)
    raise prog.error(UnknownNameError, f"the gradient ∂{ln.text}/∂{on.text} is the symbol "
                     f"{tried[0]!r}; declare it in shapes" + suggest(tried[0], prog.symbols), f)
