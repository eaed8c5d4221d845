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
from ..ops.selections import comparison
from .common import Val, builder, constant, suggest
from .latex_commands import (
    ABS,
    AXIS_WORDS,
    EXP,
    NORM,
    ONES,
    PAIRWISE,
    RELU,
    STEP,
    SUPERSCRIPT_OPS,
    ZEROS,
)
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
_UNSUPPORTED_SUPERSCRIPTS = {"*", "H", r"\ast", "-", r"\star"}


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
    if compact in SUPERSCRIPT_OPS:  # A^{+}: the pseudo-inverse
        return ("op", SUPERSCRIPT_OPS[compact]), body, offset
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
    if (not hadamard and isinstance(x, Expr) and not x.is_scalar and x.rows == x.cols
            and isinstance(p, int)):
        return prog.build(at, ops.matrix_power, x, p)  # A^{3} of a square A: A A A
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
        elif kind[0] == "op":
            out = prog.build(tok, builder(getattr(ops, kind[1])), prog.resolved(x))
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
        r"""\|x\|, \|X\|_F, \|x\|_1, \|x\|_{\infty}, \|X\|_2 (spectral), \|X\|_* (nuclear),
        \|X\|_{1, \text{col}} (one norm per column)."""
        prog = CURRENT.get()
        x = prog.resolved(prog.operand(v))
        if sub is None:
            return prog.wrap(prog.build(open_, NORM, x), open_)
        parts = [p.strip() for p in script_body(str(sub))[0].split(",")]
        axis = None
        if len(parts) == 2:
            axis = AXIS_WORDS.get(_word(parts[1]))
            if axis is None:
                raise prog.error(ParseError, f"unsupported norm {prog.text_of(sub)}: the second "
                                 r"subscript is \text{col} or \text{row}", sub)
        which = _word(parts[0])
        orders: dict[str, Any] = {"F": "fro", "Fro": "fro", "fro": "fro", "Frobenius": "fro",
                                  "*": "nuc", "\\ast": "nuc", "nuc": "nuc",
                                  "\\infty": math.inf, "-\\infty": -math.inf}
        ord_: Any = orders.get(which)
        if ord_ is None and _NUMBER.fullmatch(which):
            ord_ = _number(which, prog, sub)
        if ord_ is None:
            raise prog.error(ParseError, f"unsupported norm {prog.text_of(sub)}: use _2, _1, "
                             r"_{\infty}, _F, _* or a number", sub)
        vector = x.rows.is_one or x.cols.is_one
        if ord_ == "fro" or (ord_ == 2 and vector and axis is None):
            ord_ = None
        return prog.wrap(prog.build(open_, lambda a: ops.norm(a, ord=ord_, axis=axis), x), open_)

    def max(self, m: Token, open_: Token, a: Val, comma: Token, b: Val, close: Token) -> Val:
        """\\max(0, Z): ReLU; \\max(A, B): the elementwise maximum."""
        prog = CURRENT.get()
        if _is_zero(a):
            x = prog.operand(b)
        elif _is_zero(b):
            x = prog.operand(a)
        else:
            out = prog.elementwise(m, ops.maximum, prog.operand(a), prog.operand(b),
                                   "take the maximum of")
            return prog.wrap(out, m)
        return prog.wrap(prog.unary(m, RELU, x), m)

    def maxof(self, m: Token, *rest: Any) -> Val:
        """\\max(Z), \\max_{\\text{col}}(Z): the largest entry, of each column or of each row."""
        prog = CURRENT.get()
        sub, group = (rest[0], rest[1]) if len(rest) == 2 else (None, rest[0])
        axis = None if sub is None else _axis(prog, sub)
        x = prog.resolved(prog.operand(group))
        return prog.wrap(prog.build(m, lambda a: ops.max(a, axis=axis), x), m)

    def indicator(self, ind: Token, open_: Token, a: Val, cmp: Token, b: Val,
                  close: Token) -> Val:
        """\\mathbb{1}[a > b], [a \\geq b], [a = b], [a \\neq b]: a 0/1 mask (the step of a − b
        for a strict comparison)."""
        prog = CURRENT.get()
        relation = str(cmp.value)
        if relation in (">", "<"):
            big, small = (a, b) if relation == ">" else (b, a)
            x = prog.operand(big)
            if not _is_zero(small):
                x = prog.elementwise(cmp, operator("-"), x, prog.operand(small), "compare")
            return prog.wrap(prog.unary(ind, STEP, x), ind)
        build = comparison(relation)
        if build is None:
            raise prog.error(ParseError, f"unknown comparison {prog.text_of(cmp)}", cmp)
        out = prog.elementwise(cmp, build, prog.operand(a), prog.operand(b), "compare")
        return prog.wrap(out, ind)

    def subcall(self, f: Token, sub: Token, arg: Val) -> Val:
        """A function with a subscript: \\operatorname{cumsum}_{\\text{col}}(Z) (an axis),
        \\operatorname{triu}_{1}(A) (its first integer parameter)."""
        prog = CURRENT.get()
        return prog.wrap(_call(prog, f, sub, [arg]), f)

    def multicall(self, f: Token, *rest: Any) -> Val:
        """f(A, B, …): an op of several operands (\\operatorname{where}(M, A, B)), a function
        with numeric parameters (\\operatorname{LeakyReLU}(Z, 0.2)), or \\min(A, B)."""
        prog = CURRENT.get()
        sub = rest[0] if isinstance(rest[0], Token) and rest[0].type == "SUBSCRIPT" else None
        args = [r for r in rest if isinstance(r, Val)]
        return prog.wrap(_call(prog, f, sub, args), f)

    def subscripted(self, v: Val, sub: Token) -> Val:
        """\\left(W X\\right)_{1:2, :} or {W_1}_{2, :}: a slice (1-based, inclusive)."""
        prog = CURRENT.get()
        x = prog.resolved(prog.operand(v))
        return prog.wrap(_slice(prog, x, sub), v)

    def matrix(self, open_: Token, *rows: Any) -> Val:
        """\\begin{bmatrix} A & B \\\\ C & D \\end{bmatrix}: a block matrix."""
        prog = CURRENT.get()
        grid = [[prog.resolved(prog.operand(v)) for v in r] for r in rows if isinstance(r, list)]
        return prog.wrap(prog.build(open_, ops.block, grid), open_)

    def matrix_row(self, *items: Any) -> list[Val]:
        """One row of a block matrix."""
        return [v for v in items if isinstance(v, Val)]

    def name_ref(self, tok: Token, sub: Token | None = None) -> Val:
        """A name with its subscript, resolved when it is used."""
        prog = CURRENT.get()
        if sub is not None and _is_index(prog, tok, sub):  # X_{1:3, :}
            base = self.name_ref(tok)
            return prog.wrap(_slice(prog, prog.resolved(prog.operand(base)), sub), base)
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


def _word(text: str) -> str:
    """A subscript's word without fonts or spaces: \\text{col} → col."""
    return re.sub(r"\s+", "", _SCRIPT_FONT_BARE.sub("", SCRIPT_FONT.sub(r"\1", text)))


def _axis(prog: LatexProgram, sub: Token) -> int:
    word = _word(script_body(str(sub))[0])
    if word not in AXIS_WORDS:
        raise prog.error(ParseError, f"unexpected subscript {prog.text_of(sub)}: a reduction "
                         r"takes _{\text{col}} (each column) or _{\text{row}} (each row)", sub)
    return AXIS_WORDS[word]


def _call(prog: LatexProgram, f: Token, sub: Token | None, args: list[Val]) -> Expr:
    """A named function applied to its arguments: operands first, then numbers for the op's other
    parameters in order; a subscript gives the axis (col, row) or the first integer parameter."""
    name = str(f.value)
    if name in PAIRWISE and len(args) == 2 and sub is None:
        name = PAIRWISE[name]  # \min(A, B) is the elementwise minimum
        op = getattr(ops, name)
        return prog.elementwise(f, op, prog.operand(args[0]), prog.operand(args[1]),
                                f"take the {name} of")  # type: ignore[return-value]
    tables = prog.tables
    function = tables.functions.get(name)
    record = function.op if function is not None else tables.calls.get(name)
    if record is None:
        raise prog.error(ParseError, f"{prog.text_of(f)} takes one argument", f)
    fixed = dict(function.fixed) if function is not None else {}
    operands = [p for p in record.params if p.kind == "expr"]
    others = [p for p in record.params if p.kind != "expr" and p.name not in fixed]
    values: list[Any] = []
    keywords: dict[str, Any] = dict(fixed)
    for i, v in enumerate(args):
        if i < len(operands):
            values.append(prog.resolved(prog.operand(v)))
            continue
        spare = [p for p in others if p.name != "axis" and p.name not in keywords]
        if not spare or v.kind != "num":
            raise prog.error(ParseError, f"{prog.text_of(f)} takes {len(operands)} operand(s)"
                             + (f" and the numbers {', '.join(p.name for p in spare)}"
                                if spare else ""), v)
        keywords[spare[0].name] = v.value
    if sub is not None:
        word = _word(script_body(str(sub))[0])
        if word in AXIS_WORDS and any(p.name == "axis" for p in others):
            keywords["axis"] = AXIS_WORDS[word]
        elif _NUMBER.fullmatch(word) and [p for p in others if p.kind in ("int", "number")]:
            first = next(p for p in others if p.kind in ("int", "number"))
            keywords[first.name] = _number(word, prog, sub)
        else:
            raise prog.error(ParseError, f"unexpected subscript {prog.text_of(sub)} on "
                             f"{prog.text_of(f)}", sub)
    build = builder(record.build)
    return prog.build(f, lambda *xs: build(*xs, **keywords), *values)


def _is_index(prog: LatexProgram, tok: Token, sub: Token) -> bool:
    """Whether a subscript indexes (X_{1:3, :}, X_{2, 1}) rather than names (x_{t,1}, K_{m,n}):
    a colon always indexes; a comma only where the subscripted name is not declared."""
    body = script_body(str(sub))[0]
    if ":" in body:
        return True
    if "," not in body:
        return False
    name = Name(str(tok.value), sub_text(sub), body, tok.type == "GREEK", prog.text_of(tok))
    try:
        return prog.find(name, tok) is None and str(tok.value) in prog.symbols
    except UnknownNameError:
        return str(tok.value) in prog.symbols


def _position(prog: LatexProgram, text: str, at: Token) -> Dim:
    """A 1-based position written in a subscript: 3, n, m - 1, k + 2."""
    out = Dim(terms=())
    for sign, term in re.findall(r"([+-]?)\s*([^+-]+)", text.strip()):
        d = prog.dim_text(term, at)
        out = out - d if sign == "-" else out + d
    return out


def _slice(prog: LatexProgram, x: Expr, sub: Token) -> Expr:
    """X_{1:3, :}: rows 1 to 3 (inclusive, from 1), every column."""
    parts = script_body(str(sub))[0].split(",")
    if len(parts) != 2:
        raise prog.error(ParseError, f"an index {prog.text_of(sub)} takes rows and columns, as "
                         "in X_{1:3, :}", sub)
    key: list[Any] = []
    for part in parts:
        text = part.strip()
        if text == ":":
            key.append(slice(None))
        elif ":" in text:
            lo, hi = text.split(":", 1)
            key.append(slice(_position(prog, lo, sub) - 1, _position(prog, hi, sub)))
        else:
            first = _position(prog, text, sub) - 1
            key.append(slice(first, first + 1))
    return prog.build(sub, ops.getitem, x, tuple(key))
