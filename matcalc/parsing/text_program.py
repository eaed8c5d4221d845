"""The state of one parse of the input language: declared and assigned names, the function
table, and how a call's arguments are bound to an op's parameters and checked."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lark import Token

from .. import ops
from ..dims import Dim, dim
from ..errors import InputError, ParseError, UnknownNameError
from ..expr import Expr
from ..ops._base import PARAM_KINDS
from .common import Positioned, Program, Val, suggest
from .tables import Function, operator_builder

__all__ = ["TextProgram"]

# what the text of a non-operand argument must be, by parameter kind
_EXPECTED = {
    "dim": "a dimension must be a name like m or a positive integer",
    "number": "{param} must be a number such as 2, -1 or 0.5 (a constant, like an exponent)",
    "axis": "{param} must be None, 0 or 1",
    "axis01": "{param} must be 0 or 1",
    "offset": "{param} must be 0, a positive integer or a dimension",
    "int": "{param} must be an integer such as 2 or -1",
    "bool": "{param} must be True or False",
    "ord": "{param} must be 1, 2, inf, fro, nuc or a number ≥ 1",
}


# what a refused positional argument was probably meant to be
POSITIONAL_HINTS = {
    "max": "; for the elementwise maximum write maximum(Z, 0), or relu(Z)",
    "min": "; for the elementwise minimum write minimum(Z, 0)",
}


class TextProgram(Program):
    """Per-parse state of the input language: also its function table and open parentheses."""

    def __init__(self, source: str, symbols: dict[str, Expr], functions: dict[str, Function]):
        super().__init__(source, symbols)
        self.functions = functions
        self.depth = 0  # parentheses open so far (kept by the post-lexer, read by error messages)
        self.stray_paren = False  # a ')' with no '(' to close

    def value(self, at: Positioned, fn: Callable[..., Expr], *args: Any) -> Val:
        """A builder's result as a value at the position of ``at``."""
        out = self.build(at, fn, *args)
        return Val("expr", out, at.line or 1, at.column or 1)

    def operator(self, tok: Token, symbol: str) -> Callable[..., Expr]:
        """The builder of the op that declares an operator (``"-x"`` for unary minus)."""
        build = operator_builder(symbol)
        if build is None:
            raise self.error(ParseError, f"no op implements the operator {str(tok)!r}", tok)
        return build

    def expr(self, v: Val) -> Expr:
        """The Expr a value stands for (resolving names, turning literals into constants)."""
        if v.kind == "expr":
            out: Expr = v.value
            return out
        if v.kind == "blocks":  # [A, B] or [[A, B], [C, D]]
            nested = any(x.kind == "blocks" for x in v.value)
            rows: Any = [[self.expr(y) for y in x.value] if x.kind == "blocks" else [self.expr(x)]
                         for x in v.value] if nested else [self.expr(x) for x in v.value]
            return self.build(v, ops.block, rows)
        if v.kind == "span":
            raise self.error(ParseError, "a range a:b belongs inside an index, as in X[0:3, :]", v)
        if v.kind == "tuple":
            raise self.error(ParseError, f"this gives {len(v.value)} values: name them, as in "
                             "w, V = eigh(A)", v)
        if v.kind == "num":
            return self.build(v, ops.const, v.value)
        if v.kind == "dim":  # m * n where neither is a matrix: report the first name
            first: Val = v.value[1]
            return self.expr(first)
        name = str(v.value)
        found = self.lookup(name)
        if found is not None:
            return found
        if name == "None":
            raise self.error(ParseError, "None is only allowed as axis=None", v)
        if name in ("True", "False"):
            raise self.error(ParseError, f"{name!r} is a Python keyword, allowed only as a "
                             "parameter's value, as in lower=True", v)
        if name in self.functions:
            raise self.error(ParseError, f"{name!r} is a function; call it like {name}(X)", v)
        if any(name in d.names for s in self.symbols.values() for d in s.shape):
            raise self.error(UnknownNameError, f"{name!r} is a dimension, not a declared matrix "
                             f"(declare it in shapes, or use ones({name}, 1))", v)
        known = list(self.symbols) + list(self.assigned)
        raise self.error(UnknownNameError, f"undeclared name {name!r}" + suggest(name, known), v)

    def index_key(self, v: Val) -> Any:
        """One index of X[i, j] as Python writes it: an int, a dimension or a slice."""
        if v.kind == "span":
            start, stop = v.value
            return slice(None if start is None else self.position(start),
                         None if stop is None else self.position(stop))
        return self.position(v)

    def position(self, v: Val) -> Any:
        """A position in an index: an integer (negative counts from the end) or a dimension."""
        if v.kind == "num" and isinstance(v.value, int):
            return v.value
        if v.kind in ("name", "dim") and self.dimlike(v):
            return self.dim(v)
        raise self.error(ParseError, "an index must be an integer (negative counts from the end) "
                         f"or a dimension, got {v.describe()}", v)

    def dimlike(self, v: Val) -> bool:
        """Whether v can be a dimension: a name that is not a matrix, a positive int, m*n."""
        if v.kind == "name":
            return (self.lookup(v.value) is None and v.value not in self.functions
                    and v.value != "None")
        return v.kind == "dim" or (v.kind == "num" and isinstance(v.value, int) and v.value > 0)

    def dim(self, v: Val) -> Dim:
        """The Dim of a dimension-like value."""
        if v.kind == "dim":
            out: Dim = v.value[0]
            return out
        return dim(v.value)

    def literal(self, fn: Function, i: int, v: Val, at: Positioned) -> Any:
        """The Python value the text of argument i stands for (a Dim, a number or None)."""
        kind = fn.kinds[i]
        if kind in ("dim", "offset"):  # here a name is always a dimension, even if a matrix
            if kind == "offset" and v.kind == "num" and v.value == 0:  # shares it
                return 0
            if self.dimlike(v) or (v.kind == "name" and v.value != "None"):
                return self.dim(v)
        elif kind == "bool" and v.kind == "name" and v.value in ("True", "False"):
            return v.value == "True"
        elif kind == "ord" and v.kind == "name" and v.value in ("inf", "fro", "nuc", "None"):
            return None if v.value == "None" else v.value
        elif v.kind == "num":
            return v.value
        elif kind != "number" and v.kind == "name" and v.value == "None":
            return None
        wanted = _EXPECTED.get(kind, "{param} must be a number or None").format(param=fn.names[i])
        raise self.error(ParseError, f"{fn.name}: {wanted}, got {v.describe()}", at)

    def argument(self, fn: Function, i: int, v: Any, at: Positioned) -> Any:
        """Argument i, converted and checked according to its parameter's kind."""
        kind = fn.kinds[i]
        if isinstance(v, Val) and v.kind == "default":  # not given: the parameter's default
            return v.value
        if fn.params[i].many:  # the operands of hstack(A, B, C)
            return [self.expr(x) for x in v]
        if kind == "expr":
            return self.expr(v)
        value = self.literal(fn, i, v, at)
        try:
            return PARAM_KINDS[kind](fn.name, fn.names[i], value)
        except InputError as exc:
            raise self.error(ParseError, exc.message, at) from None

    def bind(self, fn: Function, items: list[Any], at: Positioned) -> list[tuple[Any, Positioned]]:
        """Arguments in parameter order, each with where an error about it points."""
        bound: dict[int, tuple[Any, Positioned]] = {}
        positional: list[Any] = [it for it in items if isinstance(it, Val)]
        if fn.params and fn.params[0].many:  # every positional argument is an operand
            if not positional:
                raise self.error(ParseError, f"{fn.name}() takes at least one matrix", at)
            positional = [positional]
        if len(positional) > len(fn.params):
            raise self.error(ParseError, f"{fn.name}() takes {_count(fn)}, "
                             f"got {len(positional)}", at)
        for i, v in enumerate(positional):
            if not fn.params[i].positional:
                name = fn.params[i].name
                hint = POSITIONAL_HINTS.get(fn.name, "")
                raise self.error(ParseError, f"{fn.name}() takes {name} by name only: "
                                 f"{fn.name}(…, {name}=…){hint}", v)
            bound[i] = (v, v[0] if isinstance(v, list) else v)
        for key, v in (it for it in items if isinstance(it, tuple)):
            if str(key) not in fn.keywords:
                raise self.error(ParseError, f"{fn.name}() got an unexpected keyword argument "
                                 f"{str(key)!r}{suggest(str(key), fn.keywords)}", key)
            i = fn.names.index(str(key))
            if i in bound:
                raise self.error(ParseError, f"{fn.name}() got {str(key)!r} twice", key)
            bound[i] = (v, key)
        missing = [i for i in range(fn.required) if i not in bound]
        if missing:
            raise self.error(ParseError, f"{fn.name}() takes {_count(fn)}; argument "
                             f"{missing[0] + 1} is missing", at)
        last = max(bound) + 1 if bound else 0  # parameters skipped before a keyword: defaults
        return [bound[i] if i in bound else (Val("default", fn.params[i].default, at.line or 1,
                                                 at.column or 1), at) for i in range(last)]


def _count(fn: Function) -> str:
    n, m = fn.required, len(fn.params)
    if n == m:
        return f"{n} argument" + ("s" if n != 1 else "")
    return f"{n} to {m} arguments"
