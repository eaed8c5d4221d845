"""The input language: NumPy-flavoured formulas (grammar: ``text.lark``) parsed into an Expr.

A program is statements separated by ``;`` or newlines (``#`` starts a comment); the last one is
the result. ``Y = W @ X`` binds ``Y`` to the named intermediate ``named("Y", W @ X)``. Every
statement but the last must be an assignment (a bare expression there would be lost). Names must
be declared in ``shapes`` or assigned earlier. Functions are the ops' spellings (``Op.spell``)
with their builders and signatures (``Op.params``); operators build the ops that declare them
(``matcalc.expr.OPERATORS``); both tables come from the registry, so an op registered later is
callable at once.

The parser is LALR with an inline transformer, so each node is built at its reduction and no
step recurses on the depth of the input. Every rejection is a :class:`MatcalcError` with a line
and column; the text is only ever tokenised, never evaluated.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from typing import Any

from lark import Token, Transformer, v_args

from .. import ops
from ..errors import InputError, ParseError, UnknownNameError
from ..expr import Expr
from ..ops.selections import comparison
from .common import GrammarFile, Val, clip, constant, declare, run, suggest
from .tables import Function, text_functions
from .text_errors import Separators, from_lark
from .text_program import TextProgram

__all__ = ["FUNCTIONS", "parse", "parse_program"]

_current: ContextVar[TextProgram] = ContextVar("matcalc_text_program")


_UNUSED = ("this statement's value is unused: only the last statement is the result (assign it "
           "with Y = ..., or wrap a formula that spans lines in parentheses)")


@v_args(inline=True)
class _Actions(Transformer[Token, Any]):
    """Builds Expr nodes as the LALR parser reduces (no tree, no recursion)."""

    def start(self, *stmts: Val) -> Expr:
        """The program: the last statement's value (every other must be an assignment)."""
        for s in stmts[:-1]:
            if s.kind == "expr":
                raise _current.get().error(ParseError, _UNUSED, s)
        result: Expr = stmts[-1].value
        return result

    def exprstmt(self, v: Val) -> Val:
        """A statement that is an expression."""
        return Val("expr", _current.get().expr(v), v.line, v.column)

    def assign_many(self, *items: Any) -> Val:
        """w, V = eigh(A): the parts of a function of several values, each named."""
        prog = _current.get()
        names, v = list(items[:-1]), items[-1]
        if v.kind != "tuple":
            raise prog.error(ParseError, f"{len(names)} names take the values of a function "
                             f"that gives {len(names)}, such as eigh(A) or slogdet(A)", names[0])
        if len(v.value) != len(names):
            raise prog.error(ParseError, f"{len(names)} names for {len(v.value)} values",
                             names[0])
        out = None
        for name, part in zip(names, v.value):
            out = self.assign(name, Val("expr", part, v.line, v.column))
        assert out is not None
        return out

    def assign(self, name: Token, v: Val) -> Val:
        """Y = expr: the named intermediate Y."""
        prog = _current.get()
        target = str(name)
        if target in prog.assigned:
            raise prog.error(ParseError, f"{target!r} is already assigned; "
                                         f"give each intermediate its own name", name)
        if target in prog.symbols:
            raise prog.error(ParseError, f"cannot assign to {target!r}: it is a declared input",
                             name)
        if target in prog.functions or target == "None":
            raise prog.error(ParseError, f"cannot assign to {target!r}: it is a function name",
                             name)
        node = prog.build(name, ops.named, target, prog.expr(v))
        prog.assigned[target] = node
        return Val("assigned", node, name.line or 1, name.column or 1)

    def binop(self, left: Val, op: Token, right: Val) -> Val:
        """a + b, a @ b, …: the op that declares the operator (m * n and m + 1 are dimensions)."""
        prog = _current.get()
        if (op in ("*", "+", "-") and (left.kind, right.kind) != ("num", "num")
                and prog.dimlike(left) and prog.dimlike(right)):  # m * n, as in ones(m * n, 1)
            first = left if left.kind != "num" else right
            name = first.value[1] if first.kind == "dim" else first
            da, db = prog.dim(left), prog.dim(right)
            size = da * db if op == "*" else da + db if op == "+" else da - db
            return Val("dim", (size, name), left.line, left.column)
        a, b = prog.expr(left), prog.expr(right)
        out = prog.build(op, prog.operator(op, str(op)), a, b)
        return Val("expr", out, left.line, left.column)

    def compare(self, left: Val, op: Token, right: Val) -> Val:
        """a > b, a == b, …: a 0/1 mask."""
        prog = _current.get()
        symbol = str(op)
        build = comparison(symbol) or prog.operator(op, symbol)
        out = prog.build(op, build, prog.expr(left), prog.expr(right))
        return Val("expr", out, left.line, left.column)

    def unary(self, op: Token, v: Val) -> Val:
        """-a, +a (a negative number stays a number)."""
        if v.kind == "num":  # -2 is the constant −2
            return Val("num", -v.value if op == "-" else v.value, op.line or 1, op.column or 1)
        prog = _current.get()
        if op == "+":
            return Val("expr", prog.expr(v), op.line or 1, op.column or 1)
        return prog.value(op, prog.operator(op, "-x"), prog.expr(v))

    def pow(self, base: Val, op: Token, exponent: Val) -> Val:
        """a ** p: a constant exponent (folded from 1/3 and the like) or a variable one."""
        prog = _current.get()
        value = constant(exponent.value) if exponent.kind == "expr" else None
        if value is not None:  # a parenthesised or negated number: (2), -(1)
            exponent = Val("num", value, exponent.line, exponent.column)
        value_of = exponent.value if exponent.kind == "num" else prog.expr(exponent)
        out = prog.build(op, prog.operator(op, "**"), prog.expr(base), value_of)
        return Val("expr", out, base.line, base.column)

    def attr(self, v: Val, dot: Token, name: Token) -> Val:
        """a.T (no other attribute exists)."""
        prog = _current.get()
        if name != "T":
            raise prog.error(ParseError, f"attribute access '.{name}' is not allowed; "
                                         "only .T (transpose) is", dot)
        out = prog.build(dot, prog.operator(dot, ".T"), prog.expr(v))
        return Val("expr", out, v.line, v.column)

    def name(self, tok: Token) -> Val:
        """A name, resolved when it is used."""
        return Val("name", str(tok), tok.line or 1, tok.column or 1)

    def number(self, tok: Token) -> Val:
        """A numeric literal."""
        text = str(tok)
        try:
            value: int | float = int(text) if text.isdigit() else float(text)
            if not abs(float(value)) < float("inf"):
                raise OverflowError
        except (ValueError, OverflowError):
            raise _current.get().error(ParseError, f"number {clip(text)} is out of range",
                                       tok) from None
        return Val("num", value, tok.line or 1, tok.column or 1)

    def span(self, start: Val | None, colon: Token, stop: Val | None) -> Val:
        """a:b in an index (either side may be left out)."""
        return Val("span", (start, stop), colon.line or 1, colon.column or 1)

    def index(self, base: Val, bracket: Token, rows: Val, cols: Val | None) -> Val:
        """X[i, j], X[0:3, :], X[:k, -1]: a slice that keeps two dimensions."""
        prog = _current.get()
        key = (prog.index_key(rows), slice(None) if cols is None else prog.index_key(cols))
        return prog.value(bracket, ops.getitem, prog.expr(base), key)

    def items(self, *values: Val | None) -> list[Val]:
        """The entries of a list literal."""
        return [v for v in values if v is not None]

    def blocks(self, bracket: Token, items: list[Val]) -> Val:
        """[A, B] (side by side) or [[A, B], [C, D]] (a block matrix), as np.block reads them."""
        return Val("blocks", items, bracket.line or 1, bracket.column or 1)

    def kwarg(self, key: Token, v: Val) -> tuple[Token, Val]:
        """name=value in a call."""
        return (key, v)

    def args(self, *items: Any) -> list[Any]:
        """A call's arguments."""
        return [item for item in items if item is not None]

    def call(self, fname: Val, items: list[Any] | None) -> Val:
        """f(…): an op's builder, its arguments checked by their parameters' kinds."""
        prog = _current.get()
        if fname.kind != "name":
            raise prog.error(ParseError, "only a function name can be called, as in relu(X); "
                             f"{fname.describe()} is not one", fname)
        name = str(fname.value)
        several = SEVERAL_VALUES.get(name)
        if several is not None and name not in prog.functions:  # w, V = eigh(A)
            args = [prog.expr(it) for it in (items or []) if isinstance(it, Val)]
            made: list[tuple[Expr, ...]] = []

            def run(*a: Expr) -> Expr:
                made.append(tuple(several(*a)))
                return made[0][0]

            prog.build(fname, run, *args)  # its errors come back positioned
            return Val("tuple", made[0], fname.line or 1, fname.column or 1)
        fn = prog.functions.get(name)
        if fn is None:
            if prog.lookup(name) is not None:
                raise prog.error(ParseError, f"{name!r} is a matrix, not a function", fname)
            hint = INSTEAD.get(name) or suggest(name, prog.functions)
            raise prog.error(UnknownNameError, f"unknown function {name!r}" + hint, fname)
        bound = prog.bind(fn, items or [], fname)
        values = [prog.argument(fn, i, v, where) for i, (v, where) in enumerate(bound)]
        if fn.params and fn.params[0].many:  # hstack(A, B, axis=…): the rest by keyword
            keywords = {fn.names[i]: v for i, v in enumerate(values) if i}
            return prog.value(fname, lambda: fn.build(*values[0], **keywords))
        if not all(p.positional for p in fn.params[:len(values)]):  # max(Z, axis=0)
            keywords = {fn.names[i]: v for i, v in enumerate(values)
                        if not fn.params[i].positional}
            leading = [v for i, v in enumerate(values) if fn.params[i].positional]
            return prog.value(fname, lambda: fn.build(*leading, **keywords))
        return prog.value(fname, fn.build, *values)


# Functions of several values, as NumPy's: written w, V = eigh(A)
SEVERAL_VALUES = {"eigh": ops.eigh, "slogdet": ops.slogdet}

# What people coming from NumPy type, and what they mean (a spelling alike would mislead:
# max is not softmax).
INSTEAD = {
    "dot": " (write a.T @ b, or A @ B)", "matmul": " (write A @ B)",
}


_GRAMMAR = GrammarFile("text.lark", lambda: {"transformer": _Actions(),
                                             "postlex": Separators(_current),
                                             "maybe_placeholders": True})


class _LiveFunctions(Mapping[str, Function]):
    """The function table for the registry as it is at each use."""

    def __getitem__(self, name: str) -> Function:
        return text_functions()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(text_functions())

    def __len__(self) -> int:
        return len(text_functions())


FUNCTIONS: Mapping[str, Function] = _LiveFunctions()


def parse_program(source: str, shapes: Mapping[Any, Any]) -> tuple[Expr, dict[str, Expr]]:
    """Parse a program; return its result and its named intermediates in the order assigned."""
    if not isinstance(source, str):
        raise InputError(f"source must be a str, got {type(source).__name__}")
    functions = text_functions()
    program = TextProgram(source, declare(shapes, functions), functions)
    result: Expr = run(_GRAMMAR, program, _current, from_lark, "program")
    return result, dict(program.assigned)


def parse(source: str, shapes: Mapping[Any, Any]) -> Expr:
    """Parse a program in the input language into an expression (its last statement)."""
    return parse_program(source, shapes)[0]
