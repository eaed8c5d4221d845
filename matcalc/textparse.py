"""The input language: NumPy-flavoured formulas parsed by a Lark LALR grammar into an Expr.

A program is statements separated by ``;`` or newlines (``#`` starts a comment); the last one is
the result. ``Y = W @ X`` binds ``Y`` to the named intermediate ``named("Y", W @ X)``. Operators
follow Python: ``+ -`` < ``@ * /`` < unary ``- +`` < ``**`` (constant exponent) < postfix ``.T``.
Every statement but the last must be an assignment (a bare expression there would be lost).
Names must be declared in ``shapes`` or assigned earlier; functions come from :data:`FUNCTIONS`,
a table built from the builders in :mod:`matcalc.ops` and their signatures.

The parser is LALR with an inline transformer, so each node is built at its reduction and no
step recurses on the depth of the input. Every rejection is a :class:`MatcalcError` with a line
and column; the text is only ever tokenised, never evaluated.
"""

from __future__ import annotations

import difflib
import inspect
import keyword
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import (
    UnexpectedCharacters,
    UnexpectedEOF,
    UnexpectedInput,
    UnexpectedToken,
    VisitError,
)

from . import ops
from .dims import dim
from .errors import InputError, MatcalcError, ParseError, ShapeError, UnknownNameError
from .expr import Expr
from .printing import short

__all__ = ["parse", "parse_program"]

GRAMMAR = r"""
start: stmt (_SEP stmt)*

?stmt: NAME "=" expr                          -> assign
     | expr                                   -> exprstmt

?expr: product
     | expr (PLUS | MINUS) product            -> binop
?product: factor
     | product (STAR | AT | SLASH) factor     -> binop
?factor: power
     | (PLUS | MINUS) factor                  -> unary
?power: postfix
     | postfix POW factor                     -> pow
?postfix: atom
     | postfix DOT NAME                       -> attr
     | postfix "(" [args] ")"                 -> call
?atom: NAME                                   -> name
     | NUMBER                                 -> number
     | "(" expr ")"
args: arg ("," arg)* [","]
?arg: expr
     | NAME "=" expr                          -> kwarg

NAME: /[A-Za-z_][A-Za-z_0-9]*/
NUMBER: /([0-9]+(\.(?!T)[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?/
PLUS: "+"
MINUS: "-"
STAR: "*"
AT: "@"
SLASH: "/"
POW: "**"
DOT: "."
_SEP: /;|\r?\n/
COMMENT: /#[^\n]*/
WS: /[ \t\f\r]+/
%ignore COMMENT
%ignore WS
"""

# --- the function table: each builder with the kind of each parameter ---------------------------

_UNARY = ("relu", "sigmoid", "tanh", "exp", "log", "sqrt", "abs", "softplus", "step", "sign",
          "trace", "det", "logdet", "inv", "norm", "diag", "vec", "transpose")
_SIGNATURES: dict[str, tuple[str, ...]] = {
    **{name: ("expr",) for name in _UNARY},
    "sum": ("expr", "axis"), "mean": ("expr", "axis"), "logsumexp": ("expr", "axis"),
    "softmax": ("expr", "axis01"), "log_softmax": ("expr", "axis01"),
    "kron": ("expr", "expr"), "power": ("expr", "number"),
    "eye": ("dim",), "ones": ("dim", "dim"), "zeros": ("dim", "dim"), "size": ("dim",),
    "unvec": ("expr", "dim", "dim"),
}
_KEYWORDS = ("axis",)  # the only parameter that may be passed by keyword


@dataclass(frozen=True)
class _Function:
    """A callable of the language: its builder, parameter names and kinds, required count."""

    build: Callable[..., Expr]
    names: tuple[str, ...]
    kinds: tuple[str, ...]
    required: int


def _function(name: str, kinds: tuple[str, ...]) -> _Function:
    build = getattr(ops, name)
    params = list(inspect.signature(build).parameters.values())[: len(kinds)]
    required = sum(p.default is inspect.Parameter.empty for p in params)
    return _Function(build, tuple(p.name for p in params), kinds, required)


FUNCTIONS: dict[str, _Function] = {name: _function(name, k) for name, k in _SIGNATURES.items()}


# --- values on the parser's stack ---------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class _Val:
    """A reduced value: an Expr, a not-yet-resolved name, or a numeric literal; with its start."""

    kind: str  # "expr", "name", "num", "dim" (m*n), or "assigned" (a whole assignment statement)
    value: Any
    line: int
    column: int

    def describe(self) -> str:
        if self.kind == "expr":
            return short(self.value, 40)
        if self.kind == "dim":
            return str(self.value[0])
        return str(self.value)


class _Program:
    """Per-parse state: the source, the declared symbols and the names assigned so far."""

    def __init__(self, source: str, symbols: dict[str, Expr]):
        self.source, self.symbols = source, symbols
        self.assigned: dict[str, Expr] = {}
        self.depth = 0  # parentheses open so far (kept by the post-lexer, read by error messages)
        self.stray_paren = False  # a ')' with no '(' to close

    def error(self, cls, message: str, at) -> MatcalcError:
        return cls(message, at.line, at.column, self.source)

    def shape_error(self, exc: MatcalcError, at) -> ShapeError:
        text = str(ParseError(str(exc), at.line, at.column, self.source))
        err = ShapeError(text)
        err.line, err.column = at.line, at.column
        return err

    def build(self, at, fn: Callable[..., Expr], *args) -> _Val:
        """Call a builder; its ShapeError or InputError comes back with the position ``at``."""
        try:
            expr = fn(*args)
        except ShapeError as exc:
            raise self.shape_error(exc, at) from None
        except InputError as exc:
            raise self.error(ParseError, str(exc), at) from None
        return _Val("expr", expr, at.line, at.column)

    def expr(self, v: _Val) -> Expr:
        """The Expr a value stands for (resolving names, turning literals into constants)."""
        if v.kind == "expr":
            return v.value
        if v.kind == "num":
            return self.build(v, ops.const, v.value).value
        if v.kind == "dim":  # m * n where neither is a matrix: report the first name
            return self.expr(v.value[1])
        name = v.value
        if name in self.assigned:
            return self.assigned[name]
        if name in self.symbols:
            return self.symbols[name]
        if name == "None":
            raise self.error(ParseError, "None is only allowed as axis=None", v)
        if name in FUNCTIONS:
            raise self.error(ParseError, f"{name!r} is a function; call it like {name}(X)", v)
        if any(name in d.names for s in self.symbols.values() for d in s.shape):
            raise self.error(UnknownNameError, f"{name!r} is a dimension, not a declared matrix "
                             f"(declare it in shapes, or use ones({name}, 1))", v)
        known = list(self.symbols) + list(self.assigned)
        raise self.error(UnknownNameError, f"undeclared name {name!r}" + _suggest(name, known), v)

    def dimlike(self, v: _Val) -> bool:
        """Whether v can be a dimension: a name that is not a matrix, a positive int, m*n."""
        if v.kind == "name":
            return v.value not in self.symbols and v.value not in self.assigned \
                and v.value not in FUNCTIONS and v.value != "None"
        return v.kind == "dim" or (v.kind == "num" and isinstance(v.value, int) and v.value > 0)

    def dim(self, v: _Val):
        """The Dim of a dimension-like value."""
        return v.value[0] if v.kind == "dim" else dim(v.value)

    def arg(self, fname: str, kind: str, v: _Val, at) -> Any:
        """Convert one call argument according to its parameter kind."""
        if kind == "expr":
            return self.expr(v)
        if kind == "dim":  # here a name is always a dimension, even if a matrix shares it
            if self.dimlike(v) or (v.kind == "name" and v.value != "None"):
                return self.dim(v)
            raise self.error(ParseError, f"{fname}: a dimension must be a name like m or a "
                                         f"positive integer, got {v.describe()}", at)
        if kind == "number":
            if v.kind == "num":
                return v.value
            raise self.error(ParseError, f"{fname}: the exponent must be a number, "
                                         f"got {v.describe()}", at)
        if v.kind == "name" and v.value == "None" and kind == "axis":
            return None
        if v.kind == "num" and isinstance(v.value, int) and v.value in (0, 1):
            return v.value
        options = "0 or 1" if kind == "axis01" else "None, 0 or 1"
        raise self.error(ParseError, f"{fname}: axis must be {options}, got {v.describe()}", at)


_current: ContextVar[_Program] = ContextVar("matcalc_parse_program")


# What people coming from NumPy type, and what they mean (a spelling alike would mislead:
# max is not softmax).
_INSTEAD = {
    "max": " (for max(Z, 0), write relu(Z))", "maximum": " (for maximum(Z, 0), write relu(Z))",
    "dot": " (write a.T @ b, or A @ B)", "matmul": " (write A @ B)",
    "transpose": " (write X.T)",
}


def _suggest(name: str, known) -> str:
    close = difflib.get_close_matches(name, sorted(set(known)), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


# --- the inline transformer: one callback per reduction -----------------------------------------

_BINARY = {"+": ops.add, "-": ops.sub, "*": ops.mul, "@": ops.matmul, "/": ops.div}


@v_args(inline=True)
class _Actions(Transformer):
    """Builds Expr nodes as the LALR parser reduces (no tree, no recursion)."""

    def start(self, *stmts: _Val) -> Expr:
        for s in stmts[:-1]:
            if s.kind == "expr":
                raise _current.get().error(
                    ParseError, "this statement's value is unused: only the last statement is "
                    "the result (assign it with Y = ..., or wrap a formula that spans lines in "
                    "parentheses)", s)
        return stmts[-1].value

    def exprstmt(self, v: _Val) -> _Val:
        return _Val("expr", _current.get().expr(v), v.line, v.column)

    def assign(self, name: Token, v: _Val) -> _Val:
        prog = _current.get()
        target = str(name)
        if target in prog.assigned:
            raise prog.error(ParseError, f"{target!r} is already assigned; "
                                         f"give each intermediate its own name", name)
        if target in prog.symbols:
            raise prog.error(ParseError, f"cannot assign to {target!r}: it is a declared input",
                             name)
        if target in FUNCTIONS or target == "None":
            raise prog.error(ParseError, f"cannot assign to {target!r}: it is a function name",
                             name)
        node = prog.build(name, ops.named, target, prog.expr(v)).value
        prog.assigned[target] = node
        return _Val("assigned", node, name.line, name.column)

    def binop(self, left: _Val, op: Token, right: _Val) -> _Val:
        prog = _current.get()
        if (op == "*" and (left.kind, right.kind) != ("num", "num")
                and prog.dimlike(left) and prog.dimlike(right)):  # m * n, as in ones(m * n, 1)
            first = left if left.kind != "num" else right
            name = first.value[1] if first.kind == "dim" else first
            return _Val("dim", (prog.dim(left) * prog.dim(right), name), left.line, left.column)
        a, b = prog.expr(left), prog.expr(right)
        out = prog.build(op, _BINARY[str(op)], a, b)
        return _Val("expr", out.value, left.line, left.column)

    def unary(self, op: Token, v: _Val) -> _Val:
        if v.kind == "num":  # -2 is the constant −2
            return _Val("num", -v.value if op == "-" else v.value, op.line, op.column)
        prog = _current.get()
        if op == "+":
            return _Val("expr", prog.expr(v), op.line, op.column)
        return prog.build(op, ops.neg, prog.expr(v))

    def pow(self, base: _Val, op: Token, exponent: _Val) -> _Val:
        prog = _current.get()
        if exponent.kind == "expr" and exponent.value.op.name == "const":
            exponent = _Val("num", exponent.value.get("value"), exponent.line, exponent.column)
        if exponent.kind != "num":
            raise prog.error(ParseError, "the exponent of ** must be a number such as 2, -1 or "
                                         f"0.5, got {exponent.describe()}", exponent)
        out = prog.build(op, ops.power, prog.expr(base), exponent.value)
        return _Val("expr", out.value, base.line, base.column)

    def attr(self, v: _Val, dot: Token, name: Token) -> _Val:
        prog = _current.get()
        if name != "T":
            raise prog.error(ParseError, f"attribute access '.{name}' is not allowed; "
                                         "only .T (transpose) is", dot)
        out = prog.build(dot, ops.transpose, prog.expr(v))
        return _Val("expr", out.value, v.line, v.column)

    def name(self, tok: Token) -> _Val:
        return _Val("name", str(tok), tok.line, tok.column)

    def number(self, tok: Token) -> _Val:
        prog = _current.get()
        text = str(tok)
        try:
            value: int | float = int(text) if text.isdigit() else float(text)
            if not abs(float(value)) < float("inf"):
                raise OverflowError
        except (ValueError, OverflowError):
            raise prog.error(ParseError, f"number {_clip(text)} is out of range", tok) from None
        return _Val("num", value, tok.line, tok.column)

    def kwarg(self, key: Token, v: _Val):
        return (key, v)

    def args(self, *items):
        return [item for item in items if item is not None]

    def call(self, fname: _Val, items) -> _Val:
        prog = _current.get()
        if fname.kind != "name":
            raise prog.error(ParseError, "only a function name can be called, as in relu(X); "
                             f"{fname.describe()} is not one", fname)
        name = str(fname.value)
        fn = FUNCTIONS.get(name)
        if fn is None:
            if name in prog.symbols or name in prog.assigned:
                raise prog.error(ParseError, f"{name!r} is a matrix, not a function", fname)
            hint = _INSTEAD.get(name) or _suggest(name, FUNCTIONS)
            raise prog.error(UnknownNameError, f"unknown function {name!r}" + hint, fname)
        items = items or []
        bound: dict[int, tuple[_Val, Any]] = {}
        positional = [it for it in items if isinstance(it, _Val)]
        if len(positional) > len(fn.kinds):
            raise prog.error(ParseError, f"{name}() takes {_count(fn)}, got {len(positional)}",
                             fname)
        for i, v in enumerate(positional):
            bound[i] = (v, v)
        for key, v in (it for it in items if isinstance(it, tuple)):
            if str(key) not in fn.names or str(key) not in _KEYWORDS:
                hint = _suggest(str(key), [k for k in fn.names if k in _KEYWORDS])
                raise prog.error(ParseError, f"{name}() got an unexpected keyword argument "
                                             f"{str(key)!r}{hint}", key)
            i = fn.names.index(str(key))
            if i in bound:
                raise prog.error(ParseError, f"{name}() got {str(key)!r} twice", key)
            bound[i] = (v, key)
        missing = [i for i in range(max(fn.required, len(bound))) if i not in bound]
        if missing:
            raise prog.error(ParseError, f"{name}() takes {_count(fn)}; argument "
                                         f"{missing[0] + 1} is missing", fname)
        values = [prog.arg(name, fn.kinds[i], *bound[i]) for i in range(len(bound))]
        return prog.build(fname, fn.build, *values)


def _count(fn: _Function) -> str:
    n, m = fn.required, len(fn.kinds)
    if n == m:
        return f"{n} argument" + ("s" if n != 1 else "")
    return f"{n} to {m} arguments"


def _clip(text: str, limit: int = 30) -> str:
    """text, shortened with an ellipsis when longer than limit."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- separators: one between statements, none inside parentheses --------------------------------

class _Separators:
    """Post-lexer: newlines inside parentheses vanish, runs of separators collapse to one."""

    always_accept = ()

    def process(self, stream):
        prog = _current.get()
        pending, seen = None, False
        for tok in stream:
            if tok.type == "_SEP":
                if prog.depth == 0 or tok.value == ";":
                    pending = tok if seen and pending is None else pending
                continue
            if tok.type == "NAME" and keyword.iskeyword(tok.value) and tok.value != "None":
                raise prog.error(ParseError, f"{tok.value!r} is a Python keyword; a matcalc "
                                             "program is formulas, not Python", tok)
            if tok.type == "LPAR":
                prog.depth += 1
            elif tok.type == "RPAR":
                prog.stray_paren = prog.depth == 0
                prog.depth = max(prog.depth - 1, 0)
            if pending is not None:
                yield pending
                pending = None
            seen = True
            yield tok
        if not seen:
            raise ParseError("empty program: write an expression such as sum(W @ X)")


_parser: Lark | None = None


def _get_parser() -> Lark:
    global _parser
    if _parser is None:
        _parser = Lark(GRAMMAR, parser="lalr", lexer="basic", transformer=_Actions(),
                       postlex=_Separators(), maybe_placeholders=True)
    return _parser


# --- turning Lark's errors into ParseError ------------------------------------------------------

_HINTS = {
    "'": "strings are not part of the language", '"': "strings are not part of the language",
    "[": "indexing and list literals are not supported", "]": "indexing is not supported",
    "{": "dict and set literals are not supported", ":": "lambdas and slices are not supported",
    "!": "use only + - * / @ ** and .T", "<": "comparisons are not supported",
    ">": "comparisons are not supported", "^": "use ** for powers",
    "−": "use the ASCII minus '-'", "×": "use @ for the matrix product or * elementwise",
    "·": "use @ for the matrix product or * elementwise",
    "⊙": "use * for the elementwise product",
    "\\": "line continuations are not needed inside parentheses",
}


def _token_text(tok: Token) -> str:
    if tok.type == "$END":
        return "end of input"
    if tok.type == "_SEP":
        return "';'" if tok.value == ";" else "end of line"
    if tok.type == "NAME":
        return f"name {tok.value!r}"
    if tok.type == "NUMBER":
        return f"number {_clip(tok.value)}"
    return repr(str(tok.value))


def _unexpected_token(tok: Token, expected, prog: _Program) -> str:
    """A message for a token the grammar does not allow here."""
    operand = {"NAME", "NUMBER"} <= set(expected)  # the parser is waiting for an operand
    if set(expected) == {"NAME"}:
        return f"unexpected {_token_text(tok)}; expected T, as in W.T"
    if tok.type == "$END":
        if operand:
            return "unexpected end of input; expected an expression"
        return "unexpected end of input" + ("; missing ')'" if prog.depth else "")
    message = f"unexpected {_token_text(tok)}"
    if operand:
        return message + "; expected an expression"
    if tok.type in ("NAME", "NUMBER"):
        return message + "; is an operator missing before it?"
    if tok.type == "RPAR" and prog.stray_paren:
        return message + ": there is no '(' to close"
    if tok.type == "EQUAL":
        return message + ": only a plain name can be assigned, as in Y = W @ X"
    if tok.type == "_SEP" and prog.depth:
        return message + " inside parentheses; missing ')'?"
    return message


def _end_position(source: str) -> tuple[int, int]:
    lines = source.split("\n")
    return len(lines), len(lines[-1].rstrip("\r")) + 1


def _from_lark(exc: UnexpectedInput, prog: _Program) -> ParseError:
    source = prog.source
    if isinstance(exc, UnexpectedCharacters):
        char = source[exc.pos_in_stream] if 0 <= exc.pos_in_stream < len(source) else "?"
        hint = _HINTS.get(char)
        return ParseError(f"unexpected character {char!r}" + (f": {hint}" if hint else ""),
                          exc.line, exc.column, source)
    if isinstance(exc, UnexpectedToken):
        tok = exc.token
        if tok.type == "$END":
            line, column = _end_position(source)
        else:
            line, column = exc.line, exc.column
        return ParseError(_unexpected_token(tok, exc.expected, prog), line, column, source)
    if isinstance(exc, UnexpectedEOF):
        line, column = _end_position(source)
        return ParseError("unexpected end of input", line, column, source)
    return ParseError(f"syntax error: {exc.__class__.__name__}", None, None, source)


# --- the public API ------------------------------------------------------------------------------

def declare(shapes: Mapping, reserved: Mapping | frozenset = frozenset()) -> dict[str, Expr]:
    """The symbols a ``shapes`` mapping declares ({"W": ("m", "n")} or {"W": "m,n"})."""
    if not isinstance(shapes, Mapping):
        raise InputError(f"shapes must be a mapping from names to (rows, cols), "
                         f"got {type(shapes).__name__}")
    out: dict[str, Expr] = {}
    for name, shape in shapes.items():
        if not isinstance(name, str):
            raise InputError(f"shapes: names must be strings, got {name!r}")
        if name in reserved:
            raise InputError(f"shapes[{name!r}]: {name!r} is a function name; choose another")
        if isinstance(shape, str):
            shape = shape.split(",")
        if not isinstance(shape, (tuple, list)) or len(shape) != 2:
            raise InputError(f"shapes[{name!r}] must be a (rows, cols) pair, got {shape!r}")
        try:
            out[name] = ops.Matrix(name, shape[0], shape[1])
        except InputError as exc:
            raise InputError(f"shapes[{name!r}] = {shape!r}: {exc}") from None
    return out


def _symbols(shapes: Mapping) -> dict[str, Expr]:
    return declare(shapes, FUNCTIONS)


def parse_program(source: str, shapes: Mapping) -> tuple[Expr, dict[str, Expr]]:
    """Parse a program; return its result and its named intermediates in the order assigned."""
    if not isinstance(source, str):
        raise InputError(f"source must be a str, got {type(source).__name__}")
    program = _Program(source, _symbols(shapes))
    token = _current.set(program)
    try:
        result = _get_parser().parse(source)
    except UnexpectedInput as exc:
        raise _from_lark(exc, program) from None
    except VisitError as exc:  # callbacks' errors arrive unwrapped today; stay safe if wrapped
        if isinstance(exc.orig_exc, MatcalcError):
            raise exc.orig_exc from None
        raise
    except RecursionError:
        raise ParseError("program is nested too deeply", None, None, source) from None
    finally:
        _current.reset(token)
    return result, dict(program.assigned)


def parse(source: str, shapes: Mapping) -> Expr:
    """Parse a program in the input language into an expression (its last statement)."""
    return parse_program(source, shapes)[0]
